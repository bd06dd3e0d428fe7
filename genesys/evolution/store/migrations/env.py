"""Alembic environment: runs on the connection the store hands over (genesys.evolution.store.migrate)."""
from alembic import context

from genesys.evolution.store.models import Base
from genesys.evolution.store.types import UTCDateTime

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the store's migrations through genesys.evolution.store.migrate, which passes a connection")


def render_item(kind, obj, _autogen_context):
    """New migration scripts name plain SQLAlchemy types, not our TypeDecorator (scripts stay self-contained)."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
