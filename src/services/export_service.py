"""CSV and Excel exports of the ticket list, streamed so memory stays flat.

The rows are the list's own query (same access policy, filters, search and sort, no paging),
read through a server-side cursor in a read-only transaction of the export's own: the request's
session is committed when the endpoint returns, before the first byte is streamed.

CSV starts with a UTF-8 byte-order mark so spreadsheet programs read accents correctly. Excel
is written by XlsxWriter in constant-memory mode (each row is flushed to a temporary file as it
is written) and then sent from that file. Times are shown in the municipality's timezone;
in Excel they are real date cells.
"""

import asyncio
import contextlib
import csv
import io
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import Select, and_, case, func, literal
from sqlalchemy.orm import aliased

from src.core.database import get_database
from src.models.team import Team
from src.models.ticket import Ticket
from src.models.user import User
from src.models.ward import Ward
from src.schemas.ticket_query import TicketListParams
from src.services import access, sla
from src.services.principal import Principal
from src.services.read_model import ticket_query

COLUMNS = (
    "Tracking number",
    "Category",
    "Status",
    "Severity",
    "Ward",
    "Team",
    "Assignee",
    "Address",
    "Latitude",
    "Longitude",
    "Created",
    "First response",
    "Resolved",
    "Closed",
    "Escalated",
    "Response deadline",
    "Resolution deadline",
    "Response SLA",
    "Resolution SLA",
    "Description",
)
TIME_COLUMNS = frozenset(range(10, 17))
NUMBER_COLUMNS = frozenset({8, 9})
TEXT_COLUMNS = frozenset({4, 5, 6, 7, 19})  # free text typed by people: guarded against formulas
BATCH_ROWS = 2000
SEND_CHUNK = 64 * 1024
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MET, BREACHED, PENDING = "met", "breached", "pending"


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    body: AsyncIterator[bytes]


def filename(principal: Principal, extension: str, now: datetime | None = None) -> str:
    """`tickets-TSH-20261127-1405.csv`: the municipality and the moment, in its own time."""
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(principal.timezone))
    return f"tickets-{principal.municipality_code}-{local:%Y%m%d-%H%M}.{extension}"


def _sla(done_at: Any, deadline: Any) -> Any:
    """met / breached / pending, by the dashboard's definitions; blank without a deadline."""
    return case(
        (deadline.is_(None), None),
        (sla.breached(done_at, deadline, func.now()), literal(BREACHED)),
        (done_at.is_not(None), literal(MET)),
        else_=literal(PENDING),
    )


def export_query(principal: Principal, params: TicketListParams) -> Select[Any]:
    """One row per ticket, in the list's order, with names joined in and times made local.

    Raises Forbidden for roles that may not export (and for a councillor naming another ward).
    Sensitive tickets never appear: the roles that may export list none (the access policy).
    """
    access.require_role(principal, access.DASHBOARD_ROLES)
    t = Ticket
    assignee = aliased(User)
    tz = literal(principal.timezone)

    def local(column: Any) -> Any:
        return func.timezone(tz, column)

    columns = (
        t.tracking_number,
        t.category,
        t.status,
        t.severity,
        Ward.code,
        Team.name,
        assignee.full_name,
        t.address,
        t.latitude,
        t.longitude,
        local(t.created_at),
        local(t.first_responded_at),
        local(t.resolved_at),
        local(t.closed_at),
        local(t.escalated_at),
        local(t.sla_response_deadline),
        local(t.sla_resolution_deadline),
        _sla(t.first_responded_at, t.sla_response_deadline),
        _sla(t.resolved_at, t.sla_resolution_deadline),
        t.description,
    )
    return (
        ticket_query.filtered_tickets(principal, params)  # the list's own query: policy, filters, sort
        .with_only_columns(*columns, maintain_column_froms=False)
        .select_from(t)
        .outerjoin(Ward, and_(Ward.municipality_id == t.municipality_id, Ward.id == t.ward_id))
        .outerjoin(Team, and_(Team.municipality_id == t.municipality_id, Team.id == t.assigned_team_id))
        .outerjoin(assignee, and_(assignee.municipality_id == t.municipality_id, assignee.id == t.assigned_to))
    )


async def _batches(principal: Principal, query: Select[Any]) -> AsyncIterator[Sequence[Any]]:
    """Rows in batches from a server-side cursor, in a transaction pinned to the tenant (on the replica
    when it may serve this caller)."""
    async with get_database().read_session(principal.tenant, principal.last_write_lsn) as session:
        result = await session.stream(query.execution_options(yield_per=BATCH_ROWS))
        async for batch in result.partitions(BATCH_ROWS):
            yield batch


def _safe_text(value: str | None) -> str | None:
    """A cell that starts like a formula is shown as text, so a report cannot run in a spreadsheet."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_cell(index: int, value: Any) -> Any:
    if value is None:
        return ""
    if index in TIME_COLUMNS:
        return value.isoformat(" ", "seconds")
    if index in TEXT_COLUMNS:
        return _safe_text(value)
    return value


def csv_export(principal: Principal, params: TicketListParams) -> Export:
    query = export_query(principal, params)  # built now, so a refusal comes before any byte is sent
    return Export(filename(principal, "csv"), CSV_MEDIA_TYPE, _csv_body(principal, query))


async def _csv_body(principal: Principal, query: Select[Any]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for batch in _batches(principal, query):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_csv_cell(i, v) for i, v in enumerate(row)] for row in batch])
        yield buffer.getvalue().encode()


def xlsx_export(principal: Principal, params: TicketListParams) -> Export:
    query = export_query(principal, params)
    return Export(filename(principal, "xlsx"), XLSX_MEDIA_TYPE, _xlsx_body(principal, query))


class _Sheet:
    """An XlsxWriter worksheet in constant-memory mode, written one batch of rows at a time."""

    WIDTHS = (22, 12, 12, 10, 14, 24, 22, 32, 11, 11, 17, 17, 17, 17, 17, 17, 17, 14, 14, 60)

    def __init__(self, path: str) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path)})
        self.sheet = self.book.add_worksheet("Tickets")
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.number = self.book.add_format({"num_format": "0.000000"})
        header = self.book.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1})
        for col, width in enumerate(self.WIDTHS):
            self.sheet.set_column(col, col, width)
        self.sheet.freeze_panes(1, 0)
        for col, title in enumerate(COLUMNS):
            self.sheet.write_string(0, col, title, header)
        self.rows = 1

    def write(self, batch: Sequence[Any]) -> None:
        ws, date, number = self.sheet, self.date, self.number
        for row in batch:
            r = self.rows
            for col, value in enumerate(row):
                if value is None:
                    continue
                if col in TIME_COLUMNS:
                    ws.write_datetime(r, col, value, date)
                elif col in NUMBER_COLUMNS:
                    ws.write_number(r, col, value, number)
                else:  # write_string never turns text into a formula
                    ws.write_string(r, col, value)
            self.rows += 1

    def close(self) -> None:
        if self.rows > 1:
            self.sheet.autofilter(0, 0, self.rows - 1, len(COLUMNS) - 1)
        self.book.close()


async def _xlsx_body(principal: Principal, query: Select[Any]) -> AsyncIterator[bytes]:
    workdir = tempfile.mkdtemp(prefix="khanyisa-export-")
    path = os.path.join(workdir, "tickets.xlsx")
    try:
        sheet = await asyncio.to_thread(_Sheet, path)
        async for batch in _batches(principal, query):
            await asyncio.to_thread(sheet.write, batch)  # XlsxWriter is CPU-bound: keep the loop free
        await asyncio.to_thread(sheet.close)
        with await asyncio.to_thread(open, path, "rb") as f:
            while chunk := await asyncio.to_thread(f.read, SEND_CHUNK):
                yield chunk
    finally:
        await asyncio.to_thread(_remove_tree, workdir)


def _remove_tree(path: str) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
