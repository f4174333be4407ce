"""Statements built once per shape of their conditions, then run again with each request's values.

The list and the dashboard assemble fairly large statements (sums, filters, sub-counts) around
the conditions the access policy returns. Building and compiling them costs more than running
them once the tallies answer in a fraction of a millisecond, so they are built once per *shape*:
the structure of the conditions (which columns, which operators) plus a tag naming the rest of
the statement. The values (municipality, ward, dates, search pattern) travel as parameters.

A statement builder receives the conditions with their values replaced by named parameters;
anything else that varies between requests must be a `bindparam` whose value the caller passes.
A parameter marked `literal_execute` keeps that mark: its value is written into the SQL text at
execution (the compiled statement is still built once). The list uses it for values from tiny
known sets (statuses, categories, severities) and for OFFSET, so that a prepared statement's
generic plan, which PostgreSQL adopts after five executions, is made knowing them: a generic
plan for an unknown status was measured 65 times slower than the custom one.
"""

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, CursorResult, Executable, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import visitors

MAX_SHAPES = 1024
_built: dict[Hashable, Any] = {}


def statement(
    tag: Hashable,
    conditions: Sequence[ColumnElement[bool]],
    build: Callable[[list[ColumnElement[bool]]], Executable],
    written: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """The statement for `tag` over `conditions`, and the parameters that carry their values.

    The values of the first `written` conditions are written into the SQL text at execution, like
    the `literal_execute` ones: pass there the access policy's conditions, whose values (the
    caller's municipality, ward, team or id) come from the server's session record and are typed
    UUIDs, never a caller's text. A statement left with no parameter at all is planned once per
    text and its plan reused, where one with parameters is planned again at every execution
    whenever PostgreSQL judges its generic plan dearer (it did for the largest municipality's
    first page: 0.8 ms of planning for 0.2 ms of execution).
    """
    keys = [c._generate_cache_key() for c in conditions]
    if any(k is None for k in keys):  # a construct SQLAlchemy cannot cache: build it every time
        return build(list(conditions)), {}
    bound = [bp for k in keys for bp in k.bindparams]  # type: ignore[union-attr]
    params = {f"shape_{i}": bp.effective_value for i, bp in enumerate(bound)}
    shape = (tag, written, tuple(k.key for k in keys))  # type: ignore[union-attr]
    stmt = _built.get(shape)
    if stmt is None:
        names = {id(bp): f"shape_{i}" for i, bp in enumerate(bound)}
        fixed = {id(bp) for k in keys[:written] for bp in k.bindparams}  # type: ignore[union-attr]

        def named(element: Any, **kw: Any) -> Any:
            if isinstance(element, BindParameter) and id(element) in names:
                return bindparam(
                    names[id(element)],
                    type_=element.type,
                    expanding=element.expanding,
                    literal_execute=element.literal_execute or id(element) in fixed,
                )
            return None

        stmt = build([visitors.replacement_traverse(c, {}, named) for c in conditions])
        if len(_built) < MAX_SHAPES:
            _built[shape] = stmt
    return stmt, params


async def execute(session: AsyncSession, stmt: Any, params: dict[str, Any]) -> CursorResult[*tuple[Any, ...]]:
    """Run a Core statement on the session's connection (same transaction), skipping the ORM's
    result machinery: these statements return plain rows, never entities."""
    connection = await session.connection()
    return await connection.execute(stmt, params)
