"""Nothing personal in the logs: the access log without query strings, SQL logs without values.

Query strings carry search terms (and, for some links, one-time tokens), so the access log
records the path only; the links of e-mails (password reset, address verification, unsubscribe)
carry their token in the path, which is logged without it. SQL parameters are kept out by `hide_parameters=True` on every engine
(src/core/database.py), and the rows SQLAlchemy logs at DEBUG (e-mail addresses, descriptions,
password hashes) are dropped here, so turning SQL logging on to debug leaks nothing. The error
handlers log the kind of a failure, never the request body.
"""

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
SQL_LOGGER = "sqlalchemy.engine.Engine"


LINK_TOKEN = re.compile(r"^(/(?:password-reset|verify-email|unsubscribe)/)[^/]+")


class DropQueryStrings(logging.Filter):
    """uvicorn's access record is `(client, method, path with query, http version, status)`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = LINK_TOKEN.sub(r"\1{token}", args[2].split("?", 1)[0])
            if path != args[2]:
                record.args = (*args[:2], path, *args[3:])
        return True


class DropResultRows(logging.Filter):
    """SQLAlchemy's DEBUG level logs every fetched row as `Row %r`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def _install(logger_name: str, log_filter: logging.Filter) -> None:
    logger = logging.getLogger(logger_name)
    if not any(type(f) is type(log_filter) for f in logger.filters):
        logger.addFilter(log_filter)


def install_log_hygiene() -> None:
    _install(ACCESS_LOGGER, DropQueryStrings())
    _install(SQL_LOGGER, DropResultRows())
