"""`seed-demo`: a realistic, deterministic demo data set, loaded in bulk.

The first municipality is TSH with about half of the tickets. Every municipality gets wards
with polygon boundaries (a grid around its centre; some wards far busier than others), a team
per category (regional teams for water, electricity and roads, a SAPS desk for GBV), SLA
policies, residents who report, and one login per role: `<role>@<code in lower case>.demo`.
The password is hashed once (Argon2 is slow on purpose) and the hash reused.

Loading a million tickets takes well under two minutes because it is one transaction that
runs with triggers off (`session_replication_role = replica`, as the schema owner), drops the
secondary indexes of tickets and events, streams the tickets with binary COPY (FREEZE on an
empty table, so index-only scans work at once), derives the audit trail in one INSERT ... SELECT,
rebuilds the indexes, and recomputes the tallies the triggers would have kept, once.

The same seed gives the same data relative to the moment it runs (`now`, to the second).
"""

import logging
import math
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from src.core.bootstrap import SetupError
from src.core.security import hash_password
from src.models.user import UserRole
from src.services.business_clock import WorkingCalendar, WorkingIndex
from src.services.demo import seed_data as D
from src.services.demo import seed_tickets as S

log = logging.getLogger("khanyisa")

TIMEZONE = "Africa/Johannesburg"
CONSENT_PURPOSES = ("terms", "special_information")  # what registration records (consent_service.py)
CONSENT_VERSION = "2026-01"


class SeedError(SetupError):
    """The demo data cannot be loaded into this database (e.g. it is already there); the CLI shows it."""


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _shares(municipalities: int, tickets: int) -> list[int]:
    """TSH holds about half; the others share the rest, larger cities first."""
    if municipalities == 1:
        return [tickets]
    weights = (D.OTHER_SHARES + [0.04] * municipalities)[: municipalities - 1]
    total = sum(weights)
    counts = [tickets // 2] + [int(tickets / 2 * w / total) for w in weights]
    counts[0] += tickets - sum(counts)
    return counts


def _catalogue(index: int) -> tuple[str, str, str, tuple[float, float], int]:
    if index < len(D.MUNICIPALITIES):
        return D.MUNICIPALITIES[index]
    return (f"DM{index + 1:02d}", f"Demo Municipality {index + 1}", "Limpopo", (29.0 + index * 0.3, -23.9), 20)


class _Builder:
    """Inserts one municipality's people and places and describes it for the ticket generator."""

    def __init__(self, conn: psycopg.Connection, rng: random.Random, password_hash: str) -> None:
        self.conn, self.rng, self.password_hash = conn, rng, password_hash

    def _id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _name(self) -> str:
        return f"{self.rng.choice(D.FIRST_NAMES)} {self.rng.choice(D.LAST_NAMES)}"

    def _user(self, mun: uuid.UUID, email: str, role: UserRole, ward=None, team=None, name=None) -> uuid.UUID:
        uid = self._id()
        phone = f"+27 8{self.rng.randint(1, 4)} {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"
        self.conn.execute(
            "INSERT INTO users (id, municipality_id, email, full_name, phone, role, ward_id, team_id, preferred_language,"
            " is_active, password_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, true, %s)",
            (
                uid,
                mun,
                email,
                name or self._name(),
                phone,
                role.value,
                ward,
                team,
                S.LANGUAGE(self.rng),
                self.password_hash,
            ),
        )
        if role is UserRole.CITIZEN:
            for purpose in CONSENT_PURPOSES:
                self.conn.execute(
                    "INSERT INTO consents (municipality_id, user_id, purpose, version) VALUES (%s, %s, %s, %s)",
                    (mun, uid, purpose, CONSENT_VERSION),
                )
        return uid

    def municipality(self, index: int, tickets: int, now: float) -> tuple[S.Place, list[str]]:
        code, name, province, (cx, cy), ward_count = _catalogue(index)
        rng, lower = self.rng, code.lower()
        mun = self._id()
        self.conn.execute(
            "INSERT INTO municipalities (id, code, name, province, timezone, is_active, created_at)"
            " VALUES (%s, %s, %s, %s, %s, true, to_timestamp(%s))",
            (mun, code, name, province, TIMEZONE, now - 3600 + index),
        )
        cols = math.ceil(math.sqrt(ward_count * 1.3))
        rows = math.ceil(ward_count / cols)
        wards, weights, regions = [], [], []
        for i in range(ward_count):
            col, row = i % cols, i // cols
            west, south = round(cx + (col - cols / 2) * D.WARD_SIZE, 5), round(cy + (row - rows / 2) * D.WARD_SIZE, 5)
            ring = [
                [west, south],
                [west + D.WARD_SIZE, south],
                [west + D.WARD_SIZE, south + D.WARD_SIZE],
                [west, south + D.WARD_SIZE],
                [west, south],
            ]
            wid = self._id()
            self.conn.execute(
                "INSERT INTO wards (id, municipality_id, code, name, boundary) VALUES (%s, %s, %s, %s, %s)",
                (wid, mun, f"{code}-W{i + 1:03d}", f"Ward {i + 1}", Jsonb({"type": "Polygon", "coordinates": [ring]})),
            )
            centrality = 1.6 - math.hypot(col - cols / 2, row - rows / 2) / max(cols, rows)
            wards.append((wid, west, south))
            weights.append(max(0.15, centrality) * rng.lognormvariate(0, 0.6))
            regions.append(D.REGIONS[min(2, (rows - 1 - row) * 3 // rows)])
        busiest = max(range(ward_count), key=weights.__getitem__)

        manager = self._user(mun, f"manager@{lower}.demo", UserRole.MANAGER)
        self._user(mun, f"admin@{lower}.demo", UserRole.ADMIN)
        self._user(mun, f"ward_councillor@{lower}.demo", UserRole.WARD_COUNCILLOR, ward=wards[busiest][0])
        team_for: dict[tuple[str, int | None], uuid.UUID | None] = {}
        manager_of, worker_of, teams = {}, {}, []

        def team(name: str, category: str, saps: bool, served: list[int], head: uuid.UUID | None) -> uuid.UUID:
            tid = self._id()
            self.conn.execute(
                "INSERT INTO teams (id, municipality_id, name, category, is_saps, manager_id, is_active)"
                " VALUES (%s, %s, %s, %s, %s, %s, true)",
                (tid, mun, name, category, saps, head),
            )
            for w in served:
                self.conn.execute(
                    "INSERT INTO team_wards (municipality_id, team_id, ward_id) VALUES (%s, %s, %s)",
                    (mun, tid, wards[w][0]),
                )
            manager_of[tid] = head
            teams.append((tid, name, category, saps))
            return tid

        for category in D.REGIONAL:
            for region in D.REGIONS:
                served = [w for w in range(ward_count) if regions[w] == region]
                tid = team(f"{category.title()} {region}", category, False, served, manager)
                team_for.update({(category, w): tid for w in served})
        for category, title in D.MUNICIPAL_TEAMS.items():
            tid = team(title, category, False, [], manager)
            team_for.update({(category, w): tid for w in [*range(ward_count), None]})
        field_team = team_for[("water", busiest)]
        for tid, tname, _category, _saps in teams:
            if tid == field_team:
                worker_of[tid] = self._user(mun, f"field_worker@{lower}.demo", UserRole.FIELD_WORKER, team=tid)
            else:
                slug = tname.lower().replace(" ", "-")
                worker_of[tid] = self._user(mun, f"{slug}.crew@{lower}.demo", UserRole.FIELD_WORKER, team=tid)
        # The SAPS desk is run by the liaison, a member of it: escalations go to someone who may see GBV.
        saps_team = team(D.SAPS_TEAM, "gbv", True, [], None)
        liaison = self._user(mun, f"saps_liaison@{lower}.demo", UserRole.SAPS_LIAISON, team=saps_team)
        self.conn.execute("UPDATE teams SET manager_id = %s WHERE id = %s", (liaison, saps_team))
        manager_of[saps_team] = liaison
        team_for.update({("gbv", w): saps_team for w in [*range(ward_count), None]})

        residents = [self._user(mun, f"citizen@{lower}.demo", UserRole.CITIZEN)]
        for n in range(1, max(20, min(400, tickets // 1500))):
            residents.append(self._user(mun, f"resident{n:04d}@{lower}.demo", UserRole.CITIZEN))
        for policy_category, severity, response, resolution, clock in D.sla_policies_with_clocks():
            self.conn.execute(
                "INSERT INTO sla_policies (municipality_id, category, severity, response_hours, resolution_hours, clock)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (mun, policy_category, severity, response, resolution, clock),
            )
        policy = {(c, s): _policy_hours(c, s) for c in D.CATEGORY_WEIGHTS for s in D.SEVERITY_WEIGHTS}
        offset = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(TIMEZONE)).utcoffset()
        place = S.Place(
            id=mun,
            utc_offset=offset.total_seconds() if offset else 0.0,
            wards=wards,
            ward_weights=weights,
            team_for=team_for,
            manager_of=manager_of,
            worker_of=worker_of,
            residents=residents,
            policy=policy,
            streets=rng.sample(D.STREETS, 24),
            suburbs=D.SUBURBS.get(code, D.DEFAULT_SUBURBS),
            working=_working_index(now),
        )
        logins = [f"{role.value}@{lower}.demo" for role in UserRole]
        self.conn.execute("INSERT INTO seed_managers VALUES (%s, %s)", (mun, manager))
        return place, logins


def _policy_hours(category: str, severity: str) -> tuple[float, float, str]:
    """Most specific wins (category+severity, category, severity, default), as src/services/sla.py."""
    found = {(c, s): (r, h, clock) for c, s, r, h, clock in D.sla_policies_with_clocks()}
    for key in ((category, severity), (category, None), (None, severity), (None, None)):
        if key in found:
            return found[key]
    return 24.0, 168.0, "24x7"


def _working_index(now: float) -> WorkingIndex:
    """Default working hours and public holidays over the seed's year of reports and the
    longest deadline after it."""
    start = datetime.fromtimestamp(now, UTC)
    return WorkingIndex(WorkingCalendar(TIMEZONE), start - timedelta(days=370), start + timedelta(days=400))


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Indexes of tickets and events that back no constraint: dropped during the load, rebuilt after."""
    return conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid IN ('tickets'::regclass, 'ticket_events'::regclass)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY i.indexrelid"
    ).fetchall()


def _quiet_triggers(conn: psycopg.Connection) -> bool:
    """Triggers (and FK checks) off for this transaction; False when only ALTER TABLE can do it."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
        return True
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("ALTER TABLE tickets DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE ticket_events DISABLE TRIGGER USER")
        return False


def seed_demo(
    database_url: str, municipalities: int, tickets: int, seed: int, password: str, *, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Load the demo data set; return the demo logins as (email, password), municipality by municipality."""
    if municipalities < 1 or tickets < 0:
        raise SeedError("at least one municipality and a non-negative number of tickets")
    rng = random.Random(seed)
    moment = (now or datetime.now(UTC)).replace(microsecond=0).timestamp()
    password_hash = hash_password(password)
    started = time.monotonic()
    logins: list[tuple[str, str]] = []
    with psycopg.connect(_dsn(database_url)) as conn:
        codes = [_catalogue(i)[0] for i in range(municipalities)]
        taken = conn.execute("SELECT code FROM municipalities WHERE code = ANY(%s)", (codes,)).fetchall()
        if taken:
            raise SeedError(
                f"municipality {taken[0][0]} already exists: the demo data is loaded once, into an empty database"
            )
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        replica = _quiet_triggers(conn)
        [(empty,)] = conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM tickets) AND NOT EXISTS (SELECT 1 FROM ticket_events)"
            " AND NOT EXISTS (SELECT 1 FROM notifications)"
        ).fetchall()
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        if empty:
            # lets COPY FREEZE write all-visible pages; the tables referring to tickets are empty with it
            conn.execute(
                "TRUNCATE tickets, ticket_events, ticket_followers, ticket_photos, notifications, notification_attempts"
            )
        conn.execute("CREATE TEMP TABLE seed_managers (municipality_id uuid, manager_id uuid) ON COMMIT DROP")
        builder = _Builder(conn, rng, password_hash)
        places = []
        for index, count in enumerate(_shares(municipalities, tickets)):
            place, emails = builder.municipality(index, count, moment)
            places.append((place, count))
            logins += [(email, password) for email in emails]
        tracking: set[str] = set()
        with conn.cursor().copy(
            f"COPY tickets ({', '.join(S.COLUMNS)}) FROM STDIN WITH (FORMAT binary{', FREEZE' if empty else ''})"
        ) as copy:
            copy.set_types(list(S.TYPES))
            for place, count in places:
                for row in S.tickets(rng, place, count, moment, tracking):
                    copy.write_row(row)
        log.info("seed: %d tickets copied in %.1fs", tickets, time.monotonic() - started)
        conn.execute(
            S.EVENTS_SQL,
            {
                "response_reason": S.RESPONSE_REASON,
                "resolution_reason": S.RESOLUTION_REASON,
                "municipalities": [p.id for p, _ in places],
            },
        )
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT ticket_tallies_rebuild()")
        if not replica:
            conn.execute("ALTER TABLE tickets ENABLE TRIGGER USER")
            conn.execute("ALTER TABLE ticket_events ENABLE TRIGGER USER")
    with psycopg.connect(_dsn(database_url), autocommit=True) as conn:
        conn.execute("ANALYZE tickets" if empty else "VACUUM (ANALYZE) tickets")
        conn.execute("VACUUM (ANALYZE) ticket_events")
        conn.execute(
            "ANALYZE ticket_status_tallies, ticket_tallies, ticket_ward_tallies, ticket_hours, ticket_deadlines, users, teams, wards"
        )
    log.info("seed: %d municipalities, %d tickets in %.1fs", municipalities, tickets, time.monotonic() - started)
    return logins
