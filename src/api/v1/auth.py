import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from src.api.deps import CurrentUser, SessionDep, request_client
from src.schemas.auth import (
    Accepted,
    MeResponse,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RegisterRequest,
    RegistrationAccepted,
    SessionResponse,
    TokenResponse,
    TotpCode,
    TotpEnrolment,
)
from src.services import account_service, auth_service, session_service, totp_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    totp: Annotated[
        str | None, Form(max_length=16, description="The authenticator code, when two-factor sign-in is on.")
    ] = None,
) -> TokenResponse:
    # No request transaction: sign-in holds no pooled connection while the password is hashed.
    access_token, expires_in = await auth_service.authenticate(
        form.username, form.password, request_client(request), totp
    )
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


@router.post("/register", response_model=RegistrationAccepted, status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, session: SessionDep) -> RegistrationAccepted:
    """Register a resident; a verification link (valid 24 hours) goes to the address. An address
    already in use answers the same, and its owner is told instead."""
    return await auth_service.register_citizen(session, body)


RESET_ACCEPTED = "If an account uses this address, a link to choose a new password is on its way."


@router.post("/password-reset", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
async def password_reset(body: PasswordResetRequest, session: SessionDep) -> Accepted:
    """E-mail a single-use link (valid 30 minutes) to choose a new password; answers the same for any address."""
    await account_service.request_password_reset(session, body.email)
    return Accepted(detail=RESET_ACCEPTED)


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def password_reset_confirm(body: PasswordResetConfirm, session: SessionDep) -> Response:
    """Set a new password with a reset link's token; every session of the account ends."""
    await account_service.confirm_password_reset(session, body.token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, session: SessionDep) -> Response:
    """End the session this token names; the token is refused from now on."""
    await session_service.end_current(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", response_model=list[SessionResponse])
async def sessions(user: CurrentUser, session: SessionDep) -> list[SessionResponse]:
    rows = await session_service.list_sessions(session, user)
    return [
        SessionResponse(
            id=r.id,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            address=r.address,
            user_agent=r.user_agent,
            current=r.id == user.session_id,
        )
        for r in rows
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(session_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await session_service.end_session(session, user, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> Response:
    """Change one's own password; every session of the account ends (sign in again)."""
    await auth_service.change_password(session, user, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/totp", response_model=TotpEnrolment)
async def totp_enrol(user: CurrentUser, session: SessionDep) -> TotpEnrolment:
    """Start two-factor sign-in (staff): add the secret to an authenticator app, then confirm."""
    secret, uri = await totp_service.enrol(session, user)
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post("/totp/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def totp_confirm(body: TotpCode, user: CurrentUser, session: SessionDep) -> Response:
    """Turn two-factor sign-in on with a code from the app; from then on sign-in asks for one."""
    await totp_service.confirm(session, user, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
