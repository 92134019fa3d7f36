"""Migrations: ``upgrade`` builds the whole schema on an empty database, and the
schema it builds matches the SQLAlchemy metadata (autogenerate finds nothing to do).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    Text,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.engine import make_url

import muster.bootstrap  # noqa: F401  (imports every part, so every table is registered)
from muster.core.db import make_engine, metadata
from muster.core.migrate import alembic_config, is_current, upgrade

GENERATED_COLUMNS = {
    "event_id",
    "type",
    "version",
    "stream_id",
    "stream_version",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "actor_department",
}


@pytest.fixture
def empty_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """Return an engine on a brand-new, empty database of the kind under test."""
    if not database_url.startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(database_url)
    name = f"muster_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _differences(engine: Engine, target: MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, target))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestUpgrade:
    def test_upgrade_creates_every_table_in_metadata(
        self, empty_engine: Engine
    ) -> None:
        """An empty database gets every table the code declares, and is current."""
        assert _tables(empty_engine) == set()

        upgrade(empty_engine)

        assert _tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
        assert is_current(empty_engine) is True

    def test_upgraded_schema_matches_metadata(self, empty_engine: Engine) -> None:
        """Autogenerate compares the migrated schema with metadata and finds nothing."""
        upgrade(empty_engine)

        differences = _differences(empty_engine, metadata)

        assert differences == []

    def test_event_columns_are_stored_generated_columns_over_body(
        self, empty_engine: Engine
    ) -> None:
        """Checked here: autogenerate compares no generated expression or body type."""
        upgrade(empty_engine)

        columns = {
            column["name"]: column
            for column in inspect(empty_engine).get_columns("events")
        }

        generated = {
            name: column["computed"]
            for name, column in columns.items()
            if column.get("computed")
        }
        assert set(generated) == GENERATED_COLUMNS
        for name, computed in generated.items():
            assert computed["persisted"] is True
            assert f"body ->> '{name}'" in computed["sqltext"]
        expected_body = "JSON" if empty_engine.dialect.name == "postgresql" else "TEXT"
        assert str(columns["body"]["type"]) == expected_body

    def test_comparison_detects_a_missing_table(self, empty_engine: Engine) -> None:
        """The comparison is not vacuous: a table absent from the database shows up."""
        upgrade(empty_engine)
        extended = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(extended)
        Table("not_migrated", extended, Column("id", Text, primary_key=True))

        differences = _differences(empty_engine, extended)

        assert [(kind, table.name) for kind, table in differences] == [
            ("add_table", "not_migrated")
        ]

    def test_upgrade_twice_is_harmless(self, empty_engine: Engine) -> None:
        """Running upgrade on a current database changes nothing."""
        upgrade(empty_engine)

        upgrade(empty_engine)

        assert is_current(empty_engine) is True
        assert _differences(empty_engine, metadata) == []

    def test_downgrade_to_base_then_upgrade_restores_schema(
        self, empty_engine: Engine
    ) -> None:
        """Every migration can be undone and redone."""
        upgrade(empty_engine)
        config = alembic_config(empty_engine)
        with empty_engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert _tables(empty_engine) == {"alembic_version"}

        upgrade(empty_engine)

        assert _tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
        assert _differences(empty_engine, metadata) == []
