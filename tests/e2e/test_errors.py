"""The error edge: status mapping, problem+json, error pages, body limits, headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from muster.bootstrap import Muster
from muster.core.errors import ERROR_TREE, MusterError
from muster.settings import Settings
from muster.web.app import create_app
from muster.web.errors import STATUS_BY_ERROR, status_for
from tests import factories
from tests.e2e.client import WebClient, head, issue_api_key, running_server, web_client

EXPECTED_STATUS = {
    "AuthenticationFailed": 401,
    "SignInRateLimited": 429,
    "PermissionDenied": 403,
    "NotFound": 404,
    "ConcurrencyConflict": 409,
    "DomainError": 409,
    "ValidationFailed": 422,
    "PackInvalid": 422,
    "ConfigurationError": 500,
    "ChainBroken": 500,
    "MusterError": 500,
}


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving the test deployment."""
    factories.department(muster, "EMB")
    factories.user(muster, "alice")
    with web_client(settings, muster) as client:
        yield client


def _all_subclasses(cls: type[MusterError]) -> set[type[MusterError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


class TestStatusMapping:
    def test_every_class_of_the_tree_has_its_own_mapping(self) -> None:
        """Each class in ERROR_TREE maps to the status its docstring promises."""
        mapped = {cls.__name__: STATUS_BY_ERROR.get(cls) for cls in ERROR_TREE}

        assert mapped == EXPECTED_STATUS

    def test_every_subclass_anywhere_resolves_to_a_status(self) -> None:
        """Part-specific errors (e.g. UsernameTaken) inherit a mapped status."""
        import muster.identity.domain.errors  # noqa: F401 - register the subclasses

        statuses = {
            cls.__name__: status_for(cls.__new__(cls))
            for cls in _all_subclasses(MusterError)
        }

        assert statuses["UsernameTaken"] == 409
        assert statuses["UnknownDepartment"] == 404
        assert statuses["InvalidUserData"] == 422
        assert all(
            status in {401, 403, 404, 409, 422, 429, 500}
            for status in statuses.values()
        )


class TestBadRequests:
    def test_oversized_declared_body_is_refused_before_anything_is_written(
        self, web: WebClient, muster: Muster, settings: Settings
    ) -> None:
        """A Content-Length over the limit gets 413 and the log does not move."""
        key = issue_api_key(muster, "EMB")
        before = head(muster)
        body = b'{"title": "' + b"x" * settings.max_body_bytes + b'"}'

        response = web.post(
            "/api/incidents",
            content=body,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
            },
        )

        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"
        assert head(muster) == before

    def test_oversized_chunked_body_is_counted_and_refused(
        self, web: WebClient, muster: Muster, settings: Settings
    ) -> None:
        """A chunked body without Content-Length is counted as it streams in."""
        key = issue_api_key(muster, "EMB")
        before = head(muster)

        def chunks() -> Iterator[bytes]:
            yield b'{"title": "'
            for _ in range(settings.max_body_bytes // 4096 + 2):
                yield b"x" * 4096
            yield b'"}'

        response = web.post(
            "/api/incidents",
            content=chunks(),
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
            },
        )

        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert head(muster) == before

    def test_malformed_json_is_a_clear_422_problem(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Broken JSON gets 422 problem+json that says so, with no traceback."""
        key = issue_api_key(muster, "EMB")
        before = head(muster)

        response = web.post(
            "/api/incidents",
            content=b'{"title": "unterminated',
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
            },
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "json_invalid"
        assert response.json()["detail"] == "The request body is not valid JSON."
        assert "Traceback" not in response.text
        assert head(muster) == before

    def test_schema_violation_lists_fields_without_input_echo(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A wrong field type gets 422 with the field's location."""
        key = issue_api_key(muster, "EMB")

        response = web.post(
            "/api/incidents",
            json={
                "title": "t",
                "category": "VOLCANO",
                "latitude": "north",
                "longitude": 1,
            },
            headers={"Authorization": f"Bearer {key}"},
        )

        assert response.status_code == 422
        locations = {tuple(item["loc"]) for item in response.json()["errors"]}
        assert ("body", "category") in locations
        assert ("body", "latitude") in locations

    def test_domain_validation_is_translated(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A rule violation from the domain becomes a translated 422 problem."""
        key = issue_api_key(muster, "EMB")

        response = web.post(
            "/api/incidents",
            json={
                "title": "t",
                "category": "PUBLIC_HEALTH",
                "latitude": 95,
                "longitude": 1,
            },
            headers={"Authorization": f"Bearer {key}", "Accept-Language": "zh-CN"},
        )

        assert response.status_code == 422
        assert response.json()["params"] == {"field": "location"}
        assert "纬度须在 -90 至 90 之间" in response.json()["detail"]


class TestNotFound:
    def test_missing_incident_is_404_problem_on_the_api(
        self, web: WebClient, muster: Muster
    ) -> None:
        """An unknown incident id gets 404 problem+json."""
        key = issue_api_key(muster, "EMB")

        response = web.get("/api/incidents/nope", headers={"X-API-Key": key})

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_missing_page_is_a_translated_html_page(self, web: WebClient) -> None:
        """An unknown page gets the HTML error page in the visitor's language."""
        response = web.get("/no-such-page", headers={"Accept-Language": "zh-CN"})

        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "未找到" in response.text


class TestUnexpectedErrors:
    def test_unexpected_exception_is_a_generic_500_without_trace(
        self, settings: Settings, muster: Muster, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A bug answers 500 with a generic message and is logged on the server."""
        app = create_app(settings, muster=muster)

        def explode() -> None:
            raise RuntimeError("secret internal detail")

        app.add_api_route("/api/explode", explode)
        app.add_api_route("/explode", explode)

        with running_server(app) as base_url:
            # The server closes a connection after an unhandled error: one each.
            api = httpx.get(f"{base_url}/api/explode")
            page = httpx.get(f"{base_url}/explode")

        assert api.status_code == 500
        assert api.json()["code"] == "unexpected"
        assert page.status_code == 500
        for response in (api, page):
            assert "secret internal detail" not in response.text
            assert "Traceback" not in response.text
        assert "secret internal detail" in caplog.text


class TestSecurityHeaders:
    def test_pages_carry_security_headers(self, web: WebClient) -> None:
        """Every response forbids framing and sniffing and restricts sources to self."""
        response = web.get("/signin")

        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
