"""Benchmark of the ticket list and the dashboard at a million tickets (see bench/README.md).

Seeds a database (1,000,000 tickets, about 500,000 in TSH), starts one `serve` process
(uvicorn, one worker), signs in as manager@tsh.demo and times sequential requests through HTTP,
round-robin across the endpoints so that every endpoint sees the same conditions as GET /health.
Prints p50/p95 per endpoint and each p50 as a ratio to /health's, and the time of the first
search for the common word (which counts its matches and has the municipality remember it).

The growth check copies that database (CREATE DATABASE ... TEMPLATE) with the common word
remembered by TSH, doubles TSH's closed tickets in the copy (each closed ticket again, one year
older, inserted through the triggers, which keep every tally and the term's counts),
starts a second server on the copy, and times both servers in the same round-robin, so that load
from anything else on the machine falls on both alike; it compares each endpoint's p50. (The
ratios to /health are those of the first server measured alone.)

    .venv/bin/python bench/run.py [--tickets N] [--rounds N] [--reuse] [--no-growth]

BENCH_DATABASE_URL names the database (default postgresql://postgres@127.0.0.1:5432/khanyisa_bench);
it is dropped and created again unless --reuse finds it seeded with the same number of tickets.
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.core import bootstrap  # noqa: E402
from src.services.seed_service import seed_demo  # noqa: E402
from src.services.ticket_query import REMEMBERED_PER_MUNICIPALITY  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/khanyisa_bench"
PASSWORD = "Demo-Pass-2026!"
COMMON_WORD = "leak"
MISSING_WORD = "xylophone"
LIST = "/api/v1/tickets"
# name, path, query, allowed p50 ratio to /health
ENDPOINTS = [
    ("health", "/health", {}, None),
    ("list default", LIST, {}, 3),
    ("list status+category", LIST, {"status": "open", "category": "water"}, 3),
    ("list sort severity", LIST, {"sort_by": "severity"}, 3),
    ("list page 1000", LIST, {"page": 1000}, 3),
    (f"list search '{COMMON_WORD}'", LIST, {"search": COMMON_WORD}, 10),
    (f"list search '{MISSING_WORD}'", LIST, {"search": MISSING_WORD}, 10),
    ("dashboard metrics", "/api/v1/dashboard/metrics", {}, 3),
    ("dashboard volume", "/api/v1/dashboard/volume", {}, 3),
    ("dashboard sla", "/api/v1/dashboard/sla", {}, 3),
    ("dashboard workload", "/api/v1/dashboard/workload", {}, 3),
    ("dashboard trends 30d", "/api/v1/dashboard/trends", {}, None),
]
GROWTH_LIMIT = 0.20

GROW_SQL = """
INSERT INTO tickets (id, municipality_id, tracking_number, category, description, severity, status, is_sensitive,
  address, latitude, longitude, ward_id, reporter_id, assigned_team_id, assigned_to, language, created_at, updated_at,
  first_responded_at, resolved_at, closed_at, escalated_at, escalation_reason, sla_response_deadline,
  sla_resolution_deadline, response_breach_logged_at, resolution_breach_logged_at)
SELECT gen_random_uuid(), t.municipality_id,
  'TKT-' || to_char((t.created_at - interval '366 days') AT TIME ZONE m.timezone, 'YYYYMMDD') || right(t.tracking_number, 7),
  t.category, t.description, t.severity, t.status, t.is_sensitive, t.address, t.latitude, t.longitude, t.ward_id,
  t.reporter_id, t.assigned_team_id, t.assigned_to, t.language, t.created_at - interval '366 days',
  t.updated_at - interval '366 days', t.first_responded_at - interval '366 days', t.resolved_at - interval '366 days',
  t.closed_at - interval '366 days', t.escalated_at - interval '366 days', t.escalation_reason,
  t.sla_response_deadline - interval '366 days', t.sla_resolution_deadline - interval '366 days',
  t.response_breach_logged_at - interval '366 days', t.resolution_breach_logged_at - interval '366 days'
FROM tickets t JOIN municipalities m ON m.id = t.municipality_id
WHERE m.code = 'TSH' AND t.status = 'closed'
"""


def dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def prepare(url: str, tickets: int, reuse: bool) -> None:
    name = make_url(url).database
    if reuse:
        try:
            with psycopg.connect(dsn(url)) as conn:
                if conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == tickets:
                    print(f"reusing {name}: {tickets:,} tickets")
                    return
        except psycopg.Error:
            pass
    with psycopg.connect(dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    bootstrap.migrate(url)
    started = time.monotonic()
    seed_demo(url, 8, tickets, 1, PASSWORD)
    print(f"seed-demo: {tickets:,} tickets in 8 municipalities loaded in {time.monotonic() - started:.1f}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(48), SLA_SWEEP_SECONDS="0", LOG_LEVEL="warning",
               RATE_LIMITS="false")  # one user's thousands of timed requests are the point here
    proc = subprocess.Popen(
        [sys.executable, "-m", "src.cli", "serve", "--port", str(port), "--workers", "1"], cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def sign_in(port: int) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    r = client.post("/api/v1/auth/token", data={"username": "manager@tsh.demo", "password": PASSWORD})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def measure(clients: list[httpx.Client], rounds: int, warmup: int) -> list[dict[str, list[float]]]:
    """Round-robin: every round calls each endpoint of each server once, so all see the same conditions."""
    times: list[dict[str, list[float]]] = [{name: [] for name, *_ in ENDPOINTS} for _ in clients]
    for i in range(warmup + rounds):
        for client, timing in zip(clients, times, strict=True):
            for name, path, query, _ in ENDPOINTS:
                started = time.perf_counter()
                r = client.get(path, params=query)
                elapsed = time.perf_counter() - started
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
                if i >= warmup:
                    timing[name].append(elapsed * 1000)
    return times


def report(times: dict[str, list[float]], title: str) -> dict[str, float]:
    p50 = {name: statistics.median(v) for name, v in times.items()}
    health = p50["health"]
    print(f"\n{title}\n{'endpoint':<28}{'p50 ms':>9}{'p95 ms':>9}{'x health':>10}{'limit':>7}  verdict")
    for name, *_, limit in ENDPOINTS:
        v = sorted(times[name])
        p95 = v[min(len(v) - 1, int(len(v) * 0.95))]
        ratio = p50[name] / health
        verdict = "" if limit is None else ("ok" if ratio <= limit else "OVER")
        print(f"{name:<28}{p50[name]:>9.2f}{p95:>9.2f}{ratio:>10.2f}{(f'{limit}x' if limit else ''):>7}  {verdict}")
    return p50


def facts(url: str) -> None:
    with psycopg.connect(dsn(url)) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE t.status IN ('open','in_progress','escalated')),"
            " count(*) FILTER (WHERE t.status = 'closed'),"
            " count(*) FILTER (WHERE t.description ILIKE %s OR t.tracking_number ILIKE %s)"
            " FROM tickets t JOIN municipalities m ON m.id = t.municipality_id WHERE m.code = 'TSH'",
            (f"%{COMMON_WORD}%", f"%{COMMON_WORD}%"),
        ).fetchone()
        total = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    print(f"tickets: {total:,} in all; TSH {row[0]:,} (open backlog {row[1]:,}, closed {row[2]:,}); "
          f"'{COMMON_WORD}' matches {row[3]:,} TSH tickets")


def remember(url: str, term: str) -> None:
    """TSH remembers `term` (as the first common search would make it), so the growth goes through its triggers."""
    with psycopg.connect(dsn(url)) as conn:
        conn.execute("SELECT set_config('app.municipality_id', id::text, true), search_term_remember(%s, %s)"
                     " FROM municipalities WHERE code = 'TSH'", (term, REMEMBERED_PER_MUNICIPALITY))


def forget(url: str) -> None:
    with psycopg.connect(dsn(url)) as conn:
        conn.execute("DELETE FROM search_terms")


def first_search(client: httpx.Client) -> None:
    """The first search for the common word counts its matches the slow way and remembers the term."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        client.get(LIST, params={"search": COMMON_WORD}).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    print(f"\nfirst search for '{COMMON_WORD}' (counted, then remembered): {times[0]:.0f} ms; the next: {times[1]:.2f} ms")


def clone(url: str) -> str:
    """A copy of the benchmark database, to grow (the source must have no connections)."""
    source = make_url(url).database
    target = f"{source}_grown"
    started = time.monotonic()
    with psycopg.connect(dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    print(f"\ncopied {source} to {target} in {time.monotonic() - started:.1f}s")
    return make_url(url).set(database=target).render_as_string(hide_password=False)


def grow(url: str) -> None:
    started = time.monotonic()
    with psycopg.connect(dsn(url)) as conn:
        added = conn.execute(GROW_SQL).rowcount
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) tickets")
        conn.execute("ANALYZE ticket_status_tallies, ticket_tallies, ticket_ward_tallies, ticket_hours, ticket_deadlines")
        conn.execute("ANALYZE search_terms, search_term_tallies, search_term_status_tallies")
        drift = conn.execute(
            "SELECT (SELECT count(*) FROM ticket_tallies_drift()) + (SELECT count(*) FROM search_term_tallies_drift())"
        ).fetchone()[0]
    print(f"growth: {added:,} closed TSH tickets copied one year back, through the triggers, "
          f"in {time.monotonic() - started:.1f}s (tally drift afterwards: {drift})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the database when it holds --tickets tickets")
    parser.add_argument("--no-growth", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)

    prepare(url, args.tickets, args.reuse)
    facts(url)
    urls = [url]
    if not args.no_growth:
        remember(url, COMMON_WORD)
        grown = clone(url)
        grow(grown)
        facts(grown)
        urls.append(grown)
    forget(url)
    ports = [free_port() for _ in urls]
    servers = [start_server(url, ports[0])]
    try:
        clients = [sign_in(ports[0])]
        first_search(clients[0])
        alone = measure(clients, args.rounds, args.warmup)[0]
        report(alone, f"{args.tickets:,} tickets, as manager@tsh.demo, one server, sequential requests")
        if args.no_growth:
            return
        servers.append(start_server(urls[1], ports[1]))
        clients.append(sign_in(ports[1]))
        before, after = measure(clients, args.rounds, args.warmup)
        p50_before = {name: statistics.median(v) for name, v in before.items()}
        report(after, "after doubling TSH's closed tickets (second server, timed in the same rounds as the first)")
        p50_after = {name: statistics.median(v) for name, v in after.items()}
        print(f"\ngrowth check: p50 on the grown copy against the original, same rounds (limit {GROWTH_LIMIT:.0%})")
        for name, *_ in ENDPOINTS:
            change = p50_after[name] / p50_before[name] - 1
            verdict = "" if name == "health" else ("ok" if abs(change) <= GROWTH_LIMIT else "OVER")
            print(f"{name:<28}{p50_before[name]:>9.2f} -> {p50_after[name]:>7.2f} ms {change:>+8.1%}  {verdict}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
