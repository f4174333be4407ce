"""The catalogues: every text marked in the code is translated into isiZulu and Afrikaans, with
the same placeholders and markup, so a new untranslated text fails here rather than reaching a
resident in English."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from src.core.i18n import N_, SUPPORTED_LANGUAGES, catalogue_path, translations
from src.models.notification import NotificationKind
from src.services.notifications import messages

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in SUPPORTED_LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
TAG = re.compile(r"</?[a-z][^>]*>")


def _source_texts() -> set[str]:
    """The message ids `make messages` extracts, with the same babel.cfg."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


SOURCE_TEXTS = _source_texts()


def _catalogue(language: str):
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


def test_extraction_finds_the_pages_and_the_messages():
    assert "Follow this instead" in SOURCE_TEXTS  # a template's _()
    assert 'You now follow report <strong class="mono">%(followed)s</strong>. You will hear of its progress.' in (
        SOURCE_TEXTS
    )  # a {% trans %} block
    assert "In progress" in SOURCE_TEXTS  # an N_() in Python
    assert messages.TEXTS[NotificationKind.RESOLVED][1] in SOURCE_TEXTS and messages.PASSWORD_CHANGED in SOURCE_TEXTS
    assert len(SOURCE_TEXTS) > 150


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_has_a_checked_translation_with_the_same_placeholders_and_markup(language):
    catalogue = _catalogue(language)
    problems = []
    for text in sorted(SOURCE_TEXTS):
        entry = catalogue.get(text)
        if entry is None or not entry.string or not str(entry.string).strip():
            problems.append(f"untranslated: {text!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy (unchecked): {text!r}")
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(entry.string)):
            problems.append(f"placeholders differ: {text!r} -> {entry.string!r}")
        elif sorted(TAG.findall(text)) != sorted(TAG.findall(entry.string)):
            problems.append(f"markup differs: {text!r} -> {entry.string!r}")
    assert not problems, f"{language}: run `make messages` and translate:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_holds_no_text_the_code_no_longer_uses(language):
    stale = {m.id for m in _catalogue(language) if m.id and m.id not in SOURCE_TEXTS}
    assert not stale, f"{language}: run `make messages` to drop {sorted(stale)}"


def test_contract_texts_in_isizulu_and_afrikaans():
    zu, af = translations("zu"), translations("af")
    resolved = zu.gettext("Report %(tracking_number)s has been resolved") % {"tracking_number": "TKT-20261129-ABC123"}
    assert resolved == "Umbiko TKT-20261129-ABC123 usuxazululiwe"
    assert af.gettext("Report %(tracking_number)s has been resolved") == "Verslag %(tracking_number)s is opgelos"
    assert zu.gettext("Resolved") == "Kuxazululiwe" and af.gettext("In progress") == "Aan die gang"
    assert af.gettext(messages.TEXTS[NotificationKind.STATUS_CHANGED][0]) % {
        "tracking_number": "TKT-1",
        "status": "Oop",
    } == ("Verslag TKT-1: Oop")
    assert zu.gettext(messages.UNSUBSCRIBED) == "Ngeke usawathola la ma-imeyili."
    body = zu.gettext(messages.SENSITIVE_TEXT[1]) % {"tracking_number": "TKT-1", "link": "https://x.test/t"}
    assert body.startswith("Kunokubuyekezwa ngombiko TKT-1.") and body.endswith("https://x.test/t")


def test_english_unknown_and_missing_languages_read_the_english_text():
    for language in ("en", None, "fr", "", "ZU", "../zu"):
        assert (
            translations(language).gettext(messages.TEXTS[NotificationKind.RESOLVED][0])
            == messages.TEXTS[NotificationKind.RESOLVED][0]
        )
    assert translations("zu").gettext("A text no catalogue has") == "A text no catalogue has"
    assert translations("zu") is translations("zu")  # compiled once
    assert N_("Kept as it is") == "Kept as it is"
