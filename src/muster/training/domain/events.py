"""Events of the training part (wire names ``training.*``).

Projected by ``muster.training.projections``. Days are ISO ``YYYY-MM-DD`` strings:
the log records the calendar day a certificate shows, not an instant.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("training.CourseRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class CourseRegistered(Event):
    """A course joined the catalogue: it trains ``role`` at ``tier``."""

    code: str
    title_zh: str
    title_en: str
    role: str
    tier: str
    validity_months: int | None = None


@event_type("training.CourseUpdated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class CourseUpdated(Event):
    """A course's titles, role, tier or validity changed."""

    code: str
    title_zh: str
    title_en: str
    role: str
    tier: str
    validity_months: int | None = None


@event_type("training.TrainingRecorded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingRecorded(Event):
    """A person completed a course on a day; the record counts until ``expires_on``
    (exclusive; None: it does not expire). Recording the same person, course and day
    again with another provider or expiry replaces the earlier record."""

    user_id: str
    username: str
    course: str
    completed_on: str
    provider: str
    expires_on: str | None = None


__all__ = ["CourseRegistered", "CourseUpdated", "TrainingRecorded"]
