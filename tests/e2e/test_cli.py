"""The ``muster`` command line, end to end, on the test database."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, text

import muster.cli as root_cli
from muster.bootstrap import PROJECTIONS, Muster
from muster.cli_demo import load_demo_data
from muster.core.cli import exit_code_for
from muster.core.clock import Clock
from muster.core.errors import ERROR_TREE, MusterError
from muster.core.eventlog.audit import VERIFYING_MD
from muster.core.messages import SYSTEM_ACTOR
from muster.identity import queries
from muster.pack import read_pack
from muster.response.domain.commands import OpenIncident, RecordIncidentFacts
from tests.cli_setup import Run, cli_environment, cli_runner
from tests.prepared import TEST_SECRET, Prepared, prepared_for

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
PASSWORD = "correct-horse-9"


def _init_and_load(muster: Muster, _clock: Clock) -> None:
    """Run `init` and load the Lanjiang example pack with the CLI."""
    with cli_runner(cli_environment(muster.settings, TEST_SECRET)) as run:
        assert run("init", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
        assert run("load", str(EXAMPLE)).exit_code == 0


prepared = prepared_for("loaded", Prepared("cli_init_load", _init_and_load))


@pytest.fixture
def loaded(run: Run) -> Run:
    """Return the runner after `init` and loading the Lanjiang example pack (on the
    test's copy of a deployment where the CLI did both once: ``prepared``,
    tests/prepared.py)."""
    return run


def head(muster: Muster) -> int:
    """Return the seq of the newest event."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def read_models(muster: Muster) -> dict[str, list[tuple[Any, ...]]]:
    """Return every projected table's rows, sorted, by table name."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with muster.engine.connect() as conn:
        for projection in PROJECTIONS:
            for table in projection.tables:
                rows = conn.execute(select(table)).all()
                snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


class TestInit:
    """muster init: first admin, idempotence."""

    def test_creates_admin_then_reruns_change_nothing(
        self, run: Run, muster: Muster
    ) -> None:
        """init creates the first admin once; a second run writes nothing."""
        first = run("init", "--password-stdin", input=PASSWORD + "\n")
        after_first = head(muster)

        second = run("init", "--password-stdin", input="other-password\n")

        assert first.exit_code == 0, first.output
        assert "Administrator admin created in ADMIN" in first.stdout
        assert second.exit_code == 0, second.output
        assert "already initialised" in second.stdout
        assert head(muster) == after_first == 3
        with muster.engine.connect() as conn:
            admin = queries.get_user_by_username(conn, "admin")
        assert admin is not None
        assert admin.roles == ("admin",)

    def test_prompts_for_the_password_twice_without_echo(
        self, run: Run, muster: Muster
    ) -> None:
        """Without --password-stdin the password is asked twice and never shown."""
        result = run("init", "--admin-username", "root", input=f"{PASSWORD}\n" * 2)

        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output
        with muster.engine.connect() as conn:
            assert queries.get_user_by_username(conn, "root") is not None


class TestLoad:
    """muster load PACK_DIR."""

    def test_example_pack_loads_once_then_is_unchanged(self, run: Run) -> None:
        """Loading Lanjiang creates 13 departments, 23 users, 24 datasets, 3 chains,
        4 plans, the trigger rules and the cascade model; again, nothing."""
        first = run("load", str(EXAMPLE), "--json")
        second = run("load", str(EXAMPLE), "--json")

        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout) == {
            "ok": True,
            "region": "LANJIANG",
            "departments": {"created": 13, "updated": 0, "unchanged": 0},
            "users": {"created": 23, "updated": 0, "unchanged": 0},
            "datasets": {"created": 24, "updated": 0, "unchanged": 0},
            "escalation": {"created": 3, "updated": 0, "unchanged": 0},
            "plans": {"created": 4, "updated": 0, "unchanged": 0},
            "agreements": {"created": 9, "updated": 0, "unchanged": 0},
            "triggers": {"created": 1, "updated": 0, "unchanged": 0},
            "cascades": {"created": 1, "updated": 0, "unchanged": 0},
            "scorecard": {"created": 1, "updated": 0, "unchanged": 0},
            "warnings": {"created": 1, "updated": 0, "unchanged": 0},
            "courses": {"created": 4, "updated": 0, "unchanged": 0},
            "training": {"created": 18, "updated": 0, "unchanged": 0},
            "resource_types": {"created": 32, "updated": 0, "unchanged": 0},
            "resources": {"created": 88, "updated": 0, "unchanged": 0},
        }
        assert json.loads(second.stdout)["departments"]["unchanged"] == 13
        assert json.loads(second.stdout)["resources"]["unchanged"] == 88
        assert json.loads(second.stdout)["users"]["unchanged"] == 23
        assert json.loads(second.stdout)["plans"]["unchanged"] == 4
        assert json.loads(second.stdout)["triggers"]["unchanged"] == 1
        assert json.loads(second.stdout)["cascades"]["unchanged"] == 1
        assert json.loads(second.stdout)["warnings"]["unchanged"] == 1

    def test_invalid_pack_exits_3_naming_each_problem_and_writes_nothing(
        self, loaded: Run, muster: Muster, tmp_path: Path
    ) -> None:
        """Every problem is printed as file:line: message; the log does not move."""
        pack = tmp_path / "broken"
        shutil.copytree(EXAMPLE, pack)
        departments = pack / "departments.yaml"
        departments.write_text(
            departments.read_text(encoding="utf-8").replace(
                "parent: EMB", "parent: NOWHERE", 1
            ),
            encoding="utf-8",
        )
        users = pack / "users.yaml"
        users.write_text(
            users.read_text(encoding="utf-8").replace(
                "roles: [analyst]", "roles: [boss]"
            ),
            encoding="utf-8",
        )
        before = head(muster)

        result = loaded("load", str(pack))

        assert result.exit_code == 3
        assert re.search(r"^  departments\.yaml:\d+: .*NOWHERE", result.stderr, re.M)
        assert re.search(r"^  users\.yaml:\d+: .*boss", result.stderr, re.M)
        assert "Traceback" not in result.output
        assert head(muster) == before


class TestUsers:
    """muster users add/list."""

    def test_add_then_list(self, loaded: Run) -> None:
        """A user added with a prompted password appears in the list."""
        added = loaded(
            "users", "add", "zhang.wei", "--department", "FIRE",
            "--role", "duty_officer", "--role", "observer",
            "--display-name", "张伟", "--language", "en",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )  # fmt: skip
        listed = loaded("users", "list", "--json")

        assert added.exit_code == 0, added.output
        assert PASSWORD not in added.output
        (user,) = [u for u in json.loads(listed.stdout) if u["username"] == "zhang.wei"]
        assert user["department"] == "FIRE"
        assert user["roles"] == ["duty_officer", "observer"]
        assert user["display_name"] == "张伟"

    def test_refusals_map_to_exit_codes(self, loaded: Run) -> None:
        """A taken username exits 3 and an unknown department exits 4."""
        common = ("--role", "observer", "--display-name", "X", "--password-stdin")

        taken = loaded("users", "add", "admin", "--department", "EMB", *common,
                       input=PASSWORD + "\n")  # fmt: skip
        unknown = loaded("users", "add", "nobody", "--department", "NOPE", *common,
                         input=PASSWORD + "\n")  # fmt: skip

        assert taken.exit_code == 3
        assert taken.stderr.strip() == "error: username admin is taken"
        assert unknown.exit_code == 4
        assert "NOPE" in unknown.stderr


class TestApiKeys:
    """muster apikey create/list/revoke."""

    def test_create_prints_the_key_once_and_it_authenticates(
        self, loaded: Run, muster: Muster
    ) -> None:
        """The printed key works for its department; the list never shows it."""
        created = loaded(
            "apikey", "create", "--department", "WATER", "--label", "gauges", "--json"
        )
        listed = loaded("apikey", "list")

        assert created.exit_code == 0, created.output
        assert "cannot show it again" in created.stderr
        data = json.loads(created.stdout)
        prefix, key_id, secret = data["key"].split("_", 2)
        assert (prefix, key_id) == ("mk", data["key_id"])
        with muster.engine.connect() as conn:
            actor = queries.api_key_actor(conn, key_id, secret)
        assert actor is not None
        assert actor.department == "WATER"
        assert key_id in listed.stdout
        assert secret not in listed.stdout

    def test_revoked_key_no_longer_authenticates(
        self, loaded: Run, muster: Muster
    ) -> None:
        """After revoke, the key is refused."""
        created = json.loads(
            loaded("apikey", "create", "--department", "MET", "--json").stdout
        )
        _, key_id, secret = created["key"].split("_", 2)

        revoked = loaded("apikey", "revoke", key_id, "--reason", "laptop lost")
        unknown = loaded("apikey", "revoke", "0000000000000000")

        assert revoked.exit_code == 0, revoked.output
        with muster.engine.connect() as conn:
            assert queries.api_key_actor(conn, key_id, secret) is None
        assert unknown.exit_code == 4


def tamper_event(muster: Muster, seq: int) -> None:
    """Rewrite one stored event's body behind the log's back."""
    old, new = '"actor_id":"muster"', '"actor_id":"eve"'
    body = f"replace(CAST(body AS TEXT), '{old}', '{new}')"
    if muster.engine.dialect.name == "postgresql":
        body = f"CAST({body} AS JSON)"
    with muster.engine.begin() as conn:
        changed = conn.execute(
            text(f"UPDATE events SET body = {body} WHERE seq = :seq"),  # noqa: S608 (constant SQL)
            {"seq": seq},
        )
    assert changed.rowcount == 1


class TestAudit:
    """muster audit verify/checkpoint/export/public-key."""

    def test_verify_reports_an_intact_log(self, loaded: Run, muster: Muster) -> None:
        """verify --json prints ok, counts and no bad seq, and exits 0."""
        result = loaded("audit", "verify", "--json")

        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert {"ok", "events", "checkpoints", "first_bad_seq"} <= report.keys()
        assert report["ok"] is True
        assert report["events"] == head(muster)
        assert report["first_bad_seq"] is None

    def test_verify_names_the_first_tampered_event(
        self, loaded: Run, muster: Muster
    ) -> None:
        """Changing event 5's body with SQL makes verify exit 10 at seq 5."""
        tamper_event(muster, 5)

        as_json = loaded("audit", "verify", "--json")
        as_text = loaded("audit", "verify")

        assert as_json.exit_code == 10
        report = json.loads(as_json.stdout)
        assert report["ok"] is False
        assert report["first_bad_seq"] == 5
        assert as_text.exit_code == 10
        assert "BROKEN at seq 5" in as_text.stdout
        assert "seq 5" in as_text.stderr

    def test_checkpoint_signs_the_head_and_refuses_a_tampered_log(
        self, loaded: Run, muster: Muster
    ) -> None:
        """checkpoint signs the newest event; after tampering it refuses (exit 10)."""
        signed = loaded("audit", "checkpoint", "--json")
        tamper_event(muster, 2)

        refused = loaded("audit", "checkpoint")

        assert signed.exit_code == 0, signed.output
        assert json.loads(signed.stdout)["seq"] == head(muster)
        assert refused.exit_code == 10
        with muster.engine.connect() as conn:
            assert len(muster.store.checkpoint_rows(conn)) == 1

    def test_export_passes_the_documented_verifier(
        self, loaded: Run, tmp_path: Path
    ) -> None:
        """The VERIFYING.md snippet, run alone in the export folder, prints ok."""
        assert loaded("audit", "checkpoint").exit_code == 0
        out = tmp_path / "export"
        snippet = re.search(
            r"```python\n(.*?)```", VERIFYING_MD.read_text(encoding="utf-8"), re.S
        )
        assert snippet is not None

        exported = loaded("audit", "export", str(out))
        checked = subprocess.run(
            [sys.executable, "-c", snippet.group(1)],
            cwd=out, capture_output=True, text=True, check=False,
            env={"PATH": os.environ.get("PATH", "")},
        )  # fmt: skip

        assert exported.exit_code == 0, exported.output
        assert "Exported" in exported.stdout
        assert sorted(p.name for p in out.iterdir()) == [
            "VERIFYING.md", "checkpoints.jsonl", "events.jsonl", "public_key.pem"
        ]  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.startswith("ok:")

    def test_public_key_prints_pem(self, loaded: Run) -> None:
        """public-key prints the PEM that verifies checkpoints."""
        result = loaded("audit", "public-key")

        assert result.exit_code == 0
        assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")


class TestProjections:
    """muster projections rebuild."""

    def test_rebuild_reproduces_identical_read_models(
        self, loaded: Run, muster: Muster
    ) -> None:
        """A full rebuild leaves every read-model row exactly as before."""
        loaded("apikey", "create", "--department", "FIRE")
        before = read_models(muster)

        result = loaded("projections", "rebuild", "--json")

        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {
            "projections": [p.name for p in PROJECTIONS],
            "events": head(muster),
        }
        assert read_models(muster) == before

    def test_rebuild_until_seq_then_again_in_full(
        self, loaded: Run, muster: Muster
    ) -> None:
        """Replaying identity up to seq 1 shows only the admin department."""
        before = read_models(muster)

        partial = loaded("projections", "rebuild", "identity", "--until-seq", "1")
        with muster.engine.connect() as conn:
            codes = [d.code for d in queries.list_departments(conn)]
        full = loaded("projections", "rebuild")

        assert partial.exit_code == 0, partial.output
        assert codes == ["ADMIN"]
        assert full.exit_code == 0
        assert read_models(muster) == before

    def test_rebuild_refuses_unknown_parts(self, loaded: Run) -> None:
        """An unknown projection set name exits 3 and lists the known ones."""
        result = loaded("projections", "rebuild", "nonsense")

        assert result.exit_code == 3
        assert "identity" in result.stderr


class TestDemo:
    """muster demo."""

    @pytest.mark.slow
    def test_no_serve_loads_the_example_and_prints_sign_ins(
        self, run: Run, tmp_path: Path
    ) -> None:
        """demo --no-serve creates a dev deployment and lists the demo accounts."""
        data_dir = tmp_path / "demo-data"

        first = run("demo", "--no-serve", "--data-dir", str(data_dir), "--port", "8123")
        second = run("demo", "--no-serve", "--data-dir", str(data_dir))

        assert first.exit_code == 0, first.output
        for expected in ("admin", "fire.duty", "muster-demo", "http://127.0.0.1:8123"):
            assert expected in first.stdout
        assert "澜江市消防救援支队" in first.stdout
        assert (data_dir / "muster.db").exists()
        secret = data_dir / "secret.key"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert second.exit_code == 0, second.output
        assert "already loaded" in second.stdout


class TestAssess:
    """muster assess INCIDENT."""

    def test_a_flood_prints_its_cascades_as_json_and_as_bilingual_text(
        self, loaded: Run, muster: Muster
    ) -> None:
        """With the example pack and its layers loaded, a rainstorm incident's
        chains print as JSON and as text in both languages; an unknown incident
        exits 4."""
        load_demo_data(muster, read_pack(EXAMPLE))
        incident = str(
            muster.bus.handle(
                OpenIncident(title="城区暴雨", category="NATURAL_DISASTER",
                             latitude=28.21, longitude=112.91, type_code="11B00",
                             reporting_department="EMB"),
                SYSTEM_ACTOR,
            )
        )  # fmt: skip
        facts = {"rain_24h_mm": 180, "rain_72h_mm": 210, "radius_km": 20}
        muster.bus.handle(
            RecordIncidentFacts(incident_id=incident, facts=facts), SYSTEM_ACTOR
        )

        as_json = loaded("assess", incident, "--json")
        as_text = loaded("assess", incident)
        unknown = loaded("assess", "no-such-incident")

        assert as_json.exit_code == 0, as_json.output
        data = json.loads(as_json.stdout)
        assert data["incident"]["id"] == incident
        assert [chain["rule"] for chain in data["chains"]] == ["rain_floods_low_lying"]
        roads = next(
            step
            for step in data["chains"][0]["steps"]
            if step["rule"] == "flood_closes_roads"
        )
        assert [asset["id"] for asset in roads["assets"]][:2] == ["BJ-02", "BJ-03"]
        assert {item["dataset"] for item in data["explanation"]["datasets"]} >= {
            "WATER_FLOOD_ZONES", "TRANSPORT_ROAD_SEGMENTS", "HEALTH_HOSPITAL_BEDS",
        }  # fmt: skip
        assert as_text.exit_code == 0, as_text.output
        for expected in (
            "城市内涝 / Urban flooding",
            "H-LJ-FIRST",
            "WATER_FLOOD_ZONES",
        ):
            assert expected in as_text.stdout
        assert unknown.exit_code == 4
        assert "no incident no-such-incident" in unknown.stderr


class TestServe:
    """muster serve (the web server itself is replaced)."""

    def test_refuses_an_unmigrated_database(self, run: Run, tmp_path: Path) -> None:
        """serve on an empty database exits 7 and says to run muster init."""
        empty = f"sqlite:///{tmp_path / 'empty.db'}"

        result = run("serve", MUSTER_DATABASE_URL=empty)

        assert result.exit_code == 7
        assert "muster init" in result.stderr

    def test_starts_the_web_server_with_the_options(
        self, loaded: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """serve passes settings, host, port and workers to the web server."""
        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(
            root_cli, "run_web_server", lambda settings, **kw: calls.append(kw)
        )

        result = loaded("serve", "--port", "8123", "--workers", "2")

        assert result.exit_code == 0, result.output
        assert calls == [{"host": "127.0.0.1", "port": 8123, "workers": 2}]


class TestErrorEdge:
    """Exit codes and messages of the CLI's error edge (R12)."""

    def test_every_error_class_has_an_exit_code(self) -> None:
        """Each branch of the error tree maps to its documented exit code."""
        unmapped = [
            cls.__name__
            for cls in ERROR_TREE
            if cls is not MusterError and exit_code_for(cls.__new__(cls)) == 1
        ]

        assert unmapped == []

    def test_placeholder_secret_in_prod_exits_7_naming_the_variable(
        self, run: Run
    ) -> None:
        """Invalid settings give one line naming MUSTER_SECRET_KEY, no traceback."""
        result = run("users", "list", MUSTER_MODE="prod", MUSTER_SECRET_KEY="change-me")

        assert result.exit_code == 7
        assert "MUSTER_SECRET_KEY" in result.stderr
        assert "Traceback" not in result.output

    def test_unexpected_errors_are_short_unless_debug(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An unexpected error prints one line (exit 1); --debug adds a traceback."""

        def explode(_path: Path) -> None:
            """Fail like a bug would."""
            raise RuntimeError("boom")

        monkeypatch.setattr(root_cli, "read_pack", explode)

        short = run("load", "anywhere")
        debug = run("--debug", "load", "anywhere")

        assert short.exit_code == 1
        assert short.stderr.strip() == (
            "error: unexpected RuntimeError: boom (rerun with --debug)"
        )
        assert debug.exit_code == 1
        assert "Traceback" in debug.stderr

    @pytest.mark.parametrize(
        "verb",
        [
            [], ["init"], ["load"], ["serve"], ["demo"], ["version"],
            ["audit"], ["audit", "verify"], ["audit", "export"],
            ["audit", "checkpoint"], ["audit", "public-key"],
            ["projections"], ["projections", "rebuild"],
            ["users"], ["users", "add"], ["users", "list"],
            ["apikey"], ["apikey", "create"], ["apikey", "list"], ["apikey", "revoke"],
            ["assess"], ["replay"], ["scorecard"], ["bulletin"], ["knew"],
            ["report"], ["report", "aar"], ["improvement"],
            ["improvement", "list"], ["improvement", "complete"],
            ["training"], ["training", "record"], ["readiness"],
            ["drill"], ["drill", "check"], ["drill", "run"],
            ["resources"], ["resources", "list"], ["resources", "status"],
        ],
    )  # fmt: skip
    def test_every_verb_has_help(self, run: Run, verb: list[str]) -> None:
        """--help works for every command and group."""
        result = run(*verb, "--help")

        assert result.exit_code == 0, result.output
        assert "Usage" in result.stdout


def test_version_prints_the_package_version(run: Run) -> None:
    """version prints muster and its version."""
    result = run("version")

    assert result.stdout.strip() == "muster 0.1.0"


def test_example_pack_passwords_are_demo_only() -> None:
    """The bundled demo pack gives every account the documented demo password."""
    users = yaml.safe_load((EXAMPLE / "users.yaml").read_text(encoding="utf-8"))

    assert {user["password"] for user in users["users"]} == {"muster-demo"}
