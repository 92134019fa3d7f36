"""Sessions, CSRF and API keys at the web edge."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.messages import SYSTEM_ACTOR
from muster.identity import queries
from muster.identity.domain.commands import RevokeApiKey
from muster.response import queries as response_queries
from muster.settings import Settings
from tests import factories
from tests.e2e.client import WebClient, event_types, head, issue_api_key, web_client

INCIDENT = {
    "title": "Gas leak at Xiangjiang Road",
    "category": "ACCIDENT_DISASTER",
    "latitude": 28.2,
    "longitude": 112.9,
}


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving the test deployment."""
    factories.department(muster, "EMB")
    factories.user(muster, "alice")
    with web_client(settings, muster) as client:
        yield client


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock the test moves by hand."""
    return SimulatedClock(datetime(2025, 6, 1, 8, 0, tzinfo=UTC))


@contextlib.contextmanager
def _clocked(settings: Settings, clock: SimulatedClock) -> Iterator[WebClient]:
    muster = bootstrap(settings, clock=clock)
    factories.department(muster, "EMB")
    factories.user(muster, "alice")
    try:
        with web_client(settings, muster) as web:
            yield web
    finally:
        muster.engine.dispose()


class TestSignIn:
    def test_success_opens_a_session_recorded_by_its_hash(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A correct password redirects to the target and records the session hash."""
        before = head(muster)

        response = web.sign_in("alice", next_="/incidents/new")

        assert response.status_code == 303
        assert response.headers["location"] == "/incidents/new"
        token = web.http.cookies["muster_session"].split(".")[0]
        digest = hashlib.sha256(token.encode()).hexdigest()
        with muster.engine.connect() as conn:
            signed_in = muster.store.read_all(conn, after=before)
            user = queries.session_user(conn, digest, now="2000-01-01T00:00:00Z")
        assert [item.envelope.type for item in signed_in] == ["identity.UserSignedIn"]
        assert signed_in[0].envelope.data["session_hash"] == digest
        assert user is not None
        assert user.username == "alice"
        assert web.get("/api/me").json()["username"] == "alice"

    def test_wrong_password_is_logged_and_explained_in_chinese(
        self, settings: Settings, muster: Muster
    ) -> None:
        """A wrong password shows a translated message, no trace, and is logged."""
        factories.department(muster, "EMB")
        factories.user(muster, "alice")
        before = head(muster)

        with web_client(settings, muster, accept_language="zh-CN") as web:
            response = web.sign_in("alice", "wrong-password")

        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
        assert "Traceback" not in response.text
        with muster.engine.connect() as conn:
            failures = muster.store.read_all(conn, after=before)
        assert [item.envelope.type for item in failures] == ["identity.SignInFailed"]
        assert failures[0].envelope.data["reason"] == "wrong_password"
        assert failures[0].envelope.data["client"] == "127.0.0.1"

    def test_too_many_failures_are_rate_limited_and_logged(
        self, web: WebClient, settings: Settings, muster: Muster
    ) -> None:
        """After the allowed failures even the right password gets 429 (logged)."""
        for _ in range(settings.sign_in_max_failures):
            assert web.sign_in("alice", "wrong-password").status_code == 401
        before = head(muster)

        response = web.sign_in("alice")

        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
        assert "muster_session" not in web.http.cookies
        with muster.engine.connect() as conn:
            refusal = muster.store.read_all(conn, after=before)
        assert [item.envelope.type for item in refusal] == ["identity.SignInFailed"]
        assert refusal[0].envelope.data["reason"] == "rate_limited"

    def test_unsafe_next_target_is_ignored(self, web: WebClient) -> None:
        """Only same-site relative targets are followed after sign-in."""
        response = web.sign_in("alice", next_="//evil.example/phish")

        assert response.status_code == 303
        assert response.headers["location"] == "/"


class TestCsrf:
    def test_post_without_token_is_refused_and_writes_nothing(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A signed-in form post without the CSRF field is refused with 403."""
        web.sign_in("alice")
        before = head(muster)

        response = web.post("/incidents", data={**INCIDENT, "latitude": "28.2"})

        assert response.status_code == 403
        assert "security token" in response.text
        assert head(muster) == before

    def test_post_with_forged_token_is_refused_and_writes_nothing(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A token that differs from the cookie is refused, on forms and on the API."""
        web.sign_in("alice")
        before = head(muster)

        form = web.post("/incidents", data={"title": "x", "csrf_token": "forged.value"})
        api = web.post(
            "/api/incidents", json=INCIDENT, headers={"X-CSRF-Token": "forged.value"}
        )

        assert form.status_code == 403
        assert api.status_code == 403
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["code"] == "permission"
        assert head(muster) == before

    def test_api_post_with_matching_header_is_accepted(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A cookie-authenticated API post passes with the token in X-CSRF-Token."""
        web.sign_in("alice")

        response = web.post(
            "/api/incidents", json=INCIDENT, headers={"X-CSRF-Token": web.csrf_token}
        )

        assert response.status_code == 201
        assert event_types(muster)[-1] == "response.IncidentOpened"


class TestSessionExpiry:
    def test_idle_session_expires(
        self, settings: Settings, clock: SimulatedClock
    ) -> None:
        """After the idle timeout pages redirect to sign-in and the API answers 401."""
        with _clocked(settings, clock) as web:
            web.sign_in("alice")
            assert web.get("/").status_code == 200

            clock.advance(timedelta(minutes=settings.session_idle_minutes + 1))
            page = web.get("/incidents/new")
            api = web.get("/api/me")

        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=%2Fincidents%2Fnew"
        assert api.status_code == 401
        assert api.json()["code"] == "authentication"

    def test_cookie_with_forged_last_seen_is_rejected(
        self, settings: Settings, clock: SimulatedClock
    ) -> None:
        """Moving last_seen forward breaks the signature: idle time cannot be faked."""
        with _clocked(settings, clock) as web:
            web.sign_in("alice")
            token, last_seen, mac = web.http.cookies["muster_session"].split(".")
            clock.advance(timedelta(minutes=settings.session_idle_minutes + 1))
            forged = f"{token}.{int(last_seen) + 3600}.{mac}"
            web.http.cookies.set("muster_session", forged)

            response = web.get("/api/me")

        assert response.status_code == 401

    def test_activity_refreshes_idle_time_but_not_absolute_lifetime(
        self, settings: Settings, clock: SimulatedClock
    ) -> None:
        """Requests keep a session alive until its absolute lifetime ends."""
        short = settings.model_copy(update={"session_absolute_hours": 1.0})
        with _clocked(short, clock) as web:
            web.sign_in("alice")
            statuses = []
            for _ in range(3):
                clock.advance(timedelta(minutes=15))
                statuses.append(web.get("/").status_code)

            clock.advance(timedelta(minutes=16))
            expired = web.get("/")

        assert statuses == [200, 200, 200]
        assert expired.status_code == 303
        assert expired.headers["location"].startswith("/signin")


class TestSignOut:
    def test_sign_out_ends_the_session(self, web: WebClient, muster: Muster) -> None:
        """After sign-out the old cookie no longer authenticates."""
        web.sign_in("alice")
        old_cookie = web.http.cookies["muster_session"]

        response = web.post_form("/signout", {})

        assert response.status_code == 303
        assert response.headers["location"] == "/signin"
        assert event_types(muster)[-1] == "identity.UserSignedOut"
        web.http.cookies.set("muster_session", old_cookie)
        assert web.get("/api/me").status_code == 401


class TestApiKeys:
    def test_valid_key_opens_incident_for_its_department(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A connector key posts an incident for its own department (201)."""
        key = issue_api_key(muster, "EMB")

        response = web.post(
            "/api/incidents", json=INCIDENT, headers={"Authorization": f"Bearer {key}"}
        )

        assert response.status_code == 201
        with muster.engine.connect() as conn:
            incident = response_queries.get_incident(conn, response.json()["id"])
            last = muster.store.read_all(conn, after=head(muster) - 1)[0].envelope
        assert incident is not None
        assert incident.reporting_department == "EMB"
        assert (last.type, last.actor_kind, last.actor_id) == (
            "response.IncidentOpened",
            "api_key",
            "k1",
        )

    def test_x_api_key_header_is_accepted(self, web: WebClient, muster: Muster) -> None:
        """The key may also come in X-API-Key."""
        key = issue_api_key(muster, "EMB")

        response = web.get("/api/me", headers={"X-API-Key": key})

        assert response.status_code == 200
        assert response.json()["kind"] == "api_key"
        assert response.json()["department"]["code"] == "EMB"

    def test_revoked_key_is_refused(self, web: WebClient, muster: Muster) -> None:
        """A revoked key gets 401 and writes nothing."""
        key = issue_api_key(muster, "EMB")
        muster.bus.handle(RevokeApiKey(key_id="k1"), SYSTEM_ACTOR)
        before = head(muster)

        response = web.post(
            "/api/incidents", json=INCIDENT, headers={"Authorization": f"Bearer {key}"}
        )

        assert response.status_code == 401
        assert response.json()["code"] == "authentication"
        assert head(muster) == before

    def test_key_cannot_act_for_another_department(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A key naming another department gets 403 and the refusal is logged."""
        factories.department(muster, "FIRE")
        key = issue_api_key(muster, "EMB")
        before = head(muster)

        response = web.post(
            "/api/incidents",
            json={**INCIDENT, "reporting_department": "FIRE"},
            headers={"Authorization": f"Bearer {key}"},
        )

        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert event_types(muster, after=before) == ["identity.AccessRefused"]
        with muster.engine.connect() as conn:
            assert response_queries.list_incidents(conn) == []
