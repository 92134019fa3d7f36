"""``muster replay --at TIME --json``, end to end, on the test database."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from typer.testing import CliRunner

from muster.bootstrap import Muster
from muster.cli import app
from muster.core.clock import isoformat_utc
from muster.response.domain.commands import ChangeIncidentStatus
from muster.settings import Settings, get_settings
from tests import factories
from tests.conftest import TEST_SECRET


def test_given_a_later_change_when_replaying_at_an_earlier_moment_then_json_shows_the_state_then(  # noqa: E501
    muster: Muster, settings: Settings
) -> None:
    """The summary holds the incident as it stood at --at, and the log range it read."""
    factories.department(muster, "EMB")
    commander = factories.user(muster, "alice")
    first = factories.incident(muster, commander, "内涝：滨江路积水")
    with muster.engine.connect() as conn:
        seq_then, hash_then = muster.store.head(conn)
    moment = datetime.now(UTC)
    time.sleep(0.01)  # every later event is recorded after the moment
    muster.bus.handle(
        ChangeIncidentStatus(incident_id=first, to_status="verified"), commander
    )
    factories.incident(muster, commander, "Fire at the depot")
    env = {
        "MUSTER_DATABASE_URL": settings.database_url,
        "MUSTER_MODE": "test",
        "MUSTER_SECRET_KEY": TEST_SECRET,
        "MUSTER_DATA_DIR": str(settings.data_dir),
    }

    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["replay", "--at", isoformat_utc(moment), "--json"], env=env
    )
    get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["log_range"]["last_seq"] == seq_then
    assert summary["log_range"]["head_hash"] == hash_then.hex()
    assert [(i["id"], i["status"]) for i in summary["incidents"]] == [
        (first, "reported")
    ]
