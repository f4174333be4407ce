"""The caller's own data (POPIA data-subject rights): access, consents, erasure."""

from fastapi import APIRouter, Response

from src.api.deps import CurrentUser, SessionDep
from src.models.user import ConsentPurpose
from src.schemas.data_subject import ConsentResponse, EraseMe, ErasureResponse, MyData
from src.services import consent_service, data_subject, erasure

router = APIRouter(prefix="/me", tags=["data subject"])


@router.get("/data", response_model=MyData)
async def my_data(user: CurrentUser, session: SessionDep) -> MyData:
    """Everything the platform holds about the caller."""
    return await data_subject.my_data(session, user)


@router.get("/consents", response_model=list[ConsentResponse])
async def my_consents(user: CurrentUser, session: SessionDep) -> list[ConsentResponse]:
    return [
        consent_service.response(c) for c in await consent_service.list_consents(session, user.municipality_id, user.id)
    ]


@router.post("/consents/{purpose}", response_model=ConsentResponse, status_code=201)
async def give_consent(
    purpose: ConsentPurpose, user: CurrentUser, session: SessionDep, response: Response
) -> ConsentResponse:
    """Give a consent again after withdrawing it (a resident): 201 with the new record, 200 with the
    one already in force."""
    consent, new = await consent_service.give(session, user, purpose)
    if not new:
        response.status_code = 200
    return consent_service.response(consent)


@router.post("/consents/{purpose}/withdraw", response_model=ConsentResponse)
async def withdraw_consent(purpose: ConsentPurpose, user: CurrentUser, session: SessionDep) -> ConsentResponse:
    """Withdraw a consent (a resident); refused while an open report still needs it."""
    return consent_service.response(await consent_service.withdraw(session, user, purpose))


@router.post("/erase", response_model=ErasureResponse)
async def erase_me(body: EraseMe, user: CurrentUser, session: SessionDep) -> ErasureResponse:
    """Anonymise one's own account (a resident), confirmed with the current password."""
    return await erasure.erase_self(session, user, body.password)
