"""SymbolicDesigner with a stand-in checker: determinism, duplicates refused before any check, only valid
children returned, every try recorded, the size guard, and construction from the Hydra config."""
import dataclasses
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from genesys.evolution.designers.base import DesignRequest, Parent
from genesys.evolution.designers.symbolic import SymbolicDesigner
from genesys.evolution.designers.symbolic.designer import reference_params
from genesys.evolution.designers.symbolic.library import seed_trees
from genesys.gau.hashing import structural_hash
from genesys.paths import CONF_DIR

SEEDS = {t.name: t for t in seed_trees()}


@dataclasses.dataclass
class FakeReport:
    valid: bool
    metrics: dict = dataclasses.field(default_factory=dict)
    errors: list = dataclasses.field(default_factory=list)

    def to_dict(self):
        return {"valid": self.valid, "metrics": self.metrics}


@dataclasses.dataclass
class FakeError:
    category: str = "training"
    message: str = "does not learn"


class FakeChecker:
    """Counts calls and records the structural hash of every tree it is asked to check."""

    def __init__(self, valid=True, params=None):
        self.valid, self.params, self.hashes = valid, params, []

    def __call__(self, tree):
        self.hashes.append(structural_hash(tree))
        metrics = {} if self.params is None else {"params_non_embedding": self.params}
        return FakeReport(self.valid, metrics, [] if self.valid else [FakeError()])


def _request(mode="mutation", parents=("gpt2",), seed=0, **kw):
    return DesignRequest(mode=mode, parents=[Parent(p, SEEDS[p].copy()) for p in parents], seed=seed, **kw)


@pytest.mark.parametrize("mode,parents", [("mutation", ("gpt2",)), ("crossover", ("mamba2", "retnet")),
                                          ("scratch", ())])
def test_the_same_request_gives_the_same_outcome(mode, parents):
    a = SymbolicDesigner(check_fn=FakeChecker()).design(_request(mode, parents, seed=7))
    b = SymbolicDesigner(check_fn=FakeChecker()).design(_request(mode, parents, seed=7))
    assert a.tree is not None
    assert (a.name, a.struct_hash, a.proposal, a.operator) == (b.name, b.struct_hash, b.proposal, b.operator)
    assert a.tree.to_dict() == b.tree.to_dict()
    def tries(outcome):
        return [(t.operator, t.valid, t.reason) for t in outcome.attempts]
    assert tries(a) == tries(b)


def test_other_seeds_give_other_children():
    names = {SymbolicDesigner(check_fn=FakeChecker()).design(_request(seed=s)).struct_hash for s in range(6)}
    assert len(names) >= 4


def test_a_valid_child_is_returned_with_its_record():
    out = SymbolicDesigner(check_fn=FakeChecker()).design(_request(seed=1))
    assert out.tree is not None and out.tree.name == out.name
    assert out.struct_hash == structural_hash(out.tree) and out.struct_hash != structural_hash(SEEDS["gpt2"])
    assert out.name.startswith("gpt2-" + out.operator + "-") and out.name.endswith(out.struct_hash[:6])
    assert all(c.isalnum() or c in "-_" for c in out.name)
    assert out.proposal and out.tree.proposal == out.proposal
    assert out.parents == ["gpt2"] and out.mode == "mutation" and out.checker_report == {"valid": True, "metrics": {}}
    assert out.attempts[-1].valid and out.attempts[-1].operator == out.operator


def test_known_designs_are_refused_before_the_checker_runs():
    checker = FakeChecker()
    out = SymbolicDesigner(check_fn=checker).design(_request(seed=3, is_known=lambda h: True, max_attempts=6))
    assert out.tree is None
    assert checker.hashes == []
    assert len(out.attempts) == 6
    assert all(a.reason.startswith(("duplicate", "no move")) for a in out.attempts)
    assert any(a.reason.startswith("duplicate") for a in out.attempts)


def test_invalid_children_are_not_returned_and_no_hash_is_checked_twice():
    checker = FakeChecker(valid=False)
    out = SymbolicDesigner(check_fn=checker, draws_per_try=1).design(_request(seed=4, max_attempts=12))
    assert out.tree is None and out.name is None and len(out.attempts) == 12
    assert checker.hashes and len(checker.hashes) == len(set(checker.hashes))
    assert structural_hash(SEEDS["gpt2"]) not in checker.hashes
    checked = [a for a in out.attempts if a.reason and a.reason.startswith("checker: training")]
    assert len(checked) == len(checker.hashes)
    assert sum(a.reason.startswith("duplicate") for a in out.attempts) == 12 - len(checked) - \
        sum(a.reason.startswith("no move") for a in out.attempts)


def test_operators_follow_the_mode_and_the_weights():
    out = SymbolicDesigner(check_fn=FakeChecker(valid=False)).design(
        _request("crossover", ("gpt2", "mamba2"), seed=2, max_attempts=4))
    assert {a.operator for a in out.attempts} == {"graft"}
    only_hparam = SymbolicDesigner(ops_weights={"swap": 0, "insert": 0, "delete": 0},
                                   check_fn=FakeChecker(valid=False))
    out = only_hparam.design(_request(seed=2, max_attempts=5))
    assert {a.operator for a in out.attempts} == {"hparam"}


def test_the_size_guard_refuses_oversized_children():
    ref = reference_params("gpt2", 64, 2, 128)
    assert 50_000 < ref < 500_000
    big = SymbolicDesigner(check_fn=FakeChecker(params=10 * ref), max_param_ratio=4.0).design(
        _request(seed=5, max_attempts=3))
    assert big.tree is None and all(a.reason.startswith(("size", "duplicate", "no move")) for a in big.attempts)
    assert any(a.reason.startswith("size") for a in big.attempts)
    ok = SymbolicDesigner(check_fn=FakeChecker(params=2 * ref), max_param_ratio=4.0).design(_request(seed=5))
    assert ok.tree is not None


def test_constructible_from_the_hydra_config():
    cfg = OmegaConf.load(Path(CONF_DIR) / "designer" / "symbolic.yaml")
    designer = instantiate(cfg)
    assert isinstance(designer, SymbolicDesigner)
    assert designer.weights["swap"] == cfg.ops_weights.swap and designer.max_attempts == cfg.max_attempts
    assert isinstance(designer.check_options, dict)
    with pytest.raises(ValueError):
        SymbolicDesigner(check_options={"skip": ["efficiency"]})
    with pytest.raises(ValueError):
        SymbolicDesigner(ops_weights={"mutate_everything": 1.0})


def test_names_stay_short_across_generations():
    from genesys.evolution.designers.symbolic.naming import child_name
    h = "3f9c01" + "0" * 58
    assert child_name(["tttxmamba2-graft-mha-aaaaaa"], "hparam", "rope_theta", h) == "ttt-hparam-rope_theta-3f9c01"
    assert child_name(["gpt2-swap-x-bbbbbb", "mamba2xretnet-graft-y-cccccc"], "graft", "Mamba2Mixer", h) == \
        "gpt2xmamba2-graft-mamba2mixer-3f9c01"
    assert child_name(["xlstm"], "delete", "no_SwiGLU", h, seeds=("xlstm",)) == "xlstm-delete-no_swiglu-3f9c01"
    assert child_name([], "scratch", "MHA", h) == "scratch-mha-3f9c01"


def test_a_checker_that_raises_is_recorded_not_fatal():
    def broken(tree):
        raise RuntimeError("sandbox unavailable")
    out = SymbolicDesigner(check_fn=broken).design(_request(seed=1, max_attempts=2))
    assert out.tree is None and len(out.attempts) == 2
    assert any("sandbox unavailable" in a.reason for a in out.attempts)


def test_known_draws_are_redrawn_within_a_try():
    """With redraws, a try whose first draw is a known design still reaches a new one without a wasted try."""
    first = SymbolicDesigner(check_fn=FakeChecker()).design(_request(seed=9))
    known = {first.struct_hash}
    checker = FakeChecker()
    again = SymbolicDesigner(check_fn=checker).design(_request(seed=9, is_known=known.__contains__))
    assert again.tree is not None and again.struct_hash != first.struct_hash
    assert first.struct_hash not in checker.hashes
    assert len(again.attempts) == len(first.attempts)


def test_memory_reweighs_operators_by_their_valid_share():
    from genesys.evolution.designers.symbolic.designer import weights_with_memory
    base = {"swap": 3.0, "insert": 1.0, "hparam": 2.0}
    assert weights_with_memory(base, None) == base
    w = weights_with_memory(base, {"swap": {"attempts": 8, "valid": 8}, "insert": {"attempts": 8, "valid": 0}})
    assert w["swap"] == pytest.approx(3.0 * 2 * 9 / 10) and w["insert"] == pytest.approx(1.0 * 2 / 10)
    assert w["hparam"] == 2.0 and min(w.values()) > 0          # untried: unchanged; nothing switched off
