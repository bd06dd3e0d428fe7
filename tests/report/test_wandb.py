"""The evolution as one offline W&B run: the curve, the scorecard and the leaderboard table reach its files."""
from genesys.report.summary import run_metrics
from genesys.report.wandb_log import log_evolution


def test_the_evolution_logs_offline(run_data, tmp_path):
    import wandb
    folder = log_evolution(run_data, run_metrics(run_data, top=3, every=2), tmp_path / "wandb", mode="offline")
    wandb.teardown()   # finish() can return before this process's W&B service has written the run's log; this waits
    files = list((tmp_path / "wandb").rglob("*.wandb"))
    assert files and files[0].stat().st_size > 0 and "offline-run" in folder
    data = files[0].read_bytes()    # the offline run's log: keys are stored as plain strings
    assert b"population_fitness" in data and b"curve/delta" in data and b"verified/cpu_xs" in data
    tables = list((tmp_path / "wandb").rglob("leaderboard*.table.json"))
    assert tables and "graft-d" in tables[0].read_text()
