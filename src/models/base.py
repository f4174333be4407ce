import uuid
from datetime import datetime
from enum import Enum

from sqlalchemy import DateTime, ForeignKey, MetaData, func, text
from sqlalchemy import Enum as EnumType
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def municipality_fk(primary_key: bool = False) -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("municipalities.id"), nullable=False, primary_key=primary_key)


def enum_column(enum: type[Enum], length: int, **kw: object) -> EnumType:
    """A column holding an enum's *values* as varchar (the migrations' CHECK constraints name the
    allowed values); it reads back as the enum's members."""
    return EnumType(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        **kw,
    )
