from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def omitted() -> Any:
    """Default of an update field that may be left out but not sent as null.

    The field keeps its non-null type, so an explicit null is a 422, while leaving it out gives
    None (defaults are not validated), which the services read as "unchanged". Typed Any because
    the default deliberately falls outside the field's type.
    """
    return Field(default=None)
