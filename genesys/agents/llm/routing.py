"""Which model answers a role's call (pure): fixed weights, as the original drew its models, or a bandit on fitness
gained per dollar, as ShinkaEvolve does (UCB1 over the mean reward per model, untried models first)."""
from __future__ import annotations

import math
import random
from typing import Dict, Iterable, List, Sequence, Tuple

from genesys.agents.llm.config import ModelChoice


def weighted_choice(choices: Sequence[ModelChoice], rng: random.Random) -> ModelChoice:
    if len(choices) == 1:
        return choices[0]
    return rng.choices(list(choices), weights=[max(0.0, c.weight) for c in choices], k=1)[0]


def bandit_rewards(observations: Iterable[Tuple[str, float, float]]) -> Dict[str, List[float]]:
    """(model, cost USD, fitness gain) -> per model the rewards: gain per dollar (a free call counts its gain)."""
    rewards: Dict[str, List[float]] = {}
    for model, cost, gain in observations:
        rewards.setdefault(model, []).append(gain / cost if cost and cost > 0 else gain)
    return rewards


def bandit_choice(choices: Sequence[ModelChoice], rewards: Dict[str, List[float]], rng: random.Random,
                  exploration: float = 1.0) -> ModelChoice:
    untried = [c for c in choices if not rewards.get(c.model)]
    if untried:
        return rng.choice(untried)
    total = sum(len(rewards[c.model]) for c in choices)

    def ucb(c: ModelChoice) -> float:
        r = rewards[c.model]
        return sum(r) / len(r) + exploration * math.sqrt(2 * math.log(total) / len(r))
    best = max(ucb(c) for c in choices)
    return rng.choice([c for c in choices if ucb(c) == best])
