"""A scripted flood incident on a simulated clock, shared by the scorecard and the
after-action report tests (tests/integration/test_scorecard.py, test_aar.py).

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
  +160   timers: follow-up report overdue; the scorecard's period ends at +165
MET never acts: acknowledgement late, forecast late (due +120).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from muster.bootstrap import Muster
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


def advance_to(clock: SimulatedClock, minutes: int) -> None:
    """Move the simulated clock to T0 + minutes."""
    clock.advance(T0 + timedelta(minutes=minutes) - clock.now())


def _deliver(sim: Muster, world: World, batch: int) -> None:
    rows = [{"station": f"S{batch}-{n}", "district": "岳麓"} for n in range(2)]
    command = IngestFile(
        dataset_code="GAUGES", source="test", data=json.dumps(rows).encode()
    )
    assert sim.bus.handle(command, world.water_duty).accepted == 2


def task_by_key(sim: Muster, incident: str, key: str) -> queries.TaskView:
    """Return the incident's task made from a plan template key."""
    with sim.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident)
    return next(t for t in tasks if t.template_key == key)


def _act(sim: Muster, world: World, incident: str, key: str, action: str) -> None:
    task = task_by_key(sim, incident, key)
    actor = {"TRANSPORT": world.transport_duty, "WATER": world.water_duty}
    sim.bus.handle(
        ActOnTask(task_id=task.id, action=action), actor[task.lead_department]
    )


def run_script(sim: Muster, clock: SimulatedClock) -> tuple[World, str]:
    """Play the scripted incident up to +160; return the world and incident id."""
    world = build_world(sim)
    metadata = DatasetMetadata(
        code="GAUGES", name_zh="水位站", name_en="Gauges", owner_department="WATER",
        sharing_class="CONDITIONAL", sharing_conditions="On request.",
        legal_basis="Water Law", data_grade="GENERAL", update_interval_minutes=60,
        format="json", connector="file_drop",
    )  # fmt: skip
    sim.bus.handle(RegisterDataset(metadata=metadata, fields=FIELDS), SYSTEM_ACTOR)
    advance_to(clock, -30)
    _deliver(sim, world, 1)
    advance_to(clock, 0)
    incident = flood_incident(sim, world)
    advance_to(clock, 7)
    _act(sim, world, incident, "close_road", "acknowledge")
    advance_to(clock, 10)
    request = RequestAccess(
        dataset="GAUGES", fields=("station", "district"), purposes=("traffic",),
        justification=WHY,
    )  # fmt: skip
    request_id = str(sim.bus.handle(request, world.transport_duty))
    advance_to(clock, 20)
    _deliver(sim, world, 2)
    advance_to(clock, 25)
    _act(sim, world, incident, "pumps", "acknowledge")
    advance_to(clock, 28)
    report = SendSituationReport(
        incident_id=incident, obligation="initial", content={"what": "积水 40 cm"}
    )
    sim.bus.handle(report, world.water_duty)
    advance_to(clock, 40)
    sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
    advance_to(clock, 45)
    _act(sim, world, incident, "close_road", "complete")
    advance_to(clock, 50)
    _act(sim, world, incident, "pumps", "complete")
    decide = DecideAccessRequest(request_id=request_id, approve=True, reason="Agreed")
    sim.bus.handle(decide, world.water_duty)
    read = ReadShared(dataset="GAUGES", purpose="traffic", incident_id=incident)
    sim.bus.handle(read, world.transport_duty)
    advance_to(clock, 100)
    _deliver(sim, world, 3)
    advance_to(clock, 160)
    sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
    return world, incident


def seqs_of_type(sim: Muster, type_: str, **match: object) -> list[int]:
    """Return the seqs of the logged events of a type whose data match."""
    with sim.engine.connect() as conn:
        recorded = sim.store.read_all(conn)
    return [
        r.envelope.seq
        for r in recorded
        if r.envelope.type == type_
        and all(r.envelope.data.get(k) == v for k, v in match.items())
    ]


def one_seq(sim: Muster, type_: str, **match: object) -> int:
    """Return the seq of the one logged event of a type whose data match."""
    (seq,) = seqs_of_type(sim, type_, **match)
    return seq
