"""The ticket list (SPEC §4.3): filters, search, sort and paging, with an exact total.

Every query starts from the access policy's conditions. `filtered_tickets` is the list's query
without paging (the exports stream it); `list_tickets` pages it and counts it.

How it stays fast at millions of tickets (bench/README.md has the figures):
* the total comes from the tallies kept by the database (src/services/tallies.py) whenever the
  conditions are all equality filters on tally columns; otherwise it is counted from the
  tickets through the indexes (a created range, a search, a field worker's own tickets);
* the total and the page come back from one statement, built once per shape (src/services/shapes.py);
* deep pages of the default sort find the hour holding their first row in `ticket_hours` and start
  there by (created_at, id) rather than walking every earlier row: the cost follows the page's
  position, not the history;
* search reads `tickets_searchable` (the tickets policies as a view, see migration 0002), the
  only way the trigram indexes can serve a search made under row-level security;
* a search term matching many tickets is remembered by the municipality (migration 0003): its
  total then comes from the term tallies, and its page from walking the list's order, which
  meets the page's rows early when matches are dense (`_search_page`).
"""

import logging
import math
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    False_,
    Integer,
    Select,
    String,
    Table,
    True_,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.util import ClauseAdapter

from src.models.ticket import Ticket
from src.schemas.ticket import PaginatedTicketResponse, TicketResponse
from src.schemas.ticket_query import SortKey, SortOrder, TicketListParams
from src.services import access, shapes, tallies
from src.services.principal import Principal

log = logging.getLogger("khanyisa")

SKIP_FROM_OFFSET = 500  # below this, walking the index is cheaper than reading ticket_hours
HOURS_PER_READ = 1000
RESPONSE_FIELDS = tuple(TicketResponse.model_fields)
_SORT_COLUMNS = {
    SortKey.CREATED_AT: "created_at",
    SortKey.UPDATED_AT: "updated_at",
    SortKey.STATUS: "status_rank",
    SortKey.SEVERITY: "severity_rank",
    SortKey.CATEGORY: "category",
    SortKey.SLA_RESOLUTION_DEADLINE: "sla_resolution_deadline",
}
_trigram_checked = False
REMEMBER_FROM = 1000  # a search counted the slow way with at least this many matches is remembered,
REMEMBER_AFTER = 0.05  # and so is one whose counting took this many seconds (many candidates, few matches)
REMEMBERED_PER_MUNICIPALITY = 200  # the oldest remembered term is forgotten beyond this
WALK_WINDOW = 64_000  # a remembered term's page walks at most this many rows of the list's order...
WALK_SHARE = 4  # ...and only when it expects to need at most 1/WALK_SHARE of them


def escape_like(term: str) -> str:
    """`%`, `_` and `\\` match themselves (the escape character is the backslash)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def aware(value: datetime, timezone: str) -> datetime:
    """An ISO value without an offset is a local time of the municipality."""
    return value.replace(tzinfo=ZoneInfo(timezone)) if value.tzinfo is None else value


def list_filters(p: Principal, params: TicketListParams) -> list[ColumnElement[bool]]:
    """The list's filters (not the search) on `tickets`, to add to the access policy's conditions.

    Raises Forbidden for a councillor naming another ward (`ward_forbidden`) or without one (`no_ward`).
    """
    t = Ticket
    conds: list[ColumnElement[bool]] = []
    ward = access.effective_ward(p, params.ward_id)
    if ward is not None:
        conds.append(t.ward_id == ward)
    if params.status is not None:
        conds.append(t.status == params.status.value)
    if params.category is not None:
        conds.append(t.category == params.category.value)
    if params.severity is not None:
        conds.append(t.severity == params.severity.value)
    if params.team_id is not None:
        conds.append(t.assigned_team_id == params.team_id)
    if params.created_from is not None:
        conds.append(t.created_at >= aware(params.created_from, p.timezone))
    if params.created_to is not None:
        conds.append(t.created_at < aware(params.created_to, p.timezone))
    return conds


def search_condition(source: Any, term: str) -> ColumnElement[bool]:
    pattern = f"%{escape_like(term)}%"
    return or_(source.c.tracking_number.ilike(pattern, escape="\\"), source.c.description.ilike(pattern, escape="\\"))


def _ordering(source: Any, params: TicketListParams, sort_column: str | None = None) -> list[Any]:
    """The sort key, then id in the same direction: a total, stable order."""
    column = source.c[sort_column or _SORT_COLUMNS[params.sort_by]]
    if params.sort_order is SortOrder.ASC:
        return [column.asc(), source.c.id.asc()]
    return [column.desc(), source.c.id.desc()]


def filtered_tickets(p: Principal, params: TicketListParams) -> Select[Ticket]:
    """Every ticket of the list for `p` and `params`, in the list's order, without paging.

    The search is a semi-join on `tickets_searchable`, so the statement still reads from
    `tickets` alone and callers may swap its columns and add joins (the exports do).
    """
    query = access.visible_tickets(p).where(*list_filters(p, params))
    if params.search:
        view = tallies.SEARCHABLE
        query = query.where(Ticket.id.in_(select(view.c.id).where(search_condition(view, params.search))))
    return query.order_by(*_ordering(Ticket.__table__, params))


filtered_select = filtered_tickets


async def _warn_without_trigram(session: AsyncSession) -> None:
    global _trigram_checked
    if _trigram_checked:
        return
    _trigram_checked = True
    if await session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")) is None:
        log.warning("pg_trgm is not installed: ticket search scans instead of using trigram indexes (same results, slower)")


def _source(conds: list[ColumnElement[bool]], searching: bool) -> tuple[Table, list[ColumnElement[bool]]]:
    """Searches read `tickets_searchable` (see the module docstring); the rest reads `tickets`."""
    if not searching:
        return tallies.TICKETS, list(conds)
    moved = tallies.retarget(conds, tallies.SEARCHABLE)
    if moved is None:  # never drop a condition: the view must carry every tickets column
        raise RuntimeError("tickets_searchable lacks a column of tickets; recreate the view")
    return tallies.SEARCHABLE, moved


def _count_statement(conds: list[ColumnElement[bool]], searching: bool) -> Any:
    found = None if searching else tallies.tally_for(conds)
    if found is not None:
        table, moved = found
        return select(func.coalesce(func.sum(table.c.n), 0)).where(*moved)
    source, moved = _source(conds, searching)
    return select(func.count()).select_from(source).where(*moved)


def _rows_statement(conds: list[ColumnElement[bool]], searching: bool, params: TicketListParams, mode: str) -> Any:
    """The page, each row led by the total (one round trip; an empty page counts separately).

    mode "first": the first page; "offset": OFFSET :offset; "anchor": the hour holding the page's
    first row and its rank in that hour found in SQL from the first batch of hours; "hour": the
    same given as :hour_start, :hour_end and :within. The last two then start the page at that
    row by its (created_at, id) key rather than by OFFSET. LIMIT is written into the statement:
    with no unknown LIMIT or OFFSET, PostgreSQL can keep one generic plan instead of planning
    every request.
    """
    if searching:
        return _search_rows_statement(conds, params, mode)
    total = _count_statement(conds, searching).scalar_subquery()
    source, moved = _source(conds, searching)
    query = select(total, *(source.c[name] for name in RESPONSE_FIELDS))
    if mode in ("anchor", "hour"):
        desc = params.sort_order is SortOrder.DESC
        hour_start: ColumnElement[Any]
        hour_end: ColumnElement[Any]
        if mode == "anchor":
            anchor = _anchor_statement(conds, desc, False, _pins_sensitivity(conds)).cte("anchor")
            hour_start, hour_end = select(anchor.c.hour).scalar_subquery(), select(anchor.c.hour_end).scalar_subquery()
            within: Any = bindparam("offset", type_=BigInteger) - select(anchor.c.before).scalar_subquery()
        else:
            hour_start = bindparam("hour_start", type_=DateTime(timezone=True))
            hour_end = bindparam("hour_end", type_=DateTime(timezone=True))
            within = bindparam("within", type_=BigInteger)
        first = (
            select(source.c.created_at, source.c.id)
            .where(*moved, source.c.created_at >= hour_start, source.c.created_at < hour_end)
            .order_by(*_ordering(source, params))
            .offset(within)
            .limit(1)
            .cte("first_row")
        )
        key = tuple_(source.c.created_at, source.c.id)
        start = tuple_(select(first.c.created_at).scalar_subquery(), select(first.c.id).scalar_subquery())
        moved.append(key <= start if desc else key >= start)
    elif mode == "offset":
        query = query.offset(bindparam("offset", type_=BigInteger))
    return query.where(*moved).order_by(*_ordering(source, params)).limit(literal_column(str(params.page_size)))


def _search_rows_statement(conds: list[ColumnElement[bool]], params: TicketListParams, mode: str) -> Any:
    """A search's page: the matches are found once (through the trigram indexes when there are
    any), counted, and ordered by their sort key; the page's rows are then read by id.

    How many rows match a substring is unknown to the planner, so an ordered scan that hopes to
    meet 50 matches early could read a whole municipality for a word that matches nothing; this
    way the cost is that of the matches, which the exact total has to visit anyway.
    """
    source, moved = _source(conds, True)
    matches = select(source.c.id, source.c[_SORT_COLUMNS[params.sort_by]].label("sort_key")).where(*moved).cte("matches")
    total = select(func.count()).select_from(matches).scalar_subquery()
    page = select(matches.c.id).order_by(*_ordering(matches, params, "sort_key")).limit(literal_column(str(params.page_size)))
    if mode == "offset":
        page = page.offset(bindparam("offset", type_=BigInteger))
    return (
        select(total, *(source.c[name] for name in RESPONSE_FIELDS))
        .where(source.c.id.in_(page))
        .order_by(*_ordering(source, params))
    )


def _pins_sensitivity(conds: list[ColumnElement[bool]]) -> bool:
    """Whether one of the conditions fixes `is_sensitive` (then an hour has at most one hours row)."""
    for cond in conds:
        left, right = getattr(cond, "left", None), getattr(cond, "right", None)
        if (
            isinstance(left, Column) and left.table is tallies.TICKETS and left.name == "is_sensitive"
            and isinstance(right, (True_, False_)) and getattr(cond, "operator", None) in (operators.is_, operators.eq)
        ):
            return True
    return False


def _hour_batch(conds: list[ColumnElement[bool]], desc: bool, continued: bool, pinned: bool) -> Any:
    """The next HOURS_PER_READ hours from the requested end, with the tickets created in each."""
    h = tallies.HOURS
    moved = tallies.retarget(conds, h)
    if moved is None:
        raise RuntimeError("list conditions are not answerable from ticket_hours")
    if continued:
        after = bindparam("after", type_=DateTime(timezone=True))
        moved.append(h.c.hour < after if desc else h.c.hour > after)
    created = cast(h.c.created if pinned else func.sum(h.c.created), Integer)  # int sums stay off numeric
    query = select(h.c.hour, created.label("created")).where(*moved)
    if not pinned:
        query = query.group_by(h.c.hour)
    return query.order_by(h.c.hour.desc() if desc else h.c.hour.asc()).limit(bindparam("batch", type_=Integer)).subquery("batch")


def _anchor_statement(conds: list[ColumnElement[bool]], desc: bool, continued: bool, pinned: bool) -> Any:
    """In the batch, the first hour whose running count passes :offset, with the rows before it."""
    batch = _hour_batch(conds, desc, continued, pinned)
    order = batch.c.hour.desc() if desc else batch.c.hour.asc()
    running = select(
        batch.c.hour, batch.c.created, func.sum(batch.c.created).over(order_by=order, rows=(None, 0)).label("through")
    ).subquery("running")
    return (
        select(running.c.hour, (running.c.hour + timedelta(hours=1)).label("hour_end"),
               (running.c.through - running.c.created).label("before"))
        .where(running.c.through > bindparam("offset", type_=BigInteger))
        .order_by(running.c.hour.desc() if desc else running.c.hour.asc())
        .limit(1)
    )


def _batch_statement(conds: list[ColumnElement[bool]], desc: bool, continued: bool, pinned: bool) -> Any:
    """The batch's size in hours and rows, and where it ends."""
    batch = _hour_batch(conds, desc, continued, pinned)
    end = func.min(batch.c.hour) if desc else func.max(batch.c.hour)
    return select(func.count(), func.coalesce(func.sum(batch.c.created), 0), end)


async def _skip_hours(session: AsyncSession, conds: list[ColumnElement[bool]], offset: int, desc: bool) -> tuple[datetime, int] | None:
    """For a deep page in created_at order: the hour holding the `offset`-th row and the offset within it.

    Walks `ticket_hours` from the requested end, HOURS_PER_READ hours per round trip, until the
    running count passes `offset`: the cost follows the page's position, not the history. None
    when the offset is past the last row.
    """
    pinned = _pins_sensitivity(conds)
    after: datetime | None = None
    while True:
        continued = after is not None
        extra = {"batch": HOURS_PER_READ, **({"after": after} if continued else {})}
        stmt, values = shapes.statement(("anchor", desc, continued, pinned), conds,
                                        partial(_anchor_statement, desc=desc, continued=continued, pinned=pinned))
        row = (await shapes.execute(session, stmt, {**values, **extra, "offset": offset})).first()
        if row is not None:
            return row.hour, offset - int(row.before)
        stmt, values = shapes.statement(("batch", desc, continued, pinned), conds,
                                        partial(_batch_statement, desc=desc, continued=continued, pinned=pinned))
        hours, rows, end = (await shapes.execute(session, stmt, {**values, **extra})).one()
        if hours < HOURS_PER_READ:
            return None
        offset -= int(rows)
        after = end


async def _page_rows(session: AsyncSession, conds: list[ColumnElement[bool]], searching: bool, params: TicketListParams) -> list[Any]:
    """The page's rows, each led by the total; deep pages of the created_at order skip whole hours."""
    offset = params.page * params.page_size
    desc = params.sort_order is SortOrder.DESC
    deep = (
        params.sort_by is SortKey.CREATED_AT and offset >= SKIP_FROM_OFFSET and not searching
        and tallies.answers(conds, tallies.HOURS)
    )

    async def rows(mode: str, **values: Any) -> list[Any]:
        tag = ("rows+total", params.sort_by, params.sort_order, params.page_size, mode)
        stmt, cond_values = shapes.statement(tag, conds, lambda c: _rows_statement(c, searching, params, mode))
        extra = {"batch": HOURS_PER_READ} if mode == "anchor" else {}
        return list((await shapes.execute(session, stmt, {**cond_values, **extra, **values})).all())

    if not deep:
        return await rows("offset", offset=offset) if offset else await rows("first")
    found = await rows("anchor", offset=offset)  # the common case: within the first batch of hours
    if found:
        return found
    skip = await _skip_hours(session, conds, offset, desc)
    if skip is None:
        return []
    hour, within = skip
    return await rows("hour", hour_start=hour, hour_end=hour + timedelta(hours=1), within=within)


async def _total(session: AsyncSession, conds: list[ColumnElement[bool]], searching: bool) -> int:
    stmt, values = shapes.statement("total", conds, lambda c: _count_statement(c, searching))
    return int((await shapes.execute(session, stmt, values)).scalar_one())


def _term_total(base: list[ColumnElement[bool]]) -> Any:
    """The matches of the remembered term :term among the tickets `base` selects, from the term tallies."""
    found = tallies.tally_for(base, term=True)
    if found is None:
        raise RuntimeError("these conditions are not answerable from the term tallies")
    table, moved = found
    return select(func.coalesce(func.sum(table.c.n), 0)).where(*moved, table.c.term == bindparam("term", type_=String))


def _probe_statement(base: list[ColumnElement[bool]]) -> Any:
    """Whether the search term is remembered, its matches among `base`, and how many tickets `base` holds."""
    terms = tallies.SEARCH_TERMS
    known = select(func.count()).select_from(terms).where(
        terms.c.municipality_id == bindparam("municipality", type_=Uuid), terms.c.term == bindparam("term", type_=String)
    )
    visible = _count_statement(base, False)  # from the plain tallies, which key whatever the term tallies key
    return select(known.scalar_subquery(), _term_total(base).scalar_subquery(), visible.scalar_subquery())


def _walk_statement(conds: list[ColumnElement[bool]], params: TicketListParams, mode: str) -> Any:
    """A remembered term's page: the first WALK_WINDOW rows of the list's own order (read lazily,
    only as far as the page needs), keeping those that match; the total from the term's tally.

    `conds` is the list's conditions followed by the search condition. When the window holds
    fewer matches than the page needs, the page comes back short and the caller gathers instead.
    """
    source = tallies.TICKETS
    window = (
        select(source).where(*conds[:-1]).order_by(*_ordering(source, params))
        .limit(literal_column(str(WALK_WINDOW))).subquery("walked")
    )
    matching = ClauseAdapter(window).traverse(conds[-1])
    query = select(_term_total(conds[:-1]).scalar_subquery(), *(window.c[name] for name in RESPONSE_FIELDS)).where(matching)
    if mode == "offset":
        query = query.offset(bindparam("offset", type_=BigInteger))
    return query.order_by(*_ordering(window, params)).limit(literal_column(str(params.page_size)))


async def _search_page(
    session: AsyncSession, p: Principal, base: list[ColumnElement[bool]], params: TicketListParams
) -> tuple[list[Any], int]:
    """A search's page and exact total.

    A term the municipality remembers (migration 0003) has its total in the term tallies; its page
    is then found by walking the list's order when the matches are dense enough to fill it early
    (within a bounded window, so matches bunched far back cost a bounded detour), so neither
    grows with the history. Any other search counts its matches (through the trigram
    indexes where they exist); one that turns out to match at least REMEMBER_FROM tickets, or
    whose counting took REMEMBER_AFTER seconds (words that are common apart but rare together), is
    remembered for next time. Remembering writes: the list runs on the primary database.
    """
    term = params.search or ""
    conds = [*base, search_condition(tallies.TICKETS, term)]
    offset = params.page * params.page_size
    tag = ("search", params.sort_by, params.sort_order, params.page_size, "offset" if offset else "first")
    answerable, known = tallies.tally_for(base, term=True) is not None, False
    if answerable:
        stmt, values = shapes.statement("probe", base, _probe_statement)
        known, matches, visible = (
            await shapes.execute(session, stmt, {**values, "term": term, "municipality": p.municipality_id})
        ).one()
        matches, visible = int(matches), int(visible)
        if known:
            if offset >= matches:
                return [], matches
            expected = (offset + params.page_size) * visible / matches  # rows to walk, were matches spread evenly
            if expected * WALK_SHARE <= WALK_WINDOW:
                stmt, values = shapes.statement(
                    ("walk", WALK_WINDOW, *tag), conds, lambda c: _walk_statement(c, params, tag[-1])
                )
                found = list((await shapes.execute(session, stmt, {**values, "term": term, "offset": offset})).all())
                total = int(found[0][0]) if found else matches
                if len(found) == max(0, min(params.page_size, total - offset)):
                    return found, total
                # the matches lie further back than the window: gather them instead
    started = time.perf_counter()
    rows = await _page_rows(session, conds, True, params)
    total = int(rows[0][0]) if rows else await _total(session, conds, True)
    if answerable and not known and (total >= REMEMBER_FROM or time.perf_counter() - started >= REMEMBER_AFTER):
        await session.execute(select(func.search_term_remember(term, REMEMBERED_PER_MUNICIPALITY)))
    return rows, total


async def list_tickets(session: AsyncSession, principal: Principal, params: TicketListParams) -> PaginatedTicketResponse:
    conds = [*access.ticket_conditions(principal, access.Purpose.LIST), *list_filters(principal, params)]
    if params.search:
        await _warn_without_trigram(session)
        rows, total = await _search_page(session, principal, conds, params)
    else:
        rows = await _page_rows(session, conds, False, params)
        total = int(rows[0][0]) if rows else await _total(session, conds, False)
    return PaginatedTicketResponse.model_validate({
        "tickets": [dict(zip(RESPONSE_FIELDS, row[1:], strict=True)) for row in rows],
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "page_count": math.ceil(total / params.page_size),
    })


__all__ = ["escape_like", "filtered_select", "filtered_tickets", "list_filters", "list_tickets", "search_condition"]
