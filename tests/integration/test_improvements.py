"""Improvement items and timeline pins through the bus, on a simulated clock.

Given the flood world (tests/response_setup.py) and an incident at level IV, when the
review commands are handled, then the review streams, the ``review_improvements`` and
``review_pins`` tables and the queries say what happened, or the refusal says why and
nothing is recorded. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from muster.bootstrap import Muster
from muster.core.clock import SimulatedClock
from muster.core.errors import MusterError, NotFound, PermissionDenied
from muster.core.eventlog.replay import rebuild
from muster.response import queries as response
from muster.review import queries
from muster.review.domain.commands import (
    AdoptImprovementItems,
    ChangeImprovementItem,
    ImprovementItemDraft,
    PinTimelineEvent,
    UnpinTimelineEvent,
)
from muster.review.domain.errors import (
    ImprovementInvalid,
    ImprovementItemClosed,
    NotOnTimeline,
    NotPinned,
)
from muster.review.projections import PROJECTIONS
from muster.review.read_models import improvements, pins
from tests import sim_fixtures
from tests.response_setup import World, flood_incident

DUE = "2026-07-15T08:00:00Z"

# The response world and a flood incident on a simulated clock (tests/sim_fixtures.py).
clock = sim_fixtures.clock
sim = sim_fixtures.sim
world = sim_fixtures.world
incident = sim_fixtures.incident


def _draft(department: str = "TRANSPORT", due_at: str = DUE) -> ImprovementItemDraft:
    return ImprovementItemDraft(
        finding="late_acknowledgement",
        owner_department=department,
        title_zh="完善夜间值班交接",
        title_en="Fix the night duty hand-over",
        due_at=due_at,
        source_seqs=(3,),
    )


def _adopt(muster: Muster, world: World, incident: str, *drafts: Any) -> list[str]:
    command = AdoptImprovementItems(incident_id=incident, items=drafts or (_draft(),))
    return list(muster.bus.handle(command, world.commander))


def _head(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def _items(muster: Muster, **where: Any) -> list[queries.ImprovementView]:
    with muster.engine.connect() as conn:
        return queries.list_improvements(conn, now=muster.clock.now(), **where)


def _seq(muster: Muster, incident: str, event_type: str) -> int:
    with muster.engine.connect() as conn:
        entries = response.incident_timeline(conn, incident)
    return next(entry.seq for entry in entries if entry.type == event_type)


def _refused(
    muster: Muster, command: Any, actor: Any, error: type[MusterError]
) -> None:
    before = _head(muster)
    with pytest.raises(error):
        muster.bus.handle(command, actor)
    after = _head(muster)
    # A refused permission is itself logged (identity.AccessRefused); nothing else.
    assert after - before == (1 if error is PermissionDenied else 0)


class TestAdoptImprovementItems:
    def test_given_an_incident_when_the_commander_adopts_then_items_are_open(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """Each item gets its own stream and an open row owned by its department."""
        ids = _adopt(sim, world, incident, _draft(), _draft("WATER"))

        listed = _items(sim, incident_id=incident)
        with sim.engine.connect() as conn:
            streams = [
                [
                    r.envelope.type
                    for r in sim.store.read_stream(conn, f"improvement-{i}")
                ]
                for i in ids
            ]

        assert streams == [["review.ImprovementItemAdopted"]] * 2
        assert [(i.id, i.owner_department, i.status, i.overdue) for i in listed] == [
            (ids[0], "TRANSPORT", "open", False),
            (ids[1], "WATER", "open", False),
        ]
        assert listed[0].due_at == "2026-07-15T08:00:00.000000Z"
        assert listed[0].source_seqs == (3,)
        assert listed[0].adopted_by == world.commander.id

    def test_given_a_duty_officer_when_adopting_then_refused(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """Only a commander or admin adopts; the refusal is logged, nothing else."""
        command = AdoptImprovementItems(incident_id=incident, items=(_draft(),))

        _refused(sim, command, world.transport_duty, PermissionDenied)

        assert _items(sim) == []

    @pytest.mark.parametrize(
        ("draft", "error"),
        [
            (_draft("NOPE"), ImprovementInvalid),
            (_draft(due_at="2026-07-01T07:00:00Z"), ImprovementInvalid),
        ],
    )
    def test_given_a_bad_item_when_adopting_then_nothing_is_adopted(
        self,
        sim: Muster,
        world: World,
        incident: str,
        draft: ImprovementItemDraft,
        error: type[MusterError],
    ) -> None:
        """An unknown department or a past due time refuses the whole plan."""
        command = AdoptImprovementItems(incident_id=incident, items=(_draft(), draft))

        _refused(sim, command, world.commander, error)

        assert _items(sim) == []

    def test_given_no_such_incident_when_adopting_then_not_found(
        self, sim: Muster, world: World
    ) -> None:
        """Items belong to an incident that exists."""
        command = AdoptImprovementItems(incident_id="nope", items=(_draft(),))

        _refused(sim, command, world.commander, NotFound)


class TestChangeImprovementItem:
    def test_given_an_item_when_its_department_starts_and_completes_then_done(
        self, sim: Muster, world: World, incident: str, clock: SimulatedClock
    ) -> None:
        """The owner's duty officer starts it, the head completes it with a note."""
        (item_id,) = _adopt(sim, world, incident)

        started = sim.bus.handle(
            ChangeImprovementItem(item_id=item_id, action="start"), world.transport_duty
        )
        clock.advance(timedelta(days=2))
        done = sim.bus.handle(
            ChangeImprovementItem(
                item_id=item_id, action="complete", note="Hand-over checklist in use"
            ),
            world.transport_head,
        )

        (item,) = _items(sim)
        assert (started, done) == ("in_progress", "done")
        assert (item.status, item.note) == ("done", "Hand-over checklist in use")
        assert str(item.closed_at).startswith("2026-07-03")

    def test_given_another_department_when_changing_then_refused(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """WATER's duty officer cannot move TRANSPORT's item."""
        (item_id,) = _adopt(sim, world, incident)

        _refused(
            sim,
            ChangeImprovementItem(item_id=item_id, action="start"),
            world.water_duty,
            PermissionDenied,
        )

        assert _items(sim)[0].status == "open"

    def test_given_a_cancelled_item_when_changing_then_refused(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """A closed item stays as it is, even for a commander."""
        (item_id,) = _adopt(sim, world, incident)
        sim.bus.handle(
            ChangeImprovementItem(item_id=item_id, action="cancel", note="Merged"),
            world.commander,
        )

        _refused(
            sim,
            ChangeImprovementItem(item_id=item_id, action="complete", note="Done"),
            world.commander,
            ImprovementItemClosed,
        )

    def test_given_no_such_item_when_changing_then_not_found(
        self, sim: Muster, world: World
    ) -> None:
        """An unknown id is answered as not found."""
        _refused(
            sim,
            ChangeImprovementItem(item_id="nope", action="start"),
            world.commander,
            NotFound,
        )


class TestListImprovements:
    def test_given_time_passes_when_listing_then_overdue_is_marked_and_filtered(
        self, sim: Muster, world: World, incident: str, clock: SimulatedClock
    ) -> None:
        """Past its due time an active item is overdue; a done one never is."""
        late, finished, later = _adopt(
            sim, world, incident,
            _draft(), _draft("WATER"), _draft(due_at="2026-09-01T00:00:00Z"),
        )  # fmt: skip
        sim.bus.handle(
            ChangeImprovementItem(item_id=finished, action="complete", note="ok"),
            world.water_duty,
        )
        clock.advance(timedelta(days=20))

        overdue = [item.id for item in _items(sim, status="overdue")]
        active = [item.id for item in _items(sim, status="active")]
        transport = [item.id for item in _items(sim, department="TRANSPORT")]
        flags = {item.id: item.overdue for item in _items(sim)}

        assert overdue == [late]
        assert active == [late, later]
        assert transport == [late, later]
        assert flags == {late: True, finished: False, later: False}


class TestPins:
    def test_given_a_timeline_event_when_pinned_then_it_is_listed_with_its_note(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """A duty officer pins the activation; pinning it again unchanged is a no-op."""
        seq = _seq(sim, incident, "response.ResponseActivated")
        command = PinTimelineEvent(incident_id=incident, seq=seq, note="Level IV")

        first = sim.bus.handle(command, world.transport_duty)
        head = _head(sim)
        again = sim.bus.handle(command, world.transport_duty)

        with sim.engine.connect() as conn:
            pinned = queries.incident_pins(conn, incident)
        assert (first, again, _head(sim)) == ("pinned", "unchanged", head)
        assert (pinned[seq].note, pinned[seq].pinned_by) == (
            "Level IV",
            world.transport_duty.id,
        )

    def test_given_a_seq_of_another_stream_when_pinning_then_refused(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """Only events on this incident's timeline can be pinned."""
        other = flood_incident(sim, world, activate=False)
        seq = _seq(sim, other, "response.IncidentOpened")

        _refused(
            sim,
            PinTimelineEvent(incident_id=incident, seq=seq),
            world.commander,
            NotOnTimeline,
        )

    def test_given_a_pin_when_unpinned_then_gone_and_unpinning_again_refused(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """Unpinning removes the pin; a second unpin is refused."""
        seq = _seq(sim, incident, "response.IncidentOpened")
        sim.bus.handle(PinTimelineEvent(incident_id=incident, seq=seq), world.commander)

        sim.bus.handle(
            UnpinTimelineEvent(incident_id=incident, seq=seq), world.commander
        )

        with sim.engine.connect() as conn:
            assert queries.incident_pins(conn, incident) == {}
        _refused(
            sim,
            UnpinTimelineEvent(incident_id=incident, seq=seq),
            world.commander,
            NotPinned,
        )


class TestReplay:
    def test_given_items_and_pins_when_rebuilt_then_the_tables_are_the_same(
        self, sim: Muster, world: World, incident: str
    ) -> None:
        """Emptying and replaying the review tables gives identical rows."""
        first, second = _adopt(sim, world, incident, _draft(), _draft("WATER"))
        sim.bus.handle(
            ChangeImprovementItem(item_id=first, action="start"), world.transport_duty
        )
        sim.bus.handle(
            ChangeImprovementItem(item_id=second, action="cancel", note="dup"),
            world.commander,
        )
        seq = _seq(sim, incident, "response.IncidentOpened")
        sim.bus.handle(
            PinTimelineEvent(incident_id=incident, seq=seq, note="n"), world.commander
        )
        live = _rows(sim)

        rebuild(sim.engine, [PROJECTIONS])

        assert _rows(sim) == live
        assert all(live.values())


def _rows(muster: Muster) -> dict[str, list[tuple[Any, ...]]]:
    with muster.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr
            )
            for table in (improvements, pins)
        }
