import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class Mamba2Mixer(GAUBase):
    """Mamba2 token mixer: in_proj -> (z, xBC, dt); causal depthwise conv + SiLU on xBC; split x, B, C;
    SSD scan (child SSDCore) with dt = softplus(dt_raw + dt_bias), A = -exp(A_log); y + D * x;
    gated RMSNorm(y * silu(z)); out_proj.  d_inner = expand * D, heads = d_inner / headdim, one group.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 mamba2_expand: int = 2, mamba2_d_state: int = 64, mamba2_d_conv: int = 4,
                 mamba2_headdim: int = 128, mamba2_dt_min: float = 0.001, mamba2_dt_max: float = 0.1,
                 mamba2_dt_init_floor: float = 0.0001, mamba2_A_init_min: float = 1.0,
                 mamba2_A_init_max: float = 16.0, mamba2_norm_eps: float = 1e-05, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.d_inner = int(mamba2_expand * embed_dim)
        if self.d_inner % mamba2_headdim:
            raise ValueError(f"d_inner {self.d_inner} (= expand * embed_dim) is not a multiple of headdim {mamba2_headdim}")
        self.headdim = mamba2_headdim
        self.nheads = self.d_inner // mamba2_headdim
        self.d_state = mamba2_d_state
        self.d_conv = mamba2_d_conv
        self.conv_dim = self.d_inner + 2 * mamba2_d_state
        self.dt_range = (mamba2_dt_min, mamba2_dt_max, mamba2_dt_init_floor)
        self.A_range = (mamba2_A_init_min, mamba2_A_init_max)
        self.norm_eps = mamba2_norm_eps

        self.in_proj = nn.Linear(embed_dim, 2 * self.d_inner + 2 * self.d_state + self.nheads, bias=False,
                                 **self.factory_kwargs)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, kernel_size=mamba2_d_conv, groups=self.conv_dim,
                                bias=True, **self.factory_kwargs)
        self.dt_bias = nn.Parameter(torch.empty(self.nheads, **self.factory_kwargs))
        self.A_log = nn.Parameter(torch.empty(self.nheads, **self.factory_kwargs))
        self.D = nn.Parameter(torch.empty(self.nheads, **self.factory_kwargs))
        self.norm_weight = nn.Parameter(torch.empty(self.d_inner, **self.factory_kwargs))
        self.ssd = SSDCore(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                           **self.factory_kwargs, **self.kwarg_all)
        self.out_proj = nn.Linear(self.d_inner, embed_dim, bias=False, **self.factory_kwargs)
        self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        """dt_bias = softplus^-1(dt) with dt log-spread over [dt_min, dt_max], A_log = log of A spread over
        [A_min, A_max]; D = 1. The values are the distributions' quantiles, not draws: the reference samples one
        dt and one A per head, and with the one or two heads of a small rung that single draw (dt anywhere in
        0.001-0.1) decided each run's basin: 0.06 nats of cpu_xs val loss between init seeds (BENCHMARKS.md
        "Rung noise"). Heads of layer l of L take the quantiles (i * L + l + 0.5) / (H * L), i < H, so the layers
        together cover the range evenly at any head count."""
        dt_min, dt_max, floor = self.dt_range
        layer, n_layers = self.block_loc
        heads = torch.arange(self.nheads, device=self.dt_bias.device, dtype=torch.float32)
        u = (heads * n_layers + layer + 0.5) / (self.nheads * n_layers)
        dt = torch.exp(u * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)).clamp(min=floor)
        self.dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        A_min, A_max = self.A_range
        self.A_log.copy_(torch.log(A_min + u * (A_max - A_min)))
        self.D.fill_(1.0)
        self.norm_weight.fill_(1.0)

    @staticmethod
    def causal_conv(u, weight, bias):
        """Depthwise causal conv over time of u (b, l, c) with weight (c, 1, k): left pad k - 1, so position t
        sees t - k + 1 .. t only. Written as k shifted multiply-adds (same result as nn.Conv1d on the padded
        input; several times faster than its CPU backward for depthwise kernels). Each tap's weights are made
        contiguous first: a strided (c,) weight view made every multiply ~5x slower on CPU."""
        k, l = weight.shape[-1], u.shape[1]
        taps = weight[:, 0].t().contiguous()  # (k, c)
        padded = F.pad(u, (0, 0, k - 1, 0))
        out = torch.addcmul(bias, padded[:, k - 1:], taps[k - 1])
        for j in range(k - 1):
            out = torch.addcmul(out, padded[:, j:j + l], taps[j])
        return out

    def _forward(self, X, **Z):
        b, l, _ = X.shape
        z, xBC, dt = torch.split(self.in_proj(X), [self.d_inner, self.conv_dim, self.nheads], dim=-1)
        xBC = self.causal_conv(xBC, self.conv1d.weight, self.conv1d.bias)
        x, B, C = torch.split(F.silu(xBC), [self.d_inner, self.d_state, self.d_state], dim=-1)
        x = x.reshape(b, l, self.nheads, self.headdim)
        dt = F.softplus(dt.to(torch.promote_types(dt.dtype, torch.float32)) + self.dt_bias)
        A = -torch.exp(self.A_log.to(dt.dtype))
        _, Z_ssd = self.ssd(X, **{**Z, "ssd_x": x, "ssd_dt": dt, "ssd_A": A, "ssd_B": B, "ssd_C": C})
        y = Z_ssd["ssd_y"] + x * self.D.to(x.dtype).unsqueeze(-1)
        y = y.reshape(b, l, self.d_inner) * F.silu(z)
        y = F.rms_norm(y, (self.d_inner,), self.norm_weight, self.norm_eps)
        return self.out_proj(y)


@gau_test
def test_mamba2mixer_causal_and_short(device=None, dtype=None):
    torch.manual_seed(0)
    cfg = {"mamba2_d_state": 8, "mamba2_headdim": 16, "ssd_chunk_size": 4}
    mixer = Mamba2Mixer(32, (0, 1), cfg, device=device, dtype=dtype, **cfg)
    assert mixer.nheads == 4 and mixer.ssd.chunk_size == 4
    X = torch.randn(2, 10, 32, device=device, dtype=dtype)
    Y, _ = mixer(X)
    X2 = X.clone()
    X2[:, 6:] = torch.randn_like(X2[:, 6:])
    Y2, _ = mixer(X2)
    assert torch.allclose(Y[:, :6], Y2[:, :6], atol=1e-5) and not torch.allclose(Y[:, 6:], Y2[:, 6:])
    Y1, _ = mixer(X[:, :1])
    assert torch.allclose(Y1, Y[:, :1], atol=1e-5)


@gau_test
def test_mamba2mixer_init_ranges(device=None, dtype=None):
    mixer = Mamba2Mixer(128, (0, 1), {}, device=device, dtype=dtype)
    assert mixer.nheads == 2 and mixer.in_proj.out_features == 2 * 256 + 2 * 64 + 2
    dt = torch.nn.functional.softplus(mixer.dt_bias.float())
    assert (dt >= 1e-3 * 0.999).all() and (dt <= 0.1 * 1.001).all()
    A = mixer.A_log.float().exp()
    assert (A >= 1 - 1e-4).all() and (A <= 16 + 1e-3).all() and (mixer.D == 1).all()


@gau_test
def test_mamba2mixer_init_is_seed_free_and_spread(device=None, dtype=None):
    cfg = {"mamba2_headdim": 64, "mamba2_d_state": 8}
    dts, As = [], []
    for layer in range(2):
        torch.manual_seed(layer)
        mixer = Mamba2Mixer(64, (layer, 2), cfg, device=device, dtype=dtype, **cfg)
        torch.manual_seed(100 + layer)
        again = Mamba2Mixer(64, (layer, 2), cfg, device=device, dtype=dtype, **cfg)
        assert torch.equal(mixer.dt_bias, again.dt_bias) and torch.equal(mixer.A_log, again.A_log)
        dts.append(torch.nn.functional.softplus(mixer.dt_bias.float()))
        As.append(mixer.A_log.float().exp())
    dt, A = torch.cat(dts).sort().values, torch.cat(As).sort().values
    ratios = dt[1:] / dt[:-1]
    assert torch.allclose(ratios, ratios[:1].expand_as(ratios), rtol=1e-2)  # evenly spread in log dt
    assert torch.allclose(dt[0] * dt[-1], torch.tensor(1e-4), rtol=1e-2)  # symmetric around sqrt(dt_min dt_max)
    assert torch.allclose(A[0] + A[-1], torch.tensor(17.0), rtol=1e-3) and len(set(A.tolist())) == 4


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="SSDCore", requirements="chunked selective-SSM scan: reads ssd_x, ssd_dt, ssd_A, ssd_B, "
             "ssd_C from Z and writes ssd_y", inputs=["X", "ssd_x", "ssd_dt", "ssd_A", "ssd_B", "ssd_C"],
             outputs=["Y", "ssd_y"]),
]
SPEC = {
    "unitname": "Mamba2Mixer",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Mamba2 mixer: input projection, causal depthwise conv, SSD scan with D skip, gated RMSNorm, "
                "output projection.",
}
ARGS = {
    "mamba2_expand": 2,
    "mamba2_d_state": 64,
    "mamba2_d_conv": 4,
    "mamba2_headdim": 128,
    "mamba2_dt_min": 0.001,
    "mamba2_dt_max": 0.1,
    "mamba2_dt_init_floor": 0.0001,
    "mamba2_A_init_min": 1.0,
    "mamba2_A_init_max": 16.0,
    "mamba2_norm_eps": 1e-05,
}
CHILDREN = ["SSDCore"]
DESC = "Mamba2 selective state-space mixer (Dao & Gu, 2024) with one B/C group and a gated output norm."
