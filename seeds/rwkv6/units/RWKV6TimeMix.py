import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class RWKV6TimeMix(GAUBase):
    """RWKV-6 (Finch) time mixing: data-dependent token shift and decay, multi-head WKV, GroupNorm, SiLU gate.

        x_w, x_k, x_v, x_r, x_g = RWKV6DDLerp(X)                 (token shift with low-rank data-dependent mix)
        r, k, v = W_r x_r, W_k x_k, W_v x_v;  g = silu(W_g x_g)
        log w   = RWKV6DecayLoRA(x_w) = -exp(d + tanh(x_w A_w) B_w)
        o       = RWKV6WKV(r, k, v, log w)                       (per head, with the bonus u)
        Y       = out_proj(GroupNorm_head(o) * g)
    The key width is rwkv6_expand_k * D and the value width rwkv6_expand_v * D (0.5 and 1 as in the original
    seed), which with the 3.5 D channel mix keeps the block at about 12 D^2 parameters. The children exchange
    their tensors through Z ('lerp_*', 'wkv_*'); none of them leaves this unit.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_n_heads: int = 4, rwkv6_expand_k: float = 0.5, rwkv6_expand_v: float = 1.0,
                 rwkv6_gn_eps: float = 6.4e-4, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        D = embed_dim
        self.n_heads = rwkv6_n_heads
        self.key_dim = int(D * rwkv6_expand_k)
        self.value_dim = int(D * rwkv6_expand_v)
        fk = self.factory_kwargs
        self.ddlerp = RWKV6DDLerp(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                  **self.factory_kwargs, **self.kwarg_all)
        self.decay = RWKV6DecayLoRA(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                    **self.factory_kwargs, **self.kwarg_all)
        self.wkv = RWKV6WKV(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                            **self.factory_kwargs, **self.kwarg_all)
        self.receptance = nn.Linear(D, self.key_dim, bias=False, **fk)
        self.key = nn.Linear(D, self.key_dim, bias=False, **fk)
        self.value = nn.Linear(D, self.value_dim, bias=False, **fk)
        self.gate = nn.Linear(D, self.value_dim, bias=False, **fk)
        self.out_proj = nn.Linear(self.value_dim, D, bias=False, **fk)
        self.ln_x = nn.GroupNorm(self.n_heads, self.value_dim, eps=rwkv6_gn_eps, **fk)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        _, Zx = self.ddlerp(X)
        _, Zd = self.decay(Zx["lerp_w"])
        r = self.receptance(Zx["lerp_r"])
        k = self.key(Zx["lerp_k"])
        v = self.value(Zx["lerp_v"])
        g = F.silu(self.gate(Zx["lerp_g"]))
        _, Zw = self.wkv(X, wkv_r=r, wkv_k=k, wkv_v=v, wkv_log_decay=Zd["wkv_log_decay"])
        o = self.ln_x(Zw["wkv_o"].reshape(B * L, self.value_dim).to(X.dtype)).view(B, L, self.value_dim)
        return self.out_proj(o * g)


@gau_test
def test_rwkv6_timemix_causal_and_finite(device=None, dtype=None):
    kw = {"rwkv6_chunk_size": 4}
    tm = RWKV6TimeMix(32, (1, 3), kw, device=device, dtype=dtype, **kw)
    X = torch.randn(2, 9, 32, device=device, dtype=dtype, requires_grad=True)
    Y, Z = tm(X)
    Y[:, 4].sum().backward()
    assert torch.isfinite(Y).all() and not Z       # the children's tensors stay inside the unit
    assert X.grad[:, 5:].abs().max() == 0 and X.grad[:, :5].abs().max() > 0


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RWKV6DDLerp", requirements="data-dependent token shift: Z['lerp_w'|'lerp_k'|'lerp_v'|"
             "'lerp_r'|'lerp_g'], each (B, L, D)", inputs=["X"],
             outputs=["Y", "lerp_w", "lerp_k", "lerp_v", "lerp_r", "lerp_g"]),
    UnitDecl(unitname="RWKV6DecayLoRA", requirements="per-key-channel log-decay <= 0 of x_w in "
             "Z['wkv_log_decay'] (B, L, K), float32 or wider", inputs=["X"], outputs=["Y", "wkv_log_decay"]),
    UnitDecl(unitname="RWKV6WKV", requirements="causal multi-head WKV of Z['wkv_r'|'wkv_k'|'wkv_v'|"
             "'wkv_log_decay'] into Z['wkv_o'] (B, L, V)", inputs=["X", "wkv_r", "wkv_k", "wkv_v", "wkv_log_decay"],
             outputs=["Y", "wkv_o"]),
]
SPEC = {
    "unitname": "RWKV6TimeMix",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "RWKV-6 time mixing: data-dependent token shift (ddlerp), r/k/v/g projections, data-dependent "
                "per-channel decay, multi-head matrix-valued WKV with bonus u, per-head GroupNorm and a SiLU gate.",
}
ARGS = {"rwkv6_n_heads": 4, "rwkv6_expand_k": 0.5, "rwkv6_expand_v": 1.0, "rwkv6_gn_eps": 0.00064}
CHILDREN = ["RWKV6DDLerp", "RWKV6DecayLoRA", "RWKV6WKV"]
DESC = "RWKV-6 (Finch, Peng et al., 2024) time mixer with data-dependent decay, in a chunked pure-PyTorch form."
