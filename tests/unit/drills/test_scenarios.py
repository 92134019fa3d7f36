"""Scenario files: schema and rules at their file:line, CAP exercise status, the
example scenarios against the example pack, and ``muster drill check``."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from muster.cli import app
from muster.core.errors import PackInvalid
from muster.drills.domain.scenario import ACTIONS, INJECT_KINDS, MATCH_KEYS
from muster.drills.scenarios import check_scenario, load_scenario, load_scenarios
from muster.pack import Pack, read_pack

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
RAINSTORM = EXAMPLE / "scenarios" / "rainstorm_chain.yaml"
SCHEMA = Path(str(files("muster.pack") / "schemas" / "scenario.schema.json"))

CAP = """\
      <?xml version="1.0" encoding="UTF-8"?>
      <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
        <identifier>T-1</identifier>
        <sender>met@test.example</sender>
        <sent>2026-07-01T08:00:00+08:00</sent>
        <status>{status}</status>
        <msgType>Alert</msgType>
        <scope>Public</scope>
        <info>
          <category>Met</category>
          <event>暴雨</event>
          <urgency>Immediate</urgency>
          <severity>Extreme</severity>
          <certainty>Observed</certainty>
        </info>
      </alert>
"""

# Line numbers matter: the inject is on line 6, the participant on 11, E1 on 13.
BASE = """\
code: TEST_DRILL
title_zh: 测试演练
title_en: Test drill
duration_minutes: 60
injects:
  - id: A
    at: 0
    kind: fact
    facts: {rain_24h_mm: 80}
participants:
  - {at: 5, department: EMB, action: verify_incident, user: commander}
expected:
  - {id: E1, department: EMB, action: verify_incident, within: 10, after: A}
"""


@pytest.fixture(scope="module")
def pack() -> Pack:
    """The example pack, read once."""
    return read_pack(EXAMPLE)


def _write(tmp_path: Path, text: str, name: str = "drill.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, pack: Pack | None = None) -> list[str]:
    return [str(problem) for problem in check_scenario(path, pack=pack).problems]


def test_given_the_example_pack_when_its_scenarios_load_then_both_pass_every_check(
    pack: Pack,
) -> None:
    """Given the Lanjiang pack, when its scenarios/ are loaded against it, then the
    rainstorm chain and the hazmat road accident load with their MSEL and EEG."""
    scenarios = {s.code: s for s in load_scenarios(EXAMPLE, pack=pack)}

    assert set(scenarios) == {"RAINSTORM_CHAIN", "HAZMAT_ROAD_CHLORINE"}
    rain = scenarios["RAINSTORM_CHAIN"]
    assert [i.kind for i in rain.injects].count("observations") == 5
    assert {i.kind for i in rain.injects} >= {"records", "cap", "fact", "message"}
    assert len(rain.expected) == 25
    assert rain.duration_minutes == 150
    cap = next(i for i in rain.injects if i.kind == "cap")
    assert "<status>Exercise</status>" in str(cap.payload["xml"])
    hazmat = scenarios["HAZMAT_ROAD_CHLORINE"]
    incident = hazmat.injects[0]
    assert incident.kind == "incident"
    assert incident.payload["type_code"] == "12B00"
    assert incident.payload["description"] == incident.description
    activate = next(p for p in hazmat.participants if p.action == "activate_plan")
    assert dict(activate.match) == {"plan": "HAZMAT_ROAD", "level": "L4"}


def test_given_a_valid_file_when_loaded_without_a_pack_then_the_scenario_is_built(
    tmp_path: Path,
) -> None:
    """Given a small valid scenario, when loaded alone, then its injects, scripted
    actions and expected actions come out typed."""
    scenario = load_scenario(_write(tmp_path, BASE))

    assert scenario.code == "TEST_DRILL"
    assert scenario.injects[0].payload == {"facts": {"rain_24h_mm": 80}}
    assert scenario.participants[0].user == "commander"
    assert scenario.expected[0].after == "A"
    assert scenario.expected[0].within_minutes == 10.0


def test_given_structural_mistakes_when_checked_then_each_is_reported_at_its_line(
    tmp_path: Path,
) -> None:
    """Given a repeated inject id, an unknown after, a deadline past the end, a
    wrong match key and a missing one, when checked, then each problem names its
    file:line and the PackInvalid carries them all."""
    text = BASE.replace("    facts: {rain_24h_mm: 80}\n", (
        "    facts: {rain_24h_mm: 80}\n"
        "  - {id: A, at: 70, kind: fact, facts: {x: 1}}\n"
    )).replace(
        "after: A}\n",
        "after: Z}\n"
        "  - {id: E2, department: EMB, action: change_level, within: 90}\n"
        "  - {id: E3, department: EMB, action: send_report, within: 9,"
        " match: {task: xx}}\n",
    )  # fmt: skip
    path = _write(tmp_path, text)

    with pytest.raises(PackInvalid) as raised:
        load_scenario(path)

    found = [str(problem) for problem in raised.value.problems]
    assert f"{path}:10: injects[1].id: id A is used twice (first on line 6)" in found
    assert any(
        p.startswith(f"{path}:10: injects[1].at: minute 70 is after") for p in found
    )
    assert any(
        p.startswith(f"{path}:14: expected[0].after: names no inject") for p in found
    )
    assert f"{path}:15: expected[1].match: change_level needs match.level" in found
    assert any(
        p.startswith(f"{path}:15: expected[1].within: the deadline (minute 90)")
        for p in found
    )
    assert any(
        p.startswith(
            f"{path}:16: expected[2].match.task: send_report does not use task"
        )
        for p in found
    )


def test_given_schema_mistakes_when_checked_then_they_name_the_field_and_line(
    tmp_path: Path,
) -> None:
    """Given an unknown action and an inject kind's missing payload key, when
    checked, then the schema problems point at their lines."""
    text = BASE.replace("action: verify_incident, user", "action: dance, user").replace(
        "    kind: fact\n    facts: {rain_24h_mm: 80}\n", "    kind: fact\n"
    )
    found = _problems(_write(tmp_path, text))

    assert any(
        p.startswith(f"{tmp_path}/drill.yaml:6: injects[0].facts: required")
        for p in found
    )
    assert any(":10: participants[0].action: 'dance' is not one of" in p for p in found)


def test_given_a_real_cap_alert_when_checked_then_it_is_refused_as_never_for_a_drill(
    tmp_path: Path,
) -> None:
    """Given a CAP inject whose status is Actual, when checked, then the loader
    refuses it: a drill can never send a real alert."""
    inject = "  - id: W\n    at: 1\n    kind: cap\n    xml: |\n" + CAP.format(
        status="Actual"
    )
    text = BASE.replace("participants:\n", inject + "participants:\n")
    path = _write(tmp_path, text)

    found = _problems(path)

    assert len(found) == 1
    assert found[0].startswith(
        f"{path}:13: injects[1].xml: the CAP alert's <status> is Actual"
    )
    assert "a drill never sends a real alert" in found[0]
    assert "<status>Exercise</status>" in found[0]
    assert _problems(_write(tmp_path, text.replace("Actual", "Exercise"))) == []


def test_given_broken_cap_xml_when_checked_then_the_parser_reason_is_reported(
    tmp_path: Path,
) -> None:
    """Given a CAP inject that is not CAP 1.2, when checked, then the ingest parser's
    reason is reported at the inject's line."""
    broken = CAP.format(status="Exercise").replace("<msgType>Alert</msgType>", "")
    inject = "  - id: W\n    at: 1\n    kind: cap\n    xml: |\n" + broken
    path = _write(tmp_path, BASE.replace("participants:\n", inject + "participants:\n"))

    found = _problems(path)

    assert len(found) == 1
    assert "injects[1].xml: not a usable CAP 1.2 alert" in found[0]


def test_given_a_pack_when_names_do_not_exist_then_each_is_reported(
    tmp_path: Path, pack: Pack
) -> None:
    """Given the example pack, when a scenario names an unknown department, a task
    led by another department, a plan the pack lacks, an unknown dataset field and a
    commander action without a commander, then each is reported at its line."""
    text = BASE.replace(
        "participants:\n",
        "  - id: B\n    at: 2\n    kind: observations\n    from: NOPE\n"
        "    dataset: MET_RAIN_GAUGES\n"
        "    rows: [{station_id: '1', metric: rain_24h, value: 3, colour: red}]\n"
        "participants:\n",
    ).replace(
        "  - {at: 5, department: EMB, action: verify_incident, user: commander}\n",
        "  - {at: 5, department: EMB, action: verify_incident, user: commander}\n"
        "  - {at: 6, department: EMB, action: activate_plan,"
        " match: {plan: FLOOD_URBAN, level: L3}}\n"
        "  - {at: 7, department: WATER, action: complete_task,"
        " match: {task: close_road_s203}}\n"
        "  - {at: 8, department: EMB, action: activate_plan, user: emb.duty,"
        " match: {plan: NO_PLAN, level: L3}}\n",
    )
    path = _write(tmp_path, text)

    found = _problems(path, pack)

    assert f"{path}:13: injects[1].from: the pack has no department NOPE" in found
    assert any(
        ":15: injects[1].rows[0].colour: MET_RAIN_GAUGES has no field colour" in p
        for p in found
    )
    assert any(
        ":15: injects[1].rows[0]: MET_RAIN_GAUGES needs the field location" in p
        for p in found
    )
    assert any(
        ":18: participants[1]: activate_plan needs a user with the commander role" in p
        for p in found
    )
    assert any(
        ":19: participants[2].department: task close_road_s203 is led by TRANSPORT" in p
        for p in found
    )
    assert any(
        ":20: participants[3].match.plan: the pack has no plan NO_PLAN" in p
        for p in found
    )
    assert any(
        ":20: participants[3].user: user emb.duty may not activate plan" in p
        for p in found
    )


def test_given_the_vocabularies_when_compared_then_the_schema_has_the_same_words() -> (
    None
):
    """The schema's action and inject-kind enums are the domain's vocabularies."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    assert tuple(schema["$defs"]["action"]["enum"]) == ACTIONS
    assert (
        tuple(schema["$defs"]["inject"]["properties"]["kind"]["enum"]) == INJECT_KINDS
    )
    assert set(MATCH_KEYS) == set(ACTIONS)
    match_keys = set(schema["$defs"]["match"]["properties"])
    assert match_keys == {k for req, opt in MATCH_KEYS.values() for k in (*req, *opt)}


def test_given_the_cli_when_checking_scenarios_then_it_prints_and_exits_as_plan_check(
    tmp_path: Path,
) -> None:
    """``muster drill check`` passes the example against its pack (exit 0), and
    reports a broken file as file:line lines with exit 3, or as JSON."""
    runner = CliRunner()

    good = runner.invoke(
        app, ["drill", "check", str(RAINSTORM), "--pack", str(EXAMPLE)]
    )
    bad_path = _write(tmp_path, BASE.replace("after: A", "after: Z"))
    bad = runner.invoke(app, ["drill", "check", str(bad_path)])
    as_json = runner.invoke(app, ["drill", "check", str(bad_path), "--json"])

    assert good.exit_code == 0, good.output
    assert "RAINSTORM_CHAIN" in good.output
    assert "pass every check" in good.output
    assert bad.exit_code == 3
    assert f"{bad_path}:13: expected[0].after: names no inject" in bad.output
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["problems"][0]["line"] == 13


def test_given_facts_the_response_refuses_when_checked_then_the_loader_refuses_first(
    tmp_path: Path,
) -> None:
    """Given a true/false fact (the response part takes numbers or texts) and a
    scripted record_facts without a value, when checked, then both are reported."""
    text = BASE.replace("{rain_24h_mm: 80}", "{road_blocked: true}").replace(
        "participants:\n",
        "participants:\n"
        "  - {at: 6, department: FIRE, action: record_facts,"
        " match: {facts: {rescued: null}}}\n",
    )
    boolean = _problems(_write(tmp_path, text))
    scripted = _problems(_write(tmp_path, text.replace("true", "'yes'"), "b.yaml"))

    assert boolean == [
        f"{tmp_path}/drill.yaml:9: injects[0].facts.road_blocked: True is not of "
        "type 'number', 'string'"
    ]
    assert scripted == [
        f"{tmp_path}/b.yaml:11: participants[0].match.facts.rescued: a scripted "
        "record_facts records a value: give a number or a text"
    ]
