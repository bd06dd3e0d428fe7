"""Write tests/seeds/data/rwkv6_presplit.pt: a float64 reference of the rwkv6 seed before its time mixer was split
into finer units (run once, against the pre-split code; kept for the record).

Two RWKV6Blocks (block_loc (0, 2) and (1, 2)) at D = 32 with small low ranks (mix 8, decay 16) so the file stays
small; every parameter is perturbed away from its init (the LoRA weights start at ~1e-4 and would hide the
data-dependent paths). Saved: the input X (2, 21, 32) (21 is not a multiple of the chunk 16), each block's
state_dict under its old parameter names, its hyper-parameters, and the output after each block.

    python tests/seeds/data/make_rwkv6_presplit.py
"""
import pathlib
import subprocess

import torch

from genesys.gau import compose, load_design, load_module
from genesys.paths import SEEDS_DIR

OVERRIDES = {"rwkv6_mix_lora_rank": 8, "rwkv6_decay_lora_rank": 16, "rwkv6_chunk_size": 16}
OUT = pathlib.Path(__file__).with_name("rwkv6_presplit.pt")


def main():
    tree = load_design(SEEDS_DIR / "rwkv6")
    mod = load_module(compose(tree), tree.name)
    torch.manual_seed(0)
    X = torch.randn(2, 21, 32, dtype=torch.float64)
    H, states, outputs = X, [], []
    for loc in ((0, 2), (1, 2)):
        block = mod.GAB(embed_dim=32, block_loc=loc, dtype=torch.float64, **OVERRIDES)
        with torch.no_grad():
            for name, p in block.named_parameters():
                scale = 0.3 if ("maa_w" in name or "decay_w" in name) else 0.1
                p.add_(torch.randn_like(p) * scale)
            H, _ = block(H)
        states.append({k: v.clone() for k, v in block.state_dict().items()})
        outputs.append(H.clone())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=pathlib.Path(__file__).parent).stdout.strip()
    torch.save({"X": X, "block_locs": [(0, 2), (1, 2)], "overrides": OVERRIDES, "state_dicts": states,
                "outputs": outputs, "made_at_commit": commit}, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) at {commit}")


if __name__ == "__main__":
    main()
