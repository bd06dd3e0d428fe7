"""Writes tests/seeds/data/ttt_presplit.pt: input, state_dict and output of the ttt seed's TTTLinear and TTTBlock
(D = 32, float64, mini-batch 4, L = 13) as computed by the code before RoPE became its own unit.

Run once against that commit (`python tests/seeds/data/make_ttt_presplit.py` from the repository root); the split
design is then tested against the stored outputs (tests/seeds/test_ttt_split.py). Every parameter is perturbed
away from its init so that no part of the computation is trivially zero or one.
"""
from pathlib import Path

import torch

from genesys.gau import compose, load_design, load_module
from genesys.paths import SEEDS_DIR

OUT = Path(__file__).with_name("ttt_presplit.pt")


def perturbed(unit, gen):
    with torch.no_grad():
        for name, p in unit.named_parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return unit


def main():
    mod = load_module(compose(load_design(SEEDS_DIR / "ttt")), "ttt")
    gen = torch.Generator().manual_seed(1234)
    torch.manual_seed(1234)
    kw = dict(embed_dim=32, block_loc=(0, 1), kwarg_all={}, dtype=torch.float64, ttt_mini_batch=4)
    linear = perturbed(mod.TTTLinear(**kw), gen)
    block = perturbed(mod.TTTBlock(**kw), gen)
    X = torch.randn(2, 13, 32, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        data = {
            "X": X,
            "linear_state": linear.state_dict(),
            "linear_out": linear(X)[0],
            "block_state": block.state_dict(),
            "block_out": block(X)[0],
        }
    torch.save(data, OUT)
    print(f"wrote {OUT}: linear |Y| {data['linear_out'].norm():.4f}, block |Y| {data['block_out'].norm():.4f}")


if __name__ == "__main__":
    main()
