"""The situation map page (the common operating picture): ``GET /situation/map``.

The page is a Leaflet map (``/static/leaflet/``, from the xstatic-leaflet package;
no CDN) driven by ``static/map.js``, which fetches ``/api/v1/situation/map/layers``,
follows the live feed and re-fetches after the events in ``LIVE_EVENT_TYPES``; a
click on an incident shows its cascade in the side panel (department names from
here). With a ``map_tile_url`` setting the page draws that tile server under the
layers and allows its origin in the page's Content-Security-Policy (images only).
Imported by ``web.app``, which mounts ``router`` (it includes the incident's
situation page, ``incident_pages``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from muster.identity import queries as identity
from muster.situation import incident_pages
from muster.situation.api import LIVE_EVENT_TYPES
from muster.web.middleware import CONTENT_SECURITY_POLICY
from muster.web.templating import SignedInPage

router = APIRouter(include_in_schema=False)
router.include_router(incident_pages.router)  # /situation/incidents/{id}

IMAGES = "img-src 'self' data:"


def content_security_policy(tile_url: str) -> str:
    """Return the page's CSP: the site's, plus the tile server's origin for images."""
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return CONTENT_SECURITY_POLICY
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace(IMAGES, f"{IMAGES} {origin}")


@router.get("/situation/map")
def situation_map(page: SignedInPage) -> Response:
    """Show the live map: incidents, triggers, observations, CAP areas, tasks."""
    muster = page.muster
    with muster.engine.connect() as conn:
        head = muster.store.head(conn)[0]
        departments = {
            item.code: item.name(page.language)
            for item in identity.list_departments(conn)
        }
    tile_url = muster.settings.map_tile_url
    response = page.render(
        "situation_map.html",
        feed_after=head,
        event_types=list(LIVE_EVENT_TYPES),
        tile_url=tile_url,
        layers_url="/api/v1/situation/map/layers",
        departments=departments,
    )
    response.headers["Content-Security-Policy"] = content_security_policy(tile_url)
    return response


__all__ = ["content_security_policy", "router"]
