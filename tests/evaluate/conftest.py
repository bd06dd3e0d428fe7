"""Shared fixtures: a tiny byte-level BPE tokenizer and held-out documents made from standard-library sources."""
import sysconfig
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from genesys.gau import GenesysLM, load_design
from genesys.paths import SEEDS_DIR

STDLIB = Path(sysconfig.get_paths()["stdlib"])
DESIGNS = Path(__file__).parent / "designs"


def stdlib_docs(names):
    return [(STDLIB / name).read_text(encoding="utf-8") for name in names]


@pytest.fixture(scope="session")
def corpus():
    """Training text for the tokenizer and held-out documents (different files) for the tasks."""
    train = stdlib_docs(["textwrap.py", "bisect.py", "colorsys.py", "shlex.py"])
    heldout = stdlib_docs(["fnmatch.py", "glob.py", "keyword.py", "linecache.py", "netrc.py", "sched.py",
                           "stat.py", "this.py", "tabnanny.py", "queue.py", "cmd.py", "code.py"])
    return train, heldout


@pytest.fixture(scope="session")
def tokenizer(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus[0], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")


@pytest.fixture(scope="session")
def gpt2_lm(tokenizer):
    torch.manual_seed(0)
    return GenesysLM.from_design(load_design(SEEDS_DIR / "gpt2"), d_model=64, n_block=2,
                                 vocab_size=len(tokenizer)).eval()
