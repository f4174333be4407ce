"""Translations of messages and pages (gettext). English only for now: every language falls back
to the English text, which is the message id itself."""

import gettext
from functools import lru_cache

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "zu", "af")


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogues; returns it unchanged."""
    return message


@lru_cache
def translations(language: str | None) -> gettext.NullTranslations:
    """The catalogue for `language`; unknown, None or "en" give English."""
    return gettext.NullTranslations()
