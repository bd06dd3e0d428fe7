"""Seeing results: evolution metrics (paper Tables 2-4), plots and a self-contained HTML report, read from the store
and the run folder only (``python -m genesys.report RUN``), and design export (``python -m genesys.export``)."""
