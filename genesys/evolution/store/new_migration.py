"""For developers changing the store's models: write the next migration script.

    python -m genesys.evolution.store.new_migration "add column x"

It upgrades a scratch SQLite database to head and lets Alembic autogenerate the difference to the models, numbered
after the last script (0002, 0003, ...). Review the script, then run tests/evolution/test_store_migrations.py
(both backends).
"""
from __future__ import annotations

import sys
import tempfile

from alembic import command
from alembic.script import ScriptDirectory

from genesys.evolution.store.engine import make_engine
from genesys.evolution.store.migrate import alembic_config, upgrade


def new_revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.db")
        upgrade(engine)
        count = len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
        with engine.begin() as conn:
            command.revision(alembic_config(conn), message=message, autogenerate=True, rev_id=f"{count + 1:04d}")
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit('usage: python -m genesys.evolution.store.new_migration "what changed"')
    new_revision(sys.argv[1])
