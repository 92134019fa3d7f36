"""Replay mode and "what a department knew", end to end over HTTP, on the scripted
flood incident of ``tests/integration/test_knowledge.py`` (simulated clock)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.review.replay_view import CACHE, ReplayCache, hash_at
from muster.settings import Settings
from tests.e2e.client import WebClient, event_types, web_client
from tests.integration.test_knowledge import SETUP, Scripted, at, script, seq_of


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    deployment = bootstrap(settings, clock=clock)
    yield deployment
    CACHE.clear()
    deployment.engine.dispose()


@pytest.fixture
def scripted(sim: Muster, clock: SimulatedClock) -> Scripted:
    """Return the scripted incident, run to +55 minutes."""
    return script(sim, clock)


@pytest.fixture
def web(settings: Settings, sim: Muster, scripted: Scripted) -> Iterator[WebClient]:
    """Return a client of the app serving the scripted deployment."""
    with web_client(settings, sim) as client:
        yield client


def _state_part(html: str) -> str:
    """Return the replayed state of a replay page (what follows the scrubber)."""
    return html.split('id="replay-state"', 1)[1]


def _road_status(html: str, task_id: str) -> str:
    row = html.split(f'data-task-id="{task_id}"', 1)[1]
    found = re.search(r'data-status="([a-z_]+)"', row)
    assert found is not None
    return found.group(1)


class TestReplayPage:
    def test_given_the_scripted_incident_when_replaying_at_the_acknowledgement_then_the_task_reads_acknowledged_and_nothing_can_be_done(  # noqa: E501
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """At the acknowledgement's seq the road task reads acknowledged, the banner
        names the seq and the live chain hash there, and the state has no forms."""
        acknowledged = seq_of(
            sim, "response.TaskAcknowledged", task_id=scripted.road_task_id
        )
        with sim.engine.connect() as conn:
            expected_hash = hash_at(conn, acknowledged)
        assert expected_hash is not None
        web.sign_in("commander")

        then = web.get(
            f"/review/incidents/{scripted.incident_id}/replay?seq={acknowledged}"
        )
        now = web.get(f"/review/incidents/{scripted.incident_id}/replay")

        assert then.status_code == 200
        state = _state_part(then.text)
        assert _road_status(state, scripted.road_task_id) == "acknowledged"
        assert f'data-seq="{acknowledged}"' in state
        assert expected_hash.hex() in state
        assert "<form" not in state
        assert "<button" not in state
        assert "Replay" in state
        assert "read-only" in state
        assert _road_status(_state_part(now.text), scripted.road_task_id) == "done"
        # Every department of the incident links to what it knew then.
        assert 'data-knew="TRANSPORT"' in state
        assert "/situation/map?at=" in state

    def test_given_a_moment_when_replaying_at_it_then_the_state_is_the_last_seq_before_it(  # noqa: E501
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """``?at=`` shows the state after the last event recorded by that moment."""
        moment = isoformat_utc(at(8))
        with sim.engine.connect() as conn:
            last_by_then = max(
                r.envelope.seq
                for r in sim.store.read_all(conn)
                if r.envelope.recorded_at <= moment
            )
        web.sign_in("commander")

        page = web.get(
            f"/review/incidents/{scripted.incident_id}/replay", params={"at": moment}
        )

        assert page.status_code == 200
        state = _state_part(page.text)
        assert f'data-seq="{last_by_then}"' in state
        assert _road_status(state, scripted.road_task_id) == "acknowledged"

    def test_given_a_seq_before_the_incident_when_replaying_then_it_says_not_reported_yet(  # noqa: E501
        self, web: WebClient, scripted: Scripted
    ) -> None:
        """Before its first event the incident did not exist: the page says so."""
        web.sign_in("commander")

        page = web.get(f"/review/incidents/{scripted.incident_id}/replay?seq=1")

        assert page.status_code == 200
        assert "had not been reported yet" in page.text

    def test_given_the_state_fragment_when_fetched_then_it_is_the_state_alone(
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """The scrubber's fragment is the banner and the state, no page around it."""
        web.sign_in("t.duty")
        completed = seq_of(sim, "response.TaskCompleted", task_id=scripted.road_task_id)

        fragment = web.get(
            f"/review/incidents/{scripted.incident_id}/replay/state?seq={completed}"
        )

        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        assert 'id="replay-banner"' in fragment.text
        assert _road_status(fragment.text, scripted.road_task_id) == "done"

    def test_given_chinese_when_replaying_then_the_banner_is_in_chinese(
        self, web: WebClient, scripted: Scripted
    ) -> None:
        """The page speaks the viewer's language."""
        web.sign_in("commander")
        web.post_form("/language", {"language": "zh-CN", "next": "/"})

        page = web.get(f"/review/incidents/{scripted.incident_id}/replay")

        assert page.status_code == 200
        for text in ("回放", "只读", "时间轴"):
            assert text in page.text

    def test_given_no_session_or_no_incident_when_replaying_then_refused_or_not_found(
        self, web: WebClient
    ) -> None:
        """Replay needs a signed-in person and an existing incident."""
        anonymous = web.get("/review/incidents/nope/replay")
        web.sign_in("commander")
        missing = web.get("/review/incidents/nope/replay")

        assert anonymous.status_code in (303, 401)
        assert missing.status_code == 404


class TestReplayJson:
    def test_given_a_seq_when_asking_the_api_then_the_summary_is_the_state_then(
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """The JSON twin answers the incident as it stood, its log range and hash."""
        acknowledged = seq_of(
            sim, "response.TaskAcknowledged", task_id=scripted.road_task_id
        )
        with sim.engine.connect() as conn:
            expected_hash = hash_at(conn, acknowledged)
        assert expected_hash is not None
        web.sign_in("commander")

        body = web.get(
            f"/api/v1/review/incidents/{scripted.incident_id}/replay",
            params={"seq": acknowledged},
        ).json()

        assert body["seq"] == acknowledged
        assert body["log_range"]["head_hash"] == expected_hash.hex()
        (incident,) = body["incidents"]
        road = next(t for t in incident["tasks"] if t["id"] == scripted.road_task_id)
        assert road["status"] == "acknowledged"
        assert [stop["seq"] for stop in body["timeline"]][-1] > acknowledged


class TestKnewPage:
    def test_given_the_own_department_when_asking_what_it_knew_then_items_with_seqs(
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """A department's duty officer sees what it knew: the shared data read, the
        report received and the log range with the chain hash."""
        web.sign_in("t.duty")
        params = {"department": "TRANSPORT", "at": isoformat_utc(at(60))}

        page = web.get("/review/knew", params=params)
        body = web.get("/api/v1/review/knew", params=params).json()

        assert page.status_code == 200
        assert "GAUGES" in page.text
        assert f'data-seq="{seq_of(sim, "sharing.AccessDecided")}"' in page.text
        assert body["chain_head_hash"] in page.text
        assert [item["dataset"] for item in body["data_access"]] == ["GAUGES"]

    def test_given_another_department_when_asking_then_refused_and_logged(
        self, web: WebClient, sim: Muster, scripted: Scripted
    ) -> None:
        """WATER's duty officer may not see what TRANSPORT knew; the refusal is
        logged; a commander may."""
        web.sign_in("w.duty")
        before = len(event_types(sim))

        refused = web.get("/review/knew", params={"department": "TRANSPORT"})

        assert refused.status_code == 403
        # The app's timer tick may append escalations meanwhile; count ours only.
        logged = [t for t in event_types(sim)[before:] if t.startswith("identity.")]
        assert logged == ["identity.AccessRefused"]
        web.sign_in("commander")
        assert web.get("/review/knew?department=TRANSPORT").status_code == 200


class TestReplayCache:
    def test_given_repeated_and_concurrent_asks_when_reading_then_each_seq_is_built_once_and_old_ones_evicted(  # noqa: E501
        self, sim: Muster, scripted: Scripted
    ) -> None:
        """The same seq asked by several threads is replayed once; a third seq evicts
        the least recently used; a changed chain hash forces a rebuild."""
        cache = ReplayCache(size=2)
        projections = sim.bus.context.projections
        results: list[int] = []

        def ask(seq: int) -> None:
            results.append(
                cache.read_state(
                    sim.engine,
                    projections,
                    seq=seq,
                    reader=lambda _conn, replayed: replayed.position,
                )
            )

        threads = [threading.Thread(target=ask, args=(20,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ask(30)
        ask(40)

        assert results == [20, 20, 20, 20, 30, 40]
        assert cache.builds == 3
        assert cache.cached_seqs(sim.engine) == [30, 40]
        cache.read_state(
            sim.engine, projections, seq=30, expected_hash=b"\0" * 32,
            reader=lambda _conn, replayed: replayed.position,
        )  # fmt: skip
        assert cache.builds == 4
        cache.clear()
        assert cache.cached_seqs(sim.engine) == []
