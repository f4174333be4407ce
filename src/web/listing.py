"""The ticket list's state as it lives in the URL: parsing, links for sorting and paging."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from src.schemas.ticket_query import TicketListParams

FILTER_KEYS = ("search", "status", "category", "ward_id", "team_id", "severity", "created_from", "created_to")
VIEW_KEYS = (*FILTER_KEYS, "sort_by", "sort_order", "page_size")
SORTABLE = {"category", "status", "severity", "created_at", "updated_at", "sla_resolution_deadline", "followers"}
DEFAULT_SORT = ("created_at", "desc")


def view_state(query: Mapping[str, str]) -> dict[str, str]:
    """The non-empty view parameters of a query string (what a bookmark must keep)."""
    state = {}
    for key in (*VIEW_KEYS, "page", "assigned_team_id"):
        value = (query.get(key) or "").strip()
        if value:
            state["team_id" if key == "assigned_team_id" else key] = value
    return state


def parse(state: Mapping[str, str]) -> TicketListParams:
    """The same parameters the API takes, so the page and /api/v1/tickets agree on every filter."""
    data: dict[str, Any] = dict(state)
    return TicketListParams.model_validate(data)


def link(state: Mapping[str, str], **changes: Any) -> str:
    merged = {**state, **{k: v for k, v in changes.items()}}
    clean = {k: str(v) for k, v in merged.items() if v not in (None, "")}
    return f"?{urlencode(clean)}" if clean else "?"


def sort_link(state: Mapping[str, str], column: str) -> tuple[str, str | None]:
    """(href, aria-sort) for a column header: a second click reverses the order."""
    current = state.get("sort_by", DEFAULT_SORT[0])
    order = state.get("sort_order", DEFAULT_SORT[1])
    if current == column:
        next_order = "asc" if order == "desc" else "desc"
        aria = "ascending" if order == "asc" else "descending"
    else:
        next_order, aria = ("asc" if column in ("category",) else "desc"), None
    return link(state, sort_by=column, sort_order=next_order, page=None), aria


def export_query(state: Mapping[str, str]) -> str:
    """The current view for an export: filters, search and sort, without paging."""
    clean = {k: v for k, v in state.items() if k not in ("page", "page_size")}
    return f"?{urlencode(clean)}" if clean else ""
