"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

The database kind comes from MUSTER_TEST_DATABASE_URL: unset means SQLite files in a
temporary folder; a ``postgresql+psycopg://`` URL means a fresh PostgreSQL database per
test, cloned from a migrated template (never the developer's database).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from muster.bootstrap import Muster, bootstrap
from muster.core.db import make_engine
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import SYSTEM_ACTOR
from muster.core.migrate import upgrade
from muster.settings import Settings
from tests.cli_setup import Run, cli_environment, cli_runner

PG_URL = os.environ.get("MUSTER_TEST_DATABASE_URL", "")
IS_POSTGRES = PG_URL.startswith("postgresql")
TEST_SECRET = "test-secret-" + "x" * 40


def pytest_report_header() -> str:
    """Say which database the suite runs on."""
    return f"muster database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run in the PostgreSQL pass of CI (.ci/run)."""
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only; runs in the PostgreSQL pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _admin_engine() -> Engine:
    url = make_url(PG_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return a migrated template: a PostgreSQL database name or an SQLite file path."""
    if IS_POSTGRES:
        name = f"muster_tpl_{uuid.uuid4().hex[:8]}"
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(
            make_url(PG_URL).set(database=name).render_as_string(False)
        )
        upgrade(engine)
        engine.dispose()
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a fresh, migrated, empty database for this test."""
    if IS_POSTGRES:
        name = f"muster_t_{uuid.uuid4().hex[:12]}"
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
            )
        yield make_url(PG_URL).set(database=name).render_as_string(False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path / "muster.db"
    shutil.copyfile(template_database, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Return test settings on the fresh database, with a signing key in tmp_path."""
    data_dir = tmp_path / "data"
    created = Settings(
        mode="test",
        secret_key=TEST_SECRET,
        database_url=database_url,
        data_dir=data_dir,
        checkpoint_every=50,
    )
    create_signing_key(created.effective_signing_key_file)
    return created


@pytest.fixture
def muster(settings: Settings) -> Iterator[Muster]:
    """Return a bootstrapped deployment on the fresh database."""
    app = bootstrap(settings)
    yield app
    app.engine.dispose()


@pytest.fixture
def system_actor():  # type: ignore[no-untyped-def]
    """Return Muster's own actor (used for set-up commands)."""
    return SYSTEM_ACTOR


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Return MUSTER_* variables that point the CLI at the test database."""
    return cli_environment(settings, TEST_SECRET)


@pytest.fixture
def run(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Run]:
    """Return a function that runs ``muster ARGS`` on the test database."""
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    with cli_runner(cli_env) as invoke:
        yield invoke
