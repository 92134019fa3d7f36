"""Command handlers of the alerting part (R6): compose, revise, approve, link, publish.

``command_handlers(render)`` returns the table ``muster.bootstrap`` merges; ``render``
turns an alert's content and ``sent`` time into its CAP XML (validated, and signed
when the deployment signs alerts) — a port, so the key stays with the deployment. An
alert's stream is ``alert-ID``. In a drill's sandbox (events flagged exercise) every
alert gets CAP status Exercise.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from muster.alerting import coverage, queries
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
    ReviseAlert,
    SetWarningTemplates,
)
from muster.alerting.domain.errors import (
    AlertInvalid,
    AlertStateConflict,
    UnknownAlert,
)
from muster.alerting.domain.events import (
    AlertApproved,
    AlertDiscarded,
    AlertDrafted,
    AlertPublished,
    AlertRevised,
    ConcurrenceLinked,
    WarningTemplatesSet,
)
from muster.alerting.domain.model import (
    AlertContent,
    AlertState,
    Area,
    Colour,
    Info,
    check_approver,
    check_content,
    check_editable,
    check_publishable,
    content_to_dict,
    reference,
)
from muster.alerting.domain.permissions import may_approve, may_author
from muster.alerting.domain.templates import (
    WarningTemplates,
    Wording,
    compose,
    parse_templates,
)
from muster.alerting.queries import AlertView
from muster.core.bus import Handler
from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.response import queries as response
from muster.response.queries import IncidentView

Render = Callable[[AlertContent, str], tuple[bytes, bool]]
"""(content, sent) -> (CAP XML, signed?)."""

DEFAULT_RADIUS_KM = 5.0


def alert_stream(alert_id: str) -> str:
    """Return an alert's stream."""
    return f"alert-{alert_id}"


def cap_time(moment: datetime) -> str:
    """Return a time as CAP writes it: seconds, with an offset (UTC here)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _templates(uow: UnitOfWork) -> WarningTemplates:
    found = queries.current_templates(uow.conn)
    if found is None:
        raise NotFound(
            "no warning templates: load a pack with warnings.yaml",
            what="warning templates",
        )
    return found


def _incident(uow: UnitOfWork, incident_id: str) -> IncidentView:
    incident = response.get_incident(uow.conn, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    return incident


def _alert(uow: UnitOfWork, alert_id: str) -> AlertView:
    view = queries.get_alert(uow.conn, alert_id)
    if view is None:
        raise UnknownAlert(f"no alert {alert_id}", alert_id=alert_id)
    return view


def set_templates(command: SetWarningTemplates, uow: UnitOfWork) -> str:
    """Store the warning templates (admins and Muster itself): created, updated
    or unchanged."""
    parse_templates(command.document)  # refuses a document it cannot read
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "setting warning templates needs the admin role",
                action="set warning templates",
            )
        before = queries.templates_document(uow.conn)
        if before == command.document:
            return "unchanged"
        event = WarningTemplatesSet(document=dict(command.document))
        stream = "alerting-templates"
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "created" if before is None else "updated"


def compose_alert(command: ComposeAlert, uow: UnitOfWork) -> str:
    """Draft an alert from the templates; answer its id."""
    alert_id = str(uuid.uuid4())
    with uow:
        templates = _templates(uow)
        incident = _incident(uow, command.incident_id)
        if not may_author(uow.actor, queries.speakers(incident, templates)):
            raise PermissionDenied(
                "composing a warning needs a duty officer or head of the incident's "
                "lead, information-officer or issuing department, or a commander",
                action="compose alert",
            )
        try:
            colour = Colour(command.colour)
        except ValueError:
            raise AlertInvalid(
                "colour is red, orange, yellow or blue", field="colour"
            ) from None
        references, follows = _chain(uow, command, incident.id)
        now = uow.clock.now()
        areas = _areas(command, incident, templates)
        wording = Wording(
            incident=incident.title,
            area={
                lang: " / ".join(a.description for a in areas)
                for lang in ("zh-CN", "en")
            },
            headline=command.headline,
            description=command.description,
            instruction=command.instruction,
        )
        infos = compose(
            templates,
            command.hazard,
            colour,
            wording,
            now=now,
            response_types=command.response_types,
            expires_hours=command.expires_hours,
        )
        exercise = bool(uow.metadata.get("is_exercise"))
        content = AlertContent(
            identifier=f"MUSTER-{alert_id}",
            sender=templates.sender,
            status="Exercise" if exercise else "Actual",
            msg_type=command.msg_type,
            scope="Public",
            infos=infos,
            areas=areas,
            references=references,
            note=command.note.strip(),
            incidents=(incident.id,),
        )
        check_content(content)
        kinds = infos[0].response_types
        event = AlertDrafted(
            alert_id=alert_id,
            incident_id=incident.id,
            hazard=command.hazard,
            colour=colour.value,
            content=content_to_dict(content),
            required_departments=templates.required_departments(kinds),
            follows=follows,
            population=coverage.population_covered(uow.conn, areas, command.districts),
        )
        uow.append(alert_stream(alert_id), [event], expected_version=0)
        uow.commit()
    return alert_id


def _chain(
    uow: UnitOfWork, command: ComposeAlert, incident_id: str
) -> tuple[tuple[str, ...], str | None]:
    """Return the references of an Update or Cancel and the alert it follows."""
    if command.msg_type == "Alert":
        if command.follows is not None:
            raise AlertInvalid(
                "an Alert follows nothing; send an Update or Cancel", field="msg_type"
            )
        return (), None
    if command.follows is None:
        raise AlertInvalid(
            "an Update or Cancel names the alert it follows", field="follows"
        )
    earlier = _alert(uow, command.follows)
    record = earlier.record
    if record.state is not AlertState.PUBLISHED or record.superseded_by is not None:
        raise AlertStateConflict(
            f"alert {record.id} is not the current published alert of its warning",
            alert_id=record.id,
        )
    if record.incident_id != incident_id:
        raise AlertInvalid(
            "an Update or Cancel stays with its incident", field="follows"
        )
    if record.content.msg_type == "Cancel":
        raise AlertStateConflict(
            "a cancelled warning cannot be updated", alert_id=record.id
        )
    own = reference(record.content.sender, record.content.identifier, str(record.sent))
    return (*record.content.references, own), record.id


def _areas(
    command: ComposeAlert, incident: IncidentView, templates: WarningTemplates
) -> tuple[Area, ...]:
    """Return the circle around the incident and the named districts."""
    facts = incident.facts or {}
    radius = command.radius_km
    if radius is None:
        fact = facts.get("radius_km")
        radius = float(fact) if isinstance(fact, int | float) else DEFAULT_RADIUS_KM
    if not 0 < radius <= 500:
        raise AlertInvalid("radius_km is between 0 and 500", field="radius_km")
    circle = Area(
        description=f"{incident.title} ({radius:g} km)",
        circles=(f"{incident.latitude:.5f},{incident.longitude:.5f} {radius:g}",),
    )
    areas = [circle]
    for code in command.districts:
        district = templates.districts.get(code)
        if district is None:
            raise AlertInvalid(
                f"no district {code} in the warning templates", field="districts"
            )
        areas.append(
            Area(
                description=f"{district['zh-CN']} {district['en']}",
                geocodes=(("GB/T 2260", district["admin_code"]),),
            )
        )
    return tuple(areas)


def revise_alert(command: ReviseAlert, uow: UnitOfWork) -> str:
    """Change a draft's texts; answer "revised"."""
    with uow:
        view = _alert(uow, command.alert_id)
        record = view.record
        incident = _incident(uow, record.incident_id)
        if not may_author(uow.actor, queries.speakers(incident, _templates(uow))):
            raise PermissionDenied(
                "revising a warning needs an author's role", action="revise alert"
            )
        check_editable(record)
        infos = tuple(_revised(info, command) for info in record.content.infos)
        content = replace(record.content, infos=infos)
        check_content(content)
        event = AlertRevised(
            alert_id=record.id,
            incident_id=record.incident_id,
            content=content_to_dict(content),
        )
        stream = alert_stream(record.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "revised"


def _revised(info: Info, command: ReviseAlert) -> Info:
    """Return an info block with the texts given for its language."""
    language = info.language
    return replace(
        info,
        headline=command.headline.get(language) or info.headline,
        description=command.description.get(language) or info.description,
        instruction=command.instruction.get(language) or info.instruction,
    )


def approve_alert(command: ApproveAlert, uow: UnitOfWork) -> str:
    """A second authorised person approves a draft; answer "approved"."""
    with uow:
        record = _alert(uow, command.alert_id).record
        incident = _incident(uow, record.incident_id)
        if not may_approve(uow.actor, queries.speakers(incident, _templates(uow))):
            raise PermissionDenied(
                "approving a warning needs a head of a speaking department or a "
                "commander",
                action="approve alert",
            )
        check_approver(record, uow.actor.id)
        event = AlertApproved(
            alert_id=record.id,
            incident_id=record.incident_id,
            comment=command.comment.strip(),
        )
        stream = alert_stream(record.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "approved"


def link_concurrence(command: LinkConcurrence, uow: UnitOfWork) -> str:
    """Tie an unpublished alert to a joint decision of its incident that includes
    every department whose concurrence it needs."""
    with uow:
        record = _alert(uow, command.alert_id).record
        incident = _incident(uow, record.incident_id)
        if not may_author(uow.actor, queries.speakers(incident, _templates(uow))):
            raise PermissionDenied(
                "linking a decision needs an author's role", action="link concurrence"
            )
        if record.state not in (AlertState.DRAFT, AlertState.APPROVED):
            raise AlertStateConflict(
                f"alert {record.id} is {record.state.value}", alert_id=record.id
            )
        decision = _decision(uow, record.incident_id, command.decision_id)
        missing = set(record.required_departments) - set(decision.departments)
        if missing:
            raise AlertInvalid(
                f"decision {decision.id} does not ask {', '.join(sorted(missing))}",
                field="decision_id",
            )
        event = ConcurrenceLinked(
            alert_id=record.id, incident_id=record.incident_id, decision_id=decision.id
        )
        stream = alert_stream(record.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "linked"


def _decision(
    uow: UnitOfWork, incident_id: str, decision_id: str
) -> response.DecisionView:
    for decision in response.incident_decisions(uow.conn, incident_id):
        if decision.id == decision_id:
            return decision
    raise NotFound(
        f"no joint decision {decision_id} in incident {incident_id}",
        decision=decision_id,
    )


def command_handlers(render: Render) -> dict[type[Command], Handler]:
    """Return the part's handlers, publishing with ``render``."""

    def publish_alert(command: PublishAlert, uow: UnitOfWork) -> str:
        """Publish an approved alert: its CAP XML is frozen; answer its identifier."""
        with uow:
            record = _alert(uow, command.alert_id).record
            incident = _incident(uow, record.incident_id)
            speakers = queries.speakers(incident, _templates(uow))
            if not (
                may_author(uow.actor, speakers) or may_approve(uow.actor, speakers)
            ):
                raise PermissionDenied(
                    "publishing a warning needs an author's role",
                    action="publish alert",
                )
            outcome = None
            if record.decision_id is not None:
                outcome = _decision(uow, record.incident_id, record.decision_id).outcome
            check_publishable(record, outcome)
            sent = cap_time(uow.clock.now())
            xml, signed = render(record.content, sent)
            first = record.content.infos[0]
            event = AlertPublished(
                alert_id=record.id,
                incident_id=record.incident_id,
                identifier=record.content.identifier,
                sender=record.content.sender,
                sent=sent,
                status=record.content.status,
                msg_type=record.content.msg_type,
                colour=record.colour.value,
                headline=first.headline,
                xml=xml.decode("utf-8"),
                digest=hashlib.sha256(xml).hexdigest(),
                signed=signed,
                follows=record.follows,
            )
            stream = alert_stream(record.id)
            uow.append(stream, [event], expected_version=uow.stream_version(stream))
            uow.commit()
        return record.content.identifier

    return {
        SetWarningTemplates: set_templates,
        ComposeAlert: compose_alert,
        ReviseAlert: revise_alert,
        ApproveAlert: approve_alert,
        LinkConcurrence: link_concurrence,
        PublishAlert: publish_alert,
        DiscardAlert: discard_alert,
    }


def discard_alert(command: DiscardAlert, uow: UnitOfWork) -> str:
    """Drop an unpublished alert with a reason; answer "discarded"."""
    with uow:
        record = _alert(uow, command.alert_id).record
        incident = _incident(uow, record.incident_id)
        if not may_author(uow.actor, queries.speakers(incident, _templates(uow))):
            raise PermissionDenied(
                "discarding a warning needs an author's role", action="discard alert"
            )
        if record.state not in (AlertState.DRAFT, AlertState.APPROVED):
            raise AlertStateConflict(
                f"alert {record.id} is {record.state.value}: a published alert is "
                "withdrawn by a Cancel",
                alert_id=record.id,
            )
        if not command.reason.strip():
            raise AlertInvalid("say why the alert is discarded", field="reason")
        event = AlertDiscarded(
            alert_id=record.id,
            incident_id=record.incident_id,
            reason=command.reason.strip(),
        )
        stream = alert_stream(record.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "discarded"


__all__ = ["Render", "alert_stream", "cap_time", "command_handlers"]
