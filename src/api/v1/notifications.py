from fastapi import APIRouter

from src.api.deps import CurrentUser, SessionDep
from src.schemas.notification import NotificationSettings, NotificationSettingsUpdate
from src.services.notifications import preferences

router = APIRouter(prefix="/me/notifications", tags=["notifications"])


@router.get("", response_model=NotificationSettings)
async def get_notification_settings(user: CurrentUser, session: SessionDep) -> NotificationSettings:
    """The channels of each kind of message about one's reports and the reports one follows."""
    return await preferences.get_settings(session, user)


@router.put("", response_model=NotificationSettings)
async def put_notification_settings(
    body: NotificationSettingsUpdate, user: CurrentUser, session: SessionDep
) -> NotificationSettings:
    """Set the channels (`email`, `sms`) of the kinds given; kinds left out keep theirs."""
    return await preferences.put_settings(session, user, body)
