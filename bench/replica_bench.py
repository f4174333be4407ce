"""What reading from a streaming replica costs a request (see docs/replica.md).

Builds a throw-away primary and a `pg_basebackup -R` replica streaming from it (the helper the
tests use), loads the demo data into the primary, and starts two `serve` processes on it: one
with `DATABASE_READ_URL` naming the replica, one without. Signed in as manager@tsh.demo on both,
it times sequential requests round-robin (so both servers see the same conditions): /health, the
default list, the dashboard metrics and a new ticket (a write, which records its WAL position when
a replica is configured). Prints p50/p95 per request and server, and how many transactions the
replica served.

It also counts, in process, what one request sends to each server: statements, transactions
(a BEGIN and a COMMIT each: two round trips) and connection checkouts (the primary's pool pings
each one: a round trip; the replica's does not).

    .venv/bin/python bench/replica_bench.py [--tickets N] [--rounds N]
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import PASSWORD, free_port, serve, sign_in  # noqa: E402

from src.core import bootstrap  # noqa: E402
from src.core.config import get_settings  # noqa: E402
from src.core.sealing import stored_master_key  # noqa: E402
from src.services.demo.seed_service import seed_demo  # noqa: E402

# The servers started here get DATABASE_URL, so they need the master key of sensitive text: the
# one the seed sealed the demo GBV reports with (kept under DATA_DIR unless given).
os.environ.setdefault("DATA_ENCRYPTION_KEY", stored_master_key(get_settings().data_dir))
from tests.replica_server import ReplicaPair, find_bindir  # noqa: E402

DATABASE = "khanyisa_replica_bench"
NEW_TICKET = {"category": "water", "description": "Meter leaking at the gate"}
REQUESTS = [
    ("health", "GET", "/health"),
    ("list default", "GET", "/api/v1/tickets"),
    ("dashboard metrics", "GET", "/api/v1/dashboard/metrics"),
    ("new ticket", "POST", "/api/v1/tickets"),
]


def start(env_extra: dict[str, str], port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_READ_URL")}
    env.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        SLA_SWEEP_SECONDS="0",
        LOG_LEVEL="warning",
        RATE_LIMITS="false",
        **env_extra,
    )
    return serve(env, port)


def timed(clients: dict[str, httpx.Client], rounds: int, warmup: int) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {server: {name: [] for name, *_ in REQUESTS} for server in clients}
    for i in range(warmup + rounds):
        for server, client in clients.items():
            for name, method, path in REQUESTS:
                started = time.perf_counter()
                r = client.request(method, path, json=NEW_TICKET if method == "POST" else None)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code >= 300:
                    raise SystemExit(f"{server} {name}: {r.status_code} {r.text[:200]}")
                if i >= warmup:
                    times[server][name].append(elapsed)
    return times


def replica_transactions(pair: ReplicaPair) -> int:
    with pair.replica.connect(DATABASE) as conn:
        return int(
            conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (DATABASE,)
            ).fetchone()[0]
        )  # type: ignore[index]


def began(conn) -> int:
    """1 when a BEGIN goes to the server: a connection in autocommit sends none."""
    return 0 if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT" else 1


async def round_trips(pair: ReplicaPair) -> None:
    """Statements, transactions and checkouts per engine for one request of each kind."""
    from sqlalchemy import event

    from src.core.database import Database, set_database
    from src.main import app

    print("\nper request (after a warm-up): statements / transactions / checkouts, and round trips in all")
    for label, read_url in (("primary only", None), ("with replica", pair.replica.url(DATABASE))):
        db = Database(pair.primary.url(DATABASE), read_url, pool_size=2)
        set_database(db)
        engines = {"primary": db.engine.sync_engine}
        if db.replica is not None:
            engines["replica"] = db.replica.engine.sync_engine
        counts = {name: [0, 0, 0] for name in engines}
        for name, engine in engines.items():
            event.listen(
                engine, "before_cursor_execute", lambda *a, _n=name, _c=counts: _c[_n].__setitem__(0, _c[_n][0] + 1)
            )
            event.listen(
                engine, "begin", lambda conn, _n=name, _c=counts: _c[_n].__setitem__(1, _c[_n][1] + began(conn))
            )
            event.listen(engine, "checkout", lambda *a, _n=name, _c=counts: _c[_n].__setitem__(2, _c[_n][2] + 1))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            token = (
                await client.post("/api/v1/auth/token", data={"username": "manager@tsh.demo", "password": PASSWORD})
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            for name, method, path in REQUESTS[1:]:
                for _ in range(3):  # warm the statement caches
                    await client.request(method, path, json=NEW_TICKET if method == "POST" else None, headers=headers)
                pair.wait_for_replay(DATABASE)
                for c in counts.values():
                    c[:] = [0, 0, 0]
                await client.request(method, path, json=NEW_TICKET if method == "POST" else None, headers=headers)
                line = "  ".join(f"{e}: {c[0]} / {c[1]} / {c[2]}" for e, c in counts.items())
                trips = sum(c[0] + 2 * c[1] for c in counts.values()) + counts["primary"][2]
                print(f"  {label:<13} {name:<18} {line}  = {trips} round trips")
        set_database(None)
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) on this machine")
    pair = ReplicaPair(bindir)
    servers: list[subprocess.Popen] = []
    try:
        pair.build()
        with pair.primary.connect() as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        url = pair.primary.url(DATABASE)
        bootstrap.migrate(url)
        seed_demo(url, 3, args.tickets, 1, PASSWORD)
        pair.wait_for_replay(DATABASE)
        print(f"primary :{pair.primary.port}, replica :{pair.replica.port}, {args.tickets:,} tickets")

        ports = {"primary only": free_port(), "with replica": free_port()}
        servers.append(start({"DATABASE_URL": url}, ports["primary only"]))
        servers.append(
            start({"DATABASE_URL": url, "DATABASE_READ_URL": pair.replica.url(DATABASE)}, ports["with replica"])
        )
        clients = {server: sign_in(port) for server, port in ports.items()}
        before = replica_transactions(pair)
        times = timed(clients, args.rounds, args.warmup)
        served = replica_transactions(pair) - before

        print(f"\n{'request':<20}" + "".join(f"{s + ' p50':>20}{'p95':>8}" for s in clients) + f"{'ratio p50':>11}")
        for name, *_ in REQUESTS:
            cells, p50s = "", []
            for server in clients:
                v = sorted(times[server][name])
                p50s.append(statistics.median(v))
                cells += f"{p50s[-1]:>20.2f}{v[int(len(v) * 0.95) - 1]:>8.2f}"
            print(f"{name:<20}{cells}{p50s[1] / p50s[0]:>11.2f}")
        reads = (args.rounds + args.warmup) * 2
        print(f"\nthe replica served {served} transactions for {reads} reads (list and metrics) of the second server")
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=30)
        servers.clear()
        asyncio.run(round_trips(pair))
    finally:
        for proc in servers:
            proc.terminate()
        pair.remove()


if __name__ == "__main__":
    main()
