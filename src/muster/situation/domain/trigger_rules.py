"""Read a triggers document (pack ``triggers.yaml``) into a ``TriggerSet`` (stdlib).

The JSON Schema (``pack/schemas/triggers.schema.json``) checks shapes; this checks
what it cannot: references between rules and groups, levels, and what each kind
needs. Every problem is reported with its path (``rules[2].all_of``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from muster.situation.domain.errors import TriggerRulesInvalid
from muster.situation.domain.triggers import (
    KINDS,
    STATION_KINDS,
    FusionSettings,
    Proposal,
    ReportStream,
    StationGroup,
    TriggerRule,
    TriggerSet,
)


def parse_trigger_rules(document: Mapping[str, Any]) -> TriggerSet:
    """Return the rules and groups of a document; raise ``TriggerRulesInvalid``."""
    problems: list[tuple[str, str]] = []
    groups = tuple(
        StationGroup(
            code=str(code),
            name_zh=str(data.get("name_zh", code)),
            name_en=str(data.get("name_en", code)),
            stations=frozenset(str(s) for s in data.get("stations", ())),
        )
        for code, data in dict(document.get("groups") or {}).items()
    )
    group_codes = {group.code for group in groups}
    rules: list[TriggerRule] = []
    seen: set[str] = set()
    for index, data in enumerate(document.get("rules") or ()):
        where = f"rules[{index}]"
        rule = _rule(data, where, problems)
        if rule is None:
            continue
        if rule.code in seen:
            problems.append((f"{where}.code", f"rule {rule.code} is defined twice"))
        seen.add(rule.code)
        if rule.group is not None and rule.group not in group_codes:
            problems.append((f"{where}.group", f"unknown group {rule.group}"))
        rules.append(rule)
    by_code = {rule.code: rule for rule in rules}
    for index, rule in enumerate(rules):
        for part in rule.all_of:
            other = by_code.get(part)
            if other is None:
                problems.append((f"rules[{index}].all_of", f"unknown rule {part}"))
            elif other.kind in ("composite", "cap"):
                problems.append(
                    (
                        f"rules[{index}].all_of",
                        f"{part} is a {other.kind} rule; a composite combines "
                        "station and multi-station rules",
                    )
                )
    streams = tuple(_streams(document, problems))
    fusion = dict(document.get("fusion") or {})
    settings = FusionSettings(
        max_distance_km=float(fusion.get("max_distance_km", 1.5)),
        max_gap_minutes=float(fusion.get("max_gap_minutes", 120.0)),
        attach_km=float(fusion.get("attach_km", 5.0)),
        propose_at=int(fusion.get("propose_at", 2)),
    )
    if settings.max_distance_km <= 0 or settings.max_gap_minutes <= 0:
        problems.append(("fusion", "max_distance_km and max_gap_minutes must be > 0"))
    if problems:
        raise TriggerRulesInvalid(problems)
    return TriggerSet(
        rules=tuple(rules), groups=groups, streams=streams, fusion=settings
    )


def _streams(
    document: Mapping[str, Any], problems: list[tuple[str, str]]
) -> list[ReportStream]:
    found: list[ReportStream] = []
    for index, data in enumerate(document.get("report_streams") or ()):
        try:
            found.append(
                ReportStream(
                    dataset=str(data["dataset"]),
                    source=str(data.get("source", "hotline")),
                    id_field=str(data["id_field"]),
                    time_field=str(data["time_field"]),
                    location_field=str(data["location_field"]),
                    category_field=str(data["category_field"]),
                    categories={str(k): str(v) for k, v in data["categories"].items()},
                    text_field=data.get("text_field"),
                )
            )
        except (KeyError, AttributeError) as missing:
            problems.append((f"report_streams[{index}]", f"missing {missing}"))
    return found


def _rule(
    data: Mapping[str, Any], where: str, problems: list[tuple[str, str]]
) -> TriggerRule | None:
    kind = str(data.get("kind", ""))
    if kind not in KINDS:
        problems.append((f"{where}.kind", f"kind must be one of {', '.join(KINDS)}"))
        return None
    propose = dict(data.get("propose") or {})
    try:
        rule = TriggerRule(
            code=str(data["code"]),
            name_zh=str(data.get("name_zh", data["code"])),
            name_en=str(data.get("name_en", data["code"])),
            kind=kind,
            propose=Proposal(
                type_code=str(propose["type_code"]),
                title_zh=str(propose.get("title_zh", data.get("name_zh", ""))),
                title_en=str(propose.get("title_en", data.get("name_en", ""))),
                attach_km=float(propose.get("attach_km", 20.0)),
                attach_types=tuple(str(t) for t in propose.get("attach_types", ())),
                fact=propose.get("fact"),
                department=propose.get("department"),
            ),
            dataset=data.get("dataset"),
            metric=data.get("metric"),
            above=float(data.get("above", 0.0)),
            clear_below=(
                None if data.get("clear_below") is None else float(data["clear_below"])
            ),
            window_minutes=int(data.get("window_minutes", 60)),
            of=str(data.get("of", "threshold")),
            min_stations=int(data.get("min_stations", 1)),
            group=data.get("group"),
            all_of=tuple(str(code) for code in data.get("all_of", ())),
            event_contains=tuple(str(w) for w in data.get("event_contains", ())),
            severities=tuple(str(s) for s in data.get("severities", ())),
            areas=tuple(str(a) for a in data.get("areas", ())),
        )
    except KeyError as missing:
        problems.append((where, f"missing {missing.args[0]}"))
        return None
    except (TypeError, ValueError) as bad:
        problems.append((where, f"bad value: {bad}"))
        return None
    _kind_problems(rule, where, problems)
    return rule


def _kind_problems(
    rule: TriggerRule, where: str, problems: list[tuple[str, str]]
) -> None:
    reads_stations = rule.kind in (*STATION_KINDS, "multi_station")
    if reads_stations and (not rule.dataset or not rule.metric):
        problems.append((where, f"a {rule.kind} rule needs dataset and metric"))
    if rule.kind == "multi_station" and rule.of not in STATION_KINDS:
        problems.append(
            (f"{where}.of", f"of must be one of {', '.join(STATION_KINDS)}")
        )
    if rule.kind == "composite" and len(rule.all_of) < 2:
        problems.append((f"{where}.all_of", "a composite needs at least two rules"))
    if rule.clear_below is not None and rule.clear_below > rule.above:
        problems.append(
            (
                f"{where}.clear_below",
                f"clear_below ({rule.clear_below:g}) must not exceed above "
                f"({rule.above:g})",
            )
        )
    if rule.window_minutes <= 0 or rule.min_stations <= 0:
        problems.append((where, "window_minutes and min_stations must be positive"))


__all__ = ["parse_trigger_rules"]
