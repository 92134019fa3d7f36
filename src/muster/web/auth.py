"""Sessions and CSRF protection for people using the web interface.

The ``muster_session`` cookie holds ``token.last_seen_epoch.mac`` (HMAC-SHA256 under the
secret key); only ``sha256(token)`` is recorded in the log. Idle expiry is checked from
the signed ``last_seen``; absolute expiry from the session row. CSRF uses a signed
double-submit cookie. Imported by ``web.deps`` and ``identity.pages``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from muster.core.clock import isoformat_utc
from muster.core.errors import PermissionDenied
from muster.settings import Settings

SESSION_COOKIE = "muster_session"
CSRF_COOKIE = "muster_csrf"
LANGUAGE_COOKIE = "muster_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PENDING_COOKIES = "muster.set_cookie"  # scope["state"] key read by PendingCookies


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """The verified content of a session cookie."""

    token: str
    last_seen: int

    @property
    def session_hash(self) -> str:
        """Return the hash under which the session is recorded."""
        return session_hash(self.token)


def new_token() -> str:
    """Return a fresh random 32-byte session token (URL-safe text)."""
    return secrets.token_urlsafe(32)


def session_hash(token: str) -> str:
    """Return the SHA-256 hex digest recorded for a session token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _mac(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret_key.get_secret_value().encode("utf-8")
    message = f"{purpose}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_cookie_value(settings: Settings, *, token: str, now: datetime) -> str:
    """Return the signed cookie value for a token last seen now."""
    body = f"{token}.{int(now.timestamp())}"
    return f"{body}.{_mac(settings, 'session', body)}"


def read_session_cookie(settings: Settings, value: str | None) -> SessionCookie | None:
    """Return the cookie's token and last-seen time if its signature is valid."""
    token, _, rest = (value or "").partition(".")
    last_seen, _, mac = rest.partition(".")
    body = f"{token}.{last_seen}"
    if not token or not last_seen.isdigit():
        return None
    if not hmac.compare_digest(mac, _mac(settings, "session", body)):
        return None
    return SessionCookie(token=token, last_seen=int(last_seen))


def is_idle_expired(
    settings: Settings, cookie: SessionCookie, *, now: datetime
) -> bool:
    """Tell whether the session was idle longer than the idle timeout."""
    idle_seconds = now.timestamp() - cookie.last_seen
    return idle_seconds > settings.session_idle_minutes * 60


def now_iso(now: datetime) -> str:
    """Return the timestamp format the session table compares against."""
    return isoformat_utc(now)


def new_csrf_value(settings: Settings) -> str:
    """Return a fresh signed CSRF token."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_mac(settings, 'csrf', nonce)}"


def is_valid_csrf_value(settings: Settings, value: str | None) -> bool:
    """Tell whether a CSRF cookie value carries our signature."""
    nonce, _, mac = (value or "").partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(settings, "csrf", nonce))


def csrf_token(request: Request, settings: Settings) -> str:
    """Return this browser's CSRF token, issuing a new cookie if it has none."""
    current = request.cookies.get(CSRF_COOKIE)
    if is_valid_csrf_value(settings, current):
        return str(current)
    cached = getattr(request.state, "new_csrf_token", None)
    if isinstance(cached, str):
        return cached
    token = new_csrf_value(settings)
    request.state.new_csrf_token = token
    queue_cookie(request, settings, name=CSRF_COOKIE, value=token, max_age=None)
    return token


async def verify_csrf(request: Request, settings: Settings) -> None:
    """Refuse an unsafe request whose CSRF field or header differs from the cookie."""
    if request.method not in UNSAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if (
        cookie is None
        or sent is None
        or not is_valid_csrf_value(settings, cookie)
        or not hmac.compare_digest(cookie, sent)
    ):
        raise PermissionDenied(
            "the form's security token is missing or does not match; reload the page",
            reason="csrf",
        )


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )


def queue_cookie(
    request: Request,
    settings: Settings,
    *,
    name: str,
    value: str,
    max_age: int | None,
    http_only: bool = True,
) -> None:
    """Attach a Set-Cookie header to whatever response this request gets."""
    carrier = Response()
    carrier.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=settings.is_secure_cookies,
        httponly=http_only,
        samesite="lax",
    )
    _pending(request).append(carrier.headers["set-cookie"])


def queue_cookie_deletion(request: Request, settings: Settings, *, name: str) -> None:
    """Attach a Set-Cookie header that removes a cookie."""
    carrier = Response()
    carrier.delete_cookie(
        name, path="/", secure=settings.is_secure_cookies, httponly=True, samesite="lax"
    )
    _pending(request).append(carrier.headers["set-cookie"])


def issue_session_cookie(
    request: Request, settings: Settings, *, token: str, now: datetime
) -> None:
    """Send (or refresh) the session cookie with last-seen = now."""
    queue_cookie(
        request,
        settings,
        name=SESSION_COOKIE,
        value=session_cookie_value(settings, token=token, now=now),
        max_age=int(settings.session_absolute_hours * 3600),
    )


def _pending(request: Request) -> list[str]:
    state = request.scope.setdefault("state", {})
    pending: list[str] = state.setdefault(_PENDING_COOKIES, [])
    return pending


def pending_cookies(scope_state: dict[str, object]) -> list[str]:
    """Return the Set-Cookie values queued during a request (used by middleware)."""
    pending = scope_state.get(_PENDING_COOKIES)
    return list(pending) if isinstance(pending, list) else []


def is_safe_next(target: str | None) -> bool:
    """Tell whether a post-sign-in target is a same-site relative path."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    return "\\" not in target and not any(ord(char) < 32 for char in target)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LANGUAGE_COOKIE",
    "SESSION_COOKIE",
    "UNSAFE_METHODS",
    "SessionCookie",
    "csrf_token",
    "is_idle_expired",
    "is_safe_next",
    "issue_session_cookie",
    "new_token",
    "now_iso",
    "pending_cookies",
    "queue_cookie",
    "queue_cookie_deletion",
    "read_session_cookie",
    "session_hash",
    "verify_csrf",
]
