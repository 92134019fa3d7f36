"""Commands of the sharing part."""

from __future__ import annotations

from dataclasses import dataclass, field

from muster.core.messages import Command, JsonValue


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterAgreement(Command):
    """Register or replace a sharing agreement (pack YAML or the provider's form)."""

    agreement: dict[str, JsonValue]
    source: str = "ui"


@dataclass(frozen=True, kw_only=True, slots=True)
class RevokeAgreement(Command):
    """End an agreement now, with a reason."""

    code: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestAccess(Command):
    """A consumer asks for a dataset's fields for stated purposes."""

    dataset: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    justification: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DecideAccessRequest(Command):
    """The provider approves (making an agreement) or denies a request with a reason."""

    request_id: str
    approve: bool
    reason: str
    masks: dict[str, str] = field(default_factory=dict)
    valid_days: int = 90
    tlp: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenBreakGlass(Command):
    """A commander opens emergency access to a dataset for a fixed time."""

    dataset: str
    justification: str
    minutes: int = 60
    incident_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReconcileGrants(Command):
    """Activate and end scenario grants from the incidents' current state (a tick)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadShared(Command):
    """Read a dataset's records through the policy decision point (logged)."""

    dataset: str
    purpose: str | None = None
    incident_id: str | None = None
    limit: int = 1000
    channel: str = "api"


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordNoticeGiven(Command):
    """The provider told the people concerned (PIPL Art. 18)."""

    notice_id: str
    note: str


__all__ = [
    "DecideAccessRequest",
    "OpenBreakGlass",
    "ReadShared",
    "ReconcileGrants",
    "RecordNoticeGiven",
    "RegisterAgreement",
    "RequestAccess",
    "RevokeAgreement",
]
