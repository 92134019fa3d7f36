"""Database engines for SQLite and PostgreSQL: one code path, small dialect notes here.

Imported by the event log, the unit of work, bootstrap and migrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

WRITE_OPTION = "muster_write"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with Muster's connection settings for the URL's dialect."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20
    )


def is_postgres(bind: Engine | Connection) -> bool:
    """Tell whether the engine or connection talks to PostgreSQL."""
    return bind.dialect.name == "postgresql"


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Driver-level autocommit so that we emit BEGIN ourselves (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: the log is the system of record, so every commit is fsynced.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take SQLite's single write lock at BEGIN, so a read-then-write
        # transaction never fails halfway with SQLITE_BUSY; readers stay deferred.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


__all__ = ["WRITE_OPTION", "is_postgres", "make_engine", "metadata"]
