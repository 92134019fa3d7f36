"""Resources on a real database: the Lanjiang pack's resources.yaml loaded, statuses
changed through the bus and the CLI, who may change them, and the map's fold of the
log."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import func, select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.errors import NotFound, PackInvalid, PermissionDenied
from muster.core.eventlog.tables import events
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources import queries
from muster.resources.domain.commands import ChangeResourceStatus, RegisterResource
from muster.resources.domain.errors import (
    ResourceInvalid,
    TransitionNotAllowed,
    UnknownResource,
)
from muster.resources.history import resources_at
from muster.settings import Settings
from tests import factories
from tests.cli_setup import Run
from tests.prepared import example_pack, prepared_for

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
PUMPS = "WATER-PUMP-500"


prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return a deployment on a simulated clock with the Lanjiang pack loaded (the
    test's copy of the pack loaded once: ``prepared``, tests/prepared.py)."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    yield deployment
    deployment.engine.dispose()


def person(muster: Muster, username: str) -> Actor:
    """Return a pack user as the actor they act as."""
    with muster.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def status_of(muster: Muster, resource_id: str) -> tuple[str, str, str | None]:
    """Return a resource's status, reason and incident."""
    with muster.engine.connect() as conn:
        view = queries.get_resource(conn, resource_id)
    assert view is not None
    item = view.resource
    return item.status.value, item.status_reason, item.incident_id


def head(muster: Muster) -> int:
    """Return the number of events in the log."""
    with muster.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


class TestLoadFromPack:
    def test_given_the_example_pack_when_loaded_twice_then_registered_once(
        self, settings: Settings
    ) -> None:
        """32 types and 88 resources are created; a second load changes nothing and
        keeps a status changed in between."""
        deployment = bootstrap(settings, clock=SimulatedClock(NOW))
        pack = read_pack(EXAMPLE)

        first = load_pack(deployment, pack).to_json()
        deployment.bus.handle(
            ChangeResourceStatus(resource_id=PUMPS, status="assigned"),
            person(deployment, "water.duty"),
        )
        second = load_pack(deployment, pack).to_json()

        assert first["resource_types"] == {"created": 32, "updated": 0, "unchanged": 0}
        assert first["resources"] == {"created": 88, "updated": 0, "unchanged": 0}
        assert second["resources"] == {"created": 0, "updated": 0, "unchanged": 88}
        assert status_of(deployment, PUMPS) == ("assigned", "", None)
        assert status_of(deployment, "WATER-PUMP-1000-X")[:2] == (
            "out_of_service", "叶轮更换中，预计三天后恢复",
        )  # fmt: skip
        with deployment.engine.connect() as conn:
            water = queries.list_resources(conn, department="WATER")
            pumps = queries.list_resources(conn, type_code="PUMP_DRAINAGE")
        assert {view.resource.department for view in pumps} == {"WATER"}
        assert len(water) == 10
        deployment.engine.dispose()

    def test_given_a_changed_description_when_loaded_then_updated_not_reset(
        self, city: Muster, tmp_path: Path
    ) -> None:
        """Editing a quantity in resources.yaml updates the resource; its status
        stays."""
        city.bus.handle(
            ChangeResourceStatus(resource_id=PUMPS, status="assigned"), SYSTEM_ACTOR
        )
        edited = tmp_path / "pack"
        shutil.copytree(EXAMPLE, edited)
        text = (edited / "resources.yaml").read_text(encoding="utf-8")
        marker = "name: 移动排涝泵 500 m³/h\n    quantity: 12"
        assert marker in text
        (edited / "resources.yaml").write_text(
            text.replace(marker, marker.replace("12", "14")), encoding="utf-8"
        )

        summary = load_pack(city, read_pack(edited)).to_json()

        assert summary["resources"] == {"created": 0, "updated": 1, "unchanged": 87}
        with city.engine.connect() as conn:
            view = queries.get_resource(conn, PUMPS)
        assert view is not None
        assert view.resource.quantity == 14
        assert view.resource.status.value == "assigned"

    def test_given_a_type_neither_in_the_file_nor_loaded_when_loaded_then_refused(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A resource of a type the pack lacks and the database does not hold fails
        the load at its line, and nothing is written."""
        pack = tmp_path / "pack"
        pack.mkdir()
        for name in ("region.yaml", "departments.yaml"):
            shutil.copyfile(EXAMPLE / name, pack / name)
        (pack / "resources.yaml").write_text(
            "resources:\n"
            "  - {id: W1, department: WATER, type: PUMP, name: 泵, quantity: 1,\n"
            "     location: {lat: 28.2, lon: 112.9}}\n",
            encoding="utf-8",
        )
        before = head(muster)

        with pytest.raises(PackInvalid) as refused:
            load_pack(muster, read_pack(pack))

        assert [str(p) for p in refused.value.problems] == [
            "resources.yaml:2: resources[0].type: unknown type 'PUMP' (not in types "
            "nor loaded)"
        ]
        assert head(muster) == before


class TestChangeStatus:
    def test_given_a_duty_officer_when_pumps_are_deployed_then_the_board_follows(
        self, city: Muster
    ) -> None:
        """WATER's duty officer assigns pumps to an incident; they go en route and
        on scene with it, then are released and come back available."""
        water = person(city, "water.duty")
        incident = factories.incident(city, person(city, "emb.duty"), "城区内涝")

        results = [
            city.bus.handle(
                ChangeResourceStatus(
                    resource_id=PUMPS, status=status, incident_id=named
                ),
                water,
            )
            for status, named in (
                ("assigned", incident), ("en_route", None), ("on_scene", None),
            )
        ]  # fmt: skip

        assert results == ["assigned", "en_route", "on_scene"]
        assert status_of(city, PUMPS) == ("on_scene", "", incident)
        for status in ("released", "available"):
            city.bus.handle(
                ChangeResourceStatus(resource_id=PUMPS, status=status), water
            )
        assert status_of(city, PUMPS) == ("available", "", None)

    def test_given_the_same_status_when_asked_again_then_unchanged(
        self, city: Muster
    ) -> None:
        """Asking for the status a resource is in writes nothing."""
        before = head(city)

        result = city.bus.handle(
            ChangeResourceStatus(resource_id=PUMPS, status="available"), SYSTEM_ACTOR
        )

        assert result == "unchanged"
        assert head(city) == before

    @pytest.mark.parametrize(
        ("command", "error"),
        [
            (ChangeResourceStatus(resource_id=PUMPS, status="on_scene"),
             TransitionNotAllowed),
            (ChangeResourceStatus(resource_id=PUMPS, status="out_of_service"),
             ResourceInvalid),
            (ChangeResourceStatus(resource_id="NOPE", status="assigned"),
             UnknownResource),
            (ChangeResourceStatus(resource_id=PUMPS, status="assigned",
                                  incident_id="no-such-incident"), NotFound),
        ],
    )  # fmt: skip
    def test_given_a_refused_change_when_asked_then_nothing_is_written(
        self, city: Muster, command: ChangeResourceStatus, error: type[Exception]
    ) -> None:
        """Skipped steps, out of service without a reason, unknown resources and
        unknown incidents are refused and append nothing."""
        before = head(city)

        with pytest.raises(error):
            city.bus.handle(command, person(city, "water.duty"))

        assert head(city) == before


class TestPermissions:
    @pytest.mark.parametrize(
        ("username", "allowed"),
        [
            ("water.duty", True), ("water.head", True), ("commander", True),
            ("admin", True), ("fire.duty", False), ("analyst", False),
            ("observer", False),
        ],
    )  # fmt: skip
    def test_given_a_person_when_changing_water_pumps_then_the_rule_decides(
        self, city: Muster, username: str, allowed: bool
    ) -> None:
        """WATER's duty officers and heads, commanders and admins change WATER's
        statuses; other departments and other roles are refused."""
        command = ChangeResourceStatus(
            resource_id=PUMPS, status="out_of_service", reason="检修"
        )

        if allowed:
            assert city.bus.handle(command, person(city, username)) == "out_of_service"
        else:
            with pytest.raises(PermissionDenied):
                city.bus.handle(command, person(city, username))
            assert status_of(city, PUMPS)[0] == "available"

    def test_given_another_department_when_registering_then_refused(
        self, city: Muster
    ) -> None:
        """FIRE's duty officer may describe FIRE's resources, not WATER's."""
        fire = person(city, "fire.duty")
        mine = RegisterResource(
            resource_id="FIRE-PUMP-1", department="FIRE", type_code="PUMP_DRAINAGE",
            name="消防排涝泵", quantity=2, capability=400, latitude=28.21,
            longitude=112.9,
        )  # fmt: skip
        theirs = RegisterResource(
            resource_id="WATER-X", department="WATER", type_code="PUMP_DRAINAGE",
            name="泵", quantity=1, capability=400, latitude=28.2, longitude=112.9,
        )  # fmt: skip

        assert city.bus.handle(mine, fire) == "created"
        with pytest.raises(PermissionDenied):
            city.bus.handle(theirs, fire)


def test_given_status_changes_when_folded_at_a_past_moment_then_as_they_were(
    city: Muster,
) -> None:
    """The map's time slider folds resources from the log: before an assignment the
    pumps were available, after it assigned."""
    clock = city.bus.context.clock
    assert isinstance(clock, SimulatedClock)
    clock.advance(timedelta(minutes=10))
    before = isoformat_utc(clock.now())
    clock.advance(timedelta(minutes=10))
    city.bus.handle(
        ChangeResourceStatus(resource_id=PUMPS, status="assigned"), SYSTEM_ACTOR
    )

    with city.engine.connect() as conn:
        then = {
            v.resource.id: v.resource.status.value for v in resources_at(conn, before)
        }
        now = {v.resource.id: v.resource for v in resources_at(conn, "9999")}
        live = {v.resource.id: v.resource for v in queries.list_resources(conn)}

    assert then[PUMPS] == "available"
    assert now == live


def test_given_the_cli_when_listing_and_changing_then_it_uses_the_same_rules(
    city: Muster, run: Run
) -> None:
    """`muster resources list/status` read and change the same resources, and a
    refusal exits with the error tree's code."""
    changed = run("resources", "status", PUMPS, "out_of_service", "--reason", "检修",
                  "--user", "water.head", "--json")  # fmt: skip
    refused = run("resources", "status", PUMPS, "assigned", "--user", "fire.duty")
    listed = run("resources", "list", "--department", "WATER", "--status",
                 "out_of_service", "--json")  # fmt: skip
    table = run("resources", "list", "--type", "GENERATOR")

    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["result"] == "out_of_service"
    assert refused.exit_code == 5
    assert listed.exit_code == 0, listed.output
    found = {item["id"]: item for item in json.loads(listed.stdout)}
    assert set(found) == {PUMPS, "WATER-PUMP-1000-X"}
    assert found[PUMPS]["status_reason"] == "检修"
    assert found[PUMPS]["total_capability"] == 6000.0
    assert "POWER-GEN-200" in table.stdout
