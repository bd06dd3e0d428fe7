"""`python -m genesys.verify design=seeds/gpt2 scale=cpu_xs` — pre-train one design at one scale.

Sweeps: `python -m genesys.verify -m design=seeds/gpt2,seeds/mamba2 scale=cpu_xs,cpu_s`
(add `hydra/launcher=submitit_local`, or `hydra/launcher=verify_slurm` on a cluster).

Exit codes of a single run (genesys.verify.job relies on them): 0 completed, 3 stopped by the run monitor
(the record says why), anything else a crash (no record).
"""
from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys.paths import CONF_DIR

EXIT_STOPPED = 3   # = genesys.verify.job.EXIT_STOPPED (kept import-free so --help stays fast)


@hydra.main(config_path=str(CONF_DIR), config_name="verify", version_base=None)
def main(cfg: DictConfig) -> dict:
    # heavy imports after Hydra parsed the command line (--help is fast); the proxy rung never imports Lightning
    from genesys.verify.proxy_rung import is_proxy_rung, verify_proxy
    if is_proxy_rung(cfg):
        verify = verify_proxy
    else:
        from genesys.verify.run import verify
    hydra_cfg = HydraConfig.get()
    record = verify(cfg, hydra_cfg.runtime.output_dir)
    if record.stop_reason != "completed" and hydra_cfg.mode == RunMode.RUN:
        sys.exit(EXIT_STOPPED)   # a sweep (multirun) goes on to its next job instead
    return record.to_dict()


if __name__ == "__main__":
    main()
