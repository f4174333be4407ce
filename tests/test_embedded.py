"""The embedded PostgreSQL behind `make run`: started on demand, reachable by both drivers, stopped
by the last process that used it, and started again on the same data.

Each use runs in its own Python process, as `make run` and the commands do, so that the exit hooks
that stop the server run for real (and the test process itself never owns a server).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import asyncio, sys
from pathlib import Path
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from src.core.bootstrap import embedded_database_url, libpq_dsn
from src.core.database import async_url

url = embedded_database_url(Path(sys.argv[1]))
with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS visits (n int)")
    conn.execute("INSERT INTO visits VALUES (1)")
    visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]

async def over_asyncpg():
    engine = create_async_engine(async_url(url))
    async with engine.connect() as conn:
        db = (await conn.execute(text("SELECT current_database()"))).scalar()
    await engine.dispose()
    return db

print(url, visits, asyncio.run(over_asyncpg()))
"""


def use_server(data: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(data)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def server_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    return Path(f"/proc/{pid}").exists()


def test_embedded_server_starts_serves_both_drivers_stops_and_keeps_its_data(tmp_path):
    data = tmp_path / "data"

    url, visits, database = use_server(data)
    assert url.startswith("postgresql://postgres@/khanyisa?host=")
    assert url.endswith(str((data / "pg").resolve()))
    assert (visits, database) == ("1", "khanyisa")
    assert not server_running(data / "pg")  # the only user exited: the server stopped with it

    url2, visits2, _ = use_server(data)
    assert url2 == url
    assert visits2 == "2"  # same data directory, same database, earlier rows kept
    assert not server_running(data / "pg")
