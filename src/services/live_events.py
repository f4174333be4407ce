"""Live ticket events: one LISTEN connection per server process, fanned out to every open stream.

`live_publish` sends a NOTIFY inside the transaction that changes a ticket; PostgreSQL delivers
it to every listening connection once that transaction commits (never for a rolled-back one),
so every server process hears every change, whichever process made it.

Each process keeps a single asyncpg connection listening on the channel and hands each
notification to the streams that may see it: same municipality, same ward when the stream is
ward-scoped, never a sensitive ticket. The connection is re-opened when it drops; since
notifications sent meanwhile are lost, every stream is then told to `resync` (re-fetch its
figures) instead of trusting an incomplete picture.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import asyncpg
from sqlalchemy.engine import make_url

from src.core.database import get_database
from src.services import access, session_service
from src.services.live_publish import (
    CHANNEL,
    TICKET_ASSIGNED,
    TICKET_CREATED,
    TICKET_ESCALATED,
    TICKET_UPDATED,
)
from src.services.principal import Principal

log = logging.getLogger("khanyisa.live")

TICKET_EVENTS = frozenset({TICKET_CREATED, TICKET_UPDATED, TICKET_ASSIGNED, TICKET_ESCALATED})
RESYNC = "resync"
READY = "ready"
PUBLIC_FIELDS = ("id", "tracking_number", "status", "category", "ward_id", "assigned_team_id")
QUEUE_SIZE = 256
HEALTH_CHECK_SECONDS = 30.0
READY_TIMEOUT_SECONDS = 10.0
RETRY_MILLISECONDS = 3000
# As often as the keep-alive comment: a stream whose session ended (logout, deactivation, a new
# role or ward) closes within this many seconds.
SESSION_CHECK_SECONDS = 15.0


@dataclass(eq=False)
class Subscription:
    """One open stream: the scope it may see and the events waiting for it."""

    municipality_id: str
    ward_id: str | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def wants(self, payload: dict[str, Any]) -> bool:
        if payload.get("event") not in TICKET_EVENTS:
            return False
        return access.live_event_visible(self.municipality_id, self.ward_id, payload)

    def offer(self, item: dict[str, Any]) -> None:
        """A stream that falls behind loses its backlog and is told to re-fetch instead."""
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"event": RESYNC})


def listen_dsn() -> str:
    """LISTEN goes to the primary (notifications are not replicated to read replicas)."""
    url = make_url(get_database().url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class LiveEventHub:
    def __init__(self, dsn: Callable[[], str] = listen_dsn, retry_seconds: float = 1.0) -> None:
        self._dsn = dsn
        self._retry_seconds = retry_seconds
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self.connections_opened = 0
        self.listener_pid: int | None = None  # the backend serving the LISTEN, for operators and tests

    # -- subscribers ---------------------------------------------------------------------
    def subscribe(self, municipality_id: uuid.UUID, ward_id: uuid.UUID | None) -> Subscription:
        self._ensure_running()
        sub = Subscription(str(municipality_id), str(ward_id) if ward_id else None)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    # A bool rather than the caller's asyncio.timeout: not being ready in time is an answer, not an error.
    async def wait_ready(self, timeout: float) -> bool:  # noqa: ASYNC109
        """True once the LISTEN is in place, so no change committed from now on is missed."""
        self._ensure_running()
        assert self._ready is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()

    # -- the listening connection -------------------------------------------------------
    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        self._ready = asyncio.Event()
        self._task = loop.create_task(self._listen_forever(), name="live-events-listener")

    def _dispatch(self, payload_text: str) -> None:
        try:
            payload = json.loads(payload_text)
        except ValueError:
            log.warning("ignored a malformed ticket event")
            return
        if not isinstance(payload, dict):
            return
        for sub in list(self._subscriptions):
            if sub.wants(payload):
                sub.offer(payload)

    def _broadcast(self, item: dict[str, Any]) -> None:
        for sub in list(self._subscriptions):
            sub.offer(item)

    async def _listen_forever(self) -> None:
        assert self._ready is not None
        ready = self._ready
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn())
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())  # this connection's event
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._dispatch(payload))
                self.connections_opened += 1
                self.listener_pid = conn.get_server_pid()
                if self.connections_opened > 1:
                    log.info("live events: listening again after a lost connection")
                # Changes committed before this LISTEN (or while it was down) were not heard.
                self._broadcast({"event": RESYNC})
                ready.set()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), HEALTH_CHECK_SECONDS)
                    except TimeoutError:
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), HEALTH_CHECK_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: keep trying, quietly
                log.warning("live events: listening connection failed (%s); retrying", exc.__class__.__name__)
            finally:
                ready.clear()
                self.listener_pid = None
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(self._retry_seconds)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task


hub = LiveEventHub()


def sse_message(item: dict[str, Any]) -> dict[str, Any]:
    """The wire form of one event: its name and only the public fields."""
    name = item["event"]
    if name in TICKET_EVENTS:
        return {"event": name, "data": json.dumps({k: item.get(k) for k in PUBLIC_FIELDS})}
    return {"event": name, "data": "{}"}


def event_stream(
    principal: Principal, ward_id: uuid.UUID | None, stop: anyio.Event | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The stream for one dashboard: the role and ward are checked now, before any byte is sent.

    Raises Forbidden for roles without a dashboard and for a councillor asking for another
    ward. The stream itself holds no database session: only the shared listening connection.
    It ends cleanly when `stop` is set (the server is shutting down; browsers reconnect), and
    when the principal's session has ended (checked every SESSION_CHECK_SECONDS).
    """
    access.require_role(principal, access.DASHBOARD_ROLES)
    ward = access.effective_ward(principal, ward_id)
    return _stream(principal.municipality_id, ward, stop or anyio.Event(), principal.session_id)


async def _stream(
    municipality_id: uuid.UUID, ward_id: uuid.UUID | None, stop: anyio.Event, session_id: uuid.UUID | None = None
) -> AsyncIterator[dict[str, Any]]:
    sub = hub.subscribe(municipality_id, ward_id)
    loop = asyncio.get_running_loop()
    try:
        # `ready` tells the page that nothing committed from now on will be missed; when the
        # database is unreachable it is skipped and a `resync` follows once listening resumes.
        if await hub.wait_ready(READY_TIMEOUT_SECONDS):
            yield {"event": READY, "data": "{}", "retry": RETRY_MILLISECONDS}
        next_check = loop.time() + SESSION_CHECK_SECONDS
        while not stop.is_set():
            item = await _next_or_stop(sub.queue, stop, max(0.0, next_check - loop.time()))
            if session_id is not None and loop.time() >= next_check:
                if not await _still_signed_in(session_id):
                    return
                next_check = loop.time() + SESSION_CHECK_SECONDS
            if item is not None:
                yield sse_message(item)
    finally:
        hub.unsubscribe(sub)


async def _still_signed_in(session_id: uuid.UUID) -> bool:
    try:
        return await session_service.is_alive(session_id)
    except Exception as exc:
        log.warning("live events: could not check a stream's session (%s)", exc.__class__.__name__)
        return True


# None rather than the caller's asyncio.timeout: the keep-alive interval passing is an answer
# (time to re-check the session), not an error.
async def _next_or_stop(
    queue: asyncio.Queue[dict[str, Any]],
    stop: anyio.Event,
    timeout: float | None = None,  # noqa: ASYNC109
) -> dict[str, Any] | None:
    """The next item, or None when the server stops or `timeout` seconds pass first."""
    if not queue.empty():
        return queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait((getter, stopper), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getter, stopper):
            task.cancel()
    return getter.result() if getter in done and not getter.cancelled() else None
