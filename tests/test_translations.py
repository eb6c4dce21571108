"""Translations: every message has a French and a Spanish template that keeps the English one's
fields and includes."""

from __future__ import annotations

import string
from collections import Counter

import pytest

from pipeline import catalogue

TRANSLATED = ("fr", "es")


def placeholders(template: str) -> Counter[tuple[str, str | None, str]]:
    """The replacement fields of a template: (field, conversion, format spec), with their counts."""
    return Counter(
        (name, conversion, spec) for _, name, spec, conversion in string.Formatter().parse(template) if name is not None
    )


def includes(template: str) -> Counter[str]:
    return Counter(catalogue._INCLUDE.findall(template))


def leading_space(template: str) -> str:
    return template[: len(template) - len(template.lstrip())]


@pytest.mark.parametrize("message_id", catalogue.ids())
def test_every_message_is_translated_with_the_same_fields_and_includes(message_id):
    english = catalogue.raw_template(message_id, "en")
    for lang in TRANSLATED:
        assert lang in catalogue.languages()
        text = catalogue.raw_template(message_id, lang)
        assert text.strip(), (message_id, lang)
        assert placeholders(text) == placeholders(english), (message_id, lang)
        assert includes(text) == includes(english), (message_id, lang)
        assert leading_space(text) == leading_space(english), (message_id, lang)
        assert text == text.rstrip(), (message_id, lang)


def test_fragments_appended_to_a_message_keep_their_leading_space():
    appended = [i for i in catalogue.ids() if catalogue.raw_template(i).startswith(" ")]
    assert appended and all(catalogue.code_of_or_none(i) is None for i in appended)
    for message_id in appended:
        for lang in TRANSLATED:
            text = catalogue.raw_template(message_id, lang)
            assert text.startswith(" ") and not text.startswith("  "), (message_id, lang)
