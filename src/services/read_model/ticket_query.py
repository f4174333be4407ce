"""The ticket list: filters, sort and paging within bounded windows (docs/search-and-paging.md).

Every query starts from the access policy's conditions. `filtered_tickets` is the list's query
without paging (the exports stream it); `list_tickets` pages it and counts it.

* Without a search the total is exact (from the tallies kept by the database when every
  condition is an equality on a tally column, see src/services/read_model/tallies.py), and any page that
  starts within the first LIST_WINDOW rows of the ordering can be read. Deeper pages answer
  `page_too_deep`: the export streams every row.
* A search counts its matches up to SEARCH_WINDOW and pages through that many
  (src/services/read_model/ticket_search.py).
* Each statement is built once per shape (src/services/read_model/shapes.py). Statuses, categories,
  severities and the offset are written into the SQL text, so a prepared statement's generic
  plan knows them.
"""

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Invalid
from src.models.enums import SEVERITY_RANK, STATUS_RANK
from src.models.ticket import Ticket
from src.schemas.ticket import PaginatedTicketResponse, TicketResponse
from src.schemas.ticket_query import SortKey, SortOrder, TicketListParams
from src.services import access, access_records, citizen_view
from src.services.principal import Principal
from src.services.read_model import shapes, tallies

LIST_WINDOW = 10_000  # a list's page must start within this many rows of its ordering
SEARCH_WINDOW = 1_000  # a search counts this many matches at most, and pages within them
SEARCH_MIN_LENGTH = 3  # shorter terms match nearly everything and no index narrows them
RESPONSE_FIELDS = tuple(TicketResponse.model_fields)
SORT_COLUMNS = {
    SortKey.CREATED_AT: "created_at",
    SortKey.UPDATED_AT: "updated_at",
    SortKey.STATUS: "status_rank",
    SortKey.SEVERITY: "severity_rank",
    SortKey.CATEGORY: "category",
    SortKey.SLA_RESOLUTION_DEADLINE: "sla_resolution_deadline",
    SortKey.FOLLOWERS: "followers",  # residents following it (kept by a trigger), ties by id like the rest
}
TRACKING_CHARACTERS = frozenset("tk-0123456789abcdef")  # TKT-YYYYMMDD-XXXXXX, compared as ILIKE does: lower-cased


def escape_like(term: str) -> str:
    """`%`, `_` and `\\` match themselves (the escape character is the backslash)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def aware(value: datetime, timezone: str) -> datetime:
    """An ISO value without an offset is a local time of the municipality."""
    return value.replace(tzinfo=ZoneInfo(timezone)) if value.tzinfo is None else value


def known(value: StrEnum) -> ColumnElement[Any]:
    """A value from a tiny known set, written into the SQL so generic plans are made knowing it."""
    return literal(value.value, String, literal_execute=True)


def ranked(column: Any, rank: int) -> ColumnElement[bool]:
    return column == literal(rank, Integer, literal_execute=True)


def pins_sort_key(params: TicketListParams) -> bool:
    """Whether a filter fixes the sort key (a status sorted by status, a severity by severity)."""
    return (params.status is not None and params.sort_by is SortKey.STATUS) or (
        params.severity is not None and params.sort_by is SortKey.SEVERITY
    )


def list_filters(p: Principal, params: TicketListParams, *, ordered: bool = False) -> list[ColumnElement[bool]]:
    """The list's filters (not the search) on `tickets`, to add to the access policy's conditions.

    `ordered`: for reading rows in the list's order. A status (severity) filter sorted by status
    (severity) is then written on the rank the sort reads, the same rows: the sort's index is
    walked within that rank alone. Written on the status, the planner cannot tell that every
    match sits at one end of the index, and measured 250-620 ms walking past the other statuses
    (the tallies count only the plain form).

    Raises Forbidden for a councillor naming another ward (`ward_forbidden`) or without one (`no_ward`).
    """
    t = Ticket
    conds: list[ColumnElement[bool]] = []
    ward = access.effective_ward(p, params.ward_id)
    if ward is not None and params.ward_id is not None:  # else it is the councillor's own, pinned by the policy
        conds.append(t.ward_id == ward)
    if params.status is not None:
        by_rank = ordered and params.sort_by is SortKey.STATUS
        conds.append(ranked(t.status_rank, STATUS_RANK[params.status]) if by_rank else t.status == known(params.status))
    if params.category is not None:
        conds.append(t.category == known(params.category))
    if params.severity is not None:
        by_rank = ordered and params.sort_by is SortKey.SEVERITY
        conds.append(
            ranked(t.severity_rank, SEVERITY_RANK[params.severity]) if by_rank else t.severity == known(params.severity)
        )
    if params.team_id is not None:
        conds.append(t.assigned_team_id == params.team_id)
    if params.created_from is not None:
        conds.append(t.created_at >= aware(params.created_from, p.timezone))
    if params.created_to is not None:
        conds.append(t.created_at < aware(params.created_to, p.timezone))
    return conds


def search_pattern(term: str) -> str:
    return f"%{escape_like(term)}%"


def narrowed_pattern(term: str) -> str:
    """A looser pattern for the trigram index: the term's words in order, anything between them.

    Every ticket containing the term matches it, so it can only add candidates, which the exact
    pattern then drops. It leaves out the padded trigrams of a phrase's short inner words, which
    occur in most tickets. A term whose words are all shorter than 3 characters gives no trigram
    this way and keeps its exact pattern.
    """
    words = re.findall(r"[^\W_]+", term)
    if not any(len(word) >= 3 for word in words):
        return search_pattern(term)
    return "%" + "%".join(escape_like(word) for word in words) + "%"


def could_be_tracking_number(term: str) -> bool:
    """Whether the term can occur in a tracking number at all; if not, only descriptions are read."""
    return set(term.lower()) <= TRACKING_CHARACTERS


def search_condition(source: Any, term: str | None = None, *, tracking: bool = True) -> ColumnElement[bool]:
    """The search as a condition on `source`: the given term, or the pattern parameter `pattern`."""
    pattern: Any = search_pattern(term) if term is not None else bindparam("pattern", type_=String)
    # A sensitive ticket's description is sealed: its search matches the tracking number only.
    description = and_(source.c.is_sensitive.is_(False), source.c.description.ilike(pattern, escape="\\"))
    if not tracking:
        return description
    return or_(source.c.tracking_number.ilike(pattern, escape="\\"), description)


def ordering(source: Any, params: TicketListParams, sort_column: str | None = None) -> list[Any]:
    """The sort key, then id in the same direction: a total, stable order."""
    column = source.c[sort_column or SORT_COLUMNS[params.sort_by]]
    if params.sort_order is SortOrder.ASC:
        return [column.asc(), source.c.id.asc()]
    return [column.desc(), source.c.id.desc()]


def filtered_tickets(p: Principal, params: TicketListParams) -> Select[Ticket]:
    """Every ticket of the list for `p` and `params`, in the list's order, without paging or windows.

    The search is a plain condition here (a streamed export reads every row anyway), so callers
    may swap the columns and add joins.
    """
    query = access.visible_tickets(p).where(*list_filters(p, params, ordered=True))
    if params.search:
        term = params.search
        query = query.where(search_condition(tallies.TICKETS, term, tracking=could_be_tracking_number(term)))
    return query.order_by(*ordering(tallies.TICKETS, params))


def page_rows(ids: Select[Any], params: TicketListParams) -> Any:
    """The full rows of the ids a page selected, with their sort key (a subquery to join counts to)."""
    t = tallies.TICKETS
    sort_key = t.c[SORT_COLUMNS[params.sort_by]].label("sort_key")
    return select(*(t.c[name] for name in RESPONSE_FIELDS), sort_key).where(t.c.id.in_(ids)).subquery("page")


def with_counts(counts: list[Any], page: Any, params: TicketListParams) -> Any:
    """One row per ticket of the page, each led by the counts; one row of counts alone when the
    page is empty (one round trip either way)."""
    head = select(*counts).subquery("head")
    return (
        select(*head.c, *page.c).select_from(head.outerjoin(page, true())).order_by(*ordering(page, params, "sort_key"))
    )


def offset_and_limit() -> tuple[Any, Any]:
    return (
        bindparam("offset", type_=BigInteger, literal_execute=True),
        bindparam("limit", type_=Integer, literal_execute=True),
    )


def _count_statement(conds: list[ColumnElement[bool]]) -> Any:
    found = tallies.tally_for(conds)
    if found is not None:
        table, moved = found
        return select(func.coalesce(func.sum(table.c.n), literal_column("0"))).where(*moved)
    return select(func.count()).select_from(tallies.TICKETS).where(*conds)


def _list_statement(
    counted: list[ColumnElement[bool]], conds: list[ColumnElement[bool]], params: TicketListParams, first: bool
) -> Any:
    """The total of the `counted` conditions and the page of `conds` (the same rows, see
    `list_filters`). A later page's ids come from the ordered index alone (its INCLUDE columns let
    the row-level-security filter run there), so skipping 10,000 rows reads no table row; only the
    page's rows are then read. The first page reads its rows as it walks."""
    t = tallies.TICKETS
    offset, limit = offset_and_limit()
    total = [_count_statement(counted).scalar_subquery().label("total")]
    if first:
        sort_key = t.c[SORT_COLUMNS[params.sort_by]].label("sort_key")
        page = select(*(t.c[name] for name in RESPONSE_FIELDS), sort_key).where(*conds).order_by(*ordering(t, params))
        return with_counts(total, page.limit(limit).subquery("page"), params)
    ids = select(t.c.id).where(*conds).order_by(*ordering(t, params)).offset(offset).limit(limit)
    return with_counts(total, page_rows(ids, params), params)


def split(rows: list[Any], counts: int) -> tuple[tuple[Any, ...], list[dict[str, Any]]]:
    """The counts of a `with_counts` result, and its tickets as response dicts."""
    head = tuple(rows[0][:counts])
    width = len(RESPONSE_FIELDS)
    tickets = [
        dict(zip(RESPONSE_FIELDS, row[counts : counts + width], strict=True)) for row in rows if row[counts] is not None
    ]
    return head, tickets


def too_deep(window: int, what: str) -> Invalid:
    return Invalid(
        f"Pages can start within the first {window:,} {what} only. Narrow the filters or the search, "
        "or export the list: exports include every match.",
        "page_too_deep",
    )


async def list_tickets(
    session: AsyncSession, principal: Principal, params: TicketListParams
) -> PaginatedTicketResponse:
    """The page and total; 422 `search_too_short` or `page_too_deep` before any reading."""
    from src.services.read_model import ticket_search  # it builds on this module's helpers

    policy = access.ticket_conditions(principal, access.Purpose.LIST)
    conds = [*policy, *list_filters(principal, params)]
    offset = params.page * params.page_size
    if params.search:
        if len(params.search) < SEARCH_MIN_LENGTH:
            raise Invalid(f"Search for at least {SEARCH_MIN_LENGTH} characters.", "search_too_short")
        if offset >= SEARCH_WINDOW:
            raise too_deep(SEARCH_WINDOW, "matches of a search")
        tickets, total = await ticket_search.search_page(session, conds, params, offset, written=len(policy))
        exact = total <= SEARCH_WINDOW
        total = min(total, SEARCH_WINDOW)
    else:
        if offset >= LIST_WINDOW:
            raise too_deep(LIST_WINDOW, "tickets of a list")
        # Only a filter on the sort key reads its rows through other conditions than it counts them.
        # The policy's values are written into the SQL (`ordered` repeats the very same conditions).
        ordered = [*policy, *list_filters(principal, params, ordered=True)] if pins_sort_key(params) else []
        n = len(conds)
        stmt, values = shapes.statement(
            ("list", params.sort_by, params.sort_order, offset == 0, n),
            [*conds, *ordered],
            lambda c: _list_statement(c[:n], c[n:] or c[:n], params, offset == 0),
            written=len(policy),
        )
        result = await shapes.execute(session, stmt, {**values, "offset": offset, "limit": params.page_size})
        (total,), tickets = split(list(result.all()), 1)
        total, exact = int(total), True
    await access_records.account_for_list(session, principal, params, tickets)
    return PaginatedTicketResponse.model_validate(
        {
            "tickets": [citizen_view.ticket_fields(principal, t) for t in tickets],
            "total": total,
            "total_exact": exact,
            "page": params.page,
            "page_size": params.page_size,
            "page_count": math.ceil(total / params.page_size),
        }
    )


__all__ = ["escape_like", "filtered_tickets", "list_filters", "list_tickets", "search_condition"]
