import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class CausalConv1d(GAUBase):
    """Depthwise causal 1-D convolution over the sequence: Y_t = b + sum_{i<k} w_i * X_{t-k+1+i} per channel.

    The sequence is left-padded with k-1 zeros, so position t sees only positions t-k+1..t (no future leak,
    no mixing across channels or across the batch).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 causal_conv_kernel: int = 4, causal_conv_bias: bool = True, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if causal_conv_kernel < 1:
            raise ValueError(f"causal_conv_kernel must be >= 1, got {causal_conv_kernel}")
        self.kernel_size = causal_conv_kernel
        self.conv = nn.Conv1d(embed_dim, embed_dim, causal_conv_kernel, groups=embed_dim,
                              bias=causal_conv_bias, **self.factory_kwargs)

    def _init_weights(self):
        self.conv.reset_parameters()

    def _forward(self, X, **Z):
        # k shifted multiply-adds in (B, L, D) layout: the same as F.conv1d(groups=D) on the left-padded input,
        # and much faster than the CPU depthwise-convolution backward. Each tap's weights are contiguous (a
        # strided weight view made every multiply several times slower on CPU).
        L, k = X.shape[1], self.kernel_size
        Xp = F.pad(X, (0, 0, k - 1, 0))
        taps = self.conv.weight[:, 0, :].to(X.dtype).t().contiguous()  # (k, D)
        Y = Xp[:, k - 1:] * taps[k - 1]
        for i in range(k - 1):
            Y = torch.addcmul(Y, Xp[:, i:i + L], taps[i])
        if self.conv.bias is not None:
            Y = Y + self.conv.bias.to(X.dtype)
        return Y


@gau_test
def test_causal_conv1d_matches_loop(device=None, dtype=None):
    """Equals the explicit sum over the last k positions and does not look ahead."""
    conv = CausalConv1d(8, (0, 1), {}, device=device, dtype=dtype, causal_conv_kernel=3)
    X = torch.randn(2, 7, 8, device=device, dtype=dtype)
    Y, _ = conv(X)
    w = conv.conv.weight[:, 0, :]  # (D, k)
    ref = torch.zeros_like(X) + conv.conv.bias
    for t in range(7):
        for i in range(3):
            s = t - 2 + i
            if s >= 0:
                ref[:, t] = ref[:, t] + w[:, i] * X[:, s]
    assert torch.allclose(Y, ref, atol=1e-5), (Y - ref).abs().max()
    X2 = X.clone()
    X2[:, 4:] = torch.randn_like(X2[:, 4:])
    assert torch.allclose(conv(X2)[0][:, :4], Y[:, :4])
    ref2 = F.conv1d(F.pad(X.transpose(1, 2), (2, 0)), conv.conv.weight, conv.conv.bias, groups=8).transpose(1, 2)
    assert torch.allclose(Y, ref2, atol=1e-5)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "CausalConv1d",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Depthwise causal convolution along the sequence (kernel 4 by default, left padding k-1, bias).",
}
ARGS = {"causal_conv_kernel": 4, "causal_conv_bias": True}
CHILDREN = []
DESC = "Depthwise causal 1-D convolution: a short local token mixer (the pre-conv of TTT, the conv of Mamba)."
