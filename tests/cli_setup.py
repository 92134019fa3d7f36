"""Running ``muster ARGS`` in tests: the environment that points the CLI at the test
database, and the ``Run`` callable the ``run`` fixture of ``tests/conftest.py`` gives.

One place for what several CLI test modules need, so each one does not carry its own
copy of the runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from typer.testing import CliRunner, Result

from muster.cli import app
from muster.settings import Settings, get_settings

Run = Callable[..., Result]
"""``run(*args, input=None, **env)``: run the CLI, return typer's ``Result``."""


def cli_environment(settings: Settings, secret: str) -> dict[str, str]:
    """Return MUSTER_* variables that point the CLI at the test deployment."""
    return {
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": secret,
        "MUSTER_DATA_DIR": str(settings.data_dir),
        "MUSTER_SIGNING_KEY_FILE": str(settings.effective_signing_key_file),
        "MUSTER_CHECKPOINT_EVERY": "50",
        "COLUMNS": "240",
    }


@contextmanager
def cli_runner(env: dict[str, str]) -> Iterator[Run]:
    """Yield a runner of ``muster ARGS`` with fresh settings on every call."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, **extra: str) -> Result:
        """Run muster with args, optional stdin text and extra variables."""
        get_settings.cache_clear()
        return runner.invoke(app, list(args), input=input, env={**env, **extra})

    try:
        yield invoke
    finally:
        get_settings.cache_clear()


__all__ = ["Run", "cli_environment", "cli_runner"]
