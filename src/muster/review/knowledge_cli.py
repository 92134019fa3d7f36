"""``muster knew``: what a department knew at a moment, computed from the log.

Mounted by the root CLI (``app.command("knew")(knew)``). Reads the live log up to
``--at`` (the database is only read) and lists, each with the seq of the event behind
it, the shared data the department's users and keys were shown, its access requests,
the notifications, tasks, situation reports, decisions, assessments and escalations
that reached it; it states the log range and chain head hash it was computed from.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from muster.core.cli import cli_context, parse_moment_option, print_json, stdout
from muster.review.knowledge import (
    SECTIONS,
    department_knowledge,
    knowledge_json,
)

HEADINGS = {
    "data_access": "Shared data shown 看到的共享数据",
    "access_requests": "Access requests 数据申请",
    "notifications": "Notifications 通知",
    "tasks": "Tasks 任务",
    "reports": "Situation reports received 收到的情况报告",
    "decisions": "Decisions invited to 受邀会签的决策",
    "assessments": "Risk assessments invited to 受邀的风险研判",
    "escalations": "Escalations 升级提醒",
}


def _line(section: str, item: dict[str, Any]) -> str:
    """Return one item as a line: seq, time and what it was."""
    head = f"  #{item['seq']} {item['at'][:16].replace('T', ' ')}"
    match section:
        case "data_access":
            masked = ", ".join(f"{k}={v}" for k, v in item["masks"].items())
            return (
                f"{head} {item['dataset']} ({item['provider']}): {item['decision']}, "
                f"{item['records']} records, {item['aggregated']} counted"
                f"{', masked ' + masked if masked else ''}"
                f"{', purpose ' + item['purpose'] if item['purpose'] else ''}"
            )
        case "access_requests":
            return f"{head} {item['dataset']} from {item['provider']}: {item['state']}"
        case "notifications":
            warning = " [warning 预警]" if item["is_warning"] else ""
            return f"{head} {item['subject_en']}{warning} ({item['state']})"
        case "tasks":
            overdue = ", overdue" if item["overdue"] else ""
            return (
                f"{head} {item['title_en'] or item['task_id']} ({item['role']}): "
                f"{item['status']}{overdue}, due {item['due_at'][:16]}"
            )
        case "reports":
            return f"{head} from {item['sender']} ({item['obligation'] or 'ad hoc'})"
        case "decisions":
            return (
                f"{head} {item['title']}: position {item['position'] or '–'}, "
                f"outcome {item['outcome'] or 'open'}"
            )
        case "assessments":
            return f"{head} {item['topic']}: view {item['view_level'] or '–'}"
        case _:
            return (
                f"{head} task {item['task_id']} of {item['task_department']}: "
                f"round {item['round']}, step {item['step']}"
            )


def _print(document: dict[str, Any]) -> None:
    scope = f" (incident {document['incident_id']})" if document["incident_id"] else ""
    who = document["department"]
    stdout.print(f"What {who} knew at {document['at']}{scope} / 截至该时刻所知")
    log_range = document["log_range"]
    stdout.print(
        f"Log seqs {log_range['first_seq']}–{log_range['last_seq']}, "
        f"chain hash {document['chain_head_hash'] or '–'}"
    )
    for section in SECTIONS:
        items = document[section]
        stdout.print(f"\n{HEADINGS[section]}: {len(items)}")
        for item in items:
            stdout.print(_line(section, item))


def knew(
    ctx: typer.Context,
    department: Annotated[
        str, typer.Option("--department", help="The department's code.")
    ],
    at: Annotated[str, typer.Option("--at", help="The moment (ISO time with a zone).")],
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only this incident's items.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts.")
    ] = False,
) -> None:
    """Show what a department knew at a moment: data, notices, tasks, decisions.

    Computed from the log up to --at; each item names the seq of its event.
    """
    moment = parse_moment_option(at, "--at")
    context = cli_context(ctx)
    with context.open_deployment() as deployment, deployment.engine.connect() as conn:
        report = department_knowledge(
            conn, department, moment, incident, store=deployment.store
        )
    document = knowledge_json(report)
    if as_json:
        print_json(document)
        return
    _print(document)


__all__ = ["knew"]
