"""The after-action report (``muster report aar``) of the scripted flood incident
(tests/scripted_incident.py), closed at +165: PDF in both languages through the CLI,
its text read back with ``pdftotext``; HTML with its three charts; clear errors.

Hand-checked figures (see tests/integration/test_scorecard.py for the counts): WATER
acknowledged in 25 min (p50 = p90 = 25) and finished the pumps late; MET never acted
(its forecast went overdue and was escalated); WATER's score is 250/7 ≈ 35.7.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.response.domain.commands import ChangeIncidentStatus
from muster.review.aar_text import SECTIONS
from muster.review.queries import list_improvements
from muster.review.report_cli import write_aar
from muster.settings import Settings
from tests.cli_setup import cli_environment, cli_runner
from tests.conftest import TEST_SECRET
from tests.scripted_incident import SETUP, advance_to, run_script

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    app_ = bootstrap(settings, clock=clock)
    yield app_
    app_.engine.dispose()


@pytest.fixture
def incident(sim: Muster, clock: SimulatedClock) -> str:
    """Play the scripted incident and close it at +165; return its id."""
    world, incident_id = run_script(sim, clock)
    advance_to(clock, 165)
    close = ChangeIncidentStatus(
        incident_id=incident_id, to_status="closed", reason="Water receded"
    )
    sim.bus.handle(close, world.commander)
    return incident_id


def _muster(settings: Settings, *args: str) -> Result:
    with cli_runner(cli_environment(settings, TEST_SECRET)) as run:
        return run(*args)


def _flat(text: str) -> str:
    """Drop all white space: PDF text wraps lines and pads table cells."""
    return re.sub(r"\s+", "", text)


EXPECTED = {
    "zh-CN": (
        "内涝：滨江路积水",
        "WATER部门25/25",  # WATER's row: ack latency p50 / p90
        "MET部门：1项任务中1项未按时完成",  # the late forecast
        "启动泵站WATER部门已完成+0+25+50+30超时超时",
        "35.7",
    ),
    "en": (
        "内涝：滨江路积水",
        "WATERdept25/25",
        "METdept:tasksnotdonebytheirduetime,1of1",
        "StartpumpstationsWATERdeptdone+0+25+50+30latelate",
        "35.7",
    ),
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_given_a_closed_scripted_incident_when_the_aar_pdf_is_generated_then_its_text_has_every_section_and_the_key_figures(  # noqa: E501
    sim: Muster, settings: Settings, incident: str, tmp_path: Path, language: str
) -> None:
    """Every heading of the language, the incident's title, WATER's ack latency, the
    late tasks' departments and the chain head hash the report was computed from."""
    out = tmp_path / f"aar-{language}.pdf"
    with sim.engine.connect() as conn:
        _seq, head_hash = sim.store.head(conn)

    result = _muster(settings, "report", "aar", incident, "--out", str(out),
                     "--lang", language)  # fmt: skip

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert PDFTOTEXT is not None, (
        "the test reads the PDF with pdftotext: apt-get install poppler-utils"
    )
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(out), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    flat = _flat(text)
    index = 0 if language == "zh-CN" else 1
    for _key, headings in SECTIONS:
        assert _flat(headings[index]) in flat, headings[index]
    for expected in EXPECTED[language]:
        assert expected in flat, expected
    assert head_hash.hex()[:16] in flat
    assert head_hash.hex()[:16] in result.stdout


def test_given_a_closed_scripted_incident_when_the_aar_html_is_written_then_it_embeds_three_charts_and_the_plan(  # noqa: E501
    sim: Muster, clock: SimulatedClock, incident: str, tmp_path: Path
) -> None:
    """The HTML holds the Gantt, latency and freshness charts as inline SVG, one
    proposal per area for improvement, and states its log range."""
    out = tmp_path / "aar.html"
    advance_to(clock, 200)

    with sim.engine.connect() as conn:
        review = write_aar(
            conn, incident, out, language="en", now=clock.now(), store=sim.store
        )
        head_seq, head_hash = sim.store.head(conn)

    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    assert html.count('<figure class="chart"') == 3
    assert not re.findall(r'(?:src|href)="([^"#][^"]*)"', html)  # nothing to fetch
    assert review.log_range is not None
    assert (review.log_range.last_seq, review.log_range.head_hash) == (
        head_seq, head_hash.hex(),
    )  # fmt: skip
    assert review.period.end == review.closed_at
    assert len(review.proposals) == len(review.areas) == 7
    assert [(a.kind, a.department) for a in review.areas][-1] == ("escalation", "MET")
    assert [(s.kind, s.department) for s in review.strengths] == [
        ("acks_on_time", "TRANSPORT"),
        ("tasks_on_time", "TRANSPORT"),
        ("fast_sharing", "WATER"),
    ]


def test_given_an_unknown_incident_when_reporting_then_a_not_found_error_and_exit_4(
    sim: Muster, settings: Settings, tmp_path: Path
) -> None:
    """An unknown incident is named in a one-line error; nothing is written."""
    out = tmp_path / "aar.pdf"

    result = _muster(settings, "report", "aar", "no-such-incident", "--out", str(out))

    assert result.exit_code == 4
    assert "error: no incident no-such-incident" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["aar.docx", "aar"])
def test_given_an_output_file_that_is_not_pdf_or_html_when_reporting_then_a_clear_refusal_and_exit_3(  # noqa: E501
    sim: Muster, settings: Settings, tmp_path: Path, name: str
) -> None:
    """Only .pdf and .html are written; the message says so."""
    result = _muster(settings, "report", "aar", "any", "--out", str(tmp_path / name))

    assert result.exit_code == 3
    assert "--out must end in .pdf or .html" in result.stderr


def test_given_a_closed_scripted_incident_when_reporting_with_adopt_then_each_proposal_becomes_a_tracked_item(  # noqa: E501
    sim: Muster, settings: Settings, incident: str, tmp_path: Path
) -> None:
    """``--adopt`` records the proposed improvement plan: one open item per area,
    owned by its department, due in the future, citing the events behind it."""
    result = _muster(
        settings, "report", "aar", incident, "--out", str(tmp_path / "aar.html"),
        "--lang", "en", "--adopt",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Adopted 7 improvement item(s)" in result.stdout
    with sim.engine.connect() as conn:
        items = list_improvements(conn, incident_id=incident, now=sim.clock.now())
    assert len(items) == 7
    assert {item.status for item in items} == {"open"}
    assert {"MET", "WATER"} <= {item.owner_department for item in items}
    assert all(item.source_seqs for item in items)
