"""Reading shared records: the one path from stored records to any consumer.

``handle_read`` (the ``ReadShared`` command) reconciles scenario grants, groups the
records into slices by the area-limited grants that cover them, asks Cedar once per
slice (batched), masks each permitted slice by the policies that permitted it, counts
the slices only counts may leave for, and appends the decision to the access log, all
in one transaction. The API, the exports, the pages and the CLI call it; nothing else
turns stored records into output for another department (ADR 0010).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from muster.core.uow import UnitOfWork
from muster.ingest import queries as ingest
from muster.ingest.domain.errors import UnknownDataset
from muster.sharing import queries
from muster.sharing.domain.agreements import Agreement, DatasetFacts
from muster.sharing.domain.commands import ReadShared
from muster.sharing.domain.events import AccessDecided
from muster.sharing.domain.explain import Asker, explain_allow, explain_deny
from muster.sharing.domain.grants import Grant, record_position
from muster.sharing.domain.masks import (
    Mask,
    MaskKind,
    aggregate_counts,
    compile_masker,
    mask_geometry,
    mask_text,
    restrictiveness,
)
from muster.sharing.domain.policies import (
    READ_AGGREGATE,
    READ_RECORDS,
    PolicyEntry,
    Release,
    release,
)
from muster.sharing.pdp import (
    CompiledPolicies,
    Context,
    Decision,
    DecisionPoint,
    Principal,
    Slice,
)
from muster.sharing.policy_state import load_policies

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Row:
    """A stored record as the read path sees it."""

    values: dict[str, Any]
    geometry: dict[str, Any] | None
    received_at: str
    position: tuple[float, float] | None


@dataclass(slots=True)
class SharedRead:
    """What a read returned and how it was decided (what the access log recorded)."""

    access_id: str
    dataset: str
    provider: str
    decision: str  # allow | aggregate | deny
    records: list[dict[str, Any]] = field(default_factory=list)
    aggregate_by: str | None = None
    aggregates: list[tuple[str, int]] = field(default_factory=list)
    masks: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    tlp: str = "RED"
    reason: str = ""
    incident_id: str | None = None
    purpose: str | None = None


def load_rows(conn: Any, facts: DatasetFacts, limit: int) -> list[Row]:
    """Return a dataset's newest records (or observations) with their positions."""
    points = tuple(item.name for item in facts.fields if item.type == "point")
    if facts.format == "observations":
        return [
            _observation(item)
            for item in ingest.list_observations(conn, facts.code, limit=limit)
        ]
    return [
        Row(
            values=item.values,
            geometry=item.geometry,
            received_at=item.received_at,
            position=record_position(item.values, item.geometry, points),
        )
        for item in ingest.list_records(conn, facts.code, limit=limit)
    ]


def _observation(item: dict[str, Any]) -> Row:
    lat, lon = item.get("latitude"), item.get("longitude")
    position = (lat, lon) if lat is not None and lon is not None else None
    values = {
        "station_id": item["station"],
        "metric": item["metric"],
        "value": item["value"],
        "unit": item.get("unit"),
        "observed_at": item["observed_at"],
        "location": list(position) if position else None,
    }
    return Row(
        values=values, geometry=None, received_at=item["observed_at"], position=position
    )


def handle_read(
    command: ReadShared,
    uow: UnitOfWork,
    *,
    pdp: DecisionPoint,
    reconcile: Callable[[UnitOfWork], int],
) -> SharedRead:
    """Decide, mask, count and log one read of a dataset's records."""
    actor = uow.actor
    with uow:
        facts = queries.dataset_facts(uow.conn, command.dataset)
        if facts is None:
            raise UnknownDataset(
                f"no dataset {command.dataset} in the catalog", dataset=command.dataset
            )
        reconcile(uow)
        now = uow.clock.now()
        policies = load_policies(uow.conn, pdp, now)
        context = Context(
            now=now,
            purpose=command.purpose or None,
            incident_id=command.incident_id or None,
        )
        outcome = decide_rows(
            pdp,
            policies,
            Principal.of(actor),
            facts,
            context,
            agreements=queries.active_agreements(uow.conn),
            rows=lambda: load_rows(
                uow.conn, facts, max(1, min(command.limit, MAX_LIMIT))
            ),
        )
        outcome.access_id = uuid.uuid4().hex
        outcome.purpose = context.purpose
        uow.append(
            f"access-{outcome.access_id}",
            [
                AccessDecided(
                    access_id=outcome.access_id,
                    user_id=actor.id,
                    department=actor.department,
                    dataset=facts.code,
                    provider=facts.owner,
                    action=READ_RECORDS,
                    purpose=context.purpose,
                    incident_id=outcome.incident_id,
                    decision=outcome.decision,
                    policies=outcome.policies,
                    masks=outcome.masks,
                    records=len(outcome.records),
                    aggregated=sum(count for _, count in outcome.aggregates),
                    channel=command.channel,
                    reason=outcome.reason,
                )
            ],
            expected_version=0,
        )
        uow.commit()
    return outcome


def decide_rows(
    pdp: DecisionPoint,
    policies: CompiledPolicies,
    principal: Principal,
    facts: DatasetFacts,
    context: Context,
    *,
    agreements: Sequence[Agreement],
    rows: Callable[[], list[Row]],
) -> SharedRead:
    """Decide and mask a read (no logging): the core the bench measures.

    Cedar is asked once per area, not once per record: about the dataset with no
    area, and about each grant circle alone. Permits are monotone in areas and no
    forbid reads them (``compile_set`` refuses one that does), so a record inside
    several circles is released by the union of what each of its circles allows.
    """
    index = policies.area_index(facts.code)
    probes = [Slice(facts)] + [Slice(facts, frozenset({g})) for g in index.grant_ids]
    records = pdp.decide(policies, principal, READ_RECORDS, probes, context)
    refused = [probe for probe, d in zip(probes, records, strict=True) if not d.allowed]
    counted = dict(
        zip(
            refused,
            pdp.decide(policies, principal, READ_AGGREGATE, refused, context),
            strict=True,
        )
    )
    allow = {
        probe: decision
        for probe, decision in zip(probes, records, strict=True)
        if decision.allowed
    }
    count = {probe: d for probe, d in counted.items() if d.allowed}
    if not allow and not count:
        grants_here = bool(index.grant_ids) or any(
            entry.grant is not None and entry.grant.dataset == facts.code
            for entry in policies.entries
        )
        return _denied(
            facts, principal, context, agreements, policies.entries,
            [*records, *counted.values()], outside=grants_here,
        )  # fmt: skip
    by_areas = index.group(rows())
    release_of = {probe.areas: d.policies for probe, d in allow.items()}
    count_of = {probe.areas: d.policies for probe, d in count.items()}
    owner = principal.department == facts.owner
    return _assemble(facts, context, by_areas, release_of, count_of, owner=owner)


def _permitting(
    areas: frozenset[str], by_probe: dict[frozenset[str], tuple[PolicyEntry, ...]]
) -> tuple[PolicyEntry, ...]:
    found = list(by_probe.get(frozenset(), ()))
    for grant in areas:
        found.extend(by_probe.get(frozenset({grant}), ()))
    return tuple({entry.policy_id: entry for entry in found}.values())


def _assemble(
    facts: DatasetFacts,
    context: Context,
    by_areas: dict[frozenset[str], list[Row]],
    release_of: dict[frozenset[str], tuple[PolicyEntry, ...]],
    count_of: dict[frozenset[str], tuple[PolicyEntry, ...]],
    *,
    owner: bool,
) -> SharedRead:
    records: list[dict[str, Any]] = []
    used: dict[str, PolicyEntry] = {}
    masks: dict[str, str] = {}
    releases: list[Release] = []
    aggregates: dict[str, int] = {}
    aggregate_by: str | None = None
    maskers: dict[tuple[str, ...], tuple[Any, Mask]] = {}
    shapes: dict[tuple[object, ...], tuple[Release, Any, Mask]] = {}

    def released(permitting: tuple[PolicyEntry, ...], *, own: bool) -> Release:
        """Release and maskers per shape: many circles, the same few agreements."""
        shape = (own, *dict.fromkeys(_shape(entry) for entry in permitting))
        found = shapes.get(shape)
        if found is None:
            granted = release(facts, permitting, owner=own)
            found = (
                granted,
                compile_masker(granted.fields, granted.masks),
                _geometry_mask(facts, granted),
            )
            shapes[shape] = found
        return found[0]

    for areas, rows in by_areas.items():
        permitting = _permitting(areas, release_of)
        if permitting:
            key = tuple(sorted(entry.policy_id for entry in permitting))
            if key not in maskers:
                granted = released(permitting, own=owner)
                releases.append(granted)
                used.update({entry.policy_id: entry for entry in permitting})
                masks.update(
                    {
                        name: mask_text(mask)
                        for name, mask in granted.masks.items()
                        if mask.kind != MaskKind.NONE
                    }
                )
                shape = (owner, *dict.fromkeys(_shape(e) for e in permitting))
                maskers[key] = shapes[shape][1:]
            masker, geometry_mask = maskers[key]
            records.extend(
                [
                    {
                        "values": masker(row.values),
                        "geometry": mask_geometry(row.geometry, geometry_mask)
                        if row.geometry is not None
                        else None,
                        "received_at": row.received_at,
                    }
                    for row in rows
                ]
            )
            continue
        counting = _permitting(areas, count_of)
        if not counting:
            continue
        granted = released(counting, own=False)
        releases.append(granted)
        used.update({entry.policy_id: entry for entry in counting})
        aggregate_by = aggregate_by or granted.aggregate_by
        if aggregate_by is not None:
            for value, number in aggregate_counts(
                (row.values for row in rows), aggregate_by
            ):
                aggregates[value] = aggregates.get(value, 0) + number
    if not used:  # nothing stored (in reach): say what would have been released
        base = release_of.get(frozenset()) or count_of.get(frozenset()) or ()
        used = {entry.policy_id: entry for entry in base}
        if base:
            granted = release(facts, base, owner=owner and bool(release_of))
            releases.append(granted)
            if release_of.get(frozenset()):
                masks.update(
                    {
                        name: mask_text(mask)
                        for name, mask in granted.masks.items()
                        if mask.kind != MaskKind.NONE
                    }
                )
    incident = context.incident_id or next(
        (entry.incident_id for entry in used.values() if entry.incident_id), None
    )
    order = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
    return SharedRead(
        access_id="",
        dataset=facts.code,
        provider=facts.owner,
        decision=_decision(records, aggregates, release_of),
        records=records,
        aggregate_by=aggregate_by,
        aggregates=sorted(aggregates.items(), key=lambda item: (-item[1], item[0])),
        masks=masks,
        fields=tuple(dict.fromkeys(name for item in releases for name in item.fields)),
        policies=tuple(sorted(used)),
        tlp=max((item.tlp for item in releases), key=order.index, default="RED"),
        reason=explain_allow(list(used.values())) if used else _nothing(release_of),
        incident_id=incident,
    )


def _shape(entry: PolicyEntry) -> object:
    """What ``release`` reads of an entry: its agreement (one per code in a policy
    version; a grant carries its agreement's), else its kind."""
    return entry.agreement.code if entry.agreement is not None else "#" + entry.kind


def _decision(
    records: list[dict[str, Any]],
    aggregates: dict[str, int],
    release_of: dict[frozenset[str], tuple[PolicyEntry, ...]],
) -> str:
    """Say what the read gave: records, counts only, or (none stored) what it would."""
    if records:
        return "allow"
    if aggregates:
        return "aggregate"
    return "allow" if release_of else "aggregate"


def _nothing(release_of: dict[frozenset[str], tuple[PolicyEntry, ...]]) -> str:
    areas = ", ".join(sorted(next(iter(key)) for key in release_of if key))
    return f"allowed only within the areas of {areas}; no stored record lies there"


def _geometry_mask(facts: DatasetFacts, granted: Release) -> Mask:
    """Mask a record's geometry like its strictest released location field; hide it
    when the dataset has location fields and none is released (fail closed)."""
    located = [
        item.name
        for item in facts.fields
        if item.type in ("point", "geometry") or item.sensitivity == "location"
    ]
    if not located:
        return Mask(MaskKind.NONE)
    released = [granted.masks[name] for name in located if name in granted.masks]
    if not released:
        return Mask(MaskKind.HIDE)
    return max(released, key=restrictiveness)


def _denied(
    facts: DatasetFacts,
    principal: Principal,
    context: Context,
    agreements: Sequence[Agreement],
    entries: Sequence[PolicyEntry],
    decisions: Sequence[Decision],
    *,
    outside: bool,
) -> SharedRead:
    forbids = [pid for decision in decisions for pid in decision.policy_ids]
    grants: list[Grant] = [entry.grant for entry in entries if entry.grant is not None]
    reason = explain_deny(
        facts,
        Asker(principal.department or None, context.purpose, context.incident_id),
        forbids=forbids,
        agreements=agreements,
        grants=grants,
        now=context.now,
        outside_area=outside,
    )
    return SharedRead(
        access_id="",
        dataset=facts.code,
        provider=facts.owner,
        decision="deny",
        policies=tuple(sorted(set(forbids))),
        reason=reason,
        incident_id=context.incident_id,
    )


__all__ = ["MAX_LIMIT", "Row", "SharedRead", "decide_rows", "handle_read", "load_rows"]
