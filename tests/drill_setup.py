"""A small hand-built drill scenario on the response world of ``tests.response_setup``.

WATER reports urban flooding at minute 0; exercise control sends a message and the
rainfall facts; EMB's commander activates the flood plan at L4 at minute 10;
TRANSPORT acknowledges and starts its road closure, WATER acknowledges its pumps
late, and MET (nobody on duty) never acknowledges its forecast, so escalation runs.
"""

from __future__ import annotations

from muster.drills.domain.scenario import (
    ExpectedAction,
    Inject,
    Scenario,
    ScriptedAction,
)

EXERCISE_CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>DRILL-1</identifier><sender>met@example.org</sender>
  <sent>2026-07-01T08:00:00+08:00</sent><status>{status}</status>
  <msgType>Alert</msgType><scope>Public</scope>
  <info><category>Met</category><event>Rainstorm</event><urgency>Expected</urgency>
  <severity>Severe</severity><certainty>Likely</certainty>
  <headline>Drill rainstorm warning</headline>
  <area><areaDesc>Riverside</areaDesc></area></info>
</alert>"""


def small_scenario(*, cap_status: str | None = None) -> Scenario:
    """Return the scenario (with a CAP inject of that status, if one is given)."""
    injects = [
        Inject(
            id="flooding",
            at_minutes=0,
            kind="incident",
            department="WATER",
            payload={
                "title": "演练：滨江路积水",
                "category": "NATURAL_DISASTER",
                "type_code": "11A00",
                "latitude": 28.2,
                "longitude": 112.9,
            },
        ),
        Inject(
            id="briefing",
            at_minutes=5,
            kind="message",
            payload={
                "to": ["TRANSPORT", "WATER"],
                "subject_zh": "演练通报",
                "subject_en": "Drill briefing",
                "body_zh": "滨江路积水",
                "body_en": "Riverside Road is flooded",
            },
        ),
        Inject(
            id="rainfall",
            at_minutes=8,
            kind="fact",
            payload={"facts": {"rain_24h_mm": 80}},
        ),
    ]
    if cap_status is not None:
        injects.append(
            Inject(
                id="warning",
                at_minutes=9,
                kind="cap",
                payload={"xml": EXERCISE_CAP.format(status=cap_status)},
            )
        )
    participants = (
        ScriptedAction(
            at_minutes=10,
            department="EMB",
            action="activate_plan",
            match={"plan": "FLOOD_URBAN", "level": "L4"},
        ),
        ScriptedAction(
            at_minutes=12,
            department="TRANSPORT",
            action="acknowledge_task",
            match={"task": "close_road"},
        ),
        ScriptedAction(
            at_minutes=30,
            department="WATER",
            action="acknowledge_task",
            match={"task": "pumps"},
        ),
        ScriptedAction(
            at_minutes=35,
            department="TRANSPORT",
            action="start_task",
            match={"task": "close_road"},
        ),
    )
    expected = (
        ExpectedAction(
            id="transport-ack",
            department="TRANSPORT",
            action="acknowledge_task",
            within_minutes=15,
            match={"task": "close_road"},
            after="flooding",
        ),
        ExpectedAction(
            id="water-ack",
            department="WATER",
            action="acknowledge_task",
            within_minutes=20,
            match={"task": "pumps"},
        ),
        ExpectedAction(
            id="met-ack",
            department="MET",
            action="acknowledge_task",
            within_minutes=30,
            match={"task": "forecast"},
        ),
    )
    return Scenario(
        code="SMALL_FLOOD",
        title_zh="小型内涝演练",
        title_en="Small flood drill",
        duration_minutes=60,
        injects=tuple(injects),
        expected=expected,
        participants=participants,
    )
