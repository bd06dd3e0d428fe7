"""CPU forward+backward throughput of each seed, as a ratio to gpt2, and gpt2 against a plain transformer block.

    python bench/seeds.py [--d-model 256 --n-block 4 --seq-len 512 --batch 4 --long-seq-len 4096 --repeats 5]

Every model is timed in the same process, interleaved round by round (so machine load hits all alike), and the
median round is reported. The plain block is written here directly (RMSNorm, fused QKV, RoPE, SDPA, SwiGLU):
gpt2 / plain measures the cost of the unit framework itself. A second table times the same models at a long
context (L 4096, batch 1), where the linear-time seeds exist to beat attention.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section  # noqa: E402

from genesys.gau import GenesysLM, load_design  # noqa: E402
from genesys.paths import SEEDS_DIR  # noqa: E402

SEEDS = ["gpt2", "mamba2", "retnet", "rwkv6", "ttt"]


class PlainBlock(nn.Module):
    """The reference: a Llama block in plain PyTorch, same sizes as the gpt2 seed."""

    def __init__(self, d: int, n_heads: int = 8):
        super().__init__()
        self.n_heads, self.hd = n_heads, d // n_heads
        hidden = 128 * math.ceil(int(2.6667 * d) / 128)
        self.norm1, self.norm2 = nn.RMSNorm(d, eps=1e-5), nn.RMSNorm(d, eps=1e-5)
        self.qkv, self.o = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
        self.w_in, self.w_out = nn.Linear(d, 2 * hidden, bias=False), nn.Linear(hidden, d, bias=False)
        self.register_buffer("inv_freq", 1e4 ** (-torch.arange(0, self.hd, 2).float() / self.hd))

    def rope(self, x):
        ang = torch.outer(torch.arange(x.shape[-2], dtype=torch.float32), self.inv_freq)
        cos, sin = ang.cos(), ang.sin()
        a, b = x.chunk(2, -1)
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)

    def forward(self, x):
        B, L, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, L, 3, self.n_heads, self.hd).permute(2, 0, 3, 1, 4)
        h = F.scaled_dot_product_attention(self.rope(q), self.rope(k), v, is_causal=True)
        x = x + self.o(h.transpose(1, 2).reshape(B, L, D))
        g, u = self.w_in(self.norm2(x)).chunk(2, -1)
        return x + self.w_out(F.silu(g) * u)


class PlainLM(nn.Module):
    def __init__(self, d, n_block, vocab):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(PlainBlock(d) for _ in range(n_block))
        self.norm = nn.RMSNorm(d)

    def forward(self, ids, labels):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x)
        logits = self.norm(x) @ self.emb.weight.T
        return None, F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def step_time(model, ids) -> float:
    start = time.perf_counter()
    _, loss = model(ids, labels=ids)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def throughput(models: dict, ids: torch.Tensor, repeats: int) -> dict:
    """tokens/s of each model: one warm-up step each, then `repeats` interleaved rounds, median round."""
    for model in models.values():
        step_time(model, ids)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(step_time(model, ids))
    return {name: ids.numel() / statistics.median(t) for name, t in times.items()}


def table(models: dict, tps: dict, vocab: int, d_model: int, targets: bool) -> str:
    head = "| model | params (non-emb.) | tokens/s | vs gpt2 |" + (" target |" if targets else "")
    rows = [head, "|---|---|---|---|" + ("---|" if targets else "")]
    for name, model in models.items():
        n = sum(p.numel() for p in model.parameters()) - vocab * d_model
        if name == "plain":
            ratio = tps["gpt2"] / tps["plain"]
            target = f" gpt2 ≥ 0.9× plain {'✅' if ratio >= 0.9 else '❌'} |" if targets else ""
            rows.append(f"| plain Llama block (reference) | {n / 1e6:.2f}M | {tps[name]:,.0f} | gpt2/plain = {ratio:.2f} |"
                        + target)
        else:
            ratio = tps[name] / tps["gpt2"]
            ok = "✅" if ratio >= 1 / 3 else "❌"
            target = (f" {'≥ 0.33 ' + ok if name != 'gpt2' else '—'} |") if targets else ""
            rows.append(f"| {name} | {n / 1e6:.2f}M | {tps[name]:,.0f} | {ratio:.2f} |" + target)
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--n-block", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--long-seq-len", type=int, default=4096, help="the long-context row (batch 1); 0 skips it")
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", nargs="+", default=SEEDS, help="seed designs to time (gpt2 is always included)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not update BENCHMARKS.md")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    models = {"plain": PlainLM(args.d_model, args.n_block, args.vocab)}
    for name in dict.fromkeys(["gpt2", *args.seeds]):
        tree = load_design(SEEDS_DIR / name)
        models[name] = GenesysLM.from_design(tree, d_model=args.d_model, n_block=args.n_block, vocab_size=args.vocab)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq_len))
    short = table(models, throughput(models, ids, args.repeats), args.vocab, args.d_model, targets=True)
    print(short)
    long = None
    if args.long_seq_len:
        long_ids = torch.randint(0, args.vocab, (1, args.long_seq_len))
        long = table(models, throughput(models, long_ids, args.repeats), args.vocab, args.d_model, targets=False)
        print(f"\nL {args.long_seq_len}, batch 1:\n{long}")
    if not args.no_write:
        write_section("Seeds: CPU training throughput", (
            f"`python bench/seeds.py` — forward+backward, d_model {args.d_model}, {args.n_block} blocks, "
            f"L {args.seq_len}, batch {args.batch}, vocab {args.vocab}, median of {args.repeats} interleaved rounds "
            f"({machine()}).\n\n{short}\n"
        ))
        if long:
            write_section("Seeds: long context", (
                f"`python bench/seeds.py` — the same models at L {args.long_seq_len}, batch 1 (attention's cost grows "
                f"with L², the linear-time seeds' with L), median of {args.repeats} interleaved rounds "
                f"({machine()}).\n\n{long}\n"
            ))


if __name__ == "__main__":
    main()
