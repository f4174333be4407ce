"""Translations of what residents read: pages, notifications and account e-mails.

English is the source language: every text is written in English in the code or a template and
is its own message id. The isiZulu and Afrikaans catalogues are the gettext files
`src/locale/<language>/LC_MESSAGES/messages.po`, kept in the repository as text; each is compiled
in memory the first time it is needed (no binary `.mo` file is committed or built at install),
then kept for the life of the process.

Texts use Python %-formatting with named parameters (`%(tracking_number)s`), so a caller
renders `translations(language).gettext(MSGID) % params`. An unknown language, none, or English
answers the English texts themselves.
"""

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "zu", "af")
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(message: str) -> str:
    """Marks a text for extraction (`make messages`) where it is defined; translated where shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(language: str | None) -> gettext.NullTranslations:
    """The catalogue of a language; English (the texts unchanged) for anything not translated."""
    if language not in SUPPORTED_LANGUAGES or language == SOURCE_LANGUAGE:
        return _english()
    return _compiled(language)


@lru_cache(maxsize=1)
def _english() -> gettext.NullTranslations:
    return gettext.NullTranslations()


@lru_cache(maxsize=len(SUPPORTED_LANGUAGES))
def _compiled(language: str) -> gettext.NullTranslations:
    """Compile the .po into a .mo in memory; fuzzy (unchecked) entries are left out, so they read
    in English until a translator confirms them."""
    with catalogue_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
