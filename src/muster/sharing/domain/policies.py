"""The sharing policy compiler (stdlib only): agreements, grants, break-glass -> Cedar.

Every authorization decision about shared data is Cedar's (ADR 0010). This module
writes the Cedar schema and the policy set as text: fixed base rules (owners, the
unconditional class, grading rules, stewards, commanders) plus one policy per
agreement in force without an incident condition, per active grant and per open
break-glass. Each entry keeps the id Cedar's answer is mapped back to, and what it
lets through (fields, masks, TLP), so the read service can mask by the policies that
actually decided. Imported by the decision point (``sharing.pdp``) and the read service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from muster.sharing.domain.agreements import Agreement, DatasetFacts, Mode, default_mask
from muster.sharing.domain.grants import Grant
from muster.sharing.domain.masks import Mask, MaskKind, least_restrictive

READ_RECORDS = "read_records"
READ_AGGREGATE = "read_aggregate"
MANAGE = "manage"
MANAGE_QUARANTINE = "manage_quarantine"
BREAK_GLASS = "break_glass"
REQUEST = "request"
STEWARD_ROLES = ("commander", "duty_officer", "analyst", "head")
SAFE_ID = re.compile(r"[A-Za-z0-9_.:@+\-]{1,200}")

SCHEMA = """
entity Department;
entity User in [Department] {
  department: Department,
  roles: Set<String>,
  kind: String,
};
entity Records {
  dataset: String,
  owner: Department,
  sharing_class: String,
  grade: String,
  areas: Set<String>,
};
action read_records, read_aggregate, manage, manage_quarantine, break_glass, request
appliesTo {
  principal: [User],
  resource: [Records],
  context: { now: Long, purpose: String, incident: String },
};
"""

_READ = f'[Action::"{READ_RECORDS}", Action::"{READ_AGGREGATE}"]'
_MANAGING = f'[Action::"{MANAGE}", Action::"{MANAGE_QUARANTINE}"]'

BASE_POLICIES: tuple[tuple[str, str], ...] = (
    (
        "base:owner",
        f"permit(principal, action in {_READ}, resource) when "
        '{ principal.kind == "user" && principal.department == resource.owner };',
    ),
    (
        "base:unconditional",
        f"permit(principal, action in {_READ}, resource) when "
        '{ principal.kind == "user" && resource.sharing_class == "UNCONDITIONAL" };',
    ),
    (
        "base:steward",
        f"permit(principal, action in {_MANAGING}, "
        'resource) when { principal.kind == "user" && principal.department == '
        "resource.owner && ("
        + " || ".join(f'principal.roles.contains("{role}")' for role in STEWARD_ROLES)
        + ") };",
    ),
    (
        "base:admin",
        f"permit(principal, action in {_MANAGING}, "
        'resource) when { principal.roles.contains("admin") };',
    ),
    (
        "base:system",
        f"permit(principal, action in {_MANAGING}, resource) when "
        '{ principal.kind == "system" };',
    ),
    (
        "base:request",
        f'permit(principal, action == Action::"{REQUEST}", resource) when '
        '{ principal.kind == "user" && principal.department != resource.owner && '
        'principal.department != Department::"" };',
    ),
    (
        "base:commander-break-glass",
        f'permit(principal, action == Action::"{BREAK_GLASS}", resource) when '
        '{ principal.kind == "user" && principal.roles.contains("commander") };',
    ),
    (
        "rule:graded-data-needs-purpose",
        f"forbid(principal, action in {_READ}, resource) when "
        '{ resource.grade != "GENERAL" && context.purpose == "" } unless '
        "{ principal.department == resource.owner };",
    ),
    (
        "rule:connectors-do-not-read",
        'forbid(principal, action, resource) when { principal.kind == "api_key" };',
    ),
)


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """Open emergency access of one user to one dataset until ``expires_at``."""

    break_glass_id: str
    dataset: str
    user_id: str
    incident_id: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One compiled policy: its id, its Cedar text and what it lets through."""

    policy_id: str
    text: str
    kind: str  # base | rule | agreement | grant | break_glass
    agreement: Agreement | None = None
    grant: Grant | None = None
    break_glass: BreakGlass | None = None

    def applies_to(self, dataset: str) -> bool:
        """Tell whether the policy can decide on a dataset (base rules: always)."""
        if self.agreement is not None:
            return self.agreement.dataset == dataset
        if self.break_glass is not None:
            return self.break_glass.dataset == dataset
        return True

    @property
    def incident_id(self) -> str | None:
        """Return the incident a grant or break-glass belongs to."""
        if self.grant is not None:
            return self.grant.incident_id
        if self.break_glass is not None:
            return self.break_glass.incident_id
        return None


def compile_policies(
    agreements: Sequence[Agreement],
    grants: Sequence[Grant],
    break_glasses: Sequence[BreakGlass],
) -> tuple[PolicyEntry, ...]:
    """Return the whole policy set: base rules, then agreements, grants, break-glass."""
    entries = [
        PolicyEntry(policy_id=pid, text=text, kind=pid.split(":")[0])
        for pid, text in BASE_POLICIES
    ]
    by_code = {agreement.code: agreement for agreement in agreements}
    for agreement in agreements:
        if agreement.incident is None:
            pid = f"agreement:{agreement.code}"
            entries.append(
                PolicyEntry(
                    policy_id=pid,
                    text=_agreement_policy(agreement, extra=()),
                    kind="agreement",
                    agreement=agreement,
                )
            )
    for grant in grants:
        granting = by_code.get(grant.agreement_code)
        if granting is None:
            continue
        clauses = [
            f'context.incident == "" || context.incident == {_lit(grant.incident_id)}'
        ]
        if grant.radius_km is not None:
            clauses.append(f"resource.areas.contains({_lit(grant.grant_id)})")
        entries.append(
            PolicyEntry(
                policy_id=f"grant:{grant.grant_id}",
                text=_agreement_policy(granting, extra=tuple(clauses)),
                kind="grant",
                agreement=granting,
                grant=grant,
            )
        )
    for item in break_glasses:
        text = (
            f"permit(principal, action in {_READ}, resource) when {{ "
            f"principal == User::{_lit(item.user_id)} && "
            f"resource.dataset == {_lit(item.dataset)}"
            f" && context.now < {int(item.expires_at.timestamp())} }};"
        )
        entries.append(
            PolicyEntry(
                policy_id=f"break-glass:{item.break_glass_id}",
                text=text,
                kind="break_glass",
                break_glass=item,
            )
        )
    return tuple(entries)


def _agreement_policy(agreement: Agreement, *, extra: tuple[str, ...]) -> str:
    actions = (
        f'action == Action::"{READ_AGGREGATE}"'
        if agreement.mode == Mode.AGGREGATE
        else f"action in {_READ}"
    )
    clauses = [
        f"resource.dataset == {_lit(agreement.dataset)}",
        'principal.kind == "user"',
    ]
    if not agreement.for_all():
        departments = ", ".join(
            f"Department::{_lit(code)}" for code in agreement.consumers
        )
        clauses.append(f"[{departments}].contains(principal.department)")
    if agreement.purposes:
        purposes = ", ".join(_lit(purpose) for purpose in agreement.purposes)
        clauses.append(f"[{purposes}].contains(context.purpose)")
    if agreement.valid_from is not None:
        clauses.append(f"context.now >= {_epoch(agreement.valid_from)}")
    if agreement.valid_until is not None:
        clauses.append(f"context.now < {_epoch(agreement.valid_until)}")
    clauses.extend(f"({clause})" for clause in extra)
    return f"permit(principal, {actions}, resource) when {{ {' && '.join(clauses)} }};"


def policy_text(entries: Sequence[PolicyEntry]) -> str:
    """Return the Cedar text of a policy set, each policy annotated with its id."""
    return "\n".join(f"@id({_lit(entry.policy_id)})\n{entry.text}" for entry in entries)


@dataclass(frozen=True, slots=True)
class Release:
    """What the permitting policies let through for one slice of records."""

    fields: tuple[str, ...]
    masks: Mapping[str, Mask]
    tlp: str
    aggregate_by: str | None = None


TLP_ORDER = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
GRADE_TLP = {"GENERAL": "GREEN", "IMPORTANT": "AMBER", "CORE": "RED"}


def release(
    dataset: DatasetFacts, entries: Sequence[PolicyEntry], *, owner: bool
) -> Release:
    """Combine what the permitting policies allow: a field shows if any allows it, with
    the least restrictive of their masks; the label is the strictest of their TLPs."""
    if owner:
        none = Mask(MaskKind.NONE)
        return Release(
            fields=dataset.names,
            masks=dict.fromkeys(dataset.names, none),
            tlp=GRADE_TLP.get(dataset.grade, "AMBER"),
        )
    masks: dict[str, Mask] = {}
    tlps: list[str] = []
    aggregate_by: str | None = None
    for entry in entries:
        for name, mask in _entry_masks(dataset, entry).items():
            masks[name] = (
                least_restrictive(masks[name], mask) if name in masks else mask
            )
        if entry.agreement is not None:
            tlps.append(entry.agreement.tlp)
            aggregate_by = aggregate_by or entry.agreement.aggregate_by
        else:
            tlps.append(GRADE_TLP.get(dataset.grade, "AMBER"))
    fields = tuple(name for name in dataset.names if name in masks)
    tlp = max(tlps, key=TLP_ORDER.index) if tlps else "RED"
    return Release(fields=fields, masks=masks, tlp=tlp, aggregate_by=aggregate_by)


def _entry_masks(dataset: DatasetFacts, entry: PolicyEntry) -> dict[str, Mask]:
    if entry.agreement is not None:
        if entry.agreement.mode == Mode.AGGREGATE:
            return {}
        return dict(entry.agreement.masks)
    if entry.kind == "break_glass":
        # Emergency access shows contact data; sensitive personal data stays partial.
        return {
            item.name: Mask(MaskKind.PARTIAL)
            if item.sensitivity == "sensitive_personal"
            else Mask(MaskKind.NONE)
            for item in dataset.fields
        }
    return {item.name: default_mask(item) for item in dataset.fields}


def time_boundaries(entries: Sequence[PolicyEntry]) -> tuple[int, ...]:
    """Return, sorted, every time constant the policies compare ``context.now`` with
    (validity windows, break-glass expiry), as the epoch seconds they are written in."""
    found: set[int] = set()
    for entry in entries:
        if entry.agreement is not None:
            for moment in (entry.agreement.valid_from, entry.agreement.valid_until):
                if moment is not None:
                    found.add(_epoch(moment))
        if entry.break_glass is not None:
            found.add(int(entry.break_glass.expires_at.timestamp()))
    return tuple(sorted(found))


def _lit(text: str) -> str:
    if not SAFE_ID.fullmatch(text):
        raise ValueError(f"{text!r} cannot appear in a policy")
    return f'"{text}"'


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


__all__ = [
    "BASE_POLICIES",
    "BREAK_GLASS",
    "MANAGE",
    "MANAGE_QUARANTINE",
    "READ_AGGREGATE",
    "READ_RECORDS",
    "REQUEST",
    "SCHEMA",
    "BreakGlass",
    "PolicyEntry",
    "Release",
    "compile_policies",
    "policy_text",
    "release",
    "time_boundaries",
]
