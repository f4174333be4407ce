"""A search's page and its count capped at SEARCH_WINDOW + 1 (docs/search-and-paging.md).

How many tickets contain a substring is unknown until they are looked at, and the planner's
estimate for an ILIKE pattern is a guess. So the search measures instead, cheapest first:

1. Probe: the first PROBE_ROWS rows of the list's own order, checked against the term. When the
   term is dense there, walking that order finds the page and counts to the cap quickly.
2. Gather: ask the trigram index, through `ticket_search_ids` (migration 0004), for up to
   GATHER + 1 ids of the municipality's tickets containing the term. At most GATHER of them: that
   is every match, and the page is those of them the caller may see, sorted (the rare terms).
3. More than GATHER: a common term. When over SEARCH_WINDOW of those candidates are visible under
   the caller's filters, the count is complete ("1,000+") and only the page is walked for;
   otherwise the walk counts too (a narrow scope: a ward, a status).
4. A walk that reaches the end of its window (WALK_WINDOW rows) without completing falls back to
   gathering every match: the cost of the term's matches, as any search once cost.

Visibility is never decided here: every ticket row is read under row-level security and the
access policy's conditions; the index function only narrows which ids to read.
"""

from typing import Any

from sqlalchemy import ColumnElement, Integer, String, Uuid, bindparam, case, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from src.schemas.ticket_query import TicketListParams
from src.services.read_model import shapes, tallies
from src.services.read_model.ticket_query import (
    SEARCH_WINDOW,
    SORT_COLUMNS,
    could_be_tracking_number,
    narrowed_pattern,
    offset_and_limit,
    ordering,
    page_rows,
    search_condition,
    search_pattern,
    split,
    with_counts,
)

PROBE_ROWS = 1_000  # rows of the list's order read first, to see whether the term is dense
WALK_WINDOW = 20_000  # a walk reads at most this many rows of the list's order
GATHER = 2_000  # ids asked of the trigram index before a term counts as common
DENSE = 1.2  # a probe predicting the cap within 1/DENSE of a walk sends the search walking
CAP = SEARCH_WINDOW + 1  # counting stops here: one more than can be shown says "more than 1,000"


def _lit(n: int) -> Any:
    return literal_column(str(n))


def _walk_statement(
    conds: list[ColumnElement[bool]], params: TicketListParams, window: int, counting: bool, tracking: bool
) -> Any:
    """Walk the first `window` rows of the list's order, keeping those that match.

    Counts (`counting`): the matches up to CAP, and whether the walk saw the whole scope (it
    did when it reached the cap or the scope holds at most `window` rows). The LIMIT inside
    each walk keeps the planner on the ordered index: the term is checked row by row as the
    index yields them, and reading stops as soon as enough matches are found.
    """
    t = tallies.TICKETS
    hit = search_condition(t, tracking=tracking).label("hit")
    sort_key = t.c[SORT_COLUMNS[params.sort_by]].label("sort_key")

    def walked(*columns: Any) -> Any:
        return select(*columns, hit).where(*conds).order_by(*ordering(t, params)).limit(_lit(window)).subquery()

    w = walked(t.c.id, sort_key)
    offset, limit = offset_and_limit()
    ids = select(w.c.id).where(w.c.hit).order_by(*ordering(w, params, "sort_key")).offset(offset).limit(limit)
    if not counting:
        return with_counts([_lit(0).label("total"), _lit(1).label("covered")], page_rows(ids, params), params)
    c = walked(t.c.id)
    found = select(func.count()).select_from(select(c.c.id).where(c.c.hit).limit(_lit(CAP)).subquery())
    # OFFSET 0 keeps the count a subquery of its own: pulled up, it would run once per reference.
    total = select(found.scalar_subquery().label("total")).offset(_lit(0)).subquery("found")
    scope = select(func.count()).select_from(select(t.c.id).where(*conds).limit(_lit(window + 1)).subquery())
    covered = case(
        (total.c.total < CAP, scope.scalar_subquery() <= _lit(window)), else_=true()
    )  # scope read only when needed
    return with_counts([total.c.total, covered.label("covered")], page_rows(ids, params), params)


def tracking_only_when_sensitive(t: Any) -> ColumnElement[bool]:
    """A sensitive candidate counts only when its tracking number matches: its description is sealed."""
    return or_(t.c.is_sensitive.is_(False), t.c.tracking_number.ilike(bindparam("pattern", type_=String), escape="\\"))


def _gather_statement(conds: list[ColumnElement[bool]], params: TicketListParams) -> Any:
    """The matches the index finds (at most :max_rows of the municipality's), read under the
    caller's conditions: how many candidates, how many of them visible (up to CAP), the page."""
    t = tallies.TICKETS
    max_rows = bindparam("max_rows", type_=Integer)
    candidate = func.ticket_search_ids(
        bindparam("pattern", type_=String), bindparam("narrowed", type_=String), max_rows, type_=Uuid
    ).column_valued("candidate")
    candidates = select(candidate).cte("candidates")
    matches = (
        select(t.c.id, t.c[SORT_COLUMNS[params.sort_by]].label("sort_key"))
        .where(*conds, t.c.id.in_(select(candidates.c.candidate)), tracking_only_when_sensitive(t))
        .cte("matches")
    )
    counted = select(func.count()).select_from(candidates).scalar_subquery()
    complete = counted < func.coalesce(max_rows, _lit(2**31 - 1))
    visible = select(func.count()).select_from(select(matches.c.id).limit(_lit(CAP)).subquery())
    offset, limit = offset_and_limit()
    # Sorting needs every match; an incomplete set of candidates has no page, so it is not read.
    ids = (
        select(matches.c.id)
        .where(complete)
        .order_by(*ordering(matches, params, "sort_key"))
        .offset(offset)
        .limit(limit)
    )
    return with_counts(
        [counted.label("candidates"), visible.scalar_subquery().label("total")], page_rows(ids, params), params
    )


async def search_page(
    session: AsyncSession, conds: list[ColumnElement[bool]], params: TicketListParams, offset: int, written: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """The page (never past match SEARCH_WINDOW) and the matches counted up to CAP. The first
    `written` conditions are the access policy's, written into the SQL (shapes.statement)."""
    term = params.search or ""
    tracking = could_be_tracking_number(term)
    limit = min(params.page_size, SEARCH_WINDOW - offset)
    values = {"pattern": search_pattern(term), "narrowed": narrowed_pattern(term), "offset": offset, "limit": limit}
    order = (params.sort_by, params.sort_order, tracking)

    async def walk(window: int, counting: bool) -> tuple[tuple[Any, ...], list[dict[str, Any]]]:
        stmt, bound = shapes.statement(
            ("search walk", window, counting, *order),
            conds,
            lambda c: _walk_statement(c, params, window, counting, tracking),
            written,
        )
        return split(list((await shapes.execute(session, stmt, {**bound, **values})).all()), 2)

    async def gather(max_rows: int | None) -> tuple[tuple[Any, ...], list[dict[str, Any]]]:
        stmt, bound = shapes.statement(
            ("search gather", *order), conds, lambda c: _gather_statement(c, params), written
        )
        return split(list((await shapes.execute(session, stmt, {**bound, **values, "max_rows": max_rows})).all()), 2)

    (found, covered), rows = await walk(PROBE_ROWS, True)
    if covered:
        return rows, int(found)
    if found * WALK_WINDOW >= DENSE * CAP * PROBE_ROWS:  # dense: the cap is expected well within a walk
        (found, covered), rows = await walk(WALK_WINDOW, True)
        if covered:
            return rows, int(found)
    (candidates, found), rows = await gather(GATHER + 1)
    if candidates <= GATHER:
        return rows, int(found)
    if found >= CAP:  # the count is complete; walk for the page only
        _, rows = await walk(WALK_WINDOW, False)
        if len(rows) == limit:
            return rows, int(found)
    else:
        (found, covered), rows = await walk(WALK_WINDOW, True)
        if covered:
            return rows, int(found)
    (_, found), rows = await gather(None)
    return rows, int(found)
