"""The policy decision point: Cedar (cedarpy) decides every read of shared data.

The policy set is compiled from the sharing read models (``domain.policies``) and
validated against the Cedar schema when it is loaded; a set that fails validation is
a configuration error, never a silent allow. Parsed policy sets are cached under the
policy version (the log position of the last change), parsed entity sets under what
they contain, so a decision costs one Cedar evaluation. Only ``Allow`` allows:
``Deny``, ``NoDecision`` and any evaluation error refuse (fail closed).
Imported by the read service, the sharing handlers and ``muster access check``.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cedarpy

from muster.core.errors import ConfigurationError
from muster.core.messages import Actor
from muster.sharing.areas import AreaIndex
from muster.sharing.domain.agreements import DatasetFacts
from muster.sharing.domain.policies import (
    SCHEMA,
    PolicyEntry,
    policy_text,
    time_boundaries,
)

ENTITY_CACHE_SIZE = 4096
DECISION_CACHE_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who asks, as Cedar sees them."""

    user_id: str
    department: str
    roles: frozenset[str]
    kind: str

    @classmethod
    def of(cls, actor: Actor) -> Principal:
        """Return the principal of a Muster actor."""
        return cls(
            user_id=actor.id,
            department=actor.department or "",
            roles=frozenset(actor.roles),
            kind=actor.kind,
        )


@dataclass(frozen=True, slots=True)
class Slice:
    """Records of one dataset that share the facts a policy can see: which area-limited
    grants' circles hold them (empty: none, or a dataset-level question)."""

    dataset: DatasetFacts
    areas: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """Return the slice's entity id."""
        return f"{self.dataset.code}|{','.join(sorted(self.areas))}"


@dataclass(frozen=True, slots=True)
class Context:
    """What a request states: its time, purpose and incident."""

    now: datetime
    purpose: str | None = None
    incident_id: str | None = None

    def to_cedar(self) -> dict[str, object]:
        """Return the Cedar context (absent purpose or incident is the empty string)."""
        return {
            "now": int(self.now.timestamp()),
            "purpose": self.purpose or "",
            "incident": self.incident_id or "",
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """Cedar's answer for one slice: allowed or not, and the policies that decided."""

    allowed: bool
    policies: tuple[PolicyEntry, ...]
    errors: tuple[str, ...] = ()

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """Return the ids of the deciding policies."""
        return tuple(entry.policy_id for entry in self.policies)


@dataclass(frozen=True, slots=True)
class CompiledPolicies:
    """A validated policy set; per dataset, the parsed subset that can apply to it.

    Cedar evaluates every policy it is given, so a request about one dataset is given
    only the base rules and that dataset's agreement, grant and break-glass policies
    (``for_dataset``): the decision is the same, the evaluation a fraction.
    """

    version: int
    entries: tuple[PolicyEntry, ...]
    policy_set: cedarpy.PolicySet
    by_position: dict[str, PolicyEntry]
    subsets: dict[str, tuple[cedarpy.PolicySet, dict[str, PolicyEntry]]] = field(
        default_factory=dict
    )
    areas: dict[str, AreaIndex] = field(default_factory=dict)
    boundaries: tuple[int, ...] = ()
    decisions: dict[tuple[object, ...], Decision] = field(default_factory=dict)

    def era(self, now: datetime) -> int:
        """Return which interval between the policies' time constants ``now`` falls in:
        a policy reads the clock only by comparing it with those constants, so every
        decision is the same throughout an interval (the decision cache's key)."""
        return bisect_right(self.boundaries, int(now.timestamp()))

    def area_index(self, code: str) -> AreaIndex:
        """Return the index of the area-limited grants on a dataset (built once)."""
        found = self.areas.get(code)
        if found is None:
            found = AreaIndex(
                [
                    entry.grant
                    for entry in self.entries
                    if entry.grant is not None
                    and entry.grant.dataset == code
                    and entry.grant.radius_km
                ]
            )
            self.areas[code] = found
        return found

    def for_dataset(
        self, code: str
    ) -> tuple[cedarpy.PolicySet, dict[str, PolicyEntry]]:
        """Return the parsed policies that can decide on a dataset, by position id."""
        found = self.subsets.get(code)
        if found is None:
            chosen = [entry for entry in self.entries if entry.applies_to(code)]
            found = (
                cedarpy.PolicySet.from_str(policy_text(chosen)),
                {f"policy{index}": entry for index, entry in enumerate(chosen)},
            )
            self.subsets[code] = found
        return found


class DecisionPoint:
    """Cedar evaluation with cached policy and entity sets; safe across threads."""

    def __init__(self) -> None:
        self.schema = cedarpy.Schema.from_str(SCHEMA)
        self._compiled: CompiledPolicies | None = None
        self._entities: OrderedDict[tuple[object, ...], cedarpy.Entities] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def compiled(
        self, version: int, build: Sequence[PolicyEntry] | None = None
    ) -> CompiledPolicies | None:
        """Return the cached set of ``version``, else compile ``build`` (or None)."""
        current = self._compiled
        if current is not None and current.version == version:
            return current
        if build is None:
            return None
        compiled = compile_set(version, build, self.schema)
        with self._lock:
            self._compiled = compiled
        return compiled

    def decide(
        self,
        policies: CompiledPolicies,
        principal: Principal,
        action: str,
        slices: Sequence[Slice],
        context: Context,
    ) -> list[Decision]:
        """Decide one action on each slice: from the decision cache, or in one
        batched Cedar call for the slices it has not seen.

        The cache lives with the compiled policy set (a new policy version starts
        empty) and its key holds everything Cedar sees: the principal, the action,
        the slice's attributes, the purpose, the incident and the clock's era.
        """
        era = policies.era(context.now)
        purpose, incident = context.purpose or "", context.incident_id or ""
        keys = [
            (principal, action, piece.key, piece.dataset.owner,
             piece.dataset.sharing_class, piece.dataset.grade, purpose, incident, era)
            for piece in slices
        ]  # fmt: skip
        cache = policies.decisions
        found = [cache.get(key) for key in keys]
        missing = [index for index, decision in enumerate(found) if decision is None]
        if missing:
            fresh = self._evaluate(
                policies, principal, action, [slices[i] for i in missing], context
            )
            if len(cache) > DECISION_CACHE_SIZE:
                cache.clear()
            for index, decision in zip(missing, fresh, strict=True):
                found[index] = cache[keys[index]] = decision
        return [decision for decision in found if decision is not None]

    def _evaluate(
        self,
        policies: CompiledPolicies,
        principal: Principal,
        action: str,
        slices: Sequence[Slice],
        context: Context,
    ) -> list[Decision]:
        """Ask Cedar about each slice in one batched call."""
        if not slices:
            return []
        entities = self._entities_for(principal, slices)
        cedar_context = context.to_cedar()
        user = {"type": "User", "id": principal.user_id}
        act = {"type": "Action", "id": action}
        requests = [
            {
                "principal": user,
                "action": act,
                "resource": {"type": "Records", "id": piece.key},
                "context": cedar_context,
            }
            for piece in slices
        ]
        codes = {piece.dataset.code for piece in slices}
        if len(codes) == 1:
            policy_set, by_position = policies.for_dataset(codes.pop())
        else:
            policy_set, by_position = policies.policy_set, policies.by_position
        results = cedarpy.is_authorized_batch(requests, policy_set, entities)
        decisions = []
        for result in results:
            reasons = result.diagnostics.reasons
            entries = tuple(
                by_position[reason] for reason in reasons if reason in by_position
            )
            errors = tuple(str(error) for error in result.diagnostics.errors)
            decisions.append(
                Decision(
                    allowed=result.decision == cedarpy.Decision.Allow and not errors,
                    policies=entries,
                    errors=errors,
                )
            )
        return decisions

    def _entities_for(
        self, principal: Principal, slices: Sequence[Slice]
    ) -> cedarpy.Entities:
        key = (
            principal,
            tuple(
                (piece.key, piece.dataset.owner, piece.dataset.sharing_class,
                 piece.dataset.grade)
                for piece in slices
            ),
        )  # fmt: skip
        with self._lock:
            found = self._entities.get(key)
            if found is not None:
                self._entities.move_to_end(key)
                return found
        entities = cedarpy.Entities.from_json_str(
            json.dumps(entity_list(principal, slices))
        )
        with self._lock:
            self._entities[key] = entities
            if len(self._entities) > ENTITY_CACHE_SIZE:
                self._entities.popitem(last=False)
        return entities


def entity_list(
    principal: Principal, slices: Sequence[Slice]
) -> list[dict[str, object]]:
    """Return one request's Cedar entities: the user, their department, the slices."""
    department = {"type": "Department", "id": principal.department}
    entities: list[dict[str, object]] = [
        {
            "uid": {"type": "User", "id": principal.user_id},
            "attrs": {
                "department": {"__entity": department},
                "roles": sorted(principal.roles),
                "kind": principal.kind,
            },
            "parents": [department],
        },
        {"uid": department, "attrs": {}, "parents": []},
    ]
    for piece in slices:
        owner = {"type": "Department", "id": piece.dataset.owner}
        entities.append(
            {
                "uid": {"type": "Records", "id": piece.key},
                "attrs": {
                    "dataset": piece.dataset.code,
                    "owner": {"__entity": owner},
                    "sharing_class": piece.dataset.sharing_class,
                    "grade": piece.dataset.grade,
                    "areas": sorted(piece.areas),
                },
                "parents": [],
            }
        )
    return entities


def compile_set(
    version: int, entries: Sequence[PolicyEntry], schema: cedarpy.Schema
) -> CompiledPolicies:
    """Parse and validate a policy set; refuse one that fails the schema."""
    text = policy_text(entries)
    if any(e.text.startswith("forbid") and "resource.areas" in e.text for e in entries):
        raise ConfigurationError("a forbid policy may not read resource.areas")
    result = cedarpy.validate_policies(text, schema)
    if not result.validation_passed:
        problems = "; ".join(str(error.error) for error in result.errors[:3])
        raise ConfigurationError(f"the sharing policy set fails its schema: {problems}")
    return CompiledPolicies(
        version=version,
        entries=tuple(entries),
        policy_set=cedarpy.PolicySet.from_str(text),
        by_position={f"policy{index}": entry for index, entry in enumerate(entries)},
        boundaries=time_boundaries(entries),
    )


__all__ = [
    "CompiledPolicies",
    "Context",
    "Decision",
    "DecisionPoint",
    "Principal",
    "Slice",
    "compile_set",
    "entity_list",
]
