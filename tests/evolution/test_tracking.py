"""One evolution is one W&B group: the settings send the group to every verification, and the evolution's own run
logs counts, fitness and the budget per rung."""
from types import SimpleNamespace

from genesys.config import compose_config
from genesys.evolution.budget import budget_from_counts
from genesys.evolution.settings import settings_from_cfg
from genesys.evolution.tracking import curve_point


def test_verifications_join_the_evolutions_wandb_group(tmp_path):
    cfg = compose_config("config", ["run_name=abc"])
    settings = settings_from_cfg(cfg, tmp_path / "abc", {"logger": "default"}, [])
    assert settings.wandb["group"] == "evolution-abc"
    assert "++logger.wandb.group=evolution-abc" in settings.verify_overrides
    off = settings_from_cfg(compose_config("config", ["logger=csv"]), tmp_path / "x", {"logger": "csv"}, [])
    assert not any("wandb.group" in o for o in off.verify_overrides)


def test_curve_point_counts_fitness_and_budget():
    designs = [SimpleNamespace(is_seed=True), SimpleNamespace(is_seed=False), SimpleNamespace(is_seed=False)]
    snap = SimpleNamespace(designs=designs, new_designs=designs[1:], fitness={"a": 0.2, "b": 0.5, "c": None},
                           verifications=[SimpleNamespace(status="done"), SimpleNamespace(status="failed")])
    budget = budget_from_counts(["proxy", "cpu_xs"], {"proxy": 16, "cpu_xs": 16}, {"cpu_xs": 1.0},
                                {"proxy": 3, "cpu_xs": 1}, {"proxy": 2, "cpu_xs": 0})
    point = curve_point(snap, budget, top=5)
    assert point["designs"] == 3 and point["new_designs"] == 2
    assert point["verifications_done"] == 1 and point["verifications_failed"] == 1
    assert point["fitness/best"] == 0.5 and abs(point["fitness/top5_mean"] - 0.35) < 1e-12
    assert point["budget/proxy/claimed"] == 3 and point["budget/cpu_xs/completed"] == 0
    assert point["budget/cpu_xs/released"] == 2          # ratio 1.0: one per completed proxy verification
