"""Total rows whose label does not start with the word: a LibreOffice user's 'Nairobi total' with
=SUM(D2,D4) under the sites loaded, the sheet's electricity counted twice, with no finding."""

from __future__ import annotations

import pytest

from pipeline.api import check_files
from tests.builders import valid_sheets, write_workbook


@pytest.mark.parametrize(
    "label",
    [
        "Nairobi total",
        "Site subtotal",
        "Sous-total Genève",
        "Total",
        "All sites",
        "Tous les sites",
        "Todos los sitios",
        "Σ",
        "∑ 2024",
        "Nairobi-total",
        "Gran total",
    ],
)
def test_a_total_row_labelled_otherwise_is_refused(tmp_path, label):
    sheets = valid_sheets()
    sheets["Facilities"].append([label, "KEN", "electricity", 2_400_000, "kwh", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    errors = [(f.cell, f.code, f.message) for f in sub.findings if f.is_error]
    assert [(cell, code) for cell, code, _ in errors] == [("A5", "inconsistent-row")], errors
    assert "count its figures twice" in errors[0][2] and label in errors[0][2]


@pytest.mark.parametrize(
    "site", ["TotalEnergies depot", "Sumatra office", "Totality house", "Summit building", "Lump sum store", "Nairobi"]
)
def test_a_site_whose_name_holds_such_letters_is_a_site(tmp_path, site):
    sheets = valid_sheets()
    sheets["Facilities"].append([site, "KEN", "diesel", 100, "litre", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    assert not [f for f in sub.findings if f.is_error], sub.findings
