"""Which channels each person wants for each kind of message (default: every kind by e-mail)."""

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.notification import SWITCHABLE_KINDS, Channel, NotificationKind, NotificationPreference
from src.schemas.notification import NotificationSettings, NotificationSettingsUpdate
from src.services import access
from src.services.notifications.outbox import DEFAULT_CHANNELS
from src.services.principal import Principal


async def settings_of(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID) -> NotificationSettings:
    rows = await session.execute(
        select(NotificationPreference.kind, NotificationPreference.channels).where(
            NotificationPreference.municipality_id == municipality_id, NotificationPreference.user_id == user_id
        )
    )
    chosen = {NotificationKind(kind): channels for kind, channels in rows}
    return NotificationSettings(
        **{
            kind.value: [Channel(c) for c in chosen.get(kind, [c.value for c in DEFAULT_CHANNELS])]
            for kind in SWITCHABLE_KINDS
        }
    )


async def _store(
    session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID, kind: NotificationKind, channels: list[str]
) -> None:
    statement = pg_insert(NotificationPreference).values(
        municipality_id=municipality_id, user_id=user_id, kind=kind, channels=channels
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[NotificationPreference.user_id, NotificationPreference.kind],
            set_={"channels": statement.excluded.channels},
        )
    )


async def get_settings(session: AsyncSession, p: Principal) -> NotificationSettings:
    access.require_role(p, access.NOTIFICATION_RECIPIENTS)
    return await settings_of(session, p.municipality_id, p.id)


async def put_settings(session: AsyncSession, p: Principal, body: NotificationSettingsUpdate) -> NotificationSettings:
    access.require_role(p, access.NOTIFICATION_RECIPIENTS)
    for kind in SWITCHABLE_KINDS:
        channels = getattr(body, kind.value)
        if channels is not None:
            await _store(session, p.municipality_id, p.id, kind, [c.value for c in channels])
    return await settings_of(session, p.municipality_id, p.id)


async def stop_email(
    session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID, kind: NotificationKind
) -> None:
    """The unsubscribe link: this kind no longer by e-mail; its other channels stay."""
    current = await settings_of(session, municipality_id, user_id)
    remaining = [c.value for c in getattr(current, kind.value) if c is not Channel.EMAIL]
    await _store(session, municipality_id, user_id, kind, remaining)
