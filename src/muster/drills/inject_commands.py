"""What each inject and scripted action sends: a real command and who sends it.

An inject becomes the command a real source would send (observations and records:
``IngestFile``; a CAP alert: ``IngestCap``; a field report: ``SubmitReport``; facts:
``RecordIncidentFacts``; an incident: ``OpenIncident``; a message: ``InjectMessage``).
A scripted participant's action becomes the response command its department's duty
officer (or commander, or the named user) would send from the UI. Everything is read
from the sandbox's read models through the parts' queries. Imported by the runner.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.core.messages import Actor, Command
from muster.drills.cap_guard import require_exercise_cap
from muster.drills.domain.commands import InjectMessage
from muster.drills.domain.errors import InjectRefused
from muster.drills.domain.scenario import Inject, Scenario, ScriptedAction
from muster.identity import queries as identity
from muster.ingest.domain.commands import IngestCap, IngestFile
from muster.response import queries as response
from muster.response.domain.commands import (
    ActivatePlan,
    ActOnTask,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    OpenIncident,
    ProposeDecision,
    RecordIncidentFacts,
    SendSituationReport,
    SignDecision,
)
from muster.situation.domain.commands import SubmitReport

CONTROL_ACTOR = Actor(
    kind="system", id="drill-control", roles=frozenset({"system"}), name="drill control"
)
"""Exercise control: sends data feeds' injects and the messages of the scenario."""

_COMMAND_FIRST = ("commander", "duty_officer", "head")
_DUTY_FIRST = ("duty_officer", "head", "commander")
_COMMANDING = frozenset({"activate_plan", "change_level", "propose_decision"})
_TASK_ACTIONS = {
    "acknowledge_task": "acknowledge",
    "start_task": "start",
    "complete_task": "complete",
}


@dataclass(frozen=True, slots=True)
class Play:
    """A command to send to the sandbox's bus, the actor sending it, and a label."""

    command: Command
    actor: Actor
    label: str


@dataclass(frozen=True, slots=True)
class Situation:
    """What the runner knows when it plays a step."""

    drill_id: str
    now: datetime
    incident_id: str | None
    location: tuple[float, float] | None  # the last place an inject named


def check_scenario(scenario: Scenario) -> None:
    """Refuse a scenario the runner must never play (a CAP inject that is no drill)."""
    for inject in scenario.injects:
        if inject.kind == "cap":
            require_exercise_cap(str(inject.payload.get("xml", "")))


def inject_play(conn: Connection, inject: Inject, situation: Situation) -> Play:
    """Return the command that plays an inject."""
    payload = inject.payload
    source = f"drill:{situation.drill_id}:{inject.id}"
    match inject.kind:
        case "observations" | "records":
            return _ingest(conn, inject, situation, source)
        case "cap":
            xml = str(payload.get("xml", ""))
            require_exercise_cap(xml)
            dataset = payload.get("dataset") or _first_cap_dataset(conn)
            command: Command = IngestCap(
                source=source,
                data=xml.encode("utf-8"),
                dataset_code=str(dataset) if dataset else None,
            )
            return Play(command, _control(inject), "CAP alert")
        case "field_report":
            command = SubmitReport(
                category=str(payload["category"]),
                latitude=_number(payload["latitude"]),
                longitude=_number(payload["longitude"]),
                text=str(payload.get("text", "")),
            )
            actor = _department_actor(conn, inject.department, action=inject.kind)
            return Play(command, actor, f"field report ({payload['category']})")
        case "message":
            command = InjectMessage(
                drill_id=situation.drill_id, inject_id=inject.id,
                to=tuple(str(code) for code in _sequence(payload.get("to"))),
                from_department=inject.department,
                subject_zh=str(payload.get("subject_zh", "")),
                subject_en=str(payload.get("subject_en", "")),
                body_zh=str(payload.get("body_zh", "")),
                body_en=str(payload.get("body_en", "")),
            )  # fmt: skip
            return Play(command, CONTROL_ACTOR, f"message to {', '.join(command.to)}")
        case "fact":
            command = RecordIncidentFacts(
                incident_id=_incident(situation), facts=dict(_mapping(payload["facts"]))
            )
            return Play(command, _source_actor(conn, inject), "incident facts")
        case "incident":
            command = OpenIncident(
                title=str(payload["title"]),
                category=str(payload["category"]),
                latitude=_number(payload["latitude"]),
                longitude=_number(payload["longitude"]),
                description=str(payload.get("description", inject.description)),
                reporting_department=inject.department,
                type_code=_optional(payload.get("type_code")),
            )
            return Play(command, _source_actor(conn, inject), "incident reported")
    raise ValidationFailed(f"unknown inject kind {inject.kind!r}", field="kind")


def action_play(
    conn: Connection, action: ScriptedAction, situation: Situation, scenario: Scenario
) -> Play:
    """Return the command a scripted participant sends for an action."""
    match = action.match
    actor = _user_actor(conn, action)
    if action.action == "open_incident":
        return Play(_open_incident(match, situation, scenario), actor, "open incident")
    incident_id = _incident(situation)
    command: Command
    match action.action:
        case "verify_incident":
            command = ChangeIncidentStatus(
                incident_id=incident_id, to_status="verified", reason="drill"
            )
        case "activate_plan":
            command = ActivatePlan(
                incident_id=incident_id,
                plan_code=str(match["plan"]),
                level=str(match["level"]),
                reason="drill",
            )
        case "change_level":
            command = ChangeResponseLevel(
                incident_id=incident_id, level=str(match["level"]), reason="drill"
            )
        case "acknowledge_task" | "start_task" | "complete_task":
            task = _task(conn, incident_id, str(match["task"]), action.department)
            command = ActOnTask(task_id=task, action=_TASK_ACTIONS[action.action])
        case "send_report":
            command = SendSituationReport(
                incident_id=incident_id,
                content={"what": f"{scenario.title_zh} / {scenario.title_en}"},
                obligation=_optional(match.get("obligation")),
            )
        case "propose_decision":
            command = ProposeDecision(
                incident_id=incident_id,
                title="",
                decision_key=_optional(match.get("decision")),
                raises_to=_optional(match.get("raises_to")),
            )
        case "sign_decision":
            command = SignDecision(
                decision_id=_decision(conn, incident_id, action),
                position=str(match.get("position", "concur")),
            )
        case "record_facts":
            command = RecordIncidentFacts(
                incident_id=incident_id, facts=dict(_mapping(match["facts"]))
            )
        case _:
            raise ValidationFailed(f"unknown action {action.action!r}", field="action")
    return Play(command, actor, action.action.replace("_", " "))


def _ingest(
    conn: Connection, inject: Inject, situation: Situation, source: str
) -> Play:
    code = str(inject.payload["dataset"])
    dataset = catalog.get_dataset(conn, code)
    if dataset is None:
        raise InjectRefused(f"no dataset {code} in the catalog", dataset=code)
    stamp = isoformat_utc(situation.now)
    timed = {
        item.name
        for item in dataset.fields
        if item.type == "datetime" and (item.required or item.name == "observed_at")
    }
    rows = [
        {**dict.fromkeys(timed, stamp), **dict(_mapping(row))}
        for row in _sequence(inject.payload["rows"])
    ]
    command = IngestFile(
        dataset_code=code,
        source=source,
        data=json.dumps(rows, ensure_ascii=False).encode("utf-8"),
        format=None if dataset.format == "observations" else "json",
    )
    return Play(command, _control(inject), f"{len(rows)} {inject.kind} to {code}")


def _first_cap_dataset(conn: Connection) -> str | None:
    found = [d.code for d in catalog.list_datasets(conn) if d.format == "cap"]
    return found[0] if found else None


def _control(inject: Inject) -> Actor:
    """Exercise control speaking for the inject's source department."""
    if inject.department is None:
        return CONTROL_ACTOR
    return Actor(
        kind="system", id=CONTROL_ACTOR.id, department=inject.department,
        roles=CONTROL_ACTOR.roles, name=CONTROL_ACTOR.name,
    )  # fmt: skip


def _source_actor(conn: Connection, inject: Inject) -> Actor:
    if inject.department is None:
        return CONTROL_ACTOR
    return _department_actor(conn, inject.department, action=inject.kind)


def _user_actor(conn: Connection, action: ScriptedAction) -> Actor:
    if action.user is not None:
        user = identity.get_user_by_username(conn, action.user)
        if user is None or not user.is_active:
            raise InjectRefused(f"no active user {action.user}", user=action.user)
        return user.as_actor()
    return _department_actor(conn, action.department, action=action.action)


def _department_actor(
    conn: Connection, department: str | None, *, action: str
) -> Actor:
    """The user of a department who would act: duty officer first (commander first
    for command decisions)."""
    if department is None:
        raise InjectRefused(f"a {action} needs a department", action=action)
    for role in _COMMAND_FIRST if action in _COMMANDING else _DUTY_FIRST:
        for user_id in identity.role_holders(conn, department, role):
            user = identity.get_user(conn, user_id)
            if user is not None:
                return user.as_actor()
    raise InjectRefused(
        f"{department} has no active duty officer, head or commander to {action}",
        department=department,
    )


def _open_incident(
    match: Mapping[str, object], situation: Situation, scenario: Scenario
) -> OpenIncident:
    latitude, longitude = situation.location or (0.0, 0.0)
    return OpenIncident(
        title=str(match.get("title") or scenario.title_zh or scenario.title_en),
        category=str(match.get("category") or "DRILL"),
        latitude=_number(match.get("latitude", latitude)),
        longitude=_number(match.get("longitude", longitude)),
        type_code=_optional(match.get("type_code")),
    )


def _incident(situation: Situation) -> str:
    if situation.incident_id is None:
        raise InjectRefused("no incident has been opened in the drill yet")
    return situation.incident_id


def _task(conn: Connection, incident_id: str, key: str, department: str) -> str:
    tasks = [
        t for t in response.incident_tasks(conn, incident_id) if t.template_key == key
    ]
    own = [t for t in tasks if t.lead_department == department]
    if not (own or tasks):
        raise InjectRefused(f"the drill incident has no task {key}", task=key)
    return (own or tasks)[0].id


def _decision(conn: Connection, incident_id: str, action: ScriptedAction) -> str:
    """The open decision of the drill incident the department has yet to sign."""
    key, department = action.match.get("decision"), action.department
    for decision in response.incident_decisions(conn, incident_id):
        awaits = department in decision.departments
        awaits = awaits and department not in decision.positions
        if awaits and decision.outcome is None and key in (None, decision.decision_key):
            return decision.id
    raise InjectRefused(
        f"no open decision for {department} to sign", department=department
    )


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationFailed(f"{value!r} is not a number", field="number")
    return float(value)


def _optional(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{value!r} is not a mapping", field="mapping")
    return {str(key): item for key, item in value.items()}


def _sequence(value: object) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"{value!r} is not a list", field="list")
    return value


__all__ = [
    "CONTROL_ACTOR",
    "Play",
    "Situation",
    "action_play",
    "check_scenario",
    "inject_play",
]
