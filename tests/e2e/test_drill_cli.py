"""``muster drill run|list|show`` on a deployment with the example pack loaded."""

from __future__ import annotations

import json

import pytest
from typer.testing import Result

from muster.bootstrap import Muster
from muster.settings import Settings
from tests.cli_setup import cli_environment, cli_runner
from tests.conftest import TEST_SECRET
from tests.prepared import example_pack, prepared_for


def _muster(settings: Settings, *args: str) -> Result:
    with cli_runner(cli_environment(settings, TEST_SECRET)) as run:
        return run(*args)


prepared = prepared_for("city", example_pack())


@pytest.fixture
def city(muster: Muster) -> Muster:
    """The test deployment with the example pack loaded (the test's copy of it loaded
    once: ``prepared``, tests/prepared.py)."""
    return muster


def test_given_the_example_pack_when_a_drill_is_run_unattended_then_list_and_show_find_it(  # noqa: E501
    city: Muster, settings: Settings
) -> None:
    """A scenario code of the bundled pack runs unattended and prints its report as
    JSON with the scripted evaluation (14 met, late X06 X09 X11 X15, missed X16);
    ``drill list`` and ``drill show`` then read it from the live log."""
    ran = _muster(settings, "drill", "run", "HAZMAT_ROAD_CHLORINE", "--unattended",
                  "--json")  # fmt: skip
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.output)

    listed = _muster(settings, "drill", "list", "--json")
    shown = _muster(settings, "drill", "show", report["drill_id"])

    assert report["mode"] == "unattended"
    statuses = {row["id"]: row["status"] for row in report["results"]}
    assert sorted(statuses.values()).count("met") == 14
    assert sorted(k for k, v in statuses.items() if v == "late") == [
        "X06", "X09", "X11", "X15",
    ]  # fmt: skip
    assert [k for k, v in statuses.items() if v == "missed"] == ["X16"]
    assert sum(row["expected"] for row in report["summary"]) == len(report["results"])
    assert [item["drill_id"] for item in json.loads(listed.output)] == [
        report["drill_id"]
    ]
    assert shown.exit_code == 0, shown.output
    assert "muster audit verify" in shown.output
    assert report["sandbox_path"] in shown.output


def test_given_no_such_drill_when_shown_then_it_exits_not_found(
    city: Muster, settings: Settings
) -> None:
    """An unknown drill id is a NotFound (exit 4)."""
    shown = _muster(settings, "drill", "show", "NO-SUCH-DRILL")

    assert shown.exit_code == 4


def test_given_an_unknown_scenario_code_when_run_then_it_exits_not_found(
    city: Muster, settings: Settings
) -> None:
    """A code the pack has no scenario for names the codes it has."""
    ran = _muster(settings, "drill", "run", "NO_SUCH_SCENARIO", "--unattended")

    assert ran.exit_code == 4
    assert "RAINSTORM_CHAIN" in ran.output
