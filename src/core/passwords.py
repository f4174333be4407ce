"""The password rule: at least 10 characters and not a commonly used password, checked offline.

The common passwords are the 30,000 most frequent in leaked-password corpora, as shipped with
zxcvbn (a maintained package; nothing is copied into this repository). Compared without case,
so "Qwertyuiop" is as common as "qwertyuiop".
"""

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

MIN_LENGTH = 10
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None when it is."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters."
    if password.lower() in common_passwords():
        return "This password is too common; choose another."
    return None


def _check(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return password


# For request schemas: a 422 naming the problem, before anything is hashed.
Password = Annotated[str, StringConstraints(max_length=MAX_LENGTH), AfterValidator(_check)]
