"""The live activity feed: a per-process hub that fans new log events out to streams.

The hub wakes on in-process commits, on PostgreSQL ``NOTIFY muster_events`` (a daemon
thread) and on a fallback poll (SQLite writes from other processes, e.g. the CLI), then
reads the log after its last position. Started by ``web.app``'s lifespan, which also
mounts ``router`` (the SSE endpoint). ``is_visible`` is the one visibility rule.

Fan-out is built for a thousand open streams per process (bench/live.py): the hub
checks visibility and queues an item only on the streams that may see it, each item's
SSE frame is formatted once per language, a stream sends whatever is queued in one
write, and one hub timer (not one per stream and message) sends the heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from muster.bootstrap import Muster
from muster.core.db import is_postgres
from muster.core.eventlog.store import Envelope, Recorded
from muster.core.messages import Actor
from muster.core.uow import NOTIFY_CHANNEL
from muster.web.deps import CurrentActor, Language
from muster.web.notify_summaries import NOTIFY_PREFIX, notify_recipient
from muster.web.summaries import FeedItem, Summarizer

logger = logging.getLogger(__name__)

SECURITY_EVENT_TYPES = frozenset(
    {
        "identity.SignInFailed",
        "identity.AccessRefused",
        "identity.UserSignedIn",
        "identity.UserSignedOut",
        "identity.PasswordSet",
    }
)
SECURITY_EVENT_PREFIXES = ("identity.ApiKey",)
QUEUE_SIZE = 1000
READ_BATCH = 500
MAX_BACKLOG = 1000
HEARTBEAT_SECONDS = 15.0
HEARTBEAT = b": heartbeat\n\n"


def is_visible(envelope: Envelope, actor: Actor) -> bool:
    """Tell whether an actor may see an event in the feed (security events: admins;
    notifications: their recipient only)."""
    if envelope.type.startswith(NOTIFY_PREFIX):
        recipient = notify_recipient(envelope)
        return actor.kind == "user" and recipient is not None and recipient == actor.id
    if envelope.type in SECURITY_EVENT_TYPES or envelope.type.startswith(
        SECURITY_EVENT_PREFIXES
    ):
        return actor.has_role("admin")
    if envelope.type in SHARING_PRIVATE_TYPES:
        return actor.has_role("admin") or _party_to(envelope, actor)
    return actor.kind in ("user", "api_key", "system")


SHARING_PRIVATE_TYPES = frozenset(
    {
        "sharing.AccessDecided",
        "sharing.AccessRequested",
        "sharing.AccessRequestDecided",
        "sharing.BreakGlassOpened",
        "sharing.PersonalDataNoticeDue",
        "sharing.PersonalDataNoticeGiven",
    }
)
"""Who read whose data is the provider's and the reader's business (ADR 0010)."""


def _party_to(envelope: Envelope, actor: Actor) -> bool:
    data = envelope.data
    if actor.kind != "user":
        return False
    if actor.id in (data.get("user_id"), envelope.actor_id):
        return True
    departments = {data.get("provider"), data.get("consumer"), data.get("department")}
    return actor.department is not None and actor.department in departments


@dataclass(eq=False, slots=True)
class Delivery:
    """One feed item on its way to the streams, formatted once per language.

    A thousand open dashboards mostly share two languages: the SSE frame is built
    (``json.dumps``) the first time a stream asks for a language, then reused.
    """

    item: FeedItem
    frames: dict[str, bytes] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        """Return the event's position in the log."""
        return self.item.envelope.seq

    def frame(self, language: str) -> bytes:
        """Return the SSE frame for a language."""
        frame = self.frames.get(language)
        if frame is None:
            frame = self.frames[language] = _format(self.item, language)
        return frame


Entry = Delivery | bytes | None
"""What a stream's queue holds: an item, raw bytes to send (a heartbeat), or stop."""


@dataclass(eq=False)
class Subscription:
    """One stream's queue; the hub puts in only the items its actor may see."""

    actor: Actor | None = None
    queue: asyncio.Queue[Entry] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    is_lagging: bool = False


class FeedHub:
    """Reads new events once per process and hands them to every subscriber."""

    def __init__(self, muster: Muster) -> None:
        self.muster = muster
        self.summarizer = Summarizer(muster)
        self.last_seq = 0
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._listener: threading.Thread | None = None

    async def start(self) -> None:
        """Start following the log from its current head."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.last_seq = await asyncio.to_thread(self._head)
        self.muster.commit_listeners.append(self._on_commit)
        if is_postgres(self.muster.engine):
            self._listener = threading.Thread(
                target=self._listen, name="muster-feed-listen", daemon=True
            )
            self._listener.start()
        self._pump_task = asyncio.create_task(self._pump(), name="muster-feed")
        self._heartbeat_task = asyncio.create_task(
            self._heartbeat(), name="muster-feed-heartbeat"
        )
        self._chain_signal_handlers()

    async def stop(self) -> None:
        """End every stream and stop following the log."""
        self._stopping.set()
        self.close_streams()
        with contextlib.suppress(ValueError):
            self.muster.commit_listeners.remove(self._on_commit)
        for task in (self._pump_task, self._heartbeat_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 5.0)

    def subscribe(self, actor: Actor | None = None) -> Subscription:
        """Register a new stream; it receives every item after the current position
        (only those the actor may see, when one is given)."""
        subscription = Subscription(actor)
        if self._stopping.is_set():
            subscription.queue.put_nowait(None)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a stream (its client went away)."""
        self._subscribers.discard(subscription)

    def close_streams(self) -> None:
        """Tell every open stream to end (server shutdown)."""
        for subscription in list(self._subscribers):
            _offer(subscription, None)

    def close_streams_threadsafe(self) -> None:
        """End every open stream, from any thread (signal handlers, test servers)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self.close_streams)

    def wake(self) -> None:
        """Ask the hub to look for new events now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._wake.set)

    def _on_commit(self, _seq: int) -> None:
        self.wake()

    def _head(self) -> int:
        with self.muster.engine.connect() as conn:
            return self.muster.store.head(conn)[0]

    async def _pump(self) -> None:
        assert self._wake is not None  # noqa: S101 - set in start()
        poll = self.muster.settings.feed_poll_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll)
            self._wake.clear()
            try:
                items = await asyncio.to_thread(self.read_items, self.last_seq)
            except Exception:  # keep the feed alive through a database hiccup
                logger.exception("the live feed could not read the log")
                continue
            for item in items:
                self.last_seq = item.envelope.seq
                self._fan_out(Delivery(item))
            if len(items) == READ_BATCH:
                self._wake.set()

    def _fan_out(self, delivery: Delivery) -> None:
        # Filtered here, not in each stream: a stream is woken only for what it sends.
        envelope = delivery.item.envelope
        for subscription in list(self._subscribers):
            actor = subscription.actor
            if actor is None or is_visible(envelope, actor):
                _offer(subscription, delivery)

    async def _heartbeat(self) -> None:
        # One timer for all streams (not one per stream and message): every
        # HEARTBEAT_SECONDS each idle stream gets a comment line, so proxies keep it.
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for subscription in list(self._subscribers):
                if subscription.queue.empty():
                    _offer(subscription, HEARTBEAT)

    def recent(self, actor: Actor, *, limit: int = 20) -> tuple[list[FeedItem], int]:
        """Return the newest items the actor may see (newest first) and the head seq."""
        with self.muster.engine.connect() as conn:
            head = self.muster.store.head(conn)[0]
            records = self.muster.store.read_all(conn, after=max(0, head - 10 * limit))
            visible = [item for item in records if is_visible(item.envelope, actor)]
            items = [self.summarizer.item(conn, item) for item in visible[-limit:]]
        return items[::-1], head

    def read_items(self, after: int, *, limit: int = READ_BATCH) -> list[FeedItem]:
        """Read the log after a position and summarise each event (blocking)."""
        with self.muster.engine.connect() as conn:
            records: list[Recorded] = self.muster.store.read_all(
                conn, after=after, limit=limit
            )
            return [self.summarizer.item(conn, record) for record in records]

    def _listen(self) -> None:
        url = self.muster.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.wake()  # catch up on whatever happened while disconnected
                    while not self._stopping.is_set():
                        for _notice in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error:
                logger.warning("live feed LISTEN connection lost; reconnecting")
                self._stopping.wait(1.0)

    def _chain_signal_handlers(self) -> None:
        # The server waits for open responses before shutting down, and a feed stream
        # never finishes by itself: on SIGINT/SIGTERM end the streams first, then call
        # the server's own handler. Only the main thread may touch signal handlers.
        if threading.current_thread() is not threading.main_thread():
            return
        for number in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(number)
            if callable(previous):
                signal.signal(number, self._signal_handler(previous))

    def _signal_handler(
        self, previous: Callable[[int, FrameType | None], Any]
    ) -> Callable[[int, FrameType | None], None]:
        def handle(number: int, frame: FrameType | None) -> None:
            self._stopping.set()
            self.close_streams_threadsafe()
            previous(number, frame)

        return handle


def _offer(subscription: Subscription, item: Entry) -> None:
    try:
        subscription.queue.put_nowait(item)
    except asyncio.QueueFull:
        # A stalled client: end its stream; EventSource reconnects with Last-Event-ID
        # and resumes from the log.
        subscription.is_lagging = True


router = APIRouter(tags=["feed"])


@router.get(
    "/api/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def event_stream(
    request: Request,
    actor: CurrentActor,
    language: Language,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Stream log events the caller may see as server-sent events.

    Resumes after ``Last-Event-ID`` (sent by reconnecting browsers) or ``?after=seq``.
    """
    hub: FeedHub = request.app.state.feed_hub
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    subscription = hub.subscribe(actor)
    return StreamingResponse(
        _events(hub, subscription, actor=actor, language=language, resume=resume),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    hub: FeedHub,
    subscription: Subscription,
    *,
    actor: Actor,
    language: str,
    resume: int | None,
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 3000\n\n"
        sent = 0
        if resume is not None:
            sent = max(resume, hub.last_seq - MAX_BACKLOG)
            while True:
                backlog = await asyncio.to_thread(hub.read_items, sent)
                for item in backlog:
                    sent = item.envelope.seq
                    if is_visible(item.envelope, actor):
                        yield _format(item, language)
                if len(backlog) < READ_BATCH:
                    break
        queue = subscription.queue
        while not (subscription.is_lagging and queue.empty()):
            entry = await queue.get()
            frames: list[bytes] = []
            while True:  # whatever else is queued goes out in the same write
                if entry is None:
                    if frames:
                        yield b"".join(frames)
                    return
                if isinstance(entry, bytes):
                    frames.append(entry)
                elif entry.seq > sent:  # not already sent from the backlog
                    sent = entry.seq
                    frames.append(entry.frame(language))
                if queue.empty():
                    break
                entry = queue.get_nowait()
            if frames:
                yield frames[0] if len(frames) == 1 else b"".join(frames)
    finally:
        hub.unsubscribe(subscription)


def _format(item: FeedItem, language: str) -> bytes:
    data = json.dumps(item.payload(language), ensure_ascii=False)
    envelope = item.envelope
    return f"id: {envelope.seq}\nevent: {envelope.type}\ndata: {data}\n\n".encode()


__all__ = ["FeedHub", "Subscription", "event_stream", "is_visible", "router"]
