"""Commands of the training part: register a course, record a person's training.

Sent by the pack loader (``training.yaml``), the CLI and the API; handled by
``muster.training.handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterCourse(Command):
    """Add a course to the catalogue, or update it if the code exists."""

    code: str
    title_zh: str
    title_en: str
    role: str
    tier: str
    validity_months: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordTraining(Command):
    """Record that a person completed a course on a day (ISO ``YYYY-MM-DD``).

    ``expires_on`` overrides the course's validity; without it the record expires
    ``validity_months`` after ``completed_on`` (never, if the course has none).
    """

    username: str
    course: str
    completed_on: str
    provider: str = ""
    expires_on: str | None = None


__all__ = ["RecordTraining", "RegisterCourse"]
