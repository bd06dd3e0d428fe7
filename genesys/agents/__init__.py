"""The paper's LLM designer (DESIGN §8): proposer and reviewer, then planner, coder, checker and observer unit by
unit. It sits behind the same `Designer` interface as the symbolic designer (genesys.evolution.designers)."""
