"""Build submission workbooks in code, the way a focal point fills them in.

`valid_sheets()` is a small complete submission that validates clean; tests change one cell,
rename a header or drop a sheet and assert the exact finding.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

from pipeline import TEMPLATE_VERSION
from schemas import contract

Rows = list[list[object]]


def valid_sheets(entity: str = "UNEP", year: int = 2024) -> dict[str, Rows]:
    return {
        "Entity": [
            ["Field", "Value"],
            ["entity_code", entity],
            ["reporting_year", year],
            ["personnel", 1250],
            ["reporting_coverage_percent", 92.5],
            ["floor_area_m2", 30000],
            ["focal_point_name", "Amina Otieno"],
            ["focal_point_email", "amina.otieno@un.org"],
            ["template_version", "2025.1"],
        ],
        "Facilities": [
            ["site", "country", "energy_type", "quantity", "unit", "renewable_kwh", "data_quality"],
            ["Gigiri compound", "KEN", "electricity", 2_400_000, "kwh", 600_000, "measured"],
            ["Gigiri compound", "KEN", "diesel", 35_000, "litre", None, "measured"],
            ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "estimated"],
        ],
        "Refrigerants": [
            ["site", "country", "gas", "refilled_kg", "data_quality"],
            ["Gigiri compound", "KEN", "r410a", 12.5, "measured"],
            ["Gigiri compound", "KEN", "r22", 3, "estimated"],
        ],
        "Vehicles": [
            ["country", "vehicle_type", "fuel", "quantity", "unit", "data_quality"],
            ["KEN", "suv", "diesel", 18_000, "litre", "measured"],
        ],
        "AirTravel": [
            ["origin", "destination", "distance_km", "cabin_class", "trips", "round_trip", "data_quality"],
            ["NBO", "GVA", None, "economy", 40, "yes", "measured"],
            ["NBO", "JFK", None, "business", 6, "yes", "measured"],
            [None, None, 850, "economy", 12, "no", "estimated"],
        ],
        "OtherTravel": [
            ["mode", "passenger_km", "data_quality"],
            ["rail", 25_000, "measured"],
            ["taxi", 8_000, "estimated"],
        ],
        "Offsets": [
            ["standard", "project_id", "serial_range", "vintage", "quantity_tco2e", "retirement_date"],
            ["cer", "CDM-1234", f"CER-{entity}-{year}-000001-005000", year - 1, 5000, dt.date(year + 1, 3, 15)],
        ],
        "Waste": [
            ["site", "country", "waste_stream", "treatment", "quantity", "unit", "data_quality"],
            ["Gigiri compound", "KEN", "mixed", "landfill", 120, "tonne", "measured"],
            ["Gigiri compound", "KEN", "paper_cardboard", "recycling", 30_000, "kg", "measured"],
        ],
        "Water": [
            ["site", "country", "source", "volume", "unit", "data_quality"],
            ["Gigiri compound", "KEN", "municipal", 61_000, "m3", "measured"],
        ],
        "EMS": [
            ["Field", "Value"],
            ["status", "certified"],
            ["standard", "iso14001"],
            ["coverage_percent", 80],
            ["policy_adopted", "yes"],
            ["last_management_review", dt.date(year, 11, 2)],
        ],
    }


def write_workbook(path: Path, sheets: dict[str, Rows]) -> Path:
    """Write the sheets in order; cells are written as given (numbers, text, dates, formulas)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def set_cell(sheets: dict[str, Rows], sheet: str, cell: str, value: object) -> dict[str, Rows]:
    """Change one cell by its Excel reference (e.g. 'D3'), growing the row if needed."""
    letters = cell.rstrip("0123456789")
    row = int(cell[len(letters) :]) - 1
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch.upper()) - 64)
    col -= 1
    rows = sheets[sheet]
    while len(rows) <= row:
        rows.append([])
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value
    return sheets


def a_finding(
    code: str,
    message: str,
    *,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    row: int | None = None,
    column: str = "",
    value: object = "",
    severity: str | None = None,
):
    """A finding with any message text (the pipeline builds them from the catalogue)."""
    from pipeline import catalogue
    from pipeline.intake.findings import Finding

    return Finding(
        file,
        sheet,
        cell,
        row,
        column,
        catalogue.display_value(value),
        code,
        severity or catalogue.severity_of(code),
        message,
    )


# --- a template filled in -------------------------------------------------------------------------


def example_rows(entity: str = "UNEP", year: int = 2024) -> dict[str, list[dict[str, object]]]:
    """One valid example row per table sheet, and valid Entity/EMS values (one dict each).

    Every key is a contract column; optional columns left empty are None.
    """
    rows: dict[str, list[dict[str, object]]] = {
        "Entity": [
            {
                "entity_code": entity,
                "reporting_year": year,
                "personnel": 1250,
                "reporting_coverage_percent": 100,
                "floor_area_m2": 35000,
                "focal_point_name": "Jane Doe",
                "focal_point_email": "jane.doe@example.org",
                "template_version": TEMPLATE_VERSION,
            }
        ],
        "Facilities": [
            {
                "site": "Gigiri compound",
                "country": "KEN",
                "energy_type": "electricity",
                "quantity": 1200000,
                "unit": "kwh",
                "renewable_kwh": 300000,
                "data_quality": "measured",
            }
        ],
        "Refrigerants": [
            {
                "site": "Gigiri compound",
                "country": "KEN",
                "gas": "r410a",
                "refilled_kg": 12.5,
                "data_quality": "measured",
            }
        ],
        "Vehicles": [
            {
                "country": "KEN",
                "vehicle_type": "suv",
                "fuel": "diesel",
                "quantity": 8400,
                "unit": "litre",
                "data_quality": "measured",
            }
        ],
        "AirTravel": [
            {
                "origin": "NBO",
                "destination": "GVA",
                "distance_km": None,
                "cabin_class": "economy",
                "trips": 14,
                "round_trip": "yes",
                "icec_co2_kg": None,
                "data_quality": "measured",
            }
        ],
        "OtherTravel": [{"mode": "rail", "passenger_km": 5200, "data_quality": "estimated"}],
        "Offsets": [
            {
                "standard": "cer",
                "project_id": "CDM-1234",
                "serial_range": f"KE-5-{year}-000001-000500",
                "vintage": year - 1,
                "quantity_tco2e": 500,
                "retirement_date": dt.date(year + 1, 3, 1),
            }
        ],
        "Waste": [
            {
                "site": "Gigiri compound",
                "country": "KEN",
                "waste_stream": "paper_cardboard",
                "treatment": "recycling",
                "quantity": 4.2,
                "unit": "tonne",
                "data_quality": "measured",
            }
        ],
        "Water": [
            {
                "site": "Gigiri compound",
                "country": "KEN",
                "source": "municipal",
                "volume": 21000,
                "unit": "m3",
                "data_quality": "measured",
            }
        ],
        "EMS": [
            {
                "status": "certified",
                "standard": "iso14001",
                "coverage_percent": 80,
                "policy_adopted": "yes",
                "last_management_review": dt.date(year, 11, 15),
            }
        ],
    }
    for sheet, items in rows.items():  # the optional comment column of the sheets that have one
        if "comment" in contract.sheet(sheet).names:
            for item in items:
                item.setdefault("comment", None)
    return rows


def fill(
    path: Path,
    rows: dict[str, list[dict[str, object]]],
    output: Path | None = None,
    lang: str = "en",
    labels: bool = False,
) -> Path:
    """Write `rows` (as from `example_rows`) into a template made in `lang`, the way a focal point
    does: under the headers as the template shows them, on its tabs; with `labels`, every coded
    value as the drop-down shows it ('Gaz naturel', 'Kenya (KEN)') instead of the code.
    Returns the path written (default: in place)."""
    from openpyxl import load_workbook

    from schemas import i18n

    def shown(spec: contract.SheetSpec, name: str, value: object) -> object:
        col = spec.column(name)
        if not labels or not isinstance(value, str) or not col.codelist or col.codelist in ("entities", "airports"):
            return value
        return i18n.code_label(col.codelist, value, lang)

    wb = load_workbook(path)
    for sheet_name, items in rows.items():
        spec = contract.sheet(sheet_name)
        ws = wb[i18n.sheet_name(sheet_name, lang)]
        if spec.is_table:
            header = {c.value: c.column for c in ws[1] if c.value is not None}
            for r, item in enumerate(items, start=2):
                for name, value in item.items():
                    ws.cell(row=r, column=header[i18n.header(sheet_name, name, lang)], value=shown(spec, name, value))
        else:
            fields = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
            for item in items:
                for name, value in item.items():
                    if name in ("entity_code", "reporting_year", "template_version"):
                        continue  # filled in by the template
                    ws.cell(row=fields[i18n.header(sheet_name, name, lang)], column=2, value=shown(spec, name, value))
    target = output or path
    wb.save(target)
    return target


def check_cell(tmp_path: Path, sheet: str, cell: str, value: object, lang: str | None = None, number_format: str = ""):
    """The submission `check_files` makes of the valid workbook with one cell changed (and, with
    `number_format`, that cell's number format set, as Excel keeps it), in `lang` or its own."""
    from openpyxl import load_workbook

    from pipeline.api import check_files

    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, value))
    if number_format:
        wb = load_workbook(path)
        wb[sheet][cell].number_format = number_format
        wb.save(path)
    [sub] = check_files([path], jobs=1, lang=lang)
    return sub
