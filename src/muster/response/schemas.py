"""Pydantic models of the response API (the edge only; never stored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from muster.response.domain.model import MAX_DESCRIPTION, MAX_TITLE, Category
from muster.response.queries import IncidentView


class IncidentIn(BaseModel):
    """What a client sends to open an incident."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=MAX_TITLE * 2)
    category: Category
    latitude: float
    longitude: float
    description: str = Field(default="", max_length=MAX_DESCRIPTION * 2)
    reporting_department: str | None = Field(
        default=None,
        description="Defaults to the caller's department; a key may only use its own.",
    )


class IncidentCreated(BaseModel):
    """The id of a newly opened incident."""

    id: str


class IncidentOut(BaseModel):
    """An incident as listed and shown."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    status: str
    reporting_department: str
    opened_at: str
    opened_by: str

    @classmethod
    def of(cls, view: IncidentView) -> IncidentOut:
        """Build the response model from the read model."""
        return cls(
            id=view.id,
            title=view.title,
            category=view.category,
            latitude=view.latitude,
            longitude=view.longitude,
            description=view.description,
            status=view.status,
            reporting_department=view.reporting_department,
            opened_at=view.opened_at,
            opened_by=view.opened_by,
        )


__all__ = ["IncidentCreated", "IncidentIn", "IncidentOut"]
