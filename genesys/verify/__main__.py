"""`python -m genesys.verify design=seeds/gpt2 scale=cpu_xs` — pre-train one design at one scale.

Sweeps: `python -m genesys.verify -m design=seeds/gpt2,seeds/mamba2 scale=cpu_xs,cpu_s`
(add `hydra/launcher=submitit_local`, or `hydra/launcher=verify_slurm` on a cluster).
"""
from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys.paths import CONF_DIR


@hydra.main(config_path=str(CONF_DIR), config_name="verify", version_base=None)
def main(cfg: DictConfig) -> dict:
    from genesys.verify.run import verify   # heavy imports after Hydra parsed the command line (--help is fast)
    record = verify(cfg, HydraConfig.get().runtime.output_dir)
    return record.to_dict()


if __name__ == "__main__":
    main()
