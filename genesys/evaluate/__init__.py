"""Evaluation: lm-eval adapter, offline lm-eval tasks, synthetic proxy suite, fitness (DESIGN §6)."""
