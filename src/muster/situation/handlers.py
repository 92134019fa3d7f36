"""The situation part's command table (R6): trigger rules and their evaluation.

``command_handlers(dispatch=...)`` binds the port through which a firing trigger
opens or feeds an incident (the response part's handlers, in the same transaction);
bootstrap imports it.
"""

from __future__ import annotations

from typing import Any

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.situation.assessment_handlers import (
    conclude_assessment,
    open_assessment,
    submit_view,
)
from muster.situation.cascade_handlers import CASCADE_HANDLERS
from muster.situation.domain.commands import (
    ConcludeAssessment,
    EvaluateTriggers,
    MergeClusters,
    OpenAssessment,
    RegisterTriggerRules,
    SplitCluster,
    SubmitReport,
    SubmitView,
)
from muster.situation.domain.events import TriggerRulesRegistered
from muster.situation.domain.trigger_rules import parse_trigger_rules
from muster.situation.fusion_handlers import (
    Dispatch,
    merge_clusters,
    split_cluster,
    submit_report,
)
from muster.situation.triggers import evaluate_triggers


def register_trigger_rules(command: RegisterTriggerRules, uow: UnitOfWork) -> str:
    """Set the trigger rules: created / updated / unchanged."""
    rules = parse_trigger_rules(command.document)
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "setting trigger rules needs the admin role", action="set trigger rules"
            )
        recorded = uow.context.store.read_stream(uow.conn, "trigger-rules")
        last = recorded[-1].event if recorded else None
        if (
            isinstance(last, TriggerRulesRegistered)
            and last.document == command.document
        ):
            return "unchanged"
        event = TriggerRulesRegistered(
            document=command.document, rules=len(rules.rules), source=command.source
        )
        uow.append("trigger-rules", [event], expected_version=len(recorded))
        uow.commit()
    return "updated" if recorded else "created"


def command_handlers(*, dispatch: Dispatch) -> dict[type[Command], Handler]:
    """Return this part's command table with its port bound."""

    def _evaluate(command: EvaluateTriggers, uow: UnitOfWork) -> Any:
        return evaluate_triggers(command, uow, dispatch=dispatch)

    def _submit(command: SubmitReport, uow: UnitOfWork) -> Any:
        return submit_report(command, uow, dispatch=dispatch)

    def _conclude(command: ConcludeAssessment, uow: UnitOfWork) -> Any:
        return conclude_assessment(command, uow, dispatch=dispatch)

    return {
        OpenAssessment: open_assessment,
        SubmitView: submit_view,
        ConcludeAssessment: _conclude,
        RegisterTriggerRules: register_trigger_rules,
        EvaluateTriggers: _evaluate,
        SubmitReport: _submit,
        MergeClusters: merge_clusters,
        SplitCluster: split_cluster,
        **CASCADE_HANDLERS,
    }


__all__ = ["command_handlers", "register_trigger_rules"]
