"""Rows under the data that are no data, typed otherwise than the template writes them: the headers
pasted again respelt (accents dropped, another of the template's languages, without their unit,
hyphenated), which gave an error per cell; and a total typed in the Comment column alone, its
labels blank, which was read as a row of data (and, in a sheet where a row needs no site, loaded:
its figures counted twice)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from pipeline.api import check_files
from pipeline.intake import normalise
from pipeline.intake.normalise import ParsedSheet
from pipeline.intake.read import read_workbook
from schemas import contract, i18n
from tests.builders import valid_sheets, write_workbook


def checked(sheets: dict[str, list[list[object]]], tmp_path: Path):
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    return sub


def found(sub) -> list[tuple[str, str, str, str]]:
    return [(f.sheet, f.cell, f.code, f.severity) for f in sub.findings]


def parsed(sheets: dict[str, list[list[object]]], tmp_path: Path, sheet: str) -> ParsedSheet:
    """The sheet as normalised (in this process): the Excel rows read, and those left out."""
    raw = read_workbook(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    return normalise.normalise(raw).sheets[sheet]


def plain(text: str) -> str:
    """`text` typed without its accents, as on a keyboard without them: 'Unité' -> 'Unite'."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def without_unit(text: str) -> str:
    return re.sub(r"\s*\([^()]*\)\s*$", "", text)


def headers(sheet: str, lang: str, respell=lambda h: h, columns: int | None = None) -> list[object]:
    """valid_sheets' columns of `sheet` (or the first `columns` of them) as the template in `lang`
    heads them, respelt."""
    names = valid_sheets()[sheet][0][:columns]
    return [respell(i18n.header(sheet, str(name), lang)) for name in names]


# --- 1. the headers pasted again, respelt ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "pasted", "data"),
    [
        # Spanish without accents: 'Pais' in the first column, which was looked up as written
        ("Vehicles", headers("Vehicles", "es", plain), ["CHE", "car", "petrol", 900, "litre", "measured"]),
        (
            "Vehicles",
            headers("Vehicles", "fr", lambda h: plain(h).upper()),
            ["CHE", "car", "petrol", 900, "litre", "measured"],
        ),
        # the airports' headers without their unit ('From', 'Départ', 'Origen')
        ("AirTravel", headers("AirTravel", "en", without_unit), ["GVA", "NBO", None, "economy", 2, "yes", "measured"]),
        ("AirTravel", headers("AirTravel", "fr", without_unit), ["GVA", "NBO", None, "economy", 2, "yes", "measured"]),
        (
            "AirTravel",
            headers("AirTravel", "es", lambda h: plain(without_unit(h))),
            ["GVA", "NBO", None, "economy", 2, "yes", "measured"],
        ),
        ("OtherTravel", headers("OtherTravel", "en", lambda h: h.replace(" ", "-")), ["bus", 1_200, "estimated"]),
        ("Offsets", headers("Offsets", "es", plain), ["gold_standard", "GS-981", "GS-1-100", 2023, 100, None]),
        # French without accents under an English row 1: 'Unite', 'Quantite', 'Qualite des donnees'
        (
            "Facilities",
            headers("Facilities", "fr", plain),
            ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "measured"],
        ),
        (
            "Facilities",
            headers("Facilities", "es", plain),
            ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "measured"],
        ),
    ],
)
def test_headers_pasted_again_respelt_are_one_warning_and_the_rows_below_are_loaded(tmp_path, sheet, pasted, data):
    sheets = valid_sheets()
    if sheet == "Offsets":  # a date the builder's row 1 sheet reads
        data[-1] = sheets["Offsets"][1][-1]
    line = len(sheets[sheet]) + 1
    sheets[sheet] += [pasted, data]
    sub = checked(sheets, tmp_path)
    assert found(sub) == [(sheet, f"A{line}", "repeated-headers", "warning")], sub.findings
    loaded = sub.tables[sheet]["source_row"].tolist()
    assert line not in loaded and line + 1 in loaded, loaded


def test_respelt_headers_pasted_in_another_order_are_an_error_on_the_first_out_of_its_column(tmp_path):
    """The block's rows below are read under row 1's headers: their values would go to the wrong
    columns. 'Unite' is in D5, over row 1's Quantity."""
    sheets = valid_sheets()
    pasted = headers("Facilities", "fr", plain)
    pasted[3], pasted[4] = pasted[4], pasted[3]
    sheets["Facilities"] += [pasted, ["Geneva office", "CHE", "natural_gas", "m3", 12_000, None, "measured"]]
    sub = checked(sheets, tmp_path)
    errors = [(sheet, cell, code) for sheet, cell, code, severity in found(sub) if severity == "error"]
    assert ("Facilities", "D5", "inconsistent-row") in errors, sub.findings
    assert not [e for e in errors if e[1][1:] == "5" and e[1] != "D5"], sub.findings
    [message] = [f.message for f in sub.findings if f.cell == "D5"]
    assert "'Unite' is in D5" in message


def test_a_row_1_respelt_and_pasted_again_is_matched_alike(tmp_path):
    """Row 1 typed without accents is read (no column missing); the same row pasted under the
    data is the headers repeated: one matcher for both."""
    sheets = valid_sheets()
    sheets["Facilities"][0] = headers("Facilities", "fr", plain)
    sheets["Facilities"].append(headers("Facilities", "fr", plain))
    sub = checked(sheets, tmp_path)
    assert found(sub) == [("Facilities", "A5", "repeated-headers", "warning")], sub.findings


@pytest.mark.parametrize(
    "row",
    [
        ["Cntry", "Vehicle typ", "Fuel", 100, "litre", "measured"],  # misspelt: no header row 1 would be read as
        ["Pais Vasco", "car", "petrol", 100, "litre", "measured"],  # a value that begins like a header
        ["Pais", "car", "petrol", 100, "litre", "measured"],  # one header and data: a row of data
    ],
)
def test_a_row_that_the_header_matcher_would_not_read_as_headers_is_data(tmp_path, row):
    sheets = valid_sheets()
    sheets["Vehicles"].append(row)
    sub = checked(sheets, tmp_path)
    codes = {code for _, _, code, _ in found(sub)}
    assert "repeated-headers" not in codes and all("repeats the headers" not in f.message for f in sub.findings)
    assert codes, "the row's cells are checked as data"


def test_the_first_cell_is_looked_at_as_the_header_matcher_reads_headers():
    """The cheap look at each distinct text of the first column (letters and digits first) takes
    a text for a header exactly when row 1's matcher does, in every spelling."""
    for spec in contract.sheets():
        if not spec.is_table:
            continue
        lookup = i18n.header_lookup(spec.name)
        texts = [c.name for c in spec.columns]
        texts += [i18n.header(spec.name, c.name, lang) for c in spec.columns for lang in i18n.LANGS]
        respelt = [f(t) for t in texts for f in (plain, without_unit, str.upper, str.lower, lambda t: f"  {t} ")]
        respelt += [t.replace(" ", "-") for t in texts] + [t.replace(" ", "_") for t in texts]
        others = [
            "Gigiri compound",
            "Sitio 4",
            "Site 4",
            "Pais Vasco",
            "Total",
            "",
            "Comment?",
            "Unit\u00e9",
            "x" * 200,
        ]
        for text in texts + respelt + others:
            expected = len(text) < normalise.HEADER_LENGTH_LIMIT and normalise._key(text) in lookup
            assert normalise._a_header(text, spec.name) == expected, (spec.name, text)


# --- 2. a total typed in the Comment column alone ---------------------------------------------------

# valid_sheets' Facilities adds up to 2,447,000 in Quantity (D) and 600,000 in Renewable (F)
FACILITIES_HEAD = ["site", "country", "energy_type", "quantity", "unit", "renewable_kwh", "data_quality", "comment"]


def with_comment_column(sheets: dict[str, list[list[object]]], sheet: str) -> dict[str, list[list[object]]]:
    if sheets[sheet][0][-1] != "comment":
        sheets[sheet][0] = [*sheets[sheet][0], "comment"]
    return sheets


@pytest.mark.parametrize(
    ("sheet", "row", "cell"),
    [
        ("Facilities", [None, None, None, 2_447_000, "kwh", None, None, "TOTAL 2024"], "H5"),  # the unit typed too
        ("Facilities", [None, None, None, 2_447_000, None, 600_000, "measured", "Sum of the above"], "H5"),
        ("Facilities", [None, None, None, 2_450_000, "kwh", None, "measured", "Total général"], "H5"),  # rounded
        ("Facilities", [None, None, "electricity", 2_447_000, "kwh", None, "measured", "Total"], "H5"),  # filled down
        ("Refrigerants", [None, None, "r410a", 15.5, "measured", "Total"], "F4"),
        ("Water", [None, None, "municipal", 61_000, "m3", "measured", "Total 2024"], "G3"),
        ("OtherTravel", [None, 33_000, "measured", "Total général"], "D4"),
        ("Waste", [None, None, "mixed", "landfill", 30_120, None, "measured", "Grand total"], "H4"),
        ("AirTravel", [None, None, None, "economy", 58, "yes", "measured", "Total"], "H5"),
    ],
)
def test_a_total_typed_in_the_comment_alone_is_one_total_finding_and_is_not_read(tmp_path, sheet, row, cell):
    sheets = with_comment_column(valid_sheets(), sheet)
    sheets[sheet].append(row)
    sub = checked(sheets, tmp_path)
    assert found(sub) == [(sheet, cell, "inconsistent-row", "error")], sub.findings
    [f] = sub.findings
    assert f.message.startswith(f"this row looks like a total ({row[-1]!r})") and "count its figures twice" in f.message
    read = parsed(sheets, tmp_path, sheet)
    line = int(cell[1:])
    assert line in read.total_rows and line not in read.index


def test_a_total_of_flights_in_the_comment_was_loaded_and_is_refused(tmp_path):
    """A flight needs no airport when its distance is given: a total of the flights above with
    the distance added up too validated, and was loaded beside them."""
    sheets = with_comment_column(valid_sheets(), "AirTravel")
    sheets["AirTravel"].append([None, None, 850, "economy", 58, "yes", "measured", "Total"])
    assert found(checked(sheets, tmp_path)) == [("AirTravel", "H5", "inconsistent-row", "error")]


def test_subtotals_and_a_grand_total_in_the_comment_are_each_a_total(tmp_path):
    """Blocks of rows each with its subtotal, a blank row, and a grand total of them all at the end."""
    sheets = valid_sheets()
    sheets["Facilities"] = [
        FACILITIES_HEAD,
        ["Gigiri compound", "KEN", "electricity", 2_400_000, "kwh", 600_000, "measured"],
        ["Gigiri compound", "KEN", "diesel", 35_000, "litre", None, "measured"],
        [None, None, None, 2_435_000, None, 600_000, None, "Sub-total Nairobi"],
        ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "estimated"],
        ["Geneva office", "CHE", "electricity", 8_000, "kwh", None, "measured"],
        [None, None, None, 20_000, None, None, None, "Sous-total Genève"],
        [None] * 8,
        [None, None, None, 2_455_000, None, 600_000, None, "Total"],
    ]
    sub = checked(sheets, tmp_path)
    assert found(sub) == [("Facilities", f"H{line}", "inconsistent-row", "error") for line in (4, 7, 9)]


def test_a_subtotal_in_the_comment_with_drop_downs_filled_down_is_a_total(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"] = [
        FACILITIES_HEAD,
        ["Gigiri compound", "KEN", "electricity", 2_400_000, "kwh", 600_000, "measured"],
        ["Geneva office", "CHE", "electricity", 8_000, "kwh", None, "measured"],
        [None, None, "electricity", 2_408_000, "kwh", 600_000, "measured", "Total electricity"],
        ["Gigiri compound", "KEN", "diesel", 35_000, "litre", None, "measured"],
    ]
    sub = checked(sheets, tmp_path)
    assert found(sub) == [("Facilities", "H4", "inconsistent-row", "error")]
    assert parsed(sheets, tmp_path, "Facilities").index == [2, 3, 5]


@pytest.mark.parametrize(
    ("sheet", "row"),
    [
        # a site and an activity filled in: a row of data, whatever its comment says
        (
            "Facilities",
            ["Gigiri annex", "KEN", "electricity", 2_447_000, "kwh", None, "measured", "Total of two invoices"],
        ),
        ("Facilities", ["Gigiri annex", "KEN", "electricity", 1_000, "kwh", None, "measured", "total of two invoices"]),
        # a flight by its distance (no airport needed), from the travel agent's yearly total
        ("AirTravel", [None, None, 8_500, "economy", 80, "yes", "estimated", "Total from the travel agent's report"]),
        ("AirTravel", [None, None, 1_700, "economy", 12, "no", "estimated", "Sum of two trips to Mombasa"]),
    ],
)
def test_a_row_of_data_whose_comment_speaks_of_a_total_is_loaded(tmp_path, sheet, row):
    sheets = with_comment_column(valid_sheets(), sheet)
    sheets[sheet].append(row)
    sub = checked(sheets, tmp_path)
    assert found(sub) == [], sub.findings
    assert len(sheets[sheet]) in sub.tables[sheet]["source_row"].tolist()


@pytest.mark.parametrize(
    "row",
    [
        # the site forgotten, the country filled in: the missing site is said, not a total
        [None, "KEN", None, 2_447_000, "kwh", None, "measured", "Total"],
        # figures that add up nothing above: a row of data whose site was forgotten
        [None, None, "electricity", 1_000, "kwh", None, "measured", "Total of two invoices"],
        # the site filled in: a site's own row, however it is commented
        ["Gigiri compound", None, None, 2_447_000, "kwh", None, "measured", "Total"],
    ],
)
def test_a_comment_total_beside_a_site_country_or_figures_of_its_own_is_checked_as_data(tmp_path, row):
    sheets = with_comment_column(valid_sheets(), "Facilities")
    sheets["Facilities"].append(row)
    sub = checked(sheets, tmp_path)
    codes = {code for _, _, code, _ in found(sub)}
    assert "missing-value" in codes and "inconsistent-row" not in codes, sub.findings
