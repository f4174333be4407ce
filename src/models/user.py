import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, created_at_column, enum_column, municipality_fk, uuid_pk
from src.models.enums import Language


class UserRole(StrEnum):
    CITIZEN = "citizen"
    FIELD_WORKER = "field_worker"
    MANAGER = "manager"
    WARD_COUNCILLOR = "ward_councillor"
    ADMIN = "admin"
    SAPS_LIAISON = "saps_liaison"


STAFF_ROLES = frozenset(r for r in UserRole if r is not UserRole.CITIZEN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, 20))
    ward_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    preferred_language: Mapped[Language] = mapped_column(enum_column(Language, 2), default=Language.EN)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()
    # When the account was anonymised (erasure or retention, src/services/data_subject.py).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsentPurpose(StrEnum):
    """What a resident agrees to at registration (POPIA): the terms of the service (processing
    their information to handle their reports), and the processing of special personal
    information (a GBV report is one)."""

    TERMS = "terms"
    SPECIAL_INFORMATION = "special_information"


class Consent(Base):
    """A POPIA consent as a record: who agreed to what purpose, in which version of its text,
    when, and when they withdrew it (the row stays)."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose, 200))
    version: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = created_at_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
