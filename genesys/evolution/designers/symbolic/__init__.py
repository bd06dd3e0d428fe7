"""The symbolic designer: genetic programming over the unit library (no LLM), the offline default designer."""
from genesys.evolution.designers.symbolic.designer import DEFAULT_WEIGHTS, SymbolicDesigner

__all__ = ["SymbolicDesigner", "DEFAULT_WEIGHTS"]
