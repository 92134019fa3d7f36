"""Courses, training records, tiers and expiry: the training part's rules (stdlib only).

A course trains one role (``TRAINED_ROLES``) at a tier (``Tier``: basic < advanced)
and may be valid for a number of months. A record counts ("is current") from the day
it was completed until the day it expires, that day excluded; a record without an
expiry counts for good. A person's tier in a role is the highest tier among their
current records of that role's courses, so an advanced course also covers the basic
tier. Imported by the handlers, the queries, ``muster.training.domain.readiness`` and
the pack's training.yaml checks.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from muster.training.domain.errors import CourseInvalid, TrainingInvalid

TRAINED_ROLES = ("duty_officer", "commander", "head", "analyst")
"""The roles a course may train (identity roles that act in a response)."""

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_TITLE = 200
MAX_PROVIDER = 200
MAX_VALIDITY_MONTHS = 240


class Tier(StrEnum):
    """How far a course takes a person in a role."""

    BASIC = "basic"
    ADVANCED = "advanced"

    @property
    def rank(self) -> int:
        """Return the tier's order: basic 1, advanced 2."""
        return 1 if self is Tier.BASIC else 2


@dataclass(frozen=True, slots=True)
class Course:
    """A course of the catalogue: it trains ``role`` at ``tier``."""

    code: str
    title_zh: str
    title_en: str
    role: str
    tier: Tier
    validity_months: int | None = None

    def title(self, language: str) -> str:
        """Return the title in the given language."""
        return self.title_zh if language == "zh-CN" else self.title_en


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """One person's completion of one course, and until when it counts."""

    user_id: str
    course: str
    completed_on: date
    expires_on: date | None = None

    def is_current(self, today: date) -> bool:
        """Tell whether the record counts today: completed, and not yet expired."""
        if self.completed_on > today:
            return False
        return self.expires_on is None or today < self.expires_on


def check_course(
    *,
    code: str,
    title_zh: str,
    title_en: str,
    role: str,
    tier: str,
    validity_months: int | None,
) -> Course:
    """Return the course these fields describe, or refuse them naming the field."""
    if not CODE.match(code):
        raise CourseInvalid(
            "a course code is 1-64 letters, digits, '.', '_' or '-'", field="code"
        )
    for field, title in (("title_zh", title_zh), ("title_en", title_en)):
        if not title.strip() or len(title) > MAX_TITLE:
            raise CourseInvalid(
                f"{field} must be 1-{MAX_TITLE} characters", field=field
            )
    if role not in TRAINED_ROLES:
        raise CourseInvalid(
            f"role must be one of {', '.join(TRAINED_ROLES)}", field="role"
        )
    if tier not in {item.value for item in Tier}:
        raise CourseInvalid(
            f"tier must be one of {', '.join(item.value for item in Tier)}",
            field="tier",
        )
    if validity_months is not None and not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise CourseInvalid(
            f"validity_months must be 1-{MAX_VALIDITY_MONTHS} (or left out)",
            field="validity_months",
        )
    return Course(
        code=code,
        title_zh=title_zh.strip(),
        title_en=title_en.strip(),
        role=role,
        tier=Tier(tier),
        validity_months=validity_months,
    )


def parse_day(text: str, *, field: str) -> date:
    """Return the calendar day of an ISO ``YYYY-MM-DD`` text, or refuse it."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise TrainingInvalid(f"{field} needs a day such as 2026-03-14", field=field)
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise TrainingInvalid(f"{field}: no such day {text}", field=field) from error


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later (the month's last day if it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_of(
    course: Course, *, completed_on: date, expires_on: date | None = None
) -> date | None:
    """Return when a record of the course expires: the given day if any, else
    ``validity_months`` after completion, else never (None)."""
    if expires_on is not None:
        return expires_on
    if course.validity_months is None:
        return None
    return add_months(completed_on, course.validity_months)


def check_record(
    *,
    completed_on: date,
    expires_on: date | None,
    provider: str,
    today: date,
) -> None:
    """Refuse a completion in the future, an expiry not after completion, or a
    provider name that is too long."""
    if completed_on > today:
        raise TrainingInvalid(
            f"completed_on {completed_on.isoformat()} is in the future",
            field="completed_on",
        )
    if expires_on is not None and expires_on <= completed_on:
        raise TrainingInvalid(
            "expires_on must be after completed_on", field="expires_on"
        )
    if len(provider) > MAX_PROVIDER:
        raise TrainingInvalid(
            f"provider must be at most {MAX_PROVIDER} characters", field="provider"
        )


def best_tiers(
    records: Iterable[TrainingRecord],
    courses: Mapping[str, Course],
    *,
    role: str,
    today: date,
) -> dict[str, Tier]:
    """Return each person's highest current tier in a role, by user id.

    Records of unknown courses, of other roles' courses and records not current today
    are left out; people without a current record are absent.
    """
    tiers: dict[str, Tier] = {}
    for record in records:
        course = courses.get(record.course)
        if course is None or course.role != role or not record.is_current(today):
            continue
        held = tiers.get(record.user_id)
        if held is None or course.tier.rank > held.rank:
            tiers[record.user_id] = course.tier
    return tiers


__all__ = [
    "CODE",
    "TRAINED_ROLES",
    "Course",
    "Tier",
    "TrainingRecord",
    "add_months",
    "best_tiers",
    "check_course",
    "check_record",
    "expiry_of",
    "parse_day",
]
