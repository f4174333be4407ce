"""Benchmark of the ticket list, its search and the dashboard at a million tickets (bench/README.md).

Seeds a database (1,000,000 tickets, about 500,000 in TSH), starts one `serve` process
(uvicorn, one worker), signs in as manager@tsh.demo and times sequential requests through HTTP,
round-robin across the probes so that every probe sees the same conditions as GET /health.

* List probes: each shape is executed --rounds times (at least 20) on the server's one database
  connection. Its p50 is taken over the executions after the 20th, and a shape whose later
  executions take more than 3x its first five is flagged JUMP (PostgreSQL adopts a prepared
  statement's generic plan after five executions; the flag catches a plan that goes bad then).
* Search ladder: terms of the demo vocabulary matching about 0 %, 0.1 %, 1 %, 10 % and 50 % of
  TSH's visible tickets, and two common words rare together. Each term's first request is
  reported on its own (nothing warms it up for a real user), then its p50 repeated.
* Writes never wait on reads: the p95 of POST /tickets alone, then the slowest POST while
  another client searches fresh common terms in a loop (limit: 5x the quiet p95).
* Growth: the database is copied (CREATE DATABASE ... TEMPLATE), TSH's closed tickets are doubled
  in the copy (each again, one year older, through the triggers), a second server runs on the
  copy, and both servers are timed in the same rounds, back to back; each p50 may grow by at
  most 20 %.

    .venv/bin/python bench/run.py [--tickets N] [--rounds N] [--reuse] [--no-growth]

BENCH_DATABASE_URL names the database (default postgresql://postgres@127.0.0.1:5432/khanyisa_bench);
it is dropped and created again unless --reuse finds it seeded with that many tickets (the
benchmark's own reports included). Exits non-zero when a limit is exceeded.
"""

import argparse
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.core import bootstrap  # noqa: E402
from src.core.config import get_settings  # noqa: E402
from src.core.sealing import stored_master_key  # noqa: E402
from src.services.demo import seed_data  # noqa: E402
from src.services.demo.seed_service import seed_demo  # noqa: E402
from src.services.read_model.ticket_query import search_pattern  # noqa: E402

# The servers started here get DATABASE_URL, so they need the master key of sensitive text: the
# one the seed sealed the demo GBV reports with (kept under DATA_DIR unless given).
os.environ.setdefault("DATA_ENCRYPTION_KEY", stored_master_key(get_settings().data_dir))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/khanyisa_bench"
PASSWORD = "Demo-Pass-2026!"
LIST = "/api/v1/tickets"
LAST_PAGE = {"page": 199, "page_size": 50}  # rows 9,950-9,999: the deepest page a list serves
SORTS = {
    "default": {},
    "severity": {"sort_by": "severity"},
    "status": {"sort_by": "status"},
    "deadline": {"sort_by": "sla_resolution_deadline"},
    "followers": {"sort_by": "followers", "sort_order": "desc"},
}
STATUSES = ("open", "in_progress", "escalated", "resolved", "closed")
# name, path, query, allowed p50 ratio to /health
LIST_PROBES = [
    ("health", "/health", {}, None),
    *((f"list {name}", LIST, query, 3) for name, query in SORTS.items()),
    *((f"list {status}+water", LIST, {"status": status, "category": "water"}, 3) for status in STATUSES),
    ("list open+water by severity", LIST, {"status": "open", "category": "water", "sort_by": "severity"}, 3),
    *((f"list {name} rows 9950-9999", LIST, {**query, **LAST_PAGE}, 3) for name, query in SORTS.items()),
    ("dashboard metrics", "/api/v1/dashboard/metrics", {}, 3),
    ("dashboard volume", "/api/v1/dashboard/volume", {}, 3),
    ("dashboard sla", "/api/v1/dashboard/sla", {}, 3),
    ("dashboard workload", "/api/v1/dashboard/workload", {}, 3),
    ("dashboard trends 30d", "/api/v1/dashboard/trends", {}, None),
]
# The search ladder: (share of TSH's visible tickets it is chosen for, term).
LADDER = [
    ("none", "xylophone"),
    ("~0.1 %", "pothole on Park"),
    ("~1 %", "stray dogs"),
    ("~10 %", "leaking"),
    ("~50 %", "the"),
    ("phrase", "and station"),
]
SEARCH_LIMIT = 10
SEARCH_PROBES = [
    ("health", "/health", {}, None),
    *((f"search '{term}'", LIST, {"search": term}, SEARCH_LIMIT) for _, term in LADDER),
]
FRESH_WORDS = [
    "water",
    "road",
    "street",
    "near",
    "since",
    "leak",
    "the",
    "light",
    "meter",
    "drain",
    "power",
    "park",
    "pipe",
    "sewer",
    "refuse",
    "avenue",
    "drive",
    "station",
    "school",
    "clinic",
    "outage",
    "pothole",
]
JUMP = 3.0
WRITE_LIMIT = 5.0
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
                seeded = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
            if tickets <= seeded < tickets + 10_000:  # the reports the write check made are kept
                print(f"reusing {name}: {seeded:,} tickets")
                bootstrap.migrate(url)
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
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(48),
        SLA_SWEEP_SECONDS="0",
        LOG_LEVEL="warning",
        RATE_LIMITS="false",
    )  # one user's thousands of timed requests are the point here
    return serve(env, port)


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """`khanyisa serve` (one worker) with `env`, once it answers /health."""
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


def timed(client: httpx.Client, path: str, query: dict, name: str) -> float:
    started = time.perf_counter()
    r = client.get(path, params=query)
    elapsed = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
    return elapsed


def measure(clients: list[httpx.Client], probes: list, rounds: int) -> list[dict[str, list[float]]]:
    """Round-robin: every round calls each probe once on each server, the servers back to back;
    times in execution order."""
    times: list[dict[str, list[float]]] = [{name: [] for name, *_ in probes} for _ in clients]
    for _ in range(rounds):
        for name, path, query, _ in probes:
            for client, timing in zip(clients, times, strict=True):
                timing[name].append(timed(client, path, query, name))
    return times


def settled(values: list[float]) -> list[float]:
    """The executions after the 20th (all of them when there are fewer)."""
    return values[20:] or values


def report(times: dict[str, list[float]], probes: list, title: str, first: dict[str, float] | None = None) -> bool:
    """p50/p95 after the 20th execution, the ratio to /health, and the jump check; True if all pass."""
    health = statistics.median(settled(times["health"]))
    ok = True
    print(
        f"\n{title}\n{'probe':<36}{'first':>8}{'p50 ms':>9}{'p95 ms':>9}{'x health':>10}{'limit':>7}{'1-5 ms':>9}  verdict"
    )
    for name, *_, limit in probes:
        values = settled(times[name])
        p50 = statistics.median(values)
        p95 = sorted(values)[min(len(values) - 1, int(len(values) * 0.95))]
        early = statistics.median(times[name][:5])
        later = statistics.median(times[name][5:]) if len(times[name]) > 5 else early
        verdicts = []
        if limit is not None and p50 / health > limit:
            verdicts.append("OVER")
        if name != "health" and later > JUMP * early:
            verdicts.append("JUMP")
        ok = ok and not verdicts
        opening = f"{first[name]:>8.1f}" if first and name in first else f"{'':>8}"
        print(
            f"{name:<36}{opening}{p50:>9.2f}{p95:>9.2f}{p50 / health:>10.2f}{(f'{limit}x' if limit else ''):>7}"
            f"{early:>9.2f}  {' '.join(verdicts) or ('ok' if limit else '')}"
        )
    return ok


def facts(url: str) -> None:
    """The ladder's actual match counts among TSH's visible tickets (a manager's view)."""
    with psycopg.connect(dsn(url)) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT t.is_sensitive),"
            " count(*) FILTER (WHERE t.status IN ('open','in_progress','escalated')),"
            " count(*) FILTER (WHERE t.status = 'closed')"
            " FROM tickets t JOIN municipalities m ON m.id = t.municipality_id WHERE m.code = 'TSH'"
        ).fetchone()
        total = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        print(
            f"tickets: {total:,} in all; TSH {row[0]:,} ({row[1]:,} visible to its manager; open backlog {row[2]:,},"
            f" closed {row[3]:,})"
        )
        for share, term in LADDER:
            pattern = search_pattern(term)
            n = conn.execute(
                "SELECT count(*) FROM tickets t JOIN municipalities m ON m.id = t.municipality_id"
                " WHERE m.code = 'TSH' AND NOT t.is_sensitive AND (t.description ILIKE %s OR t.tracking_number ILIKE %s)",
                (pattern, pattern),
            ).fetchone()[0]
            print(f"  ladder {share:>7}: {term!r:<20} matches {n:>7,} ({n / row[1]:.2%})")


def first_then_repeated(client: httpx.Client, rounds: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Each ladder term's very first request in this server, then the ladder round-robin."""
    first = {name: timed(client, path, query, name) for name, path, query, _ in SEARCH_PROBES}
    return first, measure([client], SEARCH_PROBES, rounds)[0]


def search_loop(port: int, stop: Any, searched: Any) -> None:
    """Search terms this server has never seen, one after another, until told to stop."""
    reader = sign_in(port)
    terms = [*FRESH_WORDS, *(f"{a} {b}" for a in FRESH_WORDS for b in FRESH_WORDS if a != b)]
    for term in terms:
        if stop.is_set():
            return
        reader.get(LIST, params={"search": term}).raise_for_status()
        searched.value += 1


def demo_description(rng: random.Random) -> str:
    """A water report worded like the demo data's, so the reports this benchmark adds do not change
    how dense a search term is among the newest tickets."""
    words = {
        "street": rng.choice(seed_data.STREETS),
        "street2": rng.choice(seed_data.STREETS),
        "suburb": rng.choice(seed_data.SUBURBS["TSH"]),
        "when": rng.choice(seed_data.WHEN),
        "landmark": rng.choice(seed_data.LANDMARKS),
        "number": rng.randint(1, 300),
    }
    return rng.choice(seed_data.TEMPLATES["water"]).format(**words)


def lock_waits(url: str, stop: threading.Event, seen: list[str]) -> None:
    """Every 10 ms, any session of the database waiting for a lock (none should: reads take none
    that a write waits for)."""
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        while not stop.is_set():
            for (query,) in conn.execute(
                "SELECT left(query, 60) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            ):
                seen.append(query)
            time.sleep(0.01)


def writes_beside_searches(url: str, port: int, posts: int) -> bool:
    """POST /tickets alone, then while another client searches fresh common terms in a loop."""
    writer = sign_in(port)
    rng = random.Random(len(FRESH_WORDS))

    def post_times() -> list[float]:
        times = []
        for _ in range(posts):
            body = {"category": "water", "description": demo_description(rng), "severity": "medium"}
            started = time.perf_counter()
            writer.post(LIST, json=body).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        return times

    quiet = sorted(post_times())
    stop, searched = multiprocessing.Event(), multiprocessing.Value("i", 0)
    reader = multiprocessing.Process(target=search_loop, args=(port, stop, searched))  # its own GIL
    waits: list[str] = []
    watching = threading.Event()
    watcher = threading.Thread(target=lock_waits, args=(url, watching, waits))
    reader.start()
    watcher.start()
    try:
        time.sleep(1.0)
        loaded = sorted(post_times())
    finally:
        stop.set()
        watching.set()
        reader.join()
        watcher.join()
    p95 = quiet[min(len(quiet) - 1, int(len(quiet) * 0.95))]
    slowest = loaded[-1]
    verdict = "ok" if slowest < WRITE_LIMIT * p95 else "OVER"
    print(
        f"\nwrites beside searches: POST /tickets quiet p50 {statistics.median(quiet):.1f} ms, p95 {p95:.1f} ms;"
        f" while {searched.value} searches ran: p50 {statistics.median(loaded):.1f} ms, slowest {slowest:.1f} ms"
        f" ({slowest / p95:.2f}x the quiet p95, limit {WRITE_LIMIT:.0f}x)  {verdict}\n"
        f"  sessions seen waiting for a lock meanwhile (sampled every 10 ms): {len(waits)} {sorted(set(waits))[:3]}"
    )
    return verdict == "ok"


CLOSED_TSH = "SELECT count(*) FROM tickets t JOIN municipalities m ON m.id = t.municipality_id WHERE m.code = 'TSH' AND t.status = 'closed'"


def grown_copy(url: str) -> str:
    """The grown copy of an earlier run, when it holds twice the source's closed TSH tickets; else ""."""
    grown = make_url(url).set(database=f"{make_url(url).database}_grown").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn(url)) as source, psycopg.connect(dsn(grown)) as copy:
            closed, doubled = source.execute(CLOSED_TSH).fetchone()[0], copy.execute(CLOSED_TSH).fetchone()[0]
    except psycopg.Error:
        return ""
    if doubled != 2 * closed:
        return ""
    bootstrap.migrate(grown)
    print(f"\nreusing {make_url(grown).database}: {doubled:,} closed TSH tickets, twice the source's")
    return grown


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
        conn.execute(
            "ANALYZE ticket_status_tallies, ticket_tallies, ticket_ward_tallies, ticket_hours, ticket_deadlines"
        )
        drift = conn.execute("SELECT count(*) FROM ticket_tallies_drift()").fetchone()[0]
    print(
        f"growth: {added:,} closed TSH tickets copied one year back, through the triggers, "
        f"in {time.monotonic() - started:.1f}s (tally drift afterwards: {drift})"
    )


def compare(before: dict[str, list[float]], after: dict[str, list[float]], probes: list) -> bool:
    """Each p50 on the grown copy against the original, timed back to back in the same rounds.
    Shown also as a multiple of each server's own /health, for reading noise on a shared machine."""
    ok = True
    drift = statistics.median(settled(after["health"])) / statistics.median(settled(before["health"]))
    print(f"{'probe':<36}{'p50 before':>11}{'after':>9}{'change':>9}{'vs /health':>12}  verdict")
    for name, *_ in probes:
        b, a = statistics.median(settled(before[name])), statistics.median(settled(after[name]))
        change, relative = a / b - 1, a / b / drift - 1
        verdict = "" if name == "health" else ("ok" if change <= GROWTH_LIMIT else "OVER")
        ok = ok and verdict != "OVER"
        print(f"{name:<36}{b:>9.2f} ms{a:>7.2f} ms{change:>+9.1%}{relative:>+12.1%}  {verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=60, help="executions of each probe (at least 21)")
    parser.add_argument("--posts", type=int, default=40, help="POST /tickets timed alone and beside searches")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database when it holds --tickets tickets, and its grown copy when it is one",
    )
    parser.add_argument("--no-growth", action="store_true")
    args = parser.parse_args()
    rounds = max(args.rounds, 21)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)

    prepare(url, args.tickets, args.reuse)
    facts(url)
    urls = [url]
    if not args.no_growth:
        urls.append(grown_copy(url) if args.reuse else "")
        if not urls[1]:
            urls[1] = clone(url)
            grow(urls[1])
    ports = [free_port() for _ in urls]
    servers = [start_server(url, ports[0])]
    ok = True
    try:
        client = sign_in(ports[0])
        print(f"\nload average before timing: {os.getloadavg()[0]:.2f} (2 cores shared with other work)")
        alone = measure([client], LIST_PROBES, rounds)[0]
        ok &= report(alone, LIST_PROBES, f"list and dashboard, {rounds} executions each, p50 after the 20th")
        first, ladder = first_then_repeated(client, rounds)
        ok &= report(ladder, SEARCH_PROBES, "search ladder: first request, then p50 after the 20th", first)
        ok &= writes_beside_searches(url, ports[0], args.posts)
        if not args.no_growth:
            servers.append(start_server(urls[1], ports[1]))
            clients = [client, sign_in(ports[1])]
            probes = [*LIST_PROBES, *SEARCH_PROBES[1:]]
            before, after = measure(clients, probes, rounds)
            print(f"\ngrowth: p50 on the grown copy against the original, same rounds (limit +{GROWTH_LIMIT:.0%})")
            ok &= compare(before, after, probes)
        print(f"\nload average after timing: {os.getloadavg()[0]:.2f}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    if not ok:
        raise SystemExit("a limit was exceeded (see above)")


if __name__ == "__main__":
    main()
