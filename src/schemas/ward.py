"""Wards: `{code, name, boundary?}`. A boundary that is not valid GeoJSON is a 422 here."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

from src.schemas.common import ORM, Name, Strict, omitted
from src.services.geo import validate_boundary

# Codes are identifiers (e.g. TSH-W012): upper-cased so "tsh-w012" cannot sit beside "TSH-W012".
WardCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./ -]*$"
    ),
]
Boundary = Annotated[dict[str, Any], AfterValidator(validate_boundary)]


class WardCreate(Strict):
    code: WardCode
    name: Name
    boundary: Boundary | None = None


class WardUpdate(Strict):
    """Only the fields sent change; `boundary: null` removes the boundary, a null code or name is a 422."""

    code: WardCode = omitted()
    name: Name = omitted()
    boundary: Boundary | None = None


class WardResponse(ORM):
    id: uuid.UUID
    code: str
    name: str
    boundary: dict[str, Any] | None
    created_at: datetime
