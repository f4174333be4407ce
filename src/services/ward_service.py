"""Wards of the caller's municipality. Boundaries arrive already validated by the schema (geo)."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict
from src.models.ward import Ward
from src.schemas.ward import WardCreate, WardUpdate
from src.services.admin_support import flush_or_conflict, get_owned
from src.services.principal import Principal


def _conflicts() -> dict[str, Conflict]:
    return {"wards_municipality_id_code_key": Conflict("A ward with this code already exists.", "ward_code_taken")}


async def list_wards(session: AsyncSession, p: Principal) -> list[Ward]:
    rows = await session.scalars(select(Ward).where(Ward.municipality_id == p.municipality_id).order_by(Ward.code))
    return list(rows)


async def get_ward(session: AsyncSession, p: Principal, ward_id: uuid.UUID) -> Ward:
    return await get_owned(session, Ward, p, ward_id, "Ward")


async def create_ward(session: AsyncSession, p: Principal, body: WardCreate) -> Ward:
    ward = Ward(municipality_id=p.municipality_id, code=body.code, name=body.name, boundary=body.boundary)
    session.add(ward)
    await flush_or_conflict(session, _conflicts())
    return ward


async def update_ward(session: AsyncSession, p: Principal, ward_id: uuid.UUID, body: WardUpdate) -> Ward:
    ward = await get_ward(session, p, ward_id)
    for field in body.model_fields_set:
        setattr(ward, field, getattr(body, field))
    await flush_or_conflict(session, _conflicts())
    return ward
