"""Replay: rebuilding read models from the log gives what live projection gave (R10)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
    ReviseAlert,
    SetWarningTemplates,
)
from muster.bootstrap import PROJECTIONS, Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.errors import AuthenticationFailed, PermissionDenied
from muster.core.eventlog.replay import rebuild
from muster.core.eventlog.tables import projection_positions
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries
from muster.identity.domain.commands import (
    ChangeLanguage,
    IssueApiKey,
    RegisterDepartment,
    RevokeApiKey,
    SignIn,
    SignOut,
)
from muster.identity.read_models import credentials
from muster.ingest.domain.commands import EvaluateQuality, IngestFile
from muster.notify.domain.commands import DeliverDueNotifications, SetWebhook
from muster.pack import read_pack
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    ChangeResourceStatus,
    CommitResource,
    DecideAllocation,
    DeclineRequest,
    RecordAllocationProposal,
    RegisterResource,
    RegisterResourceType,
    RequestResource,
)
from muster.response import queries as response_queries
from muster.response.domain.commands import (
    ActOnTask,
    ProposeDecision,
    RunTimers,
    SendSituationReport,
    SignDecision,
)
from muster.response.domain.events import IncidentOpened
from muster.review.domain.commands import (
    AdoptImprovementItems,
    ChangeImprovementItem,
    ImprovementItemDraft,
    PinTimelineEvent,
)
from muster.review.domain.settings import SetScorecardWeights
from muster.settings import Settings
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    OpenBreakGlass,
    ReadShared,
    ReconcileGrants,
    RegisterAgreement,
    RequestAccess,
    RevokeAgreement,
)
from muster.situation.domain.cascade_events import RegisterCascadeModel
from muster.situation.domain.commands import (
    ConcludeAssessment,
    OpenAssessment,
    RegisterTriggerRules,
    SubmitReport,
    SubmitView,
)
from muster.training.domain.commands import RecordTraining, RegisterCourse
from tests import factories
from tests.response_setup import build_world, flood_incident

Snapshot = dict[str, list[tuple[Any, ...]]]
EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))


def _snapshot(muster: Muster) -> Snapshot:
    """Return every row of every projected table, sorted."""
    with muster.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr
            )
            for projection in PROJECTIONS
            for table in projection.tables
        }


def _positions(muster: Muster) -> dict[str, int]:
    with muster.engine.connect() as conn:
        rows = conn.execute(select(projection_positions))
        return {row.name: int(row.position) for row in rows}


def _head(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def _session(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sign_in(muster: Muster, username: str, password: str, token: str) -> None:
    command = SignIn(username=username, password=password, session_hash=_session(token))
    if password == factories.PASSWORD:
        muster.bus.handle(command, SYSTEM_ACTOR)
        return
    with pytest.raises(AuthenticationFailed):  # still logged, as SignInFailed
        muster.bus.handle(command, SYSTEM_ACTOR)


def _incidents(muster: Muster, actor: Actor, count: int, prefix: str) -> None:
    for index in range(count):
        factories.incident(muster, actor, f"{prefix} {index} 积水")


def _dataset(
    code: str, *, data_format: str, interval: int, fields: tuple[DatasetField, ...]
) -> RegisterDataset:
    metadata = DatasetMetadata(
        code=code,
        name_zh="消防站",
        name_en="Fire stations",
        owner_department="FIRE",
        sharing_class="UNCONDITIONAL",
        data_grade="GENERAL",
        update_interval_minutes=interval,
        format=data_format,
        connector="api_push",
    )
    return RegisterDataset(metadata=metadata, fields=fields)


def _data_hub(muster: Muster, steward: Actor) -> None:
    """Register, revise and fill datasets: every catalog and ingest projection."""
    name = DatasetField(name="name", type="string", required=True)
    muster.bus.handle(
        _dataset("FIRE_STATIONS", data_format="json", interval=60, fields=(name,)),
        steward,
    )
    crews = DatasetField(name="crews", type="integer")
    muster.bus.handle(
        _dataset(
            "FIRE_STATIONS", data_format="json", interval=30, fields=(name, crews)
        ),
        steward,
    )
    stations = [{"name": "一中队", "crews": 3}, {"name": "", "crews": 2}]
    muster.bus.handle(
        IngestFile(
            dataset_code="FIRE_STATIONS", source="t", data=json.dumps(stations).encode()
        ),
        steward,
    )
    gauge = (
        DatasetField(name="station_id", type="string", required=True),
        DatasetField(name="value", type="number", required=True),
        DatasetField(name="observed_at", type="datetime", required=True),
    )
    muster.bus.handle(
        _dataset(
            "FIRE_HYDRANT_PRESSURE",
            data_format="observations",
            interval=5,
            fields=gauge,
        ),
        steward,
    )
    readings = [
        {"station_id": "H1", "value": 0.3, "observed_at": "2026-07-01T08:00:00Z"}
    ]
    low_pressure = {
        "code": "HYDRANT_LOW",
        "kind": "threshold",
        "dataset": "FIRE_HYDRANT_PRESSURE",
        "metric": "fire_hydrant_pressure",
        "above": 0.2,
        "propose": {"type_code": "12C00"},
    }
    muster.bus.handle(
        RegisterTriggerRules(document={"rules": [low_pressure]}), SYSTEM_ACTOR
    )
    cascades = read_pack(EXAMPLE).cascades
    assert cascades is not None
    muster.bus.handle(RegisterCascadeModel(document=cascades), SYSTEM_ACTOR)
    muster.bus.handle(
        SubmitReport(category="12C00", latitude=28.2, longitude=112.9, text="水压低"),
        steward,
    )
    muster.bus.handle(
        IngestFile(
            dataset_code="FIRE_HYDRANT_PRESSURE",
            source="t",
            data=json.dumps(readings).encode(),
        ),
        steward,
    )
    muster.bus.handle(EvaluateQuality(), SYSTEM_ACTOR)


def _assessment(muster: Muster, fire_duty: Actor) -> None:
    """Open a joint assessment, give a view, conclude it."""
    commander = Actor(
        kind="user", id="cmd", department="EMB", roles=frozenset({"commander"})
    )
    with muster.engine.connect() as conn:
        incident = response_queries.open_incidents(conn)[0]
    assessment_id = muster.bus.handle(
        OpenAssessment(
            incident_id=incident.id, topic="风险研判", departments=("FIRE", "EMB")
        ),
        commander,
    )
    muster.bus.handle(
        SubmitView(assessment_id=assessment_id, level="orange", confidence="high"),
        fire_duty,
    )
    muster.bus.handle(
        ConcludeAssessment(
            assessment_id=assessment_id, conclusion="橙色", level="orange"
        ),
        commander,
    )


def _response(muster: Muster, clock: SimulatedClock) -> Any:
    """Activate a plan, act on tasks, decide, report, let timers fire."""
    world = build_world(muster)
    muster.bus.handle(
        SetWebhook(
            department="TRANSPORT", url="http://127.0.0.1:9/hook", secret="s" * 20
        ),
        SYSTEM_ACTOR,
    )
    incident_id = flood_incident(muster, world)
    with muster.engine.connect() as conn:
        tasks = {
            task.template_key: task.id
            for task in response_queries.incident_tasks(conn, incident_id)
        }
    muster.bus.handle(
        ActOnTask(task_id=tasks["pumps"], action="acknowledge"), world.water_duty
    )
    decision_id = muster.bus.handle(
        ProposeDecision(
            incident_id=incident_id,
            title="Raise to level II",
            departments=("EMB", "WATER", "TRANSPORT"),
            raises_to="L2",
        ),
        world.commander,
    )
    for actor in (world.commander, world.water_duty, world.transport_duty):
        muster.bus.handle(
            SignDecision(decision_id=decision_id, position="concur"), actor
        )
    muster.bus.handle(
        SendSituationReport(
            incident_id=incident_id, obligation="initial", content={"what": "内涝"}
        ),
        world.water_duty,
    )
    for _ in range(4):  # some timers fire, some stay pending
        clock.advance(timedelta(minutes=15))
        muster.bus.handle(RunTimers(), SYSTEM_ACTOR)
        muster.bus.handle(DeliverDueNotifications(), SYSTEM_ACTOR)
    _review(muster, clock, world, incident_id)
    return world


def _review(
    muster: Muster, clock: SimulatedClock, world: Any, incident_id: str
) -> None:
    """Adopt and start an improvement item, pin a timeline event, set weights."""
    item_ids = muster.bus.handle(
        AdoptImprovementItems(
            incident_id=incident_id,
            items=(
                ImprovementItemDraft(
                    finding="late_acknowledgement",
                    owner_department="TRANSPORT",
                    title_zh="整改：按时确认任务",
                    title_en="Acknowledge tasks on time",
                    due_at=isoformat_utc(clock.now() + timedelta(days=30)),
                    source_seqs=(1,),
                ),
            ),
        ),
        world.commander,
    )
    muster.bus.handle(
        ChangeImprovementItem(item_id=item_ids[0], action="start"),
        world.transport_duty,
    )
    with muster.engine.connect() as conn:
        first = response_queries.incident_timeline(conn, incident_id, limit=1)[0]
    muster.bus.handle(
        PinTimelineEvent(incident_id=incident_id, seq=first.seq, note="opened"),
        world.commander,
    )
    muster.bus.handle(SetScorecardWeights(weights={"tasks_on_time": 3}), SYSTEM_ACTOR)


def _training(muster: Muster) -> None:
    """Register a course, then record it for bob twice (created, then updated)."""
    muster.bus.handle(
        RegisterCourse(
            code="DUTY-BASIC",
            title_zh="值守基础",
            title_en="Duty basic",
            role="duty_officer",
            tier="basic",
            validity_months=36,
        ),
        SYSTEM_ACTOR,
    )
    for provider in ("EMB", "Academy"):
        muster.bus.handle(
            RecordTraining(
                username="bob",
                course="DUTY-BASIC",
                completed_on="2026-01-15",
                provider=provider,
            ),
            SYSTEM_ACTOR,
        )


def _resources(muster: Muster, fire_duty: Actor) -> None:
    """Register a type (then update it), a FIRE team (then describe it anew) and
    move it through statuses: every resources projection."""
    for name_en in ("Rescue team", "Rescue team (urban)"):
        muster.bus.handle(
            RegisterResourceType(
                code="RESCUE_TEAM",
                name_zh="救援队",
                name_en=name_en,
                kind="team",
                unit="team",
                measure="persons",
                tiers=("I", "II"),
            ),
            SYSTEM_ACTOR,
        )
    for capability in (30.0, 36.0):
        muster.bus.handle(
            RegisterResource(
                resource_id="FIRE-RT-1",
                department="FIRE",
                type_code="RESCUE_TEAM",
                name="特勤救援队",
                quantity=1,
                capability=capability,
                tier="I",
                latitude=28.2,
                longitude=112.9,
                ready_minutes=5,
            ),
            SYSTEM_ACTOR,
        )
    for status, reason in (
        ("assigned", ""),
        ("en_route", ""),
        ("released", ""),
        ("out_of_service", "engine fault"),
    ):
        muster.bus.handle(
            ChangeResourceStatus(resource_id="FIRE-RT-1", status=status, reason=reason),
            fire_duty,
        )


WARNING_TEMPLATES = {
    "sender": "warnings@test.example",
    "sender_name_zh": "测试预警中心",
    "sender_name_en": "Test warning centre",
    "concurrence": [{"response_type": "Shelter", "departments": ["FIRE"]}],
    "hazards": [
        {
            "code": "flood",
            "category": "Met",
            "event_zh": "内涝",
            "event_en": "Flood",
            "headline_zh": "{colour}内涝预警",
            "headline_en": "{colour} flood warning",
            "description_zh": "{area}积水",
            "description_en": "Water over {area}",
            "colours": {
                "yellow": {"response_types": ["Monitor"]},
                "red": {"response_types": ["Shelter"]},
            },
        }
    ],
}


def _requests(muster: Muster, commander: Actor, fire_duty: Actor) -> None:
    """Request, commit, track, decline and cancel; record and decide a proposal:
    every resource-request projection."""
    muster.bus.handle(
        RegisterResource(
            resource_id="FIRE-RT-2",
            department="FIRE",
            type_code="RESCUE_TEAM",
            name="二中队",
            quantity=3,
            capability=30.0,
            tier="II",
            latitude=28.21,
            longitude=112.91,
        ),
        SYSTEM_ACTOR,
    )
    incident = factories.incident(muster, commander, "Flooded underpass")
    asked = [
        muster.bus.handle(
            RequestResource(
                incident_id=incident,
                requested_by="EMB",
                type_code="RESCUE_TEAM",
                quantity=quantity,
            ),
            commander,
        )
        for quantity in (1, 2, 1)
    ]
    commitment = muster.bus.handle(
        CommitResource(request_id=asked[0], resource_id="FIRE-RT-2"), fire_duty
    )
    for status in ("en_route", "released"):
        muster.bus.handle(
            ChangeCommitmentStatus(commitment_id=commitment, status=status), fire_duty
        )
    muster.bus.handle(
        DeclineRequest(request_id=asked[2], department="FIRE", reason="busy"),
        fire_duty,
    )
    muster.bus.handle(CancelRequest(request_id=asked[2], reason="done"), commander)
    document = {
        "assignments": [{"supply_id": "FIRE-RT-2", "request_id": asked[1], "units": 2}]
    }
    proposal = muster.bus.handle(
        RecordAllocationProposal(incident_id=incident, proposal=document), commander
    )
    muster.bus.handle(
        DecideAllocation(proposal_id=proposal, decision="approve"), commander
    )


def _warnings(muster: Muster, commander: Actor) -> None:
    """Templates; compose, revise, approve, publish, update; link; discard: every
    alerting projection."""
    muster.bus.handle(SetWarningTemplates(document=WARNING_TEMPLATES), SYSTEM_ACTOR)
    incident = factories.incident(muster, commander, "Flooded street")
    first = muster.bus.handle(
        ComposeAlert(incident_id=incident, hazard="flood", colour="yellow"), commander
    )
    muster.bus.handle(ReviseAlert(alert_id=first, headline={"en": "Flood!"}), commander)
    muster.bus.handle(ApproveAlert(alert_id=first), SYSTEM_ACTOR)
    muster.bus.handle(PublishAlert(alert_id=first), commander)
    update = muster.bus.handle(
        ComposeAlert(
            incident_id=incident,
            hazard="flood",
            colour="yellow",
            msg_type="Update",
            follows=first,
        ),
        commander,
    )
    muster.bus.handle(ApproveAlert(alert_id=update), SYSTEM_ACTOR)
    muster.bus.handle(PublishAlert(alert_id=update), commander)
    shelter = muster.bus.handle(
        ComposeAlert(incident_id=incident, hazard="flood", colour="red"), commander
    )
    decision = muster.bus.handle(
        ProposeDecision(incident_id=incident, title="Shelter", departments=("FIRE",)),
        commander,
    )
    muster.bus.handle(
        LinkConcurrence(alert_id=shelter, decision_id=decision), commander
    )
    muster.bus.handle(DiscardAlert(alert_id=shelter, reason="rain stopped"), commander)


PEOPLE = (
    DatasetField(name="rid", type="string", required=True),
    DatasetField(name="name", type="string", sensitivity="personal"),
    DatasetField(name="location", type="point", sensitivity="location"),
)


def _sharing(muster: Muster, world: Any) -> None:
    """Agreements, a request, a grant, break-glass, reads, a PIPL notice: every
    sharing projection."""
    metadata = DatasetMetadata(
        code="TRANSPORT_STRANDED",
        name_zh="滞留人员",
        name_en="Stranded travellers",
        owner_department="TRANSPORT",
        sharing_class="CONDITIONAL",
        sharing_conditions="By agreement.",
        data_grade="IMPORTANT",
        update_interval_minutes=60,
        format="json",
        connector="upload",
    )
    muster.bus.handle(RegisterDataset(metadata=metadata, fields=PEOPLE), SYSTEM_ACTOR)
    people = [
        {"rid": "S1", "name": "张三丰", "location": "28.21,112.91"},
        {"rid": "S2", "name": "李四", "location": "28.6,113.4"},
    ]
    muster.bus.handle(
        IngestFile(
            dataset_code="TRANSPORT_STRANDED",
            source="t",
            data=json.dumps(people, ensure_ascii=False).encode(),
        ),
        world.transport_duty,
    )
    for code, consumers, extra in (
        ("STRANDED_WATER", ["WATER"], {}),
        (
            "STRANDED_RESCUE",
            ["EMB"],
            {
                "legal_basis": "EMERGENCY",
                "conditions": {"incident": {"min_level": "L4", "within_km": 10.0}},
            },
        ),
    ):
        agreement = {
            "code": code,
            "dataset": "TRANSPORT_STRANDED",
            "consumers": consumers,
            "fields": ["rid", "location"],
            "purposes": ["response"],
            **extra,
        }
        muster.bus.handle(RegisterAgreement(agreement=agreement), world.transport_duty)
    request = muster.bus.handle(
        RequestAccess(
            dataset="TRANSPORT_STRANDED",
            fields=("rid", "name"),
            purposes=("response",),
            justification="排涝需要知道滞留人员位置",
        ),
        world.water_duty,
    )
    muster.bus.handle(
        DecideAccessRequest(request_id=request, approve=False, reason="已有协议"),
        world.transport_duty,
    )
    muster.bus.handle(
        OpenBreakGlass(
            dataset="TRANSPORT_STRANDED", justification="救援需要联系滞留人员"
        ),
        world.commander,
    )
    for actor in (world.emb_duty, world.water_duty):
        muster.bus.handle(
            ReadShared(dataset="TRANSPORT_STRANDED", purpose="response"), actor
        )
    # Emergency access ends with its agreement: the PIPL notice falls due.
    muster.bus.handle(
        RevokeAgreement(code="STRANDED_RESCUE", reason="救援结束"), world.transport_duty
    )
    muster.bus.handle(ReconcileGrants(), SYSTEM_ACTOR)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock, so the workload can let response timers fire."""
    return SimulatedClock(datetime.now(UTC))


@pytest.fixture
def muster(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment on the simulated clock (overrides conftest's)."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


class Workload:
    """A mixed workload through the bus, with live snapshots taken along the way."""

    def __init__(self, muster: Muster, clock: SimulatedClock) -> None:
        self.muster = muster
        self.clock = clock
        self.snapshots: dict[int, Snapshot] = {}

    def run(self) -> None:
        """Drive every projected event type, interleaved with incidents."""
        muster = self.muster
        for code in ("EMB", "FIRE"):
            factories.department(muster, code)
        muster.bus.handle(
            RegisterDepartment(
                code="HEALTH",
                name_zh="卫健委",
                name_en="Health Commission",
                type="health",
                parent_code="EMB",
            ),
            SYSTEM_ACTOR,
        )
        alice = factories.user(muster, "alice", language="en")
        bob = factories.user(
            muster, "bob", department_code="FIRE", roles=("duty_officer",)
        )
        olga = factories.user(muster, "olga", roles=("observer",))
        _incidents(muster, alice, 4, "Flooding")
        self._take_snapshot()
        _sign_in(muster, "alice", factories.PASSWORD, "alice-1")
        _sign_in(muster, "alice", "wrong password", "x-1")
        _sign_in(muster, "mallory", "no such user", "x-2")
        _sign_in(muster, "bob", factories.PASSWORD, "bob-1")
        muster.bus.handle(ChangeLanguage(language="zh-CN"), alice)
        muster.bus.handle(
            RegisterDepartment(
                code="EMB", name_zh="应急管理局", name_en="Emergency Bureau", type="em"
            ),
            SYSTEM_ACTOR,
        )
        _incidents(muster, bob, 3, "Fire")
        self._take_snapshot()
        for key_id, label in (("k1", "river gauge"), ("k2", "cameras")):
            muster.bus.handle(
                IssueApiKey(
                    key_id=key_id,
                    secret_hash=queries.api_key_digest(f"secret-{key_id}"),
                    department_code="FIRE",
                    label=label,
                ),
                SYSTEM_ACTOR,
            )
        with pytest.raises(PermissionDenied):
            factories.incident(muster, olga, "Observers may not open incidents")
        muster.bus.handle(SignOut(session_hash=_session("alice-1")), alice)
        muster.bus.handle(RevokeApiKey(key_id="k1", reason="stolen"), SYSTEM_ACTOR)
        with muster.engine.connect() as conn:
            connector = queries.api_key_actor(conn, "k2", "secret-k2")
        assert connector is not None
        _incidents(muster, connector, 3, "Gauge alarm")
        _sign_in(muster, "bob", "wrong again", "x-3")
        _data_hub(muster, bob)
        self._take_snapshot()
        world = _response(muster, self.clock)
        _sharing(muster, world)
        _assessment(muster, bob)
        _training(muster)
        _resources(muster, bob)
        _requests(muster, alice, bob)
        _warnings(muster, alice)
        later = [{"station_id": "H1", "value": 0.1, "observed_at": "2026-07-01T08:05Z"}]
        muster.bus.handle_batch(  # in a batch: left queued for the trigger tick
            [
                IngestFile(
                    dataset_code="FIRE_HYDRANT_PRESSURE",
                    source="t",
                    data=json.dumps(later).encode(),
                )
            ],
            bob,
        )
        self._take_snapshot()

    def _take_snapshot(self) -> None:
        self.snapshots[_head(self.muster)] = _snapshot(self.muster)


@pytest.fixture
def workload(muster: Muster, clock: SimulatedClock) -> Workload:
    """Return the workload after running it on the test's deployment."""
    ran = Workload(muster, clock)
    ran.run()
    return ran


def _last_handled(muster: Muster, *, until: int | None = None) -> dict[str, int]:
    """Return, per projection set, the last seq whose event type it handles."""
    with muster.engine.connect() as conn:
        recorded = muster.store.read_all(conn)
    last = {projection.name: 0 for projection in PROJECTIONS}
    for item in recorded:
        if until is not None and item.envelope.seq > until:
            break
        for projection in PROJECTIONS:
            if type(item.event) in projection.handlers:
                last[projection.name] = item.envelope.seq
    return last


class TestFullRebuild:
    def test_rebuild_reproduces_every_projected_table(
        self, muster: Muster, workload: Workload
    ) -> None:
        """Emptying and replaying the read models gives identical rows."""
        live = _snapshot(muster)

        replayed = rebuild(muster.engine, PROJECTIONS)

        assert replayed == _head(muster)
        assert _snapshot(muster) == live

    def test_workload_filled_every_projected_table(
        self, muster: Muster, workload: Workload
    ) -> None:
        """The workload leaves rows in every projected table (so replay is tested)."""
        live = _snapshot(muster)

        empty = [name for name, rows in live.items() if not rows]

        assert empty == []

    def test_rebuild_keeps_credentials(
        self, muster: Muster, workload: Workload
    ) -> None:
        """Secrets are not projected from the log, so a rebuild must not erase them."""
        with muster.engine.connect() as conn:
            before = sorted(conn.execute(select(credentials)).all())

        rebuild(muster.engine, PROJECTIONS)

        with muster.engine.connect() as conn:
            assert sorted(conn.execute(select(credentials)).all()) == before
        assert len(before) == 10  # eight users' passwords and two API keys

    def test_positions_equal_last_handled_seq_live_and_after_rebuild(
        self, muster: Muster, workload: Workload
    ) -> None:
        """Each projection's position is the seq of the last event it handled."""
        live = _positions(muster)

        rebuild(muster.engine, PROJECTIONS)

        expected = _last_handled(muster)
        assert live == expected
        assert _positions(muster) == expected
        assert expected["catalog"] < _head(muster)  # later events are response's


class TestRebuildUntil:
    def test_state_as_of_each_live_snapshot(
        self, muster: Muster, workload: Workload
    ) -> None:
        """rebuild(until_seq=k) gives exactly the tables as they were live at seq k."""
        results = {}

        for seq in workload.snapshots:
            rebuild(muster.engine, PROJECTIONS, until_seq=seq)
            results[seq] = _snapshot(muster)

        assert len(results) == 4
        assert results == workload.snapshots

    def test_incident_count_and_positions_as_of_seq(
        self, muster: Muster, workload: Workload
    ) -> None:
        """At any k, incidents are those opened up to k and positions stop at k."""
        with muster.engine.connect() as conn:
            recorded = muster.store.read_all(conn)
        head = len(recorded)

        for until in (1, 12, head // 2, head - 3):
            replayed = rebuild(muster.engine, PROJECTIONS, until_seq=until)

            opened = [
                item
                for item in recorded[:until]
                if isinstance(item.event, IncidentOpened)
            ]
            assert replayed == until
            assert len(_snapshot(muster)["response_incidents"]) == len(opened)
            assert _positions(muster) == _last_handled(muster, until=until)
