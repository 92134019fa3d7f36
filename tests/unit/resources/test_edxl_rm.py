"""EDXL-RM export and the pure parts of the import: what a RequestResource and a
CommitResource carry, ids derived from message ids, and what ``read_extras`` reads
that the ingest parser leaves out (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import muster
from muster.ingest.formats.edxl_rm import parse_edxl_rm
from muster.resources.domain.requests import (
    REQUEST_ID,
    Commitment,
    Decline,
    RequestStatus,
    ResourceRequest,
)
from muster.resources.edxl_rm import (
    DEPARTMENT,
    MIN_CAPABILITY,
    PRIORITY,
    TO_DEPARTMENT,
    TYPE_LIST,
    export_answers,
    export_request,
    record_id,
)
from muster.resources.edxl_rm_mapping import read_extras
from muster.resources.request_queries import CommitmentView, RequestView

CORPUS = (
    Path(muster.__file__).resolve().parents[3] / "shared" / "corpus" / "edxl" / "rm"
)
SENT = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


def view(**changes: object) -> RequestView:
    """Return a stored request (EMB asks for 2 tier-II rescue teams)."""
    fields: dict[str, object] = {
        "id": "RQ-0123456789ab",
        "incident_id": "inc-1",
        "requested_by": "EMB",
        "type_code": "RESCUE_TEAM",
        "quantity": 2,
        "latitude": 28.21,
        "longitude": 112.91,
        "priority": 3,
        "location_name": "滨江路下穿隧道",
        "max_tier": "II",
        "needed_by": (SENT + timedelta(hours=1)).isoformat(),
        "note": "带冲锋舟",
        **changes,
    }
    return RequestView(
        request=ResourceRequest(**fields),  # type: ignore[arg-type]
        status=RequestStatus.OPEN,
        committed_units=0,
        requested_at=SENT.isoformat(),
        cancel_reason="",
        external_ref="",
    )


def commitment(**changes: object) -> CommitmentView:
    """Return a commitment of one FIRE rescue team to the request."""
    fields: dict[str, object] = {
        "id": "CM-aaaabbbbcccc",
        "request_id": "RQ-0123456789ab",
        "resource_id": "FIRE-RT-II-01",
        "department": "FIRE",
        "units": 1,
        "eta": (SENT + timedelta(minutes=40)).isoformat(),
        "note": "从东湖站出发",
        **changes,
    }
    return CommitmentView(
        commitment=Commitment(**fields),  # type: ignore[arg-type]
        incident_id="inc-1",
        proposal_id=None,
        external_ref="",
        committed_at=SENT.isoformat(),
        status_changed_at=SENT.isoformat(),
    )


class TestExportRequest:
    def test_given_a_request_when_exported_then_the_rm_parser_reads_every_field(
        self,
    ) -> None:
        """The RequestResource names the request, incident, requester, our type and
        tier, quantity, needed-by time and place (description and gml:pos)."""
        data = export_request(view(), sent=SENT, type_name="Rescue team")

        message = parse_edxl_rm(data)
        (item,) = message.items
        (arrival,) = item.schedules
        assert message.message_type == "RequestResource"
        assert message.message_id == "urn:muster:request:RQ-0123456789ab"
        assert message.sent == SENT
        assert message.incident_ids == ("inc-1",)
        assert [(c.description, c.role) for c in message.contacts] == [
            ("EMB", "Requester")
        ]
        assert item.element_id == "RQ-0123456789ab"
        assert item.type_list == (TYPE_LIST, "RESCUE_TEAM")
        assert dict(item.type_info) == {
            "Resource": "Rescue team",
            "MinimumCapabilities": "Type II",
        }
        assert dict(item.keywords) == {PRIORITY: "3"}
        assert item.quantity == "2"
        assert arrival.schedule_type == "RequestedArrival"
        assert arrival.when == SENT + timedelta(hours=1)
        assert arrival.location == "滨江路下穿隧道"
        extras = read_extras(data)["RQ-0123456789ab"]
        assert extras.points == {"RequestedArrival": (28.21, 112.91)}
        assert extras.requirements == "带冲锋舟"

    def test_given_optional_fields_when_exported_then_they_ride_in_muster_keywords(
        self,
    ) -> None:
        """Minimum capability and the addressed department are urn:muster
        keywords; a request with no time, tier or place name leaves them out."""
        data = export_request(
            view(
                min_capability=500.0,
                to_department="WATER",
                max_tier=None,
                needed_by=None,
                location_name="",
                note="",
            ),
            sent=SENT,
        )

        (item,) = parse_edxl_rm(data).items
        assert dict(item.keywords) == {
            PRIORITY: "3",
            MIN_CAPABILITY: "500.0",
            TO_DEPARTMENT: "WATER",
        }
        assert item.type_info == ()
        assert item.schedules[0].when_text is None
        assert item.schedules[0].location is None
        assert read_extras(data)["RQ-0123456789ab"].requirements is None

    @settings(deadline=None, max_examples=60)
    @given(
        quantity=st.integers(1, 1_000_000),
        latitude=st.floats(-90, 90, allow_nan=False),
        longitude=st.floats(-180, 180, allow_nan=False),
        note=st.text(st.characters(codec="utf-8"), max_size=40).map(str.strip)
        | st.just("行一\r\n\x0b行二\r"),
        place=st.text(st.characters(codec="utf-8"), max_size=40).map(str.strip),
    )
    def test_given_any_request_when_exported_then_numbers_and_text_come_back(
        self, quantity: int, latitude: float, longitude: float, note: str, place: str
    ) -> None:
        """Quantities and coordinates come back exactly; text comes back as written
        minus characters XML 1.0 cannot carry (control characters) and ends'
        whitespace."""
        data = export_request(
            view(
                quantity=quantity,
                latitude=latitude,
                longitude=longitude,
                note=note,
                location_name=place,
            ),
            sent=SENT,
        )

        (item,) = parse_edxl_rm(data).items
        extras = read_extras(data)["RQ-0123456789ab"]
        assert item.quantity == str(quantity)
        assert extras.points["RequestedArrival"] == (latitude, longitude)
        assert (extras.requirements or "") == _xml_text(note)
        assert (item.schedules[0].location or "") == _xml_text(place)


def _xml_text(text: str) -> str:
    """Return text as XML 1.0 carries it and a reader strips it."""
    kept = "".join(
        c
        for c in text
        if c in "\t\n\r"
        or "\x20" <= c <= "\ud7ff"
        or "\ue000" <= c <= "\ufffd"
        or c >= "\U00010000"
    )
    return kept.strip()  # a carriage return is written as &#13; and comes back


class TestExportAnswers:
    def test_given_a_commitment_and_a_decline_when_exported_then_accept_and_decline(
        self,
    ) -> None:
        """One CommitResource answers our request: an Accept naming our resource,
        units and ETA (the note as ResponseReason), a Decline with the reason and
        the declining department."""
        data = export_answers(
            view(),
            commitments=[commitment()],
            declines=[Decline("RQ-0123456789ab", "REDCROSS", "队伍已全部出动")],
            sent=SENT,
            resource_names={"FIRE-RT-II-01": "东湖站综合救援队"},
        )

        message = parse_edxl_rm(data)
        accept, decline = message.items
        extras = read_extras(data)
        assert message.message_type == "CommitResource"
        assert message.message_id == "urn:muster:answers:RQ-0123456789ab"
        assert message.originating_message_id == "urn:muster:request:RQ-0123456789ab"
        assert message.preceding_message_id == message.originating_message_id
        assert [c.description for c in message.contacts] == ["FIRE", "REDCROSS"]
        assert (accept.element_id, accept.response_type) == (
            "CM-aaaabbbbcccc",
            "Accept",
        )
        assert accept.preceding_element_id == "RQ-0123456789ab"
        assert (accept.resource_id, accept.name) == (
            "FIRE-RT-II-01",
            "东湖站综合救援队",
        )
        assert accept.quantity == "1"
        assert accept.schedules[0].schedule_type == "EstimatedArrival"
        assert accept.schedules[0].when == SENT + timedelta(minutes=40)
        assert extras["CM-aaaabbbbcccc"].reason == "从东湖站出发"
        assert decline.response_type == "Decline"
        assert dict(decline.keywords) == {DEPARTMENT: "REDCROSS"}
        assert extras[decline.element_id or ""].reason == "队伍已全部出动"

    def test_given_an_imported_request_when_answered_then_their_ids_are_answered(
        self,
    ) -> None:
        """A commitment to a request that came by EDXL-RM answers the sender's
        message and element (from the request's external_ref)."""
        imported = RequestView(
            request=view().request,
            status=RequestStatus.OPEN,
            committed_units=0,
            requested_at=SENT.isoformat(),
            cancel_reason="",
            external_ref="RequestResource.1#ResourceInfoElementID.1",
        )

        data = export_answers(
            imported, commitments=[commitment()], declines=[], sent=SENT
        )

        message = parse_edxl_rm(data)
        assert message.message_id == "urn:muster:commitment:CM-aaaabbbbcccc"
        assert message.originating_message_id == "RequestResource.1"
        assert message.items[0].preceding_element_id == "ResourceInfoElementID.1"


class TestRecordId:
    def test_given_a_muster_message_when_derived_then_the_element_id_is_ours(
        self,
    ) -> None:
        """A Muster message's element ids are our request and commitment ids."""
        assert record_id("RQ", "urn:muster:request:RQ-1", "RQ-1") == "RQ-1"

    @settings(deadline=None)
    @given(message_id=st.text(min_size=1), element_id=st.text(min_size=1))
    def test_given_any_foreign_ids_when_derived_then_stable_valid_and_distinct(
        self, message_id: str, element_id: str
    ) -> None:
        """Another sender's ids always give the same valid id, which differs from
        the one of another element of the same message."""
        foreign = "x" + message_id

        derived = record_id("RQ", foreign, element_id)

        assert derived == record_id("RQ", foreign, element_id)
        assert REQUEST_ID.match(derived)
        assert derived.startswith("RQ-")
        assert derived != record_id("RQ", foreign, element_id + "2")


class TestReadExtras:
    def test_given_the_corpus_when_read_then_no_points_reasons_or_requirements(
        self,
    ) -> None:
        """The UICDS samples give places by description and address only, and no
        ResponseReason: every element reads empty."""
        samples = sorted(CORPUS.glob("*.xml"))

        extras = [read_extras(path.read_bytes()) for path in samples]

        assert len(samples) == 5
        assert all(
            not item.points and item.reason is None and item.requirements is None
            for found in extras
            for item in found.values()
        )

    @pytest.mark.parametrize(
        ("position", "expected"),
        [("28.2 112.9", (28.2, 112.9)), ("95 10", None), ("28.2", None), ("a b", None)],
    )
    def test_given_a_target_area_position_when_read_then_lat_lon_or_unreadable(
        self, position: str, expected: tuple[float, float] | None
    ) -> None:
        """A gml:pos is "lat lon" on the globe; anything else reads as present but
        unreadable (None), which the import refuses."""
        data = export_request(view(), sent=SENT).replace(
            b"28.21 112.91", position.encode()
        )

        extras = read_extras(data)["RQ-0123456789ab"]

        assert extras.points == {"RequestedArrival": expected}
