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
