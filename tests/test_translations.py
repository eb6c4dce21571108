"""Translations: every message has a French and a Spanish template that keeps the English one's
fields and includes, and every code list with labels has French and Spanish labels."""

from __future__ import annotations

import pickle
import re
import string
from collections import Counter
from pathlib import Path

import pytest

from pipeline import catalogue, codelists
from pipeline.intake import guard
from pipeline.intake.template import template
from pipeline.intake.validate import validate_files
from schemas import i18n
from tests import hostile
from tests.builders import example_rows, fill

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


# --- what a finding names is named in the finding's language -------------------------------------

# A file of text renamed .xlsx: the kind the guard detects, as the finding says it in each language.
TEXT_FILES = {
    "csv": (
        b"Site;Pays;Type d'energie\nSiege;KEN;Gaz naturel\n",
        {
            "en": "This is a CSV (comma- or tab-separated text) file, not an Excel workbook.",
            "fr": "(type détecté\u00a0: fichier CSV, texte séparé par des virgules ou des tabulations).",
            "es": "(tipo detectado: archivo CSV, texto separado por comas o tabulaciones).",
        },
    ),
    "xml": (
        b"<?xml version='1.0'?><root/>\n",
        {
            "en": "This is an XML file, not an Excel workbook.",
            "fr": "(type détecté\u00a0: fichier XML).",
            "es": "(tipo detectado: archivo XML).",
        },
    ),
    "text": (
        b"Notes for the focal point\n",
        {
            "en": "This is a text file, not an Excel workbook.",
            "fr": "(type détecté\u00a0: fichier texte).",
            "es": "(tipo detectado: archivo de texto).",
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(TEXT_FILES))
def test_the_kind_of_a_text_file_is_named_in_the_language_of_the_finding(kind):
    """A CSV, XML or text file renamed .xlsx: its kind is a catalogue fragment rendered in the
    finding's language (also once the refusal has crossed from a reading process), not English
    words inside a French or Spanish sentence; the English message is as it was."""
    content, expected = TEXT_FILES[kind]
    with pytest.raises(guard.Refused) as caught:
        guard.check_bytes(content)
    error = pickle.loads(pickle.dumps(caught.value))
    assert error.reason == "text"
    assert all(isinstance(value, catalogue.Message) for value in error.params.values())
    english_kind = catalogue.text(f"unreadable-file.kind-{kind}", "en")
    for lang, phrase in expected.items():
        message = error.render(lang)
        assert phrase in message, (lang, message)
        if lang != "en":
            assert english_kind not in message and " file" not in message, (lang, message)
    assert str(error).startswith(expected["en"])


MACRO_EVIDENCE = {
    "part": (
        hostile.xlsm_renamed,
        {
            "en": "(it contains xl/vbaproject.bin);",
            "fr": "(il contient xl/vbaproject.bin)",
            "es": "(contiene xl/vbaproject.bin);",
        },
    ),
}


@pytest.mark.parametrize("evidence", sorted(MACRO_EVIDENCE))
def test_why_a_workbook_is_macro_enabled_is_said_in_the_language_of_the_finding(tmp_path, evidence):
    """What shows a workbook holds macros (a part) is said in the finding's
    language too; the English message is as it was."""
    build, expected = MACRO_EVIDENCE[evidence]
    with pytest.raises(guard.Refused) as caught:
        guard.check_bytes(build(tmp_path).read_bytes())
    error = pickle.loads(pickle.dumps(caught.value))
    assert error.reason == "macro"
    for lang, phrase in expected.items():
        message = error.render(lang)
        assert phrase in message, (lang, message)
        if lang != "en":
            assert expected["en"].strip("();") not in message, (lang, message)


def test_a_certified_ems_without_its_standard_is_told_with_the_drop_down_labels(tmp_path: Path):
    """Status certified with the standard 'none' chosen from the drop-downs of a French or Spanish
    workbook: the finding names the status and the standards it needs by their labels in the
    workbook's language, never by their codes (certified, iso14001, emas)."""
    rows = example_rows("UNEP", 2024)
    rows["EMS"][0]["standard"] = "none"
    for lang in ("en", "fr", "es"):
        path = template("UNEP", 2024, tmp_path / f"UNEP_2024_{lang}.xlsx", lang=lang)
        fill(path, rows, lang=lang, labels=True)
        [sub] = validate_files([path], jobs=1)
        [found] = sub.findings
        assert found.code == "inconsistent-row" and found.sheet == i18n.sheet_name("EMS", lang), found
        status = i18n.code_label("ems_status", "certified", lang)
        standards = [i18n.code_label("ems_standard", code, lang) for code in ("iso14001", "emas")]
        assert f"{status!r}" in found.message and all(f"{s!r}" in found.message for s in standards), found.message
        assert f"{i18n.code_label('ems_standard', 'none', lang)!r}" in found.message, found.message
        if lang != "en":  # the English labels hold the English words
            assert not re.search(r"\b(certified|iso14001|emas)\b", found.message), found.message
    assert found.message.startswith("el estado 'SGA certificado (ISO 14001 o EMAS)' requiere"), found.message


def test_no_french_or_spanish_message_calls_the_system_a_pipeline():
    """'pipeline' is the engineers' word; the French messages say 'le système de traitement', the
    Spanish ones 'el sistema'."""
    from pipeline import catalogue

    said = [
        (i, lang)
        for i in catalogue.ids()
        for lang in ("fr", "es")
        if "pipeline" in catalogue.raw_template(i, lang).lower()
    ]
    assert said == []


def _french_texts() -> list[tuple[str, str]]:
    """(where, text) of every French sentence the pipeline writes: messages, workbook and annotated
    copy texts, column help, sheet purposes, the reasons of bounds and the portal's texts."""
    import csv

    root = Path(__file__).resolve().parent.parent
    out = []
    for path, where, text in (
        ("pipeline/catalogue/messages.csv", "id", "fr"),
        ("pipeline/portal/texts.csv", "key", "fr"),
    ):
        with (root / path).open(encoding="utf-8", newline="") as fh:
            out += [(f"{path}:{row[where]}", row[text]) for row in csv.DictReader(fh)]
    for path, where, texts in (
        ("schemas/i18n/text.csv", ("key",), ("text",)),
        ("schemas/i18n/columns.csv", ("sheet", "column"), ("help",)),
        ("schemas/i18n/sheets.csv", ("sheet",), ("purpose",)),
        ("schemas/i18n/bound_notes.csv", ("sheet", "column"), ("note",)),
    ):
        with (root / path).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["lang"] == "fr":
                    out += [(f"{path}:{'/'.join(row[w] for w in where)}", row[t]) for t in texts]
    return out


def test_french_puts_a_no_break_space_before_a_colon_semicolon_question_or_exclamation_mark():
    """French typography: 'valeur trouvée : 2,5' with a no-break space, so that the sign never
    starts a line of its own, in every French text alike (some had it, most not)."""
    texts = _french_texts()
    assert len(texts) > 400
    plain = [(where, m.group(0)) for where, text in texts for m in re.finditer(r".{0,12} [:;?!](?=\s|$|<)", text)]
    assert plain == []
