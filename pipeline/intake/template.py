"""`gtb template ENTITY YEAR [--lang en|fr|es] [--db FILE]`: the workbook a focal point fills in.

Everything in it comes from the contract (`schemas/sheets.csv`, `schemas/columns.csv`), the code
lists (`schemas/codelists/`) and their words in the chosen language (`schemas/i18n/`, see
`schemas.i18n`): sheet tabs, headers with their units, header comments in plain words, drop-downs
that show readable labels ("Gaz naturel", "Kenya (KEN)") which the validator maps back to codes,
number checks, required columns set apart from optional ones. Extra sheets, all known to the
validator and never read as data: "Instructions" (first: what the workbook is for, how to fill it
in, one sentence per sheet, a worked example, a short glossary, the deadline and the contact from
`inputs/reporting_cycle.toml`), the hidden "Lists" (the drop-down lists), and, with `--db`, a
read-only "Last year" sheet with the entity's previous year as loaded.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import TEMPLATE_VERSION, catalogue, codelists, paths, safe
from pipeline import xlsx as st
from pipeline.cells import column_letter
from pipeline.cycle import Cycle, cycle_file
from pipeline.cycle import reporting_cycle as read_cycle
from pipeline.errors import GtbError
from schemas import contract, i18n
from schemas.contract import ColumnSpec, SheetSpec, resolve_bound

SUPPORTED_LANGS = i18n.LANGS
LISTS_SHEET = "Lists"  # hidden, in every language: formulas refer to it
# drop-downs and number checks cover rows 2..LAST_DATA_ROW: every row of a sheet (Excel's last),
# since a per-ticket travel export or a multi-site meter sheet runs to tens of thousands of rows;
# a validation is one range in the file, whatever its length
LAST_DATA_ROW = 1_048_576
INLINE_LIST_LIMIT = 255  # Excel's limit on an inline list ("a,b,c") of a data validation
MAX_MESSAGE = 225  # Excel's limit on a data validation's error message
REFERENCE_LISTS = ("countries", "entities", "airports")  # too long to print in the instructions


def reporting_cycle(inputs: Path | None = None) -> Cycle | None:
    """The reporting cycle of `inputs` (see `pipeline.cycle`): the deadline and contact printed on
    the Instructions sheet. None when there is no cycle file at all (the sheet then says so); a
    cycle file that is wrong is an error naming the file and key."""
    inputs = Path(inputs) if inputs is not None else paths.DEFAULT_INPUTS
    if not cycle_file(inputs).is_file():
        return None
    return read_cycle(inputs)


# ---------------------------------------------------------------------------------------------
# Bounds, rules and drop-down lists, derived from the contract
# ---------------------------------------------------------------------------------------------


def year_range() -> tuple[int, int]:
    """Allowed reporting years, from the contract's Entity.reporting_year bounds."""
    col = contract.sheet("Entity").column("reporting_year")
    assert col.ge and col.le, "Entity.reporting_year needs ge and le bounds in columns.csv"
    low, high = resolve_bound(col.ge, 0), resolve_bound(col.le, 0)
    assert not isinstance(low, dt.date) and not isinstance(high, dt.date), "Entity.reporting_year bounds are years"
    return int(low), int(high)


def allowed_codes(sheet: SheetSpec, col: ColumnSpec) -> tuple[str, ...]:
    """The drop-down codes of an enumeration column (unit columns: the union of allowed units)."""
    assert col.codelist, f"{sheet.name}.{col.name} has no code list"
    if col.codelist == "unit" and (pair := sheet.unit_pairs):
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


def shown_number(value: int | float | dt.date, lang: str) -> str:
    """A bound for people in `lang`: 1,000,000 (en), 1 000 000 (fr), 1.000.000 (es); years stay 2008."""
    if isinstance(value, dt.date) or (isinstance(value, int) and 1000 <= value <= 9999):
        return _fmt(value)
    return catalogue.number_text(value, lang)  # as the findings write it


def _bounds_text(col: ColumnSpec, year: int, lang: str) -> str:
    def b(text: str) -> str:
        return shown_number(resolve_bound(text, year), lang)

    if col.ge and col.le and not col.gt:
        return i18n.text("rule.between", lang, low=b(col.ge), high=b(col.le))
    parts = []
    if col.gt:
        parts.append(i18n.text("rule.gt", lang, bound=b(col.gt)))
    elif col.ge:
        parts.append(i18n.text("rule.ge", lang, bound=b(col.ge)))
    if col.le:
        parts.append(i18n.text("rule.le", lang, bound=b(col.le)))
    return ", ".join(parts)


def rule_text(sheet: SheetSpec, col: ColumnSpec, year: int, lang: str = "en") -> str:
    """What a column accepts, in plain words of `lang`: 'a number, at least 0', 'a value of the list'."""
    if col.dtype in ("number", "integer"):
        kind = i18n.text("rule.whole" if col.dtype == "integer" else "rule.number", lang)
        bounds = _bounds_text(col, year, lang)
        return f"{kind}, {bounds}" if bounds else kind
    if col.dtype == "date":
        text = i18n.text("rule.date", lang)
        if col.ge:
            text += ", " + i18n.text("rule.date-from", lang, date=_fmt(resolve_bound(col.ge, year)))
        if col.le:
            text += ", " + i18n.text("rule.date-until", lang, date=_fmt(resolve_bound(col.le, year)))
        return text
    special = {"iso3": "rule.country", "entity": "rule.entity", "iata": "rule.airport", "email": "rule.email"}
    if col.dtype in special:
        return i18n.text(special[col.dtype], lang)
    if col.codelist == "unit" and (pair := sheet.unit_pairs):
        return i18n.text("rule.unit", lang, what=i18n.header(sheet.name, pair[0], lang).lower())
    if col.codelist:
        return i18n.text("rule.list", lang)
    return i18n.text("rule.text", lang)


def help_text(sheet: SheetSpec, col: ColumnSpec, year: int, lang: str = "en") -> str:
    """Header comment / Help cell: header, required or optional, what it means, the rule."""
    need = i18n.text("template.required" if col.required else "template.optional", lang)
    return "\n".join(
        (
            f"{i18n.header(sheet.name, col.name, lang)} ({need})",
            i18n.column_help(sheet.name, col.name, lang),
            i18n.text("template.rule", lang, rule=rule_text(sheet, col, year, lang)),
        )
    )


# ---------------------------------------------------------------------------------------------
# Data validations
# ---------------------------------------------------------------------------------------------


class _Lists:
    """The hidden Lists sheet: one column per long drop-down list, items from row 2."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.ranges: dict[tuple[str, ...], str] = {}

    def formula(self, name: str, items: tuple[str, ...]) -> str:
        """A drop-down source: inline '"a,b"' when short and free of commas and quotes, else a
        range on the Lists sheet."""
        joined = ",".join(items)
        if len(joined) + 2 <= INLINE_LIST_LIMIT and not any("," in i or '"' in i for i in items):
            return f'"{joined}"'
        if items not in self.ranges:
            col = len(self.ranges) + 1
            letter = column_letter(col)
            header = self.ws.cell(row=1, column=col, value=name)
            header.font = st.BOLD
            for row, item in enumerate(items, start=2):
                st.write_text(self.ws.cell(row=row, column=col), item)
            self.ws.column_dimensions[letter].width = max(12, len(name) + 2)
            last = len(items) + 1
            self.ranges[items] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${last}"
        return self.ranges[items]


def dropdown_items(sheet: SheetSpec, col: ColumnSpec, lang: str) -> tuple[str, ...]:
    """What a drop-down offers: the codes' labels in `lang` ('Kenya (KEN)' for countries), the
    countries in the order of their names in `lang` (Suisse under S, not under C for CHE)."""
    assert col.codelist
    items = tuple(i18n.code_label(col.codelist, code, lang) for code in allowed_codes(sheet, col))
    return tuple(sorted(items, key=i18n.fold)) if col.codelist == "countries" else items


def _list_validation(source: str, lang: str) -> DataValidation:
    """A drop-down list; warning style, as for numbers: a value typed that is not in the list
    (the contract's code 'KEN' or 'kwh', the word in another language 'gaz naturel', which the
    pipeline reads) is asked about, not refused."""
    return DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=i18n.text("dv.list.title", lang)[:32],
        error=i18n.text("dv.list.error", lang)[:MAX_MESSAGE],
    )


def _number_validation(col: ColumnSpec, year: int, lang: str) -> DataValidation | None:
    """A whole/decimal/date check from the column's bounds; warning style, because the pipeline
    also accepts numbers typed as text ('1 200') and dates as text."""
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
    if col.gt and col.le:  # '> a and <= b' has no Excel operator: 'between' the next value above a
        op, f1, f2 = "between", _above(resolve_bound(col.gt, year), kind), formula(col.le)
    elif lo and col.le:
        op, f1, f2 = "between", formula(lo), formula(col.le)
    elif col.gt:
        op, f1, f2 = "greaterThan", formula(col.gt), None
    elif col.ge:
        op, f1, f2 = "greaterThanOrEqual", formula(col.ge), None
    elif col.le:
        op, f1, f2 = "lessThanOrEqual", formula(col.le), None
    else:  # a number without bounds: any number
        op, f1, f2 = "between", "-1E+307", "1E+307"
    rule = rule_text(contract.sheet(col.sheet), col, year, lang)
    message = i18n.text("dv.date.error" if kind == "date" else "dv.number.error", lang, rule=rule)
    return DataValidation(
        type=kind,
        operator=op,
        formula1=f1,
        formula2=f2,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=i18n.text("dv.number.title", lang)[:32],
        error=message[:MAX_MESSAGE],
    )


def _above(bound: int | float | dt.date, kind: str) -> str:
    """The least value Excel should take where the contract says '> bound': the next whole number
    for a whole-number column (personnel > 0: 1), else the bound plus a step far below any figure
    people type (distance > 0: 1E-9), so that Excel warns at 0 as the pipeline refuses it."""
    assert not isinstance(bound, dt.date)
    if kind == "whole":
        return _fmt(math.floor(bound) + 1)
    return _fmt(bound + max(1e-9, abs(bound) * 1e-9)).upper()  # 1E-09, as Excel writes it


def _airport_validation(lang: str) -> DataValidation:
    return DataValidation(
        type="textLength",
        operator="equal",
        formula1="3",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=i18n.text("dv.code.title", lang)[:32],
        error=i18n.text("dv.airport.error", lang)[:MAX_MESSAGE],
    )


def _validations(sheet: SheetSpec, col: ColumnSpec, year: int, lists: _Lists, lang: str) -> list[DataValidation]:
    out: list[DataValidation] = []
    if has_dropdown(col):
        items = dropdown_items(sheet, col, lang)
        out.append(_list_validation(lists.formula(f"{col.codelist}", items), lang))
    elif col.dtype == "iata":
        out.append(_airport_validation(lang))
    number = _number_validation(col, year, lang)
    if number is not None:
        out.append(number)
    return out


# ---------------------------------------------------------------------------------------------
# Sheets
# ---------------------------------------------------------------------------------------------


def _column_width(sheet: SheetSpec, col: ColumnSpec, lang: str) -> float:
    words = i18n.header(sheet.name, col.name, lang).split()
    base = max(len(w) for w in words) + 6 if words else 12
    if col.dtype in ("text", "email"):
        return max(base, 28)
    if col.dtype == "date":
        return max(base, 16)
    if has_dropdown(col) and col.codelist not in ("entities",):
        longest = max(len(i) for i in dropdown_items(sheet, col, lang))
        return min(34, max(base, longest + 4))
    return max(base, 14)


def _comment(text: str) -> Comment:
    comment = st.comment(text)
    lines = sum(max(1, -(-len(line) // 48)) for line in text.splitlines())
    comment.width, comment.height = 320, max(80, 17 * lines + 10)
    return comment


def _table_sheet(ws: Worksheet, sheet: SheetSpec, year: int, lists: _Lists, lang: str) -> None:
    for idx, col in enumerate(sheet.columns, start=1):
        cell = st.write_text(ws.cell(row=1, column=idx), i18n.header(sheet.name, col.name, lang))
        cell.comment = _comment(help_text(sheet, col, year, lang))
        letter = column_letter(idx)
        for dv in _validations(sheet, col, year, lists, lang):
            dv.add(f"{letter}2:{letter}{LAST_DATA_ROW}")
            ws.add_data_validation(dv)
    st.style_header_row(ws, 1, len(sheet.columns), [c.required for c in sheet.columns])
    st.set_widths(ws, [_column_width(sheet, c, lang) for c in sheet.columns])
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    st.fit_to_page_width(ws)


def _field_value_sheet(
    ws: Worksheet, sheet: SheetSpec, year: int, lists: _Lists, prefill: dict[str, object], lang: str
) -> None:
    for idx, key in enumerate(("template.field", "template.value", "template.help"), start=1):
        st.write_text(ws.cell(row=1, column=idx), i18n.text(key, lang))
    st.style_header_row(ws, 1, 3)
    for row, col in enumerate(sheet.columns, start=2):
        name = st.write_text(ws.cell(row=row, column=1), i18n.header(sheet.name, col.name, lang))
        name.font = st.REQUIRED_FONT if col.required else st.OPTIONAL_FONT
        name.fill = st.REQUIRED_HEADER_FILL if col.required else st.HEADER_FILL
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
        if col.unit == "percent":
            value.number_format = "0.0"
        helper = st.write_text(ws.cell(row=row, column=3), _field_help(sheet, col, year, lang))
        helper.font = st.HELP_FONT
        helper.alignment = st.WRAP_TOP
        for dv in _validations(sheet, col, year, lists, lang):
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
        ws.row_dimensions[row].height = 15 * max(2, -(-len(str(helper.value)) // 80))
    st.set_widths(ws, [32, 34, 90])
    ws.freeze_panes = "A2"
    st.fit_to_page_width(ws)


def _field_help(sheet: SheetSpec, col: ColumnSpec, year: int, lang: str) -> str:
    """Help cell of a Field/Value sheet: 'Required. <what it means> What is accepted: ...'."""
    need = i18n.text("template.required" if col.required else "template.optional", lang).capitalize()
    rule = i18n.text("template.rule", lang, rule=rule_text(sheet, col, year, lang))
    return f"{need}. {i18n.column_help(sheet.name, col.name, lang)} {rule}."


def _lines(text: str, width: float) -> int:
    """Estimated wrapped line count of `text` in a cell `width` characters wide."""
    per_line = max(1, int(width * 1.15))  # proportional text is narrower than Excel's width unit
    return sum(max(1, -(-len(line) // per_line)) for line in text.splitlines() or [""])


_INSTRUCTION_WIDTHS = (24, 28, 40, 40)


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


def _row(ws: Worksheet, row: int, values: list[object], *, header: bool = False, merge_last: bool = False) -> int:
    for idx, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=idx)
        st.write_text(cell, value)
        cell.alignment = st.WRAP_TOP
        cell.border = st.BORDER
        if header:
            cell.font = st.BOLD
            cell.fill = st.HEADER_FILL
    widths = list(_INSTRUCTION_WIDTHS[: len(values)])
    if merge_last and len(values) < len(_INSTRUCTION_WIDTHS):
        ws.merge_cells(start_row=row, start_column=len(values), end_row=row, end_column=len(_INSTRUCTION_WIDTHS))
        widths[-1] = sum(_INSTRUCTION_WIDTHS[len(values) - 1 :])
    lines = max(_lines(str(v), w) for v, w in zip(values, widths, strict=True))
    ws.row_dimensions[row].height = 15 * lines + 2
    return row + 1


@dataclass(frozen=True)
class _Identity:
    entity: str
    year: int
    file_name: str
    lang: str
    cycle: Cycle | None

    @property
    def contact(self) -> str:
        return self.cycle.contact_in(self.lang) if self.cycle else i18n.text("template.generic-contact", self.lang)

    @property
    def email(self) -> str:
        return self.cycle.contact_email if self.cycle else ""


def _instructions(ws: Worksheet, who: _Identity, has_last_year: bool) -> None:
    """The Instructions sheet, for a non-specialist: what the workbook is for, who and when, how
    to fill it in, what each sheet is for, a worked example, a glossary and how to send it."""
    lang = who.lang
    st.set_widths(ws, _INSTRUCTION_WIDTHS)
    ws.sheet_properties.tabColor = st.UN_BLUE
    ws.sheet_view.showGridLines = False
    st.fit_to_page_width(ws, landscape=False)
    names = {s: i18n.sheet_name(s, lang) for s in ("Entity", "EMS", "Facilities", "LastYear")}

    r = _para(ws, 1, i18n.text("template.title", lang, year=who.year), font=st.TITLE_FONT)
    r = _identity_block(ws, r + 1, who)
    r = _para(ws, r + 1, i18n.text("template.intro", lang))
    r = _legend(ws, r + 1, lang, names)

    r = _para(ws, r + 1, i18n.text("template.steps.title", lang), font=st.HEADING_FONT)
    for number, step in enumerate(i18n.text("template.steps", lang, entity=names["Entity"]).splitlines(), start=1):
        r = _para(ws, r, f"{number}. {step}")

    r = _para(ws, r + 1, i18n.text("template.sheets.title", lang), font=st.HEADING_FONT)
    r = _row(
        ws, r, [i18n.text("template.sheet", lang), i18n.text("template.purpose", lang)], header=True, merge_last=True
    )
    for sheet in contract.sheets():
        r = _row(ws, r, [i18n.sheet_name(sheet.name, lang), i18n.sheet_purpose(sheet.name, lang)], merge_last=True)

    r = _example(ws, r + 1, lang, names)

    r = _para(ws, r + 1, i18n.text("template.glossary.title", lang), font=st.HEADING_FONT)
    for line in i18n.text("template.glossary", lang).splitlines():
        term, _, meaning = line.partition(":")
        r = _row(ws, r, [term.strip(), meaning.strip()], merge_last=True)
        ws.cell(row=r - 1, column=1).font = st.BOLD

    r = _para(ws, r + 1, i18n.text("template.done.title", lang), font=st.HEADING_FONT)
    _para(
        ws,
        r,
        i18n.text(
            "template.done",
            lang,
            file=who.file_name,
            contact=who.contact,
            email=who.email or "-",
            deadline=_deadline(who, lang),
            last_year=names["LastYear"],
        ),
    )


def _deadline(who: _Identity, lang: str) -> str:
    """The cycle's deadline, for a workbook of the year the cycle collects; for another year (a
    late workbook of the year before, a correction of an old one) the cycle's date is not its
    deadline, and the sheet points to the team's letter, as without a cycle."""
    cycle = who.cycle
    if cycle is None or cycle.open_year != who.year:
        return i18n.text("template.no-deadline", lang)
    return cycle.deadline.isoformat()


def _identity_block(ws: Worksheet, r: int, who: _Identity) -> int:
    lang = who.lang
    entity_name = labels("entities").get(who.entity, "")
    contact = who.contact + (f" ({who.email})" if who.email else "")
    for key, value in (
        ("template.entity", f"{who.entity} ({entity_name})" if entity_name else who.entity),
        ("template.year", str(who.year)),
        ("template.version", TEMPLATE_VERSION),
        ("template.file", who.file_name),
        ("template.deadline", _deadline(who, lang)),
        ("template.contact", contact),
    ):
        st.write_text(ws.cell(row=r, column=1), i18n.text(key, lang)).font = st.BOLD
        st.write_text(ws.cell(row=r, column=2), value)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
        r += 1
    return r


def _legend(ws: Worksheet, r: int, lang: str, names: dict[str, str]) -> int:
    r = _para(ws, r, i18n.text("template.legend.title", lang), font=st.HEADING_FONT)
    samples = (
        ("template.required", st.REQUIRED_HEADER_FILL, st.REQUIRED_FONT, "template.legend.required"),
        ("template.optional", st.HEADER_FILL, st.OPTIONAL_FONT, "template.legend.optional"),
        ("", st.INPUT_FILL, None, "template.legend.input"),
    )
    for word, fill, font, meaning in samples:
        sample = ws.cell(row=r, column=1)
        if word:
            st.write_text(sample, i18n.text(word, lang))
        sample.fill = fill
        sample.border = st.BORDER
        if font is not None:
            sample.font = font
        text = i18n.text(meaning, lang, entity=names["Entity"], ems=names["EMS"])
        st.write_text(ws.cell(row=r, column=2), text).alignment = st.WRAP_TOP
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
        ws.row_dimensions[r].height = 18
        r += 1
    return r


def _example(ws: Worksheet, r: int, lang: str, names: dict[str, str]) -> int:
    """A worked example: an electricity bill as one Facilities row (on this sheet only)."""
    r = _para(ws, r, i18n.text("template.example.title", lang), font=st.HEADING_FONT)
    r = _para(ws, r, i18n.text("template.example", lang, facilities=names["Facilities"]))
    sheet = contract.sheet("Facilities")
    shown = ("site", "country", "energy_type", "quantity", "unit", "renewable_kwh")
    values: dict[str, object] = {
        "site": i18n.text("template.example.site", lang),
        "country": i18n.code_label("countries", "KEN", lang),
        "energy_type": i18n.code_label("energy_type", "electricity", lang),
        "quantity": 240000,
        "unit": i18n.code_label("unit", "kwh", lang),
        "renewable_kwh": 60000,
    }
    for offset in (0, 2):  # two rows of three columns: the example fits the page width
        cols = shown[offset * 3 // 2 : offset * 3 // 2 + 3]
        r = _row(ws, r, [i18n.header(sheet.name, c, lang) for c in cols], header=True)
        r = _row(ws, r, [values[c] for c in cols])
    return _para(ws, r, i18n.text("template.example.after", lang), font=st.HELP_FONT)


# ---------------------------------------------------------------------------------------------
# Last year, as loaded
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LastYear:
    year: int
    personnel: int | None
    total_tco2e: float | None
    totals: list[tuple[str, str, float | None, str, float | None]]  # (sheet, what, quantity, unit, tCO2e)
    sites: list[tuple[str, str]]  # (site, country)
    # the entity's published totals (no workbook loaded for that year): by group, without sites
    published: bool = False


# The code lists of a source's parts on the Last year sheet: (sheet, what) of `LastYear.totals`,
# where a waste source is its stream and its treatment ('paper_cardboard / recycling').
_SOURCE_CODELISTS = {
    "Facilities": ("energy_type",),
    "Refrigerants": ("refrigerant_gas",),
    "Vehicles": ("vehicle_fuel",),
    "AirTravel": ("cabin_class",),
    "OtherTravel": ("travel_mode",),
    "Waste": ("waste_stream", "waste_treatment"),
    "Water": ("water_source",),
}
SOURCE_PARTS = " / "  # between a source's parts, in `LastYear.totals` and on the sheet
_UNIT_ALIGNMENT = Alignment(indent=1)  # the unit apart from the quantity before it
WIDTH_LIMIT = 60  # characters: the site and source columns grow to their longest text up to this


def _source_label(sheet: str, what: str, lang: str) -> str:
    """A source of last year's totals in the workbook's language: each part's label in its code
    list ('' is every source of the sheet: a published total)."""
    if not what:
        return i18n.text("lastyear.all-sources", lang)
    lists = _SOURCE_CODELISTS.get(sheet, ())
    parts = what.split(SOURCE_PARTS) if len(lists) > 1 else [what]
    if len(parts) != len(lists):
        return what
    return SOURCE_PARTS.join(i18n.code_label(codelist, part, lang) for codelist, part in zip(lists, parts, strict=True))


def _unit_label(unit: str, lang: str) -> str:
    """A unit of last year's totals as the reports write it in `lang` (`unit.*`: kWh, t, m³,
    passagers-km, vuelos), else as stored."""
    return i18n.text_or("unit." + unit.replace("-", "_"), lang, unit)


def _last_year_sheet(ws: Worksheet, entity: str, data: LastYear, lang: str) -> None:
    """The read-only sheet of last year's figures (protected; the validator ignores it)."""
    labels = [safe.sheet_safe(_source_label(sheet, what, lang)) for sheet, what, *_ in data.totals]
    site_width = max([20, *(len(site) + 2 for site, _ in data.sites)])
    what_width = max([34, *(len(label) + 2 for label in labels)])
    st.set_widths(ws, [min(site_width, WIDTH_LIMIT), min(what_width, WIDTH_LIMIT), 18, 16, 18])
    st.fit_to_page_width(ws, landscape=False)
    ws.sheet_properties.tabColor = "808080"
    kind = "-published" if data.published else ""
    st.write_text(
        ws.cell(row=1, column=1), i18n.text(f"lastyear.title{kind}", lang, entity=entity, year=data.year)
    ).font = st.TITLE_FONT
    intro = st.write_text(ws.cell(row=2, column=1), i18n.text(f"lastyear.intro{kind}", lang, year=data.year))
    intro.alignment = st.WRAP_TOP
    ws.merge_cells("A2:E2")
    ws.row_dimensions[2].height = 45
    r = 4
    for key, value in (("lastyear.personnel", data.personnel), ("lastyear.total", data.total_tco2e)):
        st.write_text(ws.cell(row=r, column=1), i18n.text(key, lang)).font = st.BOLD
        cell = ws.cell(row=r, column=2, value=value)
        cell.number_format = "#,##0"
        r += 1
    r += 1
    st.write_text(ws.cell(row=r, column=1), i18n.text("lastyear.totals", lang)).font = st.HEADING_FONT
    r += 1
    heads = ["template.sheet", "lastyear.what", "lastyear.quantity", "lastyear.unit", "lastyear.emissions"]
    for idx, key in enumerate(heads, start=1):
        st.write_text(ws.cell(row=r, column=idx), i18n.text(key, lang))
    st.style_header_row(ws, r, len(heads))
    for (sheet, _, quantity, unit, tco2e), label in zip(data.totals, labels, strict=True):
        r += 1
        row_values: tuple[object, ...] = (
            i18n.sheet_name(sheet, lang),
            label,
            quantity,
            _unit_label(unit, lang),
            tco2e,
        )
        for idx, item in enumerate(row_values, start=1):
            if item is None or item == "":  # a published total has no quantity (or no emissions)
                continue
            cell = ws.cell(row=r, column=idx)
            if isinstance(item, str):
                st.write_text(cell, item)
                if idx == 4:
                    cell.alignment = _UNIT_ALIGNMENT
            else:
                cell.value = item
                cell.number_format = "#,##0.0"
    r += 2
    if not data.published:  # published totals name no site
        st.write_text(ws.cell(row=r, column=1), i18n.text("lastyear.sites", lang)).font = st.HEADING_FONT
        for site, country in data.sites:
            r += 1
            st.write_text(ws.cell(row=r, column=1), safe.sheet_safe(site))  # as the focal point typed it, shown
            st.write_text(ws.cell(row=r, column=2), i18n.code_label("countries", country, lang))
    ws.protection.sheet = True  # read-only for people; the validator never reads it


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


def template(
    entity: str,
    year: int,
    output: Path | None = None,
    lang: str = "en",
    previous: LastYear | None = None,
    cycle: Cycle | None = None,
    file_name: str | None = None,
) -> Path:
    """Write the submission workbook for `entity` and `year` in `lang`; with `previous` (see
    `pipeline.review.last_year`), a read-only sheet of the entity's previous year as loaded.
    `file_name` is the name the Instructions sheet says to save it under (the output's name
    unless given: a caller writing to a temporary file gives the name it hands it out under)."""
    code = check_arguments(entity, year, lang)
    output = Path(output) if output is not None else Path(default_file_name(code, year))
    cycle = cycle or reporting_cycle()

    wb = Workbook()
    instructions = wb.active
    instructions.title = i18n.sheet_name("Instructions", lang)
    lists_ws = wb.create_sheet(LISTS_SHEET)  # moved last once the contract sheets exist
    lists = _Lists(lists_ws)
    prefill: dict[str, dict[str, object]] = {
        "Entity": {"entity_code": code, "reporting_year": year, "template_version": TEMPLATE_VERSION}
    }
    for sheet in contract.sheets():
        ws = wb.create_sheet(i18n.sheet_name(sheet.name, lang))
        if sheet.is_table:
            _table_sheet(ws, sheet, year, lists, lang)
        else:
            _field_value_sheet(ws, sheet, year, lists, prefill.get(sheet.name, {}), lang)
    if previous is not None:
        _last_year_sheet(wb.create_sheet(i18n.sheet_name("LastYear", lang)), code, previous, lang)
    wb.move_sheet(lists_ws, offset=len(wb.sheetnames) - 1 - wb.index(lists_ws))
    lists_ws.sheet_state = "hidden"
    _instructions(instructions, _Identity(code, year, file_name or output.name, lang, cycle), previous is not None)
    wb.active = 0

    props = wb.properties
    props.title = f"Greening the Blue submission: {code} {year}"
    props.subject = f"Environmental inventory, reporting year {year}"
    props.creator = st.AUTHOR
    props.lastModifiedBy = st.AUTHOR
    props.keywords = f"Greening the Blue; template {TEMPLATE_VERSION}; {code}; {year}; {lang}"
    props.description = f"Submission template version {TEMPLATE_VERSION} ({i18n.LANG_NAMES[lang]})"
    props.language = lang

    buffer = io.BytesIO()
    wb.save(buffer)  # in memory first: a full disk never leaves half a workbook at `output`
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        return paths.write_whole(output, buffer.getvalue())
    except OSError as exc:
        raise GtbError(f"cannot write the template to {output}: {exc.strerror or exc}") from None
