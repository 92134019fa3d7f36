"""Alembic environment: the schema exists only through these migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from muster.catalog import read_models as _catalog  # noqa: F401
from muster.core.db import make_engine, metadata
from muster.core.eventlog import tables as _log  # noqa: F401
from muster.identity import read_models as _identity  # noqa: F401  (registers tables)
from muster.ingest import read_models as _ingest  # noqa: F401
from muster.notify import read_models as _notify  # noqa: F401
from muster.resources import read_models as _resources  # noqa: F401
from muster.response import read_models as _response  # noqa: F401
from muster.review import read_models as _review  # noqa: F401
from muster.sharing import read_models as _sharing  # noqa: F401
from muster.situation import read_models as _situation  # noqa: F401
from muster.training import read_models as _training  # noqa: F401

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on the connection given by Muster, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as new_connection:
        _run(new_connection)


run_migrations_online()
