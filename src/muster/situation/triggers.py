"""Trigger evaluation: queued observation batches and CAP alerts → firings, incidents.

``evaluate_triggers`` handles ``EvaluateTriggers`` inside a shared unit of work. For
each queued item (oldest first) it reads the rules on that dataset, the recent
samples of the stations the batch reported (ingest's queries), decides firings and
clearings with the pure rules of ``domain/triggers.py``, and for each firing either
attaches it to an open incident of a related type nearby or proposes a new incident
(status *reported*) by dispatching the response part's ``OpenIncident`` in the same
transaction; a rule with ``fact`` also records its value on that incident. Imported
by the situation handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from muster.catalog import queries as catalog_queries
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.messages import Event
from muster.core.uow import UnitOfWork
from muster.ingest import queries as ingest_queries
from muster.response import queries as response_queries
from muster.response.domain.commands import OpenIncident, RecordIncidentFacts
from muster.situation.cap_areas import alert_infos
from muster.situation.domain import events as ev
from muster.situation.domain.commands import EvaluateTriggers
from muster.situation.domain.reports import Report, distance_km
from muster.situation.domain.triggers import (
    STATION_KINDS,
    TriggerRule,
    TriggerSet,
    cap_matches,
    group_count,
    group_step,
    measure,
    step,
)
from muster.situation.fusion_handlers import (
    CATEGORY_OF_DIGIT,
    Dispatch,
    fuse_reports,
    load_rules,
    shared,
    stream_reports,
)
from muster.situation.read_models import pending, trigger_state


@dataclass
class _Firing:
    rule: TriggerRule
    key: str
    value: float
    observed_at: str
    position: tuple[float, float] | None
    explanation: str
    source: str


@dataclass
class _Pass:
    """What one evaluation decided, before it is appended."""

    firings: list[_Firing] = field(default_factory=list)
    clearings: list[ev.TriggerCleared] = field(default_factory=list)
    active: dict[tuple[str, str], bool] = field(default_factory=dict)
    places: dict[tuple[str, str], tuple[float, float] | None] = field(
        default_factory=dict
    )


def evaluate_triggers(
    command: EvaluateTriggers, uow: UnitOfWork, *, dispatch: Dispatch
) -> int | None:
    """Evaluate queued items; return how many instances fired or cleared, or None
    when nothing was queued."""
    uow = shared(uow)
    with uow:
        conn = uow.conn
        items = conn.execute(
            select(pending).order_by(pending.c.seq).limit(command.limit)
        ).all()
        if not items:
            return None
        rules = load_rules(conn)
        done = _Pass()
        for row in conn.execute(select(trigger_state)):
            key = (row.rule, row.instance)
            done.active[key] = bool(row.active)
            if row.latitude is not None and row.longitude is not None:
                done.places[key] = (row.latitude, row.longitude)
        fusing: list[Report] = []
        for item in items:
            if rules is None:
                continue
            if item.kind == "observations":
                _observations(conn, rules, item.ref, item.dataset_code, done)
            elif item.kind == "records":
                stream = rules.stream(item.dataset_code or "")
                if stream is not None:
                    department = _owner(uow, stream.dataset) or stream.dataset
                    fusing += stream_reports(conn, stream, item.ref, department)
            else:
                _cap(conn, rules, item.ref, done, now=uow.clock.now())
        if fusing and rules is not None:
            fuse_reports(uow, rules, fusing, dispatch)
        events: list[Event] = list(done.clearings)
        for firing in done.firings:
            events.append(_act(uow, firing, dispatch))
        events.append(
            ev.TriggersEvaluated(
                items=tuple(int(item.seq) for item in items),
                fired=len(done.firings),
                cleared=len(done.clearings),
            )
        )
        uow.append("triggers", events, expected_version=uow.stream_version("triggers"))
        uow.commit()
    return len(done.firings) + len(done.clearings)


def _observations(
    conn: Any, rules: TriggerSet, batch_id: str, dataset: str, done: _Pass
) -> None:
    """Judge the stations a batch reported, their groups and composites over them."""
    reported, newest = ingest_queries.batch_stations(conn, batch_id)
    if newest is None:
        return
    touched: set[str] = set()
    judged: set[str] = set()
    for rule in rules.on_dataset(dataset, (*STATION_KINDS, "multi_station")):
        stations = reported.get(rule.metric or "", [])
        if not stations:
            continue
        judged.add(rule.code)
        if rule.kind == "multi_station":
            groups = {
                group.code: group
                for station in stations
                for group in rules.groups_of(station)
                if rule.group in (None, group.code)
            }
            for code, group in sorted(groups.items()):
                series = _samples(conn, rule, sorted(group.stations), newest)
                _judge_group(rule, code, series, batch_id, done)
                touched.add(code)
            continue
        series = _samples(conn, rule, stations, newest)
        for station in stations:
            samples = series.get(station)
            if samples:
                _judge_station(rule, station, samples, batch_id, done)
                touched.update(group.code for group in rules.groups_of(station))
    for rule in rules.composites_over(judged):
        for code in [rule.group] if rule.group else sorted(touched):
            if code is not None:
                _judge_composite(rules, rule, code, newest, batch_id, done)


Series = list[tuple[datetime, float, tuple[float, float] | None]]


def _samples(
    conn: Any, rule: TriggerRule, stations: list[str], newest: str
) -> dict[str, Series]:
    """Return each station's samples in the window before the batch's newest time
    (twice the window: a rate needs a reading near the window's start)."""
    since = parse_utc(newest) - timedelta(minutes=2 * rule.window_minutes)
    rows = ingest_queries.station_samples(
        conn, rule.dataset or "", rule.metric or "", stations,
        since=isoformat_utc(since), until=newest,
    )  # fmt: skip
    return {
        station: [
            (
                parse_utc(t),
                v,
                (lat, lon) if lat is not None and lon is not None else None,
            )
            for t, v, lat, lon in series
        ]
        for station, series in rows.items()
    }


def _value(rule: TriggerRule, kind: str, samples: Series) -> float | None:
    return measure(
        kind, [(t, v) for t, v, _ in samples], window_minutes=rule.window_minutes
    )


def _judge_station(
    rule: TriggerRule, station: str, samples: Series, source: str, done: _Pass
) -> None:
    value = _value(rule, rule.kind, samples)
    newest, _, at = samples[-1]
    key = (rule.code, station)
    change = step(rule, active=done.active.get(key, False), value=value)
    if change is None or value is None:
        return
    observed = isoformat_utc(newest)
    if change == "clear":
        done.active[key] = False
        done.clearings.append(_cleared(rule, station, value, observed, source))
        return
    done.active[key] = True
    done.places[key] = at
    explanation = (
        f"{rule.name_zh}：站点 {station} {rule.metric} 为 {value:g}，达到 "
        f"{rule.above:g}（{rule.dataset}，{observed}）\n"
        f"{rule.name_en}: station {station} {_what(rule)} {value:g} ≥ {rule.above:g} "
        f"({rule.dataset}, {observed})"
    )
    done.firings.append(
        _Firing(rule, station, value, observed, at, explanation, source)
    )


def _what(rule: TriggerRule, kind: str | None = None) -> str:
    kind = kind or rule.kind
    if kind == "accumulation":
        return f"{rule.metric} over {rule.window_minutes} min"
    if kind == "rate":
        return f"{rule.metric} rising per hour"
    return f"{rule.metric}"


def _judge_group(
    rule: TriggerRule, group: str, series: dict[str, Series], source: str, done: _Pass
) -> None:
    values = {station: _value(rule, rule.of, s) for station, s in series.items()}
    high, held = group_count(rule, values)
    key = (rule.code, group)
    change = group_step(rule, active=done.active.get(key, False), high=high, held=held)
    if change is None:
        return
    newest = max(s[-1][0] for s in series.values())
    observed = isoformat_utc(newest)
    if change == "clear":
        done.active[key] = False
        done.clearings.append(_cleared(rule, group, float(held), observed, source))
        return
    done.active[key] = True
    over = sorted(s for s, v in values.items() if v is not None and v >= rule.above)
    places = [series[s][-1][2] for s in over if series[s][-1][2] is not None]
    explanation = (
        f"{rule.name_zh}：{group} 有 {high} 个站点达到 {rule.above:g}（至少 "
        f"{rule.min_stations} 个）：{'、'.join(over)}\n"
        f"{rule.name_en}: {high} stations of {group} with {_what(rule, rule.of)} "
        f"≥ {rule.above:g} (at least {rule.min_stations}): {', '.join(over)} "
        f"({rule.dataset}, {observed})"
    )
    done.places[key] = _mean(places)
    done.firings.append(
        _Firing(
            rule, group, float(high), observed, done.places[key], explanation, source
        )
    )


def _judge_composite(
    rules: TriggerSet,
    rule: TriggerRule,
    group: str,
    newest: str,
    source: str,
    done: _Pass,
) -> None:
    members = rules.group(group)
    if members is None:
        return
    parts = [
        (code, key)
        for (code, key), active in done.active.items()
        if active and code in rule.all_of and (key == group or key in members.stations)
    ]
    value = float({code for code, _ in parts} == set(rule.all_of))
    key = (rule.code, group)
    active = done.active.get(key, False)
    now = isoformat_utc(parse_utc(newest))
    if not active and value == 1.0:
        done.active[key] = True
        places = [done.places.get(part) for part in parts]
        explanation = (
            f"{rule.name_zh}：{group} 内以下规则同时成立：{'、'.join(rule.all_of)}\n"
            f"{rule.name_en}: in {group} every rule holds at once: "
            f"{', '.join(rule.all_of)}"
        )
        done.firings.append(
            _Firing(rule, group, 1.0, now, _mean(places), explanation, source)
        )
    elif active and value == 0.0:
        done.active[key] = False
        done.clearings.append(_cleared(rule, group, 0.0, now, source))


def _cap(
    conn: Any, rules: TriggerSet, alert_key: str, done: _Pass, *, now: datetime
) -> None:
    """Judge an alert against the CAP rules: fire once per rule and area while the
    alert is in force; a Cancel clears the areas it names."""
    stored = ingest_queries.cap_alert_document(conn, alert_key)
    cap_rules = [rule for rule in rules.rules if rule.kind == "cap"]
    if stored is None or not cap_rules:
        return
    msg_type, infos = alert_infos(stored[0])
    observed = isoformat_utc(now)
    for rule in cap_rules:
        if rule.dataset is not None and rule.dataset != stored[1]:
            continue
        for info in infos:
            if info.expires is not None and info.expires <= now:
                continue
            for area in cap_matches(rule, info):
                key = (rule.code, area.key)
                active = done.active.get(key, False)
                if msg_type == "Cancel":
                    if active:
                        done.active[key] = False
                        done.clearings.append(
                            _cleared(rule, area.key, 0.0, observed, alert_key)
                        )
                    continue
                if active:
                    continue  # the same warning again, or an update: no new firing
                done.active[key] = True
                explanation = (
                    f"{rule.name_zh}：预警“{info.headline or info.event}”"
                    f"（{info.severity}），区域 {area.description}\n"
                    f"{rule.name_en}: CAP alert “{info.headline or info.event}” "
                    f"({info.severity}) for {area.description}"
                )
                done.firings.append(
                    _Firing(
                        rule,
                        area.key,
                        1.0,
                        observed,
                        area.centre,
                        explanation,
                        alert_key,
                    )
                )


def _cleared(
    rule: TriggerRule, key: str, value: float, observed: str, source: str
) -> ev.TriggerCleared:
    return ev.TriggerCleared(
        rule=rule.code, key=key, value=value, threshold=rule.clear_level,
        observed_at=observed, source=source,
    )  # fmt: skip


def _mean(places: list[tuple[float, float] | None]) -> tuple[float, float] | None:
    found = [p for p in places if p is not None]
    if not found:
        return None
    return (
        round(sum(p[0] for p in found) / len(found), 6),
        round(sum(p[1] for p in found) / len(found), 6),
    )


def _act(uow: UnitOfWork, firing: _Firing, dispatch: Dispatch) -> ev.TriggerFired:
    """Attach the firing to the nearest open related incident, or propose one."""
    rule, proposal = firing.rule, firing.rule.propose
    incident_id: str | None = None
    action = "recorded"
    if firing.position is not None:
        nearby = [
            (
                distance_km(firing.position, (i.latitude, i.longitude)),
                i.opened_at,
                i.id,
            )
            for i in response_queries.open_incidents(uow.conn)
            if proposal.related(i.type_code)
        ]
        near = sorted(item for item in nearby if item[0] <= proposal.attach_km)
        if near:
            incident_id, action = near[0][2], "attached"
        else:
            incident_id = dispatch(
                OpenIncident(
                    title=f"{proposal.title_zh} / {proposal.title_en}"[:200],
                    category=CATEGORY_OF_DIGIT.get(
                        proposal.type_code[1], "NATURAL_DISASTER"
                    ),
                    latitude=firing.position[0],
                    longitude=firing.position[1],
                    description=firing.explanation,
                    reporting_department=proposal.department
                    or _owner(uow, rule.dataset),
                    type_code=proposal.type_code,
                ),
                uow,
            )
            action = "proposed"
    if incident_id is not None and proposal.fact:
        dispatch(
            RecordIncidentFacts(
                incident_id=incident_id, facts={proposal.fact: firing.value}
            ),
            uow,
        )
    return ev.TriggerFired(
        rule=rule.code, key=firing.key, kind=rule.kind, value=firing.value,
        threshold=rule.above, observed_at=firing.observed_at,
        latitude=firing.position[0] if firing.position else None,
        longitude=firing.position[1] if firing.position else None,
        incident_id=incident_id, action=action, explanation=firing.explanation,
        source=firing.source,
    )  # fmt: skip


def _owner(uow: UnitOfWork, dataset: str | None) -> str | None:
    found = catalog_queries.get_dataset(uow.conn, dataset) if dataset else None
    return found.owner_department if found is not None else None


__all__ = ["evaluate_triggers"]
