"""Which departments, datasets and data requests belong to one incident (pure).

Imported by ``muster.review.aar``. Task, report and decision samples carry their
incident; data deliveries and requests for data do not (a dataset serves many
incidents). For an after-action review they count when the incident used them:

- departments: the reporting, lead and supporting departments, every task's lead and
  supporting departments, every department invited to a decision or owing a report;
- datasets: read, or opened by break-glass, for the incident, or requested during
  the incident by one of its departments;
- requests for data: made during the incident by one of its departments.

``scoped_samples`` keeps the incident's samples and tags those others with it, so
``build_scorecards(..., incident_id=...)`` scores them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from muster.review.domain import metrics as m

_DEPARTMENT_KEYS = ("reporting_department", "lead_department", "department")
_DEPARTMENT_LISTS = ("supporting_departments", "departments")
_INCIDENT_DATASET_EVENTS = ("sharing.AccessDecided", "sharing.BreakGlassOpened")


@dataclass(frozen=True, slots=True)
class IncidentScope:
    """The departments, datasets and requests for data of one incident."""

    incident_id: str
    departments: tuple[str, ...]
    datasets: tuple[str, ...]
    requests: tuple[str, ...]


def _names(values: Iterable[object]) -> list[str]:
    return [str(value) for value in values if value]


def _departments_of(record: m.LogRecord) -> list[str]:
    found = _names(record.data.get(key) for key in _DEPARTMENT_KEYS)
    if record.type == "response.TaskReassigned":
        found += _names([record.data.get("to_department")])
    for key in _DEPARTMENT_LISTS:
        value = record.data.get(key)
        if isinstance(value, list | tuple):
            found += _names(value)
    return found


def incident_scope(
    records: Sequence[m.LogRecord], incident_id: str, period: m.Period
) -> IncidentScope:
    """Return what of the log belongs to an incident over its period."""
    departments: dict[str, None] = {}
    datasets: dict[str, None] = {}
    for record in records:
        if (
            record.type.startswith("response.")
            and record.data.get("incident_id") == incident_id
        ):
            departments.update(dict.fromkeys(_departments_of(record)))
        elif (
            record.type in _INCIDENT_DATASET_EVENTS
            and record.data.get("incident_id") == incident_id
        ):
            datasets[record.text("dataset")] = None
    requests: dict[str, None] = {}
    for record in records:
        if (
            record.type == "sharing.AccessRequested"
            and period.contains(record.occurred_at)
            and record.data.get("consumer") in departments
        ):
            requests[str(record.data.get("request_id"))] = None
            datasets[record.text("dataset")] = None
    datasets.pop("", None)
    return IncidentScope(
        incident_id=incident_id,
        departments=tuple(departments),
        datasets=tuple(datasets),
        requests=tuple(requests),
    )


def scoped_samples(samples: Sequence[m.Sample], scope: IncidentScope) -> list[m.Sample]:
    """Return the incident's samples, deliveries and requests it used tagged with it."""
    kept: list[m.Sample] = []
    for sample in samples:
        if sample.incident_id == scope.incident_id:
            kept.append(sample)
        elif sample.incident_id is not None:
            continue
        elif (
            sample.metric == m.FRESHNESS_ON_TIME and sample.subject in scope.datasets
        ) or (
            sample.metric in (m.SHARING_ANSWERED, m.SHARING_ANSWER_LATENCY)
            and sample.subject in scope.requests
        ):
            kept.append(replace(sample, incident_id=scope.incident_id))
    return kept


__all__ = ["IncidentScope", "incident_scope", "scoped_samples"]
