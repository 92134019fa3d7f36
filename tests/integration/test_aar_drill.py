"""The after-action report of a drill incident, generated on the drill's sandbox
database: the EXERCISE banner and the "Exercise evaluation" section (met/late/missed
per department and each expected action), read from the sandbox's
``drills.DrillEvaluated``; a live incident copied into the sandbox gets neither.

The small flood scenario (tests/drill_setup.py) played unattended on the response
world: TRANSPORT acknowledges in time (met), WATER late (late), MET never (missed).
Its scenario clock runs an hour ahead of the wall clock, so a report generated right
after the drill must still count up to the drill's end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from muster.bootstrap import Muster
from muster.cli import app
from muster.core.db import make_engine
from muster.core.eventlog.store import SqlEventStore
from muster.drills.outcome import DrillReport
from muster.drills.runner import run_unattended
from muster.response.domain.commands import OpenIncident
from muster.review.aar_text import EXERCISE_SECTION, SECTIONS
from muster.review.report_cli import write_aar
from muster.settings import Settings, get_settings
from tests.conftest import TEST_SECRET
from tests.drill_setup import small_scenario
from tests.response_setup import build_world


@dataclass(frozen=True)
class Drilled:
    """A finished drill, its sandbox engine and a live incident copied into it."""

    live: Muster
    report: DrillReport
    sandbox: Engine
    live_incident: str


@pytest.fixture
def drilled(muster: Muster) -> Iterator[Drilled]:
    """Open a live incident elsewhere, then play the small scenario unattended."""
    world = build_world(muster)
    live_incident = str(
        muster.bus.handle(
            OpenIncident(
                title="火情：城北仓库", category="ACCIDENT_DISASTER",
                latitude=28.5, longitude=113.2, type_code="12B00",
            ),
            world.commander,
        )
    )  # fmt: skip
    report = run_unattended(muster, small_scenario())
    engine = make_engine(f"sqlite:///{report.sandbox_path}")
    yield Drilled(muster, report, engine, live_incident)
    engine.dispose()


def _table_rows(html: str, section: str) -> list[str]:
    """Return the section's table rows with tags turned into | separators."""
    part = html.split(section, 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", part, flags=re.S)
    return [re.sub(r"(<[^>]+>)+", "|", row) for row in rows]


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_given_a_drill_incident_when_its_aar_is_written_on_the_sandbox_then_it_is_marked_and_evaluated(  # noqa: E501
    drilled: Drilled, tmp_path: Path, language: str
) -> None:
    """The report carries the EXERCISE banner, and after "Department performance"
    the exercise evaluation: the scenario, each department's met/late/missed and
    each expected action's status, deadline and done time."""
    out = tmp_path / "aar.html"
    index = 0 if language == "zh-CN" else 1
    incident = str(drilled.report.incident_id)

    with drilled.sandbox.connect() as conn:
        review = write_aar(
            conn, incident, out, language=language,
            now=drilled.live.clock.now(), store=SqlEventStore(),
        )  # fmt: skip

    html = out.read_text(encoding="utf-8")
    assert review.is_exercise
    assert review.exercise is not None
    assert review.exercise.drill_id == drilled.report.drill_id
    assert review.log_range is not None
    assert review.log_range.last_seq == drilled.report.sandbox_last_seq
    assert 'id="exercise-banner"' in html
    assert "EXERCISE / 演练" in html or "演练 / EXERCISE" in html
    heading = EXERCISE_SECTION[index]
    departments = dict(SECTIONS)["departments"][index]
    strengths = dict(SECTIONS)["strengths"][index]
    assert html.index(departments) < html.index(heading) < html.index(strengths)
    rows = _table_rows(html, 'id="exercise-evaluation"')
    assert "|SMALL_FLOOD|" in rows[0]
    assert "|TRANSPORT|1|1|0|0|" in "".join(rows)
    assert "|WATER|1|0|1|0|" in "".join(rows)
    assert "|MET|1|0|0|1|" in "".join(rows)
    words = ("met", "late", "missed") if index else ("按时", "迟滞", "缺失")
    by_id = {
        expected: next(row for row in rows if f"|{expected} · task=" in row)
        for expected in ("transport-ack", "water-ack", "met-ack")
    }
    assert f"|{words[0]}|" in by_id["transport-ack"]
    assert f"|{words[1]}|" in by_id["water-ack"]
    assert f"|{words[2]}|—|" in by_id["met-ack"]  # missed: no seq
    assert '<tr class="missed">' in html


def test_given_a_live_incident_copied_into_the_sandbox_when_its_aar_is_written_then_no_exercise_mark(  # noqa: E501
    drilled: Drilled, tmp_path: Path
) -> None:
    """A live incident's report on the sandbox shows neither banner nor evaluation,
    although the sandbox log holds the drill's evaluation."""
    out = tmp_path / "live.html"

    with drilled.sandbox.connect() as conn:
        review = write_aar(
            conn, drilled.live_incident, out, language="en",
            now=drilled.live.clock.now(), store=SqlEventStore(),
        )  # fmt: skip

    html = out.read_text(encoding="utf-8")
    assert not review.is_exercise
    assert review.exercise is None
    assert 'id="exercise-banner"' not in html
    assert EXERCISE_SECTION[1] not in html


def test_given_a_drill_sandbox_when_muster_report_aar_runs_on_it_then_the_report_has_the_evaluation(  # noqa: E501
    drilled: Drilled, settings: Settings, tmp_path: Path
) -> None:
    """``MUSTER_DATABASE_URL=sqlite:///…/drills/ID.db muster report aar`` right after
    the drill (wall clock behind the scenario's) writes the evaluated report."""
    out = tmp_path / "drill-aar.html"
    env = {
        "MUSTER_DATABASE_URL": f"sqlite:///{drilled.report.sandbox_path}",
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": TEST_SECRET,
        "MUSTER_DATA_DIR": str(settings.data_dir),
    }
    incident = str(drilled.report.incident_id)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["report", "aar", incident, "--out", str(out)], env=env
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert EXERCISE_SECTION[0] in html
    assert "演练 / EXERCISE" in html
    rows = "".join(_table_rows(html, 'id="exercise-evaluation"'))
    assert "|MET|1|0|0|1|" in rows
    assert drilled.report.sandbox_head_hash in html
