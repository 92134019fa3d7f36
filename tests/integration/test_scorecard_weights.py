"""Scorecard weights from a pack's scorecard.yaml: checked at their lines, loaded as an
event, projected into review_settings, and used by ``muster scorecard``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from muster.bootstrap import Muster
from muster.cli import app
from muster.core.errors import PackInvalid, PermissionDenied
from muster.core.eventlog.replay import rebuild
from muster.pack import check_pack, read_pack
from muster.pack.loader import load_pack
from muster.review.domain.scorecard import ScorecardWeights
from muster.review.domain.settings import SetScorecardWeights
from muster.review.settings_projections import PROJECTIONS
from muster.review.settings_queries import stored_weights
from muster.settings import Settings, get_settings
from tests import factories
from tests.conftest import TEST_SECRET

REGION = {
    "code": "TESTVILLE",
    "name_zh": "测试市",
    "name_en": "Testville",
    "center": {"lat": 28.2, "lon": 112.9},
    "districts": [{"code": "NORTH", "name_zh": "北区", "name_en": "North District"}],
}
DEPARTMENTS = [
    {"code": "EMB", "name_zh": "应急局", "name_en": "Emergency",
     "type": "emergency_management"},
]  # fmt: skip
WEIGHTED = "scorecard:\n  weights:\n    tasks_on_time: 5\n    acks_on_time: 0\n"


def _pack(root: Path, scorecard: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "region.yaml").write_text(yaml.safe_dump(REGION), encoding="utf-8")
    departments = yaml.safe_dump({"departments": DEPARTMENTS})
    (root / "departments.yaml").write_text(departments, encoding="utf-8")
    if scorecard is not None:
        (root / "scorecard.yaml").write_text(scorecard, encoding="utf-8")
    return root


def _weights(muster: Muster) -> ScorecardWeights:
    with muster.engine.connect() as conn:
        return stored_weights(conn)


def _types(muster: Muster) -> list[str]:
    with muster.engine.connect() as conn:
        return [r.envelope.type for r in muster.store.read_all(conn)]


class TestLoading:
    def test_given_no_weights_loaded_when_read_then_the_defaults(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """Without scorecard.yaml nothing is recorded and the defaults are in force."""
        summary = load_pack(muster, read_pack(_pack(tmp_path / "p", None)))

        assert summary.scorecard.to_json() == {
            "created": 0,
            "updated": 0,
            "unchanged": 0,
        }
        assert "review.ScorecardWeightsSet" not in _types(muster)
        assert _weights(muster) == ScorecardWeights()

    def test_given_scorecard_yaml_when_loaded_twice_then_set_once_and_unchanged(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """The weights are recorded with every measure spelled out (left-out ones at
        their defaults), projected, and a second load changes nothing."""
        pack = read_pack(_pack(tmp_path / "p", WEIGHTED))

        first = load_pack(muster, pack)
        second = load_pack(muster, pack)

        assert first.scorecard.created == 1
        assert second.scorecard.unchanged == 1
        assert _types(muster).count("review.ScorecardWeightsSet") == 1
        expected = ScorecardWeights(tasks_on_time=5, acks_on_time=0)
        assert _weights(muster) == expected
        with muster.engine.connect() as conn:
            logged = muster.store.read_stream(conn, "review-settings-scorecard")
        assert logged[0].envelope.data["weights"] == {
            "acks_on_time": 0,
            "tasks_on_time": 5,
            "reports_on_time": 2,
            "freshness_on_time": 1,
            "sharing_answered": 1,
            "decision_participation": 1,
        }

    def test_given_changed_weights_when_loaded_then_updated_and_rebuild_agrees(
        self, muster: Muster, tmp_path: Path
    ) -> None:
        """A changed file records a new setting; rebuilding the projection from the
        log gives the same row."""
        load_pack(muster, read_pack(_pack(tmp_path / "a", WEIGHTED)))
        changed = WEIGHTED.replace("tasks_on_time: 5", "tasks_on_time: 3")

        summary = load_pack(muster, read_pack(_pack(tmp_path / "b", changed)))
        rebuild(muster.engine, [PROJECTIONS])

        assert summary.scorecard.updated == 1
        assert _weights(muster) == ScorecardWeights(tasks_on_time=3, acks_on_time=0)


class TestRefusals:
    @pytest.mark.parametrize(
        ("text", "line", "words"),
        [
            ("scorecard:\n  weights:\n    acks_on_time: 1\n    speed: 2\n", 4, "speed"),
            ("scorecard:\n  weights:\n\n    tasks_on_time: -1\n", 4, "minimum"),
            ("scorecard:\n  weights:\n    reports_on_time: '2'\n", 3, "integer"),
            (
                "scorecard:\n  weights:\n    acks_on_time: 0\n    tasks_on_time: 0\n"
                "    reports_on_time: 0\n    freshness_on_time: 0\n"
                "    sharing_answered: 0\n    decision_participation: 0\n",
                3,
                "above 0",
            ),
        ],
    )
    def test_given_a_bad_scorecard_yaml_when_checked_then_refused_at_its_line(
        self, muster: Muster, tmp_path: Path, text: str, line: int, words: str
    ) -> None:
        """Unknown measures, negative or non-integer weights and all-zero weights are
        problems of scorecard.yaml at their line; nothing is loaded."""
        root = _pack(tmp_path / "p", text)

        problems = check_pack(root).problems
        with pytest.raises(PackInvalid):
            read_pack(root)

        assert [(p.file, p.line) for p in problems] == [("scorecard.yaml", line)]
        assert words in problems[0].message
        assert _types(muster) == []

    def test_given_a_duty_officer_when_setting_weights_then_refused(
        self, muster: Muster
    ) -> None:
        """Only admins and Muster itself may set the weights."""
        factories.department(muster, "EMB")
        officer = factories.user(muster, "duty", roles=("duty_officer",))

        with pytest.raises(PermissionDenied):
            muster.bus.handle(SetScorecardWeights(weights={"acks_on_time": 3}), officer)

        assert _weights(muster) == ScorecardWeights()


def test_given_loaded_weights_when_scorecard_runs_then_it_uses_them_unless_pack(
    muster: Muster, settings: Settings, tmp_path: Path
) -> None:
    """`muster scorecard --json` states the weights in force; --pack overrides them."""
    load_pack(muster, read_pack(_pack(tmp_path / "p", WEIGHTED)))
    other = _pack(tmp_path / "other", "scorecard:\n  weights:\n    acks_on_time: 7\n")
    env = {
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": TEST_SECRET,
        "MUSTER_DATA_DIR": str(settings.data_dir),
    }
    period = ["--from", "2026-01-01T00:00Z", "--to", "2026-12-31T00:00Z", "--json"]

    get_settings.cache_clear()
    stored = CliRunner().invoke(app, ["scorecard", *period], env=env)
    given = CliRunner().invoke(
        app, ["scorecard", *period, "--pack", str(other)], env=env
    )
    get_settings.cache_clear()

    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout)["weights"]["tasks_on_time"] == 5
    assert json.loads(stored.stdout)["weights"]["acks_on_time"] == 0
    assert json.loads(given.stdout)["weights"]["acks_on_time"] == 7
    assert json.loads(given.stdout)["weights"]["tasks_on_time"] == 2
