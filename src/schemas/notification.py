from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from src.models.notification import Channel
from src.schemas.common import ORM, Strict


def _ordered(channels: list[Channel]) -> list[Channel]:
    """Each channel once, in a fixed order, however the client listed them."""
    return [c for c in Channel if c in channels]


Channels = Annotated[list[Channel], Field(max_length=8), AfterValidator(_ordered)]


class NotificationSettings(ORM):
    """The channels of each kind of message (an empty list: none)."""

    report_received: list[Channel]
    status_changed: list[Channel]
    resolved: list[Channel]
    marked_duplicate: list[Channel]
    reopened: list[Channel]


class NotificationSettingsUpdate(Strict):
    """Kinds left out keep their channels; an unknown kind or channel is refused."""

    report_received: Channels | None = None
    status_changed: Channels | None = None
    resolved: Channels | None = None
    marked_duplicate: Channels | None = None
    reopened: Channels | None = None


Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
