"""The worker that empties the outbox (inside `serve`, and `khanyisa notify-worker`).

A worker claims a small batch of due rows with `FOR UPDATE SKIP LOCKED` and gives them a lease
(`locked_until`, `claimed_by`) in one short transaction, then sends them one by one without
holding a connection, and records each outcome only if its lease is still its own. Two workers
never claim the same row; a worker killed mid-batch leaves rows whose lease runs out, and the
next worker claims them again. A message a channel accepted just before its worker died may be
sent again then (no outbox can know what the far side did): the e-mail's Message-ID is the
notification's, so mail systems can recognise the repeat.

Failures are retried after 1 minute, 5 minutes, 30 minutes and 2 hours; the fifth failure is
final (`failed`). Every attempt is recorded with the class of its error, never its message.
"""

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from src.core import timesource
from src.core.database import Database
from src.models.enums import EventKind, TicketStatus
from src.models.notification import (
    SWITCHABLE_KINDS,
    AttemptOutcome,
    Channel,
    NotificationKind,
    NotificationStatus,
    TokenPurpose,
)
from src.services.notifications import links, messages
from src.services.notifications.channels import Outgoing, Sender, senders_from

log = logging.getLogger("khanyisa.notifications")

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
BATCH = 10
LEASE = timedelta(minutes=10)  # longer than a batch of sends can take (each times out after 30 s)
ACCOUNT_KINDS = frozenset(set(NotificationKind) - set(SWITCHABLE_KINDS))

CLAIM = text(
    """
    WITH due AS (
      SELECT id FROM notifications
      WHERE status = 'pending' AND next_attempt_at <= :now AND (locked_until IS NULL OR locked_until <= :now)
      ORDER BY next_attempt_at, id
      LIMIT :limit
      FOR UPDATE SKIP LOCKED)
    UPDATE notifications n SET locked_until = :until, claimed_by = :worker
    FROM due WHERE n.id = due.id
    RETURNING n.id
    """
)

CLAIMED = text(
    """
    SELECT n.id, n.municipality_id, n.kind, n.channel, n.language, n.recipient_id, n.ticket_id, n.attempts,
           n.account_token_id, u.email, u.phone, u.is_active, u.email_verified_at,
           t.tracking_number, t.is_sensitive, e.kind AS event_kind, e.data AS event_data, a.purpose
    FROM notifications n
    JOIN users u ON u.municipality_id = n.municipality_id AND u.id = n.recipient_id
    LEFT JOIN tickets t ON t.municipality_id = n.municipality_id AND t.id = n.ticket_id
    LEFT JOIN ticket_events e ON e.id = n.event_id
    LEFT JOIN account_tokens a ON a.id = n.account_token_id
    WHERE n.id = :id AND n.claimed_by = :worker AND n.status = 'pending' AND n.locked_until > :now
    """
)

FINISH = text(
    """
    UPDATE notifications
    SET status = :status, attempts = attempts + 1, last_error = :error, sent_at = :sent_at,
        next_attempt_at = :next_attempt_at, locked_until = NULL, claimed_by = NULL
    WHERE id = :id AND claimed_by = :worker AND status = 'pending'
    RETURNING municipality_id
    """
)

RECORD_ATTEMPT = text(
    """
    INSERT INTO notification_attempts (municipality_id, notification_id, attempted_at, outcome, error_class)
    VALUES (:municipality_id, :id, :now, :outcome, :error)
    """
)


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return f"sent {self.sent}, to retry {self.retried}, failed {self.failed}"


class Undeliverable(Exception):
    """The recipient cannot get this message on this channel (no address, inactive): no retry."""


async def claim(db: Database, worker: uuid.UUID, now: datetime, limit: int = BATCH) -> list[int]:
    async with db.system_session() as session:
        rows = await session.execute(CLAIM, {"now": now, "until": now + LEASE, "limit": limit, "worker": worker})
        return sorted(rows.scalars())


def _params(row: Any) -> dict[str, str]:
    kind = NotificationKind(row.kind)
    if kind in ACCOUNT_KINDS:
        purpose = TokenPurpose(row.purpose)
        return {"link": links.account_link(row.account_token_id, purpose)}
    data: Mapping[str, Any] = row.event_data or {}
    params = {"tracking_number": row.tracking_number, "link": links.ticket_link(row.ticket_id)}
    if row.is_sensitive:
        return params  # the GBV rule: nothing else about the report reaches the message
    if kind is NotificationKind.STATUS_CHANGED:
        status = TicketStatus.ESCALATED if row.event_kind == EventKind.ESCALATED else TicketStatus(data["to"])
        params["status"] = messages.status_label(row.language, status)
    elif kind is NotificationKind.RESOLVED:
        params["public_note"] = data.get("note") or ""
    elif kind is NotificationKind.MARKED_DUPLICATE:
        params["original_tracking_number"] = data.get("tracking_number") or ""
    return params


def compose(row: Any) -> Outgoing:
    """The message as it leaves, rendered now in the recipient's language."""
    kind, channel = NotificationKind(row.kind), Channel(row.channel)
    if not row.is_active:
        raise Undeliverable("recipient_inactive")
    if channel is Channel.SMS and not row.phone:
        raise Undeliverable("no_phone")
    if channel is Channel.EMAIL and kind not in ACCOUNT_KINDS and row.email_verified_at is None:
        raise Undeliverable("email_not_verified")
    unsubscribe = links.unsubscribe_link(row.id) if kind in SWITCHABLE_KINDS else None
    rendered = messages.render(
        kind, row.language, _params(row), sensitive=bool(row.is_sensitive), unsubscribe_link=unsubscribe
    )
    if channel is Channel.SMS:
        return Outgoing(row.id, kind, row.phone, rendered.subject, rendered.sms_text)
    domain = links.public_url("").split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "khanyisa.local"
    headers = {"Message-ID": f"<notification-{row.id}@{domain}>"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Outgoing(row.id, kind, row.email, rendered.subject, rendered.email_body, headers)


async def _finish(
    db: Database, worker: uuid.UUID, notification_id: int, attempts_before: int, now: datetime, error: str | None
) -> AttemptOutcome | None:
    if error is None:
        outcome, status, next_at = AttemptOutcome.SENT, NotificationStatus.SENT, now
    elif error.startswith("undeliverable:") or attempts_before + 1 >= MAX_ATTEMPTS:
        outcome, status, next_at = AttemptOutcome.FAILED, NotificationStatus.FAILED, now
    else:
        outcome, status, next_at = AttemptOutcome.RETRY, NotificationStatus.PENDING, now + BACKOFF[attempts_before]
    async with db.system_session() as session:
        municipality_id = await session.scalar(
            FINISH,
            {
                "id": notification_id,
                "worker": worker,
                "status": status.value,
                "error": error,
                "sent_at": now if error is None else None,
                "next_attempt_at": next_at,
            },
        )
        if municipality_id is None:  # the lease ran out and another worker has the row
            return None
        await session.execute(
            RECORD_ATTEMPT,
            {
                "municipality_id": municipality_id,
                "id": notification_id,
                "now": now,
                "outcome": outcome.value,
                "error": error,
            },
        )
    return outcome


async def deliver(
    db: Database, senders: Mapping[Channel, Sender], worker: uuid.UUID, notification_id: int, now: datetime
) -> AttemptOutcome | None:
    """Send one claimed notification and record the outcome; None when it is no longer ours."""
    async with db.system_session() as session:
        row = (await session.execute(CLAIMED, {"id": notification_id, "worker": worker, "now": now})).first()
    if row is None:
        return None
    error: str | None = None
    try:
        message = compose(row)
        await senders[Channel(row.channel)].send(message)
    except Undeliverable as exc:
        error = f"undeliverable:{exc}"
    except Exception as exc:  # any failure of the far side is retried; only its class is kept
        error = type(exc).__name__[:64]
    if error:
        log.warning("notification %s via %s not sent (%s), attempt %d", row.id, row.channel, error, row.attempts + 1)
    return await _finish(db, worker, notification_id, row.attempts, now, error)


async def drain(
    db: Database, senders: Mapping[Channel, Sender] | None = None, now: datetime | None = None
) -> DrainResult:
    """Send everything due, batch by batch, until nothing due is left unclaimed."""
    senders = senders if senders is not None else senders_from()
    worker = uuid.uuid4()
    result = DrainResult()
    while True:
        moment = now or timesource.current_time()
        batch = await claim(db, worker, moment)
        if not batch:
            return result
        for notification_id in batch:
            outcome = await deliver(db, senders, worker, notification_id, now or timesource.current_time())
            if outcome is AttemptOutcome.SENT:
                result.sent += 1
                result.ids.append(notification_id)
            elif outcome is AttemptOutcome.RETRY:
                result.retried += 1
            elif outcome is AttemptOutcome.FAILED:
                result.failed += 1


async def run_forever(db: Database, interval: float, senders: Mapping[Channel, Sender]) -> None:
    """The worker inside `serve` (and `notify-worker` without --once): drain, wait, again."""
    while True:
        try:
            result = await drain(db, senders)
            if result.sent or result.retried or result.failed:
                log.info("notifications: %s", result)
        except Exception:
            log.exception("notification worker pass failed; will retry")
        await asyncio.sleep(interval)
