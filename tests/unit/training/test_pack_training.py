"""training.yaml in deployment packs: the Lanjiang courses and records, unquoted days,
and broken files reported at their lines."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from muster.pack import read_pack
from muster.pack.validation import check_pack

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
GOOD = """\
courses:
  - code: DUTY-BASIC
    title_zh: 值守基础
    title_en: Duty basic
    role: duty_officer
    tier: basic
    validity_months: 36
records:
  - username: fire.duty
    course: DUTY-BASIC
    completed_on: 2025-03-10
    provider: 培训中心
  - {username: emb.duty, course: DUTY-BASIC, completed_on: '2025-04-01',
     expires_on: '2026-01-01'}
"""


def small_pack(tmp_path: Path, training: str) -> Path:
    """Return a pack of Lanjiang's region, departments and users plus training.yaml."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("region.yaml", "departments.yaml", "users.yaml"):
        shutil.copyfile(EXAMPLE / name, pack / name)
    (pack / "training.yaml").write_text(training, encoding="utf-8")
    return pack


def test_given_the_example_pack_when_read_then_courses_and_records_travel() -> None:
    """Lanjiang's training.yaml has four courses and a record for most departments."""
    pack = read_pack(EXAMPLE)

    assert [course.code for course in pack.courses] == [
        "DUTY-BASIC", "DUTY-ADV", "CMD-ICS", "HEAD-LEAD",
    ]  # fmt: skip
    assert len(pack.training) == 18
    assert {record.username for record in pack.training} <= {
        user.username for user in pack.users
    }


def test_given_unquoted_days_when_read_then_they_are_iso_text(tmp_path: Path) -> None:
    """YAML reads 2025-03-10 as a date; the pack keeps the day as written."""
    pack = read_pack(small_pack(tmp_path, GOOD))

    assert pack.training[0].completed_on == "2025-03-10"
    assert pack.training[0].provider == "培训中心"
    assert pack.training[1].expires_on == "2026-01-01"
    assert pack.courses[0].validity_months == 36


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("tier: basic", "tier: expert", "courses[0].tier: 'expert' is not one of"),
        ("role: duty_officer", "role: observer", "courses[0].role: 'observer'"),
        ("completed_on: 2025-03-10", "completed_on: 2025-02-30",
         "no such day 2025-02-30"),
        ("completed_on: 2025-03-10", "completed_on: '2025-02-30'",
         "records[0].completed_on: completed_on: no such day 2025-02-30"),
        ("completed_on: 2025-03-10", "completed_on: 10/03/2025",
         "records[0].completed_on: '10/03/2025' does not match"),
        ("provider: 培训中心", "trainer: 培训中心",
         "records[0].trainer: unknown field"),
        ("expires_on: '2026-01-01'", "expires_on: '2025-01-01'",
         "records[1].expires_on: expires_on must be after completed_on"),
    ],
)  # fmt: skip
def test_given_a_broken_entry_when_checked_then_the_problem_is_at_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Each problem names the field and the line it is on."""
    assert old in GOOD
    line = GOOD[: GOOD.index(old)].count("\n") + 1

    problems = [
        (p.line, p.message)
        for p in check_pack(small_pack(tmp_path, GOOD.replace(old, new))).problems
        if p.file == "training.yaml"
    ]

    assert len(problems) == 1, problems
    assert problems[0][0] == line
    assert problems[0][1].startswith(message), problems


def test_given_a_repeated_course_and_record_when_checked_then_both_reported(
    tmp_path: Path,
) -> None:
    """A code defined twice and a record listed twice are each reported once."""
    course = GOOD[GOOD.index("  - code:") : GOOD.index("records:")]
    record = GOOD[GOOD.index("  - username:") : GOOD.index("  - {username")]
    text = GOOD.replace("records:\n", course + "records:\n").replace(
        "  - {username", record + "  - {username"
    )

    problems = [p.message for p in check_pack(small_pack(tmp_path, text)).problems]

    assert any("duplicate code 'DUTY-BASIC' (first on line 2)" in p for p in problems)
    assert any("listed twice (first on line 15)" in p for p in problems), problems
