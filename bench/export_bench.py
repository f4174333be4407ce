"""Export benchmark: rows per second and the server's memory while exporting.

    .venv/bin/python bench/export_bench.py [--rows 500000] [--server-url postgresql://...]

Builds a throw-away database (migrations applied) on the PostgreSQL server named by
--server-url, TEST_DATABASE_URL, or else the embedded one; loads --rows tickets for one
municipality; starts the service (`uvicorn src.main:app`) in its own process; downloads the CSV
and the Excel export as a manager would, sampling the server process's resident memory
throughout. Prints rows per second and the peak memory growth over the idle server, and exits
non-zero when the growth reaches the budget (100 MB). The database is dropped at the end.
"""

import argparse
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_MB = 100.0
SEED_SQL = """
INSERT INTO tickets (municipality_id, tracking_number, category, description, severity, status, is_sensitive,
                     address, latitude, longitude, ward_id, assigned_team_id, created_at, updated_at,
                     first_responded_at, resolved_at, closed_at, sla_response_deadline, sla_resolution_deadline)
SELECT %(mun)s,
       'TKT-' || to_char(now() - make_interval(mins => i), 'YYYYMMDD') || '-' || upper(lpad(to_hex(i), 6, '0')),
       (ARRAY['water','roads','electricity','waste','sanitation','other'])[1 + i %% 6],
       'Benchmark ticket ' || i || ': water leaking at the corner, residents say it has been weeks — café nearby',
       (ARRAY['low','medium','high','critical'])[1 + i %% 4],
       CASE WHEN i %% 3 = 0 THEN 'resolved' ELSE 'open' END,
       false,
       i || ' Church Street, Pretoria', -25.7 - (i %% 1000) / 10000.0, 28.2 + (i %% 997) / 10000.0,
       CASE WHEN i %% 2 = 0 THEN %(ward)s END, %(team)s,
       now() - make_interval(mins => i), now() - make_interval(mins => i),
       CASE WHEN i %% 2 = 1 THEN now() - make_interval(mins => i) + interval '3 hours' END,
       CASE WHEN i %% 3 = 0 THEN now() - make_interval(mins => i) + interval '30 hours' END,
       NULL,
       now() - make_interval(mins => i) + interval '24 hours',
       now() - make_interval(mins => i) + interval '72 hours'
FROM generate_series(1, %(rows)s) AS i
"""


def server_url(arg: str | None) -> str:
    url = arg or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    from src.core.embedded import embedded_server_url

    return embedded_server_url(str(ROOT / ".data" / "bench-pg"))


def dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)


def seed(database_dsn: str, rows: int) -> tuple[uuid.UUID, uuid.UUID, str]:
    from src.core.security import hash_password

    with psycopg.connect(database_dsn, autocommit=False) as conn:
        mun = conn.execute(
            "INSERT INTO municipalities (code, name, province) VALUES ('BEN', 'Benchmark', 'Gauteng') RETURNING id"
        ).fetchone()[0]
        ward = conn.execute(
            "INSERT INTO wards (municipality_id, code, name) VALUES (%s, 'BEN-W001', 'Ward 1') RETURNING id", (mun,)
        ).fetchone()[0]
        team = conn.execute(
            "INSERT INTO teams (municipality_id, name, category) VALUES (%s, 'Water team', 'water') RETURNING id",
            (mun,),
        ).fetchone()[0]
        manager = conn.execute(
            "INSERT INTO users (municipality_id, email, full_name, role, password_hash) "
            "VALUES (%s, 'manager@ben.bench', 'Bench Manager', 'manager', %s) RETURNING id",
            (mun, hash_password(secrets.token_urlsafe(16))),
        ).fetchone()[0]
        started = time.perf_counter()
        conn.execute(SEED_SQL, {"mun": mun, "ward": ward, "team": team, "rows": rows})
        conn.commit()
        conn.execute("ANALYZE tickets")
        print(f"loaded {rows:,} tickets in {time.perf_counter() - started:.1f} s")
    return mun, manager, "manager"


def start_server(database_url: str, secret: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "SLA_SWEEP_SECONDS": "0",
        "RATE_LIMITS": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "src.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def measure(base: str, token: str, path: str, pid: int) -> tuple[int, float, float]:
    """Download one export; (bytes, seconds, peak RSS in MB during it)."""
    sampler = MemorySampler(pid)
    sampler.start()
    size, started = 0, time.perf_counter()
    with httpx.stream("GET", base + path, headers={"Authorization": f"Bearer {token}"}, timeout=None) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            size += len(chunk)
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    return size, elapsed, sampler.peak


def main() -> int:
    from src.core.config import get_settings
    from src.core.sealing import stored_master_key

    # The server gets DATABASE_URL, so it needs the master key the seed sealed GBV reports with.
    os.environ.setdefault("DATA_ENCRYPTION_KEY", stored_master_key(get_settings().data_dir))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--server-url", default=None)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()

    secret = secrets.token_urlsafe(48)
    os.environ["SECRET_KEY"] = secret
    server = server_url(args.server_url)
    name = f"khanyisa_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = make_url(server).set(database=name).render_as_string(hide_password=False)
    proc = None
    failed = False
    try:
        from alembic import command
        from alembic.config import Config

        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.attributes["database_url"] = database_url
        command.upgrade(cfg, "head")
        mun, manager, role = seed(dsn(server, name), args.rows)

        from src.core.security import create_access_token

        with psycopg.connect(dsn(server, name), autocommit=True) as conn:  # every token names a session
            sid = conn.execute(
                "INSERT INTO sessions (municipality_id, user_id, expires_at) VALUES (%s, %s, now() + interval '1 day') RETURNING id",
                (mun, manager),
            ).fetchone()[0]
        token, _ = create_access_token(manager, mun, role, sid)
        proc, base = start_server(database_url, secret)
        measure(base, token, "/api/v1/export/tickets.csv?status=closed", proc.pid)  # warm up: imports, pools
        idle = rss_mb(proc.pid)
        print(f"server idle: {idle:.0f} MB resident")
        for fmt in args.formats.split(","):
            size, seconds, peak = measure(base, token, f"/api/v1/export/tickets.{fmt}", proc.pid)
            growth = peak - idle
            ok = growth < BUDGET_MB
            failed |= not ok
            print(
                f"{fmt:>4}: {args.rows:,} rows in {seconds:.1f} s = {args.rows / seconds:,.0f} rows/s, "
                f"{size / 1e6:.1f} MB sent, server memory +{growth:.0f} MB at peak "
                f"({'within' if ok else 'OVER'} the {BUDGET_MB:.0f} MB budget)"
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        with psycopg.connect(dsn(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
