"""The operator's command line, driven as a real subprocess against the test database.

Each command is a fresh Python process (as an operator would run it); independent failure cases
run concurrently to keep the suite quick.
"""

import asyncio
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from src.core import bootstrap
from src.core.bootstrap import SetupError
from src.models import Municipality, User, Ward

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Cli-Pass-2026!"


@dataclass
class Result:
    code: int
    out: str
    err: str


async def cli(database_url: str, *args: str, **env: str) -> Result:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "src.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return Result(proc.returncode, out.decode(), err.decode())


def municipality_args(code: str, timezone: str = "Africa/Johannesburg") -> list[str]:
    return [
        "create-municipality",
        "--code",
        code,
        "--name",
        "Kouga Local",
        "--province",
        "Eastern Cape",
        "--timezone",
        timezone,
    ]


def user_args(email: str, role: str, municipality: str = "KGA", *extra: str) -> list[str]:
    return [
        "create-user",
        "--municipality",
        municipality,
        "--email",
        email,
        "--password",
        PASSWORD,
        "--role",
        role,
        *extra,
    ]


async def test_create_municipality_validates_and_refuses_duplicates(db, database_url):
    ok = await cli(database_url, *municipality_args("KGA", "Africa/Johannesburg"))
    assert ok.code == 0, ok.err
    assert "created municipality KGA" in ok.out

    dup, lower, short, zone, blank = await asyncio.gather(
        cli(database_url, *municipality_args("KGA")),
        cli(database_url, *municipality_args("kga")),
        cli(database_url, *municipality_args("K")),
        cli(database_url, *municipality_args("KGB", "Africa/Atlantis")),
        cli(database_url, "create-municipality", "--code", "KGC", "--name", "  ", "--province", "Eastern Cape"),
    )
    assert (dup.code, dup.err.strip()) == (1, "error: municipality KGA already exists")
    assert lower.code == 1 and "must be 2-10 upper-case letters or digits" in lower.err
    assert short.code == 1 and "must be 2-10 upper-case letters or digits" in short.err
    assert zone.code == 1 and "unknown time zone 'Africa/Atlantis'" in zone.err
    assert blank.code == 1 and "--name must be 1-200 characters" in blank.err

    async with db.system_session() as s:
        rows = (
            await s.execute(
                select(
                    Municipality.code,
                    Municipality.name,
                    Municipality.province,
                    Municipality.timezone,
                    Municipality.is_active,
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [("KGA", "Kouga Local", "Eastern Cape", "Africa/Johannesburg", True)]


async def test_create_user_then_sign_in_through_the_api(db, database_url, client, factory):
    mun = await factory.municipality("KGA")
    ward = await factory.ward(mun, code="KGA-W007")
    await factory.municipality("OTH")

    made = await cli(
        database_url, *user_args("Thandi.Manager@Example.ORG", "manager", "kga", "--full-name", "Thandi M")
    )
    assert made.code == 0, made.err
    assert "created manager thandi.manager@example.org in KGA" in made.out

    no_ward, councillor, unknown_mun, unknown_ward, dup_email, bad_role, bad_email = await asyncio.gather(
        cli(database_url, *user_args("cllr@example.org", "ward_councillor")),
        cli(database_url, *user_args("cllr2@example.org", "ward_councillor", "KGA", "--ward", "KGA-W007")),
        cli(database_url, *user_args("x@example.org", "admin", "NOPE")),
        cli(database_url, *user_args("y@example.org", "ward_councillor", "OTH", "--ward", "KGA-W007")),
        cli(database_url, *user_args("THANDI.manager@example.org", "admin")),
        cli(database_url, *user_args("z@example.org", "mayor")),
        cli(database_url, *user_args("not-an-email", "admin")),
    )
    assert no_ward.code == 1 and "--ward is required for a ward_councillor" in no_ward.err
    assert councillor.code == 0, councillor.err
    assert unknown_mun.code == 1 and "no municipality with code NOPE" in unknown_mun.err
    assert unknown_ward.code == 1 and "no ward KGA-W007 in municipality OTH" in unknown_ward.err
    assert dup_email.code == 1 and "a user with email thandi.manager@example.org already exists" in dup_email.err
    assert bad_role.code == 2 and "'mayor' is not one of" in bad_role.err
    assert bad_email.code == 1 and "invalid email" in bad_email.err

    async with db.system_session() as s:
        users = {u.email: u for u in (await s.execute(select(User).where(User.municipality_id == mun.id))).scalars()}
    assert set(users) == {"thandi.manager@example.org", "cllr2@example.org"}
    manager = users["thandi.manager@example.org"]
    assert (manager.role, manager.full_name, manager.ward_id, manager.is_active) == ("manager", "Thandi M", None, True)
    assert manager.password_hash.startswith("$argon2id$")
    assert PASSWORD not in manager.password_hash
    cllr = users["cllr2@example.org"]
    assert (cllr.role, cllr.ward_id, cllr.full_name) == ("ward_councillor", ward.id, "cllr2")

    r = await client.post("/api/v1/auth/token", data={"username": "thandi.manager@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["role"], me.json()["municipality_code"]) == (
        "thandi.manager@example.org",
        "manager",
        "KGA",
    )
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "thandi.manager@example.org", "password": "x" * 12}
    )
    assert wrong.status_code == 401


async def test_migrate_is_idempotent_and_keeps_data(db, database_url, factory):
    await factory.municipality("KEEP")
    head = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()

    first = await cli(database_url, "migrate")
    second = await cli(database_url, "migrate")
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert "database is at the latest migration" in second.out

    async with db.system_session() as s:
        assert await s.scalar(text("SELECT version_num FROM alembic_version")) == head
        assert await s.scalar(select(Municipality.code)) == "KEEP"
        assert await s.scalar(select(Ward.id)) is None


async def test_serving_a_named_database_needs_a_long_secret_key(db, database_url):
    missing, short = await asyncio.gather(
        cli(database_url, "serve", "--port", "1", SECRET_KEY=""),
        cli(database_url, "run", "--port", "1", SECRET_KEY="x" * 31),
    )
    for r in (missing, short):
        assert r.code == 1
        assert "SECRET_KEY must be set to at least 32 bytes" in r.err


def test_stored_secret_key_is_generated_once_and_private(tmp_path):
    data = tmp_path / "data"
    key = bootstrap.stored_secret_key(data)
    assert len(key.encode()) >= 32
    assert bootstrap.stored_secret_key(data) == key
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600


def test_a_short_stored_secret_key_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("too-short\n")
    with pytest.raises(SetupError, match="at least 32 bytes"):
        bootstrap.stored_secret_key(tmp_path)


async def test_sla_sweep_runs_one_pass_and_reports_it(db, database_url):
    from src.services.escalation_service import SweepResult

    swept = await cli(database_url, "sla-sweep")
    assert swept.code == 0, swept.err
    assert swept.out.strip() == str(SweepResult())  # nothing overdue in an empty database
