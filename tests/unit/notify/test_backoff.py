"""Retry backoff and notification identity (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from muster.notify.domain.model import (
    MAX_ATTEMPTS,
    Channel,
    mark_exercise,
    next_attempt_at,
    notification_id,
)

FAILED_AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class TestNextAttemptAt:
    @pytest.mark.parametrize(("attempt", "minutes"), [(1, 1), (2, 5), (3, 15), (4, 60)])
    def test_retries_follow_the_backoff(self, attempt: int, minutes: int) -> None:
        """Given failed attempt N (1–4), when the retry is scheduled, then it is due
        1, 5, 15 or 60 minutes after the failure."""
        due = next_attempt_at(attempt, FAILED_AT)

        assert due == FAILED_AT + timedelta(minutes=minutes)

    def test_gives_up_after_the_last_attempt(self) -> None:
        """Given the fifth failed attempt, when the retry is scheduled, then there is
        none: Muster gives up."""
        assert MAX_ATTEMPTS == 5

        assert next_attempt_at(MAX_ATTEMPTS, FAILED_AT) is None

    def test_refuses_attempt_zero(self) -> None:
        """Given an attempt number below 1, when scheduled, then it is refused."""
        with pytest.raises(ValueError, match="numbered from 1"):
            next_attempt_at(0, FAILED_AT)


class TestIdentity:
    def test_same_cause_channel_recipient_same_id(self) -> None:
        """Given the same cause, channel and recipient, when ids are made twice, then
        they are equal; another channel gives another id."""
        first = notification_id(
            cause_event_id="e1", channel=Channel.EMAIL, recipient="u"
        )
        again = notification_id(
            cause_event_id="e1", channel=Channel.EMAIL, recipient="u"
        )
        other = notification_id(
            cause_event_id="e1", channel=Channel.IN_APP, recipient="u"
        )

        assert first == again != other

    def test_exercise_prefixes(self) -> None:
        """Given a drill, when texts are marked, then both languages get the prefix;
        real events are left alone."""
        assert mark_exercise("标题", "Title", is_exercise=True) == (
            "【演练】标题",
            "[EXERCISE] Title",
        )
        assert mark_exercise("标题", "Title", is_exercise=False) == ("标题", "Title")
