"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

The database kind comes from MUSTER_TEST_DATABASE_URL: unset means SQLite files in a
temporary folder; a ``postgresql+psycopg://`` URL means a fresh PostgreSQL database per
test, cloned from a migrated template (never the developer's database). A module may
start its tests from a prepared state instead (the example pack loaded, ...), built
once per test process and copied per test: see ``prepared`` and tests/prepared.py.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from muster.bootstrap import Muster, bootstrap
from muster.core.db import make_engine
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import SYSTEM_ACTOR
from muster.core.migrate import upgrade
from muster.settings import Settings
from tests.cli_setup import Run, cli_environment, cli_runner
from tests.prepared import (
    IS_POSTGRES,
    TEST_SECRET,
    Prepared,
    Template,
    Templates,
    admin_engine,
    database_copy,
    pg_url,
    settings_for,
)
from tests.prepared import PG_URL as PG_URL  # modules import it from here


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
    """Return an engine on PostgreSQL's maintenance database (for modules that make
    a second database)."""
    return admin_engine()


@pytest.fixture(scope="session")
def _admin() -> Iterator[Engine | None]:
    """One engine on PostgreSQL's maintenance database per test process (or None)."""
    if not IS_POSTGRES:
        yield None
        return
    admin = admin_engine()
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def template_database(
    tmp_path_factory: pytest.TempPathFactory, _admin: Engine | None
) -> Iterator[str]:
    """Return a migrated template: a PostgreSQL database name or an SQLite file path."""
    if _admin is not None:
        name = f"muster_tpl_{uuid.uuid4().hex[:8]}"
        with _admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(pg_url(name))
        upgrade(engine)
        engine.dispose()
        yield name
        with _admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    yield str(path)


@pytest.fixture(scope="session")
def templates(
    template_database: str,
    tmp_path_factory: pytest.TempPathFactory,
    _admin: Engine | None,
) -> Iterator[Templates]:
    """Return the prepared states of this test process (tests/prepared.py)."""
    built = Templates(template_database, tmp_path_factory.mktemp("prepared"), _admin)
    yield built
    built.close()


@pytest.fixture
def prepared() -> Prepared | None:
    """Return the state the test's database starts from: None, migrated and empty.

    A module overrides this to start (some of) its tests from a state built once per
    test process and copied for each test (tests/prepared.py)."""
    return None


@pytest.fixture
def prepared_template(
    prepared: Prepared | None, templates: Templates
) -> Template | None:
    """Return the built template of ``prepared`` (None for an empty database)."""
    return None if prepared is None else templates.get(prepared)


@pytest.fixture
def database_url(
    template_database: str,
    prepared_template: Template | None,
    tmp_path: Path,
    _admin: Engine | None,
) -> Iterator[str]:
    """Return the URL of this test's own copy of the template (migrated and empty,
    or the prepared state)."""
    source = template_database
    if prepared_template is not None:
        source = prepared_template.database
    with database_copy(_admin, source, tmp_path) as url:
        yield url


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, prepared_template: Template | None
) -> Settings:
    """Return test settings on the test's database, with a signing key in tmp_path
    (the prepared state's key, which signed its checkpoints, if it has one)."""
    created = settings_for(database_url, tmp_path / "data")
    if prepared_template is None:
        create_signing_key(created.effective_signing_key_file)
    else:
        key = created.effective_signing_key_file
        key.parent.mkdir(parents=True)
        shutil.copy2(prepared_template.signing_key, key)
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
