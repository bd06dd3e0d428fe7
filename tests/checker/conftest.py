"""In-process runs of single runtime phases on a design, for tests that need the phase's details (metrics,
messages) rather than the sandboxed verdict: the same Context and phase functions the sandboxed child uses,
without the child (no torch start-up per design). Only our own test designs and the seeds run this way."""
from pathlib import Path

import pytest
import torch

from genesys.checker.config import load_config
from genesys.checker.runtime.child import Context
from genesys.checker.runtime.forward import check_init
from genesys.gau import GAUTree, compose, load_design, load_module, parse_unit_source
from genesys.paths import SEEDS_DIR

DESIGNS = Path(__file__).parent / "designs"


def design_context(target, **options) -> Context:
    """A built check-scale model of a design file (name under designs/, or a path) or a seed folder."""
    path = target if isinstance(target, Path) else DESIGNS / f"{target}.py"
    if path.is_dir():
        tree = load_design(path)
    else:
        node = parse_unit_source(path.read_text(), str(path))
        tree = GAUTree(name=path.stem, root=node.name, units={node.name: node})
    cfg = load_config((), options)
    ctx = Context(cfg=cfg, tree=tree.to_dict(), module=load_module(compose(tree), tree.name),
                  ref_module=load_module(compose(load_design(SEEDS_DIR / cfg["reference"])), "reference"))
    (init,) = check_init(ctx)
    assert not init.errors, init.errors
    return ctx


@pytest.fixture
def phase():
    """`phase(check_fn, design, **options) -> (results, ctx)`, at the sandbox's thread count (timings compare)."""
    threads = torch.get_num_threads()

    def run(check, target, **options):
        ctx = design_context(target, **options)
        torch.set_num_threads(int(ctx.cfg["sandbox"]["threads"]))
        return check(ctx), ctx

    yield run
    torch.set_num_threads(threads)
