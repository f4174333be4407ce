"""Anonymous readers (the public figures, Open311) name a municipality by its code.

`enter_municipality` finds the active municipality and, in the same round trip, pins the
transaction to it with the access policy's public role and drops to the non-owner role: from
then on row-level security shows this municipality's non-sensitive rows only, whatever a query
forgets. No row means nothing was pinned, and the caller answers 404.
"""

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import APP_ROLE
from src.services import access

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,9}$")  # the municipalities.code check, any case

ENTER = text(
    """
    SELECT m.id, m.code, m.name, m.province, m.timezone,
           set_config('app.municipality_id', m.id::text, true),
           set_config('app.role', :role, true),
           set_config('app.user_id', '', true),
           set_config('role', :app_role, true)
    FROM municipalities m
    WHERE m.code = :code AND m.is_active
    """
)


@dataclass(frozen=True)
class Jurisdiction:
    id: uuid.UUID
    code: str
    name: str
    province: str
    timezone: str


def normal_code(code: str | None) -> str | None:
    """Codes are case-insensitive; anything that cannot be a code is None."""
    if code is None or not CODE.match(code):
        return None
    return code.upper()


async def enter_municipality(session: AsyncSession, code: str | None) -> Jurisdiction:
    wanted = normal_code(code)
    row = None
    if wanted is not None:
        params = {"code": wanted, "role": access.PUBLIC_ROLE, "app_role": APP_ROLE}
        row = (await session.execute(ENTER, params)).first()
    if row is None:
        raise access.not_found("Municipality")
    return Jurisdiction(row.id, row.code, row.name, row.province, row.timezone)
