"""Accounts of the caller's municipality, as administrators manage them.

Every create and update validates the resulting account as a whole: a councillor has a ward;
ward and team belong to this municipality; an administrator cannot remove their own access
(the municipality could be left with nobody to administer it). A user who stops being an
active manager or admin stops managing teams, so a team's manager is always one (escalation
assigns tickets to them). A new password, deactivation, or a change of role, ward or team ends
every session of the account: its tokens are refused from the next request on.
"""

import uuid

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, Invalid
from src.core.security import hash_password_async
from src.models.team import Team
from src.models.user import User, UserRole
from src.models.ward import Ward
from src.schemas.user import UserCreate, UserUpdate
from src.services import session_service
from src.services.admin_support import flush_or_conflict, get_owned
from src.services.principal import Principal
from src.services.team_service import TEAM_MANAGER_ROLES

MAX_PAGE = 1000


def _conflicts() -> dict[str, Conflict]:
    return {"uq_users_email": Conflict("An account with this email already exists.", "email_taken")}


async def list_users(
    session: AsyncSession,
    p: Principal,
    *,
    role: UserRole | None = None,
    is_active: bool | None = None,
    limit: int = MAX_PAGE,
    offset: int = 0,
) -> list[User]:
    q = select(User).where(User.municipality_id == p.municipality_id)
    if role is not None:
        q = q.where(User.role == role.value)
    if is_active is not None:
        q = q.where(User.is_active.is_(is_active))
    rows = await session.scalars(q.order_by(User.full_name, User.id).limit(limit).offset(offset))
    return list(rows)


async def get_user(session: AsyncSession, p: Principal, user_id: uuid.UUID) -> User:
    return await get_owned(session, User, p, user_id, "User")


async def create_user(session: AsyncSession, p: Principal, body: UserCreate) -> User:
    await _check(session, p, body.role, body.ward_id, body.team_id)
    user = User(
        municipality_id=p.municipality_id,
        email=body.email,
        full_name=body.full_name,
        phone=body.phone,
        role=body.role.value,
        ward_id=body.ward_id,
        team_id=body.team_id,
        preferred_language=body.preferred_language.value,
        is_active=body.is_active,
        password_hash=await hash_password_async(body.password),
    )
    session.add(user)
    await flush_or_conflict(session, _conflicts())
    return user


async def update_user(session: AsyncSession, p: Principal, user_id: uuid.UUID, body: UserUpdate) -> User:
    user = await get_owned(session, User, p, user_id, "User")
    sent = body.model_fields_set
    role = body.role if "role" in sent else UserRole(user.role)
    is_active = body.is_active if "is_active" in sent else user.is_active
    ward_id = body.ward_id if "ward_id" in sent else user.ward_id
    team_id = body.team_id if "team_id" in sent else user.team_id
    if user.id == p.id and (role is not UserRole.ADMIN or not is_active):
        raise Conflict("You cannot remove your own administrator access.", "self_lockout")
    await _check(session, p, role, ward_id, team_id)
    # A new password, deactivation or a change of what the account may see ends its sessions.
    ends_sessions = (
        "password" in sent
        or (user.is_active and not is_active)
        or (role.value, ward_id, team_id) != (user.role, user.ward_id, user.team_id)
    )
    for field in sent - {"password", "role", "preferred_language"}:
        setattr(user, field, getattr(body, field))
    user.role = role
    if "preferred_language" in sent:
        user.preferred_language = body.preferred_language
    if "password" in sent:
        user.password_hash = await hash_password_async(body.password)
    if not is_active or role not in TEAM_MANAGER_ROLES:
        await session.execute(
            update(Team)
            .where(Team.municipality_id == p.municipality_id, Team.manager_id == user.id)
            .values(manager_id=None)
        )
    await flush_or_conflict(session, _conflicts())
    if ends_sessions:
        await session_service.end_all(session, p.municipality_id, user.id)
    return user


async def _check(
    session: AsyncSession, p: Principal, role: UserRole, ward_id: uuid.UUID | None, team_id: uuid.UUID | None
) -> None:
    if role is UserRole.WARD_COUNCILLOR and ward_id is None:
        raise Invalid("A ward councillor needs a ward.", "ward_required")
    if ward_id is not None and not await _exists(session, Ward, p, ward_id):
        raise Invalid("The ward does not exist in this municipality.", "unknown_ward")
    if team_id is not None and not await _exists(session, Team, p, team_id):
        raise Invalid("The team does not exist in this municipality.", "unknown_team")


async def _exists(session: AsyncSession, model: type[Ward] | type[Team], p: Principal, record_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(select(exists().where(model.municipality_id == p.municipality_id, model.id == record_id)))
    )
