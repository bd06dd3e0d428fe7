"""Alembic migrations of the evolution store (shipped in the package, run by migrate.upgrade)."""
