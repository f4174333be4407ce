import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, created_at_column, municipality_fk, uuid_pk


class Ward(Base):
    __tablename__ = "wards"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
