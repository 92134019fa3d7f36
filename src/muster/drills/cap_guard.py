"""A drill plays only CAP alerts whose status is Exercise (ADR 0013).

``require_exercise_cap`` checks a CAP document (or an envelope of alerts): every
``<status>`` must be ``Exercise``. ``exercise_cap_only`` wraps the ``IngestCap``
handler of a drill's sandbox deployment (bootstrap does it when ``drill_id`` is set),
so no real alert enters a drill, from a scenario or from a feed. Imported by
bootstrap and the runner.
"""

from __future__ import annotations

import re

from muster.core.bus import Handler
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.drills.domain.errors import InjectRefused
from muster.ingest.domain.commands import IngestCap

_CAP_STATUS = re.compile(r"<(?:[\w.-]+:)?status>\s*([^<\s]*)\s*</", re.IGNORECASE)


def require_exercise_cap(xml: str) -> None:
    """Refuse a CAP document unless every alert in it has status Exercise."""
    statuses = _CAP_STATUS.findall(xml)
    if not statuses or any(status != "Exercise" for status in statuses):
        raise InjectRefused(
            "a drill plays only CAP alerts whose status is Exercise "
            f"(found: {', '.join(statuses) or 'none'})",
            statuses=statuses,
        )


def exercise_cap_only(handler: Handler) -> Handler:
    """Return the IngestCap handler refusing every alert that is no exercise."""

    def run(command: Command, uow: UnitOfWork) -> object:
        if isinstance(command, IngestCap):
            require_exercise_cap(command.data.decode("utf-8", errors="replace"))
        return handler(command, uow)

    return run


__all__ = ["exercise_cap_only", "require_exercise_cap"]
