"""Pydantic models of the public-warnings API (R13): what comes in and what goes out.

Only ``muster.alerting.api`` imports them; never a table or a domain object.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Id = Annotated[str, Field(min_length=1, max_length=200)]
TextLanguage = Literal["zh-CN", "en"]
Texts = dict[TextLanguage, Annotated[str, Field(max_length=4000)]]


class ComposeIn(BaseModel):
    """Draft an alert from the template of a hazard and warning colour.

    The area is a circle of ``radius_km`` around the incident (default: its fact
    ``radius_km``, else 5 km) plus the named districts; texts given here replace
    the template's, per language."""

    hazard: str = Field(min_length=1, max_length=64)
    colour: Literal["red", "orange", "yellow", "blue"]
    msg_type: Literal["Alert", "Update", "Cancel"] = "Alert"
    follows: Id | None = Field(
        default=None, description="The published alert an Update or Cancel follows."
    )
    radius_km: float | None = Field(default=None, gt=0, le=500)
    districts: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    headline: Texts = Field(default_factory=dict)
    description: Texts = Field(default_factory=dict)
    instruction: Texts = Field(default_factory=dict)
    response_types: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=9
    )
    expires_hours: float | None = Field(default=None, gt=0, le=720)
    note: str = Field(default="", max_length=1000)


class ApproveIn(BaseModel):
    """A second authorised person approves a draft."""

    comment: str = Field(default="", max_length=2000)


class LinkIn(BaseModel):
    """The joint decision that gives the required concurrence."""

    decision_id: Id


class DiscardIn(BaseModel):
    """Why an unpublished alert is dropped."""

    reason: str = Field(min_length=1, max_length=2000)


class CreatedOut(BaseModel):
    """The id of what was created."""

    id: str


class ResultOut(BaseModel):
    """What a command did ("approved", "linked", "discarded")."""

    result: str


class PublishedOut(BaseModel):
    """A published alert's CAP identifier and where its XML is served."""

    identifier: str
    xml_url: str


class AlertOut(BaseModel):
    """An alert with its workflow (``content``: the CAP content as data)."""

    id: str
    incident_id: str
    hazard: str
    colour: str
    state: str
    identifier: str
    sender: str
    status: str
    msg_type: str
    references: list[str]
    headline: dict[str, str]
    author: str
    approver: str | None
    decision_id: str | None
    required_departments: list[str]
    follows: str | None
    superseded_by: str | None
    current: bool
    sent: str | None
    population: int | None
    signed: bool
    digest: str | None
    drafted_at: str
    approved_at: str | None
    published_at: str | None
    discard_reason: str
    content: dict[str, Any]
    xml_url: str | None = None


__all__ = [
    "AlertOut",
    "ApproveIn",
    "ComposeIn",
    "CreatedOut",
    "DiscardIn",
    "LinkIn",
    "PublishedOut",
    "ResultOut",
    "TextLanguage",
]
