"""Rules of the improvement plan and of timeline pins (pure domain, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.review.domain import improvements, pins
from muster.review.domain.commands import ImprovementItemDraft
from muster.review.domain.errors import (
    ImprovementInvalid,
    ImprovementItemClosed,
    ImprovementTransitionRefused,
    NotPinned,
)
from muster.review.domain.events import (
    ImprovementItemAdopted,
    ImprovementItemChanged,
    TimelineEventPinned,
    TimelineEventUnpinned,
)

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
DEPARTMENTS = frozenset({"EMB", "TRANSPORT", "WATER"})
COMMANDER = Actor(
    kind="user", id="u-c", department="EMB", roles=frozenset({"commander"})
)
T_DUTY = Actor(
    kind="user", id="u-t", department="TRANSPORT", roles=frozenset({"duty_officer"})
)
T_HEAD = Actor(kind="user", id="u-h", department="TRANSPORT", roles=frozenset({"head"}))
T_ANALYST = Actor(
    kind="user", id="u-a", department="TRANSPORT", roles=frozenset({"analyst"})
)
W_DUTY = Actor(
    kind="user", id="u-w", department="WATER", roles=frozenset({"duty_officer"})
)
OBSERVER = Actor(kind="user", id="u-o", department="EMB", roles=frozenset({"observer"}))


def _draft(**changes: object) -> ImprovementItemDraft:
    values: dict[str, object] = {
        "finding": "late_acknowledgement",
        "owner_department": "TRANSPORT",
        "title_zh": "完善夜间值班交接",
        "title_en": "Fix the night duty hand-over",
        "due_at": "2026-08-01T00:00:00+08:00",
        "source_seqs": (12, 7, 12),
    }
    values.update(changes)
    return ImprovementItemDraft(**values)  # type: ignore[arg-type]


def _adopt(*drafts: ImprovementItemDraft, actor: Actor = COMMANDER) -> list:
    ids = count(1)
    return improvements.adopt(
        drafts or (_draft(),),
        incident_id="inc-1",
        actor=actor,
        departments=DEPARTMENTS,
        now=NOW,
        new_id=lambda: f"item-{next(ids)}",
    )


def _item(status: str = improvements.OPEN) -> improvements.ImprovementItem:
    return improvements.ImprovementItem(
        item_id="item-1",
        incident_id="inc-1",
        owner_department="TRANSPORT",
        due_at="2026-07-31T16:00:00.000000Z",
        status=status,
        version=1,
    )


class TestAdopt:
    def test_given_a_commander_when_adopting_then_one_event_per_item(self) -> None:
        """Each draft becomes an adoption event with its own id, the due time in
        UTC and its source seqs sorted without repeats."""
        events = _adopt(_draft(), _draft(owner_department="WATER"))

        assert events == [
            ImprovementItemAdopted(
                item_id="item-1", incident_id="inc-1",
                finding="late_acknowledgement", owner_department="TRANSPORT",
                title_zh="完善夜间值班交接", title_en="Fix the night duty hand-over",
                due_at="2026-07-31T16:00:00.000000Z", source_seqs=(7, 12),
            ),
            ImprovementItemAdopted(
                item_id="item-2", incident_id="inc-1",
                finding="late_acknowledgement", owner_department="WATER",
                title_zh="完善夜间值班交接", title_en="Fix the night duty hand-over",
                due_at="2026-07-31T16:00:00.000000Z", source_seqs=(7, 12),
            ),
        ]  # fmt: skip

    @pytest.mark.parametrize("actor", [T_DUTY, T_HEAD, OBSERVER])
    def test_given_no_commander_when_adopting_then_refused(self, actor: Actor) -> None:
        """Only a commander or an admin adopts improvement items."""
        with pytest.raises(PermissionDenied):
            _adopt(actor=actor)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"owner_department": "NOPE"}, "owner_department"),
            ({"due_at": "2026-07-01T07:59:00Z"}, "due_at"),
            ({"due_at": "2026-07-01T08:00:00Z"}, "due_at"),
            ({"due_at": "2026-08-01T00:00:00"}, "due_at"),
            ({"due_at": "next week"}, "due_at"),
            ({"finding": "  "}, "finding"),
            ({"title_en": ""}, "title"),
            ({"source_seqs": (0,)}, "source_seqs"),
        ],
    )
    def test_given_a_bad_draft_when_adopting_then_refused_naming_the_field(
        self, changes: dict[str, object], field: str
    ) -> None:
        """An unknown department, a due time not in the future or without a zone,
        a blank finding or title, or a seq below 1 refuses the whole plan."""
        with pytest.raises(ImprovementInvalid) as refused:
            _adopt(_draft(), _draft(**changes))

        assert refused.value.params["field"] == field

    def test_given_no_items_when_adopting_then_refused(self) -> None:
        """An improvement plan has at least one item."""
        with pytest.raises(ImprovementInvalid):
            improvements.adopt(
                (), incident_id="inc-1", actor=COMMANDER, departments=DEPARTMENTS,
                now=NOW, new_id=lambda: "x",
            )  # fmt: skip


class TestChange:
    @pytest.mark.parametrize(
        ("status", "action", "expected"),
        [
            ("open", "start", "in_progress"),
            ("open", "complete", "done"),
            ("in_progress", "complete", "done"),
            ("open", "cancel", "cancelled"),
            ("in_progress", "cancel", "cancelled"),
        ],
    )
    def test_given_an_active_item_when_its_department_acts_then_status_moves(
        self, status: str, action: str, expected: str
    ) -> None:
        """The owner department's duty officer moves the item along its life."""
        event = improvements.change(
            _item(status),
            action=action,
            note=" Drill held ",
            actor=T_DUTY,  # type: ignore[arg-type]
        )

        assert event == ImprovementItemChanged(
            item_id="item-1", incident_id="inc-1", owner_department="TRANSPORT",
            action=action, from_status=status, to_status=expected, note="Drill held",
        )  # fmt: skip

    @pytest.mark.parametrize("actor", [T_DUTY, T_HEAD, COMMANDER])
    def test_given_owner_or_commander_then_may_change(self, actor: Actor) -> None:
        """The owner's duty officer or head, or a commander, may change the item."""
        assert improvements.may_change(actor, "TRANSPORT")

    @pytest.mark.parametrize("actor", [W_DUTY, T_ANALYST, OBSERVER])
    def test_given_another_department_or_role_when_changing_then_refused(
        self, actor: Actor
    ) -> None:
        """Another department's officer, an analyst or an observer is refused."""
        with pytest.raises(PermissionDenied):
            improvements.change(_item(), action="start", note="", actor=actor)

    @pytest.mark.parametrize("status", ["done", "cancelled"])
    @pytest.mark.parametrize("action", ["start", "complete", "cancel"])
    def test_given_a_closed_item_when_changing_then_refused(
        self, status: str, action: str
    ) -> None:
        """Done and cancelled items never change again."""
        with pytest.raises(ImprovementItemClosed):
            improvements.change(
                _item(status),
                action=action,
                note="again",
                actor=COMMANDER,  # type: ignore[arg-type]
            )

    def test_given_a_started_item_when_starting_then_refused(self) -> None:
        """Starting twice is refused."""
        with pytest.raises(ImprovementTransitionRefused):
            improvements.change(
                _item("in_progress"), action="start", note="", actor=T_DUTY
            )

    @pytest.mark.parametrize("action", ["complete", "cancel"])
    def test_given_no_note_when_closing_then_refused(self, action: str) -> None:
        """Completing or cancelling needs a note; starting does not."""
        with pytest.raises(ImprovementInvalid) as refused:
            improvements.change(_item(), action=action, note="  ", actor=T_DUTY)  # type: ignore[arg-type]

        assert refused.value.params["field"] == "note"
        assert improvements.change(_item(), action="start", note="", actor=T_DUTY)


class TestEvolveAndOverdue:
    def test_given_adopted_then_changed_when_evolving_then_the_item_follows(
        self,
    ) -> None:
        """Replaying an item's events gives its status and version."""
        adopted = _adopt()[0]
        started = improvements.change(
            improvements.evolve(None, adopted),  # type: ignore[arg-type]
            action="start", note="", actor=T_DUTY,
        )  # fmt: skip

        item = reduce(improvements.evolve, [adopted, started], None)

        assert item is not None
        assert (item.status, item.version) == ("in_progress", 2)

    @settings(deadline=None)
    @given(
        minutes=st.integers(min_value=-10_000, max_value=10_000),
        status=st.sampled_from(improvements.STATUSES),
    )
    def test_overdue_means_past_due_and_not_closed(
        self, minutes: int, status: str
    ) -> None:
        """An item is overdue exactly when its due time has passed and it is open
        or in progress."""
        due = (NOW + timedelta(minutes=minutes)).isoformat()

        overdue = improvements.is_overdue(due, status, NOW)

        assert overdue is (minutes < 0 and status not in improvements.CLOSED)


class TestPins:
    @pytest.mark.parametrize("actor", [COMMANDER, T_DUTY, T_HEAD])
    def test_given_a_pinner_when_pinning_then_event(self, actor: Actor) -> None:
        """Commanders, duty officers and heads pin events with a note."""
        events = pins.pin({}, incident_id="inc-1", seq=5, note=" key ", actor=actor)

        assert events == [TimelineEventPinned(incident_id="inc-1", seq=5, note="key")]

    @pytest.mark.parametrize("actor", [T_ANALYST, OBSERVER])
    def test_given_an_analyst_or_observer_when_pinning_then_refused(
        self, actor: Actor
    ) -> None:
        """Analysts and observers read the timeline but do not pin."""
        with pytest.raises(PermissionDenied):
            pins.pin({}, incident_id="inc-1", seq=5, note="", actor=actor)

    def test_given_the_same_pin_when_pinning_again_then_nothing(self) -> None:
        """Pinning with the note it has is no change; a new note is one."""
        current = {5: "key"}

        same = pins.pin(current, incident_id="i", seq=5, note="key", actor=T_DUTY)
        other = pins.pin(current, incident_id="i", seq=5, note="new", actor=T_DUTY)

        assert same == []
        assert other == [TimelineEventPinned(incident_id="i", seq=5, note="new")]

    def test_given_a_long_note_when_pinning_then_refused(self) -> None:
        """Pin notes are short."""
        with pytest.raises(ValidationFailed):
            pins.pin({}, incident_id="i", seq=5, note="x" * 501, actor=T_DUTY)

    def test_given_no_pin_when_unpinning_then_refused(self) -> None:
        """Only a pinned event can be unpinned."""
        with pytest.raises(NotPinned):
            pins.unpin({}, incident_id="i", seq=5, actor=T_DUTY)

    def test_given_pins_and_unpins_when_evolving_then_the_rest_stays(self) -> None:
        """The pin state is the pins not unpinned since, with their latest notes."""
        history = [
            TimelineEventPinned(incident_id="i", seq=5, note="a"),
            TimelineEventPinned(incident_id="i", seq=9, note="b"),
            TimelineEventPinned(incident_id="i", seq=5, note="c"),
            TimelineEventUnpinned(incident_id="i", seq=9),
        ]
        empty: dict[int, str] = {}

        assert reduce(pins.evolve, history, empty) == {5: "c"}
