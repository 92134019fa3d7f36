"""The periodic bulletin (通报) over the scripted incident: two periods scored by the
same metrics as ``muster scorecard``, compared, and written as HTML and PDF."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from muster.bootstrap import Muster, bootstrap
from muster.cli import app
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.review import metrics_queries
from muster.review.bulletin import build_bulletin, previous_period, render_html
from muster.review.domain.scorecard import ScorecardWeights
from muster.settings import Settings, get_settings
from tests.conftest import TEST_SECRET
from tests.scripted_incident import END, SETUP, T0, run_script

MIDDLE = T0 + timedelta(minutes=50)
AFTER_MIDDLE = MIDDLE + timedelta(microseconds=1)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment that has played the scripted incident."""
    app_ = bootstrap(settings, clock=clock)
    run_script(app_, clock)
    yield app_
    app_.engine.dispose()


def test_given_two_periods_when_the_bulletin_is_built_then_it_compares_scorecards(
    sim: Muster,
) -> None:
    """Each period's figures are exactly ``metrics_queries.scorecards`` of that period;
    changes, ranks and highlights follow from them, and the incident counts and the
    departments with nothing measured are named."""
    weights = ScorecardWeights()
    with sim.engine.connect() as conn:
        bulletin = build_bulletin(
            conn,
            start=AFTER_MIDDLE,
            end=END,
            previous_start=T0,
            previous_end=MIDDLE,
            weights=weights,
        )
        current = metrics_queries.scorecards(conn, start=AFTER_MIDDLE, end=END)
        previous = metrics_queries.scorecards(conn, start=T0, end=MIDDLE)

    assert bulletin.current == current
    assert bulletin.previous == previous
    (live,) = bulletin.scopes
    water = live.of("WATER")
    assert water.current == current.scorecards[0].of("WATER")
    assert water.previous == previous.scorecards[0].of("WATER")
    assert water.score is not None
    assert water.previous_score is not None
    assert water.change == water.score - water.previous_score
    assert water.change < 0  # the late third delivery is all it did after +50
    assert live.lowest == ("WATER",)
    assert {"EMB", "TRANSPORT"} <= set(live.inactive)
    assert live.of("TRANSPORT").previous_rank == 1  # on time in everything
    assert (previous.context.live_incidents, current.context.live_incidents) == (1, 0)
    assert {d.code for d in current.context.departments} == {
        "EMB",
        "MET",
        "TRANSPORT",
        "WATER",
    }


def test_given_a_bulletin_when_rendered_then_bilingual_with_ranges_and_weights(
    sim: Muster,
) -> None:
    """The HTML names both periods' log ranges and chain hashes, the weights, uses
    the CJK font first in Chinese, and has its headings in both languages."""
    with sim.engine.connect() as conn:
        bulletin = build_bulletin(
            conn,
            start=AFTER_MIDDLE,
            end=END,
            previous_start=T0,
            previous_end=MIDDLE,
            weights=ScorecardWeights(tasks_on_time=3),
        )

    chinese = render_html(bulletin, language="zh-CN", generated_at=END)
    english = render_html(bulletin, language="en", generated_at=END)

    for report in (bulletin.current, bulletin.previous):
        assert report.log_range is not None
        first, last = report.log_range.first_seq, report.log_range.last_seq
        for html in (chinese, english):
            assert report.log_range.head_hash in html
            assert f"seq {first}–{last}" in html
    assert '"WenQuanYi Micro Hei"' in chinese.split("font-family:")[1].split(",")[0]
    assert "协同绩效通报" in chinese
    assert "Collaboration bulletin" in chinese
    assert "签收及时率" in chinese
    assert "WATER部门" in chinese
    assert "Most improved" in english
    assert "WATER dept" in english
    assert '<td class="num">3</td>' in english  # tasks_on_time weight


def test_given_the_cli_when_writing_a_pdf_then_default_previous_period_and_json(
    sim: Muster, settings: Settings, tmp_path: Path
) -> None:
    """`muster bulletin --out FILE.pdf --json` compares with the same length right
    before --from, writes a PDF with Chinese text, and prints the comparison."""
    env = {
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": TEST_SECRET,
        "MUSTER_DATA_DIR": str(settings.data_dir),
    }
    out = tmp_path / "bulletin.pdf"
    args = ["bulletin", "--from", isoformat_utc(T0), "--to", isoformat_utc(END)]

    get_settings.cache_clear()
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"], env=env)
    refused = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "b.doc")], env=env
    )
    get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    before_start, before_end = previous_period(T0, END)
    assert document["previous_period"]["from"] == isoformat_utc(before_start)
    assert document["previous_period"]["to"] == isoformat_utc(before_end)
    assert document["this_period"]["incidents"] == {"live": 1, "drill": 0}
    live = document["scopes"][0]
    assert live["kind"] == "live"
    assert next(row["department"] for row in live["departments"]) == "TRANSPORT"
    assert document["this_period"]["chain_head_hash"]
    assert out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "协同绩效通报" in text
    assert refused.exit_code == 3
    assert ".html or .pdf" in refused.output
