"""Verification engine: data, tokenizer, autotune, Lightning training, run monitor, tracking, record.

`python -m genesys.verify design=... scale=...`; from Python: `genesys.verify.run.verify(cfg, run_dir)`.
Submodules import lazily (torch/Lightning are heavy), so import what you need, e.g.
`from genesys.verify.data import heldout_documents`.
"""
