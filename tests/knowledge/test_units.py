"""Unit retrieval: unit files are read with ast (never executed); in-memory units from the evolution tree."""
from __future__ import annotations

import os
import textwrap

import pytest

from genesys.knowledge import KnowledgeEngine, UnitRecord
from genesys.knowledge.units import default_unit_dirs, parse_unit_source, read_unit_file, scan_units

UNIT = '''
import torch
from genesys.gau import GAUBase, gau_test

open({marker!r}, "w").write("executed")   # must never run


class {cls}(GAUBase):
    """{doc}"""

    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, **Z):
        return X


SPEC = {{"unitname": "{cls}", "inputs": ["X"], "outputs": ["Y"], "document": "{document}"}}
DESC = "{desc}"
ARGS = {{}}
CHILDREN = {children}
'''

UNITS = {
    "RotaryAttention": ("Causal multi-head attention with rotary position embeddings on queries and keys.",
                        "Softmax attention, RoPE theta 1e4.", "Attention with rotary positions.", []),
    "SwiGluMLP": ("Gated feed-forward network: silu(W1 x) * (W3 x) projected back by W2.",
                  "SwiGLU MLP.", "Feed-forward with a SiLU-gated linear unit.", []),
    "SelectiveScan": ("Mamba-style selective state space mixer with input-dependent step size dt, B and C.",
                      "SSD scan in chunks.", "Selective SSM mixer.", ["CausalConv"]),
    "RMSNorm": ("Root mean square normalisation with a learned gain.", "RMSNorm.", "Normalisation.", []),
}


def _write_units(folder, marker):
    folder.mkdir(parents=True)
    for cls, (doc, document, desc, children) in UNITS.items():
        (folder / f"{cls}.py").write_text(UNIT.format(cls=cls, doc=doc, document=document, desc=desc,
                                                      children=children, marker=str(marker)))
    (folder / "helpers.py").write_text("X = 1\n")  # not a unit
    (folder / "broken.py").write_text("class Broken(GAUBase:\n")  # syntax error: skipped with a warning


@pytest.fixture()
def unit_tree(tmp_path):
    marker = tmp_path / "executed.txt"
    shared = tmp_path / "seeds" / "units"
    _write_units(shared, marker)
    design = tmp_path / "seeds" / "mydesign" / "units"
    design.mkdir(parents=True)
    os.symlink(shared / "RMSNorm.py", design / "RMSNorm.py")  # symlink into the shared library
    (design / "LocalGate.py").write_text(UNIT.format(
        cls="LocalGate", doc="Sigmoid output gate computed from the block input.", document="Output gate.",
        desc="Gate.", children=[], marker=str(marker)))
    return tmp_path, marker


def test_parse_reads_spec_desc_docstring_without_executing(unit_tree):
    root, marker = unit_tree
    rec = read_unit_file(root / "seeds" / "units" / "SelectiveScan.py")
    assert rec.name == "SelectiveScan" and rec.inputs == ("X",) and rec.outputs == ("Y",)
    assert rec.children == ("CausalConv",)
    assert "input-dependent step size" in rec.description and "SSD scan" in rec.description
    assert "Selective SSM mixer" in rec.description
    assert not marker.exists()
    assert parse_unit_source("x = 1\n") is None


def test_scan_dedupes_symlinks_and_skips_non_units(unit_tree, caplog):
    root, marker = unit_tree
    dirs = default_unit_dirs(root / "seeds")
    assert [d.relative_to(root).as_posix() for d in dirs] == ["seeds/units", "seeds/mydesign/units"]
    recs = scan_units(dirs)
    assert sorted(r.name for r in recs) == ["LocalGate", "RMSNorm", "RotaryAttention", "SelectiveScan", "SwiGluMLP"]
    assert next(r for r in recs if r.name == "LocalGate").design == "mydesign"
    assert "broken.py" in caplog.text
    assert not marker.exists()


def test_search_units_by_description(unit_tree, tmp_path):
    root, marker = unit_tree
    eng = KnowledgeEngine({"unit_dirs": [str(d) for d in default_unit_dirs(root / "seeds")],
                           "cache_dir": str(tmp_path / "cache")})
    cases = {"state space model scan with input dependent step": "SelectiveScan",
             "gated feed forward network": "SwiGluMLP",
             "attention with rotary position embedding": "RotaryAttention",
             "normalize activations by their root mean square": "RMSNorm"}
    for query, want in cases.items():
        assert eng.search_units(query, k=1)[0][0].name == want, query
    assert "SwiGluMLP" not in [u.name for u, _ in eng.search_units("gated feed forward", k=3,
                                                                    exclude=["SwiGluMLP"])]
    results = eng.search("rotary attention", k=2, sources="units")
    assert results[0].source == "units" and results[0].id == "RotaryAttention"
    assert results[0].url.endswith("RotaryAttention.py")
    assert not marker.exists()


def test_in_memory_units_from_the_tree(unit_tree, engine):
    root, _ = unit_tree
    # the session cache already holds the library index, so mixing in library results costs no build
    eng = KnowledgeEngine({"unit_dirs": [str(root / "seeds" / "units")], "cache_dir": str(engine.cache_root)})
    assert eng.search_units("gated feed forward", k=1)[0][0].name == "SwiGluMLP"
    added = eng.add_units([
        {"name": "DeltaRuleMixer", "description": "Fast-weight memory updated with the delta rule: "
                                                  "overwrite the value stored for each key.",
         "code": "class DeltaRuleMixer(GAUBase): ...", "design": "node-17"},
        UnitRecord(name="DeltaRuleMixer", description="dup", code="class DeltaRuleMixer(GAUBase): ...",
                   source="tree")])
    assert added == 1  # same name and code: one unit
    unit, _ = eng.search_units("delta rule memory that overwrites values", k=1)[0]
    assert unit.name == "DeltaRuleMixer" and unit.source == "tree" and unit.design == "node-17"
    mixed = eng.search("delta rule", k=4, sources=["library", "units"])
    assert {"library", "units"} <= {r.source for r in mixed}


def test_default_unit_dirs_on_the_repository_do_not_execute_anything():
    # seeds/ is written by other parts; whatever is there must parse statically without errors escaping
    recs = scan_units(default_unit_dirs())
    assert all(isinstance(r, UnitRecord) and r.name for r in recs)
