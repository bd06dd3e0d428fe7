"""The design representation: units (GAUs), blocks (GABs), the GAU tree, composition and the LM wrapper."""
from genesys.gau.base import GABBase, GAUBase, UnitDecl, UnitSpec, gau_test
from genesys.gau.build import build_block, load_module
from genesys.gau.compose import compose
from genesys.gau.design_io import DesignLoadError, load_design, parse_unit_source, render_unit_source, save_design
from genesys.gau.lm import GenesysLM, LMOutput
from genesys.gau.tree import GAUNode, GAUTree, TreeError
from genesys.gau.unit_tests import run_gau_tests
from genesys.gau.weight_decay import param_groups, split_by_decay

__all__ = [
    "GAUBase", "GABBase", "gau_test", "UnitDecl", "UnitSpec", "GAUNode", "GAUTree", "TreeError",
    "DesignLoadError", "load_design", "save_design", "parse_unit_source", "render_unit_source",
    "compose", "load_module", "build_block", "GenesysLM", "LMOutput", "run_gau_tests", "param_groups",
    "split_by_decay",
]
