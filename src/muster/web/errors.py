"""The web edge of the error tree (R12): status codes, problem+json and error pages.

``install(app)`` registers the handlers; imported by ``web.app`` only (and by tests for
``STATUS_BY_ERROR``). Users see a translated message, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from muster.bootstrap import Muster
from muster.core.errors import (
    AuthenticationFailed,
    ChainBroken,
    ConcurrencyConflict,
    ConfigurationError,
    DomainError,
    MusterError,
    NotFound,
    PackInvalid,
    PermissionDenied,
    SignInRateLimited,
    ValidationFailed,
)
from muster.web import auth, deps, i18n
from muster.web.i18n import N_
from muster.web.templating import Page

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[MusterError], int] = {
    MusterError: 500,
    DomainError: 409,
    ValidationFailed: 422,
    PackInvalid: 422,
    NotFound: 404,
    AuthenticationFailed: 401,
    SignInRateLimited: 429,
    PermissionDenied: 403,
    ConcurrencyConflict: 409,
    ConfigurationError: 500,
    ChainBroken: 500,
}

STATUS_TITLES: dict[int, str] = {
    400: N_("Bad request"),
    401: N_("Sign-in required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
    500: N_("Server error"),
}

# Keys are "code" or "code:reason-or-field"; the most specific one wins.
MESSAGES: dict[str, str] = {
    "error": N_("Something went wrong."),
    "domain": N_("The request was refused by a rule of the platform."),
    "validation": N_("Some of the input is not valid."),
    "validation:title": N_("Enter a title of 1 to 200 characters."),
    "validation:category": N_("Choose one of the four incident categories."),
    "validation:location": N_(
        "The latitude must be between -90 and 90 and the longitude between "
        "-180 and 180."
    ),
    "validation:description": N_("The description must be at most 5000 characters."),
    "validation:department": N_("An incident needs a reporting department."),
    "validation:language": N_("Choose Chinese or English."),
    "pack_invalid": N_("The deployment pack has %(count)s problem(s)."),
    "not_found": N_("The page or record you asked for does not exist."),
    "unknown_department": N_("That department does not exist."),
    "unknown_api_key": N_("That API key does not exist."),
    "username_taken": N_("That username is already taken."),
    "invalid_user": N_("The account details are not valid."),
    "authentication": N_("Wrong username or password."),
    "authentication:sign_in_required": N_("Please sign in to continue."),
    "authentication:api_key": N_(
        "The API key is missing, malformed, unknown or revoked."
    ),
    "rate_limited": N_(
        "Too many failed sign-ins. Wait a few minutes before trying again."
    ),
    "permission": N_("You do not have permission to do this."),
    "permission:csrf": N_(
        "The form's security token is missing or does not match. "
        "Reload the page and try again."
    ),
    "conflict": N_("Someone else changed this at the same time. Please try again."),
    "configuration": N_(
        "The server is not configured correctly. Please tell the administrator."
    ),
    "chain_broken": N_(
        "The event log failed verification. Please tell the administrator."
    ),
    "unexpected": N_(
        "An unexpected error occurred. It has been logged; please try again later."
    ),
    "json_invalid": N_("The request body is not valid JSON."),
    "request_validation": N_("Some fields are missing or have the wrong type."),
    "http": N_("The request could not be handled."),
}


def status_for(error: MusterError) -> int:
    """Return the HTTP status of an error: its nearest mapped class in the tree."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def message_for(error: MusterError, language: str) -> str:
    """Return the translated, user-facing message of an error."""
    detail = error.params.get("reason") or error.params.get("field")
    codes = [cls.code for cls in type(error).__mro__ if issubclass(cls, MusterError)]
    for code in codes:
        for key in (f"{code}:{detail}", code):
            if key in MESSAGES:
                return i18n.translate(language, MESSAGES[key], **_safe(error.params))
    return i18n.translate(language, MESSAGES["error"])


def _safe(params: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in params.items() if isinstance(value, int | str)}


def is_api(request: Request) -> bool:
    """Tell whether the request gets problem+json (API) rather than an HTML page."""
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def problem(
    request: Request, *, status: int, code: str, detail: str, **extra: Any
) -> JSONResponse:
    """Return an RFC 9457 problem+json response in the request's language."""
    language = getattr(request.state, "language", None) or _fallback_language(request)
    body = {
        "type": f"urn:muster:problem:{code}",
        "title": i18n.translate(language, STATUS_TITLES.get(status, MESSAGES["http"])),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _fallback_language(request: Request) -> str:
    muster: Muster = request.app.state.muster
    return (
        i18n.supported(request.cookies.get(auth.LANGUAGE_COOKIE))
        or i18n.negotiate(request.headers.get("accept-language"))
        or muster.settings.default_language
    )


async def _page_context(request: Request) -> Page:
    muster: Muster = request.app.state.muster
    try:
        user = await run_in_threadpool(deps.optional_user, request, muster)
    except Exception:  # the error page must render even if the database is down
        logger.exception("could not resolve the session for an error page")
        user = None
    language = (
        i18n.supported(user.view.language) if user else None
    ) or _fallback_language(request)
    return Page(request=request, muster=muster, language=language, user=user)


async def error_page(request: Request, *, status: int, message_key: str) -> Response:
    """Render the translated HTML error page."""
    page = await _page_context(request)
    return page.render(
        "error.html",
        status_code=status,
        title=page.translate(STATUS_TITLES.get(status, MESSAGES["http"])),
        message=page.translate(message_key),
        status=status,
    )


async def _on_muster_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, MusterError)  # noqa: S101 - registered for this class only
    status = status_for(error)
    if is_api(request):
        language = getattr(request.state, "language", None) or _fallback_language(
            request
        )
        return problem(
            request,
            status=status,
            code=error.code,
            detail=message_for(error, language),
            params=_safe(error.params),
        )
    if status == 401 and not isinstance(error, SignInRateLimited):
        target = str(request.url.path) if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target = f"{target}?{request.url.query}"
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", 303)
    page = await _page_context(request)
    return page.render(
        "error.html",
        status_code=status,
        title=page.translate(STATUS_TITLES.get(status, MESSAGES["http"])),
        message=message_for(error, page.language),
        status=status,
    )


async def _on_request_validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101
    problems = [
        {
            "loc": [str(part) for part in item.get("loc", ())],
            "message": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors()
    ]
    is_json_error = any(item["type"] == "json_invalid" for item in problems)
    key = "json_invalid" if is_json_error else "request_validation"
    if not is_api(request):
        return await error_page(request, status=422, message_key=MESSAGES[key])
    language = getattr(request.state, "language", None) or _fallback_language(request)
    detail = i18n.translate(language, MESSAGES[key])
    return problem(request, status=422, code=key, detail=detail, errors=problems)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # noqa: S101
    status = error.status_code
    key = {404: "not_found", 405: "http", 413: "http"}.get(status, "http")
    if not is_api(request):
        return await error_page(request, status=status, message_key=MESSAGES[key])
    language = _fallback_language(request)
    title = STATUS_TITLES.get(status, MESSAGES["http"])
    detail = i18n.translate(language, MESSAGES[key] if key != "http" else title)
    return problem(request, status=status, code=f"http_{status}", detail=detail)


async def _on_unexpected(request: Request, error: Exception) -> Response:
    logger.exception(
        "unexpected error on %s %s", request.method, request.url.path, exc_info=error
    )
    if not is_api(request):
        try:
            return await error_page(
                request, status=500, message_key=MESSAGES["unexpected"]
            )
        except Exception:  # never let the error page itself leak a trace
            logger.exception("the error page failed to render")
    detail = i18n.translate(_fallback_language(request), MESSAGES["unexpected"])
    return problem(request, status=500, code="unexpected", detail=detail)


def install(app: FastAPI) -> None:
    """Register the one mapping of errors to responses on the app."""
    app.add_exception_handler(MusterError, _on_muster_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


__all__ = [
    "MESSAGES",
    "PROBLEM_JSON",
    "STATUS_BY_ERROR",
    "install",
    "is_api",
    "message_for",
    "problem",
    "status_for",
]
