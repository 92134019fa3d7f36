"""Trigger rules on the demo pack: observation batches and CAP alerts propose or feed
incidents through the bus, once (deduplication and hysteresis), on both databases."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from sqlalchemy import select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.eventlog.tables import events
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.domain.commands import IngestCap, IngestFile
from muster.pack.validation import check_pack
from muster.response import queries as incidents
from muster.settings import Settings
from muster.situation import queries
from tests.prepared import example_pack, prepared_for

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


prepared = prepared_for("city", example_pack(at=START))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """The demo pack (with its trigger rules) on a simulated clock (the test's copy
    of it loaded once: ``prepared``, tests/prepared.py)."""
    muster = bootstrap(settings, clock=SimulatedClock(START))
    yield muster
    muster.engine.dispose()


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rain(city: Muster, station: str, metric: str, values: list[tuple[float, float]],
          *, where: str = "28.21,112.93") -> None:  # fmt: skip
    """Push one batch of a station's readings: (minutes after START, value)."""
    rows = [
        {"station_id": station, "metric": metric, "value": value,
         "observed_at": _at(minutes), "location": where}
        for minutes, value in values
    ]  # fmt: skip
    city.bus.handle(
        IngestFile(dataset_code="MET_RAIN_GAUGES", source="push",
                   data=json.dumps(rows).encode()),
        SYSTEM_ACTOR,
    )  # fmt: skip


def _river(city: Muster, station: str, values: list[tuple[float, float]],
           *, where: str = "28.205,112.925") -> None:  # fmt: skip
    rows = [
        {"station_id": station, "metric": "water_level", "value": value, "unit": "m",
         "observed_at": _at(minutes), "location": where}
        for minutes, value in values
    ]  # fmt: skip
    city.bus.handle(
        IngestFile(dataset_code="WATER_RIVER_LEVELS", source="push",
                   data=json.dumps(rows).encode()),
        SYSTEM_ACTOR,
    )  # fmt: skip


def _changes(city: Muster, rule: str) -> list[tuple[str, str, str | None]]:
    with city.engine.connect() as conn:
        return [
            (item.change, item.instance, item.action)
            for item in queries.trigger_history(conn, rule=rule)
        ]


def _every_five_minutes(
    start: float, count: int, value: float
) -> list[tuple[float, float]]:
    return [(start + 5 * step, value) for step in range(count)]


def test_given_rain_adding_up_to_100_mm_in_3_hours_when_ingested_then_an_incident_is_proposed_once(  # noqa: E501
    city: Muster,
) -> None:
    """Given 5-minute rain at one gauge, when 3 hours reach 100 mm, then one incident
    (reported, 11B00) is proposed with the fact rain_3h_mm; further heavy batches
    while active fire nothing (deduplication)."""
    _rain(city, "57681", "rain_5min", _every_five_minutes(0, 24, 3.0))  # 72 mm
    assert _changes(city, "RAIN_3H_100") == []

    _rain(city, "57681", "rain_5min", _every_five_minutes(120, 12, 3.0))  # 108 mm
    _rain(city, "57681", "rain_5min", _every_five_minutes(180, 6, 4.0))  # still high

    assert _changes(city, "RAIN_3H_100") == [("fired", "57681", "proposed")]
    with city.engine.connect() as conn:
        opened = incidents.open_incidents(conn)
    assert len(opened) == 1
    assert (opened[0].status, opened[0].type_code) == ("reported", "11B00")
    assert opened[0].facts is not None
    assert opened[0].facts["rain_3h_mm"] >= 100
    assert "57681" in opened[0].description


def test_given_an_active_rule_when_the_value_hovers_then_it_clears_only_below_the_clear_level_and_fires_again_into_the_same_incident(  # noqa: E501
    city: Muster,
) -> None:
    """Given RAIN_24H_50 (fire at 50, clear below 30), when the value goes 55, 45,
    35, 25, 60, then it fires, clears once at 25 and fires again, attaching to the
    incident the first firing proposed."""
    for minutes, value in ((0, 55), (60, 45), (120, 35), (180, 25), (240, 60)):
        _rain(city, "57682", "rain_24h", [(minutes, value)])

    assert _changes(city, "RAIN_24H_50") == [
        ("fired", "57682", "proposed"),
        ("cleared", "57682", None),
        ("fired", "57682", "attached"),
    ]
    with city.engine.connect() as conn:
        assert len(incidents.open_incidents(conn)) == 1


def test_given_rain_and_a_river_over_its_warning_level_in_one_basin_when_both_hold_then_the_composite_fires_and_attaches(  # noqa: E501
    city: Muster,
) -> None:
    """Given 3-hour rain over 100 mm at a gauge of LAN_MIDDLE, when a river station
    of the same basin rises over 34.5 m (fast), then the composite BASIN_FLOOD_RISK
    fires for the basin, and the river rules attach to the rain incident (related
    types within 20 km): one incident in all."""
    _rain(city, "57681", "rain_5min", _every_five_minutes(0, 36, 3.0))
    _river(city, "H-LJ-01", [(120, 33.9), (150, 34.2), (180, 34.6)])

    assert _changes(city, "BASIN_FLOOD_RISK") == [("fired", "LAN_MIDDLE", "attached")]
    assert _changes(city, "RIVER_ABOVE_WARNING") == [("fired", "H-LJ-01", "attached")]
    assert _changes(city, "RIVER_RISING_FAST") == [("fired", "H-LJ-01", "attached")]
    with city.engine.connect() as conn:
        assert len(incidents.open_incidents(conn)) == 1


def test_given_three_stations_of_a_basin_with_heavy_rain_when_reported_then_the_group_fires_once(  # noqa: E501
    city: Muster,
) -> None:
    """Given LAN_UPPER, when two stations report 35 mm in an hour nothing fires; a
    third makes the multi-station rule fire once for the basin."""
    _rain(city, "57690", "rain_1h", [(0, 35)], where="28.45,112.70")
    _rain(city, "57691", "rain_1h", [(0, 36)], where="28.46,112.71")
    assert _changes(city, "RAIN_1H_WIDESPREAD") == []

    _rain(city, "57692", "rain_1h", [(5, 40)], where="28.44,112.72")
    _rain(city, "57693", "rain_1h", [(5, 41)], where="28.45,112.72")

    assert _changes(city, "RAIN_1H_WIDESPREAD") == [("fired", "LAN_UPPER", "proposed")]


CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>LJ-MET-{ident}</identifier>
  <sender>met@lanjiang.example</sender>
  <sent>2026-07-01T08:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{references}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <expires>2026-07-02T08:00:00+08:00</expires>
    <headline>澜江市气象台发布暴雨红色预警信号</headline>
    <area>
      <areaDesc>青山区</areaDesc>
      <polygon>28.20,112.90 28.26,112.90 28.26,112.98 28.20,112.98 {close}</polygon>
      <geocode><valueName>district</valueName><value>LJ-QINGSHAN</value></geocode>
    </area>
  </info>
</alert>
"""


REFERENCES = (
    "\n  <references>met@lanjiang.example,LJ-MET-2,2026-07-01T08:00:00+08:00"
    "</references>"
)


def _cap(city: Muster, ident: str, *, severity: str = "Extreme",
         msg_type: str = "Alert", references: str = "") -> None:  # fmt: skip
    text = CAP.format(close="28.20,112.90", ident=ident, severity=severity,
                      msg_type=msg_type, references=references)  # fmt: skip
    city.bus.handle(
        IngestCap(source="push", data=text.encode(), dataset_code="MET_CAP_WARNINGS"),
        SYSTEM_ACTOR,
    )


def test_given_a_red_rainstorm_warning_when_received_then_it_proposes_an_incident_in_the_warned_area_once(  # noqa: E501
    city: Muster,
) -> None:
    """Given a CAP alert (暴雨, Extreme) for LJ-QINGSHAN, when it arrives, then one
    incident is proposed at the area's centre; an Update fires nothing more, an
    orange (Severe) one never fires, and a Cancel clears the instance."""
    _cap(city, "1", severity="Severe")
    assert _changes(city, "CAP_RED_RAINSTORM") == []

    _cap(city, "2")
    _cap(city, "3", msg_type="Update", references=REFERENCES)
    _cap(city, "4", msg_type="Cancel", references=REFERENCES)

    assert _changes(city, "CAP_RED_RAINSTORM") == [
        ("fired", "LJ-QINGSHAN", "proposed"),
        ("cleared", "LJ-QINGSHAN", None),
    ]
    with city.engine.connect() as conn:
        (incident,) = incidents.open_incidents(conn)
    assert (incident.latitude, incident.longitude) == (28.23, 112.94)
    assert incident.reporting_department == "MET"


def test_given_triggers_evaluated_when_the_log_is_read_then_each_evaluation_is_an_event(
    city: Muster,
) -> None:
    """Given batches, when evaluated, then TriggersEvaluated events name their log
    positions and the queue is empty (nothing skipped)."""
    _rain(city, "57681", "rain_24h", [(0, 10)])
    _rain(city, "57681", "rain_24h", [(5, 12)])

    with city.engine.connect() as conn:
        kinds = [row.type for row in conn.execute(select(events.c.type))]
        assert queries.pending_count(conn) == 0
    assert kinds.count("situation.TriggersEvaluated") == 2


def test_given_a_pack_with_inconsistent_triggers_when_checked_then_each_problem_has_its_line(  # noqa: E501
    tmp_path: Path,
) -> None:
    """Given triggers.yaml naming an unknown dataset, an unknown rule and a clear level
    above the fire level, when the pack is checked, then each is reported at its line
    and nothing loads."""
    with as_file(files("muster") / "examples" / "lanjiang") as folder:
        pack = tmp_path / "pack"
        shutil.copytree(folder, pack)
    text = (pack / "triggers.yaml").read_text(encoding="utf-8")
    text = text.replace("dataset: WATER_RIVER_LEVELS", "dataset: WATER_NOWHERE", 1)
    text = text.replace("all_of: [RAIN_3H_100, RIVER_ABOVE_WARNING]",
                        "all_of: [RAIN_3H_100, NO_SUCH_RULE]")  # fmt: skip
    text = text.replace("clear_below: 60", "clear_below: 160")
    (pack / "triggers.yaml").write_text(text, encoding="utf-8")

    problems = check_pack(pack).problems

    found = {(p.file, p.message.split(":")[0]): p.line for p in problems}
    lines = text.splitlines()
    assert "WATER_NOWHERE" in lines[found[("triggers.yaml", "rules[3].dataset")] - 1]
    assert "NO_SUCH_RULE" in lines[found[("triggers.yaml", "rules[5].all_of")] - 1]
    assert "160" in lines[found[("triggers.yaml", "rules[0].clear_below")] - 1]
