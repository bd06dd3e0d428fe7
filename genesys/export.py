"""`python -m genesys.export design=<name> run=<run folder>` (or `design=<folder> checkpoint=<ckpt>`): a design as a
standalone PyTorch module and a Hugging Face model folder (conf/export.yaml)."""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

import genesys.config  # noqa: F401  (registers ${genesys_*:})
from genesys.paths import CONF_DIR


@hydra.main(config_path=str(CONF_DIR), config_name="export", version_base=None)
def app(cfg: DictConfig) -> None:
    from genesys.report.export import ExportError, write_export
    from genesys.report.locate import from_checkpoint, from_run
    if not cfg.design or not (cfg.run or cfg.checkpoint):
        print("usage: python -m genesys.export design=<name> run=<run folder>   |   design=<folder> "
              "checkpoint=<checkpoint>", file=sys.stderr)
        sys.exit(2)
    try:
        src = from_run(cfg.design, cfg.run, cfg.rung) if cfg.run else from_checkpoint(cfg.design, cfg.checkpoint)
        out = write_export(src, Path(cfg.out))
    except (ExportError, FileNotFoundError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"exported {src.tree.name} (d_model {src.d_model}, {src.n_block} blocks, vocabulary {src.vocab_size}) "
          f"-> {out}\n  AutoModelForCausalLM.from_pretrained('{out}', trust_remote_code=True)")


if __name__ == "__main__":
    app()
