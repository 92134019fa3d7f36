"""EDXL-RM RequestResource / CommitResource in and out on a real database with the
Lanjiang pack: the UICDS corpus samples refused with a specific reason, then
imported with explicit overrides; our exports re-imported into the same deployment
("unchanged") and into a fresh one (the same records); all or nothing."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

import muster
from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.eventlog.signing import create_signing_key
from muster.core.eventlog.tables import events
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.formats.edxl_rm import parse_edxl_rm
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources import request_queries
from muster.resources.domain.commands import (
    CommitResource,
    DeclineRequest,
    RequestResource,
)
from muster.resources.domain.errors import ResourceInvalid
from muster.resources.edxl_rm import EdxlRmRefused, export_record
from muster.resources.edxl_rm_import import ImportOptions, plan_import, run_import
from muster.response import queries as response
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.web.app import create_app
from tests.cli_setup import Run
from tests.conftest import IS_POSTGRES, PG_URL, TEST_SECRET, _admin_engine
from tests.e2e.client import WebClient, running_server

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
CORPUS = (
    Path(muster.__file__).resolve().parents[3] / "shared" / "corpus" / "edxl" / "rm"
)
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
DOZER = ("--type-map", "Track Dozer=EXCAVATOR")


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return a deployment on a simulated clock with the Lanjiang pack loaded."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    load_pack(deployment, read_pack(EXAMPLE))
    yield deployment
    deployment.engine.dispose()


@contextmanager
def _fresh_database(template: str, folder: Path) -> Iterator[str]:
    """A second fresh migrated database, as conftest's ``database_url`` gives one."""
    if not IS_POSTGRES:
        shutil.copyfile(template, folder / "other.db")
        yield f"sqlite:///{folder / 'other.db'}"
        return
    name = f"muster_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def other_city(template_database: str, tmp_path: Path) -> Iterator[Muster]:
    """Return a second deployment, with its own database, of the same pack."""
    folder = tmp_path / "other"
    folder.mkdir()
    with _fresh_database(template_database, folder) as url:
        settings = Settings(
            mode="test", secret_key=TEST_SECRET, database_url=url,
            data_dir=folder / "data", checkpoint_every=50,
        )  # fmt: skip
        create_signing_key(settings.effective_signing_key_file)
        deployment = bootstrap(settings, clock=SimulatedClock(NOW))
        load_pack(deployment, read_pack(EXAMPLE))
        yield deployment
        deployment.engine.dispose()


def flood(city: Muster) -> str:
    """Open a flood incident on the riverside."""
    return str(
        city.bus.handle(
            OpenIncident(
                title="城区内涝", category="NATURAL_DISASTER", latitude=28.2,
                longitude=112.9, type_code="11A00", reporting_department="EMB",
            ),
            SYSTEM_ACTOR,
        )
    )  # fmt: skip


def requests_of(city: Muster) -> list[request_queries.RequestView]:
    """Return every request, most urgent first."""
    with city.engine.connect() as conn:
        return request_queries.list_requests(conn)


def resource_events(city: Muster) -> int:
    """Return how many events of the resources part the log holds."""
    query = select(func.count()).where(events.c.type.like("resources.%"))
    with city.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def import_bytes(
    city: Muster, data: bytes, options: ImportOptions | None = None
) -> list[dict[str, Any]]:
    """Map and import a message as Muster itself."""
    with city.engine.connect() as conn:
        plan = plan_import(data, conn=conn, options=options)
    return run_import(city.bus, SYSTEM_ACTOR, plan)


def export(city: Muster, record_id: str, *, answers: bool = False) -> bytes:
    """Return the EDXL-RM message of a request or commitment."""
    with city.engine.connect() as conn:
        return export_record(conn, record_id, sent=NOW, answers=answers)


def sample(name: str) -> str:
    """Return the path of a corpus sample."""
    return str(CORPUS / name)


class TestCorpus:
    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("uicds_RequestResource.1.xml", "incident 'uicds-incident-id' is not a"),
            ("uicds_RequestResource.3.xml", "incident 'uicds-incident-id' is not a"),
            ("uicds_RequestResource.NoLocation.xml", "it names no incident"),
            ("uicds_CommitResource.1.xml", "matches no Muster request"),
            ("uicds_CommitResource-Decline.xml", "matches no Muster request"),
        ],
    )
    def test_given_a_corpus_sample_when_imported_as_it_is_then_refused_specifically(
        self, city: Muster, name: str, reason: str
    ) -> None:
        """Every sample parses; none names anything this deployment has, so each
        is refused with its reason and nothing is written."""
        data = Path(sample(name)).read_bytes()
        before = resource_events(city)

        with pytest.raises(EdxlRmRefused) as refused:
            import_bytes(city, data)

        assert parse_edxl_rm(data).items
        assert reason in refused.value.message
        assert resource_events(city) == before

    def test_given_the_incident_when_the_requester_and_type_are_foreign_then_each_named(
        self, city: Muster
    ) -> None:
        """With our incident, the requester "Arlington Fire Station" and then the
        NIMS type "Track Dozer" are refused, each naming the option that helps."""
        incident = flood(city)
        data = Path(sample("uicds_RequestResource.1.xml")).read_bytes()

        with pytest.raises(EdxlRmRefused) as requester:
            import_bytes(city, data, ImportOptions(incident_id=incident))
        with pytest.raises(EdxlRmRefused) as dozer:
            import_bytes(
                city, data, ImportOptions(incident_id=incident, department="EMB")
            )

        assert "'Arlington Fire Station'" in requester.value.message
        assert "--department CODE" in requester.value.message
        assert "'Track Dozer'" in dozer.value.message
        assert "--type-map 'Track Dozer=CODE'" in dozer.value.message
        assert requests_of(city) == []

    def test_given_overrides_when_the_samples_are_imported_then_requests_and_answers(
        self, city: Muster, run: Run
    ) -> None:
        """With --incident, --department and --type-map the three requests import
        (the NIMS tier kept as a note: excavators have no tiers); again, unchanged.
        The commit sample with --resource-map commits two excavators; the decline
        sample answers an element no request has, so none of it is written."""
        incident = flood(city)
        given = ("--incident", incident, "--department", "EMB", *DOZER)
        names = ("RequestResource.1", "RequestResource.3", "RequestResource.NoLocation")

        first = [
            run("resources", "import-edxl", sample(f"uicds_{n}.xml"), *given, "--json")
            for n in names
        ]
        again = run("resources", "import-edxl", sample("uicds_RequestResource.1.xml"))
        committed = run(
            "resources", "import-edxl", sample("uicds_CommitResource.1.xml"),
            "--resource-map", "TD48=TRANS-EXC", "--resource-map", "TD7=TRANS-EXC-FH",
        )  # fmt: skip
        declined = run(
            "resources", "import-edxl", sample("uicds_CommitResource-Decline.xml"),
            "--resource-map", "TD48=TRANS-EXC",
        )  # fmt: skip

        assert [r.exit_code for r in first] == [0, 0, 0], [r.output for r in first]
        items = [json.loads(r.stdout)["items"][0] for r in first]
        assert all(i["notes"] == [_TIER_NOTE] for i in items)
        assert again.exit_code == 0, again.output
        assert "(unchanged)" in again.stdout
        views = {v.external_ref: v for v in requests_of(city)}
        one = views["RequestResource.1#ResourceInfoElementID.1"]
        three = views["RequestResource.3#ResourceInfoElementID.1"]
        no_place = views["RequestResource.4#ResourceInfoElementID.1"]
        assert (one.request.type_code, one.request.quantity) == ("EXCAVATOR", 4)
        assert one.request.location_name == "Arlington Waste Facility"
        assert three.request.location_name.startswith("Arlington Waste Facility (US")
        assert (no_place.request.latitude, no_place.request.location_name) == (28.2, "")
        assert committed.exit_code == 0, committed.output
        with city.engine.connect() as conn:
            made = request_queries.list_commitments(conn, request_id=one.request.id)
            after = request_queries.get_request(conn, one.request.id)
        assert [(c.commitment.resource_id, c.commitment.units) for c in made] == [
            ("TRANS-EXC", 1),
            ("TRANS-EXC-FH", 1),
        ]
        assert after is not None
        assert (after.status.value, after.committed_units) == ("partly_committed", 2)
        assert declined.exit_code == 3
        assert "ResourceInfoElementID.2" in declined.output
        with city.engine.connect() as conn:
            assert request_queries.declines_of(conn, one.request.id) == []


_TIER_NOTE = "minimum capabilities asked: Type I (EXCAVATOR has no such tier)"


def answered_request(city: Muster) -> tuple[str, str]:
    """EMB asks for 5 pumps of ≥ 500 m³/h by a time, at a place, with a note; WATER
    commits 4 big pumps with an ETA; REDCROSS declines. Return (request, commitment)."""
    incident = flood(city)
    request_id = str(
        city.bus.handle(
            RequestResource(
                incident_id=incident, requested_by="EMB", type_code="PUMP_DRAINAGE",
                quantity=5, min_capability=500, latitude=28.21, longitude=112.91,
                location_name="滨江路下穿隧道", note="隧道积水 1.8 m",
                needed_by=(NOW + timedelta(hours=2)).isoformat(),
            ),
            SYSTEM_ACTOR,
        )
    )  # fmt: skip
    commitment_id = str(
        city.bus.handle(
            CommitResource(
                request_id=request_id, resource_id="WATER-PUMP-1000", units=4,
                eta=(NOW + timedelta(minutes=50)).isoformat(), note="东湖泵站出发",
            ),
            SYSTEM_ACTOR,
        )
    )  # fmt: skip
    city.bus.handle(
        DeclineRequest(request_id=request_id, department="REDCROSS", reason="无排涝泵"),
        SYSTEM_ACTOR,
    )
    return request_id, commitment_id


def records(city: Muster, request_id: str) -> dict[str, Any]:
    """Return a request, its commitments and declines as compared after a round
    trip: without the incident id (each deployment has its own), when they were
    recorded and ``external_ref`` (where they came from)."""
    with city.engine.connect() as conn:
        view = request_queries.get_request(conn, request_id)
        assert view is not None
        made = request_queries.list_commitments(conn, request_id=request_id)
        declines = request_queries.declines_of(conn, request_id)
    dropped = {"incident_id", "requested_at", "external_ref", "committed_at"}
    dropped |= {"status_changed_at"}
    return {
        "request": {k: v for k, v in view.to_json().items() if k not in dropped},
        "commitments": [
            {k: v for k, v in c.to_json().items() if k not in dropped} for c in made
        ],
        "declines": declines,
    }


class TestRoundTrip:
    def test_given_our_exports_when_imported_into_the_same_deployment_then_unchanged(
        self, city: Muster, run: Run, tmp_path: Path
    ) -> None:
        """A request, its answers and one commitment exported with the CLI and
        imported back answer "unchanged" for every element and write nothing."""
        request_id, commitment_id = answered_request(city)
        before = resource_events(city)
        paths = [tmp_path / f"{n}.xml" for n in ("request", "answers", "commitment")]

        exported = [
            run("resources", "export-edxl", request_id, "--out", str(paths[0])),
            run("resources", "export-edxl", request_id, "--answers",
                "--out", str(paths[1])),
            run("resources", "export-edxl", commitment_id, "--out", str(paths[2])),
        ]  # fmt: skip
        imported = [
            run("resources", "import-edxl", str(path), "--json") for path in paths
        ]

        assert [r.exit_code for r in exported + imported] == [0] * 6, [
            r.output for r in exported + imported
        ]
        items = [i for r in imported for i in json.loads(r.stdout)["items"]]
        assert [(i["action"], i["result"]) for i in items] == [
            ("request", "unchanged"),
            ("commit", "unchanged"),
            ("decline", "unchanged"),
            ("commit", "unchanged"),
        ]
        assert items[1]["id"] == commitment_id
        assert resource_events(city) == before

    def test_given_our_exports_when_imported_into_a_fresh_deployment_then_same_records(
        self, city: Muster, other_city: Muster
    ) -> None:
        """Into a second database with the same pack, filed under its own incident
        (--incident), the request, commitment and decline are the same records
        (ids included); importing them again there is "unchanged"."""
        request_id, _ = answered_request(city)
        there = flood(other_city)
        request_message = export(city, request_id)
        answers_message = export(city, request_id, answers=True)

        first = import_bytes(
            other_city, request_message, ImportOptions(incident_id=there)
        ) + import_bytes(other_city, answers_message)
        again = import_bytes(other_city, request_message) + import_bytes(
            other_city, answers_message
        )

        assert [i["result"] for i in first] == [request_id, first[1]["id"], "declined"]
        assert [i["result"] for i in again] == ["unchanged"] * 3
        assert records(other_city, request_id) == records(city, request_id)
        with other_city.engine.connect() as conn:
            copied = request_queries.get_request(conn, request_id)
        assert copied is not None
        assert copied.request.incident_id == there
        assert copied.external_ref == f"urn:muster:request:{request_id}#{request_id}"


def partner_message(*items: str, incident: str) -> bytes:
    """Return a partner's RequestResource (their ids, not ours) with these items."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>partner-42</rmsg:MessageID>
  <rmsg:SentDateTime>2026-11-26T12:00:00+08:00</rmsg:SentDateTime>
  <rmsg:MessageContentType>RequestResource</rmsg:MessageContentType>
  <rmsg:IncidentInformation><rm:IncidentID>{incident}</rm:IncidentID>
  </rmsg:IncidentInformation>
  <rmsg:ContactInformation><rm:ContactDescription>EMB</rm:ContactDescription>
    <rm:ContactRole>Requester</rm:ContactRole></rmsg:ContactInformation>
  {"".join(items)}
</rmsg:RequestResource>""".encode()


def partner_item(element: str, name: str, quantity: str, when: str = "") -> str:
    """Return one ResourceInformation asking for a NIMS-named type."""
    arrival = f"<rmsg:DateTime>{when}</rmsg:DateTime>" if when else ""
    return f"""<rmsg:ResourceInformation>
    <rmsg:ResourceInfoElementID>{element}</rmsg:ResourceInfoElementID>
    <rmsg:Resource><rmsg:TypeInfo><Resource>{name}</Resource></rmsg:TypeInfo>
    </rmsg:Resource>
    <rmsg:AssignmentInformation><rmsg:Quantity><rm:QuantityText>{quantity}
    </rm:QuantityText></rmsg:Quantity></rmsg:AssignmentInformation>
    <rmsg:ScheduleInformation><rmsg:ScheduleType>RequestedArrival</rmsg:ScheduleType>
      {arrival}</rmsg:ScheduleInformation>
  </rmsg:ResourceInformation>"""


class TestAllOrNothing:
    def test_given_three_items_when_all_map_then_built_in_names_and_offsets_used(
        self, city: Muster
    ) -> None:
        """NIMS "Ambulance Ground Team" maps to AMBULANCE by the built-in table,
        "Drainage pump" by the catalog's English name; a time with +08:00 is kept
        in UTC."""
        incident = flood(city)
        data = partner_message(
            partner_item(
                "A", "Ambulance Ground Team", "3", "2026-11-26T14:00:00+08:00"
            ),
            partner_item("B", "drainage  PUMP", "2"),
            partner_item("C", "Excavator", "1"),
            incident=incident,
        )  # fmt: skip

        outcome = import_bytes(city, data)

        assert [i["result"] for i in outcome] == [i["id"] for i in outcome]
        views = {v.external_ref: v.request for v in requests_of(city)}
        ambulances = views["partner-42#A"]
        assert (ambulances.type_code, ambulances.quantity) == ("AMBULANCE", 3)
        assert ambulances.needed_by == "2026-11-26T06:00:00+00:00"
        assert views["partner-42#B"].type_code == "PUMP_DRAINAGE"
        assert views["partner-42#C"].type_code == "EXCAVATOR"

    @pytest.mark.parametrize(
        ("second", "error", "reason"),
        [
            (("B", "Track Dozer", "2"), EdxlRmRefused, "'Track Dozer' has no Muster"),
            (("B", "Excavator", "2.5"), EdxlRmRefused, "not a whole number"),
            (
                ("B", "Excavator", "2", "2026-11-26T14:00:00"),
                EdxlRmRefused,
                "has no UTC offset",
            ),
            (("B", "Excavator", "2000000"), ResourceInvalid, "1 to 1,000,000 units"),
        ],
    )
    def test_given_three_items_when_the_second_is_bad_then_none_is_written(
        self,
        city: Muster,
        second: tuple[str, ...],
        error: type[Exception],
        reason: str,
    ) -> None:
        """A bad second item (unmapped type, part units, a time without offset —
        refused while mapping — or too many units, refused by the handler inside
        the batch) leaves no request at all."""
        incident = flood(city)
        data = partner_message(
            partner_item("A", "Excavator", "1"),
            partner_item(*second),
            partner_item("C", "Excavator", "1"),
            incident=incident,
        )
        before = resource_events(city)

        with pytest.raises(error) as refused:
            import_bytes(city, data)

        assert reason in str(refused.value)
        assert requests_of(city) == []
        assert resource_events(city) == before

    @pytest.mark.parametrize(
        ("data", "said"),
        [
            (b"not xml at all", "not well-formed XML"),
            (
                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>',
                "declares entities",
            ),
            (
                b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>",
                "not an EDXL-RM",
            ),
        ],
    )
    def test_given_bad_xml_when_imported_with_the_cli_then_a_clear_error(
        self, city: Muster, run: Run, tmp_path: Path, data: bytes, said: str
    ) -> None:
        """Unreadable XML, declared entities, or another format is refused (exit 3) with
        the parser's reason; nothing is written."""
        path = tmp_path / "bad.xml"
        path.write_bytes(data)
        before = resource_events(city)

        result = run("resources", "import-edxl", str(path))

        assert result.exit_code == 3
        assert said in result.output
        assert resource_events(city) == before


class TestExportCli:
    def test_given_a_request_when_exported_to_stdout_then_an_rm_message(
        self, city: Muster, run: Run
    ) -> None:
        """``export-edxl ID`` prints the RequestResource; an unknown id is not
        found (exit 4); ``--answers`` of a request without any is refused (3)."""
        request_id, _ = answered_request(city)
        with city.engine.connect() as conn:
            incident = response.list_incidents(conn)[0].id
        bare = str(
            city.bus.handle(
                RequestResource(
                    incident_id=incident, requested_by="EMB", type_code="TENT",
                    quantity=10,
                ),
                SYSTEM_ACTOR,
            )
        )  # fmt: skip

        printed = run("resources", "export-edxl", request_id)
        unknown = run("resources", "export-edxl", "RQ-nope")
        no_answers = run("resources", "export-edxl", bare, "--answers")

        assert printed.exit_code == 0, printed.output
        message = parse_edxl_rm(printed.stdout_bytes)
        assert message.items[0].type_list == (
            "urn:muster:resource-type",
            "PUMP_DRAINAGE",
        )
        assert unknown.exit_code == 4
        assert no_answers.exit_code == 3
        assert "no commitments or declines" in no_answers.output


class TestApi:
    def test_given_a_signed_in_user_when_the_request_is_fetched_then_rm_xml(
        self, settings: Settings, city: Muster
    ) -> None:
        """``GET /api/v1/resource-requests/{id}/edxl-rm`` answers the
        RequestResource as XML (``?answers=true`` the CommitResource); an unknown
        id is 404; without signing in, 401."""
        request_id, _ = answered_request(city)
        with running_server(create_app(settings, muster=city)) as url:
            anonymous = WebClient(url)
            person = WebClient(url)
            try:
                signed = person.sign_in("emb.duty", "muster-demo")
                path = f"/api/v1/resource-requests/{request_id}/edxl-rm"
                request_xml = person.get(path)
                answers_xml = person.get(path, params={"answers": "true"})
                unknown = person.get("/api/v1/resource-requests/RQ-nope/edxl-rm")
                refused = anonymous.get(path)
            finally:
                person.close()
                anonymous.close()

        assert signed.status_code == 303, signed.text
        assert request_xml.status_code == 200, request_xml.text
        assert request_xml.headers["content-type"].startswith("application/xml")
        assert parse_edxl_rm(request_xml.content).message_type == "RequestResource"
        answers = parse_edxl_rm(answers_xml.content)
        assert [i.response_type for i in answers.items] == ["Accept", "Decline"]
        assert unknown.status_code == 404
        assert refused.status_code == 401
