"""Benchmark: a password-guessing flood against sign-in, compared with an equal flood of /health.

One `serve` process (uvicorn, one worker) with TRUSTED_PROXIES=127.0.0.1, so X-Forwarded-For on
loopback stands for three client addresses: the attacker (10.66.0.1), the legitimate users
(10.20.0.2) and the monitor timing /health (10.30.0.3). Three phases of the same run:

1. idle: legitimate sign-ins (one every 0.5 s, round-robin over six real accounts) and /health
   timed back to back, nothing else;
2. health flood: the same, while 200 concurrent clients (a separate process, keep-alive
   connections over plain asyncio streams, requests back to back) get /health from the
   attacker's address for 15 s;
3. guessing: the same, while 200 such clients post wrong passwords from the attacker's address,
   spraying random accounts (so the per-address limit, not the per-account one, is what stops
   them). The guesses admitted before the limit may still be hashing when it ends (at most
   20 wait per address): the pause after it lets them finish.

The three phases alternate --rounds times (default 3; 15 s pauses after each flood), and each
phase's samples are pooled, so load from elsewhere on the machine falls on all of them alike.

Targets: every legitimate sign-in succeeds, with a p50 within 3x its idle p50; /health's p50
under guessing within 2x its p50 under the /health flood; the server's peak resident memory
(VmHWM) under 500 MB.

    .venv/bin/python bench/signin_flood.py [--seconds 15] [--clients 200] [--redis]

BENCH_SIGNIN_DATABASE_URL names the database (default
postgresql://postgres@127.0.0.1:5432/khanyisa_bench_signin); it is dropped and created again.
--redis keeps the rate-limit counters in Redis (REDIS_URL, default redis://127.0.0.1:6379/0).
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import serve  # noqa: E402  (the list benchmark's server start)

from src.core import bootstrap  # noqa: E402
from src.core.config import get_settings  # noqa: E402
from src.core.sealing import stored_master_key  # noqa: E402
from src.services.demo.seed_service import seed_demo  # noqa: E402

# The servers started here get DATABASE_URL, so they need the master key of sensitive text: the
# one the seed sealed the demo GBV reports with (kept under DATA_DIR unless given).
os.environ.setdefault("DATA_ENCRYPTION_KEY", stored_master_key(get_settings().data_dir))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/khanyisa_bench_signin"
PASSWORD = "Demo-Pass-2026!"
ACCOUNTS = [
    f"{role}@tsh.demo" for role in ("manager", "admin", "ward_councillor", "field_worker", "saps_liaison", "citizen")
]
ATTACKER, USERS, MONITOR = "10.66.0.1", "10.20.0.2", "10.30.0.3"
SIGN_IN_EVERY = 0.5


def dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def prepare(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    bootstrap.migrate(url)
    seed_demo(url, 1, 500, 1, PASSWORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, redis_url: str | None) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(48),
        SLA_SWEEP_SECONDS="0",
        LOG_LEVEL="warning",
        TRUSTED_PROXIES="127.0.0.1",
        RATE_LIMITS="true",
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return serve(env, port)


def memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the flood, in its own process so its work does not slow the timing loop --------------------


async def _flood(base: str, kind: str, clients: int, seconds: float, counts: dict[str, int]) -> None:
    """`clients` keep-alive connections sending requests back to back, over plain asyncio streams:
    a client far cheaper than the server's work, so the flood is limited by the server."""
    host, port = base.removeprefix("http://").split(":")
    stop = time.monotonic() + seconds

    def request() -> bytes:
        if kind == "guess":
            body = f"username=user{random.randrange(10**6)}%40tsh.demo&password={secrets.token_hex(8)}".encode()
            head = (
                f"POST /api/v1/auth/token HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {ATTACKER}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            return head.encode() + body
        return f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {ATTACKER}\r\n\r\n".encode()

    async def one() -> None:
        reader = writer = None
        while time.monotonic() < stop:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(request())
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=max(0.1, stop - time.monotonic()))
                status = head.split(b" ", 2)[1].decode()
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                counts[status] = counts.get(status, 0) + 1
                if b"connection: close" in head.lower():
                    writer.close()
                    reader = writer = None
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                if time.monotonic() < stop:
                    counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(one() for _ in range(clients)))


def flood_process(
    base: str, kind: str, clients: int, seconds: float, out: "multiprocessing.Queue[dict[str, int]]"
) -> None:
    counts: dict[str, int] = {}
    asyncio.run(_flood(base, kind, clients, seconds, counts))
    out.put(counts)


# -- what the legitimate users and the monitor see ---------------------------------------------


async def observe(base: str, seconds: float) -> tuple[list[float], list[float], int]:
    """Sign-ins (ms) and /health times (ms) over `seconds`, and how many sign-ins failed."""
    sign_ins: list[float] = []
    health: list[float] = []
    failures = 0
    unhealthy: dict[int, int] = {}
    stop = time.monotonic() + seconds
    async with (
        httpx.AsyncClient(base_url=base, headers={"X-Forwarded-For": USERS}, timeout=60) as users,
        httpx.AsyncClient(base_url=base, headers={"X-Forwarded-For": MONITOR}, timeout=60) as monitor,
    ):

        async def sign_in_loop() -> None:
            nonlocal failures
            i = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                r = await users.post(
                    "/api/v1/auth/token", data={"username": ACCOUNTS[i % len(ACCOUNTS)], "password": PASSWORD}
                )
                sign_ins.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    failures += 1
                    print(f"  a legitimate sign-in answered {r.status_code}: {r.text[:120]}", flush=True)
                i += 1
                await asyncio.sleep(max(0.0, SIGN_IN_EVERY - (time.perf_counter() - started)))

        async def health_loop() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                r = await monitor.get("/health")
                health.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:  # 503: the database did not answer (e.g. out of connections)
                    unhealthy[r.status_code] = unhealthy.get(r.status_code, 0) + 1
                await asyncio.sleep(0.01)

        await asyncio.gather(sign_in_loop(), health_loop())
    if unhealthy:
        print(f"  /health of the monitor answered {unhealthy}", flush=True)
    return sign_ins, health, failures


def phase(
    base: str, kind: str | None, clients: int, seconds: float
) -> tuple[list[float], list[float], int, dict[str, int]]:
    """One phase: the flood of `kind` (none when idle) while legitimate users and the monitor are timed."""
    counts: dict[str, int] = {}
    proc = None
    if kind:
        queue: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        proc = multiprocessing.Process(target=flood_process, args=(base, kind, clients, seconds, queue))
        proc.start()
        time.sleep(1.0)  # let the flood reach full strength before timing
    sign_ins, health, failures = asyncio.run(observe(base, seconds - (1.0 if kind else 0.0)))
    if proc is not None:
        counts = queue.get(timeout=120)
        proc.join()
    return sign_ins, health, failures, counts


@dataclass
class Phase:
    sign_ins: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    failures: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(
        self, sign_ins: list[float], health: list[float], failures: int, answers: dict[str, int], seconds: float
    ) -> None:
        self.sign_ins += sign_ins
        self.health += health
        self.failures += failures
        self.seconds += seconds
        for key, n in answers.items():
            self.answers[key] = self.answers.get(key, 0) + n


PAUSE_SECONDS = 15


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.95))] if v else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the three phases")
    parser.add_argument("--redis", action="store_true", help="keep the rate-limit counters in Redis")
    args = parser.parse_args()
    url = os.environ.get("BENCH_SIGNIN_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0") if args.redis else None
    prepare(url)
    port = free_port()
    server = start_server(url, port, redis_url)
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        idle, flood, guessing = Phase(), Phase(), Phase()
        for _ in range(args.rounds):  # alternated, so load from elsewhere falls on all three alike
            idle.add(*phase(base, None, 0, args.seconds), args.seconds)
            flood.add(*phase(base, "health", args.clients, args.seconds), args.seconds)
            time.sleep(PAUSE_SECONDS)
            guessing.add(*phase(base, "guess", args.clients, args.seconds), args.seconds)
            time.sleep(PAUSE_SECONDS)  # guesses admitted before the limit may still be hashing
        peak = memory_mb(server.pid, "VmHWM")
        print(
            f"\ncounters: {'Redis' if redis_url else 'in-process'}; {args.clients} flood clients, "
            f"{args.rounds} x {args.seconds:.0f} s of each phase\n"
        )
        print(
            f"{'phase':<14}{'sign-in p50':>12}{'p95':>9}{'n':>4}{'fail':>5}{'/health p50':>13}{'p95':>8}{'n':>6}  flood answers"
        )
        for name, ph in (("idle", idle), ("/health flood", flood), ("guessing", guessing)):
            total = sum(ph.answers.values())
            answers = ", ".join(f"{code}: {n}" for code, n in sorted(ph.answers.items())) or "-"
            rate = f" ({total / ph.seconds:.0f}/s)" if total else ""
            print(
                f"{name:<14}{p50(ph.sign_ins):>12.1f}{p95(ph.sign_ins):>9.1f}{len(ph.sign_ins):>4}{ph.failures:>5}"
                f"{p50(ph.health):>13.2f}{p95(ph.health):>8.2f}{len(ph.health):>6}  {answers}{rate}"
            )
        sign_in_ratio = p50(guessing.sign_ins) / p50(idle.sign_ins)
        health_ratio = p50(guessing.health) / p50(flood.health)
        checks = [
            ("every legitimate sign-in succeeded", idle.failures + guessing.failures + flood.failures == 0, ""),
            ("sign-in p50 under guessing / idle", sign_in_ratio <= 3, f"{sign_in_ratio:.2f}x (target <= 3x)"),
            ("/health p50 guessing / /health flood", health_ratio <= 2, f"{health_ratio:.2f}x (target <= 2x)"),
            ("server peak memory (VmHWM)", peak < 500, f"{peak:.0f} MB (target < 500 MB)"),
        ]
        print()
        for label, ok, detail in checks:
            failed |= not ok
            print(f"{'ok  ' if ok else 'FAIL'} {label} {detail}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still hashing guesses that queued up; nothing to keep
            server.kill()
            server.wait()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
