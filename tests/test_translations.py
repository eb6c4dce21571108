"""Translations: every message has a French and a Spanish template that keeps the English one's
fields and includes, and every code list with labels has French and Spanish labels."""

from __future__ import annotations

import string
from collections import Counter

import pytest

from pipeline import catalogue, codelists

TRANSLATED = ("fr", "es")
# Code lists whose labels stay English: the ISO country names, the entities' names, the contract version.
UNTRANSLATED_LISTS = {"countries", "entities", "template_version"}


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


def labelled_lists() -> list[str]:
    names = sorted(p.stem for p in codelists.CODELIST_DIR.glob("*.csv"))
    return [n for n in names if "label" in codelists.table(n)[0] and n not in UNTRANSLATED_LISTS]


def test_labelled_lists_are_found():
    assert {"energy_type", "unit", "yes_no", "waste_treatment"} <= set(labelled_lists())


@pytest.mark.parametrize("name", labelled_lists())
def test_every_code_list_label_is_translated(name):
    rows = codelists.table(name)
    columns = list(rows[0])
    at = columns.index("label")
    assert columns[at + 1 : at + 3] == ["label_fr", "label_es"], name
    codes = [row["code"] for row in rows]
    for column in ("label_fr", "label_es"):
        labels = [row[column] for row in rows]
        assert all(label.strip() == label and label for label in labels), (name, column)
        assert not any(label.endswith(".") for label in labels), (name, column)
        assert len({label.casefold() for label in labels}) == len(labels), (name, column)
        for code, label in zip(codes, labels, strict=True):
            other_codes = set(codes) - {code}
            assert codelists.normalise_code(label) not in other_codes, (name, column, label)
