"""Evaluation benchmarks: lm-eval throughput of the genesys adapter, and the proxy suite per design.

    python bench/eval.py adapter                      # requests/s on loglikelihood / rolling requests
    python bench/eval.py proxy seeds/gpt2 seeds/mamba2 ...   # suite wall + CPU time and per-task accuracy
    python bench/eval.py proxy --workers 2 --step-scale 1 --difficulty easy seeds/gpt2   # settings (see --help)
Prints one JSON object per measurement (numbers go to BENCHMARKS.md, never asserted as timings).
"""
from __future__ import annotations

import argparse
import json
import sys
import sysconfig
import time
from pathlib import Path

import torch


def _tokenizer(vocab_size: int = 2048):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = [p.read_text(encoding="utf-8") for p in sorted(stdlib.glob("[a-m]*.py"))]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    docs = [p.read_text(encoding="utf-8") for p in sorted(stdlib.glob("[n-z]*.py"))]
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>"), docs


def bench_adapter(n_requests: int = 400, context: int = 256) -> dict:
    """Adapter requests/s at the cpu_xs shape (d_model 64, 2 blocks, 2048-token BPE, context 256)."""
    from lm_eval.api.instance import Instance
    from genesys.evaluate.adapter import GenesysEvalLM
    from genesys.evaluate.local_tasks import LocalTaskSettings, next_line_examples
    from genesys.gau import GenesysLM, load_design
    tok, docs = _tokenizer()
    lm = GenesysLM.from_design(load_design("seeds/gpt2"), d_model=64, n_block=2, vocab_size=len(tok))
    n_tokens = lambda strings: [len(i) for i in tok(list(strings), add_special_tokens=False)["input_ids"]]
    examples = next_line_examples(docs[:60], LocalTaskSettings(n_examples=n_requests // 4), n_tokens)
    ll = [Instance("loglikelihood", {}, (e["context"], c), 0) for e in examples for c in e["choices"]]
    rolling = [Instance("loglikelihood_rolling", {}, (d[:4000],), 0) for d in docs[:40]]
    out = {"bench": "adapter", "threads": torch.get_num_threads()}
    for batch_size in (1, 16, 64):
        adapter = GenesysEvalLM(model=lm, tokenizer=tok, max_length=context, batch_size=batch_size)
        start = time.perf_counter()
        adapter.loglikelihood(ll, disable_tqdm=True)
        out[f"loglikelihood_req_per_s_bs{batch_size}"] = round(len(ll) / (time.perf_counter() - start), 1)
    start = time.perf_counter()
    adapter.loglikelihood_rolling(rolling)
    out["rolling_docs_per_s_bs64"] = round(len(rolling) / (time.perf_counter() - start), 2)
    return out


def bench_proxy(design: str, step_scale: float = 1.0, difficulty: str = "easy", workers="auto") -> dict:
    """One design through the whole suite at the defaults (TrainSettings, DEFAULT_STEPS: conf/eval/proxy.yaml).
    cpu_s counts this process only; with workers > 1 the training runs in the worker processes."""
    from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
    from genesys.gau import load_design
    wall, cpu = time.perf_counter(), time.process_time()
    table = run_proxy_suite(load_design(design), TrainSettings(), difficulty=difficulty, workers=workers,
                            step_scale=step_scale)
    return {"bench": "proxy", "design": design, "threads": torch.get_num_threads(), "workers": workers,
            "difficulty": difficulty, "task_seconds_sum": round(sum(v["seconds"] for v in table.values()), 1),
            "seconds": {k: round(v["seconds"], 1) for k, v in table.items()},
            "wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1),
            "accuracy": {k: round(v["accuracy"], 3) for k, v in table.items()},
            "random_baseline": {k: round(v["random_baseline"], 3) for k, v in table.items()}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["adapter", "proxy"])
    parser.add_argument("designs", nargs="*", help="design directories for `proxy` (run back to back, one process)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: small models gain nothing from more, and on shared CPUs "
                             "extra threads spin against other jobs)")
    parser.add_argument("--step-scale", type=float, default=1.0, help="multiplies every proxy task's steps")
    parser.add_argument("--workers", default="auto", help="proxy worker processes (auto: one per CPU core)")
    parser.add_argument("--difficulty", default="easy", choices=["easy", "medium", "hard"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.what == "adapter":
        print(json.dumps(bench_adapter()), flush=True)
    for design in args.designs if args.what == "proxy" else []:
        print(json.dumps(bench_proxy(design, args.step_scale, args.difficulty, args.workers)), flush=True)


if __name__ == "__main__":
    main()
