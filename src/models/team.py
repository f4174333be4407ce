import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, created_at_column, enum_column, municipality_fk, uuid_pk
from src.models.enums import TicketCategory


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[TicketCategory] = mapped_column(enum_column(TicketCategory, 20))
    is_saps: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()


class TeamWard(Base):
    """The wards a team serves; a team with none serves the whole municipality."""

    __tablename__ = "team_wards"

    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    team_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("teams.id"), primary_key=True)
    ward_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("wards.id"), primary_key=True)
