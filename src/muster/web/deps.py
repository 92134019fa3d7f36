"""Dependency aliases for routes: the deployment, who is asking, and in which language.

Imported by the parts' ``api.py`` and ``pages.py`` and by the web app (R13).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from muster.bootstrap import Muster
from muster.core.errors import AuthenticationFailed
from muster.core.messages import Actor
from muster.identity import queries
from muster.web import auth, i18n

API_KEY_PREFIX = "mk_"
_UNRESOLVED = object()


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """A person with a live session: their account, session and department."""

    view: queries.UserView
    session: auth.SessionCookie
    department: queries.DepartmentView | None

    @property
    def actor(self) -> Actor:
        """Return the actor this person acts as."""
        return self.view.as_actor()


def get_muster(request: Request) -> Muster:
    """Return the deployment the app was built with."""
    muster: Muster = request.app.state.muster
    return muster


MusterDep = Annotated[Muster, Depends(get_muster)]


def optional_user(request: Request, muster: MusterDep) -> SignedInUser | None:
    """Return the person whose valid session cookie came with the request, or None."""
    cached = getattr(request.state, "signed_in_user", _UNRESOLVED)
    if cached is None or isinstance(cached, SignedInUser):
        return cached
    user = _resolve_session(request, muster)
    request.state.signed_in_user = user
    return user


def _resolve_session(request: Request, muster: Muster) -> SignedInUser | None:
    settings = muster.settings
    cookie = auth.read_session_cookie(
        settings, request.cookies.get(auth.SESSION_COOKIE)
    )
    if cookie is None:
        return None
    now = muster.clock.now()
    if auth.is_idle_expired(settings, cookie, now=now):
        return None
    with muster.engine.connect() as conn:
        view = queries.session_user(conn, cookie.session_hash, now=auth.now_iso(now))
        department = (
            queries.get_department(conn, view.department_code) if view else None
        )
    if view is None:
        return None
    if not request.url.path.startswith(_NOT_ACTIVITY):
        # A long-lived, auto-reconnecting stream and the badge's background count are
        # not activity (the idle timeout must still end an unattended session);
        # everything else is.
        auth.issue_session_cookie(request, settings, token=cookie.token, now=now)
    return SignedInUser(view=view, session=cookie, department=department)


_NOT_ACTIVITY = ("/api/events/", "/notifications/count")

OptionalUser = Annotated[SignedInUser | None, Depends(optional_user)]


async def current_user(
    request: Request, muster: MusterDep, user: OptionalUser
) -> SignedInUser:
    """Return the signed-in person, checking CSRF on unsafe methods."""
    if user is None:
        raise AuthenticationFailed("sign in first", reason="sign_in_required")
    await auth.verify_csrf(request, muster.settings)
    return user


CurrentUser = Annotated[SignedInUser, Depends(current_user)]


def _api_key_actor(request: Request, muster: Muster) -> Actor | None:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer":
        credential = request.headers.get("x-api-key", "")
    if not credential and not header:
        return None
    key_id, _, secret = credential.strip().removeprefix(API_KEY_PREFIX).partition("_")
    actor = None
    if credential.strip().startswith(API_KEY_PREFIX) and key_id and secret:
        with muster.engine.connect() as conn:
            actor = queries.api_key_actor(conn, key_id, secret)
    if actor is None:
        raise AuthenticationFailed(
            "the API key is missing, malformed, unknown or revoked", reason="api_key"
        )
    return actor


async def current_actor(
    request: Request, muster: MusterDep, user: OptionalUser
) -> Actor:
    """Return the machine (API key) or person (session) making the request."""
    has_key = "authorization" in request.headers or "x-api-key" in request.headers
    if has_key:
        # No cookies are involved, so no CSRF check: a browser cannot add the header.
        actor = _api_key_actor(request, muster)
        if actor is not None:
            return actor
    signed_in = await current_user(request, muster, user)
    return signed_in.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def language(request: Request, muster: MusterDep, user: OptionalUser) -> str:
    """Return the language to answer in: account, cookie, Accept-Language, default."""
    chosen = (
        (i18n.supported(user.view.language) if user else None)
        or i18n.supported(request.cookies.get(auth.LANGUAGE_COOKIE))
        or i18n.negotiate(request.headers.get("accept-language"))
        or muster.settings.default_language
    )
    request.state.language = chosen
    return chosen


Language = Annotated[str, Depends(language)]

__all__ = [
    "CurrentActor",
    "CurrentUser",
    "Language",
    "MusterDep",
    "OptionalUser",
    "SignedInUser",
    "current_actor",
    "get_muster",
    "language",
    "optional_user",
]
