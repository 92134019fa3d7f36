"""Resource requests, commitments and allocation decisions on a real database, with the
Lanjiang pack loaded: request → commit → track → release; declines and refusals; the
optimiser's proposal recorded and a commander's approval (edited or not) turned into
commitments and tasks in one transaction; the CLI's ``allocate --json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import MusterError, PermissionDenied
from muster.core.eventlog.tables import events
from muster.core.messages import Actor
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources import allocation_service, queries, request_queries
from muster.resources.domain.allocation import Location
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    CommitResource,
    DeclineRequest,
    RecordAllocationProposal,
    RequestResource,
)
from muster.resources.domain.errors import RequestConflict, ResourceInvalid
from muster.response import queries as response
from muster.response.domain.commands import OpenIncident, RecordIncidentFacts
from muster.settings import Settings
from muster.web.summaries import Summarizer
from tests.cli_setup import Run
from tests.pack_city import EXAMPLE, load_layers, who

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return a deployment on a simulated clock with the Lanjiang pack loaded."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    load_pack(deployment, read_pack(EXAMPLE))
    yield deployment
    deployment.engine.dispose()


def flood(city: Muster) -> str:
    """Open a flood incident (11A00) on the riverside as the commander."""
    return str(
        city.bus.handle(
            OpenIncident(
                title="城区内涝",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                type_code="11A00",
            ),
            who(city, "commander"),
        )
    )


def request_of(city: Muster, request_id: str) -> request_queries.RequestView:
    """Return a request as stored."""
    with city.engine.connect() as conn:
        view = request_queries.get_request(conn, request_id)
    assert view is not None
    return view


def resource_status(city: Muster, resource_id: str) -> str:
    """Return a resource's status."""
    with city.engine.connect() as conn:
        view = queries.get_resource(conn, resource_id)
    assert view is not None
    return view.resource.status.value


def count_events(city: Muster) -> int:
    """Return how many events of the resources and response parts the log holds
    (a refused command's own record, ``identity.PermissionRefused``, not counted)."""
    query = select(func.count()).where(
        events.c.type.like("resources.%") | events.c.type.like("response.%")
    )
    with city.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


class TestRequestLifeCycle:
    def test_given_a_request_when_committed_tracked_and_released_then_it_closes(
        self, city: Muster
    ) -> None:
        """EMB asks for 5 pumps; WATER commits 4 of WATER-PUMP-1000 (all its units:
        the resource is assigned) and 1 more; tracking moves the resource with its
        commitment; releasing closes the request and releases the resource."""
        incident = flood(city)
        emb, water = who(city, "emb.duty"), who(city, "water.duty")
        due = (NOW + timedelta(hours=1)).isoformat()
        request_id = city.bus.handle(
            RequestResource(
                incident_id=incident,
                requested_by="EMB",
                type_code="PUMP_DRAINAGE",
                quantity=5,
                min_capability=500,
                needed_by=due,
                location_name="滨江路下穿隧道",
            ),
            emb,
        )
        view = request_of(city, request_id)
        assert (view.status.value, view.open_units) == ("open", 5)
        assert view.request.priority == 1  # no response level yet
        first = city.bus.handle(
            CommitResource(
                request_id=request_id, resource_id="WATER-PUMP-1000", units=4
            ),
            water,
        )
        assert request_of(city, request_id).status.value == "partly_committed"
        assert resource_status(city, "WATER-PUMP-1000") == "assigned"
        second = city.bus.handle(
            CommitResource(
                request_id=request_id, resource_id="WATER-PUMP-500", units=1
            ),
            water,
        )
        assert request_of(city, request_id).status.value == "committed"
        assert resource_status(city, "WATER-PUMP-500") == "available"  # 11 left
        for status in ("en_route", "on_scene"):
            city.bus.handle(
                ChangeCommitmentStatus(commitment_id=first, status=status), water
            )
            assert resource_status(city, "WATER-PUMP-1000") == status
        for commitment in (first, second):
            city.bus.handle(
                ChangeCommitmentStatus(commitment_id=commitment, status="released"),
                water,
            )
        assert request_of(city, request_id).status.value == "closed"
        assert resource_status(city, "WATER-PUMP-1000") == "released"
        with city.engine.connect() as conn:
            made = request_queries.list_commitments(conn, request_id=request_id)
        assert [c.commitment.status.value for c in made] == ["released", "released"]

    def test_given_wrong_commitments_when_made_then_refused_and_nothing_written(
        self, city: Muster
    ) -> None:
        """A type, capability or quantity that does not fit, another department's
        resource, a cancelled request: each refused, the log unchanged."""
        incident = flood(city)
        emb, water, fire = (
            who(city, n) for n in ("emb.duty", "water.duty", "fire.duty")
        )
        request_id = city.bus.handle(
            RequestResource(
                incident_id=incident,
                requested_by="EMB",
                type_code="PUMP_DRAINAGE",
                quantity=2,
                min_capability=900,
            ),
            emb,
        )
        before = count_events(city)
        refusals: list[tuple[CommitResource, Actor, type[MusterError]]] = [
            (
                CommitResource(request_id=request_id, resource_id="FIRE-PUMPTRUCK-01"),
                fire,
                ResourceInvalid,
            ),  # wrong type
            (
                CommitResource(request_id=request_id, resource_id="WATER-PUMP-500"),
                water,
                ResourceInvalid,
            ),  # 500 m³/h < 900
            (
                CommitResource(
                    request_id=request_id, resource_id="WATER-PUMP-1000", units=3
                ),
                water,
                ResourceInvalid,
            ),  # only 2 wanted
            (
                CommitResource(request_id=request_id, resource_id="WATER-PUMP-1000"),
                fire,
                PermissionDenied,
            ),  # not FIRE's pump
        ]
        for command, actor, error in refusals:
            with pytest.raises(error):
                city.bus.handle(command, actor)
        assert count_events(city) == before
        city.bus.handle(CancelRequest(request_id=request_id, reason="水已退"), emb)
        assert request_of(city, request_id).status.value == "cancelled"
        with pytest.raises(RequestConflict):
            city.bus.handle(
                CommitResource(request_id=request_id, resource_id="WATER-PUMP-1000"),
                water,
            )

    def test_given_an_addressed_request_when_declined_then_declined_with_reason(
        self, city: Muster
    ) -> None:
        """A request addressed to the Red Cross is declined by it (not by others)."""
        incident = flood(city)
        request_id = city.bus.handle(
            RequestResource(
                incident_id=incident,
                requested_by="EMB",
                type_code="TENT",
                quantity=50,
                to_department="REDCROSS",
            ),
            who(city, "emb.duty"),
        )
        with pytest.raises(PermissionDenied):
            city.bus.handle(
                DeclineRequest(
                    request_id=request_id, department="REDCROSS", reason="x"
                ),
                who(city, "water.duty"),
            )
        city.bus.handle(
            DeclineRequest(
                request_id=request_id, department="REDCROSS", reason="库存已调往邻市"
            ),
            who(city, "redcross.duty"),
        )
        assert request_of(city, request_id).status.value == "declined"


def resource_places(city: Muster) -> dict[str, Location]:
    """Return where each resource is."""
    with city.engine.connect() as conn:
        return {
            v.resource.id: Location(v.resource.latitude, v.resource.longitude)
            for v in queries.list_resources(conn)
        }


def competing_requests(city: Muster, incident: str) -> tuple[str, str]:
    """Two requests for drainage pumps, more than the city holds: urgent and not."""
    emb = who(city, "commander")
    urgent = city.bus.handle(
        RequestResource(
            incident_id=incident,
            requested_by="EMB",
            type_code="PUMP_DRAINAGE",
            quantity=20,
            priority=5,
            latitude=28.19,
            longitude=112.91,
            location_name="人民医院",
        ),
        emb,
    )
    routine = city.bus.handle(
        RequestResource(
            incident_id=incident,
            requested_by="EMB",
            type_code="PUMP_DRAINAGE",
            quantity=20,
            priority=1,
            latitude=28.21,
            longitude=112.92,
            location_name="商业街",
        ),
        emb,
    )
    return urgent, routine


class TestAllocation:
    def test_given_competing_requests_when_approved_then_commitments_and_tasks(
        self, city: Muster
    ) -> None:
        """The urgent request is served first; approving the recorded proposal
        commits each assignment and gives each sending department one task; the
        proposal shows approved, not edited, and cannot be decided twice."""
        incident = flood(city)
        urgent, routine = competing_requests(city, incident)
        with city.engine.connect() as conn:
            document = allocation_service.propose_for(conn, incident, NOW)
        served = {a["request_id"]: 0 for a in document["assignments"]}
        for item in document["assignments"]:
            served[item["request_id"]] += item["units"]
        assert served[urgent] == 20
        assert document["unmet_units"] == 40 - sum(served.values()) > 0
        assert all(s["request_id"] == routine for s in document["shortfalls"])
        commander = who(city, "commander")
        proposal_id = city.bus.handle(
            RecordAllocationProposal(incident_id=incident, proposal=document), commander
        )
        outcome = allocation_service.decide(
            city.bus, commander, city.engine, proposal_id, "approve", now=NOW
        )
        assert outcome["edited"] is False
        assert len(outcome["commitments"]) == len(document["assignments"])
        departments = {a["department"] for a in document["assignments"]}
        assert len(outcome["tasks"]) == len(departments)
        assert request_of(city, urgent).status.value == "committed"
        with city.engine.connect() as conn:
            proposal = request_queries.get_proposal(conn, proposal_id)
            tasks = [response.get_task(conn, t) for t in outcome["tasks"]]
        assert proposal is not None
        assert proposal.status == "approved"
        assert {t.lead_department for t in tasks if t} == departments
        with pytest.raises(RequestConflict):
            allocation_service.decide(
                city.bus,
                commander,
                city.engine,
                proposal_id,
                "reject",
                reason="again",
                now=NOW,
            )

    def test_given_an_edit_that_breaks_a_rule_when_approved_then_nothing_happens(
        self, city: Muster
    ) -> None:
        """An edited approval sending more units than a pump holds is refused as a
        whole: no commitment, no task, the proposal still awaits a decision; an
        edit within the rules is approved and marked edited; rejecting needs a
        reason."""
        incident = flood(city)
        urgent, _ = competing_requests(city, incident)
        commander = who(city, "commander")
        with city.engine.connect() as conn:
            document = allocation_service.propose_for(conn, incident, NOW)
        proposal_id = city.bus.handle(
            RecordAllocationProposal(incident_id=incident, proposal=document), commander
        )
        before = count_events(city)
        too_many = [{"supply_id": "WATER-PUMP-1000", "request_id": urgent, "units": 9}]
        with pytest.raises(ResourceInvalid):
            allocation_service.decide(
                city.bus,
                commander,
                city.engine,
                proposal_id,
                "approve",
                assignments=too_many,
                now=NOW,
            )
        assert count_events(city) == before
        with pytest.raises(ResourceInvalid):
            allocation_service.decide(
                city.bus, commander, city.engine, proposal_id, "reject", now=NOW
            )
        one = [{"supply_id": "WATER-PUMP-1000", "request_id": urgent, "units": 1}]
        outcome = allocation_service.decide(
            city.bus,
            commander,
            city.engine,
            proposal_id,
            "approve",
            assignments=one,
            reason="先保医院",
            now=NOW,
        )
        assert outcome["edited"] is True
        assert len(outcome["commitments"]) == 1
        assert request_of(city, urgent).committed_units == 1

    def test_given_the_cli_when_allocate_json_then_proposal_printed_and_recorded(
        self, city: Muster, run: Run
    ) -> None:
        """``muster resources allocate INCIDENT --json`` prints assignments, unmet
        demand, objective, solver status and seconds, and records the proposal;
        ``decide … approve`` as the commander commits it."""
        load_layers(city)
        incident = flood(city)
        city.bus.handle(
            RecordIncidentFacts(incident_id=incident, facts={"rain_24h_mm": 250}),
            who(city, "commander"),
        )
        competing_requests(city, incident)
        result = run("resources", "allocate", incident, "--json", "--user", "commander")
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        for key in (
            "assignments",
            "shortfalls",
            "objective",
            "solver_status",
            "seconds",
            "unmet_units",
            "proposal_id",
            "travel",
        ):
            assert key in document
        assert document["travel"] == "roads"
        closed = set(document["closed_roads"])
        assert closed
        with city.engine.connect() as conn:
            _, network = allocation_service.road_network(conn)
        assert network is not None
        network.set_closures(closed)
        places = resource_places(city)
        for item in document["assignments"]:
            request = request_of(city, item["request_id"]).request
            route = network.route(
                places[item["supply_id"]], Location(request.latitude, request.longitude)
            )
            assert route is not None
            assert not closed & set(route.segment_ids)
        decided = run(
            "resources",
            "decide",
            document["proposal_id"],
            "approve",
            "--user",
            "commander",
            "--json",
        )
        assert decided.exit_code == 0, decided.output
        assert len(json.loads(decided.output)["commitments"]) == len(
            document["assignments"]
        )
        refused = run("resources", "allocate", incident, "--user", "water.duty")
        assert refused.exit_code != 0
        assert "Traceback" not in refused.output


class TestFeedSummaries:
    def test_given_a_request_and_a_commitment_when_summarised_then_both_languages(
        self, city: Muster
    ) -> None:
        """The live feed tells who asked for what and who committed it, in zh-CN and
        en, with department names and the resource's new status."""
        incident = flood(city)
        with city.engine.connect() as conn:
            before = int(conn.execute(select(func.max(events.c.seq))).scalar_one())
        request_id = city.bus.handle(
            RequestResource(
                incident_id=incident,
                requested_by="EMB",
                type_code="PUMP_DRAINAGE",
                quantity=4,
            ),
            who(city, "emb.duty"),
        )
        city.bus.handle(
            CommitResource(
                request_id=request_id, resource_id="WATER-PUMP-1000", units=4
            ),
            who(city, "water.duty"),
        )
        with city.engine.connect() as conn:
            summarizer = Summarizer(city)
            items = {
                item.envelope.type: item.summaries
                for item in (
                    summarizer.item(conn, record)
                    for record in city.store.read_all(conn, after=before)
                )
            }
        requested = items["resources.ResourceRequested"]
        assert "PUMP_DRAINAGE" in requested["en"]
        assert requested["en"].endswith("for “城区内涝”")
        committed = items["resources.ResourceCommitted"]
        assert "WATER-PUMP-1000 × 4" in committed["zh-CN"]
        assert committed["en"].endswith(f"to request {request_id}")
        assert items["resources.ResourceStatusChanged"]["zh-CN"].endswith("现为已分派")
