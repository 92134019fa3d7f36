"""Leak test: a masked or unshared value of a vulnerable resident never reaches another
department — not in any API response, export, page, or message of the live feed.

The demo city, a level-II flood at the centre (the evacuation agreement is on: the fire
brigade and the emergency bureau see residents with names masked, phones visible; ID
numbers, health conditions and addresses are not shared). Every other department
sees counts per community. The raw values come from the demo data file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import httpx
import pytest

from muster.core.messages import Actor
from muster.identity import queries as identity
from muster.settings import Settings
from muster.sharing.domain.commands import ReadShared
from tests.e2e.client import WebClient, web_client
from tests.prepared import prepared_for
from tests.sharing_city import CENTRE, DEMO, City, demo_city

DATA = files("muster") / "examples/lanjiang/data/PSB_VULNERABLE_RESIDENTS.json"
RESIDENTS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
DATASET = "PSB_VULNERABLE_RESIDENTS"
READERS = ("fire.duty", "emb.duty", "health.duty", "transport.duty")
DEMO_PASSWORD = "muster-demo"


def secrets_of(resident: dict[str, Any]) -> list[str]:
    """The values no consumer may see: full name, ID number, health, address."""
    values = [resident["name"], resident["id_number"], resident["health_condition"]]
    if resident.get("address"):
        values.append(resident["address"])
    return [str(value) for value in values if value and len(str(value)) >= 2]


def forms(value: str) -> list[str]:
    """The ways a value may appear in a body: as is, JSON-escaped, URL-encoded."""
    escaped = json.dumps(value)[1:-1]
    return sorted({value, escaped, httpx.QueryParams({"v": value}).get("v") or value})


prepared = prepared_for("city", DEMO)  # the demo city, loaded once


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """The demo city with a level-II flood at its centre."""
    built = demo_city(settings)
    built.incident = built.flood(CENTRE, "L2")
    yield built
    built.muster.engine.dispose()


def pages_and_exports(incident: str) -> list[str]:
    """Every path a consumer might use to see the register."""
    shared = f"/api/v1/datasets/{DATASET}/shared"
    return [
        f"{shared}?purpose=evacuation",
        f"{shared}?purpose=evacuation&format=csv",
        f"{shared}?purpose=evacuation&incident={incident}",
        f"{shared}?purpose=planning",
        f"/api/datasets/{DATASET}/records",
        f"/datasets/{DATASET}/records",
        f"/sharing/data/{DATASET}?purpose=evacuation",
        f"/sharing/data/{DATASET}?purpose=evacuation&incident={incident}",
        "/sharing",
        "/sharing/log",
        "/api/v1/access-log",
        "/api/v1/access-log?format=csv",
        "/api/v1/agreements",
        "/api/v1/grants",
        f"/catalog/{DATASET}",
        "/quarantine",
        "/api/quarantine",
        f"/incidents/{incident}",
        "/notifications",
        "/",
    ]


def feed_backlog(client: WebClient, head: int) -> str:
    """Read the live feed from the start up to the log head; return what was sent."""
    seen: list[str] = []
    cookies = dict(client.http.cookies)
    with (
        httpx.Client(base_url=client.base_url, cookies=cookies, timeout=20.0) as http,
        http.stream(
            "GET", "/api/events/stream", headers={"Last-Event-ID": "0"}
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            seen.append(line)
            if line.startswith("id: ") and int(line.removeprefix("id: ")) >= head:
                break
            if line.startswith(": heartbeat"):
                break
    return "\n".join(seen)


def test_given_a_flood_at_level_two_when_consumers_read_everywhere_then_no_masked_or_unshared_value_leaks(  # noqa: E501
    city: City, settings: Settings
) -> None:
    assert city.incident is not None
    secrets = [
        form
        for resident in RESIDENTS
        for v in secrets_of(resident)
        for form in forms(v)
    ]
    bodies: dict[str, str] = {}
    with web_client(settings, city.muster) as client:
        for username in READERS:
            client.http.cookies.clear()
            assert client.sign_in(username, DEMO_PASSWORD).status_code == 303
            for path in pages_and_exports(city.incident):
                response = client.get(path)
                assert response.status_code < 500, (username, path, response.text[:300])
                bodies[f"{username} {path}"] = response.text
            with city.muster.engine.connect() as conn:
                head = city.muster.store.head(conn)[0]
            bodies[f"{username} feed"] = feed_backlog(client, head)
    leaks = [
        f"{where}: {secret!r}"
        for where, body in bodies.items()
        for secret in secrets
        if secret in body
    ]
    assert not leaks, "\n".join(leaks[:20])
    # Not vacuous: the fire brigade did receive the residents, masked as agreed.
    fire = bodies[f"fire.duty /api/v1/datasets/{DATASET}/shared?purpose=evacuation"]
    shared = json.loads(fire)
    assert shared["decision"] == "allow", shared
    assert shared["records"], shared
    first = RESIDENTS[0]
    masked = first["name"][0] + "*" * (len(first["name"]) - 1)
    assert any(r["values"].get("name") == masked for r in shared["records"])
    assert first["contact_phone"] in fire  # the agreement shows phones


def test_given_the_register_when_its_owner_reads_it_then_the_probe_sees_values(
    city: City,
) -> None:
    """The leak test's probe works: the owner's own read contains the raw values."""
    with city.muster.engine.connect() as conn:
        user = identity.get_user_by_username(conn, "psb.duty")
    assert user is not None

    owner = Actor(
        kind="user", id=user.id, department="PSB", roles=frozenset(user.roles)
    )
    result = city.muster.bus.handle(ReadShared(dataset=DATASET), owner)
    body = json.dumps(result.records, ensure_ascii=False)
    assert all(secret in body for secret in secrets_of(RESIDENTS[0]))
