"""Reports fused into incidents through the bus: hotline tickets, field reports, and
a duty officer's merge and split, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import NotFound, PermissionDenied, ValidationFailed
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest.domain.commands import IngestFile
from muster.response import queries as incidents
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.situation.domain.commands import MergeClusters, SplitCluster, SubmitReport
from muster.situation.read_models import clusters, reports
from tests.prepared import example_pack, prepared_for

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
FIRE = Actor(kind="user", id="fire.duty", department="FIRE",
             roles=frozenset({"duty_officer"}))  # fmt: skip
OBSERVER = Actor(kind="user", id="olga", department="EMB",
                 roles=frozenset({"observer"}))  # fmt: skip


prepared = prepared_for("city", example_pack(at=START))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """The demo pack (report streams and fusion settings) on a simulated clock (the
    test's copy of it loaded once: ``prepared``, tests/prepared.py)."""
    muster = bootstrap(settings, clock=SimulatedClock(START))
    yield muster
    muster.engine.dispose()


def _tickets(city: Muster, *tickets: tuple[str, str, str, str]) -> None:
    """Push hotline tickets: (id, minute, category, "lat,lon")."""
    rows = [
        {"ticket_id": ident, "received_at": f"2026-07-01T08:{minute}:00Z",
         "caller_name": "王秀英", "caller_phone": "13800001234", "category": category,
         "description": f"市民来电：{category}", "location": where}
        for ident, minute, category, where in tickets
    ]  # fmt: skip
    city.bus.handle(
        IngestFile(dataset_code="HOTLINE_CITIZEN_REPORTS", source="push",
                   data=json.dumps(rows, ensure_ascii=False).encode()),
        SYSTEM_ACTOR,
    )  # fmt: skip


def _clusters(city: Muster) -> dict[str, tuple[int, str | None, str | None]]:
    with city.engine.connect() as conn:
        return {
            row.cluster_id: (row.reports, row.incident_id, row.link_action)
            for row in conn.execute(select(clusters).where(clusters.c.status == "open"))
        }


def test_given_two_nearby_flooding_tickets_when_ingested_then_they_fuse_and_propose_one_incident(  # noqa: E501
    city: Muster,
) -> None:
    """Given two flooding tickets 300 m and 10 minutes apart and one 20 km away,
    when ingested, then the two fuse (the reason says how near) and propose one
    incident; the far one waits alone; no caller data enters the fused report."""
    _tickets(
        city,
        ("T1", "00", "flooding", "28.2000,112.9000"),
        ("T2", "10", "flooding", "28.2027,112.9000"),
        ("T3", "12", "flooding", "28.3800,112.9000"),
    )

    found = _clusters(city)
    assert found["C-HOTLINE_CITIZEN_REPORTS:T1"][:2][0] == 2
    assert found["C-HOTLINE_CITIZEN_REPORTS:T1"][2] == "proposed"
    assert found["C-HOTLINE_CITIZEN_REPORTS:T3"] == (1, None, None)
    with city.engine.connect() as conn:
        (incident,) = incidents.open_incidents(conn)
        second = conn.execute(
            select(reports).where(reports.c.report_id == "HOTLINE_CITIZEN_REPORTS:T2")
        ).one()
        texts = " ".join(row.text for row in conn.execute(select(reports)))
    assert (incident.type_code, incident.status) == ("11A00", "reported")
    assert (second.relation, second.minutes_apart) == ("same_subcategory", 10.0)
    assert second.distance_km == pytest.approx(0.3, abs=0.01)
    assert "王秀英" not in texts
    assert "13800001234" not in texts


def test_given_an_open_flood_incident_when_a_field_report_and_a_ticket_arrive_nearby_then_both_attach(  # noqa: E501
    city: Muster,
) -> None:
    """Given an open 11A01 incident, when a fire crew reports flooding 1 km away and
    a citizen calls about it, then their cluster attaches to that incident (no new
    incident), and re-sending the ticket fuses nothing twice."""
    incident_id = city.bus.handle(
        OpenIncident(title="澜江路积水", category="NATURAL_DISASTER", latitude=28.2,
                     longitude=112.9, type_code="11A01"),
        Actor(kind="user", id="c", department="EMB", roles=frozenset({"commander"})),
    )  # fmt: skip

    city.bus.handle(
        SubmitReport(category="11A00", latitude=28.209, longitude=112.9,
                     text="消防：道路积水约0.5米"),
        FIRE,
    )  # fmt: skip
    _tickets(city, ("T9", "05", "trapped_people", "28.2095,112.9005"))
    _tickets(city, ("T9", "05", "trapped_people", "28.2095,112.9005"))

    ((count, linked, action),) = _clusters(city).values()
    assert (count, linked, action) == (2, incident_id, "attached")
    with city.engine.connect() as conn:
        assert len(incidents.open_incidents(conn)) == 1


def test_given_two_clusters_when_a_duty_officer_merges_and_splits_then_reports_move(
    city: Muster,
) -> None:
    """Given two clusters, when merged (with a reason) and a report split out again,
    then the reports move; an observer is refused, a blank reason or an unknown
    cluster is refused."""
    _tickets(
        city,
        ("A1", "00", "building_damage", "28.10,112.80"),
        ("B1", "01", "building_damage", "28.15,112.80"),
    )
    keep, other = "C-HOTLINE_CITIZEN_REPORTS:A1", "C-HOTLINE_CITIZEN_REPORTS:B1"
    with pytest.raises(PermissionDenied):
        city.bus.handle(
            MergeClusters(keep=keep, other=other, reason="同一处"), OBSERVER
        )
    with pytest.raises(ValidationFailed):
        city.bus.handle(MergeClusters(keep=keep, other=other, reason=" "), FIRE)

    city.bus.handle(MergeClusters(keep=keep, other=other, reason="同一栋楼"), FIRE)
    assert _clusters(city) == {keep: (2, None, None)}

    new = city.bus.handle(
        SplitCluster(cluster_id=keep, report_ids=("HOTLINE_CITIZEN_REPORTS:B1",),
                     reason="不是同一栋楼"),
        FIRE,
    )  # fmt: skip
    assert new == "C-HOTLINE_CITIZEN_REPORTS:B1~2"
    assert _clusters(city) == {keep: (1, None, None), new: (1, None, None)}
    with pytest.raises(NotFound):
        city.bus.handle(MergeClusters(keep=keep, other=other, reason="x"), FIRE)
