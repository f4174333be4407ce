"""The channel settings: SMTP_URL's forms, and the log channel for what is not configured."""

import pytest

from src.core.config import Settings
from src.models.notification import Channel
from src.services.notifications.channels import (
    ConfigurationError,
    LogSender,
    SmsGateway,
    SmtpSender,
    SmtpServer,
    parse_smtp_url,
    senders_from,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org:587", SmtpServer("mail.example.org", 587, False, None, None)),
        ("smtp://mail.example.org", SmtpServer("mail.example.org", 25, False, None, None)),
        ("smtps://mail.example.org", SmtpServer("mail.example.org", 465, True, None, None)),
        (
            "smtps://notify%40khanyisa.gov.za:p%3Ass%2Fword@smtp.example.org:2465",
            SmtpServer("smtp.example.org", 2465, True, "notify@khanyisa.gov.za", "p:ss/word"),
        ),
    ],
)
def test_smtp_urls(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "mail.example.org:25", "smtp://host:notaport"])
def test_malformed_smtp_urls_are_refused(url):
    with pytest.raises(ConfigurationError):
        parse_smtp_url(url)


def test_each_channel_falls_back_to_the_log():
    neither = senders_from(Settings(smtp_url=None, sms_url=None))
    assert [type(neither[c]) for c in Channel] == [LogSender, LogSender]
    both = senders_from(
        Settings(smtp_url="smtp://127.0.0.1:2525", sms_url="https://sms.example.org/send", sms_token="t")
    )
    assert [type(both[c]) for c in Channel] == [SmtpSender, SmsGateway]


async def test_smtp_signs_in_with_the_urls_user_and_password():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from src.models.notification import NotificationKind
    from src.services.notifications.channels import Outgoing
    from tests.api.notify_helpers import Mailbox, free_port

    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"p:ss/word")

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        sender = SmtpSender(
            f"smtp://notify%40khanyisa.test:p%3Ass%2Fword@127.0.0.1:{port}", "Khanyisa <k@khanyisa.test>"
        )
        await sender.send(Outgoing(7, NotificationKind.RESOLVED, "resident@example.org", "Subject", "Body"))
    finally:
        controller.stop()
    assert seen == [(b"notify@khanyisa.test", b"p:ss/word")]
    [(rcpt, message)] = box.messages
    assert rcpt == ["resident@example.org"] and message["Subject"] == "Subject"
