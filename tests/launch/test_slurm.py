"""Jobs go through a real SLURM scheduler with submitit, as they do on a cluster."""
import pytest
import submitit

from genesys.paths import SEEDS_DIR

pytestmark = pytest.mark.integration


def count_seed_params(seed: str) -> int:
    from genesys.gau import GenesysLM, load_design

    lm = GenesysLM.from_design(load_design(SEEDS_DIR / seed), d_model=128, n_block=6, vocab_size=32000, device="meta")
    return lm.num_params()


def test_submitit_job_runs_on_local_slurm(slurm_cluster, tmp_path):
    executor = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="slurm")
    executor.update_parameters(timeout_min=5, slurm_partition="debug", cpus_per_task=1)
    job = executor.submit(count_seed_params, "gpt2")
    job.wait()  # polls squeue/sacct; the job itself takes a few seconds
    assert job.result() == count_seed_params("gpt2")
    assert job.job_id.isdigit()  # a real SLURM job id, not a local process


@pytest.mark.slow
def test_verify_sweep_runs_as_slurm_jobs(slurm_cluster, tmp_path):
    """The cluster path of DESIGN §9: a Hydra multirun whose jobs go through submitit to the real scheduler."""
    import json
    import os
    import subprocess
    import sys

    sweep = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "genesys.verify", "-m", "design=seeds/gpt2", "scale=cpu_xs", "eval=none",
           "train.max_steps=3", "train.progress_bar=false", "logger=csv", "hydra/launcher=verify_slurm",
           "hydra.launcher.partition=debug", "hydra.launcher.gpus_per_node=0", "hydra.launcher.cpus_per_task=1",
           "hydra.launcher.mem_gb=2", "hydra.launcher.timeout_min=20", f"hydra.sweep.dir={sweep}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1500, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = list(sweep.rglob("record.json"))
    assert len(records) == 1, list(sweep.rglob("*"))[:50]
    record = json.loads(records[0].read_text())
    assert record["steps"] == 3 and record["stop_reason"] == "completed"
    assert list(sweep.rglob("*_submission.sh")), "the job should have been submitted through sbatch"
