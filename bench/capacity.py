"""Capacity under load (see bench/README.md): requests per second that one server process sustains.

Starts one `serve` process (uvicorn, one worker) on the benchmark database, signs in as
manager@tsh.demo and drives it with `wrk` (100 connections, 10 s per run) on GET /health, the
default ticket list and the dashboard metrics, in turn, so that every endpoint sees the same
conditions. Each endpoint is run --repeat times; the report gives the median throughput, the
median p99 latency, the server process's CPU time per request (from /proc: the cost that decides
throughput, and steadier than throughput on a shared machine), and the list's and the metrics'
throughput as a share of /health's (the target is at least half). The machine's load average
is printed next to every run: wrk and the server share the CPUs with whatever else runs.

    .venv/bin/python bench/capacity.py [--tickets N] [--reuse] [--connections 100] [--seconds 10]

BENCH_DATABASE_URL names the database (default postgresql://postgres@127.0.0.1:5432/khanyisa_bench);
with --reuse an existing database holding --tickets tickets is kept (as `make bench` does after
bench/run.py), otherwise it is dropped and seeded again.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DEFAULT_URL, free_port, prepare, sign_in, start_server

ENDPOINTS = [
    ("health", "/health"),
    ("list default", "/api/v1/tickets"),
    ("dashboard metrics", "/api/v1/dashboard/metrics"),
]
TARGET_SHARE = 0.5
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "wrk is not installed: on Debian or Ubuntu, `apt-get install wrk` "
            "(after `apt-get update`); elsewhere see https://github.com/wg/wrk"
        )
    return path


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (Linux /proc), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_wrk(wrk: str, url: str, token: str, threads: int, connections: int, seconds: int) -> tuple[float, float, str]:
    """One wrk run: requests per second, the p99 latency in ms and the total requests. Any
    non-2xx answer or socket error fails the run."""
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()  # type: ignore[union-attr]
    total = re.search(r"(\d+) requests in", out).group(1)  # type: ignore[union-attr]
    return rps, float(value) * _UNITS[unit], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database when it holds --tickets tickets")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (it competes with the server for CPU)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per endpoint; the median is reported")
    args = parser.parse_args()
    wrk = require_wrk()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)

    prepare(url, args.tickets, args.reuse)
    port = free_port()
    server = start_server(url, port)
    try:
        client = sign_in(port)
        token = client.headers["Authorization"].removeprefix("Bearer ")
        base = f"http://127.0.0.1:{port}"
        for _, path in ENDPOINTS:  # a short warm-up: pool connections open, statements prepared
            run_wrk(wrk, base + path, token, args.threads, args.connections, 2)
        results: dict[str, list[tuple[float, float, float | None]]] = {name: [] for name, _ in ENDPOINTS}
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s, one server process, "
            f"{args.tickets:,} tickets, as manager@tsh.demo"
        )
        for i in range(args.repeat):
            for name, path in ENDPOINTS:
                load, before = load_average(), cpu_seconds(server.pid)
                rps, p99, total = run_wrk(wrk, base + path, token, args.threads, args.connections, args.seconds)
                after = cpu_seconds(server.pid)
                cpu = (after - before) * 1000 / int(total) if before is not None and after is not None else None
                results[name].append((rps, p99, cpu))
                shown = f"{cpu:.2f} ms" if cpu is not None else "n/a"
                print(
                    f"  run {i + 1} {name:<18} {rps:>8.0f} req/s  p99 {p99:>7.1f} ms  server CPU {shown}/request"
                    f"  (load before: {load})"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)

    health = statistics.median(r for r, _, _ in results["health"])
    print(
        f"\n{'endpoint':<20}{'req/s':>9}{'p99 ms':>9}{'CPU ms':>8}{'share':>8}  verdict (medians of {args.repeat} runs)"
    )
    failed = False
    for name, _ in ENDPOINTS:
        rps = statistics.median(r for r, _, _ in results[name])
        p99 = statistics.median(p for _, p, _ in results[name])
        cpus = [c for _, _, c in results[name] if c is not None]
        cpu = f"{statistics.median(cpus):.2f}" if cpus else "n/a"
        share = rps / health
        verdict = "" if name == "health" else ("ok" if share >= TARGET_SHARE else "UNDER")
        failed |= verdict == "UNDER"
        print(f"{name:<20}{rps:>9.0f}{p99:>9.1f}{cpu:>8}{share:>8.0%}  {verdict}")
    print(f"load average at the end: {load_average()}")
    # Reported, not fatal (as bench/run.py does): `make bench` goes on to the export benchmark.
    print(f"target: list and metrics at {TARGET_SHARE:.0%} of /health's throughput: {'NOT MET' if failed else 'met'}")


if __name__ == "__main__":
    main()
