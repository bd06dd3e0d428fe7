"""Designers: given parents and a mode, produce a new valid design (a GAU tree that passed the checker).
The symbolic designer (no LLM) lives here; the LLM designer (genesys.agents) implements the same interface."""
from genesys.evolution.designers.base import Attempt, DesignContext, DesignOutcome, DesignRequest, Designer, Parent

__all__ = ["Attempt", "DesignContext", "DesignOutcome", "DesignRequest", "Designer", "Parent"]
