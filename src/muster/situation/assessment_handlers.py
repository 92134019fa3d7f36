"""Joint assessment (联合研判) commands: open, give a view, conclude (ADR 0011).

A commander opens an assessment of an open incident and names the departments
asked; a member of an asked department (duty officer, head, analyst or commander)
gives or revises its view; a commander concludes it, optionally proposing a joint
decision through the response part in the same transaction, with the assessment as
the decision's evidence. Imported by the situation handlers.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from muster.core.errors import NotFound, PermissionDenied, ValidationFailed
from muster.core.uow import UnitOfWork
from muster.response import queries as response_queries
from muster.response.domain.commands import ProposeDecision
from muster.situation.domain import events as ev
from muster.situation.domain.assessment import LEVELS, View, check_view, combine
from muster.situation.domain.commands import (
    ConcludeAssessment,
    OpenAssessment,
    SubmitView,
)
from muster.situation.domain.errors import NotOpen
from muster.situation.fusion_handlers import Dispatch, shared
from muster.situation.read_models import assessments, views

VIEW_ROLES = ("duty_officer", "head", "analyst", "commander", "admin")
MAX_TOPIC = 300


def _stream(assessment_id: str) -> str:
    return f"assessment-{assessment_id}"


def open_assessment(command: OpenAssessment, uow: UnitOfWork) -> str:
    """Open an assessment; return its id."""
    topic = command.topic.strip()
    departments = tuple(
        dict.fromkeys(d.strip() for d in command.departments if d.strip())
    )
    with uow:
        if not uow.actor.has_role("commander", "admin"):
            raise PermissionDenied(
                "opening a joint assessment needs the commander role",
                action="open assessment",
            )
        incident = response_queries.get_incident(uow.conn, command.incident_id)
        if incident is None:
            raise NotFound("no such incident", incident_id=command.incident_id)
        if incident.status == "closed":
            raise NotOpen("the incident is closed", incident_id=incident.id)
        if not topic or len(topic) > MAX_TOPIC:
            raise ValidationFailed(
                f"topic must have 1-{MAX_TOPIC} characters", field="topic"
            )
        if len(departments) < 2:
            raise ValidationFailed("ask at least two departments", field="departments")
        assessment_id = str(uuid.uuid4())
        event = ev.AssessmentOpened(
            assessment_id=assessment_id, incident_id=incident.id, topic=topic,
            departments=departments,
        )  # fmt: skip
        uow.append(_stream(assessment_id), [event], expected_version=0)
        uow.commit()
    return assessment_id


def _open_row(uow: UnitOfWork, assessment_id: str) -> Any:
    row = uow.conn.execute(
        select(assessments).where(assessments.c.assessment_id == assessment_id)
    ).first()
    if row is None:
        raise NotFound("no such assessment", assessment_id=assessment_id)
    if row.status != "open":
        raise NotOpen("the assessment is concluded", assessment_id=assessment_id)
    return row


def submit_view(command: SubmitView, uow: UnitOfWork) -> str:
    """Give or revise the actor's department's view: given / revised."""
    evidence = tuple(item.strip() for item in command.evidence)
    check_view(command.level, command.confidence, command.note, evidence)
    with uow:
        row = _open_row(uow, command.assessment_id)
        department = uow.actor.department
        if not uow.actor.has_role(*VIEW_ROLES) or department is None:
            raise PermissionDenied(
                "giving a view needs a department role", action="submit view"
            )
        if department not in json.loads(row.departments):
            raise PermissionDenied(
                f"{department} was not asked for this assessment", action="submit view"
            )
        before = uow.conn.execute(
            select(views.c.seq).where(
                views.c.assessment_id == command.assessment_id,
                views.c.department == department,
            )
        ).first()
        event = ev.ViewSubmitted(
            assessment_id=command.assessment_id, department=department,
            level=command.level, confidence=command.confidence,
            note=command.note.strip(), evidence=evidence,
        )  # fmt: skip
        stream = _stream(command.assessment_id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "revised" if before is not None else "given"


def load_views(conn: Any, assessment_id: str) -> list[View]:
    """Return every view given, oldest first."""
    rows = conn.execute(
        select(views)
        .where(views.c.assessment_id == assessment_id)
        .order_by(views.c.seq)
    )
    return [
        View(
            department=row.department, level=row.level, confidence=row.confidence,
            note=row.note, evidence=tuple(json.loads(row.evidence)),
            submitted_by=row.submitted_by, submitted_at=row.submitted_at,
        )
        for row in rows
    ]  # fmt: skip


def conclude_assessment(
    command: ConcludeAssessment, uow: UnitOfWork, *, dispatch: Dispatch
) -> str | None:
    """Conclude; return the id of the joint decision proposed, if any."""
    if command.level not in LEVELS:
        raise ValidationFailed(
            f"level must be one of {', '.join(LEVELS)}", field="level"
        )
    if not command.conclusion.strip():
        raise ValidationFailed("write the conclusion", field="conclusion")
    uow = shared(uow)
    with uow:
        if not uow.actor.has_role("commander", "admin"):
            raise PermissionDenied(
                "concluding a joint assessment needs the commander role",
                action="conclude assessment",
            )
        row = _open_row(uow, command.assessment_id)
        asked = json.loads(row.departments)
        combined = combine(asked, load_views(uow.conn, command.assessment_id))
        decision_id = None
        if command.decision_title:
            decision_id = dispatch(
                ProposeDecision(
                    incident_id=row.incident_id, title=command.decision_title,
                    proposal=command.conclusion.strip(), departments=tuple(asked),
                    raises_to=command.raises_to,
                    evidence=(f"assessment:{command.assessment_id}",),
                ),
                uow,
            )  # fmt: skip
        event = ev.AssessmentConcluded(
            assessment_id=command.assessment_id, conclusion=command.conclusion.strip(),
            level=command.level, consensus=combined.consensus,
            agreement=combined.agreement,
            decision_id=str(decision_id) if decision_id is not None else None,
        )  # fmt: skip
        stream = _stream(command.assessment_id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return str(decision_id) if decision_id is not None else None


__all__ = ["conclude_assessment", "load_views", "open_assessment", "submit_view"]
