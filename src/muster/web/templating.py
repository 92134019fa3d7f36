"""Server-rendered pages: the context every template gets, and the page dependencies.

Imported by the parts' ``pages.py`` and by the web error handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from muster.bootstrap import Muster
from muster.web import auth, i18n
from muster.web.deps import CurrentUser, Language, MusterDep, OptionalUser, SignedInUser


@dataclass(frozen=True, slots=True)
class Page:
    """What a page handler needs to render: request, language and the person."""

    request: Request
    muster: Muster
    language: str
    user: SignedInUser | None

    @property
    def csrf_token(self) -> str:
        """Return the CSRF token to embed in forms (issuing a cookie if needed)."""
        return auth.csrf_token(self.request, self.muster.settings)

    def translate(self, message: str, **params: object) -> str:
        """Translate a message into the page's language."""
        return i18n.translate(self.language, message, **params)

    def render(
        self, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """Render a template with the common context into an HTML response."""
        user = self.user
        department_name = (
            user.department.name(self.language) if user and user.department else ""
        )
        path = self.request.url.path
        query = self.request.url.query
        common = {
            "language": self.language,
            "user": user,
            "department_name": department_name,
            "csrf_token": self.csrf_token,
            "current_path": f"{path}?{query}" if query else path,
            # A drill's sandbox deployment (ADR 0013): every page carries the mark.
            "drill_id": self.muster.settings.drill_id,
        }
        html = (
            i18n.environment(self.language)
            .get_template(template)
            .render(**common, **context)
        )
        return HTMLResponse(html, status_code=status_code)


def page(
    request: Request, muster: MusterDep, language: Language, user: OptionalUser
) -> Page:
    """Return the page context for anyone (signed in or not)."""
    return Page(request=request, muster=muster, language=language, user=user)


PageDep = Annotated[Page, Depends(page)]


def signed_in_page(current: PageDep, user: CurrentUser) -> Page:
    """Return the page context of a signed-in person (CSRF-checked on POST)."""
    return Page(
        request=current.request,
        muster=current.muster,
        language=current.language,
        user=user,
    )


SignedInPage = Annotated[Page, Depends(signed_in_page)]

__all__ = ["Page", "PageDep", "SignedInPage", "page", "signed_in_page"]
