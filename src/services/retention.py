"""Retention: residents whose reports were all closed more than `RETENTION_YEARS` ago, and who have
done nothing since (no open report, none closed more recently), are anonymised by the same code
as an erasure (src/services/erasure.py). Staff accounts are never retention-erased.

Runs from `khanyisa retention` and once a day inside every server process; concurrent runs
(several processes, a cron job) coordinate through a transaction-level advisory lock: whoever
does not get it skips this run. One transaction per person, so a failure leaves those done
before it done.
"""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from src.core.config import get_settings
from src.core.database import Database
from src.core.errors import AppError
from src.services import access
from src.services.erasure import anonymise

log = logging.getLogger("khanyisa.retention")

LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('khanyisa.retention'))")
DAYS_PER_YEAR = 365.25


def cutoff(now: datetime, years: int) -> datetime:
    return now - timedelta(days=DAYS_PER_YEAR * years)


async def run_retention(db: Database, now: datetime | None = None, years: int | None = None) -> int:
    """Anonymise every resident past retention; the number anonymised (0 when another run holds the lock)."""
    now = now or datetime.now(UTC)
    years = get_settings().retention_years if years is None else years
    done = 0
    async with db.system_session() as guard:
        if not await guard.scalar(LOCK):
            log.info("retention: another run is in progress; skipped")
            return 0
        people = (await guard.execute(access.reporters_past_retention(cutoff(now, years)))).all()
        for municipality_id, user_id in people:
            try:
                async with db.system_session() as session:
                    await anonymise(session, municipality_id, user_id)
            except AppError:  # erased meanwhile by an administrator or the person: nothing left to do
                continue
            done += 1
    log.info("retention: %d people anonymised", done)
    return done
