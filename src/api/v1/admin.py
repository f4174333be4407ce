"""Administration: wards, teams, users, SLA policies. Admins change; managers read."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from src.api.deps import SessionDep, require_role
from src.models.user import UserRole
from src.schemas.data_subject import ErasureResponse
from src.schemas.sla_policy import SlaPolicyResponse, SlaPolicySet
from src.schemas.team import TeamCreate, TeamResponse, TeamUpdate
from src.schemas.user import UserCreate, UserResponse, UserUpdate
from src.schemas.ward import WardCreate, WardResponse, WardUpdate
from src.services import access, erasure, sla_policy_service, team_service, user_service, ward_service
from src.services.principal import Principal
from src.services.user_service import MAX_PAGE

router = APIRouter(tags=["administration"])

Admin = Annotated[Principal, Depends(require_role(*access.ADMINISTRATORS), scope="function")]
Reader = Annotated[Principal, Depends(require_role(*access.ADMIN_READERS), scope="function")]


# ---- wards ------------------------------------------------------------------------------


@router.get("/wards", response_model=list[WardResponse])
async def list_wards(p: Reader, session: SessionDep) -> object:
    return await ward_service.list_wards(session, p)


@router.post("/wards", response_model=WardResponse, status_code=status.HTTP_201_CREATED)
async def create_ward(body: WardCreate, p: Admin, session: SessionDep) -> object:
    return await ward_service.create_ward(session, p, body)


@router.get("/wards/{ward_id}", response_model=WardResponse)
async def get_ward(ward_id: uuid.UUID, p: Reader, session: SessionDep) -> object:
    return await ward_service.get_ward(session, p, ward_id)


@router.patch("/wards/{ward_id}", response_model=WardResponse)
async def update_ward(ward_id: uuid.UUID, body: WardUpdate, p: Admin, session: SessionDep) -> object:
    return await ward_service.update_ward(session, p, ward_id, body)


# ---- teams ------------------------------------------------------------------------------


@router.get("/teams", response_model=list[TeamResponse])
async def list_teams(p: Reader, session: SessionDep) -> object:
    return await team_service.list_teams(session, p)


@router.post("/teams", response_model=TeamResponse, status_code=status.HTTP_201_CREATED)
async def create_team(body: TeamCreate, p: Admin, session: SessionDep) -> object:
    return await team_service.create_team(session, p, body)


@router.get("/teams/{team_id}", response_model=TeamResponse)
async def get_team(team_id: uuid.UUID, p: Reader, session: SessionDep) -> object:
    return await team_service.get_team(session, p, team_id)


@router.patch("/teams/{team_id}", response_model=TeamResponse)
async def update_team(team_id: uuid.UUID, body: TeamUpdate, p: Admin, session: SessionDep) -> object:
    return await team_service.update_team(session, p, team_id, body)


# ---- users ------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserResponse])
async def list_users(
    p: Reader,
    session: SessionDep,
    role: UserRole | None = None,
    is_active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> object:
    return await user_service.list_users(session, p, role=role, is_active=is_active, limit=limit, offset=offset)


@router.post("/users", response_model=UserResponse, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, p: Admin, session: SessionDep) -> object:
    return await user_service.create_user(session, p, body)


@router.get("/users/{user_id}", response_model=UserResponse)
async def get_user(user_id: uuid.UUID, p: Reader, session: SessionDep) -> object:
    return await user_service.get_user(session, p, user_id)


@router.patch("/users/{user_id}", response_model=UserResponse)
async def update_user(user_id: uuid.UUID, body: UserUpdate, p: Admin, session: SessionDep) -> object:
    return await user_service.update_user(session, p, user_id, body)


@router.post("/users/{user_id}/erase", response_model=ErasureResponse)
async def erase_user(user_id: uuid.UUID, p: Admin) -> ErasureResponse:
    """Anonymise an account of this municipality (a data subject's request made to the municipality)."""
    return await erasure.erase_user(p, user_id)


# ---- SLA policies -----------------------------------------------------------------------


@router.get("/sla-policies", response_model=list[SlaPolicyResponse])
async def list_sla_policies(p: Reader, session: SessionDep) -> object:
    return await sla_policy_service.list_policies(session, p)


@router.put("/sla-policies", response_model=list[SlaPolicyResponse])
async def replace_sla_policies(body: SlaPolicySet, p: Admin, session: SessionDep) -> object:
    return await sla_policy_service.replace_policies(session, p, body)
