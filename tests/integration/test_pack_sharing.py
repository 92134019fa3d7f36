"""Sharing agreements in deployment packs (sharing.yaml) and demo records (data/)."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from muster.bootstrap import Muster
from muster.cli_demo import load_demo_data
from muster.core.errors import PackInvalid
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.ingest import queries as ingest
from muster.pack import check_pack, read_pack
from muster.pack.api import SCHEMAS
from muster.pack.loader import load_pack
from muster.response.domain import commands as response
from muster.sharing import queries as sharing
from muster.sharing.domain import agreements as rules
from muster.sharing.domain.commands import ReadShared, ReconcileGrants
from tests.prepared import Prepared, example, example_pack

EXAMPLE = Path(__file__).parents[2] / "src" / "muster" / "examples" / "lanjiang"
SHARING = "sharing.yaml"
AGREEMENT_CODES = {
    "PSB_VR_COUNTS", "PSB_VR_EVACUATION", "HEALTH_BEDS_RESPONSE",
    "WATER_RESERVOIRS_FLOOD", "EMB_POPULATION_GRID_EVACUATION", "HOTLINE_REPORTS_EMB",
    "POWER_SUBSTATIONS_COMMAND", "POWER_SUBSTATIONS_INCIDENT",
    "LJ_GOV_DUTY_ROSTER_COORDINATION",
}  # fmt: skip
RESIDENTS = "PSB_VULNERABLE_RESIDENTS"
# A NOT_SHARED dataset's records for FIRE, without the EMERGENCY legal basis.
RECORDS_WITHOUT_EMERGENCY = """\
agreements:
  - code: PSB_VR_COUNTS
    dataset: PSB_VULNERABLE_RESIDENTS
    consumers: ["*"]
    mode: aggregate
    aggregate_by: community
    purposes: [planning]
  - code: PSB_VR_FOR_FIRE
    dataset: PSB_VULNERABLE_RESIDENTS
    consumers: [FIRE]
    fields: [resident_id, name, community]
    purposes: [evacuation]
    legal_basis: STATUTORY_DUTY
"""
UNKNOWN_FIELD = """\
agreements:
  - code: HEALTH_BEDS_RESPONSE
    dataset: HEALTH_HOSPITAL_BEDS
    consumers: [EMB]
    purposes: [response]
    fields:
      - hospital_id
      - ward_phone
"""


def copy_example(tmp_path: Path, *, sharing_yaml: str | None = None) -> Path:
    """Copy the example pack, optionally with another sharing.yaml; return it."""
    pack = tmp_path / "pack"
    shutil.copytree(EXAMPLE, pack)
    if sharing_yaml is not None:
        (pack / SHARING).write_text(sharing_yaml, encoding="utf-8")
    return pack


LOADED = example_pack()
WITH_DEMO = example_pack(demo_data=True)


@pytest.fixture
def prepared(request: pytest.FixtureRequest) -> Prepared | None:
    """Tests that use ``lanjiang`` start with the example pack loaded, those that use
    ``lanjiang_demo`` with its demo records too (copies of each loaded once:
    tests/prepared.py); the others from an empty database."""
    if "lanjiang_demo" in request.fixturenames:
        return WITH_DEMO
    return LOADED if "lanjiang" in request.fixturenames else None


@pytest.fixture
def lanjiang(muster: Muster) -> Muster:
    """Return the test deployment with the example pack loaded."""
    return muster


@pytest.fixture
def lanjiang_demo(muster: Muster) -> Muster:
    """Return the test deployment with the example pack and its demo records."""
    return muster


def head(muster: Muster) -> int:
    """Return the seq of the newest event."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line of the first line of ``text`` containing ``needle``."""
    lines = enumerate(text.splitlines(), start=1)
    return next(number for number, line in lines if needle in line)


class TestExamplePackAgreements:
    """The Lanjiang pack's sharing.yaml, loaded by load_pack."""

    def test_given_the_example_pack_when_loaded_then_every_agreement_is_created(
        self, muster: Muster
    ) -> None:
        """Given Lanjiang, when it is loaded, then its 9 agreements are registered
        after the datasets, each with its dataset's owner as provider."""
        summary = load_pack(muster, read_pack(EXAMPLE))

        assert summary.agreements.to_json() == {
            "created": 9, "updated": 0, "unchanged": 0
        }  # fmt: skip
        kinds = list(summary.kinds())
        assert kinds.index("agreements") > kinds.index("datasets")
        with muster.engine.connect() as conn:
            loaded = {row["code"]: row for row in sharing.list_agreements(conn)}
        assert set(loaded) == AGREEMENT_CODES
        evacuation = loaded["PSB_VR_EVACUATION"]
        assert evacuation["provider"] == "PSB"
        assert evacuation["data"]["consumers"] == ["FIRE", "EMB"]
        assert evacuation["data"]["fields"] == [
            "resident_id", "name", "mobility", "contact_phone", "community", "location"
        ]  # fmt: skip
        assert "第十三条第一款第四项" in evacuation["data"]["legal_text"]
        assert evacuation["data"]["legal_basis"] == "EMERGENCY"
        assert evacuation["data"]["tlp"] == "AMBER+STRICT"
        assert evacuation["data"]["masks"] == {
            "resident_id": "none", "name": "name", "mobility": "none",
            "contact_phone": "none", "community": "none", "location": "none",
        }  # fmt: skip
        assert evacuation["data"]["conditions"]["incident"] == {
            "categories": ["11A", "11B"], "min_level": "L2", "within_km": 10.0
        }  # fmt: skip
        assert loaded["PSB_VR_COUNTS"]["data"]["mode"] == "aggregate"

    def test_given_a_loaded_pack_when_loaded_again_then_agreements_are_unchanged(
        self, lanjiang: Muster
    ) -> None:
        """Given Lanjiang loaded, when it is loaded again, then every agreement is
        unchanged and the log does not move."""
        before = head(lanjiang)

        summary = load_pack(lanjiang, example())

        assert summary.agreements.to_json() == {
            "created": 0, "updated": 0, "unchanged": 9
        }  # fmt: skip
        assert summary.is_unchanged
        assert head(lanjiang) == before

    def test_given_a_changed_agreement_when_reloaded_then_it_is_updated(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Given Lanjiang loaded, when one agreement gains a purpose, then the reload
        counts it updated and the others unchanged."""
        path = copy_example(tmp_path)
        load_pack(muster, read_pack(path))
        text = (path / SHARING).read_text(encoding="utf-8")
        changed = text.replace(
            "purposes: [response, planning]", "purposes: [response, planning, drill]"
        )
        (path / SHARING).write_text(changed, encoding="utf-8")

        summary = load_pack(muster, read_pack(path))

        assert summary.agreements.updated == 1
        assert summary.agreements.unchanged == 8


class TestBadAgreements:
    """Agreements the schema or the sharing rules refuse block the whole load."""

    def test_given_an_unknown_field_when_loading_then_its_line_is_reported(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Given an agreement sharing a field its dataset lacks, when the pack is
        loaded, then sharing.yaml:line names the agreement and nothing is written."""
        pack = read_pack(copy_example(tmp_path, sharing_yaml=UNKNOWN_FIELD))

        with pytest.raises(PackInvalid) as refused:
            load_pack(muster, pack)

        [problem] = refused.value.problems
        assert problem.file == SHARING
        assert problem.line == line_of(UNKNOWN_FIELD, "fields:")
        assert "ward_phone" in problem.message
        assert "HEALTH_BEDS_RESPONSE" in problem.message
        assert head(muster) == 0

    def test_given_not_shared_records_without_emergency_then_refused_at_its_line(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Given records of a NOT_SHARED dataset under STATUTORY_DUTY, when the pack
        is loaded, then the refusal points at that agreement and no department,
        dataset or agreement is registered."""
        path = copy_example(tmp_path, sharing_yaml=RECORDS_WITHOUT_EMERGENCY)

        with pytest.raises(PackInvalid) as refused:
            load_pack(muster, read_pack(path))

        [problem] = refused.value.problems
        assert problem.file == SHARING
        assert problem.line == line_of(
            RECORDS_WITHOUT_EMERGENCY, "code: PSB_VR_FOR_FIRE"
        )
        assert "EMERGENCY" in problem.message
        assert "PSB_VR_FOR_FIRE" in problem.message
        assert str(problem).startswith(f"{SHARING}:{problem.line}: ")
        with muster.engine.connect() as conn:
            assert identity.list_departments(conn) == []
            assert sharing.list_agreements(conn) == []
        assert head(muster) == 0

    def test_given_an_unknown_key_when_checking_then_the_schema_names_its_line(
        self, tmp_path: Path
    ) -> None:
        """Given an agreement with a key the schema lacks, when the pack is checked,
        then sharing.yaml:line names the key and lists the allowed ones."""
        text = """\
agreements:
  - code: WATER_RESERVOIRS_FLOOD
    dataset: WATER_RESERVOIRS
    consumers: [EMB]
    purposes: [flood_control]
    audience: public
"""
        checked = check_pack(copy_example(tmp_path, sharing_yaml=text))

        [problem] = checked.problems
        assert checked.pack is None
        assert (problem.file, problem.line) == (SHARING, line_of(text, "audience"))
        assert "unknown field" in problem.message
        assert "legal_basis" in problem.message

    def test_given_an_unknown_dataset_and_a_repeated_code_then_each_line_is_named(
        self, tmp_path: Path
    ) -> None:
        """Given an agreement on a dataset datasets.yaml lacks and a repeated code,
        when the pack is checked, then both are reported at their lines."""
        text = """\
agreements:
  - code: WATER_RESERVOIRS_FLOOD
    dataset: WATER_RESERVOIRS
    consumers: [EMB]
    purposes: [flood_control]
  - code: WATER_RESERVOIRS_FLOOD
    dataset: WATER_DAMS
    consumers: [EMB]
    purposes: [flood_control]
"""
        checked = check_pack(copy_example(tmp_path, sharing_yaml=text))

        found = {(p.line, p.message) for p in checked.problems if p.file == SHARING}
        assert found == {
            (6, "agreements[1].code: duplicate code 'WATER_RESERVOIRS_FLOOD' "
                "(first on line 2)"),
            (7, "agreements[1].dataset: unknown dataset 'WATER_DAMS' "
                "(not in datasets.yaml)"),
        }  # fmt: skip


class TestDemoData:
    """data/<DATASET>.json files, loaded after the pack by `muster demo`."""

    def test_given_the_loaded_pack_when_demo_data_loads_then_records_are_stored(
        self, lanjiang: Muster
    ) -> None:
        """Given Lanjiang loaded, when its demo data is loaded, then the 40 fictional
        residents pass the dataset's validation and are stored."""
        lines = load_demo_data(lanjiang, example())

        assert lines[0] == (
            f"Demo data data/{RESIDENTS}.json: 40 records loaded, 0 quarantined"
        )
        with lanjiang.engine.connect() as conn:
            assert ingest.count_stored(conn, RESIDENTS) == 40
            communities = {r.values["community"] for r in ingest.list_records(
                conn, RESIDENTS
            )}  # fmt: skip
        assert {"青山社区", "滨江社区", "东湖社区"} <= communities

    def test_given_demo_data_loaded_when_loaded_again_then_nothing_is_added(
        self, lanjiang_demo: Muster
    ) -> None:
        """Given the demo data loaded, when it is loaded again, then ingest knows the
        file by its digest and stores no record twice."""
        lines = load_demo_data(lanjiang_demo, example())

        assert lines[0] == f"Demo data data/{RESIDENTS}.json: already loaded"
        assert all(line.endswith(": already loaded") for line in lines)
        with lanjiang_demo.engine.connect() as conn:
            assert ingest.count_stored(conn, RESIDENTS) == 40

    def test_given_a_data_file_without_dataset_then_nothing_is_sent(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Given data/NO_SUCH_DATASET.json, when demo data is loaded, then it is a
        pack problem naming the file and no record of any file is stored."""
        path = copy_example(tmp_path)
        (path / "data" / "NO_SUCH_DATASET.json").write_text("[]", encoding="utf-8")
        pack = read_pack(path)
        load_pack(muster, pack)

        with pytest.raises(PackInvalid) as refused:
            load_demo_data(muster, pack)

        [problem] = refused.value.problems
        assert problem.file == "data/NO_SUCH_DATASET.json"
        assert "no dataset NO_SUCH_DATASET" in problem.message
        with muster.engine.connect() as conn:
            assert ingest.count_stored(conn, RESIDENTS) == 0

    def test_given_pack_and_data_when_fire_reads_residents_then_counts_only(
        self, lanjiang_demo: Muster
    ) -> None:
        """Given Lanjiang and its demo data, when FIRE reads the vulnerable residents
        outside any incident, then it gets counts per community (PSB_VR_COUNTS)."""
        read = lanjiang_demo.bus.handle(
            ReadShared(dataset=RESIDENTS, purpose="evacuation"),
            actor_of(lanjiang_demo, "fire.duty"),
        )

        assert read.decision == "aggregate"
        assert not read.records
        assert sum(count for _, count in read.aggregates) == 40
        assert dict(read.aggregates)["滨江社区"] >= 5

    def test_given_a_level_two_flood_near_the_cluster_then_fire_reads_masked_records(
        self, lanjiang_demo: Muster
    ) -> None:
        """Given Lanjiang, its demo data and a flood (11A01) near 滨江社区 raised to
        level II by the plan's joint decision, when FIRE reads the residents for the
        incident, then PSB_VR_EVACUATION lets the masked records through."""
        incident_id = flood_at_level_two(lanjiang_demo)
        lanjiang_demo.bus.handle(ReconcileGrants(), SYSTEM_ACTOR)

        read = lanjiang_demo.bus.handle(
            ReadShared(
                dataset=RESIDENTS, purpose="evacuation", incident_id=incident_id
            ),
            actor_of(lanjiang_demo, "fire.duty"),
        )

        assert read.decision == "allow"
        assert "PSB_VR_EVACUATION" in read.reason
        assert len(read.records) == 40
        values = read.records[0]["values"]
        assert set(values) == {
            "resident_id", "name", "mobility", "contact_phone", "community", "location"
        }  # fmt: skip
        assert values["name"].endswith("*")
        assert read.tlp == "AMBER+STRICT"


def actor_of(muster: Muster, username: str) -> Actor:
    """Return the actor of a demo account."""
    with muster.engine.connect() as conn:
        user = identity.get_user_by_username(conn, username)
    assert user is not None
    return user.as_actor()


def flood_at_level_two(muster: Muster) -> str:
    """Open a flood near 28.21, 112.91 under FLOOD_URBAN at L3, then raise it to L2
    through the plan's joint decision (EMB, WATER and MET concur)."""
    commander = actor_of(muster, "commander")
    flood = response.OpenIncident(
        title="内涝：滨江路积水", category="NATURAL_DISASTER", latitude=28.21,
        longitude=112.91, type_code="11A01",
    )  # fmt: skip
    incident_id = str(muster.bus.handle(flood, commander))
    activate = response.ActivatePlan(
        incident_id=incident_id, plan_code="FLOOD_URBAN", level="L3"
    )
    muster.bus.handle(activate, commander)
    propose = response.ProposeDecision(
        incident_id=incident_id, title="", decision_key="raise_to_l2"
    )
    decision_id = str(muster.bus.handle(propose, commander))
    for username in ("emb.duty", "water.duty", "met.duty"):
        sign = response.SignDecision(decision_id=decision_id, position="concur")
        muster.bus.handle(sign, actor_of(muster, username))
    return incident_id


def test_the_sharing_schema_is_valid_and_lists_the_domains_values() -> None:
    """sharing.schema.json is valid 2020-12 and its enums are the sharing domain's."""
    text = (files("muster.pack") / "schemas" / "sharing.schema.json").read_text(
        encoding="utf-8"
    )
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    agreement = schema["$defs"]["agreement"]["properties"]

    assert tuple(agreement["legal_basis"]["enum"]) == rules.LEGAL_BASES
    assert tuple(agreement["tlp"]["enum"]) == rules.TLP_LABELS
    assert set(agreement["mode"]["enum"]) == {mode.value for mode in rules.Mode}
    incident = agreement["conditions"]["properties"]["incident"]["properties"]
    assert set(incident["min_level"]["enum"]) == set(rules.LEVELS_LOW_TO_HIGH)
    assert "sharing" in SCHEMAS
