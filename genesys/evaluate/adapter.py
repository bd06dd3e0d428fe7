"""lm-eval adapter: any lm-eval task can score a GenesysLM (`lm_eval --model genesys ...` or `simple_evaluate`).

Scoring is windowed: a request longer than the context is split into windows of at most `max_length` inputs
that each score a disjoint slice of the target tokens, so nothing is silently truncated. lm-eval's
`TemplateLM` moves a context's trailing spaces onto the continuation ("Q:" + " A" rather than "Q: " + "A"),
so continuations are scored with the word-boundary token the model saw in training.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

import torch
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import register_model
from lm_eval.models.utils import handle_stop_sequences

from genesys.gau.lm import GenesysLM

def score_windows(tokens: Sequence[int], n_target: int, max_length: int) -> List[Tuple[List[int], List[int]]]:
    """Split "score the last n_target of `tokens` given everything before" into model-sized windows.

    Returns (inputs, targets) pairs: `inputs` has at most max_length tokens, and its last len(targets)
    positions predict `targets`. Target slices are disjoint, cover the n_target tokens in order, and each
    window is filled with as much preceding context as fits.
    """
    if not 0 <= n_target < len(tokens):
        raise ValueError(f"need 0 <= n_target ({n_target}) < len(tokens) ({len(tokens)}): the first token "
                         "has nothing to condition on, prepend a prefix token")
    out = []
    start = len(tokens) - n_target
    while start < len(tokens):
        end = min(len(tokens), start + max_length)
        inputs = list(tokens[max(0, end - 1 - max_length):end - 1])
        out.append((inputs, list(tokens[start:end])))
        start = end
    return out


@register_model("genesys")
class GenesysEvalLM(TemplateLM):
    """A GenesysLM plus a `transformers` fast tokenizer, seen by lm-eval as a causal LM.

    Build it from objects (`GenesysEvalLM(model=lm, tokenizer=tok)`), or from strings on the lm-eval
    command line: `--model genesys --model_args design=seeds/gpt2,tokenizer=tok_dir,weights=model.pt,...`.
    """

    def __init__(self, model: Optional[GenesysLM] = None, tokenizer=None, max_length: int = 512,
                 batch_size: int = 16, device: str = "cpu", max_gen_toks: int = 64, design: Optional[str] = None,
                 weights: Optional[str] = None, d_model: int = 128, n_block: int = 2,
                 vocab_size: Optional[int] = None, **_ignored):
        super().__init__()
        if isinstance(tokenizer, str):
            from transformers import PreTrainedTokenizerFast
            tokenizer = PreTrainedTokenizerFast.from_pretrained(tokenizer)
        if tokenizer is None:
            raise ValueError("genesys adapter needs a tokenizer (object or path)")
        if model is None:
            model = _model_from_args(design, weights, int(d_model), int(n_block),
                                      int(vocab_size or len(tokenizer)))
        self.tokenizer = tokenizer
        self.model = model.to(device).eval()
        self._device = torch.device(device)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.max_gen_toks = int(max_gen_toks)

    # --- tokenizer side -------------------------------------------------------------------------------
    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def device(self):
        return self._device

    def tok_encode(self, string: str, add_special_tokens: Optional[bool] = None, **kwargs) -> List[int]:
        return self.tokenizer.encode(string, add_special_tokens=False)

    def tok_decode(self, tokens: Iterable[int]) -> str:
        return self.tokenizer.decode(list(tokens))

    # --- scoring --------------------------------------------------------------------------------------
    @torch.no_grad()
    def _score(self, windows: List[Tuple[List[int], List[int]]]) -> List[Tuple[float, bool]]:
        """(sum log p(targets), all greedy) per window; batched longest-first, right-padded (causal models)."""
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i][0]))
        results: List[Tuple[float, bool]] = [(0.0, True)] * len(windows)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            batch = torch.zeros(len(idx), len(windows[idx[0]][0]), dtype=torch.long)
            rows, cols, targets = [], [], []
            for row, i in enumerate(idx):
                inputs, tgt = windows[i]
                batch[row, :len(inputs)] = torch.tensor(inputs)
                rows += [row] * len(tgt)
                cols += range(len(inputs) - len(tgt), len(inputs))
                targets += tgt
            hidden = self.model.hidden(batch.to(self.device))[rows, cols]   # the scored positions only
            logits = self.model.lm_head(hidden).float()                   # (n scored tokens, vocab)
            tgt = torch.tensor(targets, device=logits.device)
            token_lp = logits.gather(-1, tgt[:, None])[:, 0] - torch.logsumexp(logits, -1)
            token_greedy = logits.argmax(-1) == tgt
            sizes = [len(windows[i][1]) for i in idx]
            for i, lp, greedy in zip(idx, token_lp.split(sizes), token_greedy.split(sizes)):
                results[i] = (lp.sum().item(), bool(greedy.all()))
        return results

    def _score_requests(self, token_requests: List[Tuple[List[int], int]]) -> List[Tuple[float, bool]]:
        """Score (tokens, n_target) requests of any length: split into windows, score, sum per request."""
        windows, owner = [], []
        for r, (tokens, n_target) in enumerate(token_requests):
            for w in score_windows(tokens, n_target, self.max_length):
                windows.append(w)
                owner.append(r)
        totals = [[0.0, True] for _ in token_requests]
        for r, (ll, greedy) in zip(owner, self._score(windows)):
            totals[r][0] += ll
            totals[r][1] = totals[r][1] and greedy
        return [(ll, greedy) for ll, greedy in totals]

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs) -> List[Tuple[float, bool]]:
        results = self._score_requests([(ctx + cont, len(cont)) for _, ctx, cont in requests])
        for (key, _, _), res in zip(requests, results):
            self.cache_hook.add_partial("loglikelihood", key, res)
        return results

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> List[float]:
        """Full-text log-likelihood; the first token is conditioned on the EOS prefix, as in training."""
        token_lists = [self.tok_encode(req.args[0]) for req in requests]
        scored = self._score_requests([([self.prefix_token_id] + t, len(t)) for t in token_lists if t])
        it = iter(scored)
        results = [next(it)[0] if t else 0.0 for t in token_lists]
        for req, res in zip(requests, results):
            self.cache_hook.add_partial("loglikelihood_rolling", (req.args[0],), res)
        return results

    # --- generation -----------------------------------------------------------------------------------
    @torch.no_grad()
    def generate_until(self, requests, disable_tqdm: bool = False) -> List[str]:
        """Greedy decoding, batched; recomputes the window each step (the LM has no cache API)."""
        eos = self.tokenizer.eos_token
        jobs = []
        for req in requests:
            context, kwargs = req.args
            kwargs = dict(kwargs or {})
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
            max_new = int(kwargs.pop("max_gen_toks", kwargs.pop("max_new_tokens", self.max_gen_toks)))
            ids = self.tok_encode(context) or [self.prefix_token_id]
            jobs.append((ids, until, max_new))
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0]))
        outputs = [""] * len(jobs)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            texts = self._greedy([jobs[i] for i in idx])
            for i, text in zip(idx, texts):
                outputs[i] = text
                self.cache_hook.add_partial("generate_until", requests[i].args, text)
        return outputs

    def _greedy(self, jobs) -> List[str]:
        seqs = [list(ids) for ids, _, _ in jobs]
        new = [[] for _ in jobs]
        done = [max_new <= 0 for _, _, max_new in jobs]
        while not all(done):
            live = [i for i, d in enumerate(done) if not d]
            windows = [seqs[i][-self.max_length:] for i in live]
            width = max(len(w) for w in windows)
            batch = torch.zeros(len(live), width, dtype=torch.long)
            for row, w in enumerate(windows):
                batch[row, :len(w)] = torch.tensor(w)
            logits = self.model(batch.to(self.device))
            last = torch.tensor([len(w) - 1 for w in windows], device=logits.device)
            next_ids = logits[torch.arange(len(live), device=logits.device), last].argmax(-1).tolist()
            for i, tok in zip(live, next_ids):
                seqs[i].append(tok)
                new[i].append(tok)
                text = self.tok_decode(new[i])
                until, max_new = jobs[i][1], jobs[i][2]
                if len(new[i]) >= max_new or tok == self.eot_token_id or any(s and s in text for s in until):
                    done[i] = True
        return [_cut(self.tok_decode(n), jobs[i][1]) for i, n in enumerate(new)]


def _cut(text: str, until: List[str]) -> str:
    """Text up to the first stop sequence."""
    for stop in until:
        if stop:
            text = text.split(stop)[0]
    return text


def _model_from_args(design, weights, d_model, n_block, vocab_size) -> GenesysLM:
    """Command-line construction: a design folder, its shape, and optionally a state-dict file."""
    if design is None:
        raise ValueError("genesys adapter needs model= (object) or design= (path to a design folder)")
    from genesys.gau import load_design
    lm = GenesysLM.from_design(load_design(design), d_model=d_model, n_block=n_block, vocab_size=vocab_size)
    if weights:
        lm.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return lm
