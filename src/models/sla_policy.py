import uuid
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, enum_column, municipality_fk, uuid_pk
from src.models.enums import SlaClock


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    severity: Mapped[str | None] = mapped_column(String(10), nullable=True)
    response_hours: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    resolution_hours: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    clock: Mapped[SlaClock] = mapped_column(enum_column(SlaClock, 8), default=SlaClock.BUSINESS)
