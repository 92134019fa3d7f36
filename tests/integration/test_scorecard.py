"""A scripted flood incident on a simulated clock, scored: every figure computed by
hand here, and traced back to the events behind it (SQLite and PostgreSQL).

The script and its timeline are in tests/scripted_incident.py (shared with the
after-action report tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.review import metrics_queries
from muster.review.domain import metrics as m
from muster.review.scorecard_cli import report_json
from muster.settings import Settings
from tests.scripted_incident import END, SETUP, T0
from tests.scripted_incident import one_seq as _one
from tests.scripted_incident import run_script as _script
from tests.scripted_incident import seqs_of_type as _seqs
from tests.scripted_incident import task_by_key as _task


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


def test_given_a_scripted_incident_when_scored_then_figures_match_the_hand_count(
    sim: Muster, clock: SimulatedClock
) -> None:
    """Each department's figures and score equal the hand count, list the events
    behind them, and the report names the log range and chain hash it used."""
    _world, incident = _script(sim, clock)
    first_in_period = _one(sim, "response.IncidentOpened")
    with sim.engine.connect() as conn:
        head_seq, head_hash = sim.store.head(conn)
        report = metrics_queries.scorecards(conn, start=T0, end=END, store=sim.store)

    (live,) = report.scorecards
    transport, water, met = (live.of(d) for d in ("TRANSPORT", "WATER", "MET"))
    # TRANSPORT: ack 7 min on time (1/1), road closed on time (1/1), 1 task done;
    # score 100·(1·1 + 2·1)/(1 + 2) = 100.
    assert transport.figure(m.ACK_LATENCY).value == 7.0
    assert transport.figure(m.ACK_ON_TIME).value == Fraction(1)
    assert transport.figure(m.TASK_ON_TIME).value == Fraction(1)
    assert transport.figure(m.TASKS_COMPLETED).value == 1.0
    assert transport.score == Fraction(100)
    # WATER: ack 25 min late (0/1), pumps late (0/1), reports 1/2 (initial on time,
    # follow-up unsent), freshness 1/2 (50 ≤ 60, 80 > 60), request answered (1/1) in
    # 40 min; score 100·(0·1 + 0·2 + ½·2 + ½·1 + 1·1)/(1 + 2 + 2 + 1 + 1) = 250/7.
    assert (water.figure(m.ACK_LATENCY).value, water.figure(m.ACK_LATENCY).p90) == (
        25.0, 25.0,
    )  # fmt: skip
    assert water.figure(m.ACK_ON_TIME).value == Fraction(0)
    assert water.figure(m.TASK_ON_TIME).value == Fraction(0)
    assert water.figure(m.REPORT_ON_TIME).value == Fraction(1, 2)
    assert water.figure(m.FRESHNESS_ON_TIME).value == Fraction(1, 2)
    assert water.figure(m.SHARING_ANSWERED).value == Fraction(1)
    assert water.figure(m.SHARING_ANSWER_LATENCY).value == 40.0
    assert water.figure(m.DATA_SHARED).value == 4.0  # read at +50: 2 deliveries × 2
    assert water.score == Fraction(250, 7)
    # MET never acted: ack late (0/1), forecast late (0/1): score 0.
    assert met.score == Fraction(0)
    assert met.figure(m.ACK_LATENCY).value is None
    # Recomputable: the period's first and last seqs and the chain hash at the last.
    assert report.log_range == metrics_queries.LogRange(
        first_in_period, head_seq, head_hash.hex()
    )
    document = report_json(report)
    assert document["log_range"] == {"first_seq": first_in_period, "last_seq": head_seq}
    assert document["chain_head_hash"] == head_hash.hex()
    water_json = document["scorecards"][0]["departments"][2]
    assert water_json["process"]["reports_on_time"]["exact"] == "1/2"

    # Drill-down: each figure lists exactly the events behind it.
    pumps_id = _task(sim, incident, "pumps").id
    pumps = _one(sim, "response.TaskAssigned", task_id=pumps_id)
    assert water.figure(m.ACK_LATENCY).seqs == (
        pumps, _one(sim, "response.TaskAcknowledged", task_id=pumps_id),
    )  # fmt: skip
    assert water.figure(m.TASK_ON_TIME).seqs == (
        pumps,
        _one(sim, "response.TaskOverdue", task_id=pumps_id),
        _one(sim, "response.TaskCompleted", task_id=pumps_id),
    )
    report_seqs = (
        _one(sim, "response.ReportDueSet"),
        _one(sim, "response.SituationReportSent"),
        _one(sim, "response.ReportOverdue"),
    )
    assert water.figure(m.REPORT_ON_TIME).seqs == report_seqs
    assert water.figure(m.FRESHNESS_ON_TIME).seqs == tuple(
        _seqs(sim, "ingest.BatchIngested")
    )
    assert water.figure(m.SHARING_ANSWERED).seqs == (
        _one(sim, "sharing.AccessRequested"),
        _one(sim, "sharing.AccessRequestDecided"),
    )
    assert water.figure(m.DATA_SHARED).seqs == (_one(sim, "sharing.AccessDecided"),)

    # One incident: freshness and sharing belong to no incident and drop out:
    # WATER 100·(0·1 + 0·2 + ½·2)/(1 + 2 + 2) = 20.
    with sim.engine.connect() as conn:
        scoped = metrics_queries.scorecards(
            conn, start=T0, end=END, incident_id=incident, store=sim.store
        )
    assert scoped.scorecards[0].of("WATER").score == Fraction(20)
