"""What a department knew at a moment, from a scripted flood incident on a simulated
clock (SQLite and PostgreSQL), and ``muster knew`` on the same log.

Timeline (minutes from T0 = 08:00; setup from 07:00):
  07:30  WATER delivers its gauges (2 records)
  +0     incident opened, plan activated at L4: close_road → TRANSPORT
  +1     notify tick: the duty officers are told of their tasks
  +7     TRANSPORT acknowledges close_road
  +10    TRANSPORT asks WATER for the gauges
  +28    WATER sends TRANSPORT an ad hoc situation report
  +45    TRANSPORT completes close_road
  +50    WATER approves the request; TRANSPORT reads the gauges for the incident
  +55    the commander proposes raising the level to EMB, WATER and TRANSPORT
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from muster.bootstrap import Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.cli import app
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.domain.commands import IngestFile
from muster.notify.domain.commands import DeliverDueNotifications
from muster.response import queries
from muster.response.domain.commands import (
    ActOnTask,
    ProposeDecision,
    SendSituationReport,
)
from muster.review.knowledge import department_knowledge, knowledge_json
from muster.settings import Settings, get_settings
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    ReadShared,
    RequestAccess,
)
from tests.conftest import TEST_SECRET
from tests.response_setup import World, build_world, flood_incident

SETUP = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
T0 = SETUP + timedelta(hours=1)
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
    deployment = bootstrap(settings, clock=clock)
    yield deployment
    deployment.engine.dispose()


def at(minutes: int) -> datetime:
    """Return T0 plus minutes."""
    return T0 + timedelta(minutes=minutes)


def to(clock: SimulatedClock, minutes: int) -> None:
    """Move the simulated clock to T0 plus minutes."""
    clock.advance(at(minutes) - clock.now())


@dataclass(frozen=True)
class Scripted:
    """The scripted incident: its actors, id and the road task's id."""

    world: World
    incident_id: str
    road_task_id: str


def road_task(sim: Muster, incident_id: str) -> queries.TaskView:
    """Return the incident's close_road task as it stands live."""
    with sim.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task for task in tasks if task.template_key == "close_road")


def script(sim: Muster, clock: SimulatedClock) -> Scripted:
    """Run the module's timeline on the deployment."""
    world = build_world(sim)
    metadata = DatasetMetadata(
        code="GAUGES", name_zh="水位站", name_en="Gauges", owner_department="WATER",
        sharing_class="CONDITIONAL", sharing_conditions="On request.",
        legal_basis="Water Law", data_grade="GENERAL", update_interval_minutes=60,
        format="json", connector="file_drop",
    )  # fmt: skip
    sim.bus.handle(RegisterDataset(metadata=metadata, fields=FIELDS), SYSTEM_ACTOR)
    to(clock, -30)
    rows = [{"station": f"S{n}", "district": "岳麓"} for n in range(2)]
    ingest = IngestFile(
        dataset_code="GAUGES", source="t", data=json.dumps(rows).encode()
    )
    sim.bus.handle(ingest, world.water_duty)
    to(clock, 0)
    incident_id = flood_incident(sim, world)
    road = road_task(sim, incident_id).id
    to(clock, 1)
    sim.bus.handle(DeliverDueNotifications(), SYSTEM_ACTOR)
    to(clock, 7)
    sim.bus.handle(ActOnTask(task_id=road, action="acknowledge"), world.transport_duty)
    to(clock, 10)
    request = RequestAccess(
        dataset="GAUGES", fields=("station", "district"), purposes=("traffic",),
        justification="Traffic control needs the river gauge levels.",
    )  # fmt: skip
    request_id = str(sim.bus.handle(request, world.transport_duty))
    to(clock, 28)
    report = SendSituationReport(
        incident_id=incident_id, content={"what": "积水 40 cm"}, recipient="TRANSPORT"
    )
    sim.bus.handle(report, world.water_duty)
    to(clock, 45)
    sim.bus.handle(ActOnTask(task_id=road, action="complete"), world.transport_duty)
    to(clock, 50)
    decide = DecideAccessRequest(request_id=request_id, approve=True, reason="Agreed")
    sim.bus.handle(decide, world.water_duty)
    read = ReadShared(dataset="GAUGES", purpose="traffic", incident_id=incident_id)
    sim.bus.handle(read, world.transport_duty)
    to(clock, 55)
    propose = ProposeDecision(
        incident_id=incident_id, title="Raise to level II",
        departments=("EMB", "WATER", "TRANSPORT"), raises_to="L2",
    )  # fmt: skip
    sim.bus.handle(propose, world.commander)
    return Scripted(world=world, incident_id=incident_id, road_task_id=road)


def seq_of(sim: Muster, type_: str, **match: object) -> int:
    """Return the seq of the one event of a type whose data match."""
    with sim.engine.connect() as conn:
        found = [
            r.envelope.seq
            for r in sim.store.read_all(conn)
            if r.envelope.type == type_
            and all(r.envelope.data.get(k) == v for k, v in match.items())
        ]
    assert len(found) == 1, found
    return found[0]


def test_given_the_scripted_incident_when_asking_at_20_minutes_then_transport_knew_its_task_acknowledged_and_its_request_waiting(  # noqa: E501
    sim: Muster, clock: SimulatedClock
) -> None:
    """At +20 TRANSPORT had its road task (acknowledged), a notification about it,
    its access request still unanswered, and no shared data yet."""
    scripted = script(sim, clock)

    with sim.engine.connect() as conn:
        report = department_knowledge(conn, "TRANSPORT", at(20))

    knowledge = report.knowledge
    assigned = seq_of(sim, "response.TaskAssigned", task_id=scripted.road_task_id)
    (task,) = knowledge.tasks
    assert (task.task_id, task.status, task.seq) == (
        scripted.road_task_id, "acknowledged", assigned,
    )  # fmt: skip
    assert [r.state for r in knowledge.access_requests] == ["requested"]
    assert knowledge.data_access == ()
    assert knowledge.reports == ()
    told = {n.recipient for n in knowledge.notifications}
    assert told == {scripted.world.transport_duty.id}
    assert [n.cause_type for n in knowledge.notifications] == [
        "response.ResponseActivated", "response.TaskAssigned",
    ]  # fmt: skip
    # The range: every event up to +20, and the chain hash at the last of them.
    with sim.engine.connect() as conn:
        up_to = [
            r
            for r in sim.store.read_all(conn)
            if r.envelope.occurred_at <= isoformat_utc(at(20))
        ]
    assert report.log_range is not None
    assert (report.log_range.first_seq, report.log_range.last_seq) == (
        1, up_to[-1].envelope.seq,
    )  # fmt: skip
    assert report.log_range.head_hash == up_to[-1].hash.hex()


def test_given_the_scripted_incident_when_asking_at_60_minutes_then_transport_knew_the_data_report_and_decision(  # noqa: E501
    sim: Muster, clock: SimulatedClock
) -> None:
    """At +60 TRANSPORT had read the gauges (2 records, one delivery), had WATER's
    report, its task done, and the decision it was invited to; WATER's own
    knowledge does not include TRANSPORT's read."""
    scripted = script(sim, clock)

    with sim.engine.connect() as conn:
        transport = department_knowledge(conn, "TRANSPORT", at(60)).knowledge
        scoped = department_knowledge(
            conn, "TRANSPORT", at(60), scripted.incident_id
        ).knowledge
        water = department_knowledge(conn, "WATER", at(60)).knowledge

    (read,) = transport.data_access
    assert read.seq == seq_of(sim, "sharing.AccessDecided")
    assert (read.dataset, read.provider, read.decision, read.records) == (
        "GAUGES", "WATER", "allow", 2,
    )  # fmt: skip
    assert (read.purpose, read.incident_id) == ("traffic", scripted.incident_id)
    assert [(r.state, r.seqs) for r in transport.access_requests] == [
        (
            "approved",
            (
                seq_of(sim, "sharing.AccessRequested"),
                seq_of(sim, "sharing.AccessRequestDecided"),
            ),
        )
    ]
    assert [(r.sender, r.content) for r in transport.reports] == [
        ("WATER", (("what", "积水 40 cm"),))
    ]
    assert [t.status for t in transport.tasks] == ["done"]
    (decision,) = transport.decisions
    assert (decision.title, decision.position, decision.outcome) == (
        "Raise to level II", None, None,
    )  # fmt: skip
    # One incident: the read was for it; the request belongs to no incident.
    assert len(scoped.data_access) == 1
    assert scoped.access_requests == ()
    assert water.data_access == ()


def test_given_the_scripted_incident_when_running_muster_knew_json_then_it_prints_the_same_knowledge(  # noqa: E501
    sim: Muster, clock: SimulatedClock, settings: Settings
) -> None:
    """``muster knew --json`` prints what the query computes, with the log range."""
    scripted = script(sim, clock)
    with sim.engine.connect() as conn:
        expected = knowledge_json(
            department_knowledge(conn, "TRANSPORT", at(60), scripted.incident_id)
        )
    env = {
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": TEST_SECRET,
        "MUSTER_DATA_DIR": str(settings.data_dir),
    }
    arguments = [
        "knew", "--department", "TRANSPORT", "--at", isoformat_utc(at(60)),
        "--incident", scripted.incident_id,
    ]  # fmt: skip

    get_settings.cache_clear()
    as_json = CliRunner().invoke(app, [*arguments, "--json"], env=env)
    as_text = CliRunner().invoke(app, arguments, env=env)
    get_settings.cache_clear()

    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout.strip().splitlines()[-1]) == expected
    assert expected["chain_head_hash"] in as_text.stdout
    assert "Close road S203 km 12–15 (lead): done" in as_text.stdout
