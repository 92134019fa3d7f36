"""Server-rendered identity pages: sign in, sign out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import AuthenticationFailed
from muster.core.messages import Actor
from muster.identity.domain.commands import ChangeLanguage, SignIn, SignOut
from muster.web import auth, i18n
from muster.web.errors import message_for, status_for
from muster.web.templating import PageDep, SignedInPage

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


@router.get("/signin")
def signin_form(page: PageDep, next: str = "/") -> Response:
    """Show the sign-in form (or go on if already signed in)."""
    target = next if auth.is_safe_next(next) else "/"
    if page.user is not None:
        return RedirectResponse(target, status_code=303)
    return page.render("signin.html", next=target, username="", error=None)


@router.post("/signin")
async def signin(
    page: PageDep,
    username: Text = "",
    password: Text = "",
    next: Text = "/",
) -> Response:
    """Check the credentials, open a session and go to the requested page."""
    settings = page.muster.settings
    await auth.verify_csrf(page.request, settings)
    target = next if auth.is_safe_next(next) else "/"
    token = auth.new_token()
    client = page.request.client.host if page.request.client else ""
    command = SignIn(
        username=username.strip()[:64],
        password=password,
        session_hash=auth.session_hash(token),
        client=client,
    )
    try:
        # Password hashing is slow on purpose; keep it off the event loop.
        await run_in_threadpool(page.muster.bus.handle, command, _anonymous())
    except AuthenticationFailed as error:  # includes SignInRateLimited (429)
        return page.render(
            "signin.html",
            status_code=status_for(error),
            next=target,
            username=username,
            error=message_for(error, page.language),
        )
    auth.issue_session_cookie(
        page.request, settings, token=token, now=page.muster.clock.now()
    )
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(page: SignedInPage) -> Response:
    """End the session and forget the cookie."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    page.muster.bus.handle(
        SignOut(session_hash=page.user.session.session_hash), page.user.actor
    )
    auth.queue_cookie_deletion(
        page.request, page.muster.settings, name=auth.SESSION_COOKIE
    )
    return RedirectResponse("/signin", status_code=303)


@router.post("/language")
async def change_language(
    page: PageDep,
    language: Text = "",
    next: Text = "/",
) -> Response:
    """Switch the interface language (stored on the account when signed in)."""
    settings = page.muster.settings
    await auth.verify_csrf(page.request, settings)
    chosen = i18n.supported(language) or page.language
    if page.user is not None and chosen != page.user.view.language:
        await run_in_threadpool(
            page.muster.bus.handle, ChangeLanguage(language=chosen), page.user.actor
        )
    auth.queue_cookie(
        page.request,
        settings,
        name=auth.LANGUAGE_COOKIE,
        value=chosen,
        max_age=365 * 24 * 3600,
    )
    target = next if auth.is_safe_next(next) else "/"
    return RedirectResponse(target, status_code=303)


def _anonymous() -> Actor:
    # Nobody is signed in yet: the web edge asks on the visitor's behalf, with no roles.
    return Actor(kind="system", id="web")


__all__ = ["router"]
