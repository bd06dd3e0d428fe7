"""Genesys: discovering LM block architectures with LLM agents."""
__version__ = "0.1.0"
