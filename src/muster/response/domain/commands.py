"""Commands of the response part."""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenIncident(Command):
    """Open an incident with a title, category, point location and description."""

    title: str
    category: str
    latitude: float
    longitude: float
    description: str = ""
    reporting_department: str | None = None
