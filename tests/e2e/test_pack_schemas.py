"""The deployment-pack JSON Schemas are published over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from muster.bootstrap import Muster
from muster.settings import Settings
from tests.e2e.client import WebClient, web_client


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a web client (no sign-in needed)."""
    with web_client(settings, muster) as client:
        yield client


def test_the_plans_schema_is_published(web: WebClient) -> None:
    """Given the server, GET /api/v1/pack-schemas/plans returns the JSON Schema the
    pack loader checks plans against."""
    response = web.get("/api/v1/pack-schemas/plans")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    schema = json.loads(response.text)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "levels" in json.dumps(schema)


def test_the_list_names_every_schema_and_unknown_names_are_404(web: WebClient) -> None:
    """The list links each schema; an unknown name is a clear 404."""
    listed = web.get("/api/v1/pack-schemas").json()["schemas"]

    assert "/api/v1/pack-schemas/escalation" in listed
    assert web.get("/api/v1/pack-schemas/../settings").status_code == 404
    assert web.get("/api/v1/pack-schemas/nope").status_code == 404
