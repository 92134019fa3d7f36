"""The policy set as the read models hold it now, compiled once per change.

``load_policies`` reads the policy version and, only when the decision point's cached
set is older, the agreements, grants and break-glass it compiles from. ``authorize``
is the one way a handler asks Cedar whether an actor may act on a dataset (manage,
manage quarantine, break glass): no hand-written role checks (ADR 0010);
``managed_dataset`` and ``stated_reason`` are the checks the provider's commands
(register, revoke, decide, record a notice) open with.
Imported by the sharing handlers, the read service and the CLI.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from muster.core.errors import PermissionDenied
from muster.core.messages import Actor
from muster.core.uow import UnitOfWork
from muster.ingest.domain.errors import UnknownDataset
from muster.sharing import queries
from muster.sharing.domain.agreements import DatasetFacts
from muster.sharing.domain.errors import AgreementInvalid
from muster.sharing.domain.policies import MANAGE, compile_policies
from muster.sharing.pdp import (
    CompiledPolicies,
    Context,
    Decision,
    DecisionPoint,
    Principal,
    Slice,
)


def dataset_or_refuse(conn: Connection, code: str) -> DatasetFacts:
    """Return a dataset's facts, or raise UnknownDataset (404)."""
    facts = queries.dataset_facts(conn, code)
    if facts is None:
        raise UnknownDataset(f"no dataset {code} in the catalog", dataset=code)
    return facts


def load_policies(
    conn: Connection, pdp: DecisionPoint, now: datetime
) -> CompiledPolicies:
    """Return the compiled policy set of the current policy version."""
    version = queries.current_policy_version(conn)
    cached = pdp.compiled(version)
    if cached is not None:
        return cached
    entries = compile_policies(
        queries.active_agreements(conn),
        queries.active_grants(conn),
        queries.open_break_glass(conn, now),
    )
    compiled = pdp.compiled(version, entries)
    assert compiled is not None  # noqa: S101 - compiled() returns a set when given entries
    return compiled


def decide_on_dataset(
    conn: Connection,
    pdp: DecisionPoint,
    actor: Actor,
    action: str,
    dataset: DatasetFacts,
    context: Context,
) -> Decision:
    """Decide one action on a whole dataset (no area facts)."""
    policies = load_policies(conn, pdp, context.now)
    return pdp.decide(policies, Principal.of(actor), action, [Slice(dataset)], context)[
        0
    ]


def authorize(
    conn: Connection,
    pdp: DecisionPoint,
    actor: Actor,
    action: str,
    dataset: DatasetFacts,
    now: datetime,
    *,
    refusal: str,
) -> Decision:
    """Return the allowing decision, or raise PermissionDenied with ``refusal``."""
    decision = decide_on_dataset(conn, pdp, actor, action, dataset, Context(now=now))
    if not decision.allowed:
        raise PermissionDenied(refusal, action=action, dataset=dataset.code)
    return decision


def managed_dataset(
    uow: UnitOfWork, pdp: DecisionPoint, code: str, *, refusal: str
) -> DatasetFacts:
    """Return the facts of a dataset the actor may manage; else raise UnknownDataset,
    or PermissionDenied with ``refusal`` (``{owner}`` and ``{code}`` filled in)."""
    facts = dataset_or_refuse(uow.conn, code)
    refusal = refusal.format(owner=facts.owner, code=facts.code)
    authorize(uow.conn, pdp, uow.actor, MANAGE, facts, uow.clock.now(), refusal=refusal)
    return facts


def stated_reason(text: str, *, missing: str, field: str) -> str:
    """Return ``text`` stripped, or raise AgreementInvalid(missing) if it is blank."""
    if not text.strip():
        raise AgreementInvalid(missing, field=field)
    return text.strip()


__all__ = [
    "authorize",
    "dataset_or_refuse",
    "decide_on_dataset",
    "load_policies",
    "managed_dataset",
    "stated_reason",
]
