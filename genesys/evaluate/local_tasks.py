"""Offline lm-eval tasks built from held-out documents: YAML + JSONL with absolute paths, byte-for-byte
deterministic for a given (documents, seed, sizes).

- genesys_heldout:    bits per byte of whole documents (loglikelihood_rolling).
- genesys_next_line:  which of k lines really comes next? Distractors are lines of *other* documents with
                      the same token count, so the answer needs the file's content, not surface statistics.
- genesys_identifier: complete a line with an identifier that appeared earlier in the context, against
                      identifiers of other documents with the same token count (in-context recall on real code).

Every task carries its random baseline (in its YAML metadata and in `tasks.json`): 1/k for multiple choice,
and for bits per byte the score of a model that is uniform over the tokenizer's vocabulary.
"""
from __future__ import annotations

import builtins
import json
import keyword
import math
import random
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import yaml

IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
COMMON = set(keyword.kwlist) | set(dir(builtins)) | {"self", "args", "kwargs", "None", "True", "False"}


@dataclass(frozen=True)
class LocalTaskSettings:
    n_examples: int = 200       # per multiple-choice task
    n_choices: int = 4
    context_lines: int = 12     # lines of context before the line to complete
    n_docs: int = 40            # documents scored for bits per byte
    max_doc_chars: int = 4000   # documents are cut (at a line end) to keep rolling evaluation cheap
    seed: int = 0


# --- example generators (pure) ------------------------------------------------------------------------
def _by_length(strings, n_tokens: Callable[[List[str]], List[int]], prefix: str = "") -> tuple:
    """The pool for _pick_similar: distinct strings ordered by the token count of prefix + string."""
    strings = sorted(set(strings))
    pool = sorted(zip(n_tokens([prefix + x for x in strings]), strings))
    return [x for _, x in pool], [n for n, _ in pool]


def _pick_similar(rng: random.Random, pool: tuple, n: int, k: int, exclude: set) -> Optional[List[str]]:
    """k distinct strings of `pool` with exactly n tokens, none in `exclude`.

    Equal token counts make every choice equally likely under an untrained (uniform) model, so its accuracy
    is the random baseline rather than a length bias.
    """
    strings, lengths = pool
    cands = [x for x in strings[bisect_left(lengths, n):bisect_right(lengths, n)] if x not in exclude]
    if len(cands) < k:
        return None
    return rng.sample(cands, k)


def _as_choice(rng: random.Random, answer: str, distractors: List[str]) -> tuple:
    label = rng.randrange(len(distractors) + 1)
    choices = list(distractors)
    choices.insert(label, answer)
    return choices, label


def next_line_examples(documents: Sequence[str], s: LocalTaskSettings, n_tokens: Callable) -> List[dict]:
    rng = random.Random(f"next_line:{s.seed}")
    lines = [d.splitlines() for d in documents]
    candidates = [(d, i) for d, ls in enumerate(lines) for i in range(3, len(ls))
                  if len(ls[i].strip()) >= 8 and sum(1 for x in ls[max(0, i - s.context_lines):i] if x.strip()) >= 3]
    # after the context's final newline, a line's indentation merges with it: count tokens as scored
    pool = _by_length((x for ls in lines for x in ls if len(x.strip()) >= 8), n_tokens, "\n")
    examples = []
    for d, i in sorted(rng.sample(candidates, min(len(candidates), 4 * s.n_examples))):
        if len(examples) == s.n_examples:
            break
        answer = lines[d][i]
        distractors = _pick_similar(rng, pool, n_tokens(["\n" + answer])[0], s.n_choices - 1,
                                    exclude=set(lines[d]))
        if distractors is None:
            continue
        choices, label = _as_choice(rng, answer, distractors)
        context = "\n".join(lines[d][max(0, i - s.context_lines):i]) + "\n"
        examples.append({"context": context, "choices": choices, "label": label})
    return examples


def identifier_examples(documents: Sequence[str], s: LocalTaskSettings, n_tokens: Callable) -> List[dict]:
    rng = random.Random(f"identifier:{s.seed}")
    lines = [d.splitlines() for d in documents]
    idents = [set(IDENT.findall(d)) - COMMON for d in documents]
    candidates = []
    for d, ls in enumerate(lines):
        for i in range(3, len(ls)):
            before = "\n".join(ls[max(0, i - s.context_lines):i])
            for m in IDENT.finditer(ls[i]):
                if m.group() not in COMMON and m.start() > 0 and re.search(rf"\b{m.group()}\b", before):
                    candidates.append((d, i, m.start(), m.group()))
                    break  # one per line
    # lm-eval moves a context's trailing space onto the continuation: count tokens the way they are scored
    pools = {p: _by_length(set().union(*idents), n_tokens, p) for p in ("", " ")}
    examples = []
    for d, i, col, answer in sorted(rng.sample(candidates, min(len(candidates), 4 * s.n_examples))):
        if len(examples) == s.n_examples:
            break
        context = "\n".join(lines[d][max(0, i - s.context_lines):i]) + "\n" + lines[d][i][:col]
        prefix = " " if context.endswith(" ") else ""
        distractors = _pick_similar(rng, pools[prefix], n_tokens([prefix + answer])[0], s.n_choices - 1,
                                    exclude=idents[d])
        if distractors is None:
            continue
        choices, label = _as_choice(rng, answer, distractors)
        examples.append({"context": context, "choices": choices, "label": label})
    return examples


def heldout_documents(documents: Sequence[str], s: LocalTaskSettings) -> List[dict]:
    rng = random.Random(f"heldout:{s.seed}")
    chosen = sorted(rng.sample(range(len(documents)), min(len(documents), s.n_docs)))
    docs = []
    for d in chosen:
        text = documents[d]
        if len(text) > s.max_doc_chars:
            text = text[:text.rfind("\n", 0, s.max_doc_chars) + 1] or text[:s.max_doc_chars]
        if text.strip():
            docs.append({"text": text})
    return docs


def uniform_bits_per_byte(docs: Sequence[dict], tokenizer) -> float:
    """Bits per byte of a model that is uniform over the vocabulary (what an untrained model scores)."""
    n_tokens = sum(len(tokenizer.encode(d["text"], add_special_tokens=False)) for d in docs)
    n_bytes = sum(len(d["text"].encode("utf-8")) for d in docs)
    return n_tokens * math.log2(len(tokenizer)) / n_bytes


# --- lm-eval task files -------------------------------------------------------------------------------
def _mc_yaml(name: str, data: Path, baseline: float) -> dict:
    return {
        "task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "multiple_choice",
        "doc_to_text": "context", "doc_to_choice": "choices", "doc_to_target": "label", "target_delimiter": "",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0, "random_baseline": baseline},
    }


def _rolling_yaml(name: str, data: Path, baseline: float) -> dict:
    return {
        "task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "loglikelihood_rolling",
        "doc_to_text": "", "doc_to_target": "{{text}}",
        "metric_list": [{"metric": m, "aggregation": agg, "higher_is_better": False} for m, agg in
                        (("word_perplexity", "weighted_perplexity"), ("byte_perplexity", "weighted_perplexity"),
                         ("bits_per_byte", "bits_per_byte"))],
        "metadata": {"version": 1.0, "random_baseline": baseline},
    }


def build_local_tasks(documents: Sequence[str], out_dir, tokenizer, settings: LocalTaskSettings = LocalTaskSettings()
                      ) -> Dict[str, dict]:
    """Write the tasks under out_dir (absolute paths inside the YAML) and return the manifest.

    Manifest: {task: {"metric", "higher_is_better", "random_baseline", "n"}} (also written to tasks.json).
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    held = heldout_documents(documents, settings)
    chance = 1.0 / settings.n_choices
    def n_tokens(strings: List[str]) -> List[int]:
        return [len(ids) for ids in tokenizer(list(strings), add_special_tokens=False)["input_ids"]]

    tasks = {
        "genesys_heldout": (held, _rolling_yaml, uniform_bits_per_byte(held, tokenizer), "bits_per_byte", False),
        "genesys_next_line": (next_line_examples(documents, settings, n_tokens), _mc_yaml, chance, "acc", True),
        "genesys_identifier": (identifier_examples(documents, settings, n_tokens), _mc_yaml, chance, "acc", True),
    }
    manifest = {}
    for name, (rows, make_yaml, baseline, metric, higher) in tasks.items():
        if not rows:
            raise ValueError(f"{name}: the held-out documents yield no examples")
        data = out / f"{name}.jsonl"
        data.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows),
                        encoding="utf-8")
        (out / f"{name}.yaml").write_text(yaml.safe_dump(make_yaml(name, data, round(baseline, 6)), sort_keys=False))
        manifest[name] = {"metric": metric, "higher_is_better": higher, "random_baseline": round(baseline, 6),
                          "n": len(rows)}
    (out / "tasks.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest
