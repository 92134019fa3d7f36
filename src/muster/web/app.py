"""The FastAPI application: routers, error mapping, middleware, feed and checkpoints.

``create_app(settings)`` is the factory used by tests and ``web.server``;
``create_app_from_env`` is the one for ``uvicorn --factory``. Imported by nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import xstatic.pkg.leaflet
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from muster.alerting import api as alerting_api
from muster.alerting import pages as alerting_pages
from muster.bootstrap import Muster, bootstrap
from muster.catalog import api as catalog_api
from muster.catalog import form_pages as catalog_form_pages
from muster.catalog import pages as catalog_pages
from muster.core.clock import isoformat_utc
from muster.core.db import WRITE_OPTION
from muster.core.uow import write_checkpoint
from muster.drills import api as drills_api
from muster.drills import control_pages as drills_control_pages
from muster.drills import pages as drills_pages
from muster.identity import api as identity_api
from muster.identity import pages as identity_pages
from muster.ingest import api as ingest_api
from muster.ingest import pages as ingest_pages
from muster.ingest.tasks import IngestTasks
from muster.notify import api as notify_api
from muster.notify import pages as notify_pages
from muster.notify.tasks import NotifyTasks
from muster.pack import api as pack_api
from muster.resources import allocation_pages as resources_allocation_pages
from muster.resources import api as resources_api
from muster.resources import pages as resources_pages
from muster.resources import request_api as resources_request_api
from muster.resources import request_pages as resources_request_pages
from muster.response import api as response_api
from muster.response import inbox_pages as response_inbox_pages
from muster.response import incident_pages as response_incident_pages
from muster.response import pages as response_pages
from muster.response import report_pages as response_report_pages
from muster.response.tasks import ResponseTasks
from muster.review import aar_pages as review_aar_pages
from muster.review import api as review_api
from muster.review import knowledge_pages as review_knowledge_pages
from muster.review import pages as review_pages
from muster.review import replay_pages as review_replay_pages
from muster.review import scorecard_pages as review_scorecard_pages
from muster.settings import Settings, get_settings
from muster.sharing import api as sharing_api
from muster.sharing import pages as sharing_pages
from muster.sharing.tasks import run_grant_loop
from muster.situation import api as situation_api
from muster.situation import coordination_api
from muster.situation import pages as situation_pages
from muster.situation.tasks import run_trigger_loop
from muster.training import api as training_api
from muster.training import pages as training_pages
from muster.web import errors, feed, i18n
from muster.web.deps import Language, MusterDep
from muster.web.middleware import BodyLimitMiddleware, ResponseHeadersMiddleware

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, *, muster: Muster | None = None) -> FastAPI:
    """Build the web application for a deployment (bootstrapping it if not given)."""
    i18n.load_all()
    app = FastAPI(
        title="Muster",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    app.state.muster = muster or bootstrap(settings)
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ResponseHeadersMiddleware)
    app.mount(  # before /static, which would take /static/leaflet/ too
        "/static/leaflet",
        StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR),
        name="leaflet",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        identity_api.router,
        identity_pages.router,
        response_api.router,
        response_pages.router,  # before incident_pages: /incidents/new
        response_incident_pages.router,
        response_inbox_pages.router,
        response_report_pages.router,
        catalog_api.router,
        catalog_form_pages.router,  # before catalog_pages: /catalog/new
        catalog_pages.router,
        ingest_api.router,
        ingest_pages.router,
        notify_api.router,
        notify_pages.router,
        sharing_api.router,
        sharing_pages.router,
        pack_api.router,
        situation_api.router,
        coordination_api.router,
        situation_pages.router,
        review_api.router,
        review_pages.router,
        review_aar_pages.router,
        review_replay_pages.router,
        review_knowledge_pages.router,
        review_scorecard_pages.router,
        training_api.router,
        training_pages.router,
        resources_api.router,
        resources_api.edxl_router,
        resources_request_api.router,
        resources_pages.router,
        resources_request_pages.router,
        resources_allocation_pages.router,
        drills_api.router,
        drills_control_pages.router,  # before /drills/{drill_id}
        drills_pages.router,
        alerting_api.router,
        alerting_api.public_router,
        alerting_pages.router,
        feed.router,
        operations,
    ):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Build the application from MUSTER_* environment settings (uvicorn --factory)."""
    return create_app(get_settings())


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    muster: Muster = app.state.muster
    hub = feed.FeedHub(muster)
    app.state.feed_hub = hub
    await hub.start()
    checkpoints = asyncio.create_task(_checkpoint_loop(muster), name="checkpoints")
    ingest_tasks = IngestTasks(muster)
    # A drill's sandbox (ADR 0013) plays its own injects; it never polls real feeds.
    ingest_tasks.start(feeds=muster.settings.drill_id is None)
    response_tasks = ResponseTasks(muster)
    response_tasks.start()
    notify_tasks = NotifyTasks(muster)
    notify_tasks.start()
    grants_stopping = asyncio.Event()
    grants = asyncio.create_task(run_grant_loop(muster, grants_stopping), name="grants")
    triggers = asyncio.create_task(
        run_trigger_loop(muster.bus, grants_stopping), name="triggers"
    )
    try:
        yield
    finally:
        grants_stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await grants
            await triggers
        await notify_tasks.stop()
        await response_tasks.stop()
        await ingest_tasks.stop()
        checkpoints.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpoints
        await hub.stop()


async def _checkpoint_loop(muster: Muster) -> None:
    interval = muster.settings.checkpoint_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(write_checkpoint_if_moved, muster)
        except SQLAlchemyError:
            logger.exception("could not write a periodic checkpoint")


def write_checkpoint_if_moved(muster: Muster) -> int | None:
    """Sign a checkpoint of the head if it moved since the last one; return its seq."""
    key = muster.signing_key
    if key is None:
        return None
    conn = muster.engine.connect().execution_options(**{WRITE_OPTION: True})
    try:
        with conn.begin():
            seq, hash_ = muster.store.head(conn)
            if seq == 0 or seq <= muster.store.last_checkpoint_seq(conn):
                return None
            created_at = isoformat_utc(muster.clock.now())
            write_checkpoint(
                conn, muster.store, key, seq=seq, hash_=hash_, created_at=created_at
            )
            return seq
    except IntegrityError:
        return None  # another worker checkpointed the same position first
    finally:
        conn.close()


operations = APIRouter(tags=["operations"])


@operations.get("/healthz")
def healthz(muster: MusterDep) -> JSONResponse:
    """Tell whether the service and its database answer, and the log's head."""
    try:
        with muster.engine.connect() as conn:
            head = muster.store.head(conn)[0]
    except SQLAlchemyError:
        logger.exception("health check: the database does not answer")
        return JSONResponse(
            {"ok": False, "database": False, "head": None}, status_code=503
        )
    return JSONResponse({"ok": True, "database": True, "head": head})


@operations.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request, language: Language) -> HTMLResponse:
    """List the API's operations from the OpenAPI schema (no external assets)."""
    schema = request.app.openapi()
    listed = [
        {
            "method": method.upper(),
            "path": path,
            "summary": details.get("summary", ""),
            "description": details.get("description", ""),
        }
        for path, methods in sorted(schema.get("paths", {}).items())
        for method, details in methods.items()
    ]
    template = i18n.environment(language).get_template("api_docs.html")
    html = template.render(
        language=language, operations=listed, version=schema["info"]["version"]
    )
    return HTMLResponse(html)


__all__ = ["create_app", "create_app_from_env", "write_checkpoint_if_moved"]
