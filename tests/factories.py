"""Builders for test data, written straight to the database as the schema owner.

Passwords are hashed once (Argon2 is slow on purpose); tokens are minted directly, while the
sign-in endpoint itself is tested through HTTP in test_auth.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select

from src.core.database import Database
from src.core.security import hash_password
from src.models import Municipality, SlaPolicy, Team, TeamWard, Ticket, User, Ward
from src.models.user import UserRole
from src.services import session_service

PASSWORD = "Test-Pass-2026!"

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.1, -25.9], [28.0, -25.9], [28.0, -26.0]]],
}


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Actor:
    user: User
    token: str

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """One municipality with a ward, a team per category (SAPS for GBV) and one user per role."""

    municipality: Municipality
    wards: list[Ward] = field(default_factory=list)
    teams: dict[str, Team] = field(default_factory=dict)
    actors: dict[UserRole, Actor] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.__dict__["actors"][UserRole(name)]
        except (KeyError, ValueError):
            raise AttributeError(name) from None

    @property
    def ward(self) -> Ward:
        return self.wards[0]


class Factory:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = 0

    def _seq(self) -> int:
        self._n += 1
        return self._n

    async def municipality(self, code: str | None = None, timezone: str = "Africa/Johannesburg") -> Municipality:
        n = self._seq()
        code = code or f"M{uuid.uuid4().hex[:5].upper()}"
        async with self.db.system_session() as s:
            m = Municipality(code=code, name=f"Municipality {n}", province="Gauteng", timezone=timezone, is_active=True)
            s.add(m)
            await s.flush()
            return m

    async def ward(self, mun: Municipality, code: str | None = None, boundary: dict | None = None) -> Ward:
        n = self._seq()
        async with self.db.system_session() as s:
            w = Ward(municipality_id=mun.id, code=code or f"{mun.code}-W{n:03d}", name=f"Ward {n}", boundary=boundary)
            s.add(w)
            await s.flush()
            return w

    async def team(
        self,
        mun: Municipality,
        category: str,
        *,
        ward_ids: list[uuid.UUID] | None = None,
        is_saps: bool = False,
        manager_id: uuid.UUID | None = None,
        is_active: bool = True,
        name: str | None = None,
    ) -> Team:
        n = self._seq()
        async with self.db.system_session() as s:
            t = Team(
                municipality_id=mun.id,
                name=name or f"{category.title()} team {n}",
                category=category,
                is_saps=is_saps,
                manager_id=manager_id,
                is_active=is_active,
            )
            s.add(t)
            await s.flush()
            for wid in ward_ids or []:
                s.add(TeamWard(municipality_id=mun.id, team_id=t.id, ward_id=wid))
            return t

    async def user(
        self,
        mun: Municipality,
        role: UserRole,
        *,
        ward_id: uuid.UUID | None = None,
        team_id: uuid.UUID | None = None,
        email: str | None = None,
        is_active: bool = True,
    ) -> Actor:
        n = self._seq()
        async with self.db.system_session() as s:
            u = User(
                municipality_id=mun.id,
                email=email or f"{role.value}{n}@{mun.code.lower()}.test",
                full_name=f"{role.value.replace('_', ' ').title()} {n}",
                role=role.value,
                ward_id=ward_id,
                team_id=team_id,
                preferred_language="en",
                is_active=is_active,
                password_hash=password_hash(),
            )
            s.add(u)
            await s.flush()
        return Actor(u, await self.session_token(u))

    async def session_token(self, user: User) -> str:
        """A fresh server-side session for `user` and the access token that names it."""
        async with self.db.system_session() as s:
            token, _ = await session_service.open_session(s, user, session_service.Client("127.0.0.1", "pytest"))
        return token

    async def sla(
        self,
        mun: Municipality,
        category: str | None,
        severity: str | None,
        response: float,
        resolution: float,
        clock: str = "24x7",
    ) -> None:
        """A policy; on the wall clock unless told, so that deadlines are plain sums of hours."""
        async with self.db.system_session() as s:
            s.add(
                SlaPolicy(
                    municipality_id=mun.id,
                    category=category,
                    severity=severity,
                    response_hours=response,
                    resolution_hours=resolution,
                    clock=clock,
                )
            )

    async def world(self, code: str | None = None) -> World:
        mun = await self.municipality(code)
        w = World(municipality=mun)
        w.wards.append(await self.ward(mun, boundary=SQUARE))
        w.wards.append(await self.ward(mun))
        for cat in ("water", "roads", "electricity", "waste", "sanitation", "other"):
            w.teams[cat] = await self.team(mun, cat)
        w.teams["gbv"] = await self.team(mun, "gbv", is_saps=True, name="SAPS GBV desk")
        for role in UserRole:
            w.actors[role] = await self.user(
                mun,
                role,
                ward_id=w.ward.id if role is UserRole.WARD_COUNCILLOR else None,
                team_id=w.teams["water"].id if role is UserRole.FIELD_WORKER else None,
            )
        async with self.db.system_session() as s:  # the manager runs every team
            for t in w.teams.values():
                t.manager_id = w.actors[UserRole.MANAGER].id
                await s.merge(t)
        return w

    async def ticket(self, mun: Municipality, **values: Any) -> Ticket:
        """A ticket row as it might be after any history, for list and dashboard tests."""
        now = datetime.now(UTC)
        category = values.pop("category", "water")
        n = self._seq()
        row = {
            "municipality_id": mun.id,
            "tracking_number": values.pop("tracking_number", f"TKT-{now:%Y%m%d}-{n:06X}"),
            "category": category,
            "description": values.pop("description", f"Problem number {n}"),
            "is_sensitive": category == "gbv",
            "created_at": values.pop("created_at", now - timedelta(minutes=n)),
            **values,
        }
        row.setdefault("updated_at", row["created_at"])
        async with self.db.system_session() as s:
            tid = await s.scalar(insert(Ticket).values(**row).returning(Ticket.id))
            return (await s.execute(select(Ticket).where(Ticket.id == tid))).scalar_one()
