"""Placeholder: the list parameters (filters, search, sort, paging) are defined here."""

from pydantic import BaseModel, Field


class TicketListParams(BaseModel):
    page: int = Field(default=0, ge=0)
    page_size: int = Field(default=50, ge=1, le=200)
