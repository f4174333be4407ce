"""Open311 API keys (admins of the municipality only): shown once, stored hashed, revocable."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from src.api.deps import SessionDep, require_role
from src.schemas.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyResponse
from src.services import access, api_key_service
from src.services.principal import Principal

router = APIRouter(prefix="/api-keys", tags=["open311"])

Admin = Annotated[Principal, Depends(require_role(*access.ADMINISTRATORS), scope="function")]


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, p: Admin, session: SessionDep) -> ApiKeyCreated:
    return await api_key_service.create_key(session, p, body)


@router.get("", response_model=list[ApiKeyResponse])
async def list_keys(p: Admin, session: SessionDep) -> list[ApiKeyResponse]:
    return await api_key_service.list_keys(session, p)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: uuid.UUID, p: Admin, session: SessionDep) -> Response:
    await api_key_service.revoke_key(session, p, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
