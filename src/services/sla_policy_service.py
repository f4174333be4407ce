"""The SLA policy set of the caller's municipality, read as a list and replaced as a whole."""

from sqlalchemy import case, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import TicketCategory, TicketSeverity
from src.models.sla_policy import SlaPolicy
from src.schemas.sla_policy import SlaPolicySet
from src.services.principal import Principal

# "Any" (null) first, then the vocabulary's own order rather than the alphabet.
_CATEGORY_ORDER = case({c.value: i for i, c in enumerate(TicketCategory)}, value=SlaPolicy.category, else_=-1)
_SEVERITY_ORDER = case({s.value: i for i, s in enumerate(TicketSeverity)}, value=SlaPolicy.severity, else_=-1)


async def list_policies(session: AsyncSession, p: Principal) -> list[SlaPolicy]:
    rows = await session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.municipality_id == p.municipality_id)
        .order_by(_CATEGORY_ORDER, _SEVERITY_ORDER)
    )
    return list(rows)


async def replace_policies(session: AsyncSession, p: Principal, body: SlaPolicySet) -> list[SlaPolicy]:
    """Delete and insert in the request's one transaction, so readers see the old set or the new.

    A transaction-scoped advisory lock per municipality serialises concurrent replacements;
    without it two could interleave their deletes and inserts and one would fail on the
    unique scope constraint instead of simply winning last.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"sla_policies:{p.municipality_id}"}
    )
    await session.execute(delete(SlaPolicy).where(SlaPolicy.municipality_id == p.municipality_id))
    if body.root:
        await session.execute(
            insert(SlaPolicy),
            [
                {
                    "municipality_id": p.municipality_id,
                    "category": item.category.value if item.category else None,
                    "severity": item.severity.value if item.severity else None,
                    "response_hours": item.response_hours,
                    "resolution_hours": item.resolution_hours,
                    "clock": item.effective_clock,
                }
                for item in body.root
            ],
        )
    return await list_policies(session, p)
