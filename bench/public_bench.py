"""Benchmark of the public figures and Open311 reads at a million tickets (see bench/README.md).

Seeds its own database (`seed-demo`, 8 municipalities, 1,000,000 tickets, about half in TSH),
starts one `serve` process (one worker), and times anonymous requests through HTTP:

1. the first request of each public figure after the server starts — a cache miss, so the
   figure is computed from the database — and, for the municipality stats, one first request
   for each `months` from 1 to 24 (24 different misses);
   and the first request of each Open311 list (computed, masked and rendered);
2. round-robin rounds over every endpoint, /health included, so that each sees the same
   conditions: p50, p95 and the p50 as a ratio to /health's (answers then come from the 60 s
   cache, as most callers get them: the public figures and Open311 lists; one Open311 request
   by its tracking number is always read fresh).

    .venv/bin/python bench/public_bench.py [--tickets N] [--rounds N] [--reuse]

PUBLIC_BENCH_DATABASE_URL names the database (default: BENCH_DATABASE_URL's server, database
khanyisa_bench_public); it is dropped and created again unless --reuse finds it seeded with the
same number of tickets.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as list_bench  # noqa: E402  (the list benchmark's seeding and server helpers)

TSH = "TSH"
PUBLIC = "/api/v1/public"
OPEN311 = "/open311/v2"
LIMIT = 3


def endpoints(number: str) -> list[tuple[str, str, dict[str, str | int], int | None]]:
    j = {"jurisdiction_id": TSH}
    return [
        ("health", "/health", {}, None),
        ("public municipalities", f"{PUBLIC}/municipalities", {}, LIMIT),
        ("public summary", f"{PUBLIC}/summary", {}, LIMIT),
        ("public stats (6 months)", f"{PUBLIC}/municipalities/{TSH}/stats", {}, LIMIT),
        ("public stats (24 months)", f"{PUBLIC}/municipalities/{TSH}/stats", {"months": 24}, LIMIT),
        ("public heatmap", f"{PUBLIC}/municipalities/{TSH}/heatmap", {}, LIMIT),
        ("public wards", f"{PUBLIC}/municipalities/{TSH}/wards", {}, LIMIT),
        ("open311 requests.json", f"{OPEN311}/requests.json", j, LIMIT),
        (
            "open311 requests open water",
            f"{OPEN311}/requests.json",
            {**j, "status": "open", "service_code": "water"},
            LIMIT,
        ),
        ("open311 requests page_size 50", f"{OPEN311}/requests.json", {**j, "page_size": 50}, None),
        ("open311 request by id", f"{OPEN311}/requests/{number}.json", j, None),
        ("open311 services.json", f"{OPEN311}/services.json", j, None),
        ("open311 updates.json", f"{OPEN311}/servicerequestupdates.json", {**j, "page_size": 50}, None),
    ]


def database_url() -> str:
    explicit = os.environ.get("PUBLIC_BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("BENCH_DATABASE_URL", list_bench.DEFAULT_URL)
    return make_url(base).set(database="khanyisa_bench_public").render_as_string(hide_password=False)


def timed(client: httpx.Client, path: str, params: dict) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    r = client.get(path, params=params)
    return (time.perf_counter() - started) * 1000, r


def first_requests(client: httpx.Client, shapes: list) -> None:
    print("\nfirst request after the server started (cache miss: computed from the database)")
    for name, path, query, _ in shapes:
        if name.startswith(("public", "open311 requests", "open311 updates")):
            ms, r = timed(client, path, query)
            r.raise_for_status()
            print(f"  {name:<30}{ms:>9.1f} ms")
    misses = []
    for months in (m for m in range(1, 25) if m not in (6, 24)):  # 6 and 24 were asked for above
        ms, r = timed(client, f"{PUBLIC}/municipalities/{TSH}/stats", {"months": months})
        r.raise_for_status()
        misses.append(ms)
    print(
        f"  stats, months 1..23 but 6 ({len(misses)} misses): median {statistics.median(misses):.1f} ms, "
        f"min {min(misses):.1f} (1 month), max {max(misses):.1f} (23 months: {misses[-1]:.1f})"
    )
    ms, r = timed(client, "/public", {"municipality": "CPT"})
    print(f"  /public page, another municipality (misses)  {ms:>9.1f} ms")


def measure(client: httpx.Client, shapes: list, rounds: int, warmup: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name, *_ in shapes}
    for i in range(warmup + rounds):
        for name, path, query, _ in shapes:
            ms, r = timed(client, path, query)
            if r.status_code != 200:
                raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
            if i >= warmup:
                times[name].append(ms)
    return times


def report(times: dict[str, list[float]], shapes: list, rows: int) -> bool:
    p50 = {name: statistics.median(v) for name, v in times.items()}
    health = p50["health"]
    print(f"\n{'endpoint':<32}{'p50 ms':>9}{'p95 ms':>9}{'x health':>10}{'limit':>7}  verdict")
    ok = True
    for name, *_, limit in shapes:
        v = sorted(times[name])
        p95 = v[min(len(v) - 1, int(len(v) * 0.95))]
        ratio = p50[name] / health
        over = limit is not None and ratio > limit
        ok = ok and not over
        verdict = "" if limit is None else ("OVER" if over else "ok")
        print(f"{name:<32}{p50[name]:>9.2f}{p95:>9.2f}{ratio:>10.2f}{(f'{limit}x' if limit else ''):>7}  {verdict}")
    print(
        f"(open311 requests.json answers {rows} requests per page: the default page_size of 1000 over the last 90 days)"
    )
    return ok


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40, help="measured requests per endpoint (at least 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the database when it holds --tickets tickets")
    args = parser.parse_args()
    url = database_url()
    list_bench.prepare(url, args.tickets, args.reuse)
    with psycopg.connect(list_bench.dsn(url)) as conn:
        number = conn.execute(
            "SELECT t.tracking_number FROM tickets t JOIN municipalities m ON m.id = t.municipality_id "
            "WHERE m.code = %s AND NOT t.is_sensitive ORDER BY t.created_at DESC LIMIT 1",
            (TSH,),
        ).fetchone()[0]
    shapes = endpoints(number)
    port = list_bench.free_port()
    server = list_bench.start_server(url, port)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        print(f"machine load (1, 5, 15 min) before: {load()}; {os.cpu_count()} CPUs")
        first_requests(client, shapes)
        rows = len(client.get(f"{OPEN311}/requests.json", params={"jurisdiction_id": TSH}).json())
        times = measure(client, shapes, max(args.rounds, 20), args.warmup)
        ok = report(times, shapes, rows)
        print(f"machine load (1, 5, 15 min) after: {load()}")
        if not ok:
            sys.exit(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
