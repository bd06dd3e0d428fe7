"""Runtime checks. Everything in this package runs inside the sandboxed child (see ../sandbox.py)."""
