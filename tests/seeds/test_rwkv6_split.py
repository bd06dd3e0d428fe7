"""The finer rwkv6 unit tree computes what the pre-split seed computed: the pre-split blocks' weights
(tests/seeds/data/rwkv6_presplit.pt, written by make_rwkv6_presplit.py against the pre-split code) load into the
new units through an explicit old-name -> new-name map, with the same parameter tensors, and give the same
outputs in float64."""
import pathlib

import torch

from seed_helpers import rel_err

SEED = "rwkv6"
FIXTURE = pathlib.Path(__file__).parent / "data" / "rwkv6_presplit.pt"

# Every parameter of the pre-split block and where it lives now (pure renames: same shapes, same layout).
OLD_TO_NEW = {
    "time_mix.maa_x": "time_mix.ddlerp.lerp.mu",
    "time_mix.maa": "time_mix.ddlerp.mu",
    "time_mix.maa_w1": "time_mix.ddlerp.lora.down",
    "time_mix.maa_w2": "time_mix.ddlerp.lora.up",
    "time_mix.time_decay": "time_mix.decay.base",
    "time_mix.decay_w1": "time_mix.decay.down",
    "time_mix.decay_w2": "time_mix.decay.up",
    "time_mix.time_first": "time_mix.wkv.bonus",
    "channel_mix.maa_k": "channel_mix.lerp_k.mu",
    "channel_mix.maa_r": "channel_mix.lerp_r.mu",
}
UNCHANGED = [f"{unit}.{p}" for unit in ("time_norm", "channel_norm") for p in ("weight", "bias")] + [
    f"time_mix.{lin}.weight" for lin in ("receptance", "key", "value", "gate", "out_proj")] + [
    "time_mix.ln_x.weight", "time_mix.ln_x.bias"] + [
    f"channel_mix.{lin}.weight" for lin in ("key", "receptance", "out_proj")]


def new_name(old: str) -> str:
    prefix, rest = old.split(".", 1)           # 'root.' (the design's root unit inside the GAB)
    assert rest in OLD_TO_NEW or rest in UNCHANGED, f"parameter {old} has no mapping"
    return f"{prefix}.{OLD_TO_NEW.get(rest, rest)}"


def test_presplit_weights_give_the_same_outputs(mod):
    data = torch.load(FIXTURE)
    H = data["X"]
    for loc, old_state, old_out in zip(data["block_locs"], data["state_dicts"], data["outputs"]):
        block = mod.GAB(embed_dim=H.shape[-1], block_loc=tuple(loc), dtype=torch.float64, **data["overrides"])
        new_state = {new_name(k): v for k, v in old_state.items()}
        new_params = dict(block.named_parameters())
        # the same parameters, one for one: names cover both sides, shapes and total count agree
        assert set(new_state) == set(new_params), set(new_state) ^ set(new_params)
        assert all(new_params[n].shape == t.shape for n, t in new_state.items())
        assert sum(p.numel() for p in block.parameters()) == sum(t.numel() for t in old_state.values())
        block.load_state_dict(new_state, strict=True)
        with torch.no_grad():
            H, _ = block(H)
        assert rel_err(H, old_out) <= 1e-12, rel_err(H, old_out)


def test_fixture_output_depends_on_every_mapped_parameter(mod):
    """The check above can fail: perturbing any one renamed parameter moves the output."""
    data = torch.load(FIXTURE)
    loc, old_state, old_out = data["block_locs"][0], data["state_dicts"][0], data["outputs"][0]
    for old, new in OLD_TO_NEW.items():
        block = mod.GAB(embed_dim=32, block_loc=tuple(loc), dtype=torch.float64, **data["overrides"])
        state = {new_name(k): v.clone() for k, v in old_state.items()}
        state[f"root.{new}"] += 0.05
        block.load_state_dict(state)
        with torch.no_grad():
            Y, _ = block(data["X"])
        assert rel_err(Y, old_out) > 1e-6, old
