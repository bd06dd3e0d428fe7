"""For every seed, exactly which parameters take weight decay (the rule is genesys.gau.weight_decay: only linear
and embedding weights). Names are per block, relative to the block's root unit; the embedding (tied to the LM head)
decays and the final norm does not, for every seed."""
import pytest

from genesys.gau import GenesysLM, load_design
from genesys.paths import SEEDS_DIR
from genesys.verify.module import LMModule

DECAYING = {
    "gpt2": ["attn.qkv_proj.weight", "attn.out_proj.weight", "mlp.fc_in.weight", "mlp.out_proj.weight"],
    "mamba2": ["mixer1.in_proj.weight", "mixer1.out_proj.weight", "mixer2.in_proj.weight", "mixer2.out_proj.weight"],
    "retnet": ["retention.qkvg_proj.weight", "retention.out_proj.weight", "mlp.fc_in.weight", "mlp.out_proj.weight"],
    "rwkv6": ["time_mix.receptance.weight", "time_mix.key.weight", "time_mix.value.weight", "time_mix.gate.weight",
              "time_mix.out_proj.weight", "channel_mix.key.weight", "channel_mix.receptance.weight",
              "channel_mix.out_proj.weight"],
    "ttt": ["ttt.qkv_proj.weight", "ttt.lr_proj.weight", "ttt.out_proj.weight", "mlp.fc_in.weight",
            "mlp.out_proj.weight"],
}
# the parameters `ndim >= 2` used to decay by mistake: packed coefficients, low-rank maps, inner models, kernels
NOT_DECAYING = {
    "mamba2": ["mixer1.conv1d.weight"],
    "rwkv6": ["time_mix.ddlerp.mu", "time_mix.ddlerp.lora.down", "time_mix.ddlerp.lora.up", "time_mix.decay.down",
              "time_mix.decay.up", "time_mix.wkv.bonus"],
    "ttt": ["ttt.W1", "ttt.b1", "ttt.ttt_norm_weight", "ttt.ttt_norm_bias", "conv.conv.weight"],
}


@pytest.mark.parametrize("seed", sorted(DECAYING))
def test_exactly_these_parameters_decay(seed):
    lm = GenesysLM.from_design(load_design(SEEDS_DIR / seed), d_model=64, n_block=2, vocab_size=100)
    opt = LMModule(lm, lr=1e-3, total_steps=10, weight_decay=0.1).configure_optimizers()["optimizer"]
    rate = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    names = dict(lm.named_parameters())
    assert set(rate) == {id(p) for p in names.values()}  # every parameter in exactly one group
    decayed = {n for n, p in names.items() if rate[id(p)] > 0}
    expected = {"embedding.weight"} | {f"blocks.{i}.root.{n}" for i in range(2) for n in DECAYING[seed]}
    assert decayed == expected
    for name in NOT_DECAYING.get(seed, []):
        assert names[f"blocks.0.root.{name}"].ndim >= 2 and f"blocks.0.root.{name}" not in decayed
