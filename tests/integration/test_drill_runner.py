"""The drill runner: a hand-built scenario played unattended in a sandbox (ADR 0013)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import isoformat_utc
from muster.core.db import make_engine
from muster.core.eventlog.audit import verify_log
from muster.core.eventlog.signing import load_signing_key
from muster.core.eventlog.store import Recorded, SqlEventStore
from muster.core.messages import SYSTEM_ACTOR
from muster.drills import queries
from muster.drills.clock import ScaledClock
from muster.drills.domain.errors import InjectRefused
from muster.drills.domain.events import (
    DrillCompleted,
    DrillEvaluated,
    DrillStarted,
    MessageInjected,
)
from muster.drills.outcome import DrillReport
from muster.drills.runner import play_scaled, run_unattended, start_drill
from muster.drills.sandbox import sandbox_folder, sandbox_settings
from muster.identity import queries as identity
from muster.identity.domain.commands import SignIn
from muster.ingest.domain.commands import IngestCap
from muster.notify.domain.events import NotificationQueued
from muster.notify.domain.model import EXERCISE_PREFIX_EN
from muster.response import queries as response
from tests import factories
from tests.drill_setup import EXERCISE_CAP, small_scenario
from tests.response_setup import build_world


@dataclass(frozen=True)
class Ran:
    """A drill run on the response world, with both logs' new events."""

    live: Muster
    report: DrillReport
    live_before: int
    live_new: list[Recorded]
    sandbox_new: list[Recorded]
    sandbox_url: str


def _read(source: str | Engine, after: int) -> list[Recorded]:
    """Return the events after a seq of a database (a URL) or an engine."""
    engine = make_engine(source) if isinstance(source, str) else source
    try:
        with engine.connect() as conn:
            return SqlEventStore().read_all(conn, after=after)
    finally:
        if isinstance(source, str):
            engine.dispose()


def _head(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


@pytest.fixture
def ran(muster: Muster) -> Ran:
    """The small flood scenario played unattended on the response world."""
    build_world(muster)
    before = _head(muster)
    report = run_unattended(muster, small_scenario())
    url = f"sqlite:///{report.sandbox_path}"
    return Ran(
        live=muster,
        report=report,
        live_before=before,
        live_new=_read(muster.engine, before),
        sandbox_new=_read(url, report.live_head_seq),
        sandbox_url=url,
    )


def test_given_a_small_scenario_when_run_unattended_then_the_sandbox_holds_the_incident_and_tasks(  # noqa: E501
    ran: Ran,
) -> None:
    """The drill incident, its plan tasks and the scripted acts are in the sandbox."""
    engine = make_engine(ran.sandbox_url)
    try:
        with engine.connect() as conn:
            incident_id = str(ran.report.incident_id)
            incident = response.get_incident(conn, incident_id)
            listed = response.incident_tasks(conn, incident_id)
    finally:
        engine.dispose()

    assert incident is not None
    assert (incident.title, incident.plan_code, incident.level) == (
        "演练：滨江路积水", "FLOOD_URBAN", "L4",
    )  # fmt: skip
    assert incident.facts == {"rain_24h_mm": 80}
    tasks = {task.template_key: task for task in listed}
    assert tasks["close_road"].status == "in_progress"
    assert tasks["pumps"].status == "acknowledged"
    assert tasks["forecast"].status == "assigned"
    assert all(step.ok for step in ran.report.steps), ran.report.steps


def test_given_a_drill_when_it_ran_then_every_sandbox_event_is_an_exercise_of_it(
    ran: Ran,
) -> None:
    """Every event appended in the sandbox carries is_exercise and the drill id,
    the timers' and notifications' too."""
    types = {item.envelope.type for item in ran.sandbox_new}

    assert {
        "response.IncidentOpened", "response.TaskAssigned",
        "response.EscalationStepReached", "notify.NotificationQueued",
    } <= types  # fmt: skip
    assert all(
        item.envelope.metadata == {"is_exercise": True, "drill_id": ran.report.drill_id}
        for item in ran.sandbox_new
    )
    messages = [
        i.event for i in ran.sandbox_new if isinstance(i.event, MessageInjected)
    ]
    assert [m.to for m in messages] == [("TRANSPORT", "WATER")]
    briefings = [
        i.event
        for i in ran.sandbox_new
        if isinstance(i.event, NotificationQueued)
        and i.event.subject_en.endswith("Drill briefing")
    ]
    assert briefings  # the departments' duty officers and heads were told
    assert all(n.subject_en.startswith(EXERCISE_PREFIX_EN) for n in briefings)


def test_given_a_drill_when_it_ran_then_the_live_log_gains_only_its_start_and_completion(  # noqa: E501
    ran: Ran,
) -> None:
    """The live log records DrillStarted and DrillCompleted, marked as exercise."""
    assert [item.envelope.type for item in ran.live_new] == [
        "drills.DrillStarted", "drills.DrillCompleted",
    ]  # fmt: skip
    assert all(item.envelope.is_exercise for item in ran.live_new)
    started, completed = (item.event for item in ran.live_new)
    assert isinstance(started, DrillStarted)
    assert isinstance(completed, DrillCompleted)
    assert started.live_head_seq == ran.live_before
    assert completed.sandbox_last_seq == ran.report.sandbox_last_seq
    assert completed.departments == ("EMB", "TRANSPORT", "WATER")


def test_given_a_drill_when_it_ran_then_it_is_evaluated_in_both_logs(ran: Ran) -> None:
    """TRANSPORT acknowledged in time, WATER late, MET never: the evaluation says so
    in the sandbox (DrillEvaluated) and, per department, in the live log."""
    evaluated = [
        i.event for i in ran.sandbox_new if isinstance(i.event, DrillEvaluated)
    ]
    with ran.live.engine.connect() as conn:
        drill = queries.get_drill(conn, ran.report.drill_id)

    statuses = {r["id"]: r["status"] for r in ran.report.results}
    assert statuses == {
        "transport-ack": "met",
        "water-ack": "late",
        "met-ack": "missed",
    }
    assert [e.results for e in evaluated] == [ran.report.results]
    assert drill is not None
    assert drill.completed is not None
    assert drill.status == "completed"
    assert {row["department"]: (row["met"], row["late"], row["missed"])
            for row in drill.completed.summary} == {
        "MET": (0, 0, 1), "TRANSPORT": (1, 0, 0), "WATER": (0, 1, 0),
    }  # fmt: skip


def test_given_a_drill_when_its_sandbox_is_verified_then_its_chain_continues_the_live_one(  # noqa: E501
    ran: Ran,
) -> None:
    """The sandbox chain verifies with the drill's own key and holds the live
    prefix byte for byte: the hash at the copied head is the live hash there."""
    key = load_signing_key(
        sandbox_folder(ran.live.settings) / f"{ran.report.drill_id}.key.pem"
    )
    engine = make_engine(ran.sandbox_url)
    try:
        report = verify_log(engine, public_keys={key.key_id: key.public_key})
        sandbox_prefix = _read(engine, 0)[: ran.report.live_head_seq]
    finally:
        engine.dispose()
    live_prefix = _read(ran.live.engine, 0)[: ran.report.live_head_seq]

    assert report.ok, report.problems
    assert report.head_seq == ran.report.sandbox_last_seq
    assert report.head_hash.hex() == ran.report.sandbox_head_hash
    assert [i.hash for i in sandbox_prefix] == [i.hash for i in live_prefix]


def test_given_a_cap_inject_that_is_no_exercise_when_run_then_it_is_refused_before_anything_starts(  # noqa: E501
    muster: Muster,
) -> None:
    """A CAP alert with status Actual is refused: no sandbox, nothing logged."""
    build_world(muster)
    before = _head(muster)

    with pytest.raises(InjectRefused):
        run_unattended(muster, small_scenario(cap_status="Actual"))

    assert _head(muster) == before
    assert not sandbox_folder(muster.settings).exists()


def test_given_an_attended_drill_when_played_in_scaled_time_then_it_runs_to_its_end(
    muster: Muster,
) -> None:
    """On a fast scaled clock the scripted drill plays to its end and completes."""
    build_world(muster)
    clock = ScaledClock(muster.clock.now(), speed=1200.0)  # an hour in 3 seconds
    clock.pause()
    drill = start_drill(
        muster, small_scenario(), mode="attended", clock=clock, speed=clock.speed
    )
    try:
        finished = play_scaled(
            drill, clock, scripted=True, ticking=True, stop=threading.Event(),
            tick_seconds=0.05,
        )  # fmt: skip
        report = drill.finish(ended_early=not finished)
    finally:
        drill.close()

    assert finished
    assert [r["id"] for r in report.results] == [
        "transport-ack",
        "water-ack",
        "met-ack",
    ]
    with muster.engine.connect() as conn:
        listed = queries.list_drills(conn)
    assert [(d.drill_id, d.started.mode, d.status) for d in listed] == [
        (report.drill_id, "attended", "completed")
    ]


def test_given_a_drill_sandbox_when_a_real_alert_arrives_then_it_is_refused(
    ran: Ran,
) -> None:
    """A sandbox deployment refuses every CAP alert that is no exercise, wherever it
    comes from (a feed, an API client), and files exercise alerts as usual."""
    sandbox = bootstrap(sandbox_settings(ran.live.settings, ran.report.drill_id))
    try:
        with pytest.raises(InjectRefused):
            sandbox.bus.handle(
                IngestCap(source="feed:x", data=_cap("Actual")), SYSTEM_ACTOR
            )
        outcome = sandbox.bus.handle(
            IngestCap(source="feed:x", data=_cap("Exercise")), SYSTEM_ACTOR
        )
    finally:
        sandbox.engine.dispose()

    assert outcome.status == "accepted"


def test_given_a_drill_sandbox_when_people_sign_in_then_their_live_passwords_work(
    ran: Ran,
) -> None:
    """Credentials live outside the log; the sandbox copies them, so people sign in
    to a served drill as they do every day (and their sessions stay in the drill)."""
    sandbox = bootstrap(sandbox_settings(ran.live.settings, ran.report.drill_id))
    token = hashlib.sha256(b"drill-session").hexdigest()
    try:
        sandbox.bus.handle(
            SignIn(username="t.duty", password=factories.PASSWORD, session_hash=token),
            SYSTEM_ACTOR,
        )
        with sandbox.engine.connect() as conn:
            user = identity.session_user(
                conn, token, now=isoformat_utc(sandbox.clock.now())
            )
    finally:
        sandbox.engine.dispose()
    with ran.live.engine.connect() as conn:
        live_user = identity.session_user(
            conn, token, now=isoformat_utc(ran.live.clock.now())
        )

    assert user is not None
    assert user.username == "t.duty"
    assert live_user is None


def _cap(status: str) -> bytes:
    return EXERCISE_CAP.format(status=status).encode()
