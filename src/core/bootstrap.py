"""Choosing the database for an operator command, and what a local `make run` prepares before serving.

With `DATABASE_URL` set, that database is used as it is: nothing is created, nothing is seeded, and
serving needs a `SECRET_KEY` of at least 32 bytes from the environment. Without it, the commands
work on the embedded PostgreSQL under `DATA_DIR` (database `khanyisa`), kept at the latest
migration, with a secret key generated once and stored beside it.
"""

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from src.core.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_DATABASE = "khanyisa"
MIN_SECRET_BYTES = 32

DEMO_MUNICIPALITIES = 3
DEMO_TICKETS = 20_000
DEMO_SEED = 1
DEMO_PASSWORD = "Demo-Pass-2026!"


class SetupError(Exception):
    """A problem the operator must fix (configuration, input); its message is shown as it is."""


@dataclass(frozen=True)
class Target:
    url: str
    embedded: bool


def libpq_dsn(url: str) -> str:
    """The URL without a SQLAlchemy driver suffix, as psycopg.connect wants it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def check_secret_key(key: str | None) -> None:
    if not key or len(key.encode()) < MIN_SECRET_BYTES:
        raise SetupError(
            f"SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes when DATABASE_URL is set "
            '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )


def resolve_target(*, serving: bool) -> Target:
    """The database named by DATABASE_URL, or the embedded one (started, created and migrated).

    When serving on the embedded database, SECRET_KEY comes from the environment if given there,
    otherwise from `DATA_DIR/secret_key`. DATABASE_URL and SECRET_KEY are exported to this process
    so the application (and any worker process) reads the same configuration.
    """
    settings = get_settings()
    if settings.database_url:
        if serving:
            check_secret_key(settings.secret_key)
            ensure_data_encryption_key(Target(settings.database_url, embedded=False))
        return Target(settings.database_url, embedded=False)

    data = Path(settings.data_dir)
    url = embedded_database_url(data)
    migrate(url)
    os.environ["DATABASE_URL"] = url
    # The embedded database serves plain http on localhost: no Secure cookies unless asked for.
    if settings.cookie_secure is None:
        os.environ["COOKIE_SECURE"] = "false"
    if serving:
        if settings.secret_key:
            check_secret_key(settings.secret_key)
        else:
            os.environ["SECRET_KEY"] = stored_secret_key(data)
    ensure_data_encryption_key(Target(url, embedded=True))
    get_settings.cache_clear()
    return Target(url, embedded=True)


def ensure_data_encryption_key(target: Target) -> None:
    """The master key of sensitive text: DATA_ENCRYPTION_KEY, required with DATABASE_URL; for the
    embedded database, generated once as `DATA_DIR/data_encryption_key` and exported."""
    from src.core.sealing import KeyError_, parse_master_key, stored_master_key

    settings = get_settings()
    if not settings.data_encryption_key and not target.embedded:
        raise SetupError(
            "DATA_ENCRYPTION_KEY must be set when DATABASE_URL is set: 32 bytes in base64url (generate one with: "
            'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())").'
        )
    key = settings.data_encryption_key or stored_master_key(settings.data_dir)
    try:
        parse_master_key(key)
    except KeyError_ as e:
        raise SetupError(str(e)) from None
    os.environ["DATA_ENCRYPTION_KEY"] = key


def embedded_database_url(data: Path) -> str:
    """Start the embedded server under `data/pg` and create the `khanyisa` database when missing."""
    from src.core.embedded import embedded_server_url

    server = embedded_server_url(str(data / "pg"))
    with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone()
        if not found:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another command created it a moment ago
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE)))
    # Not through make_url: it would percent-encode the socket path, valid but unreadable when printed.
    return server.replace("/postgres?", f"/{EMBEDDED_DATABASE}?", 1)


def stored_secret_key(data: Path) -> str:
    """The key kept in `data/secret_key` (mode 0600), generated on first use so sessions survive restarts."""
    path = data / "secret_key"
    data.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        key = path.read_text().strip()
        check_secret_key(key)
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def migrate(url: str) -> None:
    """`alembic upgrade head` on `url`; a database already at head is left untouched."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")


def has_municipality(url: str) -> bool:
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM municipalities)").fetchone()
        return row is not None and bool(row[0])


def demo_logins(url: str) -> list[str]:
    """The demo accounts present (`<role>@<code>.demo`), municipality by municipality, role by role."""
    from src.models.user import UserRole

    roles = [r.value for r in UserRole]
    with psycopg.connect(libpq_dsn(url)) as conn:
        rows = conn.execute(
            "SELECT u.email FROM users u JOIN municipalities m ON m.id = u.municipality_id "
            "WHERE u.email = u.role || '@' || lower(m.code) || '.demo' "
            "ORDER BY m.created_at, m.code, array_position(%s::text[], u.role::text)",
            (roles,),
        ).fetchall()
    return [r[0] for r in rows]
