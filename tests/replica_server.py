"""A throw-away primary and its streaming replica, for the tests of reads served by a replica.

Built with the machine's PostgreSQL binaries: `initdb` a small primary, `pg_basebackup -R` it into
a replica, start both with `pg_ctl` on free ports (as the `postgres` system user when the suite
runs as root, since PostgreSQL refuses to run as root), and stop and remove both at the end.

A private primary rather than the server `TEST_DATABASE_URL` names: a base backup copies a whole
cluster, and the shared test server also holds the benchmarks' databases (4.3 GB and 37 s to copy
when this was written), whereas this one holds only the test database (about a second).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

SYSTEM_USER = "postgres"


def find_bindir() -> Path | None:
    """The directory of initdb, pg_ctl and pg_basebackup, or None when this machine has none."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    bindir: Path
    data: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)


class ReplicaPair:
    """A primary and a hot-standby replica streaming from it, in one temporary folder."""

    def __init__(self, bindir: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="khanyisa-replica-"))
        self.primary = Server(bindir, self.root / "primary", _free_port())
        self.replica = Server(bindir, self.root / "replica", _free_port())

    def build(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, SYSTEM_USER, SYSTEM_USER)
        self.root.chmod(0o700)
        p = self.primary
        p.run(
            "initdb",
            "-D",
            str(p.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )
        with open(p.data / "postgresql.conf", "a") as conf:  # small and quick; durability is not under test
            conf.write("\nfsync = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_wal_senders = 4\n")
        p.start()
        r = self.replica
        p.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(p.port),
            "-U",
            "postgres",
            "-D",
            str(r.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        r.start()

    def remove(self) -> None:
        for server in (self.replica, self.primary):
            if server.is_running():
                with contextlib.suppress(RuntimeError):
                    server.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_for_replay(self, database: str, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        self._wait(database, "pg_last_wal_replay_lsn()", timeout)

    def wait_for_receipt(self, database: str, timeout: float = 30.0) -> None:
        """Until the replica has received (not necessarily replayed) everything written so far."""
        self._wait(database, "pg_last_wal_receive_lsn()", timeout)

    def _wait(self, database: str, position: str, timeout: float) -> None:
        """Polls in short statements: one long statement would hold a snapshot that replay waits for."""
        with self.primary.connect(database) as conn:
            target = str(conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])  # type: ignore[index]
        deadline = time.monotonic() + timeout
        with self.replica.connect() as conn:  # the database itself may not be there yet
            while not conn.execute(f"SELECT {position} >= %s::pg_lsn", (target,)).fetchone()[0]:  # type: ignore[index]
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the replica did not reach {target} within {timeout} s")
                time.sleep(0.01)
