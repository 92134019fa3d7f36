"""Recomputing scorecards from an exported log (``muster audit export``): the same
figures, log range and chain hash as from the database; a tampered file is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.settings import Settings
from tests.cli_setup import Run
from tests.scripted_incident import END, SETUP, T0, run_script

PERIOD = ["--from", isoformat_utc(T0), "--to", isoformat_utc(END)]


@pytest.fixture
def sim(settings: Settings) -> Iterator[Muster]:
    """Return a deployment that has played the scripted incident."""
    clock = SimulatedClock(SETUP)
    app_ = bootstrap(settings, clock=clock)
    run_script(app_, clock)
    yield app_
    app_.engine.dispose()


@pytest.fixture
def exported(sim: Muster, run: Run, tmp_path: Path) -> Path:
    """Return the folder of the scripted incident's exported log."""
    folder = tmp_path / "export"
    result = run("audit", "export", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def _rewrite(events: Path, seq: int, old: str, new: str, *, rehash: bool) -> None:
    """Change one event's body; with ``rehash``, recompute every later link too."""
    rows = [json.loads(line) for line in events.read_text("utf-8").splitlines()]
    target = rows[seq - 1]
    assert old in target["body"]
    target["body"] = target["body"].replace(old, new)
    if rehash:
        previous = bytes(32)
        for row in rows:
            row["prev_hash"] = previous.hex()
            previous = hashlib.sha256(previous + row["body"].encode()).digest()
            row["hash"] = previous.hex()
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    events.write_text(text, encoding="utf-8")


def _seq_of(events: Path, type_: str) -> int:
    for line in events.read_text("utf-8").splitlines():
        row = json.loads(line)
        if json.loads(row["body"])["type"] == type_:
            return int(row["seq"])
    raise AssertionError(f"no {type_} in the export")


def test_given_an_export_when_scored_from_the_file_then_json_equals_the_database(
    sim: Muster, run: Run, exported: Path
) -> None:
    """`muster scorecard --log` (folder or events.jsonl) prints exactly the JSON of
    `muster scorecard` on the database: numbers, events, log range, head hash."""
    from_db = run("scorecard", *PERIOD, "--json")
    from_folder = run("scorecard", *PERIOD, "--json", "--log", str(exported))
    from_file = run(
        "scorecard", *PERIOD, "--json", "--log", str(exported / "events.jsonl")
    )

    assert from_db.exit_code == 0, from_db.output
    assert from_folder.exit_code == 0, from_folder.output
    database = json.loads(from_db.stdout)
    assert json.loads(from_folder.stdout) == database
    assert json.loads(from_file.stdout) == database
    with sim.engine.connect() as conn:
        head_seq, head_hash = sim.store.head(conn)
    assert database["log_range"]["last_seq"] == head_seq
    assert database["chain_head_hash"] == head_hash.hex()
    assert database["scorecards"][0]["departments"]


def test_given_an_export_when_the_bulletin_reads_it_then_it_equals_the_database(
    sim: Muster, run: Run, exported: Path, tmp_path: Path
) -> None:
    """`muster bulletin --log` gives the same comparison as on the database."""
    out = str(tmp_path / "b.html")
    from_db = run("bulletin", *PERIOD, "--out", out, "--json")
    from_file = run("bulletin", *PERIOD, "--out", out, "--json", "--log", str(exported))

    assert from_db.exit_code == 0, from_db.output
    assert json.loads(from_file.stdout) == json.loads(from_db.stdout)


def test_given_an_altered_event_when_scored_from_the_file_then_refused(
    sim: Muster, run: Run, exported: Path
) -> None:
    """One changed byte breaks the chain: the file is refused (exit 10), naming the
    file and the first bad seq, and no figure is printed."""
    events = exported / "events.jsonl"
    seq = _seq_of(events, "response.SituationReportSent")
    _rewrite(events, seq, "40 cm", "90 cm", rehash=False)

    result = run("scorecard", *PERIOD, "--json", "--log", str(exported))

    assert result.exit_code == 10
    assert f"failed at seq {seq}" in result.output
    assert "events.jsonl" in result.output
    assert result.stdout.strip() == ""


def test_given_a_rehashed_forgery_when_scored_then_the_checkpoints_refuse_it(
    sim: Muster, run: Run, tmp_path: Path
) -> None:
    """A forger who recomputes every hash still fails: the signed checkpoint in the
    export no longer matches the chain."""
    assert run("audit", "checkpoint").exit_code == 0
    assert run("audit", "export", str(tmp_path / "signed")).exit_code == 0
    events = tmp_path / "signed" / "events.jsonl"
    assert run("scorecard", *PERIOD, "--log", str(events)).exit_code == 0
    seq = _seq_of(events, "response.SituationReportSent")
    _rewrite(events, seq, "40 cm", "90 cm", rehash=True)

    result = run("scorecard", *PERIOD, "--json", "--log", str(events))

    assert result.exit_code == 10
    assert "checkpoint" in result.output


def test_given_a_line_that_is_not_an_event_when_scored_then_refused(
    sim: Muster, run: Run, exported: Path
) -> None:
    """A line that is not an exported event is refused as unverifiable."""
    events = exported / "events.jsonl"
    events.write_text(events.read_text("utf-8") + "not json\n", encoding="utf-8")

    result = run("scorecard", *PERIOD, "--log", str(events))

    assert result.exit_code == 10
    assert "is not an exported event" in result.output
