"""A real SMTP server (aiosmtpd) and a real HTTP SMS gateway, both in this process, for the
notification tests; and the steps those tests share."""

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from src.models.notification import Channel
from src.services.notifications.channels import SmsGateway, SmtpSender

SMS_TOKEN = "sms-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server accepted; `refuse` set to an SMTP reply makes it refuse every message."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: str | None = None
    refused: int = 0
    url: str = ""  # SMTP_URL of the server

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refused += 1
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    @property
    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for _, m in self.messages]


@dataclass
class Gateway:
    received: list[dict] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    status: int = 200
    url: str = ""  # SMS_URL of the gateway

    def to(self, phone: str) -> list[str]:
        return [r["message"] for r in self.received if r["to"] == phone]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, str]]:
    port = free_port()
    box = Mailbox(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, box.url
    finally:
        controller.stop()


@pytest.fixture
def sms_server() -> Iterator[tuple[Gateway, str]]:
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            gateway.authorizations.append(self.headers.get("Authorization"))
            if gateway.status == 200:
                gateway.received.append(json.loads(body))
            self.send_response(gateway.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/messages"
    try:
        yield gateway, gateway.url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def outbox(smtp_server, sms_server):
    """Both servers, and the senders the worker uses to reach them."""
    (box, smtp_url), (gateway, sms_url) = smtp_server, sms_server
    senders = {
        Channel.EMAIL: SmtpSender(smtp_url, "Khanyisa <no-reply@khanyisa.test>"),
        Channel.SMS: SmsGateway(sms_url, SMS_TOKEN),
    }
    return box, gateway, senders
