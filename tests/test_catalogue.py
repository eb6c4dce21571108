"""The finding catalogue: every code and message the pipeline uses is in it, and every message renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import catalogue

ROOT = Path(__file__).resolve().parent.parent
ID = re.compile(r"""["']((?:%s|hint|fix|value)\.[a-z0-9-]+)["']""")


def source_ids() -> set[str]:
    codes = "|".join(re.escape(c) for c in catalogue.codes())
    pattern = re.compile(ID.pattern % codes)
    found: set[str] = set()
    for path in [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("schemas/*.py")]:
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_message_the_code_names_is_in_the_catalogue():
    missing = source_ids() - set(catalogue.ids())
    assert not missing, sorted(missing)


def test_every_code_has_a_message_and_every_message_a_known_code():
    used = {catalogue.code_of_or_none(i) for i in catalogue.ids()}
    assert set(catalogue.codes()) <= used
    for message_id in catalogue.ids():
        code = catalogue.code_of_or_none(message_id)
        assert code is None or message_id.startswith(code + "."), message_id


@pytest.mark.parametrize("message_id", catalogue.ids())
def test_every_message_renders_in_every_language(message_id):
    for lang in catalogue.languages():
        params = {name: 1 for name in catalogue.fields_of(message_id, lang)}
        text = catalogue.text(message_id, lang, **params)
        assert text.strip() and "{" not in text and "[[" not in text


def test_hints_compose_in_the_language_of_the_message():
    hint = catalogue.Message("hint.did-you-mean", {"code": "natural_gas"})
    text = catalogue.text("not-in-codelist.enum", "en", allowed="a, b", value="'gas'", hint=hint)
    assert text == "expected one of a, b; found 'gas'. Did you mean natural_gas?"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2024.0, "2024"),
        (-0.0, "0"),
        (2.0**53, "9007199254740992"),
        (1e308, "1e+308"),
        (-1e20, "-1e+20"),
        (1.5e300, "1.5e+300"),
        (2.5, "2.5"),
        (float("inf"), "inf"),
    ],
)
def test_a_number_is_shown_as_typed_and_a_huge_one_not_as_hundreds_of_digits(value, shown):
    """Whole numbers lose their '.0'; one beyond what a float holds exactly (a cell showing
    1E+308) is shown in its short form, not as the 309 digits `int()` makes of it."""
    assert catalogue.display_value(value) == shown


LANGS = ("en", "fr", "es")


def test_numbers_in_a_message_are_written_as_its_language_writes_them():
    """2,000,000 reads as two in French, where a comma is the decimal mark: a bound, a figure and
    a number the template formats are written 2 000 000 (a narrow no-break space) and 1 234,5 in
    French, 2.000.000 and 1.234,5 in Spanish; a year is never grouped."""
    bound = catalogue.Number(2_000_000)
    texts = {
        lang: catalogue.text("out-of-range.le", lang, bound=bound, value="x", note="") for lang in ("en", "fr", "es")
    }
    assert "2,000,000" in texts["en"] and "2\u202f000\u202f000" in texts["fr"] and "2.000.000" in texts["es"]
    assert (
        catalogue.Number(1234.5).render("fr") == "1\u202f234,5" and catalogue.Number(1234.5).render("es") == "1.234,5"
    )
    assert catalogue.Number(2008, grouped=False).render("fr") == "2008"
    params = dict(sheet="Data", cell="A1048577", rows=1_048_577, cols=3, max_rows=1_048_576, max_cols=16_384)
    params |= dict(max_col_letter="XFD", max_cells=50_000_000)
    english = catalogue.text("unreadable-file.extent", "en", **params)
    assert "1,048,577 rows" in english
    french = catalogue.text("unreadable-file.extent", "fr", **params)
    assert "1\u202f048\u202f577" in french and "1,048,577" not in french
    assert "1.048.577" in catalogue.text("unreadable-file.extent", "es", **params)


def test_a_message_names_a_column_by_its_header_in_its_language():
    """`<<AirTravel.distance_km>>` in a message: 'Distance (km)' in English and French,
    'Distancia (km)' in Spanish, never the contract's `distance_km`."""
    import schemas.i18n  # noqa: F401  # gives the catalogue the template's headers

    texts = {lang: catalogue.text("missing-value.route", lang) for lang in LANGS}
    assert "'Distance (km)'" in texts["en"] and "'Distancia (km)'" in texts["es"]
    assert "'Départ (code aéroport)'" in texts["fr"]
    for message_id in catalogue.ids():
        for lang in LANGS:
            params = dict.fromkeys(catalogue.fields_of(message_id, lang), 1)
            assert "<<" not in catalogue.text(message_id, lang, **params)
    assert not any("distance_km" in text for text in texts.values())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Voiture de location (véhicule-km\xa0: distance)", "'Voiture de location (véhicule-km\xa0: distance)'"),
        ("1\u202f000", "'1\u202f000'"),
        ("Fac\u200bilities", "'Fac\\u200bilities'"),  # what shows nothing stays escaped
        ("a\\xa0b", "'a\\\\xa0b'"),  # a backslash typed before 'xa0' is no escape
        ("it's", '"it\'s"'),
        ('it\'s "x"', "'it's \"x\"'"),  # both quote marks: neither escaped
        ("a\x1b[31mb\nc\ud800", "'a\\x1b[31mb\\nc\\ud800'"),  # terminal escapes, line breaks, lone surrogates
    ],
)
def test_a_quoted_text_keeps_its_no_break_spaces(text, shown):
    """French labels quoted in a finding read 'véhicule-km\\xa0: distance': repr escaped the no-break
    space French typography puts before a colon."""
    from pipeline.catalogue import quoted

    assert quoted(text) == shown


@given(st.text())
def test_a_quoted_text_is_repr_but_for_its_quote_marks_and_no_break_spaces(text):
    """`quoted` writes what `repr` writes (the same escapes, so nothing a submitter typed acts on a
    terminal), except that it keeps the three no-break spaces and escapes no quote mark."""
    from pipeline.catalogue import quoted

    shown = quoted(text)
    assert shown[0] == shown[-1] and shown[0] in "'\""
    assert all(c.isprintable() or c in "\xa0\u202f\u2007" for c in shown)
    if not ("'" in text and '"' in text) and not set(text) & set("\xa0\u202f\u2007"):
        assert shown == repr(text)
