"""Ingest through the bus on the database under test: files, alerts, quality."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import muster
from muster.bootstrap import Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.clock import SimulatedClock
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.eventlog.audit import verify_log
from muster.core.eventlog.tables import events
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest import queries
from muster.ingest.domain.commands import (
    DiscardRecord,
    EvaluateQuality,
    IngestCap,
    IngestFile,
    ResubmitRecord,
)
from muster.settings import Settings
from tests import factories

CORPUS = Path(muster.__file__).resolve().parents[3] / "shared" / "corpus"
ROADS_HEADER = "路段编号,道路名称,通行状态,开始时间"


def _roads_dataset(muster_app: Muster) -> None:
    metadata = DatasetMetadata(
        code="TRANSPORT_ROADS",
        name_zh="道路通行状况",
        name_en="Road status",
        owner_department="TRANSPORT",
        sharing_class="UNCONDITIONAL",
        data_grade="GENERAL",
        update_interval_minutes=15,
        format="csv",
        connector="file_drop",
        csv_mapping=(
            ("路段编号", "segment_id"),
            ("道路名称", "road_name"),
            ("通行状态", "status"),
            ("开始时间", "starts_at"),
        ),
    )
    fields = (
        DatasetField(name="segment_id", type="string", required=True),
        DatasetField(name="road_name", type="string", required=True),
        DatasetField(
            name="status", type="enum", required=True, choices=("畅通", "封闭")
        ),
        DatasetField(name="starts_at", type="datetime"),
    )
    muster_app.bus.handle(
        RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR
    )


def _gauges_dataset(muster_app: Muster) -> None:
    metadata = DatasetMetadata(
        code="MET_GAUGES",
        name_zh="雨量站",
        name_en="Rain gauges",
        owner_department="MET",
        sharing_class="UNCONDITIONAL",
        data_grade="GENERAL",
        update_interval_minutes=5,
        format="observations",
        connector="api_push",
    )
    fields = (
        DatasetField(name="station_id", type="string", required=True),
        DatasetField(name="metric", type="string"),
        DatasetField(name="value", type="number", unit="mm", required=True, minimum=0),
        DatasetField(name="observed_at", type="datetime", required=True),
        DatasetField(name="location", type="point"),
    )
    muster_app.bus.handle(
        RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR
    )


@pytest.fixture
def hub(muster: Muster) -> Muster:
    """Return a deployment with TRANSPORT and MET departments and two datasets."""
    for code in ("TRANSPORT", "MET", "FIRE"):
        factories.department(muster, code)
    _roads_dataset(muster)
    _gauges_dataset(muster)
    return muster


def _roads_csv(*rows: str) -> bytes:
    return ("\r\n".join([ROADS_HEADER, *rows]) + "\r\n").encode("gbk")


def _event_types(muster_app: Muster) -> list[str]:
    with muster_app.engine.connect() as conn:
        return [
            row[0] for row in conn.execute(select(events.c.type).order_by(events.c.seq))
        ]


class TestIngestFile:
    def test_good_rows_are_stored_and_bad_rows_quarantined(self, hub: Muster) -> None:
        """A GBK CSV: valid rows become records, invalid rows wait with reasons."""
        data = _roads_csv(
            "S203-K12,S203省道,封闭,2026-07-01 08:00",
            "S311-K4,S311省道,半封闭,2026-07-01 10:00",
        )

        outcome = hub.bus.handle(
            IngestFile(dataset_code="TRANSPORT_ROADS", source="test", data=data),
            SYSTEM_ACTOR,
        )

        assert (outcome.status, outcome.accepted, outcome.quarantined) == (
            "accepted",
            1,
            1,
        )
        with hub.engine.connect() as conn:
            stored = queries.list_records(conn, "TRANSPORT_ROADS")
            waiting = queries.list_quarantine(conn, dataset_code="TRANSPORT_ROADS")
        assert stored[0].values["road_name"] == "S203省道"
        assert stored[0].values["starts_at"] == "2026-07-01T00:00:00.000000Z"
        assert [reason["rule"] for reason in waiting[0].reasons] == ["choice"]
        assert waiting[0].line == 3
        assert "ingest.BatchIngested" in _event_types(hub)

    def test_the_same_file_again_is_a_duplicate(self, hub: Muster) -> None:
        """Re-delivering identical bytes is recorded, not stored twice."""
        data = _roads_csv("S203-K12,S203省道,封闭,2026-07-01 08:00")
        command = IngestFile(dataset_code="TRANSPORT_ROADS", source="test", data=data)
        hub.bus.handle(command, SYSTEM_ACTOR)

        again = hub.bus.handle(command, SYSTEM_ACTOR)

        assert again.status == "duplicate"
        with hub.engine.connect() as conn:
            assert len(queries.list_records(conn, "TRANSPORT_ROADS")) == 1
        assert _event_types(hub).count("ingest.DuplicateReceived") == 1

    def test_unreadable_file_is_quarantined_whole(self, hub: Muster) -> None:
        """Binary garbage is rejected with a reason and kept in quarantine."""
        data = bytes(range(256)) * 4

        outcome = hub.bus.handle(
            IngestFile(dataset_code="TRANSPORT_ROADS", source="test", data=data),
            SYSTEM_ACTOR,
        )

        assert outcome.status == "rejected"
        with hub.engine.connect() as conn:
            item = queries.get_quarantine_item(conn, str(outcome.quarantine_id))
        assert item is not None
        assert item.is_document
        assert "ingest.DocumentRejected" in _event_types(hub)

    def test_other_departments_may_not_submit(self, hub: Muster) -> None:
        """Only the owning department's stewards submit to a dataset."""
        fire = factories.user(
            hub, "fire.duty", department_code="FIRE", roles=("duty_officer",)
        )

        with pytest.raises(PermissionDenied):
            hub.bus.handle(
                IngestFile(
                    dataset_code="TRANSPORT_ROADS", source="t", data=_roads_csv()
                ),
                fire,
            )

        assert "identity.AccessRefused" in _event_types(hub)

    def test_observations_are_stored_with_one_event_per_batch(
        self, hub: Muster
    ) -> None:
        """An observation batch is one event with the count and digest."""
        rows = [
            {"station_id": f"5768{index}", "metric": "rain_1h", "value": 10 + index,
             "observed_at": "2026-07-01T08:00:00Z", "location": "28.2,112.9"}
            for index in range(5)
        ]  # fmt: skip

        outcome = hub.bus.handle(
            IngestFile(
                dataset_code="MET_GAUGES", source="push", data=json.dumps(rows).encode()
            ),
            SYSTEM_ACTOR,
        )

        assert (outcome.accepted, outcome.quarantined) == (5, 0)
        with hub.engine.connect() as conn:
            stored = queries.list_observations(conn, "MET_GAUGES")
        assert {row["unit"] for row in stored} == {"mm"}
        assert _event_types(hub).count("ingest.ObservationsIngested") == 1


class TestQuarantine:
    def _one_bad_row(self, hub: Muster) -> str:
        hub.bus.handle(
            IngestFile(
                dataset_code="TRANSPORT_ROADS",
                source="test",
                data=_roads_csv("S311-K4,S311省道,半封闭,"),
            ),
            SYSTEM_ACTOR,
        )
        with hub.engine.connect() as conn:
            return queries.list_quarantine(conn)[0].id

    def test_fixed_record_is_stored(self, hub: Muster) -> None:
        """A steward corrects the value; the record joins the dataset."""
        item_id = self._one_bad_row(hub)
        fixed = {"segment_id": "S311-K4", "road_name": "S311省道", "status": "封闭"}

        outcome = hub.bus.handle(
            ResubmitRecord(quarantine_id=item_id, values=fixed), SYSTEM_ACTOR
        )

        assert outcome.status == "accepted"
        with hub.engine.connect() as conn:
            assert queries.get_quarantine_item(conn, item_id).status == "accepted"  # type: ignore[union-attr]
            assert [
                r.values["status"]
                for r in queries.list_records(conn, "TRANSPORT_ROADS")
            ] == ["封闭"]
        assert "ingest.RecordResubmitted" in _event_types(hub)

    def test_still_wrong_record_stays_with_new_reasons(self, hub: Muster) -> None:
        """A resubmission that still fails keeps the attempt and its reasons."""
        item_id = self._one_bad_row(hub)
        still_wrong = {"segment_id": "S311-K4", "road_name": "", "status": "封闭"}

        outcome = hub.bus.handle(
            ResubmitRecord(quarantine_id=item_id, values=still_wrong), SYSTEM_ACTOR
        )

        assert outcome.status == "rejected"
        with hub.engine.connect() as conn:
            item = queries.get_quarantine_item(conn, item_id)
        assert item is not None
        assert item.status == "open"
        assert [reason["field"] for reason in item.reasons] == ["road_name"]

    def test_discard_needs_a_reason_and_is_logged(self, hub: Muster) -> None:
        """Discarding without a reason is refused; with one it is an event."""
        item_id = self._one_bad_row(hub)
        with pytest.raises(ValidationFailed):
            hub.bus.handle(
                DiscardRecord(quarantine_id=item_id, reason=" "), SYSTEM_ACTOR
            )

        hub.bus.handle(
            DiscardRecord(quarantine_id=item_id, reason="test row"), SYSTEM_ACTOR
        )

        with hub.engine.connect() as conn:
            assert queries.get_quarantine_item(conn, item_id).status == "discarded"  # type: ignore[union-attr]
        assert "ingest.RecordDiscarded" in _event_types(hub)


class TestCapIntake:
    def test_corpus_alerts_are_stored_and_updates_linked(self, hub: Muster) -> None:
        """Valid corpus alerts are accepted; a repeat is a duplicate."""
        path = CORPUS / "cap" / "valid" / "spec_a3_trinet_earthquake_update.xml"
        command = IngestCap(source="test", data=path.read_bytes())

        first = hub.bus.handle(command, SYSTEM_ACTOR)
        second = hub.bus.handle(command, SYSTEM_ACTOR)

        assert (first.status, first.msg_type, first.infos) == ("accepted", "Update", 1)
        assert second.status == "duplicate"
        with hub.engine.connect() as conn:
            assert queries.alert_references(conn, str(first.alert_key))

    def test_hostile_document_is_refused_and_kept(self, hub: Muster) -> None:
        """An XXE document is refused with its reason, and the log stays valid."""
        path = CORPUS / "cap" / "invalid" / "xxe_xinclude_attack.xml"

        outcome = hub.bus.handle(
            IngestCap(source="test", data=path.read_bytes()), SYSTEM_ACTOR
        )

        assert outcome.status == "rejected"
        assert outcome.error is not None
        assert outcome.error.startswith("refused_")
        key = hub.require_signing_key()
        assert verify_log(hub.engine, public_keys={key.key_id: key.public_key}).ok


class TestEdxlIntake:
    def test_envelope_routes_each_cap_payload(self, hub: Muster) -> None:
        """An EDXL-DE 1.0 envelope: each CAP alert stored, the envelope logged."""
        path = CORPUS / "edxl" / "de-1.0" / "au_nsw_rfs_bushfire_edxlde_cap12.xml"

        outcome = hub.bus.handle(
            IngestCap(source="t", data=path.read_bytes()), SYSTEM_ACTOR
        )

        assert outcome.status == "accepted"
        assert [item.status for item in outcome.contents] == ["accepted"] * 7
        with hub.engine.connect() as conn:
            assert len(queries.list_cap_alerts(conn)) == 7
        assert _event_types(hub).count("ingest.DistributionReceived") == 1

    def test_unsupported_payload_is_quarantined_not_lost(self, hub: Muster) -> None:
        """A CAP 1.1 payload inside an envelope waits in quarantine with its reason."""
        path = CORPUS / "edxl" / "de-1.0" / "opencare_edxlde_cap11.xml"

        outcome = hub.bus.handle(
            IngestCap(source="t", data=path.read_bytes()), SYSTEM_ACTOR
        )

        assert outcome.contents[0].status == "rejected"
        with hub.engine.connect() as conn:
            waiting = queries.list_quarantine(conn)
        assert waiting[0].reasons[0]["rule"] == "unsupported_version"

    def test_resource_message_is_stored_once(self, hub: Muster) -> None:
        """An EDXL-RM CommitResource is stored; the same bytes again are a duplicate."""
        data = (CORPUS / "edxl" / "rm" / "uicds_CommitResource.1.xml").read_bytes()

        first = hub.bus.handle(IngestCap(source="t", data=data), SYSTEM_ACTOR)
        second = hub.bus.handle(IngestCap(source="t", data=data), SYSTEM_ACTOR)

        assert (first.status, first.infos, second.status) == (
            "accepted",
            2,
            "duplicate",
        )
        assert _event_types(hub).count("ingest.ResourceMessageReceived") == 1


def _statuses(hub: Muster) -> dict[str, str]:
    measures = hub.bus.handle(EvaluateQuality(), SYSTEM_ACTOR)
    return {m.measure: m.status for m in measures if m.dataset_code == "MET_GAUGES"}


class TestQuality:
    def test_freshness_moves_and_changes_are_logged_once(
        self, settings: Settings
    ) -> None:
        """On time after a batch, late after the SLA; one event per change."""
        clock = SimulatedClock(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
        hub = bootstrap(settings, clock=clock)
        for code in ("TRANSPORT", "MET"):
            factories.department(hub, code)
        _gauges_dataset(hub)
        rows = [{"station_id": "1", "value": 3, "observed_at": "2026-07-01T08:00:00Z"}]
        hub.bus.handle(
            IngestFile(
                dataset_code="MET_GAUGES", source="p", data=json.dumps(rows).encode()
            ),
            SYSTEM_ACTOR,
        )

        on_time = _statuses(hub)
        after_first = _event_types(hub).count("ingest.QualityChanged")
        _statuses(hub)
        after_repeat = _event_types(hub).count("ingest.QualityChanged")
        clock.advance(timedelta(minutes=8))
        late = _statuses(hub)

        assert (on_time["freshness"], late["freshness"]) == ("on_time", "late")
        assert on_time["validity"] == "good"
        assert after_first == len(on_time)  # every measure's first status is logged
        assert after_repeat == after_first  # nothing changed, nothing logged
        hub.engine.dispose()


def test_steward_actor_of_owning_department_may_submit(hub: Muster) -> None:
    """A MET duty officer submits to MET's dataset."""
    met = factories.user(
        hub, "met.duty", department_code="MET", roles=("duty_officer",)
    )
    assert isinstance(met, Actor)
    rows = [{"station_id": "1", "value": 1, "observed_at": "2026-07-01T08:00:00Z"}]

    outcome = hub.bus.handle(
        IngestFile(
            dataset_code="MET_GAUGES", source="p", data=json.dumps(rows).encode()
        ),
        met,
    )

    assert outcome.status == "accepted"
