"""``muster access check`` and ``muster access log`` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import Result

from muster.bootstrap import Muster
from muster.core.messages import Actor
from muster.sharing.domain.commands import RegisterAgreement
from tests.cli_setup import Run
from tests.e2e.test_sharing_api import (
    FIRE_AGREEMENT,
    PHONE,
    RESIDENTS,
    fire_agreement,
    sharing_world,
)


@pytest.fixture
def actors(muster: Muster) -> dict[str, Actor]:
    """Return the people of the sharing world, with HEALTH's agreement with FIRE."""
    actors = sharing_world(muster)
    muster.bus.handle(
        RegisterAgreement(agreement=fire_agreement(), source="ui"),
        actors["health.duty"],
    )
    return actors


@pytest.fixture
def run(run: Run, actors: dict[str, Actor]) -> Run:
    """Return the CLI runner once the actors exist (the shared ``run`` fixture)."""
    return run


def _check(run: Run, *args: str) -> Result:
    return run("access", "check", "--dataset", RESIDENTS, *args)


class TestAccessCheck:
    def test_allowed_read_prints_one_json_object(self, run: Run) -> None:
        """A consumer with the agreement's purpose: exit 0 and one JSON object with
        the decision, the deciding policy, the masks, the reason and the count."""
        result = _check(run, "--user", "fire.duty", "--purpose", "rescue", "--json")

        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["decision"] == "allow"
        assert answer["policies"] == [f"agreement:{FIRE_AGREEMENT}"]
        assert answer["masks"] == {"name": "name", "phone": "phone"}
        assert f"agreement {FIRE_AGREEMENT}" in answer["reason"]
        assert (answer["records"], answer["aggregates"], answer["tlp"]) == (
            2, [], "TLP:AMBER",
        )  # fmt: skip
        assert PHONE not in result.stdout

    def test_refused_read_exits_5_with_the_reason(self, run: Run) -> None:
        """Without a purpose the read is refused: exit 5, the rule that forbade it
        and its reason in the JSON object."""
        result = _check(run, "--user", "fire.duty", "--json")

        assert result.exit_code == 5, result.output
        answer = json.loads(result.stdout)
        assert answer["decision"] == "deny"
        assert answer["policies"] == ["rule:graded-data-needs-purpose"]
        assert answer["masks"] == {}
        assert "state a purpose" in answer["reason"]

    def test_text_output_and_unknown_user_or_dataset(self, run: Run) -> None:
        """The text form names the decision and reason; an unknown user or dataset
        exits 4."""
        shown = _check(run, "--user", "health.duty")
        no_user = _check(run, "--user", "nobody")
        no_dataset = run("access", "check", "--user", "fire.duty", "--dataset", "NOPE")

        assert shown.exit_code == 0, shown.output
        assert "decision: allow" in shown.stdout
        assert "the provider reads its own data" in shown.stdout
        assert (no_user.exit_code, no_dataset.exit_code) == (4, 4)


class TestAccessLog:
    def test_log_lists_the_checks_as_reads(self, run: Run) -> None:
        """Each check is a logged read (channel cli); the log filters by department."""
        _check(run, "--user", "fire.duty", "--purpose", "rescue")
        _check(run, "--user", "fire.duty")

        listed = run("access", "log", "--department", "FIRE", "--json")
        text = run("access", "log", "--dataset", RESIDENTS)

        assert listed.exit_code == 0, listed.output
        entries = json.loads(listed.stdout)
        assert [(e["decision"], e["channel"]) for e in entries] == [
            ("deny", "cli"), ("allow", "cli"),
        ]  # fmt: skip
        assert text.exit_code == 0
        assert "purpose=rescue records=2" in text.stdout
