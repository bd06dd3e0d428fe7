"""Verdict and category of the checker on every design in designs/ (broken and valid, each one file).

Static designs (format, security) never start a child, so they are all in the fast suite. Runtime designs
start one sandboxed child each (torch start-up dominates); a representative set runs by default, the rest
under `-m slow`.
"""
from pathlib import Path

import pytest

from genesys.checker import CATEGORIES, check

DESIGNS = Path(__file__).parent / "designs"
SENTINEL = Path("/tmp/genesys_escape_sentinel")  # every escape design tries to create this file


def expectation(path: Path) -> str:
    """The `# expect: ...` header of a design file: 'valid', 'valid fixed' or an error category."""
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect:"), path
    return first.split(":", 1)[1].strip()


FAST_RUNTIME = {"leak_offby1_mask", "leak_batch_mix", "valid_fft_conv", "timeout_forward_loop", "memory_bomb_huge",
                # one per blind spot of issue 10, end to end through the sandbox
                "leak_tiny_next_token", "grad_dead_round_quant", "numerics_factorised_decay", "valid_token_loop_state"}
PATHS = sorted(DESIGNS.glob("*.py"))


def _options(name: str, expect: str) -> dict:
    """Keep each check short: phases that cannot produce the expected category are skipped for broken designs;
    valid designs get the full check."""
    if expect.startswith("valid"):
        return {}
    opts = {"timeouts": {"init": 15, "forward": 15}}
    if expect not in ("efficiency",):
        opts["skip"] = ["efficiency"] if expect == "training" else ["efficiency", "training"]
    return opts


def _params():
    for path in PATHS:
        expect = expectation(path)
        static = expect in ("format", "security")
        marks = [] if static or path.stem in FAST_RUNTIME else [pytest.mark.slow]
        yield pytest.param(path, expect, id=path.stem, marks=marks)


def test_suite_is_large_and_covers_every_category():
    expects = [expectation(p) for p in PATHS]
    assert len(PATHS) >= 40
    covered = {e for e in expects if e in CATEGORIES}
    assert covered == set(CATEGORIES), set(CATEGORIES) - covered
    assert sum(e.startswith("valid") for e in expects) >= 5


@pytest.mark.parametrize("path,expect", list(_params()))
def test_design_verdict(path, expect):
    SENTINEL.unlink(missing_ok=True)
    report = check(path, **_options(path.stem, expect))
    summary = report.to_text()
    if expect.startswith("valid"):
        assert report.valid, summary
        assert bool(report.fixes) == (expect == "valid fixed"), summary
    else:
        assert not report.valid, summary
        assert expect in report.categories(), summary
        for finding in report.errors:
            assert finding.hint, finding  # every error tells the designer what to do
    assert not SENTINEL.exists(), "an escape attempt had an effect"
