"""The moment a ticket is reported or reopened, read through one function so that tests can
place a report at a chosen instant (a Friday afternoon, a public holiday) and check the
business-hours deadlines computed from it."""

from datetime import UTC, datetime


def current_time() -> datetime:
    return datetime.now(UTC)
