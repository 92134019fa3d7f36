"""Prepared databases: a state built once per test process (the example pack loaded,
a workload run) and copied for every test that starts from it, as tests/conftest.py
copies the migrated template for every test.

A test module names the state with a ``Prepared`` and overrides conftest's
``prepared`` fixture to return it for the tests that start from it, e.g. every test
that uses the module's ``city`` fixture::

    prepared = prepared_for("city", example_pack(at=NOW))

Those tests then get, as ``settings``, a copy of the built database and its
checkpoint-signing key; nothing is shared between tests but the read-only template.
Imported by tests/conftest.py and by the test modules that prepare a state.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from muster.bootstrap import Muster, bootstrap
from muster.cli_demo import load_demo_data
from muster.core.clock import Clock, SimulatedClock, SystemClock
from muster.core.eventlog.signing import create_signing_key
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.pack.model import Pack
from muster.settings import Settings

PG_URL = os.environ.get("MUSTER_TEST_DATABASE_URL", "")
IS_POSTGRES = PG_URL.startswith("postgresql")
TEST_SECRET = "test-secret-" + "x" * 40
EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))


@dataclass(frozen=True, eq=False)
class Prepared:
    """A database state: ``build`` runs once per test process on a fresh deployment
    whose clock starts at ``clock_start`` (simulated) or is the system clock (None);
    what it returns is kept as the template's ``result``."""

    name: str
    build: Callable[[Muster, Clock], object]
    clock_start: datetime | None = None


@dataclass(frozen=True)
class Template:
    """A built state: the database to copy, its signing key, what the build returned."""

    database: str
    signing_key: Path
    result: object


def settings_for(database_url: str, data_dir: Path) -> Settings:
    """Return the settings every test deployment uses, on that database."""
    return Settings(
        mode="test",
        secret_key=TEST_SECRET,
        database_url=database_url,
        data_dir=data_dir,
        checkpoint_every=50,
    )


def admin_engine() -> Engine:
    """Return an engine on PostgreSQL's maintenance database (autocommit)."""
    url = make_url(PG_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def pg_url(name: str) -> str:
    """Return the URL of a database of the test server."""
    return make_url(PG_URL).set(database=name).render_as_string(False)


@functools.cache
def _create_suffix() -> str:
    """FILE_COPY clones small databases faster than the default WAL_LOG (15+)."""
    engine = admin_engine()
    with engine.connect() as conn:
        version = int(str(conn.execute(text("SHOW server_version_num")).scalar()))
    engine.dispose()
    return " STRATEGY FILE_COPY" if version >= 150000 else ""


def create_pg_copy(admin: Engine, source: str, name: str) -> None:
    """Create database ``name`` as a copy of the template database ``source``."""
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"{_create_suffix()}')
        )


def drop_pg(admin: Engine, name: str) -> None:
    """Drop a test database, closing whatever still talks to it."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database_copy(admin: Engine | None, source: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh copy of a template (PostgreSQL name or SQLite file)."""
    if admin is None:
        path = folder / "muster.db"
        shutil.copyfile(source, path)
        yield f"sqlite:///{path}"
        return
    name = f"muster_t_{uuid.uuid4().hex[:12]}"
    create_pg_copy(admin, source, name)
    try:
        yield pg_url(name)
    finally:
        drop_pg(admin, name)


@dataclass
class Templates:
    """The prepared states built so far in this test process, by ``Prepared``."""

    base: str
    folder: Path
    admin: Engine | None
    built: dict[Prepared, Template | BaseException] = field(default_factory=dict)

    def get(self, prepared: Prepared) -> Template:
        """Return the prepared state's template, building it the first time."""
        if prepared not in self.built:
            try:
                self.built[prepared] = self._build(prepared)
            except BaseException as error:  # every test of it fails the same way
                self.built[prepared] = error
                raise
        found = self.built[prepared]
        if isinstance(found, BaseException):
            raise found
        return found

    def _build(self, prepared: Prepared) -> Template:
        folder = self.folder / f"{prepared.name}_{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True)
        if self.admin is None:
            database = str(folder / "template.db")
            shutil.copyfile(self.base, database)
            url = f"sqlite:///{database}"
        else:
            database = f"muster_p_{uuid.uuid4().hex[:12]}"
            create_pg_copy(self.admin, self.base, database)
            url = pg_url(database)
        settings = settings_for(url, folder / "data")
        create_signing_key(settings.effective_signing_key_file)
        start = prepared.clock_start
        clock: Clock = SystemClock() if start is None else SimulatedClock(start)
        muster = bootstrap(settings, clock=clock)
        try:
            with chdir(folder):  # no developer .env is read by a CLI build
                result = prepared.build(muster, clock)
            if self.admin is None:
                with muster.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            muster.engine.dispose()
        return Template(database, settings.effective_signing_key_file, result)

    def close(self) -> None:
        """Drop the PostgreSQL templates built."""
        if self.admin is None:
            return
        for template in self.built.values():
            if isinstance(template, Template):
                drop_pg(self.admin, template.database)


def prepared_for(
    fixture: str, state: Prepared
) -> Callable[[pytest.FixtureRequest], Prepared | None]:
    """Return a ``prepared`` fixture: tests that use ``fixture`` start from ``state``,
    the module's other tests from an empty database."""

    @pytest.fixture
    def prepared(request: pytest.FixtureRequest) -> Prepared | None:
        """Start the tests that use the fixture from the prepared state."""
        return state if fixture in request.fixturenames else None

    return prepared


@functools.cache
def _example() -> Pack:
    return read_pack(EXAMPLE)


def example() -> Pack:
    """Return the Lanjiang example pack (read once per process; a private copy)."""
    return copy.deepcopy(_example())


@functools.cache
def example_pack(*, at: datetime | None = None, demo_data: bool = False) -> Prepared:
    """The Lanjiang example pack loaded at ``at`` (simulated; None: the system clock),
    with ``muster demo``'s records if asked; one Prepared per arguments."""

    def build(muster: Muster, _clock: Clock) -> None:
        pack = example()
        load_pack(muster, pack)
        if demo_data:
            load_demo_data(muster, pack)

    stamp = "now" if at is None else at.strftime("%Y%m%d%H%M")
    return Prepared(f"lanjiang_{stamp}{'_demo' if demo_data else ''}", build, at)


__all__ = [
    "EXAMPLE",
    "IS_POSTGRES",
    "PG_URL",
    "TEST_SECRET",
    "Prepared",
    "Template",
    "Templates",
    "admin_engine",
    "database_copy",
    "example",
    "example_pack",
    "pg_url",
    "prepared_for",
    "settings_for",
]
