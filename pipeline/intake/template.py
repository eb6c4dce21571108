"""`gtb template ENTITY YEAR`: the blank submission workbook a focal point fills in.

Everything in the workbook comes from the contract (`schemas/sheets.csv`, `schemas/columns.csv`)
and the code lists (`schemas/codelists/*.csv`): sheets and columns in contract order, header
comments with description, unit and rule, drop-downs for every enumeration, number checks for
numeric columns. Two extra sheets, both known to the validator: "Instructions" (first) explains
the workbook in plain words, and the hidden "Lists" holds the long drop-down lists (countries,
entities) that do not fit Excel's 255-character inline limit.

Only English is offered. Column names and codes are language-independent; a translation would
be the strings of `TEXT` below as a CSV of `key,text` per language, loaded in place of `TEXT`.

"""

from __future__ import annotations

import csv
import datetime as dt
import re
from functools import cache
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import TEMPLATE_VERSION, codelists
from pipeline import xlsx as st
from pipeline.cells import column_letter
from schemas import contract
from schemas.contract import ColumnSpec, SheetSpec

SUPPORTED_LANGS = ("en",)
INSTRUCTIONS_SHEET = "Instructions"
LISTS_SHEET = "Lists"
EXTRA_SHEETS = (INSTRUCTIONS_SHEET, LISTS_SHEET)
FIELD_HEADER = ("Field", "Value", "Help")
LAST_DATA_ROW = 1000  # drop-downs and number checks cover rows 2..LAST_DATA_ROW
INLINE_LIST_LIMIT = 255  # Excel's limit on an inline list ("a,b,c") of a data validation
MAX_MESSAGE = 225  # Excel's limit on a data validation's error message
REFERENCE_LISTS = ("countries", "entities", "airports")  # too long to print in the instructions

# The plain-words text of the Instructions sheet. A translation replaces these strings.
TEXT: dict[str, str] = {
    "title": "Greening the Blue: environmental inventory submission",
    "intro": (
        "This workbook collects one year of environmental data for one UN entity: energy used in "
        "buildings, refrigerant refills, fleet fuel, business travel, carbon offsets, waste, water "
        "and the state of the environmental management system. Fill in the sheets after this one "
        "and send the file back to the Greening the Blue team. Keep the sheet names and the column "
        "headers exactly as they are."
    ),
    "steps": (
        "Check the Entity sheet: entity code, reporting year and template version are filled in "
        "for you. Add the personnel count, the coverage, the floor area and your contact details.\n"
        "On each table sheet, type one item per row from row 2 down, under the headers of row 1. "
        "Point at a header to read what the column means, its unit and its rule; dark blue "
        "headers are required columns, light blue ones optional.\n"
        "Pick codes from the drop-down lists (countries, energy types, units, ...). Codes are lower "
        "case, e.g. natural_gas, except country codes (ISO alpha-3, e.g. KEN) and airport codes "
        "(IATA, e.g. NBO).\n"
        "A sheet with nothing to report stays empty, but do not delete it: every sheet must be there.\n"
        "Fill in the EMS sheet (environmental management system).\n"
        "Save as .xlsx (not .xls, .xlsm or .csv) and send the file; it is checked with the command "
        "shown at the end of this sheet."
    ),
    "boundary": (
        "Report what is under your entity's financial or operational control: scope 1 (fuels burnt "
        "on site, owned vehicles, refrigerant leaks) and scope 2 (purchased electricity, district "
        "heating and cooling) in full, and of scope 3 only business travel (air travel and other "
        "travel). Air travel is counted as CO2 only, without a radiative forcing uplift. HCFC "
        "refrigerants (r22, r123) are reported but counted as optional emissions, outside the "
        "headline total."
    ),
    "rules": (
        "Numbers may be typed as numbers or as text with spaces or commas as thousands separators "
        '("1 200" or "1,200.5"). Anything else in a number column is an error.\n'
        "Negative quantities are errors.\n"
        'Codes are lower case, from the drop-down lists; "Natural Gas" is read as natural_gas, but '
        "a code that is not in the list is an error.\n"
        "Units must suit the energy type or fuel: see the table of allowed units below.\n"
        "Air travel: one row per route and cabin class, with the number of one-way flights in "
        "trips (round_trip = yes doubles them). Give either both airports (origin and destination, "
        "different) or distance_km alone, never both.\n"
        "renewable_kwh is for electricity rows only and cannot exceed the quantity in kWh.\n"
        "Dates may be Excel dates or ISO text such as 2025-03-01.\n"
        "An EMS with status certified needs standard iso14001 or emas.\n"
        "Blank rows are skipped. Formulas are allowed, but save the workbook after it has been "
        "recalculated so that every formula has a value."
    ),
    "validate": (
        "The file is checked with the pipeline command  gtb validate {file}  which lists every "
        "problem by sheet and cell (e.g. Facilities!D14), writes issues.csv, and an annotated copy "
        "of the workbook with each problem cell coloured (red: error, amber: warning) and "
        "commented, behind a first sheet that summarises all findings. A workbook with any error "
        "is not loaded: correct the cells named and send it again."
    ),
}


# ---------------------------------------------------------------------------------------------
# Bounds, rules and drop-down lists, derived from the contract
# ---------------------------------------------------------------------------------------------

_REL_YEAR = re.compile(r"reporting_year\s*([+-]\s*\d+)?")
_REL_DATE = re.compile(r"reporting_year-(\d{2})-(\d{2})")


def resolve_bound(text: str, year: int) -> int | float | dt.date:
    """A bound of columns.csv for a given reporting year: '2008', 'current_year',
    'reporting_year+1', 'reporting_year-01-01'."""
    text = text.strip()
    if text == "current_year":
        return dt.date.today().year
    if m := _REL_DATE.fullmatch(text):
        return dt.date(year, int(m.group(1)), int(m.group(2)))
    if m := _REL_YEAR.fullmatch(text):
        return year + int((m.group(1) or "0").replace(" ", ""))
    number = float(text)
    return int(number) if number.is_integer() else number


def year_range() -> tuple[int, int]:
    """Allowed reporting years, from the contract's Entity.reporting_year bounds."""
    col = contract.sheet("Entity").column("reporting_year")
    assert col.ge and col.le, "Entity.reporting_year needs ge and le bounds in columns.csv"
    low, high = resolve_bound(col.ge, 0), resolve_bound(col.le, 0)
    assert not isinstance(low, dt.date) and not isinstance(high, dt.date), "Entity.reporting_year bounds are years"
    return int(low), int(high)


@cache
def unit_tables() -> dict[str, str]:
    """Compatibility tables among the code lists: type column -> table name.

    A code list whose header is `<column>,unit` (e.g. `energy_type,unit`) lists the units
    allowed for each value of that column: {'energy_type': 'facilities_unit', 'fuel': 'vehicle_unit'}.
    """
    out: dict[str, str] = {}
    for path in sorted(codelists.CODELIST_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        if len(header) == 2 and header[1] == "unit" and header[0] != "code":
            out[header[0]] = path.stem
    return out


def unit_table_for(sheet: SheetSpec) -> tuple[str, str] | None:
    """(type column, compatibility table) of a sheet with a typed unit column, else None."""
    for col in sheet.columns:
        if col.name in unit_tables() and col.dtype == "enum":
            return col.name, unit_tables()[col.name]
    return None


def allowed_codes(sheet: SheetSpec, col: ColumnSpec) -> tuple[str, ...]:
    """The drop-down codes of an enumeration column (unit columns: the union of allowed units)."""
    assert col.codelist, f"{sheet.name}.{col.name} has no code list"
    if col.codelist == "unit" and (pair := unit_table_for(sheet)):
        seen: dict[str, None] = {}
        for units in codelists.allowed_units(pair[1]).values():
            seen.update(dict.fromkeys(units))
        return tuple(seen)
    return codelists.codes(col.codelist)


def has_dropdown(col: ColumnSpec) -> bool:
    """Enumerations, yes/no, countries and entities get drop-downs; airports (thousands) do not."""
    return bool(col.codelist) and col.codelist != "airports"


def labels(name: str) -> dict[str, str]:
    """code -> label of a code list ('name' column for entities)."""
    return {r["code"]: r.get("label") or r.get("name") or "" for r in codelists.table(name)}


def _fmt(value: int | float | dt.date) -> str:
    """A bound as Excel reads it in a formula: 1000000000000, not 1e+12."""
    return value.isoformat() if isinstance(value, dt.date) else f"{value:.15g}"


def _shown(value: int | float | dt.date) -> str:
    """A bound for people: 1,000,000,000,000 (years stay 2008)."""
    if isinstance(value, dt.date) or (isinstance(value, int) and 1000 <= value <= 9999):
        return _fmt(value)
    return f"{value:,.15g}"


def _bounds_text(col: ColumnSpec, year: int) -> str:
    lo = f">= {_shown(resolve_bound(col.ge, year))}" if col.ge else ""
    lo = f"> {_shown(resolve_bound(col.gt, year))}" if col.gt else lo
    hi = f"<= {_shown(resolve_bound(col.le, year))}" if col.le else ""
    if col.ge and col.le and not col.gt:
        return f"between {_shown(resolve_bound(col.ge, year))} and {_shown(resolve_bound(col.le, year))}"
    return " and ".join(p for p in (lo, hi) if p)


def rule_text(sheet: SheetSpec, col: ColumnSpec, year: int) -> str:
    """The rule of a column in plain words, e.g. 'number >= 0', 'one of: kg, tonne'."""
    bounds = _bounds_text(col, year)
    if col.dtype in ("number", "integer"):
        kind = "whole number" if col.dtype == "integer" else "number"
        return f"{kind} {bounds}".strip()
    if col.dtype == "date":
        text = "date (Excel date or ISO text such as 2025-03-01)"
        if col.ge:
            text += f", on or after {_fmt(resolve_bound(col.ge, year))}"
        return text
    if col.dtype == "iso3":
        return "ISO 3166-1 alpha-3 country code from the drop-down (e.g. KEN, CHE)"
    if col.dtype == "entity":
        return "entity code from the reference list (drop-down)"
    if col.dtype == "iata":
        return "3-letter IATA airport code (e.g. NBO, GVA)"
    if col.dtype == "email":
        return "a valid e-mail address"
    if col.codelist:
        text = "one of: " + ", ".join(allowed_codes(sheet, col))
        if col.codelist == "unit" and (pair := unit_table_for(sheet)):
            text += f"; must suit {pair[0]} ({unit_compat_text(pair[1])})"
        return text
    return "text"


def unit_compat_text(table: str) -> str:
    """'electricity: kwh, mwh, gj; natural_gas: m3, kwh, gj; ...' from a compatibility table."""
    return "; ".join(f"{t}: {', '.join(u)}" for t, u in codelists.allowed_units(table).items())


def help_text(sheet: SheetSpec, col: ColumnSpec, year: int) -> str:
    """Header comment / Help cell: description, required or optional, unit, rule."""
    lines = [
        f"{col.name} ({'required' if col.required else 'optional'})",
        col.description,
    ]
    if col.unit:
        lines.append(f"Unit: {col.unit}")
    lines.append(f"Rule: {rule_text(sheet, col, year)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Data validations
# ---------------------------------------------------------------------------------------------


class _Lists:
    """The hidden Lists sheet: one column per long code list, codes from row 2."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.ranges: dict[tuple[str, ...], str] = {}

    def formula(self, name: str, items: tuple[str, ...]) -> str:
        """A drop-down source: inline '"a,b"' when short, else a range on the Lists sheet."""
        joined = ",".join(items)
        if len(joined) + 2 <= INLINE_LIST_LIMIT:
            return f'"{joined}"'
        if items not in self.ranges:
            col = len(self.ranges) + 1
            letter = column_letter(col)
            header = self.ws.cell(row=1, column=col, value=name)
            header.font = st.BOLD
            for row, code in enumerate(items, start=2):
                st.write_text(self.ws.cell(row=row, column=col), code)
            self.ws.column_dimensions[letter].width = max(12, len(name) + 2)
            last = len(items) + 1
            self.ranges[items] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${last}"
        return self.ranges[items]


def _list_validation(name: str, source: str, what: str) -> DataValidation:
    return DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Not in the list",
        error=f"Choose {what} from the drop-down list ({name}). The Instructions sheet lists the codes."[:MAX_MESSAGE],
    )


def _number_validation(col: ColumnSpec, year: int) -> DataValidation | None:
    """A whole/decimal/date check from the column's bounds; warning style, because the pipeline
    also accepts numbers typed as text ('1 200') and dates as ISO text."""
    if col.dtype in ("number", "integer"):
        kind = "whole" if col.dtype == "integer" else "decimal"
    elif col.dtype == "date" and (col.ge or col.le):
        kind = "date"
    else:
        return None

    def formula(bound: str) -> str:
        value = resolve_bound(bound, year)
        if isinstance(value, dt.date):
            return f"DATE({value.year},{value.month},{value.day})"
        return _fmt(value)

    lo = col.gt or col.ge
    if lo and col.le:  # '> a and <= b' has no Excel operator: 'between' here, the pipeline is strict
        op, f1, f2 = "between", formula(lo), formula(col.le)
    elif col.gt:
        op, f1, f2 = "greaterThan", formula(col.gt), None
    elif col.ge:
        op, f1, f2 = "greaterThanOrEqual", formula(col.ge), None
    elif col.le:
        op, f1, f2 = "lessThanOrEqual", formula(col.le), None
    else:  # a number without bounds: any number
        op, f1, f2 = "between", "-1E+307", "1E+307"
    rule = rule_text(contract.sheet(col.sheet), col, year)
    keep = "a date typed as ISO text" if kind == "date" else "a number typed as text such as 1 200"
    return DataValidation(
        type=kind,
        operator=op,
        formula1=f1,
        formula2=f2,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Check this value",
        error=f"{col.name}: expected a {rule}. Choose Yes only to keep {keep}."[:MAX_MESSAGE],
    )


def _text_length_validation(length: int, what: str) -> DataValidation:
    return DataValidation(
        type="textLength",
        operator="equal",
        formula1=str(length),
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Check this code",
        error=f"Expected {what}.",
    )


def _validations(sheet: SheetSpec, col: ColumnSpec, year: int, lists: _Lists) -> list[DataValidation]:
    out: list[DataValidation] = []
    if has_dropdown(col):
        items = allowed_codes(sheet, col)
        out.append(
            _list_validation(col.codelist or "", lists.formula(col.codelist or col.name, items), f"a {col.name}")
        )
    elif col.dtype == "iata":
        out.append(_text_length_validation(3, "a 3-letter IATA airport code such as NBO"))
    number = _number_validation(col, year)
    if number is not None:
        out.append(number)
    return out


# ---------------------------------------------------------------------------------------------
# Sheets
# ---------------------------------------------------------------------------------------------


def _column_width(sheet: SheetSpec, col: ColumnSpec) -> float:
    base = len(col.name) + 4
    if col.dtype in ("text", "email"):
        return max(base, 28)
    if col.dtype == "date":
        return max(base, 16)
    if has_dropdown(col) and col.codelist not in REFERENCE_LISTS:
        return min(32, max(base, max(len(c) for c in allowed_codes(sheet, col)) + 4))
    return max(base, 13)


def _table_sheet(ws: Worksheet, sheet: SheetSpec, year: int, lists: _Lists) -> None:
    for idx, col in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=1, column=idx, value=col.name)
        cell.comment = st.comment(help_text(sheet, col, year))
        letter = column_letter(idx)
        for dv in _validations(sheet, col, year, lists):
            dv.add(f"{letter}2:{letter}{LAST_DATA_ROW}")
            ws.add_data_validation(dv)
    st.style_header_row(ws, 1, len(sheet.columns), [c.required for c in sheet.columns])
    st.set_widths(ws, [_column_width(sheet, c) for c in sheet.columns])
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    st.fit_to_page_width(ws)


def _field_value_sheet(ws: Worksheet, sheet: SheetSpec, year: int, lists: _Lists, prefill: dict[str, object]) -> None:
    for idx, title in enumerate(FIELD_HEADER, start=1):
        ws.cell(row=1, column=idx, value=title)
    st.style_header_row(ws, 1, len(FIELD_HEADER))
    for row, col in enumerate(sheet.columns, start=2):
        name = ws.cell(row=row, column=1, value=col.name)
        name.font = st.BOLD
        name.fill = st.FIELD_FILL
        name.border = st.BORDER
        name.alignment = st.WRAP_TOP
        value = ws.cell(row=row, column=2)
        value.border = st.BORDER
        value.fill = st.INPUT_FILL
        value.alignment = st.INPUT_ALIGN
        if col.name in prefill:
            value.value = prefill[col.name]
            if isinstance(prefill[col.name], str):
                st.write_text(value, prefill[col.name])
        helper = st.write_text(ws.cell(row=row, column=3), _field_help(sheet, col, year))
        helper.font = st.HELP_FONT
        helper.alignment = st.WRAP_TOP
        for dv in _validations(sheet, col, year, lists):
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
        ws.row_dimensions[row].height = 15 * max(2, -(-len(str(helper.value)) // 85))
    st.set_widths(ws, [30, 34, 90])
    ws.freeze_panes = "A2"
    st.fit_to_page_width(ws)


def _field_help(sheet: SheetSpec, col: ColumnSpec, year: int) -> str:
    """Help cell of a Field/Value sheet: 'Required. <description>. Unit: ... Rule: ...'."""
    parts = ["Required." if col.required else "Optional.", col.description.rstrip(".") + "."]
    if col.unit:
        parts.append(f"Unit: {col.unit}.")
    parts.append(f"Rule: {rule_text(sheet, col, year)}.")
    return " ".join(parts)


def _lines(text: str, width: float) -> int:
    """Estimated wrapped line count of `text` in a cell `width` characters wide."""
    per_line = max(1, int(width * 1.15))  # proportional text is narrower than Excel's width unit
    return sum(max(1, -(-len(line) // per_line)) for line in text.splitlines() or [""])


def _para(ws: Worksheet, row: int, text: str, *, font: Font | None = None, span: int = 4) -> int:
    """A wrapped paragraph merged over `span` columns; returns the next free row."""
    cell = ws.cell(row=row, column=1)
    st.write_text(cell, text)
    cell.alignment = st.WRAP_TOP
    if font is not None:
        cell.font = font
    if span > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    size = font.sz if font is not None and font.sz else 11
    lines = _lines(text, sum(_INSTRUCTION_WIDTHS[:span]) * 11 / size)
    ws.row_dimensions[row].height = lines * (size + 4) + 2
    return row + 1


def _row(ws: Worksheet, row: int, values: list[object], *, header: bool = False) -> int:
    for idx, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=idx)
        st.write_text(cell, value)
        cell.alignment = st.WRAP_TOP
        cell.border = st.BORDER
        if header:
            cell.font = st.BOLD
            cell.fill = st.HEADER_FILL
    # a row has two to four cells, each measured against the width of its own column
    lines = max(_lines(str(v), w) for v, w in zip(values, _INSTRUCTION_WIDTHS, strict=False))
    ws.row_dimensions[row].height = 15 * lines + 1
    return row + 1


_INSTRUCTION_WIDTHS = (26, 30, 60, 44)


def _instructions(ws: Worksheet, entity: str, year: int) -> None:
    """The Instructions sheet: the workbook's identity, how to fill it in, every sheet and column
    with its rule, the allowed codes and units, and how the workbook is checked."""
    st.set_widths(ws, _INSTRUCTION_WIDTHS)
    ws.sheet_properties.tabColor = st.UN_BLUE
    ws.sheet_view.showGridLines = False
    st.fit_to_page_width(ws, landscape=False)
    file_name = default_file_name(entity, year)

    r = _instructions_intro(ws, entity, year, file_name)
    r = _sheets_overview(ws, r)
    r = _sheet_columns(ws, r, year)
    r = _allowed_codes(ws, r, entity)
    r = _allowed_units(ws, r)
    r = _para(ws, r, "How the workbook is checked", font=st.HEADING_FONT)
    r = _para(ws, r, TEXT["validate"].format(file=file_name))


def _instructions_intro(ws: Worksheet, entity: str, year: int, file_name: str) -> int:
    """Title, the workbook's identity, the introduction, the steps, the boundary and the rules."""
    entity_name = labels("entities").get(entity, "")
    r = _para(ws, 1, TEXT["title"], font=st.TITLE_FONT)
    r += 1
    for key, value in (
        ("Entity", f"{entity} ({entity_name})" if entity_name else entity),
        ("Reporting year", str(year)),
        ("Template version", TEMPLATE_VERSION),
        ("File name", file_name),
    ):
        ws.cell(row=r, column=1, value=key).font = st.BOLD
        st.write_text(ws.cell(row=r, column=2), value)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
        r += 1
    r += 1
    r = _para(ws, r, TEXT["intro"])
    r += 1

    r = _para(ws, r, "How to fill in this workbook", font=st.HEADING_FONT)
    for number, step in enumerate(TEXT["steps"].splitlines(), start=1):
        r = _para(ws, r, f"{number}. {step}")
    r += 1

    r = _para(ws, r, "What to report (boundary)", font=st.HEADING_FONT)
    r = _para(ws, r, TEXT["boundary"])
    r += 1

    r = _para(ws, r, "Rules", font=st.HEADING_FONT)
    for rule in TEXT["rules"].splitlines():
        r = _para(ws, r, f"- {rule}")
    return r + 1


def _sheets_overview(ws: Worksheet, r: int) -> int:
    """One line per sheet: its layout and purpose."""
    r = _para(ws, r, "The sheets", font=st.HEADING_FONT)
    r = _row(ws, r, ["Sheet", "Layout", "Purpose"], header=True)
    for sheet in contract.sheets():
        layout = "table: one row per item" if sheet.is_table else "Field | Value: one value per field"
        r = _row(ws, r, [sheet.name, layout, sheet.description])
    return r + 1


def _sheet_columns(ws: Worksheet, r: int, year: int) -> int:
    """Per sheet, its columns (or fields): required or not, unit, meaning and rule."""
    for sheet in contract.sheets():
        r = _para(ws, r, f"Sheet {sheet.name}: {sheet.description}", font=st.HEADING_FONT)
        r = _row(ws, r, ["Column" if sheet.is_table else "Field", "Required / unit", "Meaning", "Rule"], header=True)
        for col in sheet.columns:
            rule = rule_text(sheet, col, year)
            if col.codelist and col.codelist not in REFERENCE_LISTS and col.dtype != "yesno":
                rule = "one of the codes listed below" + (
                    f"; must suit {p[0]}, see the unit table below"
                    if col.codelist == "unit" and (p := unit_table_for(sheet))
                    else ""
                )
            need = ("required" if col.required else "optional") + (f", {col.unit}" if col.unit else "")
            r = _row(ws, r, [col.name, need, col.description, rule])
        r += 1
    return r


def _allowed_codes(ws: Worksheet, r: int, entity: str) -> int:
    """The reference code lists in words, then the codes and labels of every short enumeration."""
    r = _para(ws, r, "Allowed codes", font=st.HEADING_FONT)
    r = _para(
        ws,
        r,
        "Country codes are ISO 3166-1 alpha-3 (e.g. KEN Kenya, CHE Switzerland; all are in the "
        "country drop-downs). Airport codes are 3-letter IATA codes (e.g. NBO Nairobi, GVA Geneva). "
        f"The entity code is filled in for you ({entity}).",
    )
    for name, used_in in _enumerations():
        r = _row(ws, r, [name, "Label"], header=True)
        note = st.write_text(ws.cell(row=r - 1, column=3), f"used in {used_in}")
        note.font = st.HELP_FONT
        note.alignment = st.WRAP_TOP
        names = labels(name)
        for code in codelists.codes(name):
            r = _row(ws, r, [code, names.get(code, "")])
        r += 1
    return r


def _allowed_units(ws: Worksheet, r: int) -> int:
    """The units allowed for each type, one table per unit compatibility table in use."""
    for type_col, table in sorted(unit_tables().items()):
        sheets = [s.name for s in contract.sheets() if unit_table_for(s) == (type_col, table)]
        if not sheets:
            continue
        r = _para(ws, r, f"Units allowed per {type_col} ({', '.join(sheets)})", font=st.HEADING_FONT)
        r = _row(ws, r, [type_col, "Allowed units"], header=True)
        for value, units in codelists.allowed_units(table).items():
            r = _row(ws, r, [value, ", ".join(units)])
        r += 1
    return r


def _enumerations() -> list[tuple[str, str]]:
    """(code list, 'Sheet.column, ...') for every short enumeration of the contract, in first-use order."""
    used: dict[str, list[str]] = {}
    for sheet in contract.sheets():
        for col in sheet.columns:
            if col.codelist and col.codelist not in REFERENCE_LISTS:
                used.setdefault(col.codelist, []).append(f"{sheet.name}.{col.name}")
    return [(name, ", ".join(where)) for name, where in used.items()]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def default_file_name(entity: str, year: int) -> str:
    return f"{entity}_{year}_submission.xlsx"


def check_arguments(entity: str, year: int, lang: str = "en") -> str:
    """The canonical entity code; ValueError naming what is wrong with entity, year or language."""
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"language {lang!r} is not supported; supported: {', '.join(SUPPORTED_LANGS)}")
    code = codelists.normalise_ref(entity)
    known = codelists.codes("entities")
    if code not in known:
        raise ValueError(
            f"unknown entity code {entity!r}: expected one of the {len(known)} codes of "
            f"schemas/codelists/entities.csv (e.g. {', '.join(known[:3])}, ...)"
        )
    first, last = year_range()
    if isinstance(year, bool) or not isinstance(year, int) or not first <= year <= last:
        raise ValueError(f"reporting year {year!r} is out of range: expected a year from {first} to {last}")
    return code


def template(entity: str, year: int, output: Path | None = None, lang: str = "en") -> Path:
    """Write the blank submission workbook for `entity` and `year`; returns its path."""
    code = check_arguments(entity, year, lang)
    output = Path(output) if output is not None else Path(default_file_name(code, year))

    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_SHEET
    lists_ws = wb.create_sheet(LISTS_SHEET)  # moved last once the contract sheets exist
    lists = _Lists(lists_ws)
    prefill: dict[str, dict[str, object]] = {
        "Entity": {"entity_code": code, "reporting_year": year, "template_version": TEMPLATE_VERSION}
    }
    for sheet in contract.sheets():
        ws = wb.create_sheet(sheet.name)
        if sheet.is_table:
            _table_sheet(ws, sheet, year, lists)
        else:
            _field_value_sheet(ws, sheet, year, lists, prefill.get(sheet.name, {}))
    wb.move_sheet(lists_ws, offset=len(wb.sheetnames) - 1 - wb.index(lists_ws))
    lists_ws.sheet_state = "hidden"
    _instructions(instructions, code, year)
    wb.active = 0

    props = wb.properties
    props.title = f"Greening the Blue submission: {code} {year}"
    props.subject = f"Environmental inventory, reporting year {year}"
    props.creator = st.AUTHOR
    props.lastModifiedBy = st.AUTHOR
    props.keywords = f"Greening the Blue; template {TEMPLATE_VERSION}; {code}; {year}"
    props.description = f"Submission template version {TEMPLATE_VERSION}"

    output.parent.mkdir(parents=True, exist_ok=True)
    wb.save(output)
    return output
