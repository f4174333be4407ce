"""Which language a page is shown in, and the translation functions its template uses.

The choice, first that applies: the signed-in user's `preferred_language`; the `lang` cookie the
language switch sets; the browser's `Accept-Language` (best quality first); English.

A page is rendered in one call (`pages.render`), which sets the language for the time of that
call only (a context variable), so the templates' `_()` / `{% trans %}` and the label filters
read the right catalogue however many requests run at once.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fastapi import Request

from src.core.i18n import SOURCE_LANGUAGE, SUPPORTED_LANGUAGES, translations
from src.services.principal import Principal

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_ACCEPT_LANGUAGE = 500  # a longer header is not a browser's: ignore it rather than parse it
# How each language names itself on the switch, and the page's `lang` attribute.
LANGUAGE_NAMES = {"en": "English", "zu": "isiZulu", "af": "Afrikaans"}
HTML_LANG = {"en": "en-ZA", "zu": "zu-ZA", "af": "af-ZA"}

_current: ContextVar[str] = ContextVar("page_language", default=SOURCE_LANGUAGE)


def supported(value: str | None) -> str | None:
    return value if value in SUPPORTED_LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser wants most ("zu-ZA,zu;q=0.9,en;q=0.8" → "zu")."""
    if not header or len(header) > MAX_ACCEPT_LANGUAGE:
        return None
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if quality > 0 and primary in SUPPORTED_LANGUAGES:
            wanted.append((-quality, index, primary))
    return min(wanted)[2] if wanted else None


def choose(request: Request, principal: Principal | None) -> str:
    if principal is not None and supported(principal.language):
        return principal.language
    return (
        supported(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or SOURCE_LANGUAGE
    )


def current() -> str:
    return _current.get()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def translate(value: Any) -> str:
    """A text computed in Python (a notice, an error's detail): translated when the catalogue
    has it, else shown as it is. The result is plain text, escaped like any other value."""
    return gettext(str(value)) if value else ""
