"""Read the training part's tables: the course catalogue and people's training.

Used by the handlers (idempotency), the readiness queries, the API, pages and CLI.
People's names and departments come from ``muster.identity.queries`` (their current
department: a person who moved counts in their new department).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.identity import queries as identity
from muster.training.domain.model import Course, Tier, TrainingRecord, parse_day
from muster.training.read_models import courses, records


def local_today(now: datetime, zone: tzinfo) -> date:
    """Return the calendar day it is now in the deployment's time zone."""
    return now.astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class RecordView:
    """A training record as shown to people, with whether it counts today."""

    username: str
    display_name: str
    department: str
    roles: tuple[str, ...]
    course: str
    title_zh: str
    title_en: str
    role: str
    tier: str
    completed_on: str
    provider: str
    expires_on: str | None
    is_current: bool

    def title(self, language: str) -> str:
        """Return the course title in the given language."""
        return self.title_zh if language == "zh-CN" else self.title_en

    def to_json(self) -> dict[str, Any]:
        """Return the record as the API and ``--json`` print it."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "department": self.department,
            "course": self.course,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "role": self.role,
            "tier": self.tier,
            "completed_on": self.completed_on,
            "provider": self.provider,
            "expires_on": self.expires_on,
            "current": self.is_current,
        }


def list_courses(conn: Connection) -> list[Course]:
    """Return the course catalogue by role, tier and code."""
    rows = conn.execute(select(courses).order_by(courses.c.code))
    found = [_course(row) for row in rows]
    return sorted(found, key=lambda c: (c.role, c.tier.rank, c.code))


def get_course(conn: Connection, code: str) -> Course | None:
    """Return one course, or None."""
    row = conn.execute(select(courses).where(courses.c.code == code)).first()
    return _course(row) if row is not None else None


def recorded(
    conn: Connection, *, user_id: str, course: str, completed_on: str
) -> tuple[str, str | None] | None:
    """Return the provider and expiry recorded for a (user, course, day), or None."""
    row = conn.execute(
        select(records.c.provider, records.c.expires_on).where(
            records.c.user_id == user_id,
            records.c.course == course,
            records.c.completed_on == completed_on,
        )
    ).first()
    return (str(row.provider), row.expires_on) if row is not None else None


def training_records(conn: Connection) -> list[TrainingRecord]:
    """Return every training record (for counting tiers)."""
    rows = conn.execute(
        select(
            records.c.user_id,
            records.c.course,
            records.c.completed_on,
            records.c.expires_on,
        )
    )
    return [_record(row) for row in rows]


def list_records(
    conn: Connection,
    *,
    today: date,
    department: str | None = None,
    username: str | None = None,
) -> list[RecordView]:
    """Return training records by department, person and day (newest first within a
    person), optionally of one department's people or of one person."""
    people = {user.id: user for user in identity.list_users(conn)}
    catalogue = {course.code: course for course in list_courses(conn)}
    query = select(records).order_by(records.c.username, records.c.completed_on.desc())
    if username is not None:
        query = query.where(records.c.username == username)
    found: list[RecordView] = []
    for row in conn.execute(query):
        person = people.get(row.user_id)
        if person is None or (
            department is not None and person.department_code != department
        ):
            continue
        course = catalogue.get(row.course)
        found.append(
            RecordView(
                username=person.username,
                display_name=person.display_name,
                department=person.department_code,
                roles=person.roles,
                course=row.course,
                title_zh=course.title_zh if course else row.course,
                title_en=course.title_en if course else row.course,
                role=course.role if course else "",
                tier=course.tier.value if course else "",
                completed_on=row.completed_on,
                provider=row.provider,
                expires_on=row.expires_on,
                is_current=_record(row).is_current(today),
            )
        )
    return sorted(found, key=lambda r: (r.department, r.username))


def _record(row: Any) -> TrainingRecord:
    expires_on = row.expires_on
    return TrainingRecord(
        user_id=row.user_id,
        course=row.course,
        completed_on=parse_day(row.completed_on, field="completed_on"),
        expires_on=parse_day(expires_on, field="expires_on") if expires_on else None,
    )


def _course(row: Any) -> Course:
    return Course(
        code=row.code,
        title_zh=row.title_zh,
        title_en=row.title_en,
        role=row.role,
        tier=Tier(row.tier),
        validity_months=row.validity_months,
    )


__all__ = [
    "RecordView",
    "get_course",
    "list_courses",
    "list_records",
    "local_today",
    "recorded",
    "training_records",
]
