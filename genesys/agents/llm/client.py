"""The LLM client on litellm (implements types.Chat): a model per role, our own retry loop with backoff, a hard
wall-clock limit per call that always fires, answers validated against pydantic schemas with repair prompts, a
response cache keyed by the exact request, a ledger row per call and cost caps.

Each model call runs in a daemon thread that we wait on with a deadline: a server that stalls after sending its
headers cannot hold a designer past `timeout_s` (the thread is abandoned; litellm's own timeout ends it later).
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from typing import Any, Dict, List, Optional, Type

from pydantic import BaseModel

from genesys.agents.llm import routing
from genesys.agents.llm.config import AgentsConfig, ModelChoice
from genesys.agents.llm.parsing import Unreadable, parse, repair_message
from genesys.agents.llm.redact import redact, redact_messages
from genesys.agents.llm.types import (CostCapReached, LLMError, LLMTimeout, LLMUnavailable, MalformedAnswer, Message,
                                      Reply)

log = logging.getLogger(__name__)


def _retryable(exc: BaseException) -> bool:
    import litellm
    retry = (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.InternalServerError,
             litellm.ServiceUnavailableError)
    return isinstance(exc, retry) or (isinstance(exc, litellm.APIError) and getattr(exc, "status_code", 0) >= 500)


def _retry_after(exc: BaseException) -> Optional[float]:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def request_key(choice: ModelChoice, messages: List[Message], schema: Optional[Type[BaseModel]]) -> str:
    payload = {"model": choice.model, "api_base": choice.api_base, "temperature": choice.temperature,
               "max_tokens": choice.max_tokens, "messages": messages,
               "schema": schema.model_json_schema() if schema is not None else None}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def check_provider(cfg: AgentsConfig) -> None:
    """Fail at once, naming what to set, when a configured model has no key and no `api_base`."""
    import litellm
    for choice in cfg.all_models():
        if choice.api_base:
            continue
        if choice.api_key_env:
            import os
            if not os.environ.get(choice.api_key_env):
                raise LLMUnavailable(f"{choice.model}: set {choice.api_key_env} (agents api_key_env), or point the "
                                     f"agents at a local server with agents.api_base=http://host:port/v1")
            continue
        missing = litellm.validate_environment(model=choice.model).get("missing_keys") or []
        if missing:
            raise LLMUnavailable(f"{choice.model}: set {', '.join(missing)} in the environment, or point the agents "
                                 f"at an OpenAI-compatible server with agents.api_base=http://host:port/v1 "
                                 f"(vLLM, Ollama, llama.cpp)")


class LLMClient:
    def __init__(self, cfg: AgentsConfig, context=None, seed: int = 0, rewards: Optional[Dict[str, list]] = None):
        self.cfg, self.context = cfg, context
        self.rng = random.Random(seed)
        if rewards is None and cfg.routing == "bandit" and hasattr(context, "model_outcomes"):
            rewards = routing.bandit_rewards(context.model_outcomes())   # what each model's earlier designs gained
        self.rewards = rewards or {}           # bandit routing: model -> fitness gained per dollar observations
        self._spent = 0.0

    @property
    def spent_usd(self) -> float:
        return self._spent

    # ---- one role's answer -----------------------------------------------------------------------------------
    def ask(self, role: str, messages: List[Message], schema: Optional[Type[BaseModel]] = None, *,
            stage: str = "") -> Reply:
        choices = self.cfg.models(role)
        choice = (routing.bandit_choice(choices, self.rewards, self.rng) if self.cfg.routing == "bandit"
                  else routing.weighted_choice(choices, self.rng))
        history = redact_messages(messages)
        total = Reply(role=role, model=choice.model, text="", calls=0, cached=True)
        for repair in range(self.cfg.max_repairs + 1):
            reply = self._answer(role, choice, history, schema, stage)
            total = self._add(total, reply)
            if schema is None:
                if reply.text.strip():
                    return self._done(total, reply.text, None, history)
                error = "the answer was empty"
            else:
                try:
                    return self._done(total, reply.text, parse(reply.text, schema), history)
                except Unreadable as exc:
                    error = str(exc)
            if self.context is not None:
                self.context.trace("malformed", {"role": role, "stage": stage, "error": error,
                                                 "answer": redact(reply.text)[:2000], "repair": repair})
            if schema is None or repair == self.cfg.max_repairs:
                raise MalformedAnswer(f"{role} ({choice.model}): {error} after {repair + 1} answer(s)")
            history = history + [{"role": "assistant", "content": reply.text or "(empty)"},
                                 {"role": "user", "content": repair_message(error, schema)}]
        raise MalformedAnswer(f"{role}: no readable answer")   # not reached

    @staticmethod
    def _add(total: Reply, r: Reply) -> Reply:
        def plus(a, b):
            return None if a is None and b is None else (a or 0) + (b or 0)
        total.prompt_tokens = plus(total.prompt_tokens, r.prompt_tokens)
        total.completion_tokens = plus(total.completion_tokens, r.completion_tokens)
        total.cost_usd = plus(total.cost_usd, r.cost_usd)
        total.latency_s += r.latency_s
        total.calls += r.calls
        total.cached = total.cached and r.cached
        total.model = r.model
        return total

    @staticmethod
    def _done(total: Reply, text: str, parsed, history) -> Reply:
        total.text, total.parsed, total.history = text, parsed, history
        return total

    # ---- one model call (cached, capped, retried, timed) -----------------------------------------------------
    def _answer(self, role: str, choice: ModelChoice, messages: List[Message], schema, stage: str) -> Reply:
        key = request_key(choice, messages, schema) if self.cfg.cache and self.context is not None else None
        if key is not None:
            hit = self.context.cache_get(key)
            if hit is not None:
                reply = Reply(role=role, model=hit["model"], text=hit["text"], prompt_tokens=hit.get("prompt_tokens"),
                              completion_tokens=hit.get("completion_tokens"), cost_usd=hit.get("cost_usd"),
                              latency_s=0.0, cached=True, calls=0)
                self._ledger(reply, stage, ok=True)
                return Reply(**{**reply.__dict__, "cost_usd": None})   # replay: nothing spent
        self._check_caps(role)
        reply = self._call_with_retries(role, choice, messages, stage)
        if key is not None and reply.text.strip():
            self.context.cache_put(key, {"model": reply.model, "text": redact(reply.text),
                                         "prompt_tokens": reply.prompt_tokens,
                                         "completion_tokens": reply.completion_tokens, "cost_usd": reply.cost_usd})
        return reply

    def _check_caps(self, role: str) -> None:
        cap = self.cfg.session_cap_usd
        if cap is not None and self._spent >= cap:
            raise CostCapReached(f"the session's cost cap (${cap:.2f}) is spent (${self._spent:.4f}); {role} not asked")
        run_cap = self.cfg.run_cap_usd
        if run_cap is not None and self.context is not None and self.context.run_spent_usd() >= run_cap:
            raise CostCapReached(f"the run's cost cap (${run_cap:.2f}) is spent")

    def _call_with_retries(self, role: str, choice: ModelChoice, messages, stage: str) -> Reply:
        deadline = time.monotonic() + self.cfg.timeout_s
        attempt = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._ledger(Reply(role=role, model=choice.model, text=""), stage, ok=False, error="timeout")
                raise LLMTimeout(f"{role} ({choice.model}): no answer within {self.cfg.timeout_s:.0f} s")
            start = time.monotonic()
            try:
                response = self._timed_completion(choice, messages, left)
            except LLMTimeout:
                self._ledger(Reply(role=role, model=choice.model, text="", latency_s=time.monotonic() - start), stage,
                             ok=False, error="timeout")
                raise LLMTimeout(f"{role} ({choice.model}): no answer within {self.cfg.timeout_s:.0f} s") from None
            except Exception as exc:   # noqa: BLE001 (litellm maps provider errors to its exception types)
                error = redact(f"{type(exc).__name__}: {exc}")[:1000]
                self._ledger(Reply(role=role, model=choice.model, text="", latency_s=time.monotonic() - start), stage,
                             ok=False, error=error)
                if not _retryable(exc) or attempt >= self.cfg.retries:
                    raise LLMError(f"{role} ({choice.model}): {error}") from None
                wait = _retry_after(exc) or min(self.cfg.backoff_max_s, self.cfg.backoff_s * 2 ** attempt)
                wait = min(wait * (0.5 + self.rng.random()), max(0.0, deadline - time.monotonic()))
                log.warning("%s (%s): %s; retry %d in %.1f s", role, choice.model, error[:200], attempt + 1, wait)
                time.sleep(wait)
                attempt += 1
                continue
            reply = self._reply(role, choice, response, time.monotonic() - start)
            self._ledger(reply, stage, ok=True)
            if reply.cost_usd:
                self._spent += reply.cost_usd
            return reply

    def _timed_completion(self, choice: ModelChoice, messages, seconds: float):
        import litellm
        kwargs: Dict[str, Any] = dict(model=choice.model, messages=messages, timeout=seconds, num_retries=0)
        for name in ("api_base", "temperature", "max_tokens"):
            if getattr(choice, name) is not None:
                kwargs[name] = getattr(choice, name)
        if choice.api_key_env:
            kwargs["api_key"] = choice.api_key
        elif choice.api_base:
            kwargs["api_key"] = "none"              # local servers ignore it; litellm's OpenAI client wants one
        box: Dict[str, Any] = {}

        def run():
            try:
                box["response"] = litellm.completion(**kwargs)
            except BaseException as exc:   # noqa: BLE001 (handed to the waiting thread)
                box["error"] = exc
        worker = threading.Thread(target=run, daemon=True, name=f"llm-{choice.model}")
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            raise LLMTimeout("stalled")
        if "error" in box:
            raise box["error"]
        return box["response"]

    def _reply(self, role: str, choice: ModelChoice, response, latency: float) -> Reply:
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None) if usage else None
        completion = getattr(usage, "completion_tokens", None) if usage else None
        return Reply(role=role, model=choice.model, text=text, prompt_tokens=prompt, completion_tokens=completion,
                     cost_usd=self._cost(choice, response, prompt, completion), latency_s=latency, cached=False,
                     calls=1)

    @staticmethod
    def _cost(choice: ModelChoice, response, prompt: Optional[int], completion: Optional[int]) -> Optional[float]:
        """The configured per-token prices, else litellm's price map; None when neither knows (never a made-up 0)."""
        if choice.input_cost_per_token is not None and choice.output_cost_per_token is not None:
            if prompt is None or completion is None:
                return None
            return prompt * choice.input_cost_per_token + completion * choice.output_cost_per_token
        try:
            import litellm
            return float(litellm.completion_cost(completion_response=response))
        except Exception:   # noqa: BLE001 (unknown model: litellm raises)
            return None

    def _ledger(self, reply: Reply, stage: str, ok: bool, error: Optional[str] = None) -> None:
        if self.context is None:
            return
        self.context.record_call({"role": reply.role, "stage": stage or None, "model": reply.model,
                                  "prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                                  "cost_usd": 0.0 if reply.cached else reply.cost_usd, "latency_s": reply.latency_s,
                                  "cached": reply.cached, "ok": ok, "error": redact(error) if error else None})
