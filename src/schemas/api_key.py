import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from src.schemas.common import ORM, Strict

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyCreate(Strict):
    name: KeyName


class ApiKeyResponse(ORM):
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ORM):
    """The only answer that carries the key itself: it is stored hashed and never shown again."""

    id: uuid.UUID
    name: str
    key: str
    created_at: datetime
