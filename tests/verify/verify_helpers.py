"""Shared helpers of the verification tests (a module, not conftest, so tests can import it by name)."""
from __future__ import annotations

import sysconfig
from pathlib import Path

from genesys.config import compose_config
STDLIB = Path(sysconfig.get_paths()["stdlib"])
CORPUS_FILES = ["json/decoder.py", "json/encoder.py", "json/scanner.py", "json/__init__.py", "csv.py",
                "textwrap.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py", "heapq.py", "queue.py",
                "sched.py", "string.py", "colorsys.py", "keyword.py", "numbers.py", "abc.py", "getopt.py",
                "base64.py", "difflib.py", "copy.py", "pprint.py", "reprlib.py"]

# A tiny scale: the GPT-2 seed at d=32, 2 blocks with a 320-token vocabulary has 35,008 parameters.
TINY_SCALE = ["scale.name=tiny", "scale.d_model=32", "scale.n_block=2", "scale.ref_params=35008",
              "scale.ref_vocab=320", "scale.context=64", "scale.batch_tokens=1024", "scale.d_step=16",
              "scale.lr=1e-2", "scale.token_multiplier=2"]



def data_overrides(corpus_dir: Path, vocab: int = 320) -> list:
    return ["data=files", f"data.files=[{corpus_dir}]", "data.validation_fraction=0.1",
            "data.test_fraction=0.1", f"data.tokenizer.vocab_size={vocab}", "data.num_proc=2"]


def compose_cfg(overrides: list):
    return compose_config("verify", overrides)
