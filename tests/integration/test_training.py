"""Training records and readiness on a real database: the Lanjiang pack's training.yaml
loaded once, training recorded through the bus and the CLI, and readiness with
completed drills appended to the log as the drills part records them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import PackInvalid, PermissionDenied
from muster.core.messages import SYSTEM_ACTOR
from muster.drills.domain.events import DrillCompleted
from muster.identity import queries as identity
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.settings import Settings
from muster.training import queries
from muster.training.domain.commands import RecordTraining
from muster.training.domain.errors import TrainingInvalid, UnknownCourse
from muster.training.readiness_queries import city_readiness, readiness_json
from tests.cli_setup import Run
from tests.prepared import example_pack, prepared_for

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Lanjiang (UTC+8)
TODAY = date(2026, 11, 26)


prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return a deployment on a simulated clock with the Lanjiang pack loaded (the
    test's copy of the pack loaded once: ``prepared``, tests/prepared.py)."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    yield deployment
    deployment.engine.dispose()


def readiness(muster: Muster) -> dict[str, Any]:
    """Return the city's readiness as JSON, departments by code."""
    with muster.engine.connect() as conn:
        found = readiness_json(city_readiness(conn, today=TODAY))
    found["departments"] = {d["department"]: d for d in found["departments"]}
    return found


def complete_drill(
    muster: Muster, drill_id: str, summary: list[dict[str, Any]], acted: list[str]
) -> None:
    """Append ``drills.DrillCompleted`` to the live log as the drills part does."""
    event = DrillCompleted(
        drill_id=drill_id, scenario_code="FLOOD-01", scenario_title_zh="城区内涝",
        scenario_title_en="Urban flooding", results=(), summary=tuple(summary),
        departments=tuple(acted), sandbox_last_seq=10, sandbox_head_hash="00" * 32,
        sim_end="2026-11-20T10:00:00.000000Z", finished_at="2026-11-20T12:00:00Z",
    )  # fmt: skip
    uow = muster.bus.unit_of_work(SYSTEM_ACTOR, metadata={"is_exercise": True})
    with uow:
        uow.append(f"drill-{drill_id}", [event], expected_version=0)
        uow.commit()


def row(department: str, met: int, late: int, missed: int) -> dict[str, Any]:
    """Return one department's row of a drill's summary."""
    expected = met + late + missed
    return {"department": department, "expected": expected, "met": met,
            "late": late, "missed": missed}  # fmt: skip


class TestLoadFromPack:
    def test_given_the_example_pack_when_loaded_twice_then_records_once(
        self, settings: Settings
    ) -> None:
        """Four courses and 18 records are created; a second load changes nothing."""
        deployment = bootstrap(settings, clock=SimulatedClock(NOW))
        pack = read_pack(EXAMPLE)

        first = load_pack(deployment, pack).to_json()
        second = load_pack(deployment, pack).to_json()

        assert first["courses"] == {"created": 4, "updated": 0, "unchanged": 0}
        assert first["training"] == {"created": 18, "updated": 0, "unchanged": 0}
        assert second["training"] == {"created": 0, "updated": 0, "unchanged": 18}
        with deployment.engine.connect() as conn:
            water = queries.list_records(conn, today=TODAY, department="WATER")
        assert [(r.username, r.course, r.is_current) for r in water] == [
            ("water.duty", "DUTY-BASIC", True),
            ("water.head", "HEAD-LEAD", False),  # 2022-10-20 + 48 months
        ]
        assert water[1].expires_on == "2026-10-20"
        deployment.engine.dispose()

    def test_given_the_loaded_pack_when_asked_then_readiness_is_a_mix(
        self, city: Muster
    ) -> None:
        """Without drills nobody is ready; expired and missing training make WATER,
        TRANSPORT and four untrained departments not ready."""
        found = readiness(city)

        levels = {code: d["level"] for code, d in found["departments"].items()}
        assert {code for code, level in levels.items() if level == "partly"} == {
            "EMB", "FIRE", "PSB", "LJ_GOV", "MET", "NATRES",
        }  # fmt: skip
        assert levels["WATER"] == "not_ready"
        assert {"code": "role_under_half", "role": "head"} in found["departments"][
            "WATER"
        ]["reasons"]
        assert found["departments"]["EMB"]["roles"] == {
            "duty_officer": {"holders": 1, "trained": 1, "advanced": 1},
            "commander": {"holders": 1, "trained": 1, "advanced": 0},
            "head": {"holders": 1, "trained": 1, "advanced": 0},
        }
        assert found["totals"]["roles"]["duty_officer"] == {
            "holders": 13, "trained": 8, "advanced": 4,
        }  # fmt: skip
        assert found["totals"]["levels"] == {"ready": 0, "partly": 6, "not_ready": 7}

    def test_given_unknown_users_and_future_days_when_loaded_then_nothing_is_written(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        """Load-time checks name training.yaml and the line; the load writes nothing."""
        pack_dir = tmp_path / "pack"
        pack_dir.mkdir()
        for name in ("region.yaml", "departments.yaml", "users.yaml"):
            shutil.copyfile(EXAMPLE / name, pack_dir / name)
        (pack_dir / "training.yaml").write_text(
            "records:\n"
            "  - {username: nobody, course: DUTY-BASIC, completed_on: 2025-01-01}\n"
            "  - {username: fire.duty, course: NONE, completed_on: 2027-01-01}\n",
            encoding="utf-8",
        )
        deployment = bootstrap(settings, clock=SimulatedClock(NOW))

        with pytest.raises(PackInvalid) as invalid:
            load_pack(deployment, read_pack(pack_dir))

        assert [str(problem) for problem in invalid.value.problems] == [
            "training.yaml:2: records[0].username: unknown user 'nobody' "
            "(not in users.yaml nor loaded)",
            "training.yaml:2: records[0].course: unknown course 'DUTY-BASIC' "
            "(not in courses nor loaded)",
            "training.yaml:3: records[1].course: unknown course 'NONE' "
            "(not in courses nor loaded)",
            "training.yaml:3: records[1].completed_on: completed_on 2027-01-01 is "
            "in the future",
        ]
        with deployment.engine.connect() as conn:
            assert identity.list_users(conn) == []
        deployment.engine.dispose()


class TestRecordTraining:
    def test_given_a_record_when_sent_again_then_unchanged_or_updated(
        self, city: Muster
    ) -> None:
        """Same person, course and day: unchanged; another provider: updated."""
        command = RecordTraining(
            username="ecoenv.duty", course="DUTY-BASIC", completed_on="2026-11-02",
            provider="市应急管理局培训中心",
        )  # fmt: skip

        first = city.bus.handle(command, SYSTEM_ACTOR)
        again = city.bus.handle(command, SYSTEM_ACTOR)
        moved = city.bus.handle(
            RecordTraining(
                username="ecoenv.duty",
                course="DUTY-BASIC",
                completed_on="2026-11-02",
                provider="省应急管理干部学院",
            ),
            SYSTEM_ACTOR,
        )

        assert (first, again, moved) == ("created", "unchanged", "updated")
        with city.engine.connect() as conn:
            (only,) = queries.list_records(conn, today=TODAY, username="ecoenv.duty")
        assert (only.provider, only.expires_on) == ("省应急管理干部学院", "2029-11-02")
        assert readiness(city)["departments"]["ECOENV"]["roles"]["duty_officer"] == {
            "holders": 1, "trained": 1, "advanced": 0,
        }  # fmt: skip

    def test_given_a_head_when_recording_then_only_for_their_own_department(
        self, city: Muster
    ) -> None:
        """The water head may record a water duty officer's course, not a fire one."""
        with city.engine.connect() as conn:
            head = identity.get_user_by_username(conn, "water.head")
        assert head is not None
        own = RecordTraining(
            username="water.duty", course="DUTY-ADV", completed_on="2026-10-01"
        )
        other = RecordTraining(
            username="fire.duty", course="DUTY-ADV", completed_on="2026-10-01"
        )

        assert city.bus.handle(own, head.as_actor()) == "created"
        with pytest.raises(PermissionDenied):
            city.bus.handle(other, head.as_actor())

    def test_given_bad_input_when_recording_then_refused(self, city: Muster) -> None:
        """Unknown courses and days after today are refused; nothing is written."""
        with pytest.raises(UnknownCourse):
            city.bus.handle(
                RecordTraining(
                    username="met.duty", course="X", completed_on="2026-01-01"
                ),
                SYSTEM_ACTOR,
            )
        with pytest.raises(TrainingInvalid):
            city.bus.handle(
                RecordTraining(
                    username="met.duty", course="DUTY-ADV", completed_on="2026-11-27"
                ),
                SYSTEM_ACTOR,
            )


class TestDrills:
    def test_given_completed_drills_when_asked_then_joined_and_last_results_count(
        self, city: Muster
    ) -> None:
        """FIRE met everything in its only drill: ready. PSB missed one action in its
        last drill: partly. WATER missed most: not ready. A department named only in
        the summary (HOTLINE: expected to act, did nothing) joined too."""
        first = [row("FIRE", 4, 0, 0), row("PSB", 3, 0, 0), row("WATER", 1, 0, 3)]
        complete_drill(city, "d1", first, ["FIRE", "PSB", "WATER"])
        complete_drill(
            city, "d2", [row("PSB", 2, 1, 1), row("HOTLINE", 0, 0, 2)], ["PSB"]
        )

        found = readiness(city)

        fire, psb = found["departments"]["FIRE"], found["departments"]["PSB"]
        water = found["departments"]["WATER"]
        assert (fire["level"], fire["reasons"], fire["drills_joined"]) == (
            "ready", [], 1,
        )  # fmt: skip
        assert fire["last_drill"]["title_en"] == "Urban flooding"
        assert (psb["level"], psb["drills_joined"]) == ("partly", 2)
        assert psb["reasons"] == [{"code": "last_drill_missed", "role": None}]
        assert (psb["last_drill"]["met"], psb["last_drill"]["late"]) == (2, 1)
        assert water["level"] == "not_ready"
        assert {"code": "last_drill_mostly_missed", "role": None} in water["reasons"]
        assert found["departments"]["HOTLINE"]["drills_joined"] == 1
        assert found["departments"]["EMB"]["drills_joined"] == 0
        assert found["totals"]["drills"] == 2
        assert found["totals"]["levels"]["ready"] == 1


class TestCli:
    def test_given_the_pack_when_recording_listing_and_asking_then_it_shows(
        self, run: Run
    ) -> None:
        """Record the water head's new course on the command line; the list and the
        readiness of WATER show it (on the real clock)."""
        assert run("load", str(EXAMPLE)).exit_code == 0

        recorded = run(
            "training", "record", "water.head", "HEAD-LEAD", "--on", "2026-11-20",
            "--provider", "省应急管理干部学院", "--json",
        )  # fmt: skip
        again = run(
            "training", "record", "water.head", "HEAD-LEAD", "--on", "2026-11-20",
            "--provider", "省应急管理干部学院",
        )  # fmt: skip
        listed = run("training", "list", "--department", "WATER", "--json")
        water = run("readiness", "--department", "WATER", "--json")
        city = run("readiness")
        unknown = run("training", "record", "water.head", "NOPE", "--on", "2026-01-01")

        assert recorded.exit_code == 0, recorded.output
        assert json.loads(recorded.stdout)["result"] == "created"
        assert again.stdout.strip() == "water.head HEAD-LEAD 2026-11-20: unchanged"
        records = json.loads(listed.stdout)
        assert {(r["username"], r["completed_on"], r["current"]) for r in records} >= {
            ("water.head", "2026-11-20", True),
            ("water.head", "2022-10-20", False),
        }
        (department,) = json.loads(water.stdout)["departments"]
        assert department["roles"]["head"] == {
            "holders": 1,
            "trained": 1,
            "advanced": 0,
        }
        assert city.exit_code == 0, city.output
        assert "TOTAL" in city.stdout
        assert "WATER" in city.stdout
        assert unknown.exit_code == 4
        assert "no course NOPE" in unknown.stderr
