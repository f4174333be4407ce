"""The links messages carry: to a report, to an account link (verification, password reset) and
to unsubscribe. Account and unsubscribe links are signed with SECRET_KEY.

An account link's token is derived from its row's id, so the outbox needs to keep nothing secret:
the worker derives the link again when it sends the message, and the database stores only a
hash of the token (a copy of the table does not give working links)."""

import base64
import hashlib
import hmac
import re
import uuid

from src.core.config import get_settings
from src.core.security import secret_key
from src.models.notification import TokenPurpose

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def public_url(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def ticket_link(ticket_id: uuid.UUID) -> str:
    return public_url(f"/tickets/{ticket_id}")


def _signature(message: str) -> str:
    digest = hmac.new(secret_key().encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def account_token(token_id: uuid.UUID, purpose: TokenPurpose) -> str:
    return f"{token_id.hex}.{_signature(f'account-link|{purpose.value}|{token_id}')}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_token_id(token: str) -> uuid.UUID | None:
    """The row a well-formed token names (its hash is still to be compared), else None."""
    head, _, signature = token.partition(".")
    if not HEX_ID.fullmatch(head) or not signature or len(token) > 200:
        return None
    return uuid.UUID(hex=head)


def account_link(token_id: uuid.UUID, purpose: TokenPurpose) -> str:
    path = "/verify-email/" if purpose is TokenPurpose.VERIFY_EMAIL else "/password-reset/"
    return public_url(path + account_token(token_id, purpose))


def unsubscribe_token(notification_id: int) -> str:
    """Names the message it came with, and through it the person and the kind of message: the
    link itself says nothing (not even the kind, which for a GBV report would tell its status)."""
    return f"{notification_id}.{_signature(f'unsubscribe|{notification_id}')}"


def unsubscribe_link(notification_id: int) -> str:
    return public_url(f"/unsubscribe/{unsubscribe_token(notification_id)}")


def read_unsubscribe_token(token: str) -> int | None:
    """The notification a well-signed token names; None when it is malformed or not ours."""
    head, _, signature = token.partition(".")
    if not head.isascii() or not head.isdigit() or len(head) > 18 or not signature:
        return None
    if not hmac.compare_digest(signature, _signature(f"unsubscribe|{int(head)}")):
        return None
    return int(head)
