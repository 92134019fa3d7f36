"""``muster plan check PACK_DIR`` end to end; a bad plan blocks ``muster load``."""

from __future__ import annotations

import json
import re
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from muster.bootstrap import Muster
from tests.cli_setup import Run

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))


@pytest.fixture
def broken_pack(tmp_path: Path) -> Path:
    """Return a copy of the example pack whose flood plan has two mistakes."""
    pack = tmp_path / "broken"
    shutil.copytree(EXAMPLE, pack)
    flood = pack / "plans" / "FLOOD_URBAN.yaml"
    text = flood.read_text(encoding="utf-8")
    text = text.replace("lead_department: MET\n", "lead_department: WEATHER\n", 1)
    text = text.replace("depends_on: [open_shelters]", "depends_on: [open_shelterz]")
    flood.write_text(text, encoding="utf-8")
    return pack


def head(muster: Muster) -> int:
    """Return the seq of the newest event."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


class TestPlanCheck:
    """muster plan check PACK_DIR [--json]."""

    def test_example_pack_passes(self, run: Run) -> None:
        """The Lanjiang pack is clean: exit 0 and a one-line summary."""
        result = run("plan", "check", str(EXAMPLE))

        assert result.exit_code == 0, result.output
        assert "4 plan(s) and 3 escalation chain(s) pass every check" in result.stdout

    def test_example_pack_json(self, run: Run) -> None:
        """--json prints one object: ok, no problems, the number of plans."""
        result = run("plan", "check", str(EXAMPLE), "--json")

        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"ok": True, "problems": [], "plans": 4}

    def test_problems_are_printed_as_file_line_message_with_exit_3(
        self, run: Run, broken_pack: Path
    ) -> None:
        """Each problem is one `file:line: message` line; the exit code is 3."""
        result = run("plan", "check", str(broken_pack))

        assert result.exit_code == 3
        lines = result.stdout.splitlines()
        assert len(lines) == 2
        assert re.fullmatch(
            r"plans/FLOOD_URBAN\.yaml:\d+: levels\[0\]\.tasks\[0\]\.lead_department: "
            r"unknown department 'WEATHER'",
            lines[0],
        )
        assert re.fullmatch(
            r"plans/FLOOD_URBAN\.yaml:\d+: .*no task 'open_shelterz' in this plan",
            lines[1],
        )
        assert "2 problem(s)" in result.stderr

    def test_problems_as_json(self, run: Run, broken_pack: Path) -> None:
        """--json lists file, line and message of each problem, and exits 3."""
        result = run("plan", "check", str(broken_pack), "--json")

        assert result.exit_code == 3
        report = json.loads(result.stdout)
        assert report["ok"] is False
        assert report["plans"] == 4
        assert [problem["file"] for problem in report["problems"]] == [
            "plans/FLOOD_URBAN.yaml",
            "plans/FLOOD_URBAN.yaml",
        ]
        assert all(isinstance(p["line"], int) for p in report["problems"])

    def test_missing_directory_is_a_problem(self, run: Run, tmp_path: Path) -> None:
        """A path that is not a folder is reported, not a traceback."""
        result = run("plan", "check", str(tmp_path / "nowhere"), "--json")

        assert result.exit_code == 3
        assert json.loads(result.stdout)["problems"][0]["message"].startswith(
            "pack directory not found"
        )

    def test_help_lists_check(self, run: Run) -> None:
        """`muster plan --help` describes the check command."""
        result = run("plan", "--help")

        assert result.exit_code == 0
        assert "check" in result.stdout


class TestLoadRunsPlanCheck:
    """muster load refuses a pack whose plans fail the check."""

    def test_bad_plan_blocks_the_load_and_writes_nothing(
        self, run: Run, muster: Muster, broken_pack: Path
    ) -> None:
        """The plan problems are listed under the error; the log stays empty."""
        result = run("load", str(broken_pack))

        assert result.exit_code == 3
        assert re.search(
            r"^  plans/FLOOD_URBAN\.yaml:\d+: .*WEATHER", result.stderr, re.M
        )
        assert head(muster) == 0

    def test_example_pack_loads_with_plans_and_chains(self, run: Run) -> None:
        """muster load --json counts the example's plans and escalation chains."""
        result = run("load", str(EXAMPLE), "--json")

        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["plans"] == {"created": 4, "updated": 0, "unchanged": 0}
        assert summary["escalation"] == {"created": 3, "updated": 0, "unchanged": 0}
