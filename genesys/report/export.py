"""Take a design elsewhere: a standalone PyTorch module and a Hugging Face model folder (config + weights from a
verification checkpoint) that loads with `AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)`.

The folder holds gab.py (the composed design, torch only), model.py (the LM in plain PyTorch), the HF config and
modeling files (templates in hf_template/), config.json, model.safetensors and the run's tokenizer. Exporting never
executes design code: the weights come from the checkpoint's state dict.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import torch

from genesys.gau import GAUTree, compose

TEMPLATES = Path(__file__).parent / "hf_template"
TEMPLATE_FILES = ("model.py", "configuration_genesys.py", "modeling_genesys.py")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class ExportError(ValueError):
    """The design, its checkpoint or its record cannot be found or do not agree."""


@dataclass
class Source:
    """What an export needs: the design, the LM's shape, its weights, and where its tokenizer lives."""
    tree: GAUTree
    d_model: int
    n_block: int
    vocab_size: int
    state_dict: Dict[str, torch.Tensor]          # GenesysLM's keys (embedding.weight, blocks.0..., norm.weight)
    tokenizer_dir: Optional[Path] = None
    record: Optional[dict] = None


def lm_state_dict(checkpoint: Path) -> Dict[str, torch.Tensor]:
    """The GenesysLM weights of a Lightning checkpoint (keys `lm.` stripped); tensors only, no code."""
    try:
        ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:   # noqa: BLE001 (torch raises several types for corrupt files)
        raise ExportError(f"cannot read the checkpoint {checkpoint}: {exc}") from exc
    state = ckpt.get("state_dict", ckpt)
    return {k[len("lm."):]: v for k, v in state.items() if k.startswith("lm.")}


def source_from_record(tree: GAUTree, record: dict, checkpoint: Optional[Path] = None) -> Source:
    """A verification record gives the shape (autotune), the checkpoint and the data folder (tokenizer)."""
    paths = record.get("paths") or {}
    ckpt = Path(checkpoint or paths.get("checkpoint") or "")
    if not ckpt.is_file():
        raise ExportError(f"no checkpoint at {ckpt} (the verification of {record.get('design')} at "
                          f"{record.get('scale')} kept none)")
    state = lm_state_dict(ckpt)
    if "embedding.weight" not in state:
        raise ExportError(f"{ckpt} holds no language-model weights")
    vocab, d_model = state["embedding.weight"].shape
    tune = record.get("autotune") or {}
    n_block = tune.get("n_block") or 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    if tune.get("d_model") not in (None, d_model):
        raise ExportError(f"the record says d_model {tune['d_model']}, the checkpoint {d_model}")
    data = paths.get("data")
    tok = Path(data) / "tokenizer" if data else None
    return Source(tree, int(d_model), int(n_block), int(vocab), state, tok if tok and tok.is_dir() else None, record)


def hf_config(src: Source) -> dict:
    return {"model_type": "genesys", "architectures": ["GenesysForCausalLM"],
            "auto_map": {"AutoConfig": "configuration_genesys.GenesysConfig",
                         "AutoModelForCausalLM": "modeling_genesys.GenesysForCausalLM"},
            "d_model": src.d_model, "n_block": src.n_block, "vocab_size": src.vocab_size, "norm_eps": 1e-5,
            "block_kwargs": {}, "design": src.tree.name, "torch_dtype": "float32", "tie_word_embeddings": False}


def _model_card(src: Source) -> str:
    rec = src.record or {}
    lines = [f"# {src.tree.name}", "", "A language-model block discovered with Genesys, exported with "
             "`python -m genesys.export`.", "",
             f"- shape: d_model {src.d_model}, {src.n_block} blocks, vocabulary {src.vocab_size}"]
    if rec:
        lines.append(f"- trained at rung `{rec.get('scale')}`: {rec.get('tokens')} tokens, validation loss "
                     f"{rec.get('val_loss')}")
    lines += ["", "```python", "from transformers import AutoModelForCausalLM",
              "model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)", "```", "",
              "The block has no KV cache: `generate()` recomputes the prefix at every step.", "",
              "## Design", "", "```", src.tree.view(), "```", ""]
    if src.tree.proposal:
        lines += ["## Proposal", "", src.tree.proposal, ""]
    return "\n".join(lines)


def write_export(src: Source, out: Path) -> Path:
    """Write the folder (replacing an earlier export there). Returns it."""
    from safetensors.torch import save_file
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gab.py").write_text(compose(src.tree))
    for name in TEMPLATE_FILES:
        shutil.copyfile(TEMPLATES / name, out / name)
    (out / "config.json").write_text(json.dumps(hf_config(src), indent=2))
    weights = {f"model.{k}": v.detach().to("cpu").contiguous() for k, v in src.state_dict.items()
               if k != "lm_head.weight"}     # tied to the embedding: model.py computes the head from it
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt", "design": src.tree.name})
    if src.tokenizer_dir is not None:
        for name in TOKENIZER_FILES:
            if (src.tokenizer_dir / name).exists():
                shutil.copyfile(src.tokenizer_dir / name, out / name)
    (out / "README.md").write_text(_model_card(src))
    return out
