"""Access records: every list, search or export answer that carries sensitive (GBV) tickets is
accounted for with one row naming the reader, the time, the query and the tickets' ids.

The record is an audit record, the one kind of write a read may make. It is written in the
request's own transaction when that runs on the primary. A list served by a read replica runs in
a read-only transaction, so its record is written in a short transaction of its own on the
primary, committed before the answer leaves: no sensitive answer goes out unaccounted for.
Residents reading their own reports are not recorded (as for `viewed_sensitive`).
"""

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import get_database
from src.models.user import UserRole
from src.schemas.ticket_query import TicketListParams
from src.services.principal import Principal


class Answer(StrEnum):
    LIST = "list"
    SEARCH = "search"
    EXPORT = "export"


INSERT = text(
    "INSERT INTO sensitive_access_records (municipality_id, user_id, role, answer, query, ticket_ids) "
    "VALUES (:municipality_id, :user_id, :role, :answer, :query, :ticket_ids)"
).bindparams(bindparam("query", type_=JSONB), bindparam("ticket_ids", type_=ARRAY(UUID(as_uuid=True))))
READ_ONLY = text("SELECT current_setting('transaction_read_only') = 'on'")


def sensitive_ids(tickets: Iterable[Any]) -> list[uuid.UUID]:
    """The ids of the sensitive tickets among response rows (dicts or objects)."""
    found = []
    for t in tickets:
        row = t if isinstance(t, dict) else t.__dict__
        if row.get("is_sensitive"):
            found.append(row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"])))
    return found


def query_of(params: TicketListParams) -> dict[str, Any]:
    """The filters as given (defaults left out), as JSON."""
    return params.model_dump(mode="json", exclude_defaults=True, by_alias=False)


async def account_for(
    session: AsyncSession, p: Principal, answer: Answer, query: dict[str, Any], ticket_ids: list[uuid.UUID]
) -> bool:
    """Write the record when the answer carries sensitive tickets; True when one was written."""
    if not ticket_ids or p.role is UserRole.CITIZEN:
        return False
    values = {
        "municipality_id": p.municipality_id,
        "user_id": p.id,
        "role": p.role.value,
        "answer": answer.value,
        "query": query,
        "ticket_ids": ticket_ids,
    }
    if not await session.scalar(READ_ONLY):
        await session.execute(INSERT, values)
        return True
    async with get_database().tenant_session(p.tenant) as primary:
        await primary.execute(INSERT, values)
    return True


async def account_for_list(
    session: AsyncSession, p: Principal, params: TicketListParams, tickets: Iterable[Any]
) -> None:
    answer = Answer.SEARCH if params.search else Answer.LIST
    await account_for(session, p, answer, query_of(params), sensitive_ids(tickets))


TOUCHING = text(
    "SELECT role, at, answer, ticket_ids FROM sensitive_access_records "
    "WHERE municipality_id = :municipality_id AND ticket_ids && :ticket_ids ORDER BY at, id"
).bindparams(bindparam("ticket_ids", type_=ARRAY(UUID(as_uuid=True))))


async def records_touching(
    municipality_id: uuid.UUID, ticket_ids: list[uuid.UUID]
) -> list[tuple[str, Any, str, uuid.UUID]]:
    """(role, at, answer, ticket id) for every record that carried one of `ticket_ids`: what a
    reporter learns about who received their own sensitive reports (src/services/data_subject.py).

    Row-level security lets only admins read the records, so this one read runs as the owner; the
    caller passes only ids its own transaction showed to be the reporter's. Readers are given by
    role, never by name or id.
    """
    if not ticket_ids:
        return []
    wanted = set(ticket_ids)
    async with get_database().system_session() as owner:
        rows = (await owner.execute(TOUCHING, {"municipality_id": municipality_id, "ticket_ids": ticket_ids})).all()
    return [(r.role, r.at, r.answer, tid) for r in rows for tid in r.ticket_ids if tid in wanted]
