"""Verification data: documents -> split by document -> overlap removal -> tokenizer -> packed token shards.

Entry points: `prepare_data(cfg.data)` (the packed corpus, cached) and, for evaluation,
`heldout_documents(cfg.data) -> HeldOut(tokenizer, validation, test)`.
"""
from genesys.verify.data.prepare import HeldOut, PreparedData, heldout_documents, prepare_data

__all__ = ["HeldOut", "PreparedData", "heldout_documents", "prepare_data"]
