"""Nothing personal in the logs: the access log without query strings.

Query strings carry search terms (and, for some links, one-time tokens), so the access log
records the path only. SQL parameters are kept out by `hide_parameters=True` on every engine
(src/core/database.py); the error handlers log the kind of a failure, never the request body.
"""

import logging

ACCESS_LOGGER = "uvicorn.access"


class DropQueryStrings(logging.Filter):
    """uvicorn's access record is `(client, method, path with query, http version, status)`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install_log_hygiene() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
        logger.addFilter(DropQueryStrings())
