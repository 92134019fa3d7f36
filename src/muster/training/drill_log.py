"""Completed drills, read from the log by type name: who took part, and how each
department did (expected actions met on time, late, missed).

The drills part appends ``drills.DrillCompleted`` to the live log when a drill ends.
Training neither imports that part nor projects its events: it selects the envelopes
of that wire name through the log's type index, in seq order, and reads their JSON
payloads (version 1: ``drill_id``, ``scenario_code``, ``scenario_title_zh``/``_en``,
``summary`` — one row ``{department, expected, met, late, missed}`` per department
evaluated —, ``departments`` — those whose people acted — and ``finished_at``). So
readiness works whether or not the drills part is installed and is as current as the
log. A department *joined* a drill when the event names it in ``departments`` or in
``summary`` (a department expected to act that did nothing still took part, and
missed). Missing keys read as empty. Linear in the number of drills, not in the size
of the log. Imported by ``muster.training.readiness_queries``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.engine import Connection

from muster.core.eventlog.tables import events
from muster.training.domain.readiness import DrillOutcome

DRILL_COMPLETED = "drills.DrillCompleted"


@dataclass(frozen=True, slots=True)
class CompletedDrill:
    """One completed drill as the log records it."""

    seq: int
    drill_id: str
    scenario_code: str
    title_zh: str
    title_en: str
    finished_at: str
    departments: tuple[str, ...]
    results: Mapping[str, tuple[int, int, int]]  # department -> (met, late, missed)

    def outcome(self, department: str) -> DrillOutcome:
        """Return how one participating department did in this drill."""
        met, late, missed = self.results.get(department, (0, 0, 0))
        return DrillOutcome(
            drill_id=self.drill_id,
            scenario_code=self.scenario_code,
            title_zh=self.title_zh,
            title_en=self.title_en,
            finished_at=self.finished_at,
            met=met,
            late=late,
            missed=missed,
        )

    def title(self, language: str) -> str:
        """Return the scenario title in the given language."""
        return self.title_zh if language == "zh-CN" else self.title_en


def completed_drills(conn: Connection) -> list[CompletedDrill]:
    """Return every completed drill in log order."""
    query = (
        select(events.c.seq, cast(events.c.body, Text))
        .where(events.c.type == DRILL_COMPLETED)
        .order_by(events.c.seq)
    )
    return [_drill(int(seq), json.loads(body)) for seq, body in conn.execute(query)]


def drills_of(drills: list[CompletedDrill], department: str) -> list[DrillOutcome]:
    """Return a department's outcomes in the drills it joined, oldest first."""
    return [d.outcome(department) for d in drills if department in d.departments]


def _drill(seq: int, envelope: Mapping[str, Any]) -> CompletedDrill:
    data = envelope.get("data")
    payload: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    results: dict[str, tuple[int, int, int]] = {}
    for row in _rows(payload.get("summary")):
        counts = [_count(row.get(key)) for key in ("met", "late", "missed")]
        results[str(row.get("department", ""))] = (counts[0], counts[1], counts[2])
    named = payload.get("departments")
    departments = [str(code) for code in named] if isinstance(named, list) else []
    departments += [code for code in results if code and code not in departments]
    title_en = str(payload.get("scenario_title_en") or "")
    return CompletedDrill(
        seq=seq,
        drill_id=str(payload.get("drill_id", "")),
        scenario_code=str(payload.get("scenario_code", "")),
        title_zh=str(payload.get("scenario_title_zh") or title_en),
        title_en=title_en or str(payload.get("scenario_title_zh") or ""),
        finished_at=str(payload.get("finished_at") or envelope.get("occurred_at", "")),
        departments=tuple(departments),
        results=results,
    )


def _rows(summary: object) -> list[Mapping[str, Any]]:
    if not isinstance(summary, list):
        return []
    return [row for row in summary if isinstance(row, Mapping)]


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = ["DRILL_COMPLETED", "CompletedDrill", "completed_drills", "drills_of"]
