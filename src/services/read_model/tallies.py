"""Reading what migration 0002 keeps for the list and the dashboard: tallies and hours.

The triggers of 0002 keep `ticket_status_tallies`, `ticket_tallies` (per municipality),
`ticket_ward_tallies` (per ward), `ticket_hours` and `ticket_deadlines` exact after every
statement on tickets. A question can be answered from them when every condition it asks is
about a column they are keyed by. `retarget` decides that and moves the very conditions the
access policy wrote onto the tally's columns of the same names: the visibility rule stays in
access.py and is never restated here.
"""

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import BigInteger, Boolean, Column, ColumnElement, DateTime, MetaData, Numeric, String, Table, Uuid
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import ClauseAdapter

from src.models.ticket import Ticket

_meta = MetaData()
# Declarative types __table__ as any FromClause; a mapped class's is always a Table.
TICKETS = cast(Table, Ticket.__table__)

MEASURES = (
    "n",
    "sla_total",
    "sla_response_late",
    "sla_resolution_late",
    "sla_unresponded",
    "sla_unresolved",
    "with_resolution_deadline",
    "responded",
    "response_seconds",
)


def _dimension_columns(with_ward: bool) -> list[Column]:
    cols: list[Column] = [Column("municipality_id", Uuid)]
    if with_ward:
        cols.append(Column("ward_id", Uuid))
    cols += [
        Column("category", String),
        Column("status", String),
        Column("severity", String),
        Column("assigned_team_id", Uuid),
        Column("is_sensitive", Boolean),
    ]
    return cols


def _measure_columns() -> list[Column]:
    return [Column(m, Numeric if m == "response_seconds" else BigInteger) for m in MEASURES]


MUNICIPAL = Table("ticket_tallies", _meta, *_dimension_columns(False), *_measure_columns())
STATUS = Table(
    "ticket_status_tallies",
    _meta,
    Column("municipality_id", Uuid),
    Column("status", String),
    Column("is_sensitive", Boolean),
    *_measure_columns(),
)
WARD = Table("ticket_ward_tallies", _meta, *_dimension_columns(True), *_measure_columns())
HOURS = Table(
    "ticket_hours",
    _meta,
    Column("municipality_id", Uuid),
    Column("is_sensitive", Boolean),
    Column("hour", DateTime(timezone=True)),
    Column("created", BigInteger),
    Column("resolved", BigInteger),
)
DEADLINES = Table(
    "ticket_deadlines",
    _meta,
    Column("municipality_id", Uuid),
    Column("is_sensitive", Boolean),
    Column("hour", DateTime(timezone=True)),
    Column("open_due", BigInteger),
    Column("unresolved_due", BigInteger),
    Column("unresponded_due", BigInteger),
)
_NOT_KEYS = frozenset(MEASURES) | {"created", "resolved", "hour", "open_due", "unresolved_due", "unresponded_due"}
_DIMENSIONS = {
    table: frozenset(c.name for c in table.columns) - _NOT_KEYS for table in (STATUS, MUNICIPAL, WARD, HOURS, DEADLINES)
}


def ticket_columns(conditions: Iterable[ColumnElement[bool]]) -> set[str]:
    """Names of the tickets columns the conditions read."""
    names: set[str] = set()
    for cond in conditions:
        for element in visitors.iterate(cond):
            if isinstance(element, Column) and element.table is TICKETS:
                names.add(element.name)
    return names


def answers(conditions: Sequence[ColumnElement[bool]], table: Table) -> bool:
    """Whether every column the conditions read is a key of `table`."""
    return ticket_columns(conditions) <= _DIMENSIONS.get(table, frozenset(c.name for c in table.columns))


def retarget(conditions: Sequence[ColumnElement[bool]], table: Table) -> list[ColumnElement[bool]] | None:
    """The same conditions over `table`, or None when one of them reads a column `table` lacks."""
    if not answers(conditions, table):
        return None
    adapter = ClauseAdapter(table, adapt_on_names=True)
    return [adapter.traverse(c) for c in conditions]


def tally_for(
    conditions: Sequence[ColumnElement[bool]], grouped_by: Iterable[str] = ()
) -> tuple[Table, list[ColumnElement[bool]]] | None:
    """The smallest tally that answers these conditions (and groups by those columns) exactly,
    with the conditions moved onto it."""
    for table in (STATUS, MUNICIPAL, WARD):
        if not set(grouped_by) <= _DIMENSIONS[table]:
            continue
        moved = retarget(conditions, table)
        if moved is not None:
            return table, moved
    return None
