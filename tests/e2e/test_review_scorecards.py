"""The scorecard pages: /review/scorecards over the scripted incident, each figure a
link to the events behind it, in English and Chinese."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.settings import Settings
from tests.e2e.client import WebClient, web_client
from tests.scripted_incident import END, SETUP, T0, one_seq, run_script

PERIOD = {"from": isoformat_utc(T0), "to": isoformat_utc(END)}
PAGE = "/review/scorecards?" + urlencode(PERIOD)


@pytest.fixture
def sim(settings: Settings) -> Iterator[Muster]:
    """Return a deployment that has played the scripted incident."""
    clock = SimulatedClock(SETUP)
    app = bootstrap(settings, clock=clock)
    run_script(app, clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def web(settings: Settings, sim: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving the scripted incident's deployment."""
    with web_client(settings, sim) as client:
        yield client


def _links(page: str, department: str) -> dict[str, str]:
    """Return the drill-down links of a department's row, by metric."""
    row = page.split(f'data-department="{department}"', 1)[1].split("</tr>", 1)[0]
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', row)]
    return {re.search(r"metric=(\w+)", link)[1]: link for link in links}  # type: ignore[index]


def _seqs(page: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'data-seq="(\d+)"', page)]


def test_given_a_period_when_a_person_opens_the_scorecards_then_figures_link_to_events(
    web: WebClient, sim: Muster
) -> None:
    """The table lists each department with its score and the log range and chain
    hash; WATER's report figure opens the three events behind it, summarised."""
    web.sign_in("t.duty")

    page = web.get(PAGE)

    assert page.status_code == 200
    assert "WATER dept" in page.text
    assert "TRANSPORT dept" in page.text
    with sim.engine.connect() as conn:
        head_seq, head_hash = sim.store.head(conn)
    assert head_hash.hex() in page.text
    assert f"–{head_seq} of the log" in page.text
    links = _links(page.text, "WATER")
    assert "reports_on_time" in links
    assert "records_shared" in links
    events = web.get(links["reports_on_time"])
    assert events.status_code == 200
    assert _seqs(events.text) == [
        one_seq(sim, "response.ReportDueSet"),
        one_seq(sim, "response.SituationReportSent"),
        one_seq(sim, "response.ReportOverdue"),
    ]
    assert "response.SituationReportSent" in events.text
    assert "Reports on time" in events.text
    assert head_hash.hex() in events.text


def test_given_a_chinese_reader_when_drilling_down_then_labels_are_chinese(
    settings: Settings, sim: Muster
) -> None:
    """A reader who chose Chinese sees the page and the drill-down in Chinese."""
    with web_client(settings, sim, accept_language="zh-CN") as web:
        web.sign_in("w.duty")
        web.post_form("/language", {"language": "zh-CN", "next": "/"})
        page = web.get(PAGE)
        link = _links(page.text, "TRANSPORT")["acks_on_time"]
        events = web.get(link)

    assert "协同绩效" in page.text
    assert "签收及时率" in page.text
    assert "该数值背后的事件" in events.text
    assert len(_seqs(events.text)) == 2  # assigned, acknowledged


def test_given_bad_requests_when_opening_pages_then_refused_plainly(
    web: WebClient,
) -> None:
    """Signed-out readers are sent to sign in; an unknown figure is 404 and a
    malformed time 422."""
    signed_out = web.get(PAGE)
    web.sign_in("t.duty")
    unknown = web.get(
        "/review/scorecards/events?"
        + urlencode({**PERIOD, "department": "WATER", "metric": "bogus"})
    )
    nobody = web.get(
        "/review/scorecards/events?"
        + urlencode({**PERIOD, "department": "NOPE", "metric": "acks_on_time"})
    )
    malformed = web.get("/review/scorecards?from=yesterday")

    assert signed_out.status_code in (303, 401)
    assert unknown.status_code == 404
    assert nobody.status_code == 404
    assert malformed.status_code == 422
