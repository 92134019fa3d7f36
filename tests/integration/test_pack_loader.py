"""Loading deployment packs into the log: order, idempotence, and all-or-nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from muster.bootstrap import Muster, bootstrap
from muster.catalog import queries as catalog_queries
from muster.core.errors import ConcurrencyConflict, DomainError, PackInvalid
from muster.identity import queries
from muster.identity.domain.commands import RegisterDepartment, RegisterUser
from muster.identity.read_models import credentials, departments
from muster.pack import read_pack
from muster.pack.loader import load_pack, run_in_one_transaction
from muster.settings import Settings
from tests import factories

REGION = {
    "code": "TESTVILLE",
    "name_zh": "测试市",
    "name_en": "Testville",
    "center": {"lat": 28.2, "lon": 112.9},
    "districts": [{"code": "NORTH", "name_zh": "北区", "name_en": "North District"}],
}
# Children are listed before their parents on purpose.
DEPARTMENTS = [
    {"code": "FIRE", "name_zh": "消防", "name_en": "Fire", "type": "fire_rescue",
     "parent": "EMB"},
    {"code": "EMB", "name_zh": "应急局", "name_en": "Emergency", "type":
     "emergency_management", "parent": "GOV"},
    {"code": "GOV", "name_zh": "市政府", "name_en": "City Government",
     "type": "government"},
]  # fmt: skip
USERS = [
    {"username": "chief", "display_name": "Chief", "department": "EMB",
     "roles": ["commander"], "password": "muster-demo"},
    {"username": "fire.duty", "display_name": "Fire duty", "department": "FIRE",
     "roles": ["duty_officer"], "password": "muster-demo", "language": "en"},
    {"username": "watcher", "display_name": "Watcher", "department": "GOV",
     "roles": ["observer"], "password": "muster-demo"},
]  # fmt: skip


def write_pack(
    root: Path,
    *,
    departments_: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a pack folder with the given departments and users; return it."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "region.yaml": REGION,
        "departments.yaml": {"departments": departments_ or DEPARTMENTS},
        "users.yaml": {"users": USERS if users is None else users},
    }
    for name, data in files.items():
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (root / name).write_text(text, encoding="utf-8")
    return root


def head(muster: Muster) -> int:
    """Return the seq of the newest event."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def row_count(muster: Muster, table: Any) -> int:
    """Return the number of rows of a table."""
    with muster.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class TestLoadPack:
    """load_pack: ordering, counts and idempotence."""

    def test_registers_parents_before_children_and_counts_creations(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A pack listing children first still loads, each under its parent."""
        pack = read_pack(write_pack(tmp_path / "pack"))

        summary = load_pack(muster, pack)

        assert summary.departments.to_json() == {
            "created": 3, "updated": 0, "unchanged": 0
        }  # fmt: skip
        assert summary.users.to_json() == {"created": 3, "updated": 0, "unchanged": 0}
        with muster.engine.connect() as conn:
            fire = queries.get_department(conn, "FIRE")
            duty = queries.get_user_by_username(conn, "fire.duty")
        assert fire is not None
        assert fire.parent_code == "EMB"
        assert duty is not None
        assert duty.language == "en"

    def test_second_load_is_all_unchanged_and_appends_nothing(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Loading the same pack twice writes nothing the second time."""
        pack = read_pack(write_pack(tmp_path / "pack"))
        load_pack(muster, pack)
        before = head(muster)

        summary = load_pack(muster, pack)

        assert summary.is_unchanged
        assert summary.departments.unchanged == 3
        assert summary.users.unchanged == 3
        assert head(muster) == before

    def test_changed_department_is_updated(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A department whose names changed in the pack is updated in place."""
        load_pack(muster, read_pack(write_pack(tmp_path / "v1")))
        renamed = [dict(d) for d in DEPARTMENTS]
        renamed[0]["name_en"] = "Fire and Rescue"

        summary = load_pack(
            muster, read_pack(write_pack(tmp_path / "v2", departments_=renamed))
        )

        assert summary.departments.to_json() == {
            "created": 0, "updated": 1, "unchanged": 2
        }  # fmt: skip
        with muster.engine.connect() as conn:
            fire = queries.get_department(conn, "FIRE")
        assert fire is not None
        assert fire.name_en == "Fire and Rescue"

    def test_existing_user_is_left_alone_and_needs_no_password(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A username that already exists is counted unchanged, password or not."""
        factories.department(muster, "GOV", type_="government")
        factories.user(muster, "watcher", department_code="GOV", roles=("analyst",))
        users = [dict(u) for u in USERS]
        del users[2]["password"]

        summary = load_pack(muster, read_pack(write_pack(tmp_path / "p", users=users)))

        assert summary.users.to_json() == {"created": 2, "updated": 0, "unchanged": 1}
        with muster.engine.connect() as conn:
            watcher = queries.get_user_by_username(conn, "watcher")
        assert watcher is not None
        assert watcher.roles == ("analyst",)


class TestAllOrNothing:
    """load_pack and run_in_one_transaction write everything or nothing."""

    def test_new_user_without_password_is_refused_before_anything_is_written(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A new account without a password fails the load at its users.yaml line."""
        users = [dict(u) for u in USERS]
        del users[1]["password"]
        pack = read_pack(write_pack(tmp_path / "pack", users=users))

        with pytest.raises(PackInvalid) as refused:
            load_pack(muster, pack)

        (problem,) = refused.value.problems
        assert problem.file == "users.yaml"
        assert problem.line == 8  # users[1] starts on line 8 of the dumped YAML
        assert "fire.duty" in problem.message
        assert "password" in problem.message
        assert head(muster) == 0
        assert row_count(muster, departments) == 0

    def test_failure_midway_rolls_back_every_command(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """When the last user fails, no department, user, event or secret remains."""
        pack = read_pack(write_pack(tmp_path / "pack"))
        original = muster.bus.handlers[RegisterUser]

        def fail_on_watcher(command: RegisterUser, uow: Any) -> Any:
            """Register users as usual, but lose a race on the last one."""
            if command.username == "watcher":
                raise ConcurrencyConflict("someone else wrote first")
            return original(command, uow)

        muster.bus.handlers[RegisterUser] = fail_on_watcher

        with pytest.raises(ConcurrencyConflict):
            load_pack(muster, pack)

        assert head(muster) == 0
        assert row_count(muster, departments) == 0
        assert row_count(muster, credentials) == 0

    def test_later_commands_see_earlier_ones_in_the_same_transaction(
        self, muster: Muster
    ) -> None:
        """A user may join a department registered earlier in the same batch."""
        commands = [
            RegisterDepartment(
                code="EMB", name_zh="应急局", name_en="EMB", type="other"
            ),
            RegisterUser(
                username="chief",
                display_name="Chief",
                department_code="EMB",
                roles=("commander",),
                password="muster-demo",
            ),
        ]

        results = run_in_one_transaction(muster.bus, commands)

        assert results[0] == "created"
        assert head(muster) == 3  # DepartmentRegistered, UserRegistered, PasswordSet

    def test_progress_reports_each_command(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """The progress callback hears one line per command, in order."""
        pack = read_pack(write_pack(tmp_path / "pack"))
        lines: list[str] = []

        load_pack(muster, pack, progress=lines.append)

        assert lines[:3] == [
            "department GOV: created",
            "department EMB: created",
            "department FIRE: created",
        ]
        assert lines[3:] == [f"user {u['username']}: created" for u in USERS]

    def test_load_crossing_a_checkpoint_boundary_signs_its_last_event(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        """One load commits once, so a due checkpoint covers the whole batch."""
        every_five = bootstrap(settings.model_copy(update={"checkpoint_every": 5}))
        pack = read_pack(write_pack(tmp_path / "pack"))

        load_pack(every_five, pack)

        with every_five.engine.connect() as conn:
            rows = every_five.store.checkpoint_rows(conn)
        every_five.engine.dispose()
        assert [row.seq for row in rows] == [9]  # 3 departments + 3 users x 2 events


EXAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "muster" / "examples" / "lanjiang"
)
# Owned by departments of DEPARTMENTS above; the second is graded for its phone field.
DATASETS = [
    {"code": "EMB_SHELTERS", "name_zh": "避难场所", "name_en": "Shelters",
     "owner_department": "EMB", "sharing_class": "UNCONDITIONAL",
     "data_grade": "GENERAL", "update_interval_minutes": 1440, "format": "geojson",
     "connector": "upload",
     "fields": [{"name": "name", "type": "string", "required": True},
                {"name": "capacity", "type": "integer", "unit": "persons"}]},
    {"code": "FIRE_CALLS", "name_zh": "火警", "name_en": "Fire calls",
     "owner_department": "FIRE", "sharing_class": "CONDITIONAL",
     "sharing_conditions": "Responding units only.", "data_grade": "IMPORTANT",
     "update_interval_minutes": 5, "format": "csv", "connector": "file_drop",
     "csv_mapping": {"电话": "phone", "地址": "address"}, "csv_encoding": "gbk",
     "fields": [
         {"name": "phone", "type": "string", "sensitivity": "sensitive_personal"},
         {"name": "address", "type": "string", "sensitivity": "location"}]},
]  # fmt: skip


def write_datasets(root: Path, datasets: list[dict[str, Any]]) -> Path:
    """Add a datasets.yaml with these entries to the pack at ``root``; return it."""
    text = yaml.safe_dump({"datasets": datasets}, allow_unicode=True, sort_keys=False)
    (root / "datasets.yaml").write_text(text, encoding="utf-8")
    return root


class TestLoadDatasets:
    """load_pack registers the catalogue after departments and users."""

    def test_datasets_are_registered_after_departments_and_users(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Both datasets are created and counted; progress lists them last."""
        pack = read_pack(write_datasets(write_pack(tmp_path / "pack"), DATASETS))
        lines: list[str] = []

        summary = load_pack(muster, pack, progress=lines.append)

        assert summary.datasets.to_json() == {
            "created": 2, "updated": 0, "unchanged": 0
        }  # fmt: skip
        assert summary.to_json()["datasets"]["created"] == 2
        assert lines[-2:] == [
            "dataset EMB_SHELTERS: created",
            "dataset FIRE_CALLS: created",
        ]
        with muster.engine.connect() as conn:
            calls = catalog_queries.get_dataset(conn, "FIRE_CALLS")
        assert calls is not None
        assert calls.csv_mapping == {"地址": "address", "电话": "phone"}
        assert calls.schema_version == 1

    def test_loading_twice_is_unchanged_and_appends_nothing(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """The second load of the same catalogue counts every dataset unchanged."""
        pack = read_pack(write_datasets(write_pack(tmp_path / "pack"), DATASETS))
        load_pack(muster, pack)
        before = head(muster)

        summary = load_pack(muster, pack)

        assert summary.is_unchanged
        assert summary.datasets.to_json() == {
            "created": 0, "updated": 0, "unchanged": 2
        }  # fmt: skip
        assert head(muster) == before

    def test_changed_dataset_is_updated_with_a_new_schema_version(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A pack that adds a field gives its dataset schema version 2."""
        load_pack(
            muster, read_pack(write_datasets(write_pack(tmp_path / "v1"), DATASETS))
        )
        changed = [dict(d) for d in DATASETS]
        changed[0]["fields"] = [
            *DATASETS[0]["fields"],
            {"name": "open", "type": "boolean"},
        ]

        summary = load_pack(
            muster, read_pack(write_datasets(write_pack(tmp_path / "v2"), changed))
        )

        assert summary.datasets.to_json() == {
            "created": 0, "updated": 1, "unchanged": 1
        }  # fmt: skip
        with muster.engine.connect() as conn:
            shelters = catalog_queries.get_dataset(conn, "EMB_SHELTERS")
        assert shelters is not None
        assert [version.version for version in shelters.versions] == [1, 2]

    def test_dataset_refused_by_catalog_rules_fails_the_load_at_its_line(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A CSV mapping onto a missing field stops the load before any write."""
        broken = [dict(d) for d in DATASETS]
        broken[1]["csv_mapping"] = {"电话": "telephone"}
        pack = read_pack(write_datasets(write_pack(tmp_path / "pack"), broken))

        with pytest.raises(PackInvalid) as refused:
            load_pack(muster, pack)

        (problem,) = refused.value.problems
        assert problem.file == "datasets.yaml"
        assert problem.line == 29  # datasets[1].csv_mapping in the dumped YAML
        assert "csv_mapping" in problem.message
        assert head(muster) == 0

    def test_example_pack_loads_its_whole_catalogue_once(self, muster: Muster) -> None:
        """Lanjiang's datasets all load; loading again leaves them unchanged."""
        pack = read_pack(EXAMPLE)

        first = load_pack(muster, pack)
        second = load_pack(muster, pack)

        assert first.datasets.created == len(pack.datasets) >= 13
        assert second.datasets.unchanged == len(pack.datasets)
        assert second.is_unchanged
        with muster.engine.connect() as conn:
            listed = catalog_queries.list_datasets(conn, search="雨量")
        assert [view.code for view in listed] == ["MET_RAIN_GAUGES"]


# Names departments of DEPARTMENTS above only; the report goes to a body outside.
PLAN = {
    "code": "CITY_FIRE", "version": 1, "name_zh": "城市火灾预案",
    "name_en": "City fire plan", "categories": ["12C00"],
    "levels": [
        {"level": "L4", "lead_department": "FIRE",
         "tasks": [{"key": "attack", "title_zh": "灭火", "title_en": "Fight the fire",
                    "lead_department": "FIRE", "due_minutes": 30, "ack_minutes": 5}],
         "reports": [{"key": "first", "name_zh": "首报", "name_en": "First report",
                      "recipient": "省应急管理厅", "initial_minutes": 30,
                      "follow_up_minutes": None}]},
        {"level": "L3", "lead_department": "EMB",
         "supporting": [{"department": "GOV", "responsibility_zh": "协调",
                         "responsibility_en": "Coordination"}]},
    ],
}  # fmt: skip
CHAINS = {
    "default": {"steps": [{"after_minutes": 0, "notify": "duty_officer"},
                          {"after_minutes": 10, "notify": "head"}]},
    "departments": {"FIRE": {"steps": [{"after_minutes": 0, "notify": "duty_officer"}],
                             "repeat": 2, "repeat_after": 5}},
}  # fmt: skip


def write_plans(
    root: Path, plans: list[dict[str, Any]], chains: dict[str, Any] | None = CHAINS
) -> Path:
    """Add plans/<CODE>.yaml files and escalation.yaml to the pack at ``root``."""
    (root / "plans").mkdir(exist_ok=True)
    for plan in plans:
        text = yaml.safe_dump(plan, allow_unicode=True, sort_keys=False)
        (root / "plans" / f"{plan['code']}.yaml").write_text(text, encoding="utf-8")
    if chains is not None:
        text = yaml.safe_dump(chains, allow_unicode=True, sort_keys=False)
        (root / "escalation.yaml").write_text(text, encoding="utf-8")
    return root


def stream_types(muster: Muster, stream: str) -> list[str]:
    """Return the class names of the events of one stream."""
    with muster.engine.connect() as conn:
        recorded = muster.store.read_stream(conn, stream)
    return [type(item.event).__name__ for item in recorded]


class TestLoadPlansAndChains:
    """load_pack sets escalation chains and registers plans last, in the same batch."""

    def test_chains_then_plans_come_after_everything_else(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Default chain ("*"), FIRE's chain and the plan are created, in that order."""
        pack = read_pack(write_plans(write_pack(tmp_path / "pack"), [PLAN]))
        lines: list[str] = []

        summary = load_pack(muster, pack, progress=lines.append)

        assert summary.to_json()["escalation"] == {
            "created": 2, "updated": 0, "unchanged": 0
        }  # fmt: skip
        assert summary.to_json()["plans"] == {
            "created": 1, "updated": 0, "unchanged": 0
        }  # fmt: skip
        assert lines[-3:] == [
            "escalation chain default: created",
            "escalation chain FIRE: created",
            "plan CITY_FIRE v1: created",
        ]
        assert stream_types(muster, "plan-CITY_FIRE") == ["PlanRegistered"]
        assert stream_types(muster, "chain-*") == ["EscalationChainSet"]
        assert stream_types(muster, "chain-FIRE") == ["EscalationChainSet"]

    def test_loading_twice_is_unchanged_and_appends_nothing(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """The same plans and chains a second time write nothing."""
        pack = read_pack(write_plans(write_pack(tmp_path / "pack"), [PLAN]))
        load_pack(muster, pack)
        before = head(muster)

        summary = load_pack(muster, pack)

        assert summary.is_unchanged
        assert summary.plans.unchanged == 1
        assert summary.escalation.unchanged == 2
        assert head(muster) == before

    def test_changed_plan_and_chain_are_updated(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A retitled task and a longer wait update the plan and the default chain."""
        load_pack(muster, read_pack(write_plans(write_pack(tmp_path / "v1"), [PLAN])))
        changed = yaml.safe_load(yaml.safe_dump(PLAN))
        changed["levels"][0]["tasks"][0]["title_en"] = "Put out the fire"
        chains = yaml.safe_load(yaml.safe_dump(CHAINS))
        chains["default"]["steps"][1]["after_minutes"] = 15

        summary = load_pack(
            muster,
            read_pack(write_plans(write_pack(tmp_path / "v2"), [changed], chains)),
        )

        assert summary.plans.to_json() == {"created": 0, "updated": 1, "unchanged": 0}
        assert summary.escalation.to_json() == {
            "created": 0, "updated": 1, "unchanged": 1
        }  # fmt: skip
        assert stream_types(muster, "plan-CITY_FIRE") == ["PlanRegistered"] * 2

    def test_plan_refused_by_its_handler_rolls_back_the_whole_load(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A plan the handler refuses leaves no department, chain or plan behind."""
        pack = read_pack(write_plans(write_pack(tmp_path / "pack"), [PLAN]))
        broken = yaml.safe_load(yaml.safe_dump(PLAN))
        broken["levels"][0]["lead_department"] = "NOWHERE"  # skipped read_pack

        with pytest.raises(DomainError):
            load_pack(muster, dataclasses.replace(pack, plans=(broken,)))

        assert head(muster) == 0
        assert row_count(muster, departments) == 0

    def test_example_pack_loads_its_plans_and_chains_once(self, muster: Muster) -> None:
        """Lanjiang's four plans and three chains load; again, nothing changes."""
        pack = read_pack(EXAMPLE)

        first = load_pack(muster, pack)
        second = load_pack(muster, pack)

        assert first.plans.created == len(pack.plans) == 4
        assert first.escalation.created == len(pack.escalation) == 3
        assert second.is_unchanged
        assert second.plans.unchanged == 4
        assert stream_types(muster, "plan-FLOOD_URBAN") == ["PlanRegistered"]
