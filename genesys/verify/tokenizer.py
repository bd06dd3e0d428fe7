"""Tokenizers for verification: a named Hugging Face tokenizer, or a byte-level BPE trained on the corpus.

Always a `transformers.PreTrainedTokenizerFast` with an EOS token, because packing puts EOS between
documents and the lm-eval adapter calls the HF tokenizer API.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

EOS = "<|endoftext|>"


def load_pretrained(name: str) -> PreTrainedTokenizerFast:
    """A tokenizer by hub name or local folder; the fast variant, with EOS (and PAD = EOS if it had none)."""
    tok = AutoTokenizer.from_pretrained(name, use_fast=True)
    if not isinstance(tok, PreTrainedTokenizerFast):
        raise TypeError(f"{name} has no fast tokenizer (got {type(tok).__name__})")
    if tok.eos_token is None:
        raise ValueError(f"tokenizer {name} has no EOS token; packing needs one between documents")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def train_bpe(texts: Iterable[str], vocab_size: int, length: Optional[int] = None) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE (GPT-2 style pre-tokenisation, every byte in the base alphabet, EOS special).

    Byte-level means every string round-trips exactly: decode(encode(s)) == s.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer, length=length)
    return wrap(tok)


def wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS,
                                   clean_up_tokenization_spaces=False)


def save(tok: PreTrainedTokenizerFast, folder: Path) -> None:
    tok.save_pretrained(str(folder))


def load_saved(folder: Path) -> PreTrainedTokenizerFast:
    """Reload a tokenizer written by `save` (works offline)."""
    tok = PreTrainedTokenizerFast.from_pretrained(str(folder))
    assert tok.eos_token is not None
    return tok
