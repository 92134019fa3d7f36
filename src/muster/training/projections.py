"""Projections of the training part: courses and training records.

``PROJECTIONS`` (the set "training", owning ``training_courses`` and
``training_records``) is listed in ``muster.bootstrap.PROJECTIONS``.
"""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.training.domain.events import (
    CourseRegistered,
    CourseUpdated,
    TrainingRecorded,
)
from muster.training.read_models import courses, records


def on_course_registered(
    event: CourseRegistered | CourseUpdated, envelope: Envelope, conn: Connection
) -> None:
    """Keep the course's current details (one row per code)."""
    conn.execute(delete(courses).where(courses.c.code == event.code))
    conn.execute(
        insert(courses),
        {
            "code": event.code,
            "title_zh": event.title_zh,
            "title_en": event.title_en,
            "role": event.role,
            "tier": event.tier,
            "validity_months": event.validity_months,
            "registered_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )


def on_training_recorded(
    event: TrainingRecorded, envelope: Envelope, conn: Connection
) -> None:
    """Keep the latest recording of a (user, course, day)."""
    key = (
        (records.c.user_id == event.user_id)
        & (records.c.course == event.course)
        & (records.c.completed_on == event.completed_on)
    )
    conn.execute(delete(records).where(key))
    conn.execute(
        insert(records),
        {
            "user_id": event.user_id,
            "course": event.course,
            "completed_on": event.completed_on,
            "username": event.username,
            "provider": event.provider,
            "expires_on": event.expires_on,
            "recorded_at": envelope.occurred_at,
            "recorded_by": envelope.actor_id,
            "seq": envelope.seq,
        },
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    CourseRegistered: [on_course_registered],
    CourseUpdated: [on_course_registered],
    TrainingRecorded: [on_training_recorded],
}

PROJECTIONS = ProjectionSet(
    name="training", handlers=_PROJECTORS, tables=[courses, records]
)

__all__ = ["PROJECTIONS", "on_course_registered", "on_training_recorded"]
