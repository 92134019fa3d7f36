"""Courses, expiry and tiers: the training part's pure rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.training.domain.errors import CourseInvalid, TrainingInvalid
from muster.training.domain.model import (
    Course,
    Tier,
    TrainingRecord,
    add_months,
    best_tiers,
    check_course,
    check_record,
    expiry_of,
    parse_day,
)

BASIC = Course("DUTY-BASIC", "值守基础", "Duty basic", "duty_officer", Tier.BASIC, 36)
ADVANCED = Course(
    "DUTY-ADV", "值守进阶", "Duty advanced", "duty_officer", Tier.ADVANCED, 24
)
HEAD = Course("HEAD-LEAD", "负责人", "Heads", "head", Tier.BASIC, None)
CATALOGUE = {course.code: course for course in (BASIC, ADVANCED, HEAD)}
TODAY = date(2026, 11, 26)


def _record(user: str, course: Course, done: date) -> TrainingRecord:
    return TrainingRecord(
        user_id=user,
        course=course.code,
        completed_on=done,
        expires_on=expiry_of(course, completed_on=done),
    )


class TestCheckCourse:
    def test_given_valid_fields_when_checked_then_the_course_is_returned(self) -> None:
        """A course with a known role and tier is accepted, titles trimmed."""
        course = check_course(
            code="CMD-ICS", title_zh=" 指挥员 ", title_en="Commander",
            role="commander", tier="basic", validity_months=36,
        )  # fmt: skip

        assert course == Course(
            "CMD-ICS", "指挥员", "Commander", "commander", Tier.BASIC, 36
        )

    @pytest.mark.parametrize(
        ("field", "changes"),
        [
            ("code", {"code": "no spaces"}),
            ("title_en", {"title_en": "  "}),
            ("role", {"role": "observer"}),
            ("tier", {"tier": "expert"}),
            ("validity_months", {"validity_months": 0}),
        ],
    )
    def test_given_a_bad_field_when_checked_then_refused_naming_it(
        self, field: str, changes: dict[str, object]
    ) -> None:
        """Each rule names the field it refuses."""
        fields: dict[str, object] = {
            "code": "C1", "title_zh": "课", "title_en": "Course", "role": "head",
            "tier": "basic", "validity_months": None, **changes,
        }  # fmt: skip

        with pytest.raises(CourseInvalid) as refused:
            check_course(**fields)  # type: ignore[arg-type]

        assert refused.value.params["field"] == field


class TestExpiry:
    def test_given_a_validity_when_completed_then_it_expires_that_many_months_later(
        self,
    ) -> None:
        """36 months after 2023-04-11 is 2026-04-11; no validity never expires."""
        assert expiry_of(BASIC, completed_on=date(2023, 4, 11)) == date(2026, 4, 11)
        assert expiry_of(HEAD, completed_on=date(2023, 4, 11)) is None

    def test_given_an_explicit_expiry_when_recorded_then_it_wins(self) -> None:
        """A certificate's own expiry overrides the course's validity."""
        explicit = date(2025, 1, 1)

        assert expiry_of(BASIC, completed_on=date(2024, 1, 1), expires_on=explicit) == (
            explicit
        )

    def test_given_a_month_end_when_adding_months_then_the_day_is_clamped(self) -> None:
        """31 January plus one month is the last day of February."""
        assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
        assert add_months(date(2023, 1, 31), 13) == date(2024, 2, 29)

    @settings(deadline=None)
    @given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
           st.integers(min_value=1, max_value=240))  # fmt: skip
    def test_given_any_day_when_adding_months_then_later_and_months_apart(
        self, day: date, months: int
    ) -> None:
        """The result is later, exactly ``months`` calendar months on."""
        later = add_months(day, months)

        assert later > day
        assert (later.year - day.year) * 12 + later.month - day.month == months

    def test_given_the_expiry_day_when_asked_then_the_record_no_longer_counts(
        self,
    ) -> None:
        """A record counts up to the day before it expires, not on that day."""
        record = _record("u1", BASIC, date(2023, 4, 11))

        assert record.is_current(date(2026, 4, 10))
        assert not record.is_current(date(2026, 4, 11))
        assert not record.is_current(date(2023, 4, 10))


class TestCheckRecord:
    def test_given_a_future_day_when_recorded_then_refused(self) -> None:
        """Training cannot be completed after today."""
        with pytest.raises(TrainingInvalid) as refused:
            check_record(
                completed_on=date(2026, 11, 27), expires_on=None, provider="",
                today=TODAY,
            )  # fmt: skip

        assert refused.value.params["field"] == "completed_on"

    def test_given_an_expiry_before_completion_when_recorded_then_refused(self) -> None:
        """An expiry must come after the completion."""
        with pytest.raises(TrainingInvalid):
            check_record(
                completed_on=date(2026, 1, 1), expires_on=date(2026, 1, 1),
                provider="", today=TODAY,
            )  # fmt: skip

    @pytest.mark.parametrize("text", ["2026-13-01", "26-01-01", "2026-02-30", ""])
    def test_given_no_real_day_when_parsed_then_refused(self, text: str) -> None:
        """Days are YYYY-MM-DD and must exist."""
        with pytest.raises(TrainingInvalid):
            parse_day(text, field="completed_on")


class TestBestTiers:
    def test_given_basic_and_advanced_when_both_current_then_advanced(self) -> None:
        """The highest current tier counts; an advanced course covers basic."""
        records = [
            _record("u1", BASIC, date(2025, 1, 1)),
            _record("u1", ADVANCED, date(2025, 6, 1)),
            _record("u2", ADVANCED, date(2025, 6, 1)),
            _record("u3", BASIC, date(2025, 6, 1)),
        ]

        tiers = best_tiers(records, CATALOGUE, role="duty_officer", today=TODAY)

        assert tiers == {"u1": Tier.ADVANCED, "u2": Tier.ADVANCED, "u3": Tier.BASIC}

    def test_given_an_expired_advanced_when_basic_current_then_basic(self) -> None:
        """An expired advanced record no longer lifts the tier."""
        records = [
            _record("u1", ADVANCED, date(2023, 1, 1)),
            _record("u1", BASIC, date(2025, 1, 1)),
        ]

        tiers = best_tiers(records, CATALOGUE, role="duty_officer", today=TODAY)

        assert tiers == {"u1": Tier.BASIC}

    def test_given_other_roles_and_unknown_courses_when_counted_then_left_out(
        self,
    ) -> None:
        """A head course does not train a duty officer; unknown courses count for
        nobody."""
        records = [
            _record("u1", HEAD, date(2025, 1, 1)),
            TrainingRecord(user_id="u2", course="GONE", completed_on=date(2025, 1, 1)),
        ]

        assert best_tiers(records, CATALOGUE, role="duty_officer", today=TODAY) == {}
        assert best_tiers(records, CATALOGUE, role="head", today=TODAY) == {
            "u1": Tier.BASIC
        }
