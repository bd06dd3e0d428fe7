"""A scripted "model" that answers the agents' real prompts by their role marker, deterministically: a good model
(proposals naming a real unit of the parent, units that pass the checker) and defects on demand. Every design it
writes replaces the selected unit with a three-unit subtree (the unit, a norm and a gated MLP), so a session always
implements three units one by one.

Ideas rotate by a hash of the prompt, so proposals differ in words and code (the novelty filter and the structural
hash see different designs)."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Callable, Dict, List, Optional

MARKER = re.compile(r"\[genesys:role=(\w+) mode=(\w+) v=(\d+)\]")

IDEAS = [
    ("GeluGate", "F.gelu(gate) * up", "a GELU-gated pointwise MLP whose gate is smoother than SiLU near zero"),
    ("SquaredRelu", "torch.relu(gate) ** 2 * up", "a squared-ReLU gated MLP, sparse activations as in Primer"),
    ("TanhGate", "torch.tanh(gate) * up", "a tanh-gated MLP that keeps the gate bounded in both directions"),
    ("SigmoidGate", "torch.sigmoid(gate) * up", "a GLU-style sigmoid gate over a linear up projection"),
    ("MishGate", "F.mish(gate) * up", "a Mish-gated MLP, self-regularised non-monotone gating"),
    ("SiluSquare", "F.silu(gate) * up * torch.sigmoid(up)", "a doubly gated MLP where the up path gates itself"),
]

HEADER = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\nfrom genesys.gau import GAUBase, UnitDecl\n\n\n"


def composite_unit(name: str, norm: str, core: str, defect: Optional[str] = None) -> str:
    call = (f"        self.core = {core}(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,\n"
            f"                         **self.factory_kwargs, **self.kwarg_all)\n")
    if defect == "wrong_child_call":
        call = f"        self.core = {core}(self.embed_dim)\n"
    colon = "" if defect == "syntax" else ":"
    out = "H" if defect != "shape" else "H[..., :-1]"
    return (HEADER + f"class {name}(GAUBase):\n"
            f'    """Normalise, then a gated pointwise MLP ({core}); the caller adds the residual."""\n\n'
            "    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):\n"
            '        self.factory_kwargs = {"device": device, "dtype": dtype}\n'
            "        super().__init__(embed_dim, block_loc, kwarg_all)\n"
            f"        self.norm = {norm}(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,\n"
            "                           **self.factory_kwargs, **self.kwarg_all)\n" + call + "\n"
            f"    def _forward(self, X, **Z){colon}\n"
            "        H, Z = self.norm(X, **Z)\n"
            "        H, Z = self.core(H, **Z)\n"
            f"        return {out}, Z\n\n\n"
            f"CHILDREN_DECLARATIONS = [\n"
            f"    UnitDecl(unitname='{norm}', requirements='RMS normalisation', inputs=['X'], outputs=['Y']),\n"
            f"    UnitDecl(unitname='{core}', requirements='gated pointwise MLP', inputs=['X'], outputs=['Y']),\n]\n"
            f"SPEC = {{'unitname': '{name}', 'inputs': ['X'], 'outputs': ['Y'], 'document': 'norm then gated MLP'}}\n"
            f"ARGS = {{}}\nCHILDREN = ['{norm}', '{core}']\nDESC = 'norm + gated MLP'\n")


def norm_unit(name: str, defect: Optional[str] = None) -> str:
    leak = "        X = X + 0.1 * X.flip(1)\n" if defect == "causality" else ""
    return (HEADER + f"class {name}(GAUBase):\n"
            '    """RMSNorm with a learned scale."""\n\n'
            "    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):\n"
            '        self.factory_kwargs = {"device": device, "dtype": dtype}\n'
            "        super().__init__(embed_dim, block_loc, kwarg_all)\n"
            "        self.weight = nn.Parameter(torch.ones(embed_dim, **self.factory_kwargs))\n\n"
            "    def _forward(self, X, **Z):\n" + leak +
            "        return X * torch.rsqrt(X.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight\n\n\n"
            f"CHILDREN_DECLARATIONS = []\nSPEC = {{'unitname': '{name}', 'inputs': ['X'], 'outputs': ['Y'], "
            f"'document': 'RMSNorm'}}\nARGS = {{}}\nCHILDREN = []\nDESC = 'RMSNorm'\n")


def mlp_unit(name: str, activation: str, ratio: float, defect: Optional[str] = None) -> str:
    arg = f"{name.lower()}_ratio"
    out = "self.out_proj(" + activation + ")" + ("[..., :-1]" if defect == "shape" else "")
    return (HEADER + f"class {name}(GAUBase):\n"
            f'    """Gated pointwise MLP: {activation}."""\n\n'
            "    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,\n"
            f"                 {arg}: float = {ratio}, **kwargs):\n"
            '        self.factory_kwargs = {"device": device, "dtype": dtype}\n'
            "        super().__init__(embed_dim, block_loc, kwarg_all)\n"
            f"        hidden = max(8, int({arg} * embed_dim))\n"
            "        self.fc_in = nn.Linear(embed_dim, 2 * hidden, bias=False, **self.factory_kwargs)\n"
            "        self.out_proj = nn.Linear(hidden, embed_dim, bias=False, **self.factory_kwargs)\n\n"
            "    def _forward(self, X, **Z):\n"
            "        gate, up = self.fc_in(X).chunk(2, dim=-1)\n"
            f"        return {out}\n\n\n"
            f"CHILDREN_DECLARATIONS = []\nSPEC = {{'unitname': '{name}', 'inputs': ['X'], 'outputs': ['Y'], "
            f"'document': 'gated MLP'}}\nARGS = {{'{arg}': {ratio}}}\nCHILDREN = []\nDESC = 'gated MLP'\n")


APPLICABLE = {"composite": ("syntax", "shape", "wrong_child_call"), "norm": ("causality",), "core": ("shape",)}


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _json(obj) -> str:
    return "```json\n" + json.dumps(obj) + "\n```"


def _between(text: str, start: str, end: str = "\n") -> str:
    i = text.find(start)
    if i < 0:
        return ""
    j = text.find(end, i + len(start))
    return text[i + len(start): j if j >= 0 else None]


class Policy:
    """`defects`: for each unit's first attempt, one of syntax | shape | causality | wrong_child_call (cycled),
    fixed in the debug turn. `rating`: the reviewer's and observer's rating."""

    def __init__(self, defects: Optional[List[str]] = None, review_rating: int = 4, observer_rating: int = 4,
                 wrong_unit_first: bool = False):
        self.defects, self.review_rating, self.observer_rating = defects or [], review_rating, observer_rating
        self.wrong_unit_first = wrong_unit_first

    def __call__(self, body: dict) -> str:
        messages = body["messages"]
        match = MARKER.search(messages[0]["content"])
        role, mode = (match.group(1), match.group(2)) if match else ("unknown", "")
        user = messages[-1]["content"]
        first_user = messages[1]["content"] if len(messages) > 1 else user
        return getattr(self, role, self.unknown)(mode, first_user, user, messages)

    def unknown(self, mode, first, user, messages) -> str:
        return "I do not know this prompt."

    def proposer(self, mode, first, user, messages) -> str:
        if "Search round" in first:
            return _json({"ready": True}) if "Results of your last" in first else _json(
                {"keywords": ["gated", "MLP"], "description": "gated feed-forward layers", "ready": False})
        idea = IDEAS[_digest(first) % len(IDEAS)]
        units = [u.strip() for u in _between(first, "must be one of: ", ").").split(",") if u.strip()] or \
            [u.strip() for u in _between(first, "(one of: ", ").").split(",") if u.strip()]
        preferred = [u for u in units if re.search(r"GLU|MLP|Mix|FFN", u)]
        selected = (preferred or units or ["Block"])[-1] if mode != "scratch" else "NewBlock"
        if self.wrong_unit_first and "is not a unit of" not in first:
            selected = "NoSuchUnit"
        return _json({"name": f"{idea[0]}{_digest(first) % 1000}", "selected_unit": selected,
                      "abstract": f"Replace {selected} by {idea[2]}.",
                      "proposal": f"We replace {selected} with a normalised {idea[2]}. It is pointwise, so causal."})

    def reviewer(self, mode, first, user, messages) -> str:
        return _json({"rating": self.review_rating, "review": "clear and feasible", "suggestions": ""})

    def observer(self, mode, first, user, messages) -> str:
        return _json({"rating": self.observer_rating, "review": "matches the proposal", "suggestions": ""})

    def planner(self, mode, first, user, messages) -> str:
        todo = [u.strip() for u in _between(first, "Units still to write: ").split(",") if u.strip()]
        return _json({"next_unit": todo[0] if todo else "", "reuse_from": None, "notes": ""})

    def _idea(self, text: str):
        for name, activation, words in IDEAS:
            if words in text:
                return name, activation
        return IDEAS[0][0], IDEAS[0][1]

    def coder(self, mode, first, user, messages) -> str:
        unit = _between(first, "Write the unit `", "`")
        debug = "Your previous version failed" in first
        kind = "norm" if unit.endswith("Norm") else "core" if unit.endswith("Core") else "composite"
        usable = [d for d in self.defects if d in APPLICABLE[kind]]
        defect = usable[_digest(unit) % len(usable)] if usable and not debug else None
        name, activation = self._idea(first)
        ratio = 1.0 + (_digest(first) % 4) * 0.25
        if "Write every unit" in first:           # whole tree / direct: the three units in one answer
            unit = _between(first, "Units to write: ", ".").split(",")[0].strip()
            return self._blocks([composite_unit(unit, f"{name}Norm", f"{name}Core"), norm_unit(f"{name}Norm"),
                                 mlp_unit(f"{name}Core", activation, ratio)])
        if unit.endswith("Norm"):
            code = norm_unit(unit, defect)
        elif unit.endswith("Core"):
            code = mlp_unit(unit, activation, ratio, defect)
        else:
            code = composite_unit(unit, f"{name}Norm", f"{name}Core", defect)
        return self._blocks([code])

    @staticmethod
    def _blocks(codes: List[str]) -> str:
        return "Here is the unit.\n\n" + "\n\n".join(f"```python\n{c}```" for c in codes)


POLICIES: Dict[str, Callable[[], Policy]] = {
    "good": Policy,
    "flawed": lambda: Policy(defects=["syntax", "shape", "causality", "wrong_child_call"]),
    "harsh": lambda: Policy(review_rating=2),
}
