"""The operator's commands: `python -m src.cli COMMAND`, installed as `khanyisa`.

DATABASE_URL selects the database (`postgresql://` or `postgresql+asyncpg://`). Without it, every
command works on the embedded PostgreSQL under DATA_DIR (see src/core/bootstrap.py). Commands exit
0 on success, 1 with a one-line `error: ...` on stderr when the input or the configuration is
wrong, and 2 for a malformed command line.
"""

import asyncio
import re
import signal
import sys
import zoneinfo
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from src.core import bootstrap, passwords
from src.core.bootstrap import SetupError
from src.core.errors import AppError
from src.models.user import UserRole

app = typer.Typer(help="Khanyisa operator commands.", no_args_is_help=True, add_completion=False)

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
MIN_PASSWORD = passwords.MIN_LENGTH
MAX_PASSWORD = passwords.MAX_LENGTH


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def target(*, serving: bool = False) -> bootstrap.Target:
    try:
        return bootstrap.resolve_target(serving=serving)
    except SetupError as e:
        raise fail(str(e)) from None


@app.command()
def migrate() -> None:
    """Apply every pending migration (alembic upgrade head)."""
    t = target()
    bootstrap.migrate(t.url)
    typer.echo("database is at the latest migration")


@app.command("create-municipality")
def create_municipality(
    code: Annotated[str, typer.Option(help="Upper-case code, 2-10 letters or digits, e.g. TSH.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 'City of Tshwane'.")],
    province: Annotated[str, typer.Option(help="Province, e.g. Gauteng.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone name.")] = "Africa/Johannesburg",
) -> None:
    """Create a municipality (a tenant)."""
    from src.services import operator_service

    if not CODE_PATTERN.fullmatch(code):
        raise fail(f"municipality code {code!r} must be 2-10 upper-case letters or digits, starting with a letter")
    name, province = name.strip(), province.strip()
    if not 1 <= len(name) <= 200:
        raise fail("--name must be 1-200 characters")
    if not 1 <= len(province) <= 100:
        raise fail("--province must be 1-100 characters")
    if timezone not in zoneinfo.available_timezones():
        raise fail(f"unknown time zone {timezone!r} (use an IANA name such as Africa/Johannesburg)")
    t = target()
    try:
        mun_id = asyncio.run(operator_service.create_municipality(t.url, code, name, province, timezone))
    except AppError as e:
        raise fail(e.detail) from None
    typer.echo(f"created municipality {code} ({name}, {province}, {timezone}) id={mun_id}")


@app.command("create-user")
def create_user(
    municipality: Annotated[str, typer.Option(help="Code of the municipality the user belongs to.")],
    email: Annotated[str, typer.Option(help="Sign-in email, unique across the platform.")],
    password: Annotated[str, typer.Option(help=f"{MIN_PASSWORD}-{MAX_PASSWORD} characters.")],
    role: Annotated[UserRole, typer.Option(help="The user's role.", case_sensitive=False)],
    full_name: Annotated[str | None, typer.Option(help="Defaults to the part of the email before @.")] = None,
    ward: Annotated[str | None, typer.Option(help="Ward code (required for ward_councillor).")] = None,
) -> None:
    """Create a user in a municipality, with an Argon2id password hash."""
    from email_validator import EmailNotValidError, validate_email

    from src.services import operator_service

    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as e:
        raise fail(f"invalid email: {e}") from None
    if len(email) > 254:
        raise fail("email is longer than 254 characters")
    if problem := passwords.password_problem(password):
        raise fail(f"--password: {problem}")
    if role is UserRole.WARD_COUNCILLOR and not ward:
        raise fail("--ward is required for a ward_councillor")
    name = (full_name if full_name is not None else email.split("@", 1)[0]).strip()
    if not 1 <= len(name) <= 200:
        raise fail("--full-name must be 1-200 characters")
    t = target()
    try:
        user_id = asyncio.run(
            operator_service.create_user(t.url, municipality.strip().upper(), email, password, role, name, ward)
        )
    except AppError as e:
        raise fail(e.detail) from None
    typer.echo(f"created {role.value} {email} in {municipality.upper()} id={user_id}")


def _load_demo(url: str, municipalities: int, tickets: int, seed: int, password: str) -> list[tuple[str, str]]:
    """Call the demo loader; SetupError when it is not part of this build."""
    try:
        from src.services.demo.seed_service import seed_demo
    except ModuleNotFoundError as e:
        if e.name not in ("src.services.demo.seed_service",):
            raise
        raise SetupError("the demo data loader (src/services/demo/seed_service.py) is not available") from None
    logins = seed_demo(database_url=url, municipalities=municipalities, tickets=tickets, seed=seed, password=password)
    return list(logins)


def _print_logins(logins: list[tuple[str, str]]) -> None:
    typer.echo("Demo logins:")
    for email, password in logins:
        typer.echo(f"  {email:<32} {password}")


@app.command("require-totp")
def require_totp(
    municipality: Annotated[str, typer.Option(help="Code of the municipality.")],
    off: Annotated[bool, typer.Option("--off", help="Stop requiring it.")] = False,
) -> None:
    """Require (or, with --off, stop requiring) TOTP two-factor sign-in for the municipality's
    admins and SAPS liaisons. Lists those not enrolled yet: they cannot sign in while it is on."""
    from src.services import operator_service

    code = municipality.strip().upper()
    t = target()
    try:
        missing = asyncio.run(operator_service.require_totp(t.url, code, not off))
    except AppError as e:
        raise fail(e.detail) from None
    typer.echo(f"{code}: two-factor sign-in {'no longer required' if off else 'required'} for admins and SAPS liaisons")
    if missing and not off:
        typer.echo("not enrolled yet (cannot sign in until they enrol):")
        for email in missing:
            typer.echo(f"  {email}")


@app.command("seed-demo")
def seed_demo(
    municipalities: Annotated[
        int, typer.Option(min=1, help="How many municipalities (the first is TSH).")
    ] = bootstrap.DEMO_MUNICIPALITIES,
    tickets: Annotated[int, typer.Option(min=0, help="How many tickets in all.")] = bootstrap.DEMO_TICKETS,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = bootstrap.DEMO_SEED,
    password: Annotated[str, typer.Option(help="Password of every demo login.")] = bootstrap.DEMO_PASSWORD,
) -> None:
    """Load a realistic, deterministic demo data set and print its logins."""
    if problem := passwords.password_problem(password):
        raise fail(f"--password: {problem}")
    t = target()
    try:
        logins = _load_demo(t.url, municipalities, tickets, seed, password)
    except SetupError as e:
        raise fail(str(e)) from None
    _print_logins(logins)


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-wrap every data key of sensitive text under the current master key (DATA_ENCRYPTION_KEY).

    Set the new key as DATA_ENCRYPTION_KEY and the previous ones in DATA_ENCRYPTION_OLD_KEYS
    (comma-separated), run this, then drop the old keys. Ciphertexts stay as they are."""
    from sqlalchemy import create_engine

    from src.core import sealing
    from src.core.resealing import Mode, reseal

    t = target()
    try:
        bootstrap.ensure_data_encryption_key(t)
    except SetupError as e:
        raise fail(str(e)) from None
    sealing.reset_keys()
    engine = create_engine(make_url(bootstrap.libpq_dsn(t.url)).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            count = reseal(conn, Mode.REWRAP)
    except sealing.KeyError_ as e:
        raise fail(f"{e} Add it to DATA_ENCRYPTION_OLD_KEYS.") from None
    finally:
        engine.dispose()
    typer.echo(f"{count} sensitive tickets now under key {sealing.current_key().id}")


@app.command("sla-sweep")
def sla_sweep() -> None:
    """Run one escalation pass over the open tickets and print what it did."""
    t = target()
    typer.echo(str(asyncio.run(_sweep(t.url))))


async def _sweep(url: str) -> object:
    from src.core.database import Database, set_database
    from src.services.escalation_service import run_sweep

    db = Database(url, pool_size=2)
    set_database(db)
    try:
        return await run_sweep(db)
    finally:
        set_database(None)
        await db.dispose()


@app.command()
def retention() -> None:
    """Anonymise the residents whose reports were all closed more than RETENTION_YEARS ago."""
    t = target()
    try:
        bootstrap.ensure_data_encryption_key(t)  # a sensitive report's replaced text is sealed
    except SetupError as e:
        raise fail(str(e)) from None
    count = asyncio.run(_retention(t.url))
    typer.echo(f"{count} people anonymised")


async def _retention(url: str) -> int:
    from src.core.database import Database, set_database
    from src.services.retention import run_retention

    db = Database(url, pool_size=2)
    set_database(db)
    try:
        return await run_retention(db)
    finally:
        set_database(None)
        await db.dispose()


@app.command("notify-worker")
def notify_worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due, then exit (tests, cron).")] = False,
) -> None:
    """Send the notifications in the outbox (e-mail, SMS, or the log when neither is configured)."""
    import os
    from pathlib import Path

    from src.core.config import get_settings

    t = target()
    settings = get_settings()
    if t.embedded and not settings.secret_key:  # the key `run` uses for the embedded database
        os.environ["SECRET_KEY"] = bootstrap.stored_secret_key(Path(settings.data_dir))
        get_settings.cache_clear()
    from src.services.notifications.channels import ConfigurationError, senders_from

    try:
        bootstrap.check_secret_key(get_settings().secret_key)  # the links in messages are signed with it
        senders_from()
    except (SetupError, ConfigurationError) as e:
        raise fail(str(e)) from None
    result = asyncio.run(_notify(t.url, once))
    typer.echo(str(result))


async def _notify(url: str, once: bool) -> object:
    from src.core.config import get_settings
    from src.core.database import Database, set_database
    from src.services.notifications.channels import senders_from
    from src.services.notifications.worker import drain, run_forever

    db = Database(url, pool_size=2)
    set_database(db)
    try:
        if once:
            return await drain(db)
        await run_forever(db, get_settings().notify_worker_seconds or 10.0, senders_from())
        return None
    finally:
        set_database(None)
        await db.dispose()


def _exit_normally_on(*signals: signal.Signals) -> None:
    """Turn these signals into SystemExit so exit hooks run (they stop the embedded PostgreSQL).

    uvicorn shuts down gracefully on SIGTERM and then re-raises it; with the default handler the
    process would die at once and leave the embedded server running.
    """

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in signals:
        signal.signal(sig, handler)


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    from src.core.config import get_settings

    _exit_normally_on(signal.SIGTERM, signal.SIGHUP)

    level = get_settings().log_level.lower()
    # proxy_headers off: the client address is decided by TRUSTED_PROXIES alone (src/core/client_address.py),
    # not by uvicorn's default of believing X-Forwarded-For from 127.0.0.1.
    uvicorn.run("src.main:app", host=host, port=port, workers=workers, log_level=level, proxy_headers=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the web pages with uvicorn."""
    target(serving=True)
    _serve(host, port, workers)


def _prepare_demo(url: str) -> None:
    """Load the demo data into an empty embedded database, then show its logins.

    Only ever called for the embedded database: a database named by DATABASE_URL is never seeded.
    """
    logins: list[tuple[str, str]] = []
    if not bootstrap.has_municipality(url):
        typer.echo(
            f"Loading the demo data ({bootstrap.DEMO_MUNICIPALITIES} municipalities, "
            f"{bootstrap.DEMO_TICKETS} tickets) into the embedded database..."
        )
        try:
            logins = _load_demo(
                url, bootstrap.DEMO_MUNICIPALITIES, bootstrap.DEMO_TICKETS, bootstrap.DEMO_SEED, bootstrap.DEMO_PASSWORD
            )
        except SetupError as e:
            typer.echo(f"warning: {e}; starting with an empty database", err=True)
    if not logins:  # seeded by an earlier run: list the demo accounts that are there
        logins = [(email, bootstrap.DEMO_PASSWORD) for email in bootstrap.demo_logins(url)]
    if logins:
        _print_logins(logins)


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """What `make run` does: prepare the database (embedded unless DATABASE_URL is set) and serve."""
    t = target(serving=True)
    if not t.embedded:
        bootstrap.migrate(t.url)  # the embedded database was migrated when it was resolved
    else:
        _prepare_demo(t.url)
    where = "the embedded database" if t.embedded else "the database named by DATABASE_URL"
    typer.echo(f"Khanyisa on {where}: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    _serve(host, port, 1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
