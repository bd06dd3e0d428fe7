"""Write the pre-split fixtures tests/seeds/data/<seed>_presplit.pt for gpt2, mamba2 and retnet.

Run once against the unit trees as they were BEFORE the attention / retention / mixer units were split into
finer units (issue 10, item 4): each fixture holds a small float64 block's config, input, state_dict (weights
perturbed away from init so that every parameter matters) and output. tests/seeds/test_presplit.py loads the
weights into today's units through an explicit old-name -> new-name map and asserts the same output and the same
parameter count: the split must not change the math.

    python tests/seeds/data/make_presplit.py          # from the repository root

It was run at commit ff59fbc (before the split) and is kept to show how the fixtures were made. Do not rerun it on
later code: the fixtures would then record the new units' output and the test would prove nothing (the retnet
line `block.root.retention.mode` also names the old tree; today the mode lives on block.root.retention.retention).
"""
from pathlib import Path

import torch

from genesys.gau import build_block, load_design
from genesys.paths import SEEDS_DIR

HERE = Path(__file__).resolve().parent
F64 = torch.float64

# small blocks with several heads and several chunks, so that every code path runs
CONFIGS = {
    "gpt2": {"n_heads": 4},
    "mamba2": {"mamba2_d_state": 8, "mamba2_headdim": 16, "ssd_chunk_size": 4},
    "retnet": {"retnet_n_heads": 4, "retnet_chunk_size": 4},
}
D, B, L = 32, 2, 13


def make(seed: str) -> dict:
    tree = load_design(SEEDS_DIR / seed)
    torch.manual_seed(0)
    block = build_block(tree, D, dtype=F64, **CONFIGS[seed])
    with torch.no_grad():
        for p in block.parameters():
            p.add_(0.1 * torch.randn_like(p))
    X = torch.randn(B, L, D, dtype=F64)
    with torch.no_grad():
        Y = block(X)[0]
        extra = {}
        if seed == "retnet":  # the parallel form too, from the same weights
            block.root.retention.mode = "parallel"
            extra["Y_parallel"] = block(X)[0]
    return {
        "seed": seed,
        "config": CONFIGS[seed],
        "embed_dim": D,
        "X": X,
        "state_dict": {k: v.clone() for k, v in block.state_dict().items()},
        "Y": Y,
        "n_params": sum(p.numel() for p in block.parameters()),
        **extra,
    }


if __name__ == "__main__":
    for seed in CONFIGS:
        fx = make(seed)
        path = HERE / f"{seed}_presplit.pt"
        torch.save(fx, path)
        print(f"{path.name}: {fx['n_params']} parameters, {len(fx['state_dict'])} tensors, "
              f"|Y|max {fx['Y'].abs().max():.3f}")
