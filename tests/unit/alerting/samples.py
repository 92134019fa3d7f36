"""Alert contents the alerting unit tests share, and the peer parser capparselib."""

from __future__ import annotations

from dataclasses import replace

import pytest

from muster.alerting.domain.model import (
    COLOUR_CODES,
    AlertContent,
    Area,
    Colour,
    Info,
    reference,
)

SENDER = "warnings@met.example.gov.cn"
FIRST_SENT = "2026-07-01T08:00:00+00:00"
SENT = "2026-07-01T09:30:00+00:00"

URBAN = Area(
    description="中心城区 Central district",
    polygons=("30.20,120.10 30.30,120.10 30.30,120.25 30.20,120.10",),
)
RIVERSIDE = Area(description="江边 Riverside", circles=("30.25,120.30 5.5",))
COUNTY = Area(
    description="临安区 Lin'an district",
    geocodes=(("GB/T 2260", "330112"), ("ISO 3166-2", "CN-ZJ")),
)


def infos(colour: Colour = Colour.ORANGE) -> tuple[Info, ...]:
    """Return a Chinese and an English info block for a rainstorm warning."""
    severity, urgency, certainty = COLOUR_CODES[colour]
    chinese = Info(
        language="zh-CN",
        categories=("Met",),
        event="暴雨",
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        headline="暴雨橙色预警：3 小时内降雨量将达 50 毫米以上",
        description="受强对流影响，未来 3 小时内中心城区降雨量将达 50 毫米以上。",
        instruction="请留在室内，远离低洼地带。",
        response_types=("Shelter", "Monitor"),
        sender_name="市气象台",
        web="https://warnings.example.gov.cn/alerts?id=1&lang=zh",
        contact="12121",
        event_codes=(("CMA", "11B03"),),
        parameters=(("warning_colour", colour.value),),
        effective="2026-07-01T17:30:00.250+08:00",
        expires="2026-07-02T17:30:00+08:00",
    )
    english = replace(
        chinese,
        language="en",
        event="Rainstorm",
        headline="Orange rainstorm warning: over 50 mm within 3 hours",
        description="Strong convection: more than 50 mm of rain within 3 hours.",
        instruction="Stay indoors and away from low-lying areas.",
        sender_name="City Meteorological Observatory",
        contact="",
    )
    return (chinese, english)


def alert(**changes: object) -> AlertContent:
    """Return a first Alert (status Actual) with three kinds of area."""
    content = AlertContent(
        identifier="muster-2026-0001",
        sender=SENDER,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=infos(),
        areas=(URBAN, RIVERSIDE, COUNTY),
        note="Issued with Muster",
        incidents=("inc-7f3a",),
    )
    return replace(content, **changes)


def update(**changes: object) -> AlertContent:
    """Return an Update that references the first alert."""
    fields: dict[str, object] = {
        "identifier": "muster-2026-0002",
        "msg_type": "Update",
        "references": (reference(SENDER, "muster-2026-0001", FIRST_SENT),),
    }
    return alert(**{**fields, **changes})


def cancel() -> AlertContent:
    """Return a Cancel that references the first alert and its update."""
    return alert(
        identifier="muster-2026-0003",
        msg_type="Cancel",
        references=(
            reference(SENDER, "muster-2026-0001", FIRST_SENT),
            reference(SENDER, "muster-2026-0002", SENT),
        ),
    )


def exercise() -> AlertContent:
    """Return a drill's alert (status Exercise), blue, one area."""
    return alert(
        identifier="muster-drill-0001",
        status="Exercise",
        infos=infos(Colour.BLUE),
        areas=(COUNTY,),
    )


def capparselib_dict(xml: bytes) -> dict[str, object]:
    """Parse with the peer library capparselib 0.6.6 (its own CAP 1.2 schema on).

    It pins lxml 4.6.3, so scripts/test installs it with ``--no-deps``; 0.6.1
    (the last release without that pin) cannot read several areas in one info.
    """
    try:
        from capparselib.parsers import CAPParser
    except ImportError:  # a setup problem: say how to fix it
        pytest.fail("pip install --no-deps capparselib==0.6.6 (peer CAP parser)")
    alerts = CAPParser(xml.decode("utf-8")).as_dict()
    assert len(alerts) == 1
    parsed: dict[str, object] = alerts[0]
    return parsed
