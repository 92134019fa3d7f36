"""Charts of the after-action review: acknowledgement latency, task Gantt, data age.

Imported by ``muster.review.aar_render``. Each chart is drawn on its own
``matplotlib.figure.Figure`` with its own Agg canvas (no pyplot, so no global figure
or backend state), saved by the SVG writer and returned as an inline ``<svg>``
element: the HTML embeds it and WeasyPrint draws it without fetching anything (text
is drawn as paths, so the PDF needs no font for charts). Time axes count minutes
from the incident's opening.
rcParams are only changed inside ``rc_context`` under a lock, so concurrent renders
do not see each other's fonts. Chinese labels need a CJK font: ``cjk_font`` finds
one (WenQuanYi Micro Hei first); without it the caller draws English labels.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from muster.review.aar import DatasetAge
from muster.review.aar_tasks import TaskRow
from muster.review.domain import metrics as m
from muster.review.domain.scorecard import DepartmentScore

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC")
_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
_LOCK = threading.Lock()
_MINUTE = timedelta(minutes=1)
Labels = Mapping[str, str]


@cache
def cjk_font() -> str | None:
    """Return the name of an installed CJK font, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def colours(departments: Sequence[str]) -> dict[str, str]:
    """Return one colour per department, stable for a sorted list."""
    ordered = sorted(set(departments))
    return {d: _PALETTE[i % len(_PALETTE)] for i, d in enumerate(ordered)}


@contextmanager
def _style() -> Iterator[None]:
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with (
        _LOCK,
        matplotlib.rc_context(
            {
                "font.family": families,
                "font.size": 8,
                "svg.fonttype": "path",
                "svg.hashsalt": "muster-aar",  # stable ids: same log, same SVG
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        yield


def _inline_svg(figure: Figure, title: str) -> str:
    """Return the figure as an ``<svg>`` element to place in HTML (no XML prolog)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    document = buffer.getvalue()
    return document[document.index("<svg") :]


def _draw(size: tuple[float, float], title: str, paint: Callable[[Axes], None]) -> str:
    with _style():
        figure = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(figure)  # this figure's own Agg canvas; pyplot is never used
        paint(figure.subplots())
        return _inline_svg(figure, title)


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def _offset(moment: datetime, start: datetime) -> float:
    """Return minutes from the period's start (the x of time axes)."""
    return (moment - start) / _MINUTE


def _time_axis(axes: Axes, start: datetime, end: datetime, labels: Labels) -> None:
    axes.set_xlim(0, max(_offset(end, start), 1.0))
    opened = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    axes.set_xlabel(labels["minutes_since"].format(opened=opened))


def ack_latency_chart(departments: Sequence[DepartmentScore], labels: Labels) -> str:
    """Bar chart of each department's acknowledgement latency, p50 and p90."""
    rows = [d for d in departments if d.figure(m.ACK_ON_TIME).count]

    def paint(axes: Axes) -> None:
        if not rows:
            _empty(axes, labels["no_data"])
            return
        names = [d.department for d in rows]
        figures = [d.figure(m.ACK_LATENCY) for d in rows]
        p50 = [float(f.value) if f.value is not None else 0.0 for f in figures]
        p90 = [f.p90 if f.p90 is not None else 0.0 for f in figures]
        places = range(len(rows))
        axes.bar([x - 0.2 for x in places], p50, 0.4, label="p50", color="#4c78a8")
        axes.bar([x + 0.2 for x in places], p90, 0.4, label="p90", color="#f58518")
        for x, figure in zip(places, figures, strict=True):
            if figure.value is None:
                axes.text(x, 0, labels["not_acknowledged"], ha="center", va="bottom")
        axes.set_xticks(list(places), names)
        axes.set_ylabel(labels["minutes"])
        axes.set_title(labels["ack_chart"])
        axes.legend()

    return _draw((6.4, 2.8), labels["ack_chart"], paint)


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gantt_row(axes: Axes, y: int, task: TaskRow, start: datetime, colour: str) -> None:
    """Draw one task: waiting for acknowledgement (pale), working (solid), due marks."""
    assigned = _offset(task.assigned_at, start)
    end = start + timedelta(minutes=axes.get_xlim()[1])
    acked = task.acknowledged_at or task.done_at or end
    finish = task.done_at or end
    axes.barh(y, _offset(acked, start) - assigned, left=assigned, height=0.5,
              color=colour, alpha=0.3, edgecolor=colour)  # fmt: skip
    if task.acknowledged_at is not None:
        left = _offset(task.acknowledged_at, start)
        axes.barh(y, _offset(finish, start) - left, left=left, height=0.5,
                  color=colour, alpha=1.0 if task.done_at else 0.6)  # fmt: skip
    axes.plot(_offset(task.due_at, start), y, marker="|", markersize=14,
              color="black", markeredgewidth=2)  # fmt: skip
    axes.plot(_offset(task.ack_due_at, start), y, marker="|", markersize=9,
              color="#666666")  # fmt: skip


def gantt_chart(
    tasks: Sequence[TaskRow], period: m.Period, language: str, labels: Labels
) -> str:
    """Gantt chart: assigned → acknowledged → done per task, due marked, by colour."""
    palette = colours([t.department for t in tasks])

    def paint(axes: Axes) -> None:
        if not tasks:
            _empty(axes, labels["no_data"])
            return
        last = max(period.end, *(t.due_at for t in tasks))
        _time_axis(axes, period.start, last, labels)
        for y, task in enumerate(tasks):
            _gantt_row(axes, y, task, period.start, palette[task.department])
        axes.set_yticks(
            list(range(len(tasks))),
            [f"{_short(t.title(language))} ({t.department})" for t in tasks],
        )
        axes.invert_yaxis()
        handles: list[Artist] = [
            Patch(color=c, label=d) for d, c in sorted(palette.items())
        ]
        handles.append(Line2D([], [], marker="|", linestyle="none", color="black",
                              markersize=10, label=labels["due"]))  # fmt: skip
        handles.append(Line2D([], [], marker="|", linestyle="none", color="#666666",
                              markersize=8, label=labels["ack_due"]))  # fmt: skip
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        axes.set_title(labels["gantt_chart"])

    return _draw((6.8, 1.4 + 0.45 * max(len(tasks), 1)), labels["gantt_chart"], paint)


def ages(dataset: DatasetAge, period: m.Period) -> list[tuple[datetime, float]]:
    """Return the dataset's age (minutes since its last delivery) over the period.

    A sawtooth: the age grows with time and drops to 0 at each delivery. Before
    the dataset's first delivery it has no age and the series starts later.
    """
    points: list[tuple[datetime, float]] = []
    last: datetime | None = None
    for delivery in dataset.deliveries:
        if delivery < period.start:
            last = delivery
            continue
        if last is not None:
            moment = max(last, period.start)
            if not points:
                points.append((moment, (moment - last) / _MINUTE))
            points.append((delivery, (delivery - last) / _MINUTE))
        points.append((delivery, 0.0))
        last = delivery
    if last is not None:
        if not points:
            points.append((period.start, (period.start - last) / _MINUTE))
        points.append((period.end, (period.end - last) / _MINUTE))
    return points


def freshness_chart(
    datasets: Sequence[DatasetAge], period: m.Period, language: str, labels: Labels
) -> str:
    """Line chart of each dataset's age over the period against its SLA (dashed)."""
    palette = colours([d.code for d in datasets])

    def paint(axes: Axes) -> None:
        series = [(d, ages(d, period)) for d in datasets]
        if not any(points for _d, points in series):
            _empty(axes, labels["no_data"])
            return
        for dataset, points in series:
            colour = palette[dataset.code]
            name = dataset.name_zh if language.startswith("zh") else dataset.name_en
            axes.plot(
                [_offset(t, period.start) for t, _age in points],
                [age for _t, age in points],
                color=colour,
                label=f"{name} ({dataset.code})",
            )
            axes.axhline(dataset.interval_minutes, color=colour, linestyle="--",
                         label=f"{labels['sla']} {dataset.code}")  # fmt: skip
        _time_axis(axes, period.start, period.end, labels)
        axes.set_ylim(bottom=0)
        axes.set_ylabel(labels["age_minutes"])
        axes.set_title(labels["freshness_chart"])
        axes.legend()

    return _draw((6.4, 2.8), labels["freshness_chart"], paint)


__all__ = [
    "CJK_FONTS",
    "ack_latency_chart",
    "ages",
    "cjk_font",
    "colours",
    "freshness_chart",
    "gantt_chart",
]
