"""Run the web application under uvicorn (one process, or several workers).

Imported by the CLI. With several workers each process builds its own app from the
environment, so this module exports the settings as MUSTER_* variables first: it is the
one allowed exception to "only settings.py reads or writes the environment" (R11).
"""

from __future__ import annotations

import os

import uvicorn
from pydantic import SecretStr

from muster.settings import Settings
from muster.web.app import create_app

APP_FACTORY = "muster.web.app:create_app_from_env"
GRACEFUL_SHUTDOWN_SECONDS = 10


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1
) -> None:
    """Serve Muster over HTTP until interrupted."""
    if workers <= 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            proxy_headers=True,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        return
    os.environ.update(settings_environment(settings))
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """Return the MUSTER_* variables that rebuild these settings in another process."""
    variables: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        variables[f"MUSTER_{name.upper()}"] = str(value)
    return variables


__all__ = ["APP_FACTORY", "serve", "settings_environment"]
