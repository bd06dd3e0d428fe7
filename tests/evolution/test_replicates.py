"""A rung that averages several training seeds per design (`ladder.replicates`): once a design's seed-0 verification
there is done, verifiers run its other seeds before new work, scoring averages them, and the budget counts the
design once."""
import random

from genesys.config import compose_config
from genesys.evolution.settings import settings_from_cfg
from genesys.evolution.snapshot import take_snapshot
from genesys.evolution.store import Store
from genesys.evolution.workers import budget_of, choose_target
from tests.evolution.store_helpers import add
from tests.evolution.worker_helpers import RUNG, worker_settings


def _record(val_loss: float, seed: int) -> dict:
    return {"val_loss": val_loss, "unigram_val_loss": 6.0, "stop_reason": "completed", "config": {"seed": seed}}


def _verify(store, design: str, seed: int, val_loss: float) -> None:
    claim = store.claim(design, RUNG, "w", 60.0, seed=seed)
    assert claim is not None
    store.complete(claim, _record(val_loss, seed), "completed")


def test_replicates_run_first_average_in_fitness_and_count_once(tmp_path):
    settings = worker_settings(tmp_path, f"sqlite:///{tmp_path / 'e.db'}", tmp_path, budget={RUNG: 4},
                               replicates={RUNG: 3})
    rng = random.Random(0)
    with Store.open(settings.store_url) as store:
        for name in ("a", "b", "c"):
            add(store, name, is_seed=True)
        # nothing verified yet: selection's pick, seed 0
        target, _ = choose_target(store, settings, rng)
        assert target[2] == 0
        _verify(store, "a", 0, 4.0)
        assert choose_target(store, settings, rng)[0] == ("a", RUNG, 1)   # a's replicates before b's seed 0
        running = store.claim("a", RUNG, "w", 60.0, seed=1)
        assert choose_target(store, settings, rng)[0] == ("a", RUNG, 2)   # the next one not yet taken
        store.complete(running, _record(4.2, 1), "completed")
        _verify(store, "a", 2, 4.4)
        target, snap = choose_target(store, settings, rng)
        assert target[0] != "a" and target[2] == 0                        # a is complete: new work again

        _verify(store, "b", 0, 4.2)   # b's one seed equals a's mean: the same fitness
        snap = take_snapshot(store, settings)
        assert abs(snap.fitness["a"] - snap.fitness["b"]) < 1e-9
        assert budget_of(snap, settings)["claimed"][RUNG] == 2            # a and b: once each, not 4 verifications


def test_no_replicates_for_a_failed_design_or_a_rung_without_them(tmp_path):
    settings = worker_settings(tmp_path, f"sqlite:///{tmp_path / 'e.db'}", tmp_path, budget={RUNG: 4},
                               replicates={"cpu_s": 2})
    with Store.open(settings.store_url, max_attempts=1) as store:
        add(store, "a", is_seed=True)
        add(store, "b", is_seed=True)
        _verify(store, "a", 0, 4.0)
        target, _ = choose_target(store, settings, random.Random(0))
        assert target == ("b", RUNG, 0)                                   # cpu_xs averages nothing
        settings = worker_settings(tmp_path, settings.store_url, tmp_path, budget={RUNG: 4}, replicates={RUNG: 2})
        _verify(store, "b", 0, 4.0)
        store.fail(store.claim("b", RUNG, "w", 60.0, seed=1), "crashed")  # b fails for good (max_attempts 1)
        assert store.design("b").status == "failed"
        assert choose_target(store, settings, random.Random(0))[0] == ("a", RUNG, 1)
        _verify(store, "a", 1, 4.1)
        assert choose_target(store, settings, random.Random(0))[0] is None


def test_the_ladder_config_sets_replicates_per_rung(tmp_path):
    cfg = compose_config("config", ["ladder.replicates.cpu_s=2"])
    settings = settings_from_cfg(cfg, tmp_path / "r", {}, [])
    assert settings.replicates == {"proxy": 1, "cpu_xs": 1, "cpu_s": 2, "cpu_m": 1}
    paper = settings_from_cfg(compose_config("config", ["ladder=paper"]), tmp_path / "p", {}, [])
    assert set(paper.replicates.values()) == {1} and list(paper.replicates) == paper.rungs
