"""Composition root: engine, event store, projections, handlers and the bus (R6).

Imported by the web app factory, the CLI and tests; imports every part.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from muster.alerting import handlers as alerting_handlers
from muster.alerting.domain.model import AlertContent
from muster.alerting.handlers import Render
from muster.alerting.projections import PROJECTIONS as ALERTING_PROJECTIONS
from muster.alerting.signing import alert_signer, render_alert
from muster.catalog.handlers import COMMAND_HANDLERS as CATALOG_HANDLERS
from muster.catalog.projections import PROJECTIONS as CATALOG_PROJECTIONS
from muster.core.bus import Handler, MessageBus
from muster.core.clock import Clock, SystemClock
from muster.core.db import make_engine
from muster.core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PermissionDenied,
)
from muster.core.eventlog.projections import ProjectionSet
from muster.core.eventlog.signing import SigningKey, load_signing_key
from muster.core.eventlog.store import SqlEventStore
from muster.core.messages import Actor, Command
from muster.core.uow import LogContext, SharedUnitOfWork, UnitOfWork
from muster.drills.cap_guard import exercise_cap_only
from muster.drills.handlers import COMMAND_HANDLERS as DRILL_HANDLERS
from muster.identity import handlers as identity_handlers
from muster.identity.passwords import Argon2PasswordHasher, PasswordHasher
from muster.identity.projections import PROJECTIONS as IDENTITY_PROJECTIONS
from muster.ingest import handlers as ingest_handlers
from muster.ingest.domain.commands import IngestCap, IngestFile
from muster.ingest.projections import PROJECTIONS as INGEST_PROJECTIONS
from muster.ingest.quality import ConsistencyRule
from muster.notify import handlers as notify_handlers
from muster.notify.channels import (
    Channels,
    SmsSettings,
    SmtpSettings,
    make_channels,
)
from muster.notify.projections import PROJECTIONS as NOTIFY_PROJECTIONS
from muster.resources.allocation_handlers import ALLOCATION_HANDLERS
from muster.resources.handlers import COMMAND_HANDLERS as RESOURCE_HANDLERS
from muster.resources.projections import PROJECTIONS as RESOURCE_PROJECTIONS
from muster.resources.request_handlers import REQUEST_HANDLERS
from muster.resources.request_projections import (
    PROJECTIONS as REQUEST_PROJECTIONS,
)
from muster.response.handlers import COMMAND_HANDLERS as RESPONSE_HANDLERS
from muster.response.projections import PROJECTIONS as RESPONSE_PROJECTIONS
from muster.review.handlers import COMMAND_HANDLERS as REVIEW_HANDLERS
from muster.review.projections import PROJECTIONS as REVIEW_PROJECTIONS
from muster.review.settings_handlers import (
    SETTINGS_HANDLERS as REVIEW_SETTINGS_HANDLERS,
)
from muster.review.settings_projections import (
    PROJECTIONS as REVIEW_SETTINGS_PROJECTIONS,
)
from muster.settings import Settings, environment_secret
from muster.sharing import handlers as sharing_handlers
from muster.sharing.pdp import DecisionPoint
from muster.sharing.projections import PROJECTIONS as SHARING_PROJECTIONS
from muster.situation import handlers as situation_handlers
from muster.situation.projections import PROJECTIONS as SITUATION_PROJECTIONS
from muster.situation.tasks import evaluate_quietly
from muster.training import handlers as training_handlers
from muster.training.projections import PROJECTIONS as TRAINING_PROJECTIONS

PROJECTIONS: tuple[ProjectionSet, ...] = (
    IDENTITY_PROJECTIONS,
    RESPONSE_PROJECTIONS,
    CATALOG_PROJECTIONS,
    INGEST_PROJECTIONS,
    NOTIFY_PROJECTIONS,
    SHARING_PROJECTIONS,
    SITUATION_PROJECTIONS,
    REVIEW_SETTINGS_PROJECTIONS,
    REVIEW_PROJECTIONS,
    TRAINING_PROJECTIONS,
    RESOURCE_PROJECTIONS,
    REQUEST_PROJECTIONS,
    ALERTING_PROJECTIONS,
)


@dataclass
class Muster:
    """A running deployment's services, built once per process."""

    settings: Settings
    engine: Engine
    clock: Clock
    store: SqlEventStore
    bus: MessageBus
    signing_key: SigningKey | None
    hasher: PasswordHasher
    pdp: DecisionPoint
    commit_listeners: list[Callable[[int], None]] = field(default_factory=list)

    def notify_commit(self, seq: int) -> None:
        """Tell in-process listeners (the live feed) that the log grew to seq."""
        for listener in list(self.commit_listeners):
            listener(seq)

    def require_signing_key(self) -> SigningKey:
        """Return the signing key or explain how to create it."""
        if self.signing_key is None:
            raise ConfigurationError("no checkpoint-signing key; run `muster init`")
        return self.signing_key


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    hasher: PasswordHasher | None = None,
    channels: Channels | None = None,
    live_channels: bool = False,
) -> Muster:
    """Build the services of a deployment from its settings.

    ``live_channels``: a drill's sandbox run with live channels lets its exercise
    public warnings reach real recipients (marked EXERCISE); otherwise held."""
    engine = engine or make_engine(settings.effective_database_url)
    key_path = settings.effective_signing_key_file
    signing_key = load_signing_key(key_path) if key_path.exists() else None
    hasher = hasher or Argon2PasswordHasher(fast=settings.mode == "test")
    store = SqlEventStore()
    muster_ref: list[Muster] = []
    context = LogContext(
        engine=engine,
        store=store,
        clock=clock or SystemClock(),
        projections=PROJECTIONS,
        signing_key=signing_key,
        checkpoint_every=settings.checkpoint_every,
        on_commit=lambda seq: muster_ref[0].notify_commit(seq),
        default_metadata=_drill_metadata(settings),
    )
    pdp = DecisionPoint()
    policy = identity_handlers.SignInPolicy(
        max_failures=settings.sign_in_max_failures,
        failure_window=timedelta(minutes=settings.sign_in_failure_window_minutes),
        session_lifetime=timedelta(hours=settings.session_absolute_hours),
    )
    handlers: dict[type[Command], Handler] = {
        **identity_handlers.command_handlers(hasher=hasher, policy=policy),
        **RESPONSE_HANDLERS,
        **CATALOG_HANDLERS,
        **ingest_handlers.command_handlers(
            timezone=settings.zone,
            consistency=ConsistencyRule(
                max_distance_km=settings.consistency_distance_km,
                relative_tolerance=settings.consistency_relative_tolerance,
                absolute_tolerance=settings.consistency_absolute_tolerance,
            ),
        ),
        **notify_handlers.command_handlers(
            channels=channels or _channels(settings, live_channels=live_channels),
            worker=uuid.uuid4().hex,
        ),
        **sharing_handlers.command_handlers(pdp=pdp),
        **REVIEW_SETTINGS_HANDLERS,
        **REVIEW_HANDLERS,
        **training_handlers.command_handlers(timezone=settings.zone),
        **DRILL_HANDLERS,
        **RESOURCE_HANDLERS,
        **REQUEST_HANDLERS,
        **ALLOCATION_HANDLERS,
        **alerting_handlers.command_handlers(_alert_renderer(settings)),
    }

    def dispatch(command: Command, uow: UnitOfWork) -> object:
        """Run another part's handler inside the caller's shared unit of work."""
        return handlers[type(command)](command, uow)

    handlers.update(situation_handlers.command_handlers(dispatch=dispatch))
    if settings.drill_id is not None:  # no real alert enters a drill (ADR 0013)
        handlers[IngestCap] = exercise_cap_only(handlers[IngestCap])
    for ingesting in (IngestFile, IngestCap):
        handlers[ingesting] = _then_evaluate(handlers[ingesting], lambda: bus)
    bus = MessageBus(context=context, handlers=handlers)

    def record_refusal(
        action: str, actor: Actor, refusal: PermissionDenied | AuthenticationFailed
    ) -> None:
        identity_handlers.record_refusal(
            action, actor, refusal, uow=bus.unit_of_work(actor)
        )

    bus.set_refusal_recorder(record_refusal)
    muster = Muster(
        settings=settings,
        engine=engine,
        clock=context.clock,
        store=store,
        bus=bus,
        signing_key=signing_key,
        hasher=hasher,
        pdp=pdp,
    )
    muster_ref.append(muster)
    return muster


def _then_evaluate(handler: Handler, bus: Callable[[], MessageBus]) -> Handler:
    """Evaluate trigger rules right after an ingest commits (not inside a batch,
    whose transaction is still open; the trigger tick takes those)."""

    def run(command: Command, uow: UnitOfWork) -> object:
        result = handler(command, uow)
        if not isinstance(uow, SharedUnitOfWork):
            evaluate_quietly(bus())
        return result

    return run


def _alert_renderer(settings: Settings) -> Render:
    """Render published alerts as CAP XML, signed when the deployment signs them."""

    def render(content: AlertContent, sent: str) -> tuple[bytes, bool]:
        signer = None
        if settings.sign_alerts:
            signer = alert_signer(settings.data_dir, content.sender)
        return render_alert(content, sent, signer)

    return render


def _drill_metadata(settings: Settings) -> dict[str, object] | None:
    """A drill's sandbox marks every event it appends as an exercise (ADR 0013)."""
    if settings.drill_id is None:
        return None
    return {"is_exercise": True, "drill_id": settings.drill_id}


def _channels(settings: Settings, *, live_channels: bool) -> Channels:
    """Return the real e-mail, webhook and SMS adapters of the deployment."""
    sms = SmsSettings(
        url=settings.sms_gateway_url,
        token=settings.sms_gateway_token.get_secret_value(),
    )
    return make_channels(
        _smtp(settings), sms=sms, secret=environment_secret, live_channels=live_channels
    )


def _smtp(settings: Settings) -> SmtpSettings:
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
    )


__all__ = ["PROJECTIONS", "Muster", "bootstrap"]
