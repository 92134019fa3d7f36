"""The exercise evaluation (演练评估) of a drill incident's after-action report.

A drill's sandbox log (ADR 0013) ends with ``drills.DrillEvaluated``: each expected
action of the scenario met, late or missed (the fields of
``muster.drills.domain.evaluation.result_data``). ``exercise_of`` finds it among
the records the AAR already read, by wire name (review does not import drills), for
an exercise incident opened before it; ``exercise_context`` gives the report's
section in a language (words from ``muster.review.aar_text``). Imported by
``muster.review.aar`` and ``muster.review.aar_render``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from muster.core.clock import parse_utc
from muster.review import aar_text as text
from muster.review.domain import metrics as m

DRILL_EVALUATED = "drills.DrillEvaluated"
"""The wire name of the sandbox's evaluation event (``muster.drills``)."""

STATUSES = ("met", "late", "missed")


@dataclass(frozen=True, slots=True)
class ExerciseResult:
    """One expected action of the scenario and how the drill did it."""

    id: str
    department: str
    action: str
    match: Mapping[str, object]
    capability: str | None
    status: str  # met | late | missed
    deadline: datetime | None
    done_at: datetime | None
    minutes: float | None
    seq: int | None
    note: str


@dataclass(frozen=True, slots=True)
class DepartmentTally:
    """One department's count of expected actions met, late and missed."""

    department: str
    met: int
    late: int
    missed: int

    @property
    def total(self) -> int:
        """Return how many expected actions the department had."""
        return self.met + self.late + self.missed


@dataclass(frozen=True, slots=True)
class ExerciseEvaluation:
    """The drill's evaluation as its sandbox log records it (event ``seq``)."""

    drill_id: str
    scenario: str
    seq: int
    results: tuple[ExerciseResult, ...]

    def tallies(self) -> list[DepartmentTally]:
        """Return met, late and missed per department, in department order."""
        counts: dict[str, dict[str, int]] = {}
        for result in self.results:
            row = counts.setdefault(result.department, dict.fromkeys(STATUSES, 0))
            if result.status in row:
                row[result.status] += 1
        return [
            DepartmentTally(code, row["met"], row["late"], row["missed"])
            for code, row in sorted(counts.items())
        ]


def exercise_of(
    records: Sequence[m.LogRecord], own: Sequence[m.LogRecord]
) -> ExerciseEvaluation | None:
    """Return the drill evaluation of an exercise incident (``own``: its records,
    opening first), or None for a live incident or a log without one."""
    if not own or not own[0].is_exercise:
        return None
    opened = own[0].seq
    found = next(
        (r for r in records if r.type == DRILL_EVALUATED and r.seq > opened), None
    )
    if found is None:
        return None
    listed = found.data.get("results")
    return ExerciseEvaluation(
        drill_id=str(found.data.get("drill_id") or ""),
        scenario=str(found.data.get("scenario") or ""),
        seq=found.seq,
        results=tuple(
            _result(item) for item in listed or () if isinstance(item, Mapping)
        )
        if isinstance(listed, list | tuple)
        else (),
    )


def _result(data: Mapping[str, object]) -> ExerciseResult:
    match = data.get("match")
    minutes = data.get("minutes")
    seq = data.get("seq")
    capability = data.get("capability")
    return ExerciseResult(
        id=str(data.get("id") or ""),
        department=str(data.get("department") or ""),
        action=str(data.get("action") or ""),
        match=match if isinstance(match, Mapping) else {},
        capability=str(capability) if capability else None,
        status=str(data.get("status") or ""),
        deadline=_moment(data.get("deadline")),
        done_at=_moment(data.get("done_at")),
        minutes=float(minutes) if isinstance(minutes, int | float) else None,
        seq=seq if isinstance(seq, int) else None,
        note=str(data.get("note") or ""),
    )


def _moment(value: object) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) and value else None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def exercise_context(
    evaluation: ExerciseEvaluation | None,
    index: int,
    department: Callable[[str | None], str],
) -> dict[str, object] | None:
    """Return the exercise evaluation section's rows in a language (``index``: 0
    Chinese, 1 English), or None when the report has no evaluation."""
    if evaluation is None:
        return None

    def pick(table: Mapping[str, tuple[str, str]], key: str) -> str:
        return table[key][index] if key in table else key

    return {
        "drill_id": evaluation.drill_id,
        "scenario": evaluation.scenario,
        "seq": evaluation.seq,
        "statuses": {key: pick(text.EXERCISE_STATUSES, key) for key in STATUSES},
        "tallies": [
            {
                "name": department(row.department), "code": row.department,
                "total": row.total, "met": row.met, "late": row.late,
                "missed": row.missed,
            }
            for row in evaluation.tallies()
        ],
        "results": [
            {
                "id": r.id, "department": department(r.department),
                "action": pick(text.EXERCISE_ACTIONS, r.action),
                "match": ", ".join(f"{k}={v}" for k, v in r.match.items()),
                "capability": r.capability or "—",
                "deadline": _when(r.deadline), "done_at": _when(r.done_at),
                "minutes": "—" if r.minutes is None else f"{r.minutes:.0f}",
                "status": pick(text.EXERCISE_STATUSES, r.status),
                "css": r.status, "seq": "—" if r.seq is None else str(r.seq),
                "note": r.note,
            }
            for r in evaluation.results
        ],
    }  # fmt: skip


__all__ = [
    "DRILL_EVALUATED",
    "DepartmentTally",
    "ExerciseEvaluation",
    "ExerciseResult",
    "exercise_context",
    "exercise_of",
]
