"""Where messages leave: e-mail over SMTP, SMS through an HTTP gateway, or the log. Each channel
takes an `Outgoing` message and either delivers it or raises; the worker decides about retries.

The log channel (used for a channel that is not configured) writes the kind, the notification
id and the channel, never an address or a word of the message."""

import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx

from src.core.config import Settings, get_settings
from src.models.notification import Channel, NotificationKind

log = logging.getLogger("khanyisa.notifications")

SEND_TIMEOUT = 30.0  # seconds; well inside a claim's lease (src/services/notifications/worker.py)


@dataclass(frozen=True)
class Outgoing:
    notification_id: int
    kind: NotificationKind
    to: str
    subject: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


class Sender(Protocol):
    channel: Channel

    async def send(self, message: Outgoing) -> None: ...


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user:password@]host:port` (STARTTLS when the server offers it) or `smtps://` (TLS from the start)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError("SMTP_URL must look like smtp://[user:password@]host:port or smtps://...")
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 25)
    except ValueError as exc:
        raise ConfigurationError("SMTP_URL has an invalid port") from exc
    return SmtpServer(
        hostname=parts.hostname,
        port=port,
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpSender:
    channel = Channel.EMAIL

    def __init__(self, url: str, sender: str) -> None:
        self.server = parse_smtp_url(url)
        self.sender = sender

    async def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        for name, value in message.headers.items():
            mail[name] = value
        mail.set_content(message.text)
        s = self.server
        await aiosmtplib.send(
            mail,
            hostname=s.hostname,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.implicit_tls,
            start_tls=None if not s.implicit_tls else False,  # None: upgrade when the server offers STARTTLS
            timeout=SEND_TIMEOUT,
        )


class SmsGateway:
    """The generic adapter: `POST SMS_URL` with JSON `{to, message}` and a bearer token."""

    channel = Channel.SMS

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token

    async def send(self, message: Outgoing) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT) as client:
            response = await client.post(self.url, json={"to": message.to, "message": message.text}, headers=headers)
            response.raise_for_status()


class LogSender:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def send(self, message: Outgoing) -> None:
        log.info(
            "notification %s (%s) via %s: no %s configured, logged only",
            message.notification_id,
            message.kind.value,
            self.channel.value,
            "SMTP_URL" if self.channel is Channel.EMAIL else "SMS_URL",
        )


def senders_from(settings: Settings | None = None) -> dict[Channel, Sender]:
    """One sender per channel, from SMTP_URL / SMS_URL; an unconfigured channel goes to the log."""
    s = settings or get_settings()
    email: Sender = SmtpSender(s.smtp_url, s.smtp_from) if s.smtp_url else LogSender(Channel.EMAIL)
    sms: Sender = SmsGateway(s.sms_url, s.sms_token) if s.sms_url else LogSender(Channel.SMS)
    return {Channel.EMAIL: email, Channel.SMS: sms}
