"""Helpers for web tests: a browser-like client that signs in and carries the CSRF
token, API keys issued through the bus, and a real uvicorn server in a thread.

``starlette.testclient`` now warns unless the ``httpx2`` package is installed (and the
suite turns warnings into errors), so tests drive the app over real HTTP with httpx
against uvicorn on a free 127.0.0.1 port; the app object still lives in this process,
so tests can share its ``Muster`` and simulated clock.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from muster.bootstrap import Muster
from muster.core.messages import SYSTEM_ACTOR
from muster.identity import queries
from muster.identity.domain.commands import IssueApiKey
from muster.settings import Settings
from muster.web.app import create_app
from tests.factories import PASSWORD

CSRF_COOKIE = "muster_csrf"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Return one default TLS context for every client of this process: httpx would
    read the CA bundle again for each client (≈60 ms), though tests speak plain HTTP."""
    return ssl.create_default_context()


class WebClient:
    """A browser-like client: cookies, the CSRF token in forms, no auto-redirects."""

    def __init__(self, base_url: str, *, accept_language: str = "en") -> None:
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url,
            follow_redirects=False,
            headers={"Accept-Language": accept_language},
            timeout=30,
            verify=tls_context(),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    @property
    def csrf_token(self) -> str:
        """Return the CSRF cookie, fetching the sign-in page first if needed."""
        token = self.http.cookies.get(CSRF_COOKIE)
        if token is None:
            self.http.get("/signin")
            token = self.http.cookies.get(CSRF_COOKIE)
        assert token is not None
        return token

    def sign_in(
        self, username: str, password: str = PASSWORD, *, next_: str = "/"
    ) -> httpx.Response:
        """Post the sign-in form."""
        return self.post_form(
            "/signin", {"username": username, "password": password, "next": next_}
        )

    def post_form(self, path: str, data: dict[str, str]) -> httpx.Response:
        """Post a form with the CSRF token added."""
        return self.http.post(path, data={**data, "csrf_token": self.csrf_token})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a path."""
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST without adding anything (for CSRF and raw-body tests)."""
        return self.http.post(path, **kwargs)


@contextlib.contextmanager
def web_client(
    settings: Settings, muster: Muster, *, accept_language: str = "en"
) -> Iterator[WebClient]:
    """Build the app on a deployment, serve it, and yield a client for it."""
    app = create_app(settings, muster=muster)
    with running_server(app) as base_url:
        client = WebClient(base_url, accept_language=accept_language)
        try:
            yield client
        finally:
            client.close()


def issue_api_key(muster: Muster, department_code: str, key_id: str = "k1") -> str:
    """Issue a connector key for a department and return the full key text."""
    secret = secrets.token_urlsafe(32)
    muster.bus.handle(
        IssueApiKey(
            key_id=key_id,
            secret_hash=queries.api_key_digest(secret),
            department_code=department_code,
        ),
        SYSTEM_ACTOR,
    )
    return f"mk_{key_id}_{secret}"


def head(muster: Muster) -> int:
    """Return the log's head seq."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def event_types(muster: Muster, *, after: int = 0) -> list[str]:
    """Return the wire names of the events after a position."""
    with muster.engine.connect() as conn:
        return [item.envelope.type for item in muster.store.read_all(conn, after=after)]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn in a background thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn exited during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.feed_hub.close_streams_threadsafe()
        server.should_exit = True
        thread.join(10)
