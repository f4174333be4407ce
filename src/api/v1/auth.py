from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from src.api.deps import CurrentUser, SessionDep
from src.schemas.auth import MeResponse, RegisteredUser, RegisterRequest, TokenResponse
from src.services import auth_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> TokenResponse:
    access_token, expires_in = await auth_service.authenticate(session, form.username, form.password)
    return TokenResponse(access_token=access_token, expires_in=expires_in)


@router.get("/me", response_model=MeResponse)
async def me(user: CurrentUser) -> MeResponse:
    return MeResponse(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role.value,
        municipality_id=user.municipality_id,
        municipality_code=user.municipality_code,
        ward_id=user.ward_id,
        team_id=user.team_id,
    )


@router.post("/register", response_model=RegisteredUser, status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, session: SessionDep) -> RegisteredUser:
    return RegisteredUser.model_validate(await auth_service.register_citizen(session, body))
