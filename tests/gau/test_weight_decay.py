"""Weight decay by role: only linear and embedding weights decay; units can mark single parameters."""
import pytest
import torch
from torch import nn

from genesys.gau import GenesysLM, load_design, param_groups, split_by_decay
from genesys.paths import SEEDS_DIR


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight                       # tied: one parameter
        self.norm = nn.LayerNorm(4)
        self.conv = nn.Conv1d(4, 4, 3, groups=4)
        self.mix = nn.Parameter(torch.zeros(5, 4))               # a packed coefficient matrix: no decay
        self.inner = nn.Parameter(torch.zeros(4, 4))
        self.inner._weight_decay = True                          # opted in
        self.gate = nn.Linear(4, 4)
        self.gate.weight._no_weight_decay = True                 # opted out
        self.frozen = nn.Parameter(torch.zeros(3), requires_grad=False)


def test_rule_on_every_kind_of_parameter():
    decay, no_decay = split_by_decay(Toy())
    assert sorted(decay) == ["emb.weight", "inner", "proj.weight"]
    assert sorted(no_decay) == ["conv.bias", "conv.weight", "gate.bias", "gate.weight", "mix", "norm.bias",
                                "norm.weight", "proj.bias"]


def test_param_groups_cover_each_trainable_parameter_once():
    model = Toy()
    groups = param_groups(model, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == sum(1 for p in model.parameters() if p.requires_grad)


def test_training_module_uses_the_rule():
    from genesys.verify.module import LMModule
    lm = GenesysLM.from_design(load_design(SEEDS_DIR / "gpt2"), d_model=32, n_block=1, vocab_size=50)
    opt = LMModule(lm, lr=1e-3, total_steps=10, weight_decay=0.1).configure_optimizers()["optimizer"]
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    names = {n for n, p in lm.named_parameters() if id(p) in decayed}
    assert names == set(split_by_decay(lm)[0])
    assert "blocks.0.root.attn_norm.weight" not in names and "embedding.weight" in names
