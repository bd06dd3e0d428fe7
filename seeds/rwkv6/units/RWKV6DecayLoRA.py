import torch
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6DecayLoRA(GAUBase):
    """RWKV-6 data-dependent decay: log w = -exp(d + tanh(X A) B), one value per key channel.

    X is the decay's token-shifted input x_w; A (D, rwkv6_decay_lora_rank), B (rank, K) with
    K = rwkv6_expand_k * D; d (K) the decay base. Y = X; log w travels in Z['wkv_log_decay'] (B, L, K).
    Computed in float32 at least with autocast off: a bf16 matmul here rounds the exponent d + tanh(X A) B,
    which is |log w| itself, to 3 significant digits, and the WKV multiplies up to a chunk of these decays. The
    exponent is clamped at 20 (w = exp(-e^20) is 0 even in float64) to keep log w finite for the WKV's sums.
    d starts at -6 + 5 (k / (K-1))^(0.7 + 1.3 r), r = layer / (n_layer - 1), so w starts in about
    [exp(-e^-1), exp(-e^-6)]; A, B start at U(-1e-4, 1e-4). All three are raw parameters (decay parameters and,
    as in RWKV-LM, the low-rank decay weights take no weight decay).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_expand_k: float = 0.5, rwkv6_decay_lora_rank: int = 64, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.key_dim = int(embed_dim * rwkv6_expand_k)
        fk = self.factory_kwargs
        self.base = nn.Parameter(torch.zeros(self.key_dim, **fk))
        self.down = nn.Parameter(torch.zeros(embed_dim, rwkv6_decay_lora_rank, **fk))
        self.up = nn.Parameter(torch.zeros(rwkv6_decay_lora_rank, self.key_dim, **fk))
        if self.base.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        layer, n_layer = self.block_loc
        r01 = layer / max(n_layer - 1, 1)
        n = torch.arange(self.key_dim, device=self.base.device, dtype=torch.float64) / max(self.key_dim - 1, 1)
        self.base.copy_(-6.0 + 5.0 * n.pow(0.7 + 1.3 * r01))
        self.down.uniform_(-1e-4, 1e-4)
        self.up.uniform_(-1e-4, 1e-4)

    def log_decay(self, X):
        dt = torch.promote_types(X.dtype, torch.float32)
        pre = self.base.to(dt) + torch.tanh(X.to(dt) @ self.down.to(dt)) @ self.up.to(dt)
        return -torch.exp(pre.clamp(max=20.0))

    def _forward(self, X, **Z):
        if torch.amp.is_autocast_available(X.device.type):
            with torch.autocast(X.device.type, enabled=False):
                return X, {"wkv_log_decay": self.log_decay(X)}
        return X, {"wkv_log_decay": self.log_decay(X)}


@gau_test
def test_rwkv6decaylora_range_and_layer_init(device=None, dtype=None):
    first = RWKV6DecayLoRA(32, (0, 4), {}, device=device, dtype=dtype)
    last = RWKV6DecayLoRA(32, (3, 4), {}, device=device, dtype=dtype)
    X = torch.randn(2, 5, 32, device=device, dtype=dtype)
    lw = first(X)[1]["wkv_log_decay"]
    assert lw.shape == (2, 5, 16) and lw.dtype in (torch.float32, torch.float64)
    w = lw.exp()
    assert 0.5 < w.min() and w.max() < 1.0 and not torch.allclose(first.base, last.base)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6DecayLoRA",
    "inputs": ["X"],
    "outputs": ["Y", "wkv_log_decay"],
    "document": "Data-dependent per-key-channel log-decay -exp(d + tanh(X A) B) in float32, returned in "
                "Z['wkv_log_decay'] (B, L, K); Y = X.",
}
ARGS = {"rwkv6_expand_k": 0.5, "rwkv6_decay_lora_rank": 64}
CHILDREN = []
DESC = "RWKV-6 data-dependent decay (Peng et al., 2024): a rank-64 tanh LoRA on the decay exponent."
