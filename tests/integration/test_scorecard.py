"""A scripted flood incident on a simulated clock, scored: every figure computed by
hand here, and traced back to the events behind it (SQLite and PostgreSQL).

Timeline (minutes from T0 = 08:00; setup from 07:00):
  07:00  world, WATER's gauge dataset (SLA 60 min), first delivery at 07:30
  +0     incident opened, plan activated: close_road TRANSPORT (ack 15, due 60),
         pumps WATER (ack 10, due 30), forecast MET (ack 20, due 120); initial report
         due +30 (WATER), follow-ups every 120
  +7     TRANSPORT acknowledges close_road      → 7 min, on time
  +10    TRANSPORT asks WATER for the gauges
  +20    second delivery (gap 50 ≤ 60: on time)
  +25    WATER acknowledges pumps                → 25 min, late (deadline +10)
  +28    WATER sends the initial report          → on time (+30); next due +148
  +40    timers: pumps overdue
  +45    TRANSPORT completes close_road          → on time (+60)
  +50    WATER completes pumps                   → late (+30); WATER approves the
         request (40 min after it); TRANSPORT reads the gauges (records shared)
  +100   third delivery (gap 80 > 60: late)
  +160   timers: follow-up report overdue; period ends at +165
MET never acts: acknowledgement late, forecast late (due +120).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.clock import SimulatedClock
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.domain.commands import IngestFile
from muster.response import queries
from muster.response.domain.commands import ActOnTask, RunTimers, SendSituationReport
from muster.review import metrics_queries
from muster.review.domain import metrics as m
from muster.review.scorecard_cli import report_json
from muster.settings import Settings
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    ReadShared,
    RequestAccess,
)
from tests.response_setup import World, build_world, flood_incident

SETUP = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
T0 = SETUP + timedelta(hours=1)
END = T0 + timedelta(minutes=165)
WHY = "Traffic control needs the river gauge levels near the closed road."
FIELDS = (
    DatasetField(name="station", type="string", required=True),
    DatasetField(name="district", type="string"),
)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


def _to(clock: SimulatedClock, minutes: int) -> None:
    clock.advance(T0 + timedelta(minutes=minutes) - clock.now())


def _deliver(sim: Muster, world: World, batch: int) -> None:
    rows = [{"station": f"S{batch}-{n}", "district": "岳麓"} for n in range(2)]
    command = IngestFile(
        dataset_code="GAUGES", source="test", data=json.dumps(rows).encode()
    )
    assert sim.bus.handle(command, world.water_duty).accepted == 2


def _task(sim: Muster, incident: str, key: str) -> queries.TaskView:
    with sim.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident)
    return next(t for t in tasks if t.template_key == key)


def _act(sim: Muster, world: World, incident: str, key: str, action: str) -> None:
    task = _task(sim, incident, key)
    actor = {"TRANSPORT": world.transport_duty, "WATER": world.water_duty}
    sim.bus.handle(
        ActOnTask(task_id=task.id, action=action), actor[task.lead_department]
    )


def _script(sim: Muster, clock: SimulatedClock) -> tuple[World, str]:
    world = build_world(sim)
    metadata = DatasetMetadata(
        code="GAUGES", name_zh="水位站", name_en="Gauges", owner_department="WATER",
        sharing_class="CONDITIONAL", sharing_conditions="On request.",
        legal_basis="Water Law", data_grade="GENERAL", update_interval_minutes=60,
        format="json", connector="file_drop",
    )  # fmt: skip
    sim.bus.handle(RegisterDataset(metadata=metadata, fields=FIELDS), SYSTEM_ACTOR)
    _to(clock, -30)
    _deliver(sim, world, 1)
    _to(clock, 0)
    incident = flood_incident(sim, world)
    _to(clock, 7)
    _act(sim, world, incident, "close_road", "acknowledge")
    _to(clock, 10)
    request = RequestAccess(
        dataset="GAUGES", fields=("station", "district"), purposes=("traffic",),
        justification=WHY,
    )  # fmt: skip
    request_id = str(sim.bus.handle(request, world.transport_duty))
    _to(clock, 20)
    _deliver(sim, world, 2)
    _to(clock, 25)
    _act(sim, world, incident, "pumps", "acknowledge")
    _to(clock, 28)
    report = SendSituationReport(
        incident_id=incident, obligation="initial", content={"what": "积水 40 cm"}
    )
    sim.bus.handle(report, world.water_duty)
    _to(clock, 40)
    sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
    _to(clock, 45)
    _act(sim, world, incident, "close_road", "complete")
    _to(clock, 50)
    _act(sim, world, incident, "pumps", "complete")
    decide = DecideAccessRequest(request_id=request_id, approve=True, reason="Agreed")
    sim.bus.handle(decide, world.water_duty)
    read = ReadShared(dataset="GAUGES", purpose="traffic", incident_id=incident)
    sim.bus.handle(read, world.transport_duty)
    _to(clock, 100)
    _deliver(sim, world, 3)
    _to(clock, 160)
    sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
    return world, incident


def _seqs(sim: Muster, type_: str, **match: object) -> list[int]:
    with sim.engine.connect() as conn:
        recorded = sim.store.read_all(conn)
    return [
        r.envelope.seq
        for r in recorded
        if r.envelope.type == type_
        and all(r.envelope.data.get(k) == v for k, v in match.items())
    ]


def _one(sim: Muster, type_: str, **match: object) -> int:
    (seq,) = _seqs(sim, type_, **match)
    return seq


def test_given_a_scripted_incident_when_scored_then_figures_match_the_hand_count(
    sim: Muster, clock: SimulatedClock
) -> None:
    """Each department's figures and score equal the hand count, list the events
    behind them, and the report names the log range and chain hash it used."""
    _world, incident = _script(sim, clock)
    first_in_period = _one(sim, "response.IncidentOpened")
    with sim.engine.connect() as conn:
        head_seq, head_hash = sim.store.head(conn)
        report = metrics_queries.scorecards(conn, start=T0, end=END, store=sim.store)

    (live,) = report.scorecards
    transport, water, met = (live.of(d) for d in ("TRANSPORT", "WATER", "MET"))
    # TRANSPORT: ack 7 min on time (1/1), road closed on time (1/1), 1 task done;
    # score 100·(1·1 + 2·1)/(1 + 2) = 100.
    assert transport.figure(m.ACK_LATENCY).value == 7.0
    assert transport.figure(m.ACK_ON_TIME).value == Fraction(1)
    assert transport.figure(m.TASK_ON_TIME).value == Fraction(1)
    assert transport.figure(m.TASKS_COMPLETED).value == 1.0
    assert transport.score == Fraction(100)
    # WATER: ack 25 min late (0/1), pumps late (0/1), reports 1/2 (initial on time,
    # follow-up unsent), freshness 1/2 (50 ≤ 60, 80 > 60), request answered (1/1) in
    # 40 min; score 100·(0·1 + 0·2 + ½·2 + ½·1 + 1·1)/(1 + 2 + 2 + 1 + 1) = 250/7.
    assert (water.figure(m.ACK_LATENCY).value, water.figure(m.ACK_LATENCY).p90) == (
        25.0, 25.0,
    )  # fmt: skip
    assert water.figure(m.ACK_ON_TIME).value == Fraction(0)
    assert water.figure(m.TASK_ON_TIME).value == Fraction(0)
    assert water.figure(m.REPORT_ON_TIME).value == Fraction(1, 2)
    assert water.figure(m.FRESHNESS_ON_TIME).value == Fraction(1, 2)
    assert water.figure(m.SHARING_ANSWERED).value == Fraction(1)
    assert water.figure(m.SHARING_ANSWER_LATENCY).value == 40.0
    assert water.figure(m.DATA_SHARED).value == 4.0  # read at +50: 2 deliveries × 2
    assert water.score == Fraction(250, 7)
    # MET never acted: ack late (0/1), forecast late (0/1): score 0.
    assert met.score == Fraction(0)
    assert met.figure(m.ACK_LATENCY).value is None
    # Recomputable: the period's first and last seqs and the chain hash at the last.
    assert report.log_range == metrics_queries.LogRange(
        first_in_period, head_seq, head_hash.hex()
    )
    document = report_json(report)
    assert document["log_range"] == {"first_seq": first_in_period, "last_seq": head_seq}
    assert document["chain_head_hash"] == head_hash.hex()
    water_json = document["scorecards"][0]["departments"][2]
    assert water_json["process"]["reports_on_time"]["exact"] == "1/2"

    # Drill-down: each figure lists exactly the events behind it.
    pumps_id = _task(sim, incident, "pumps").id
    pumps = _one(sim, "response.TaskAssigned", task_id=pumps_id)
    assert water.figure(m.ACK_LATENCY).seqs == (
        pumps, _one(sim, "response.TaskAcknowledged", task_id=pumps_id),
    )  # fmt: skip
    assert water.figure(m.TASK_ON_TIME).seqs == (
        pumps,
        _one(sim, "response.TaskOverdue", task_id=pumps_id),
        _one(sim, "response.TaskCompleted", task_id=pumps_id),
    )
    report_seqs = (
        _one(sim, "response.ReportDueSet"),
        _one(sim, "response.SituationReportSent"),
        _one(sim, "response.ReportOverdue"),
    )
    assert water.figure(m.REPORT_ON_TIME).seqs == report_seqs
    assert water.figure(m.FRESHNESS_ON_TIME).seqs == tuple(
        _seqs(sim, "ingest.BatchIngested")
    )
    assert water.figure(m.SHARING_ANSWERED).seqs == (
        _one(sim, "sharing.AccessRequested"),
        _one(sim, "sharing.AccessRequestDecided"),
    )
    assert water.figure(m.DATA_SHARED).seqs == (_one(sim, "sharing.AccessDecided"),)

    # One incident: freshness and sharing belong to no incident and drop out:
    # WATER 100·(0·1 + 0·2 + ½·2)/(1 + 2 + 2) = 20.
    with sim.engine.connect() as conn:
        scoped = metrics_queries.scorecards(
            conn, start=T0, end=END, incident_id=incident, store=sim.store
        )
    assert scoped.scorecards[0].of("WATER").score == Fraction(20)
