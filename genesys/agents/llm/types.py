"""The contract between the LLM client and the flows that use it (proposal, implementation): what a call returns
and how it fails. The flows depend on this file only, never on litellm."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Type

from pydantic import BaseModel

Message = Dict[str, str]            # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass
class Reply:
    """One answer of one agent role. Token counts and cost are measured (from the provider's usage and litellm's
    price map) or None when the provider did not say; a cached reply reports what the original call measured."""
    role: str                       # the agent role asked: proposer, reviewer, planner, coder, observer, ...
    model: str                      # the litellm model string that answered
    text: str                       # the raw answer
    parsed: Optional[BaseModel] = None       # the answer validated against the schema asked for (None: no schema)
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    cost_usd: Optional[float] = None
    latency_s: float = 0.0
    cached: bool = False            # replayed from the response cache: no model was called
    calls: int = 1                  # model calls this reply took (retries and repair prompts included; 0 if cached)
    history: List[Message] = field(default_factory=list)   # messages sent (after repair turns), for traces


class LLMError(RuntimeError):
    """A call could not produce an answer (after its retries)."""


class LLMUnavailable(LLMError):
    """No provider is configured for a role: the message names the key or `api_base` to set."""


class LLMTimeout(LLMError):
    """The hard wall-clock limit of a call fired."""


class MalformedAnswer(LLMError):
    """The answer did not validate against the schema, even after the repair prompts."""


class CostCapReached(LLMError):
    """The session's or the run's cost cap is spent: no further call is made."""


class Chat(Protocol):
    """What the flows call. `schema`: a pydantic model the answer must validate against (JSON in the answer,
    repaired by follow-up prompts when malformed). `stage` labels the call in the ledger and traces."""

    def ask(self, role: str, messages: List[Message], schema: Optional[Type[BaseModel]] = None, *,
            stage: str = "") -> Reply: ...

    @property
    def spent_usd(self) -> float: ...        # measured cost of this client's calls so far (cached replies: 0)


def as_dict(reply: Reply) -> Dict[str, Any]:
    """A reply as a plain record (for traces and the ledger)."""
    return {"role": reply.role, "model": reply.model, "text": reply.text,
            "parsed": reply.parsed.model_dump() if reply.parsed is not None else None,
            "prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "cost_usd": reply.cost_usd, "latency_s": reply.latency_s, "cached": reply.cached, "calls": reply.calls}
