"""The agents' model settings (conf/agents/*.yaml, one source of the defaults): a model per role, several drawn by
weight or by a bandit, and the limits every call lives under."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Mapping, Optional

ROLES = ("proposer", "reviewer", "planner", "coder", "observer")
MODEL_KEYS = ("model", "weight", "api_base", "api_key_env", "temperature", "max_tokens", "input_cost_per_token",
              "output_cost_per_token")

@dataclass(frozen=True)
class ModelChoice:
    model: str                                  # a litellm model string: openai/gpt-4o-mini, anthropic/..., ollama/...
    weight: float = 1.0
    api_base: Optional[str] = None              # an OpenAI-compatible server (vLLM, Ollama, llama.cpp, ...)
    api_key_env: Optional[str] = None           # the env var holding its key (None: litellm's default for the provider)
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    input_cost_per_token: Optional[float] = None    # USD; set both for a model litellm has no price for (0 for local)
    output_cost_per_token: Optional[float] = None

    @property
    def api_key(self) -> Optional[str]:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

@dataclass(frozen=True)
class AgentsConfig:
    roles: Dict[str, List[ModelChoice]]         # every role of ROLES (and any other asked for falls back to default)
    default: List[ModelChoice]
    routing: str = "weighted"                   # weighted | bandit
    timeout_s: float = 300.0                    # hard wall-clock limit per call, retries included
    retries: int = 5
    backoff_s: float = 2.0
    backoff_max_s: float = 60.0
    max_repairs: int = 2
    session_cap_usd: Optional[float] = 2.0
    run_cap_usd: Optional[float] = None
    cache: bool = True

    def models(self, role: str) -> List[ModelChoice]:
        return self.roles.get(role) or self.default

    def all_models(self) -> List[ModelChoice]:
        seen, out = set(), []
        for choice in self.default + [c for cs in self.roles.values() for c in cs]:
            if choice not in seen:
                seen.add(choice)
                out.append(choice)
        return out

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "AgentsConfig":
        """`model`, `api_base` ... at the top are every role's defaults; `roles.<role>` overrides them, and a
        `models: [...]` list (at the top or in a role) gives several models drawn by `weight`."""
        cfg = dict(cfg or {})
        base = {k: cfg.get(k) for k in MODEL_KEYS if cfg.get(k) is not None}

        def choices(node: Mapping[str, Any], inherited: Dict[str, Any]) -> List[ModelChoice]:
            merged = {**inherited, **{k: node[k] for k in MODEL_KEYS if node.get(k) is not None}}
            entries = node.get("models") or [{}]
            out = [ModelChoice(**{**merged, **{k: e[k] for k in MODEL_KEYS if e.get(k) is not None}}) for e in entries]
            for c in out:
                if not c.model:
                    raise ValueError("an agents entry has no `model`")
            return out

        default = choices(cfg, {})
        roles = {role: choices(node or {}, base) for role, node in (cfg.get("roles") or {}).items()}
        limits = {f.name: cfg[f.name] for f in fields(cls) if f.name not in ("roles", "default") and f.name in cfg
                  and cfg[f.name] is not None}
        if limits.get("routing", "weighted") not in ("weighted", "bandit"):
            raise ValueError(f"agents.routing must be weighted or bandit, not {limits['routing']!r}")
        return cls(roles=roles, default=default, **limits)

