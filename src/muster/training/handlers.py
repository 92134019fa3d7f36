"""Command handlers of the training part: register courses, record training (R6).

``command_handlers(timezone=...)`` returns the table merged by ``muster.bootstrap``;
the time zone says which calendar day "today" is (a completion cannot be in the
future). Both commands are idempotent and answer created / updated / unchanged, so
loading a pack twice changes nothing.
"""

from __future__ import annotations

from datetime import tzinfo

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied
from muster.core.messages import Actor, Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity
from muster.training import queries
from muster.training.domain.commands import RecordTraining, RegisterCourse
from muster.training.domain.errors import UnknownCourse, UnknownTrainee
from muster.training.domain.events import (
    CourseRegistered,
    CourseUpdated,
    TrainingRecorded,
)
from muster.training.domain.model import (
    check_course,
    check_record,
    expiry_of,
    parse_day,
)


def course_stream(code: str) -> str:
    """Return the stream of a course."""
    return f"training-course-{code}"


def trainee_stream(user_id: str) -> str:
    """Return the stream of a person's training records."""
    return f"training-user-{user_id}"


def register_course(command: RegisterCourse, uow: UnitOfWork) -> str:
    """Add or update a course (admins and Muster itself); created/updated/unchanged."""
    course = check_course(
        code=command.code,
        title_zh=command.title_zh,
        title_en=command.title_en,
        role=command.role,
        tier=command.tier,
        validity_months=command.validity_months,
    )
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "registering a course needs the admin role", action="register course"
            )
        existing = queries.get_course(uow.conn, course.code)
        if existing == course:
            return "unchanged"
        kind = CourseRegistered if existing is None else CourseUpdated
        event = kind(
            code=course.code,
            title_zh=course.title_zh,
            title_en=course.title_en,
            role=course.role,
            tier=course.tier.value,
            validity_months=course.validity_months,
        )
        stream = course_stream(course.code)
        version = uow.stream_version(stream)
        uow.append(stream, [event], expected_version=version)
        uow.commit()
    return "created" if existing is None else "updated"


def record_training(
    command: RecordTraining, uow: UnitOfWork, *, timezone: tzinfo
) -> str:
    """Record a completed course for a person; created/updated/unchanged.

    Admins, Muster itself and the head of the person's department may. The same
    person, course and day again is unchanged, or updated if the provider or the
    expiry differ.
    """
    completed_on = parse_day(command.completed_on, field="completed_on")
    explicit = (
        parse_day(command.expires_on, field="expires_on")
        if command.expires_on
        else None
    )
    with uow:
        person = identity.get_user_by_username(uow.conn, command.username)
        if person is None:
            raise UnknownTrainee(
                f"no user {command.username}", username=command.username
            )
        _require_recorder(uow.actor, department=person.department_code)
        course = queries.get_course(uow.conn, command.course)
        if course is None:
            raise UnknownCourse(f"no course {command.course}", course=command.course)
        expires_on = expiry_of(course, completed_on=completed_on, expires_on=explicit)
        today = queries.local_today(uow.clock.now(), timezone)
        provider = command.provider.strip()
        check_record(
            completed_on=completed_on,
            expires_on=expires_on,
            provider=provider,
            today=today,
        )
        expiry = expires_on.isoformat() if expires_on else None
        before = queries.recorded(
            uow.conn,
            user_id=person.id,
            course=course.code,
            completed_on=completed_on.isoformat(),
        )
        if before == (provider, expiry):
            return "unchanged"
        event = TrainingRecorded(
            user_id=person.id,
            username=person.username,
            course=course.code,
            completed_on=completed_on.isoformat(),
            provider=provider,
            expires_on=expiry,
        )
        stream = trainee_stream(person.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "created" if before is None else "updated"


def _require_recorder(actor: Actor, *, department: str) -> None:
    if actor.has_role("admin", "system"):
        return
    if actor.has_role("head") and actor.department == department:
        return
    raise PermissionDenied(
        "recording training needs the admin role or the head of the person's "
        "department",
        action="record training",
    )


def command_handlers(*, timezone: tzinfo) -> dict[type[Command], Handler]:
    """Return this part's command table with the deployment's time zone bound."""

    def _record(command: RecordTraining, uow: UnitOfWork) -> str:
        return record_training(command, uow, timezone=timezone)

    return {RegisterCourse: register_course, RecordTraining: _record}


__all__ = [
    "command_handlers",
    "course_stream",
    "record_training",
    "register_course",
    "trainee_stream",
]
