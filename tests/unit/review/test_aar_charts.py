"""The after-action report's charts: data age over time, and drawing without data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from muster.review import aar_charts
from muster.review.aar import DatasetAge
from muster.review.aar_text import LABELS
from muster.review.domain import metrics as m

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
PERIOD = m.Period(T0, T0 + timedelta(minutes=165))
ENGLISH = {key: words[1] for key, words in LABELS.items()}


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _gauges(*minutes: int) -> DatasetAge:
    return DatasetAge(
        code="GAUGES", name_zh="水位站", name_en="Gauges", owner="WATER",
        interval_minutes=60, deliveries=tuple(_at(n) for n in minutes),
    )  # fmt: skip


def test_given_deliveries_before_and_within_the_period_when_aged_then_the_series_is_a_sawtooth() -> (  # noqa: E501
    None
):
    """Delivered at −30, +20 and +100: 30 min old at the start, 50 and 80 just
    before the next deliveries, 0 at each, 65 at the end."""
    points = aar_charts.ages(_gauges(-30, 20, 100), PERIOD)

    assert [(round((t - T0) / timedelta(minutes=1)), age) for t, age in points] == [
        (0, 30.0), (20, 50.0), (20, 0.0), (100, 80.0), (100, 0.0), (165, 65.0),
    ]  # fmt: skip


def test_given_a_dataset_first_delivered_within_the_period_when_aged_then_the_series_starts_there() -> (  # noqa: E501
    None
):
    """Before its first delivery a dataset has no age to draw."""
    points = aar_charts.ages(_gauges(40), PERIOD)

    assert [(round((t - T0) / timedelta(minutes=1)), age) for t, age in points] == [
        (40, 0.0), (165, 125.0),
    ]  # fmt: skip


def test_given_nothing_to_draw_when_charting_then_each_chart_is_an_svg_saying_so() -> (
    None
):
    """Empty inputs still give an inline SVG element (the report keeps its layout)."""
    charts = [
        aar_charts.ack_latency_chart([], ENGLISH),
        aar_charts.gantt_chart([], PERIOD, "en", ENGLISH),
        aar_charts.freshness_chart([_gauges()], PERIOD, "en", ENGLISH),
    ]

    assert all(chart.startswith("<svg") for chart in charts)
    assert all("no data" in chart for chart in charts)  # in the text's comment
