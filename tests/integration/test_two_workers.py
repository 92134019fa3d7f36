"""Two uvicorn workers on one PostgreSQL database share the live feed via NOTIFY."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from muster.bootstrap import Muster
from muster.settings import Settings
from tests import factories
from tests.e2e.client import free_port, issue_api_key

INCIDENT = {
    "title": "Levee seepage at Yuelu",
    "category": "NATURAL_DISASTER",
    "latitude": 28.18,
    "longitude": 112.93,
}


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": settings.secret_key.get_secret_value(),
        "MUSTER_DATA_DIR": str(settings.data_dir),
        "MUSTER_SIGNING_KEY_FILE": str(settings.effective_signing_key_file),
        # Far beyond the test's patience: only LISTEN/NOTIFY can deliver in time.
        "MUSTER_FEED_POLL_SECONDS": "120",
        "PYTHONPATH": os.pathsep.join([str(Path.cwd() / "src"), str(Path.cwd())]),
    }


def _start_worker(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "--factory",
        "muster.web.app:create_app_from_env",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    with log.open("wb") as output:
        return subprocess.Popen(
            command, env=_environment(settings), stdout=output, stderr=subprocess.STDOUT
        )


def _wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, f"worker exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(
        f"worker at {base_url} did not become healthy:\n{log.read_text()}"
    )


@pytest.fixture
def two_workers(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Start two uvicorn processes on the test database; always stop them."""
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"worker-{name}.log"
            processes.append(_start_worker(settings, port, log))
            urls.append(f"http://127.0.0.1:{port}")
            _wait_until_healthy(urls[-1], processes[-1], log)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.postgres
def test_event_committed_on_one_worker_reaches_a_stream_on_the_other(
    muster: Muster, two_workers: tuple[str, str]
) -> None:
    """An incident posted to worker B arrives on worker A's event stream."""
    factories.department(muster, "EMB")
    key = issue_api_key(muster, "EMB")
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    worker_a, worker_b = two_workers

    with (
        httpx.Client(base_url=worker_a, timeout=10.0) as client,
        client.stream("GET", "/api/events/stream", headers=headers) as stream,
    ):
        lines = (line for line in stream.iter_lines() if line)
        assert next(lines) == "retry: 3000"
        created = httpx.post(
            f"{worker_b}/api/incidents", json=INCIDENT, headers=headers, timeout=10
        )
        assert created.status_code == 201
        data = next(
            json.loads(line.removeprefix("data: "))
            for line in lines
            if line.startswith("data: ")
        )

    assert data["type"] == "response.IncidentOpened"
    assert data["incident"]["id"] == created.json()["id"]
    assert data["summary"] == "EMB dept opened incident “Levee seepage at Yuelu”"
