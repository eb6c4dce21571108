"""Normalise: a read workbook -> one frame per contract sheet, headers mapped to contract names.

Structure is checked here (sheets present, headers and fields known); cell values are left as
typed for the validator, so every finding can quote what the focal point wrote. The frames keep
the Excel row number as index and remember the column letter and header as written, so a finding
on any value can name its cell.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, SupportsInt

import numpy as np

from pipeline import catalogue, codelists
from pipeline.catalogue import Message, using_language
from pipeline.cells import MergedRanges, cell_name, column_letter, parse_cell, parse_range
from pipeline.errors import UnreadableFile
from pipeline.intake import reading
from pipeline.intake.findings import Finding, finding
from pipeline.intake.guard import DEFAULT_LIMITS, Limits, table_column
from pipeline.intake.read import read_workbook
from pipeline.intake.shifts import find_shifts
from pipeline.intake.shifts import grid as shifts_grid
from pipeline.intake.workbook import RawSheet, RawWorkbook
from pipeline.workers import send_part
from schemas import contract, i18n

# Sheets the template adds for people (in any language); not part of the contract, never reported.
TEMPLATE_SHEETS = ("Instructions", "Lists", "LastYear")
# Workbooks with more rows are normalised by the caller, not in the reading worker: a million rows
# take seconds and hundreds of MB to normalise, and the worker's timeout and memory cap are sized
# for reading; there is only one such file to overlap with anyway.
WORKER_MAX_ROWS = 200_000
MERGED_INDEX_ENTRIES = 200_000  # (column, merged range) pairs a sheet's lookup holds at most


@dataclass
class ParsedSheet:
    """One contract sheet as found in a workbook."""

    name: str
    is_table: bool
    headers: dict[str, str]  # contract column -> header or field name as written
    letters: dict[str, str] = field(default_factory=dict)  # tables: contract column -> column letter
    cells: dict[str, str] = field(default_factory=dict)  # Field/Value: field -> value cell, e.g. "B4"
    names_at: int = 0  # Field/Value: the 0-based column of the field names (A), their values in the next
    missing: frozenset[str] = frozenset()  # required columns or fields absent from the file
    reported_cells: frozenset[str] = frozenset()  # formulas without a saved value, Excel errors: reported as such
    typed_as: dict[tuple[str, object], object] = field(default_factory=dict)  # (column, index) -> as typed
    tab: str = ""  # the sheet's tab as written in the workbook (its name in the workbook's language)
    values: dict[str, list[object]] = field(default_factory=dict)  # contract column -> raw cell values as read
    index: list[int] = field(default_factory=list)  # Excel row of each value (tables) or [0] (Field/Value)
    merged: tuple[str, ...] = ()  # the sheet's merged ranges, "A5:A7"
    # Excel rows refused or left out whole (a total, the headers repeated, a note): nothing else is said of them
    total_rows: frozenset[int] = frozenset()

    def merged_range(self, cell: str) -> tuple[str, str] | None:
        """(the merged range, its top-left cell) when `cell` lies in a merged range other than at its
        top-left: calamine, like Excel's own formulas, gives such a cell no value."""
        position = parse_cell(cell) if self.merged and cell else None
        if position is None:
            return None
        box = self._merged_lookup.holding(*position)
        if box is None or position == box[:2]:
            return None
        first = cell_name(box[0], box[1])
        return f"{first}:{cell_name(box[2], box[3])}", first

    @functools.cached_property
    def _merged_lookup(self) -> MergedRanges:
        """The merged ranges, but those over a table's header: the value such a range keeps is a
        header, not the row's."""
        boxes = [box for box in map(parse_range, self.merged) if box and not (self.is_table and box[0] == 1)]
        return MergedRanges(boxes, max_pairs=MERGED_INDEX_ENTRIES)

    def shown(self, column: str, index: object, value: object) -> object:
        """What the focal point typed in a cell whose value `reading` read ('Gaz naturel', '1.234'; a
        number in a percent-formatted cell with the percentage read: `reading.PercentCell`)."""
        return self.typed_as.get((column, index), value)

    def locate(self, column: str, row: SupportsInt | None) -> tuple[str, int | None, str]:
        """(cell, Excel row, header as written) of a value of this sheet."""
        header = self.headers.get(column, column)
        if not self.is_table:
            cell = self.cells.get(column, "")
            return cell, (int(cell[1:]) if cell else None), header
        letter = self.letters.get(column)
        excel_row = int(row) if row is not None else None
        return (f"{letter}{excel_row}" if letter and excel_row else ""), excel_row, header


@dataclass
class ParsedWorkbook:
    path: str
    file_name: str
    sha256: str
    size_bytes: int
    sheets: dict[str, ParsedSheet]  # contract sheet name -> parsed sheet (absent if missing)
    findings: list[Finding]
    lang: str = i18n.DEFAULT_LANG  # the workbook's language: its findings are written in it
    date1904: bool = False  # its dates count from 1904-01-01 (`GuardReport.date1904`)


def _key(header: object) -> str:
    """Names match in their folded form: case, accents, spaces, hyphens, underscores ignored."""
    return i18n.fold(header)


def _suggest(wanted: str, found: list[str], shown: str | None = None) -> Message | str:
    close = difflib.get_close_matches(wanted.lower(), [f.lower() for f in found], n=1, cutoff=0.75)
    if not close:
        return ""
    original = next(f for f in found if f.lower() == close[0])
    return Message("hint.rename-sheet", {"found": original, "wanted": shown or wanted})


def _sheet_map(
    names: list[str], empty: frozenset[str] = frozenset()
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Contract sheet -> the tab that holds it (its name in any language, or the contract name),
    the tabs that are neither a contract sheet nor a template sheet, and the tabs that hold a
    contract sheet another tab holds already (tab -> that sheet): those after it, and an empty
    tab of `empty` (a chart sheet, a blank sheet) before a tab with cells, which holds the sheet
    instead, so that the empty one is not read as a sheet with every column missing."""
    lookup = i18n.sheet_lookup()
    found: dict[str, str] = {}
    extra: list[str] = []
    again: dict[str, str] = {}
    for name in names:
        sheet = lookup.get(i18n.tab_key(name))
        if sheet in TEMPLATE_SHEETS:
            continue
        if sheet is None:
            extra.append(name)
        elif sheet not in found:
            found[sheet] = name
        elif found[sheet] in empty and name not in empty:
            again[found[sheet]] = sheet
            found[sheet] = name
        else:
            again[name] = sheet
    return found, extra, again


# A tab copied to go on with a sheet: Excel names the copy 'Facilities (2)', LibreOffice
# 'Facilities_2', Google Sheets 'Copy of Facilities' ('Copie de', 'Copia de' in French and
# Spanish). A counter up to 99: 'Facilities 2024' or 'Facilities_2024' is no copy's name. Apple
# Numbers exports a sheet holding more than one table as one tab per table, 'Facilities - Table 1'
# ('Tableau 1', 'Tabla 1'): the sheet's name is there too.
_COPY_PREFIX = re.compile(r"^\s*(?:copy\s+of|copie\s+de|copia\s+de)\s+", re.IGNORECASE)
_COPY_SUFFIX = re.compile(
    r"(?:\s*\(\s*[1-9][0-9]?\s*\)|_[1-9][0-9]?|\s+-\s+(?:table|tableau|tabla)\s+[1-9][0-9]?)\s*$", re.IGNORECASE
)


# No spreadsheet program names a copied tab longer than this (Excel: 31 characters; Google Sheets
# 100); a longer name is not looked at, so that a hostile one of megabytes costs nothing here.
COPY_NAME_LIMIT = 100


def _copy_of(name: str) -> str | None:
    """The contract sheet a tab is a copy of by its name ('Facilities (2)', 'Copy of
    Installations', 'Copia de Facilities_2': the copy patterns removed, a contract sheet's tab
    in any language), or None."""
    if len(name) > COPY_NAME_LIMIT:
        return None
    base, before = name, ""
    while base != before:  # a copy of a copy: 'Copy of Facilities (2)'
        before = base
        base = _COPY_SUFFIX.sub("", _COPY_PREFIX.sub("", base))
    sheet = i18n.sheet_lookup().get(i18n.tab_key(base)) if base != name else None
    return sheet if sheet is not None and sheet not in TEMPLATE_SHEETS else None


def _tab_findings(
    raw: RawWorkbook, lang: str, tabs: dict[str, str], extra: list[str], again: dict[str, str]
) -> list[Finding]:
    """The findings on the workbook's tabs (`_sheet_map`): sheets missing, tabs not part of the
    template, two tabs that are one sheet, and copies of a sheet (`_copy_of`).

    A copy holding rows of a sheet that is there ('Facilities (2)' beside 'Facilities') is an
    error: its rows are not read, and only a warning lost them (a list of sites continued on a
    copied tab). A copy without rows is an unknown tab as before: nothing is lost. A missing
    sheet's first copy stands in for its tab: the missing sheet says to rename it."""
    expected = contract.sheet_names()
    copies = {name: sheet for name in extra if (sheet := _copy_of(name)) is not None}
    holder = dict(tabs)  # contract sheet -> its tab, or the copy standing in for a missing one
    for name, sheet in copies.items():
        holder.setdefault(sheet, name)
    missing = [name for name in expected if name not in tabs]
    findings: list[Finding] = []
    for name in missing:
        shown = i18n.sheet_name(name, lang)
        stand_in = holder.get(name)
        hint = Message("hint.rename-sheet", {"found": stand_in, "wanted": shown}) if stand_in else None
        findings.append(
            finding(
                "missing-sheet.missing",
                sheet=shown,
                missing=", ".join(i18n.sheet_name(m, lang) for m in missing),
                hint=hint or _suggest(shown, extra) or _suggest(name, extra, shown),
                file=raw.file_name,
            )
        )
    unexplained = [m for m in missing if m not in holder]
    for name in extra:
        sheet = copies.get(name)
        if sheet is not None and raw.sheets[name].rows and holder[sheet] != name:
            shown = i18n.sheet_name(sheet, lang)
            findings.append(
                finding("duplicate-sheet.copy", sheet=name, other=holder[sheet], name=shown, file=raw.file_name)
            )
        elif holder.get(sheet or "") == name:
            continue  # a missing sheet's stand-in: said by the missing sheet
        elif not any(_suggest(m, [name]) or _suggest(i18n.sheet_name(m, lang), [name]) for m in unexplained):
            findings.append(finding("unknown-sheet.ignored", sheet=name, file=raw.file_name))
    for name, sheet in again.items():  # which of the two holds the figures is the focal point's to say
        shown = i18n.sheet_name(sheet, lang)
        findings.append(finding("duplicate-sheet.twice", sheet=name, other=tabs[sheet], name=shown, file=raw.file_name))
    return findings


def normalise(
    raw: RawWorkbook, lang: str | None = None, part: Callable[[ParsedWorkbook], object] | None = None
) -> ParsedWorkbook:
    """Map a read workbook onto the contract, in its language (`lang`, else the one its sheet
    names are in, else English); its findings are written in that language. `part(workbook)`
    is given the workbook without its largest sheet first, before that sheet is normalised."""
    lang = lang or i18n.detect_language(list(raw.sheets)) or i18n.DEFAULT_LANG
    with using_language(lang):
        parsed = _normalise(raw, lang, part)
    parsed.lang = lang
    return parsed


def prepare() -> None:
    """Build what normalising looks up (sheet, header and label lookups, code lists, airports):
    the readers' fork server calls it once (`pipeline.intake.prepared`), so that every worker
    forked from it starts with them instead of building them for its first workbook."""
    i18n.sheet_lookup()
    for spec in contract.sheets():
        i18n.header_lookup(spec.name)
        for col in spec.columns:
            if col.dtype in ("enum", "yesno") and col.codelist:
                i18n.code_lookup(col.codelist)
    codelists.codes("countries")
    codelists.codes("airports")


def read_normalised(
    path: Path | str,
    lang: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    overlap: bool = False,
    early: bool = False,
) -> ParsedWorkbook | RawWorkbook:
    """Guard, read and normalise one workbook: the work of a reading worker process, so that
    normalising runs on every core, overlapped with reading.

    A file that cannot be read raises its UnreadableFile; a fault of the pipeline while
    normalising a workbook that could be read is that workbook's own verdict too
    (`pipeline_fault`). A large workbook (beyond `WORKER_MAX_ROWS`), or one that cannot be
    normalised within the worker's memory cap, comes back as read, for the caller to normalise
    (`normalised`) outside the worker's memory cap and timeout, which stay the reader's.
    `overlap`: the guard and calamine run side by side (`read.read_workbook`). `early`: the
    workbook without its largest sheet is sent to the caller first (`workers.send_part`), so
    that it can validate those sheets while the largest is normalised."""
    raw = read_workbook(path, limits, overlap=overlap)
    if sum(len(sheet.rows) for sheet in raw.sheets.values()) > WORKER_MAX_ROWS:
        return raw
    try:
        return normalise(raw, lang, send_part if early else None)
    except MemoryError:
        return raw
    except Exception as exc:
        raise pipeline_fault(exc) from None


def normalised(raw: RawWorkbook, lang: str | None = None) -> ParsedWorkbook:
    """`normalise`, with a fault of the pipeline raised as the workbook's own verdict (`pipeline_fault`)."""
    try:
        return normalise(raw, lang)
    except Exception as exc:
        raise pipeline_fault(exc) from None


def pipeline_fault(exc: Exception) -> UnreadableFile:
    """The unreadable-file verdict of a workbook the pipeline failed on (not the workbook's fault)."""
    return UnreadableFile("unreadable-file.internal-error", {"detail": f"{type(exc).__name__}: {exc}"[:300]})


def _normalise(raw: RawWorkbook, lang: str, part: Callable[[ParsedWorkbook], object] | None = None) -> ParsedWorkbook:
    """`normalise`. `part(workbook)`: called with the workbook normalised but for its largest
    sheet, before that sheet is normalised (`read_normalised(early=True)`)."""
    empty = frozenset(name for name, s in raw.sheets.items() if s.is_empty)
    tabs, extra, again = _sheet_map(list(raw.sheets), empty)
    findings = _tab_findings(raw, lang, tabs, extra, again)

    present = [spec for spec in contract.sheets() if spec.name in tabs]
    last = max(present, key=lambda spec: len(raw.sheets[tabs[spec.name]].rows)) if part and present else None
    done: dict[str, tuple[ParsedSheet, list[Finding]]] = {}
    for spec in present:
        if spec is not last:
            done[spec.name] = _sheet(spec, tabs[spec.name], raw, lang)

    def workbook() -> ParsedWorkbook:
        sheets = {spec.name: done[spec.name][0] for spec in present if spec.name in done}
        found = findings + [f for spec in present if spec.name in done for f in done[spec.name][1]]
        return ParsedWorkbook(
            raw.path, raw.file_name, raw.sha256, raw.size_bytes, sheets, found, lang, date1904=raw.date1904
        )

    if last is not None and part is not None:
        part(workbook())
        done[last.name] = _sheet(last, tabs[last.name], raw, lang)
    return workbook()


HIDDEN_RUNS_SHOWN = 10  # runs of rows (hidden, of ticked boxes) a message lists; the count says how many rows in all


def _hidden_rows_finding(raw: RawSheet, parsed: ParsedSheet, tab: str, file_name: str) -> Finding | None:
    """One warning for the rows of a sheet that are hidden (by hand, a filter or a collapsed
    group) but hold what is read: they count like the others, though nobody sees them. Empty
    hidden rows say nothing."""
    if not raw.hidden_rows:
        return None
    # the Excel rows read, ascending: a table's data rows, a Field/Value sheet's fields
    read = parsed.index if parsed.is_table else sorted({int(cell[1:]) for cell in parsed.cells.values()})
    spans = [(bisect.bisect_left(read, first), bisect.bisect_right(read, last)) for first, last in raw.hidden_rows]
    count = sum(end - start for start, end in spans)
    if not count:
        return None
    text = _runs(read[position] for start, end in spans for position in range(start, end))
    first_row = next(read[start] for start, end in spans if end > start)
    message = "hidden-rows.one" if count == 1 else "hidden-rows.read"
    letter = "A" if parsed.is_table else column_letter(parsed.names_at + 1)  # a field's name
    return finding(
        message, rows=text, count=count, sheet=tab, cell=f"{letter}{first_row}", row=first_row, file=file_name
    )


def _field_value_letters(parsed: ParsedSheet) -> frozenset[str]:
    """The columns of a Field/Value sheet that are read: its field names and their values (A and
    B as the template puts them, or the two columns the names and values were found in)."""
    return frozenset(column_letter(parsed.names_at + k) for k in (1, 2))


def _sheet(spec: contract.SheetSpec, tab: str, raw: RawWorkbook, lang: str) -> tuple[ParsedSheet, list[Finding]]:
    """One contract sheet of a workbook (its tab `tab`), and its findings."""
    raw_sheet = raw.sheets[tab]
    findings: list[Finding] = []
    if raw_sheet.hidden:
        findings.append(finding("hidden-sheet.read", sheet=tab, file=raw.file_name))
    parse = _table if spec.is_table else _field_value
    parsed, sheet_findings = parse(spec, raw_sheet, raw.file_name, lang)
    findings.extend(sheet_findings)
    hidden = _hidden_rows_finding(raw_sheet, parsed, tab, raw.file_name)
    if hidden is not None:
        findings.append(hidden)
    # only where the sheet is read: an error or a formula in a column of the focal point's own
    # (a note, a lookup) is ignored with the column, as its values are
    read_letters = set(parsed.letters.values()) if spec.is_table else _field_value_letters(parsed)
    for cell, error in sorted(raw_sheet.error_cells.items()):
        if cell.rstrip("0123456789") not in read_letters or _row_of(cell) in parsed.total_rows:
            continue
        linked = cell in raw_sheet.linked_cells  # a linked data type Excel shows as a value, stored as #VALUE!
        findings.append(
            finding(
                "type-error.excel-linked-data" if linked else "type-error.excel-error",
                error=error,
                sheet=tab,
                cell=cell,
                row=_row_of(cell),
                column=_written_column(parsed, cell),
                value=error,
                file=raw.file_name,
            )
        )
    for cell in sorted(raw_sheet.formula_cells_without_value):
        if cell.rstrip("0123456789") not in read_letters or _row_of(cell) in parsed.total_rows:
            continue
        findings.append(
            finding(
                "formula-without-value.recalculate",
                sheet=tab,
                cell=cell,
                row=_row_of(cell),
                column=_written_column(parsed, cell),
                file=raw.file_name,
            )
        )
    return parsed, findings


def _row_of(cell: str) -> int:
    """The Excel row of a cell's name ('D14' -> 14)."""
    return int("".join(ch for ch in cell if ch.isdigit()))


def _written_column(parsed: ParsedSheet, cell: str) -> str:
    """The header over `cell` as the workbook writes it (tables), or the field name beside it
    (Field/Value sheets); "" for a cell under neither (a Field/Value sheet's field names)."""
    if parsed.is_table:
        letter = cell.rstrip("0123456789")
        column = next((c for c, at in parsed.letters.items() if at == letter), None)
    else:
        column = next((f for f, at in parsed.cells.items() if at == cell), None)
    return parsed.headers.get(column, "") if column is not None else ""


def _renamed(spec: contract.SheetSpec, unknown: list[tuple[int, str]], absent: list[str]) -> dict[int, str]:
    """Of the names that are no column or field (where each is: a header's position, a field's
    Excel row; the name as written), those that look like one of `absent`, with the column each
    stands for; each absent column taken once, by the first name that looks like it."""
    renamed: dict[int, str] = {}
    for at, name in unknown:
        column = _closest_column(spec, name, [m for m in absent if m not in renamed.values()])
        if column is not None:
            renamed[at] = column
    return renamed


# A header that begins with a column's name, in any language, and says more after it: 'Quantity
# consumed', 'Quantity in 2024', 'Quantité\n(kWh, L, m3)' (its note in brackets set aside first)
# stands for that column as much as a misspelling does; a name this short or shorter is not
# taken as a beginning ('gas', 'id').
NAME_BEGINS = 3
BEGINS_SCORE = 0.9
# A header that names a share ('Renewable %', 'renewable_share', 'Part renouvelable'): a column
# holding a share is another column than one holding an amount, however alike their names.
_SHARE_WORDS = re.compile(r"%|percent|pourcent|porcent|\bshare\b|\bpart\b|\bproporci|\bratio\b|_share\b")


# Units a header may name that no Unit column takes (lengths, areas): with those of the code lists
# and of `other_units.csv`, what a note in brackets at a header's end is known to be a unit by.
_HEADER_UNITS = frozenset(
    i18n.fold(u)
    for u in ("mi", "mile", "miles", "nmi", "nautical miles", "milles", "millas", "sq ft", "ft2", "ft²", "square feet")
)


_UNIT_LISTS = ("unit", "waste_unit", "water_unit")


def _unit_note(header: str) -> str:
    """The note in brackets at a header's end ('lbs' of 'Refilled (lbs)'), or ''."""
    return header[len(i18n.without_unit(header)) :].strip(" \t\n()[]")


def _other_unit(sheet: str, column: str, header: str) -> dict[str, str] | None:
    """When `header` names a unit in brackets that is not the unit of `column`'s header (in any
    language): that unit as written and the column's (`written`, `unit`); else None."""
    note = _unit_note(header)
    unit = _unit_note(i18n.header(sheet, column, "en"))
    if not note or len(note) > 24 or not unit:
        return None
    owns = [_unit_note(i18n.header(sheet, column, lang)) for lang in i18n.LANGS]
    own = {_unit_code(text) or i18n.fold(text) for text in owns}
    folded = i18n.fold(note)
    code = _unit_code(note)  # 'kilograms' is kg, as a Unit column reads it
    if (code or folded) in own:
        return None
    known = code is not None or folded in _HEADER_UNITS or folded in i18n.other_units()
    return {"written": note, "unit": unit} if known else None


def _unit_code(text: str) -> str | None:
    """The unit code a unit as written reads as in the code lists ('kilograms' -> 'kg'), or None
    for one no list holds ('km')."""
    folded = i18n.fold(text)
    return next((code for lst in _UNIT_LISTS if (code := i18n.code_lookup(lst).get(folded)) is not None), None)


def _names_a_share(header: str) -> bool:
    """Whether a header names a share: in its words ('Renewable %', 'renewable_share'), or as the
    unit in brackets at its end ('Renewable (%)'); a note that only mentions one ('Quantity (kWh;
    50% estimated)') does not make the column a share."""
    name = i18n.without_unit(header)
    note = header[len(name) :].strip(" \t\n()[]")
    if _SHARE_WORDS.search(name.casefold()):
        return True
    return len(note) <= 12 and bool(_SHARE_WORDS.search(note.casefold()))


def _closest_column(spec: contract.SheetSpec, header: str, candidates: list[str]) -> str | None:
    """The missing column a misspelt or renamed header most looks like (any language), or None:
    the closest by its letters, the header taken whole and without a note in brackets at its end,
    or one whose name the header begins with (`NAME_BEGINS`); a header naming a share stands only
    for a column of a share (`_SHARE_WORDS`)."""
    keys = {_key(header), _key(i18n.without_unit(header))} - {""}
    if not keys:
        return None
    share = _names_a_share(header)
    best, score = None, 0.0
    for column in candidates:
        if share and spec.column(column).unit != "percent":  # 'Renewable %' is no figure in kWh
            continue
        variants = [k for k, c in i18n.header_lookup(spec.name).items() if c == column]
        ratio = max(difflib.SequenceMatcher(None, key, v).ratio() for v in variants for key in keys)
        if any(key.startswith(v) for v in variants if len(v) > NAME_BEGINS for key in keys):
            ratio = max(ratio, BEGINS_SCORE)
        if ratio > score:
            best, score = column, ratio
    return best if score >= 0.75 else None


@dataclass
class _Headers:
    """Row 1 of a table sheet matched to the contract's columns."""

    positions: dict[str, int] = field(default_factory=dict)  # contract column -> 0-based position
    written: dict[str, str] = field(default_factory=dict)  # contract column -> header as written
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (position, header) matching no column
    findings: list[Finding] = field(default_factory=list)


def _match_headers(spec: contract.SheetSpec, raw: RawSheet, file_name: str, lang: str) -> _Headers:
    lookup = i18n.header_lookup(spec.name)
    out = _Headers()
    for pos, header in enumerate(raw.header):
        key = _key(header)
        if not key:
            continue
        column = lookup.get(key)
        if column is None:
            out.unknown.append((pos, str(header).strip()))
        elif column in out.positions:
            out.findings.append(
                finding(
                    "duplicate-column.twice",
                    name=i18n.header(spec.name, column, lang),
                    other=column_letter(out.positions[column] + 1),
                    file=file_name,
                    sheet=raw.name,
                    cell=f"{column_letter(pos + 1)}1",
                    row=1,
                    column=str(header),
                    value=header,
                )
            )
        else:
            out.positions[column] = pos
            out.written[column] = str(header)
    return out


def _header_findings(
    spec: contract.SheetSpec, raw: RawSheet, file_name: str, lang: str, found: _Headers, missing: list[str]
) -> list[Finding]:
    """A misspelt or renamed header: one error on its cell naming the column it looks like (a
    required column missing, or an optional one: its figures would be lost without a word); any
    other unknown header: a warning; a required column not found at all: an error."""
    absent = missing + [c.name for c in spec.columns if c.name not in found.positions and c.name not in missing]
    renamed = _renamed(spec, found.unknown, absent)
    out = []
    for pos, header in found.unknown:
        where: dict[str, Any] = {"file": file_name, "sheet": raw.name, "cell": f"{column_letter(pos + 1)}1", "row": 1}
        if pos in renamed:
            wanted = i18n.header(spec.name, renamed[pos], lang)
            message_id = "missing-column.renamed" if renamed[pos] in missing else "missing-column.renamed-optional"
            units: dict[str, Any] = _other_unit(spec.name, renamed[pos], header) or {}
            if units:  # 'Refilled (lbs)': renamed as told, pounds would load as kg
                message_id = message_id.replace("renamed", "renamed-unit")
            out.append(finding(message_id, wanted=wanted, **where, column=header, value=header, **units))
        else:
            out.append(finding("unknown-column.ignored", header=header, **where, column=header, value=header))
    unknown_names = [h for _, h in found.unknown]
    for name in missing:
        if name not in renamed.values():
            shown = i18n.header(spec.name, name, lang)
            out.append(
                finding(
                    "missing-column.required",
                    hint=_suggest(shown, unknown_names),
                    file=file_name,
                    sheet=raw.name,
                    row=1,
                    column=shown,
                )
            )
    return out


# Rows below row 1 looked at for a table's headers when row 1 lacks them (a title, a note or empty
# rows above a table pasted lower), and how many of the sheet's headers such a row must hold.
HEADER_ROWS_SEARCHED = 10
LOWER_HEADERS_MIN = 2


def _lower_headers(spec: contract.SheetSpec, raw: RawSheet, found: _Headers, file_name: str) -> Finding | None:
    """A table whose headers are not in row 1 but in a row below it (among the first
    `HEADER_ROWS_SEARCHED`): one error on that row's first header, saying which rows to delete,
    in place of a finding for each column missing from row 1 and for each text of row 1 (a
    title) taken for an unknown header. The row must hold headers of at least
    `LOWER_HEADERS_MIN` columns of the sheet, and of more columns than row 1; None otherwise."""
    lookup = i18n.header_lookup(spec.name)
    for excel_row, values in raw.rows:
        if excel_row > HEADER_ROWS_SEARCHED + 1:
            break
        heads = [(pos, v) for pos, v in enumerate(values) if isinstance(v, str) and _key(v) in lookup]
        columns = {lookup[_key(v)] for _, v in heads}
        if len(columns) < max(LOWER_HEADERS_MIN, len(found.positions) + 1):
            continue
        pos, header = heads[0]
        above = excel_row - 1
        return finding(
            "missing-column.headers-lower" if above == 1 else "missing-column.headers-lower-rows",
            line=excel_row,
            above=above,
            file=file_name,
            sheet=raw.name,
            cell=f"{column_letter(pos + 1)}{excel_row}",
            row=excel_row,
            column=header,
            value=header,
        )
    return None


def _table(spec: contract.SheetSpec, raw: RawSheet, file_name: str, lang: str) -> tuple[ParsedSheet, list[Finding]]:
    found = _match_headers(spec, raw, file_name, lang)
    # "every table sheet may be empty": a blank tab has nothing to report, not five columns missing
    missing = [] if raw.is_empty else [c.name for c in spec.columns if c.name not in found.positions and c.required]
    lower = _lower_headers(spec, raw, found, file_name) if missing else None
    if lower is not None:  # row 1 is not the header row: nothing is read until the rows above are deleted
        found, findings = _Headers(), [lower]
        missing = [c.name for c in spec.columns if c.required]
    else:
        findings = found.findings + _header_findings(spec, raw, file_name, lang, found, missing)
    positions = found.positions
    cells = shifts_grid(raw.rows) if raw.rows else None  # every row, blank or not
    present = [c.name for c in spec.columns if c.name in positions]
    rows, index, columns, grid = _records(raw, present, positions, cells)
    left = _left_out(spec, positions, rows, grid, _own_column_sums(raw), raw.header)
    if left.at.size and grid is not None:
        rows, index, columns, grid = _without(rows, grid, present, positions, left.at)
    letters = {c: column_letter(p + 1) for c, p in positions.items()}
    shifted = _shift_findings(spec, raw, positions, rows, found.written, lang, file_name, grid)
    written = {p: found.written.get(c, c) for c, p in positions.items()}  # position -> header as written
    refused = _total_findings(raw, left.totals, written, file_name) + _ticked_findings(raw, left, written, file_name)
    refused += _whole_row_findings(spec, raw, left, written, file_name, lang)
    totals = frozenset(row for row, _, _ in left.totals + left.headers + left.notes)
    findings += _headerless_findings(raw, found, file_name, {f.row for f in shifted} | totals, cells)
    parsed = ParsedSheet(
        name=spec.name,
        is_table=True,
        headers=found.written,
        letters=letters,
        missing=frozenset(missing),
        reported_cells=frozenset(raw.formula_cells_without_value)
        | frozenset(raw.error_cells)
        | frozenset(f"{letter}{f.row}" for f in shifted for letter in letters.values()),
        tab=raw.name,
        merged=tuple(raw.merged_ranges),
        total_rows=totals,
    )
    return _read(parsed, spec, lang, raw, findings + shifted + refused, columns, index, file_name)


def _header_merges(raw: RawSheet) -> list[tuple[int, int, str]]:
    """(first column, last column, range) of each merged range starting on the header row (row 1)."""
    boxes = ((parse_range(text), text) for text in raw.merged_ranges)
    return [(box[1], box[3], text) for box, text in boxes if box and box[0] == 1]


def _headerless_findings(
    raw: RawSheet, found: _Headers, file_name: str, skip_rows: set[int | None], cells: np.ndarray | None = None
) -> list[Finding]:
    """Values in a column whose header cell is empty are not read: said, so that nothing is lost
    without a word. One finding per such column, on its header cell: an error where the header
    cell is empty because it is part of merged cells (a header centred over two columns: the
    figures under the second are the sheet's own), a warning otherwise (a note beside the table,
    or figures whose header was deleted). Rows reported as shifted (`skip_rows`) are left out:
    their values are said to sit one column off already. Nothing is said of a sheet none of whose
    headers is in row 1 (its headers are missing, or a row lower: reported as such). `cells`:
    the rows as `shifts.grid` lays them out, when the caller has it already; one pass in
    compiled code per column without a header."""
    if not found.positions or not raw.rows:
        return []
    grid = shifts_grid(raw.rows) if cells is None else cells
    empty = [p for p in range(grid.shape[1]) if p >= len(raw.header) or not _key(raw.header[p])]
    if not empty:
        return []
    excel_rows = np.fromiter((excel_row for excel_row, _ in raw.rows), dtype=np.int64, count=len(raw.rows))
    kept = ~np.isin(excel_rows, np.fromiter((r for r in skip_rows if r is not None), dtype=np.int64))
    merges = _header_merges(raw)
    none = np.full(len(grid), None, dtype=object)
    out = []
    for position in empty:
        rows = excel_rows[np.not_equal(grid[:, position], none) & kept].tolist()
        if not rows:
            continue
        letter = column_letter(position + 1)
        where: dict[str, Any] = {"file": file_name, "sheet": raw.name, "cell": f"{letter}1", "row": 1}
        shown: dict[str, Any] = {"letter": letter, "example": f"{letter}{rows[0]}", "count": len(rows)}
        merge = next((m for m in merges if m[0] <= position + 1 <= m[1]), None)
        if merge is not None:
            first = f"{column_letter(merge[0])}1"
            out.append(finding("missing-column.merged-header", range=merge[2], first=first, **shown, **where))
        else:
            out.append(finding("unknown-column.no-header", **shown, **where))
    return out


def _records(
    raw: RawSheet, present: list[str], positions: dict[str, int], cells: np.ndarray | None = None
) -> tuple[list[tuple[int, list[object]]], list[int], dict[str, list[object]], np.ndarray | None]:
    """The sheet's data rows as read (Excel row, values), blank rows left out; their Excel rows;
    the values of each contract column present, row by row; and those rows as one object grid
    (`shifts.grid`, for `find_shifts`).

    A row counts as blank when every contract column in it is empty or only white space (which
    the reader gives as None: `RawSheet.rows`), even if an ignored extra column holds something.
    Vectorised over the grid of the sheet's rows: one pass in compiled code per column."""
    if not present or not raw.rows:
        return [], [], {}, None
    grid = shifts_grid(raw.rows) if cells is None else cells
    width = grid.shape[1]
    empty = np.full(len(grid), None, dtype=object)
    columns = [grid[:, positions[c]] if positions[c] < width else empty for c in present]
    blank = np.ones(len(grid), dtype=bool)
    for values in columns:
        blank &= np.equal(values, empty)
    if blank.any():
        kept = np.flatnonzero(~blank)
        rows = [raw.rows[i] for i in kept.tolist()]
        grid = grid[kept]
        columns = [values[kept] for values in columns]
    else:
        rows = list(raw.rows)
    if not rows:
        return [], [], {}, None
    values_of = {c: values.tolist() for c, values in zip(present, columns, strict=True)}
    return rows, [excel_row for excel_row, _ in rows], values_of, grid


@dataclass
class _LeftOut:
    """The data rows of a table sheet (`_records`) that hold no data (`_left_out`)."""

    at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # their positions among the rows
    ticked: list[int] = field(default_factory=list)  # Excel rows of nothing but checkboxes, one ticked at least
    first_tick: int = 0  # the position (0-based) of the first ticked box of the first of them
    totals: list[tuple[int, int, object]] = field(default_factory=list)  # (Excel row, label's position, label)
    # rows repeating the headers (`_repeated_headers`): (Excel row, the cell's position, its text), on
    # the first header out of its column if any (`misplaced`), else on the first header
    headers: list[tuple[int, int, object]] = field(default_factory=list)
    misplaced: set[int] = field(default_factory=set)  # Excel rows of `headers` whose headers are out of their columns
    # rows of one text alone (`_notes`): (Excel row, the text's position, the text)
    notes: list[tuple[int, int, object]] = field(default_factory=list)


def _own_column_sums(raw: RawSheet) -> dict[str, str]:
    """The sheet's cells whose formula adds up their own column (`RawSheet.sum_cells`): above them
    by cell references (`guard.column_sum`), or by a structured reference to a table column named
    as the cell's header in row 1 (SUBTOTAL(109,Table1[Quantity]) under 'Quantity': `guard.table_column`,
    an Excel table's Total Row). A structured reference names its column by the table's header,
    which is the header row's text."""
    out = {}
    for ref, formula in raw.sum_cells.items():
        name = table_column(formula) if "[" in formula else None
        if name is not None:
            position = parse_cell(ref)
            column = position[1] - 1 if position else -1
            if not (0 <= column < len(raw.header) and _key(raw.header[column]) == _key(name)):
                continue
        out[ref] = formula
    return out


def _left_out(
    spec: contract.SheetSpec,
    positions: dict[str, int],
    rows: list[tuple[int, list[object]]],
    grid: np.ndarray | None,
    sums: dict[str, str] | None = None,
    header: list[object] | None = None,
) -> _LeftOut:
    """Of a table sheet's data rows (`_records`: `rows`, laid out as `grid`), those that hold no
    data: rows of checkboxes alone (`_scan`), rows named like a total, rows repeating the headers
    and rows of one text alone (a note).

    A row whose cells read hold nothing but unticked checkboxes (FALSE) is blank, as an empty row
    is: Excel 365's cell checkboxes put over a whole column leave one in every row below the data.
    A row of checkboxes alone with one ticked (TRUE) at least is left out and said (`ticked`), as
    is a total row (`totals`): the pipeline adds the rows up itself. So is a row with a cell read
    whose formula adds up its own column (`sums`, `_own_column_sums`: =SUM(D2:D4),
    =SUBTOTAL(109,Table1[Quantity])), whatever its label: the finding is on that cell and quotes
    the formula; a row such a formula never calculated leaves blank is one too. So is a row named
    a total in its Comment alone, whose figures add up the rows above (`_comment_totals`): the
    finding is on its comment. A row repeating the headers (`header`: row 1 as written;
    `_repeated_headers`) and a row holding one text alone (`_notes`) are left out and said."""
    if grid is None:
        return _LeftOut()
    unticked, ticked, totals, headed = _scan(spec, grid, positions)
    labels = {i: grid[i, position] for i, position in totals}
    blank_totals: dict[int, tuple[int, int, object]] = {}  # rows a sum never calculated left blank
    if sums:
        index = {excel_row: i for i, (excel_row, _) in enumerate(rows)}
        read = set(positions.values())
        for ref, formula in sums.items():
            row, column = parse_cell(ref) or (0, 0)
            i = index.get(row)
            if column - 1 not in read or row < 2:
                continue
            if i is None:  # its row is blank: the sum has no value (never calculated)
                blank_totals.setdefault(row, (row, column - 1, f"={formula}"))
            elif i not in labels:
                totals.append((i, column - 1))
                labels[i] = f"={formula}"
    boxed = set(unticked.tolist()) | set(ticked.tolist())
    comment = positions.get("comment")
    if comment is not None:
        taken = {i for i, _ in totals} | boxed
        for i in _comment_totals(spec, grid, positions, [excel_row for excel_row, _ in rows], taken):
            totals.append((i, comment))
            labels[i] = grid[i, comment]
    totals.sort()
    refused = {i for i, _ in totals}
    headed = [i for i in headed if i not in refused]
    repeated = _repeated_headers(spec, grid, positions, header or [], headed) if headed else []
    refused |= {i for i, _, _ in repeated}
    notes = _notes(spec, grid, positions, refused | boxed)
    whole = np.array(sorted(refused | {i for i, _ in notes}), dtype=np.int64)
    at = np.union1d(np.union1d(unticked, ticked), whole)
    left = _LeftOut(at, totals=[(rows[i][0], position, labels[i]) for i, position in totals])
    left.totals = sorted(left.totals + list(blank_totals.values()), key=lambda t: (t[0], t[1]))
    left.headers = [(rows[i][0], position, grid[i, position]) for i, position, _ in repeated]
    left.misplaced = {rows[i][0] for i, _, misplaced in repeated if misplaced}
    left.notes = [(rows[i][0], position, grid[i, position]) for i, position in notes]
    if ticked.size:
        left.ticked = [rows[i][0] for i in ticked.tolist()]
        first = int(ticked[0])
        left.first_tick = next(p for p in sorted(positions.values()) if p < grid.shape[1] and grid[first, p] is True)
    return left


def _without(
    rows: list[tuple[int, list[object]]],
    grid: np.ndarray,
    present: list[str],
    positions: dict[str, int],
    at: np.ndarray,
) -> tuple[list[tuple[int, list[object]]], list[int], dict[str, list[object]], np.ndarray | None]:
    """`_records` of a sheet's data rows `rows` (laid out as `grid`) but those at `at`."""
    kept = np.setdiff1d(np.arange(len(rows)), at)
    if not kept.size:
        return [], [], {}, None
    rows, grid = [rows[i] for i in kept.tolist()], grid[kept]
    empty = np.full(len(grid), None, dtype=object)
    values = {c: (grid[:, positions[c]] if positions[c] < grid.shape[1] else empty).tolist() for c in present}
    return rows, [excel_row for excel_row, _ in rows], values, grid


# A row named like a total, in English, French or Spanish: total, totals, totaux, totales, sum,
# somme, suma, with grand, gran, sub or sous before it ('Grand total', 'Gran total', 'Subtotal',
# 'Sub-total', 'Sous-total') and anything after the word's end ('Total :', 'Somme :', 'Sum:',
# 'TOTAL 2024', 'Total général'); a word that only begins so is a name ('TotalEnergies depot',
# 'Sumatra office', 'Sommet'). Matched on the text stripped and folded to lower case.
_TOTAL_PREFIX = r"(?:grand?[- ]?|sub[- ]?|sous[- ]?)?"
_TOTAL_WORDS = r"total(?:e?s)?|totaux|somme|suma"  # and 'sum', but at the start only ('Lump sum store')
_TOTAL = re.compile(rf"{_TOTAL_PREFIX}(?:{_TOTAL_WORDS}|sum)(?:\W.*)?", re.DOTALL)
# ... or with the word later on ('Nairobi total', 'Site subtotal', 'Sous-total Genève'), a label for
# every site ('All sites', 'Tous les sites', 'Todos los sitios'), or a sum sign (Σ, ∑): a total row
# LibreOffice users label so was loaded, its figures counted twice.
_TOTAL_WORD = re.compile(rf"(?<!\w){_TOTAL_PREFIX}(?:{_TOTAL_WORDS})(?!\w)")
_LEADING_TOTAL = re.compile(rf"^\W*{_TOTAL_PREFIX}(?:{_TOTAL_WORDS}|sum)(?!\w)")  # `_TOTAL`'s word, alone
_EVERY_SITE = re.compile(
    r"(?:all|every|tous les|toutes les|todos los|todas las)\s+(?:the\s+)?"
    r"(?:sites?|locations?|offices?|buildings?|premises|lieux|bureaux|b[aâ]timents|sitios|oficinas|edificios|sedes)\W*"
)
_SUM_SIGNS = ("\u03c3", "\u2211")  # σ (Σ folded to lower case), ∑


def _columns_read(
    spec: contract.SheetSpec, positions: dict[str, int], grid: np.ndarray
) -> dict[int, contract.ColumnSpec]:
    """The contract columns read into `grid`, by their position."""
    width = grid.shape[1]
    return {p: col for col in spec.columns if (p := positions.get(col.name)) is not None and p < width}


def _label_positions(read: dict[int, contract.ColumnSpec]) -> set[int]:
    """Where a row's label is, whichever columns are read: its first column (A) and its site."""
    return {0, *(p for p, col in read.items() if col.name == "site")}


def _scan(
    spec: contract.SheetSpec, grid: np.ndarray, positions: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], list[int]]:
    """Of the rows laid out as `grid` (none of them blank), those whose cells read hold nothing but
    checkboxes (booleans) and empty cells: those whose every box is unticked (FALSE), those with a
    ticked one (TRUE); the others named like a total: (the row's position, its label's column
    position); and the positions of the rows whose first cell read is a header of the sheet as
    row 1's are matched (`_a_header`), to be looked at whole (`_repeated_headers`).

    A total row's first text among the columns read, in the sheet's order, or its first column
    (A, read or not) or its site, is a total's name (`_TOTAL`) and no code of that column's list
    (SUM is an airport): where Excel's table totals row and a total typed below the data put it,
    'Total' under the sites, the countries or the airports. A row is looked at column by column
    up to its first text read, which decides: vectorised, the first column or two on every row
    (one pass in compiled code for the cells' types, each distinct text matched once), the others
    on the rows without a text so far (those of checkboxes alone, those with a number first)."""
    read = _columns_read(spec, positions, grid)
    first = min(read, default=0)
    labels = sorted(_label_positions(read) - {first})  # told wherever they are
    boxes = np.ones(len(grid), dtype=bool)
    ticked = np.zeros(len(grid), dtype=bool)
    label = np.full(len(grid), -1, dtype=np.int64)  # each row's total label: its column's position, -1 for none
    undecided = np.arange(len(grid))
    headed: list[int] = []
    for position, decides in [*((p, False) for p in labels), *((p, True) for p in sorted(read))]:
        if not undecided.size:
            break
        cells = grid[:, position] if len(undecided) == len(grid) else grid[undecided, position]
        values = cells.tolist()
        types = np.fromiter(map(type, values), dtype=object, count=len(values))
        distinct = set(values)
        named = {v for v in distinct if type(v) is str and _total_name(v, read.get(position))}
        if position == first:  # every row is undecided still
            headers = {v for v in distinct if type(v) is str and _a_header(v, spec.name)}
            if headers:
                hit = np.fromiter(map(headers.__contains__, values), dtype=bool, count=len(values))
                headed = undecided[hit].tolist()
        if named:  # each distinct text matched once; rarely any such
            hit = undecided[np.fromiter(map(named.__contains__, values), dtype=bool, count=len(values))]
            label[hit[label[hit] < 0]] = position
        if decides:
            booleans = np.equal(types, _BOOL)
            boxes[undecided[~(booleans | np.equal(types, _NONE))]] = False
            ticked[undecided[booleans][np.equal(cells[booleans], True)]] = True
            undecided = undecided[~np.equal(types, _STR)]  # the first text read decides
    totals = np.flatnonzero((label >= 0) & ~boxes)  # a total's name beside unticked boxes alone: a blank row
    return (
        np.flatnonzero(boxes & ~ticked),
        np.flatnonzero(boxes & ticked),
        list(zip(totals.tolist(), label[totals].tolist(), strict=True)),
        headed,
    )


# A text this long or longer is no header (the longest the template writes has some 40 characters)
HEADER_LENGTH_LIMIT = 100
_NOT_ALPHANUMERIC = bytes(c for c in range(128) if not chr(c).isalnum())  # of ASCII


@functools.cache
def _header_letters(sheet: str) -> frozenset[bytes]:
    """The letters and digits alone of each header of `sheet` that `i18n.header_lookup` matches,
    of those in ASCII (in lower case, as it folds them): what `_a_header` looks up first."""
    keys = (k for k in i18n.header_lookup(sheet) if k.isascii())
    return frozenset(k.encode().translate(None, _NOT_ALPHANUMERIC) for k in keys)


def _a_header(text: str, sheet: str) -> bool:
    """Whether `text` is a header of `sheet` as row 1's are matched to its columns (`_match_headers`:
    `_key` in `i18n.header_lookup`, any language, case, accents, spaces and hyphens ignored, with or
    without its unit): 'Unite', 'PAIS', 'From', 'Mode-of-transport'. A text in ASCII is looked up by
    its letters and digits first, in one pass in compiled code: `_key` drops none of those and folds
    such a text to its lower case but for a few other characters, and costs ten times as much, for
    each distinct text of the first column of a sheet of a million rows (site names, most of them)."""
    if len(text) >= HEADER_LENGTH_LIMIT:
        return False
    if text.isascii() and text.lower().encode().translate(None, _NOT_ALPHANUMERIC) not in _header_letters(sheet):
        return False
    return _key(text) in i18n.header_lookup(sheet)


def _repeated_headers(
    spec: contract.SheetSpec, grid: np.ndarray, positions: dict[str, int], header: list[object], rows: list[int]
) -> list[tuple[int, int, bool]]:
    """Of the rows at `rows` (positions in `grid`), those that repeat the sheet's headers: two
    blocks pasted one under the other, each with its headers. Every cell read of such a row that
    is not empty is a header of the sheet (in any language, or as row 1 writes it over that
    column), of two columns at least: no row of data is so. (row, the position of its cell to name,
    whether some header is out of its column): a header of a column that row 1 puts at another
    position, or under a column read of row 1 that is not its own; the cell named is the first
    such, else the row's first header. A header of a column row 1 lacks, under an empty header
    cell or one not read (the optional 'Comment' pasted with its block), is in no wrong column:
    its values are not read, which the unknown column says, and the others go to their columns."""
    lookup = i18n.header_lookup(spec.name)
    width = grid.shape[1]
    column_at = {p: c for c, p in positions.items() if p < width}
    written = {p: k for p in column_at if p < len(header) and (k := _key(header[p]))}
    out = []
    for i in rows:
        named: set[str] = set()
        first = misplaced = None
        for p in range(width):
            value = grid[i, p]
            if value is None:
                continue
            key = _key(value) if isinstance(value, str) else ""
            column = lookup.get(key) or (column_at[p] if key and written.get(p) == key else None)
            if column is None:
                if p in column_at:  # a value read that is no header: a row of data
                    break
                continue  # a column of the focal point's own
            named.add(column)
            first = p if first is None else first
            own = positions.get(column)
            elsewhere = own != p if own is not None else p in column_at
            if misplaced is None and elsewhere and written.get(p) != key:
                misplaced = p
        else:
            if len(named) >= LOWER_HEADERS_MIN and first is not None:
                out.append((i, first if misplaced is None else misplaced, misplaced is not None))
    return out


def _notes(
    spec: contract.SheetSpec, grid: np.ndarray, positions: dict[str, int], skip: set[int]
) -> list[tuple[int, int]]:
    """The rows of `grid` (none of them blank) whose cells read hold one text alone, with a letter
    in it, and nothing else: a note typed under the data ('Source: invoices from the landlord'),
    or a row of data begun and left (a site's name alone). (row, the text's position). A value
    alone that is data is no note, and its row's empty cells are said as before: a code of its
    column's list ('KEN' under the countries, 'Measured') or, in a column of figures or dates, a
    text with a digit ('1 200 kWh'). Rows of `skip` (refused already) are left alone. The cells
    are counted column by column, the rows holding two values or more dropped as they are found:
    after the first two columns, a sheet's rows of data are all gone. The rows left are told
    apart by their value's column, and each distinct text of a column decided once: a drop-down
    value filled down far past the data ('Measured' on 60,000 rows) is one text to look up."""
    columns = _columns_read(spec, positions, grid)
    read = sorted(columns)
    rows = np.arange(len(grid))
    filled = np.zeros(len(grid), dtype=np.int64)
    none = np.array(None, dtype=object)
    for p in read:
        filled += np.not_equal(grid[rows, p], none)
        kept = filled <= 1
        rows, filled = rows[kept], filled[kept]
        if not rows.size:
            return []
    if skip:
        rows = rows[~np.isin(rows, np.fromiter(skip, dtype=np.int64, count=len(skip)))]
    if not rows.size:
        return []
    where = np.asarray(read, dtype=np.int64)
    held = np.not_equal(grid[np.ix_(rows, where)], none)  # the cells read of the rows left that hold a value
    one = held.any(axis=1)
    rows, at = rows[one], where[held[one].argmax(axis=1)]  # the first, the only
    out: list[tuple[int, int]] = []
    for position in np.unique(at).tolist():
        these = rows[at == position]
        values = grid[these, position].tolist()
        col = columns[position]
        notes = {v for v in set(values) if isinstance(v, str) and _a_note(v, col)}
        if notes:
            hit = np.fromiter(map(notes.__contains__, values), dtype=bool, count=len(values))
            out.extend((i, position) for i in these[hit].tolist())
    out.sort()
    return out


def _a_note(value: str, col: contract.ColumnSpec) -> bool:
    """Whether `value`, alone in its row in column `col`, is a note (`_notes`): a text with a
    letter that is no code of the column's list, nor, in a column of figures or dates, has a digit."""
    if not any(ch.isalpha() for ch in value):
        return False
    figure = col.dtype in ("number", "integer", "date") and any(ch.isdigit() for ch in value)
    return not figure and not _a_code(value, col)


# The columns that say what a row is about besides its site and first column (`_comment_totals`):
# where it is (a country, an airport), which project and serials.
_KEY_TYPES = ("text", "iso3", "iata")
# A total typed as a value may be rounded: it adds up the rows above within this part of their
# sum, or within half a unit ('2,450,000' under rows of 2,447,000; '16' under 12.5 and 3).
TOTAL_ROUNDING = 0.01


def _comment_totals(
    spec: contract.SheetSpec, grid: np.ndarray, positions: dict[str, int], excel_rows: list[int], taken: set[int]
) -> list[int]:
    """The positions of the rows of `grid` (none of them blank, none of `taken`: totals, checkboxes)
    named like a total in their Comment alone ('Total', 'TOTAL 2024', 'Total général', 'Sum of the
    above': `_total_name`), their site and first column blank, and their other cells saying where
    or what (`_KEY_TYPES`: the country, the airports, the project) blank or a total's name too,
    whose figures add up the rows above. The drop-downs filled down beside it (the energy type, the
    unit, 'Measured') say nothing either way: such a row was read as data and, where no site is
    needed (a flight by its distance), loaded, its figures counted twice. Its figures decide: each
    it holds (one at least) is the sum of its column over the rows above it, all of them (but the
    totals) or those since the last total or blank row, within rounding (`TOTAL_ROUNDING`). A row
    of data whose comment speaks of a total ('Total of two invoices', 'Total from the travel
    agent's report', its site forgotten) adds up nothing: its cells are checked as before.

    Vectorised: the rows with a comment and a blank site and first column are found in compiled
    code, each distinct comment of theirs is matched once (`_total_name`), and the figures are
    added up only for the few rows left."""
    width = grid.shape[1]
    read = _columns_read(spec, positions, grid)
    comment = positions.get("comment", -1)
    figures = sorted(p for p, col in read.items() if col.is_numeric)
    if comment not in read or not figures:
        return []
    labels = _label_positions(read) - {comment}  # never a total here: `_scan` looks at them
    keys = sorted(p for p, col in read.items() if col.dtype in _KEY_TYPES and p != comment and p not in labels)
    none = np.array(None, dtype=object)
    kept = np.not_equal(grid[:, comment], none)
    for position in labels:
        if position < width:
            kept &= np.equal(grid[:, position], none)
    if taken:
        kept[np.fromiter(taken, dtype=np.int64, count=len(taken))] = False
    rows = np.flatnonzero(kept)
    for position, is_comment in [(comment, True), *((p, False) for p in keys)]:
        if not rows.size:
            return []
        values = grid[rows, position].tolist()
        named = {v for v in set(values) if type(v) is str and _total_name(v, read[position])}
        rows = rows[[v in named or (v is None and not is_comment) for v in values]]
    return _adding_up(grid, figures, rows.tolist(), excel_rows, taken) if rows.size else []


def _a_figure(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _adding_up(
    grid: np.ndarray, figures: list[int], rows: list[int], excel_rows: list[int], taken: set[int]
) -> list[int]:
    """Of the rows at `rows` (ascending), those whose every figure (at positions `figures`; one
    at least) is the sum of its column over the rows above it (`_comment_totals`): from the first,
    or from the last break, the row after a total (of `taken`, or one found here) or after a blank
    row (a gap between `excel_rows`). The rows of `taken` and those found count in no sum."""
    n = len(grid)
    values = np.zeros((n, len(figures)))
    for j, p in enumerate(figures):
        values[:, j] = [v if _a_figure(v) else 0.0 for v in grid[:, p].tolist()]
    values[sorted(taken)] = 0.0
    above = np.vstack([np.zeros((1, len(figures))), np.cumsum(values, axis=0)])  # above[i]: the rows before i
    gaps = np.flatnonzero(np.diff(np.asarray(excel_rows, dtype=np.int64)) > 1) + 1
    breaks = sorted({*(i + 1 for i in taken), *gaps.tolist()})
    found: list[int] = []
    counted = np.zeros(len(figures))  # the figures of the rows found, in `above` still
    for i in rows:
        held = [j for j, p in enumerate(figures) if _a_figure(grid[i, p])]
        if not held:
            continue
        at = bisect.bisect_right(breaks, i) - 1
        last = max(breaks[at] if at >= 0 else 0, found[-1] + 1 if found else 0)
        sums = [above[i] - counted] + ([above[i] - above[last]] if 0 < last < i else [])
        if any(_a_total(values[i, held], total[held]) for total in sums):
            found.append(i)
            counted += values[i]
    return found


def _a_total(figures: np.ndarray, sums: np.ndarray) -> bool:
    """Whether `figures` are `sums` (some of them not 0), within rounding (`TOTAL_ROUNDING`)."""
    close = np.abs(figures - sums) <= np.maximum(0.5, TOTAL_ROUNDING * np.abs(sums))
    return bool(np.any(sums != 0) and np.all(close))


# cell types, as 0-d object arrays to compare the types of many cells with
_STR, _BOOL, _NONE = (np.array(kind, dtype=object) for kind in (str, bool, type(None)))


def _total_name(text: str, col: contract.ColumnSpec | None) -> bool:
    folded = text.strip().lower()
    if not (
        _TOTAL.fullmatch(folded)
        or _TOTAL_WORD.search(folded)
        or _EVERY_SITE.fullmatch(folded)
        or any(sign in folded for sign in _SUM_SIGNS)
    ):
        return False
    return col is None or not _a_code(text, col)


def _a_code(text: str, col: contract.ColumnSpec) -> bool:
    """Whether `text` is a code of column `col`'s list (or its label): 'KEN', 'Kenya (KEN)', 'Measured'."""
    if col.dtype in ("iso3", "iata"):
        return (i18n.code_in_brackets(text) or text.strip().upper()) in reading.valid_references(col.dtype)
    if col.dtype in ("enum", "yesno") and col.codelist:
        return i18n.fold(text) in i18n.code_lookup(col.codelist)
    return False


# A workbook's findings of one rule on one column listed one by one, at most: a sheet of 300,000
# rows that each miss a value gives 1,000 findings and a count of the rest, not 300,000 lines
# (which took minutes and gigabytes to write, in the portal's own process), as frictionless
# bounds its errors. Rejected the same; the focal point fixes the ones listed and the rest alike.
SAME_FINDINGS_LISTED = 1000


# The words a total's label holds besides the word total ('Grand total 2024', 'Total of all sites',
# 'Total général', 'Total anual'): a label with any other word may be a place named so (a 'Total'
# fuel station) rather than a total (`_named_too`).
_FILLER_WORDS = (
    "grand gran general général generale générale overall global final annual annuel anual year année año "
    "all every the of above for and in sites site locations offices buildings premises tous toutes les "
    "des du de la le et pour sur lieux bureaux bâtiments batiments todos todas los las del el y para en "
    "sitios oficinas edificios sedes kwh mwh gwh litres liters litre liter kg tonnes tons km"
)
_TOTAL_FILLER = frozenset(_FILLER_WORDS.split())


def _named_too(label: object) -> bool:
    """Whether a total's label (`_total_name`) holds a word besides the total word and the words
    a total is labelled with (`_TOTAL_FILLER`): 'Station Total Mombasa', 'Total Mombasa depot',
    'Nairobi subtotal'. Its finding then says how to keep the row if it is a place named so."""
    if not isinstance(label, str) or label.startswith("="):  # a sum formula: no name
        return False
    rest = _LEADING_TOTAL.sub(" ", _TOTAL_WORD.sub(" ", label.lower()))
    return any(w not in _TOTAL_FILLER for w in re.findall(r"[^\W\d_]{2,}", rest))


def _total_findings(
    raw: RawSheet, totals: list[tuple[int, int, object]], written: dict[int, str], file_name: str
) -> list[Finding]:
    """One `inconsistent-row.total` error per row named like a total (`_scan`), on its label,
    and nothing else on that row (its other cells are not checked): the pipeline adds the rows up
    itself, so a total row would count the sheet's figures twice. At most SAME_FINDINGS_LISTED of
    one column are listed, the others counted in one `more-findings` warning. `written`: the
    header as written at each position read."""
    where: dict[str, Any] = {"file": file_name, "sheet": raw.name}
    listed: dict[int, int] = {}
    out = []
    for excel_row, position, label in totals:
        listed[position] = listed.get(position, 0) + 1
        if listed[position] <= SAME_FINDINGS_LISTED:
            cell = f"{column_letter(position + 1)}{excel_row}"
            header = written.get(position, _header_at(raw, position))
            message = "inconsistent-row.total-in-name" if _named_too(label) else "inconsistent-row.total"
            out.append(finding(message, **where, cell=cell, row=excel_row, column=header, value=label))
    more = [(position, count) for position, count in listed.items() if count > SAME_FINDINGS_LISTED]
    out += [_more_findings(raw, written, position, count, where) for position, count in more]
    return out


def _more_findings(raw: RawSheet, written: dict[int, str], position: int, count: int, where: dict[str, Any]) -> Finding:
    """The `more-findings` warning counting the `count` findings of one kind on the column at
    `position` beyond the SAME_FINDINGS_LISTED listed."""
    header = written.get(position, _header_at(raw, position))
    more: dict[str, Any] = {"count": count - SAME_FINDINGS_LISTED, "listed": SAME_FINDINGS_LISTED, "name": header}
    return finding("more-findings.same", **more, **where, column=header)


def _whole_row_findings(
    spec: contract.SheetSpec, raw: RawSheet, left: _LeftOut, written: dict[int, str], file_name: str, lang: str
) -> list[Finding]:
    """One finding per row left out whole that is neither a total nor checkboxes: a row repeating
    the headers (a warning, its rows below read under the same headers; an error where a header is
    out of its column, as the rows below it are then read under the wrong headers), and a row of one
    text alone (an error: a note, or a row of data begun; its other cells are empty). At most
    SAME_FINDINGS_LISTED of each kind, the others counted in one `more-findings` warning."""
    where: dict[str, Any] = {"file": file_name, "sheet": raw.name}
    comment = catalogue.column_named(spec.name, "comment", lang)
    out = []
    for kind, rows in (("headers", left.headers), ("notes", left.notes)):
        for n, (excel_row, position, value) in enumerate(rows):
            if n == SAME_FINDINGS_LISTED:
                out.append(_more_findings(raw, written, position, len(rows), where))
                break
            cell = f"{column_letter(position + 1)}{excel_row}"
            header = written.get(position, _header_at(raw, position))
            params: dict[str, Any] = {"line": excel_row, "cell": cell, "row": excel_row, "column": header}
            if kind == "notes":
                message_id = "inconsistent-row.note-row"
                params["comment"] = comment
            elif excel_row in left.misplaced:
                message_id = "inconsistent-row.repeated-headers"
                params["above"] = catalogue.shown(_header_at(raw, position) or None)
            else:
                message_id = "repeated-headers.left-out"
            out.append(finding(message_id, **where, **params, value=value))
    return out


def _ticked_findings(raw: RawSheet, left: _LeftOut, written: dict[int, str], file_name: str) -> list[Finding]:
    """One error for the rows of a sheet holding nothing but checkboxes with one ticked at least
    (a box ticked in an empty row, or the figures of the row deleted): they are not read, and
    they are no blank rows either. On the first ticked box, listing the rows' runs."""
    if not left.ticked:
        return []
    header = written.get(left.first_tick, "")
    first = left.ticked[0]
    message_id = "inconsistent-row.ticked-box" if len(left.ticked) == 1 else "inconsistent-row.ticked-boxes"
    return [
        finding(
            message_id,
            rows=_runs(left.ticked),
            count=len(left.ticked),
            file=file_name,
            sheet=raw.name,
            cell=f"{column_letter(left.first_tick + 1)}{first}",
            row=first,
            column=header,
            value=True,
        )
    ]


def _runs(rows: Iterable[int]) -> str:
    """Ascending Excel rows as their runs, the first HIDDEN_RUNS_SHOWN ('12-15, 20, ...'); the rows
    after the last run shown are not looked at."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and runs[-1][1] + 1 == row:
            runs[-1][1] = row
        elif len(runs) < HIDDEN_RUNS_SHOWN:
            runs.append([row, row])
        else:
            return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs) + ", ..."
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _shift_findings(
    spec: contract.SheetSpec,
    raw: RawSheet,
    positions: dict[str, int],
    rows: list[tuple[int, list[object]]],
    written: dict[str, str],
    lang: str,
    file_name: str,
    grid: np.ndarray | None = None,
) -> list[Finding]:
    """One finding per data row (`rows`, laid out as `grid`) whose values sit one column off
    (`shifts`); its other checks wait. The finding is on the row's first cell that is off, from
    which the values are to be moved back: the cell added (values too far right), or the cell
    the first misplaced value sits in (a cell left out, values too far left); its column and
    value are that cell's, as in the workbook."""
    out = []
    for shift in find_shifts(spec, positions, rows, grid):
        cell = f"{column_letter(shift.first + 1)}{shift.row}"
        out.append(
            finding(
                "shifted-columns.row",
                first=cell,
                line=shift.row,
                side=i18n.text(f"side.{shift.side}", lang),
                example=catalogue.shown(shift.value),
                found=written.get(shift.found_under, shift.found_under) or "",
                expected=written.get(shift.column, i18n.header(spec.name, shift.column, lang)),
                file=file_name,
                sheet=raw.name,
                cell=cell,
                row=shift.row,
                column=_header_at(raw, shift.first),
                value=shift.held,
            )
        )
    return out


def _header_at(raw: RawSheet, position: int) -> str:
    """The header of a table sheet's column at `position` (0-based) as written, "" if none."""
    header = raw.header[position] if 0 <= position < len(raw.header) else None
    return "" if header is None else str(header)


def _read(
    parsed: ParsedSheet,
    spec: contract.SheetSpec,
    lang: str,
    raw: RawSheet,
    findings: list[Finding],
    columns: dict[str, list[object]],
    index: list[int],
    file_name: str,
) -> tuple[ParsedSheet, list[Finding]]:
    """Cell values read as people type them (labels, numbers and dates in the workbook's
    language), then the sheet's frame: its contract columns, the Excel row (tables) or 0 as index.
    `file_name`: the workbook's, which every finding names (issues.csv's `file`)."""

    def locate(column: str, row: object) -> tuple[str, int | None, str]:
        return parsed.locate(column, None if not parsed.is_table else row)  # type: ignore[arg-type]

    done = reading.read_sheet(columns, index, spec, lang, locate, frozenset(raw.percent_cells), raw.name, file_name)
    parsed.values = done.columns
    parsed.index = index if parsed.is_table else [0]
    parsed.typed_as = done.typed_as
    return parsed, findings + done.findings


def _field_findings(
    spec: contract.SheetSpec,
    raw: RawSheet,
    file_name: str,
    lang: str,
    unknown: list[tuple[int, object]],
    absent: list[str],
    missing: list[str],
    names_at: int = 0,
) -> list[Finding]:
    """As for a table's headers (`_header_findings`): a misspelt or retyped field name
    ('Personnel (persons):') is one error on its cell naming the field it looks like (a required
    field missing, or an optional one: its value would be lost without a word); any other name
    of no field (`unknown`: Excel row, name as written) a warning; a required field not found at
    all an error, saying to add it where the sheet's other fields are. `absent`: the fields not
    found, `missing` those of them that are required; `names_at`: the 0-based column of the
    sheet's field names (`_field_names_at`)."""
    renamed = _renamed(spec, [(excel_row, str(name)) for excel_row, name in unknown], absent)
    names, values = column_letter(names_at + 1), column_letter(names_at + 2)
    out = []
    for excel_row, name in unknown:
        shown = str(name).strip()
        where: dict[str, Any] = {"file": file_name, "sheet": raw.name, "cell": f"{names}{excel_row}", "row": excel_row}
        if excel_row in renamed:
            wanted = i18n.header(spec.name, renamed[excel_row], lang)
            message_id = "missing-field.renamed" if renamed[excel_row] in missing else "missing-field.renamed-optional"
            out.append(finding(message_id, wanted=wanted, **where, column=shown, value=name))
        else:
            out.append(finding("unknown-field.ignored", field=shown, **where, column=shown, value=name))
    for column in missing:
        if column not in renamed.values():
            shown = i18n.header(spec.name, column, lang)
            out.append(
                finding(
                    "missing-field.required",
                    field=shown,
                    names=names,
                    values=values,
                    file=file_name,
                    sheet=raw.name,
                    column=shown,
                )
            )
    return out


# Known fields a column must name to be taken for a Field/Value sheet's field names when they
# are not in column A (a column inserted at the left of the sheet): a few, so that a stray value
# that happens to be a field's name does not move the sheet.
FIELD_NAMES_MIN = 3


def _field_names_at(spec: contract.SheetSpec, raw: RawSheet) -> int:
    """The 0-based column of a Field/Value sheet's field names: the leftmost column naming at
    least `FIELD_NAMES_MIN` different fields of the sheet (in any of the template's languages,
    row 1 included), as a table's columns are read wherever row 1 has their headers; column A
    when none does (a sheet of few fields, or none: read, and reported, as the template puts it).
    The rows are looked at until column A names enough fields (a sheet as the template puts it:
    its first rows), and once a column does, only the columns left of it."""
    lookup = i18n.header_lookup(spec.name)
    wanted = min(FIELD_NAMES_MIN, len(spec.columns))
    named: dict[int, set[str]] = {}  # column -> the fields it names
    keys: dict[str, str | None] = {}  # text -> its field (texts repeat: one fold each)
    best: int | None = None  # the leftmost column naming enough fields so far
    for _, row in [(1, raw.header), *raw.rows]:
        for position, text in enumerate(row[:best]):
            if not isinstance(text, str):
                continue
            if text not in keys:
                keys[text] = lookup.get(_key(text))
            column = keys[text]
            if column is None:
                continue
            fields = named.setdefault(position, set())
            fields.add(column)
            if len(fields) >= wanted:
                if position == 0:
                    return 0
                best = position
                break  # the columns right of it are no longer looked at
    return best or 0


def _field_value(
    spec: contract.SheetSpec, raw: RawSheet, file_name: str, lang: str
) -> tuple[ParsedSheet, list[Finding]]:
    findings: list[Finding] = []
    wanted = {c.name: c for c in spec.columns}
    lookup = i18n.header_lookup(spec.name)
    field_words = {_key(i18n.text("template.field", other)) for other in i18n.LANGS} | {"field"}
    values: dict[str, object] = {}
    cells: dict[str, str] = {}
    headers: dict[str, str] = {}
    unknown: list[tuple[int, object]] = []  # (Excel row, field name as written) matching no field
    at = _field_names_at(spec, raw)  # the names' column (A), their values in the next
    names, values_letter = column_letter(at + 1), column_letter(at + 2)
    # row 1 too: it is the header "Field | Value", but a sheet whose header row was deleted has
    # its first field there, which was reported missing ("add a row") though A1 held it
    for excel_row, row in [(1, list(raw.header)), *raw.rows]:
        name = row[at] if len(row) > at else None
        key = _key(name)
        value = row[at + 1] if len(row) > at + 1 else None
        if not key:
            continue
        if excel_row == 1 and (key in field_words or key not in lookup):  # the header, whatever it says
            continue
        column = lookup.get(key)
        if column is None:
            unknown.append((excel_row, name))
            continue
        if column in values:
            findings.append(
                finding(
                    "duplicate-field.twice",
                    field=str(name).strip(),
                    other=cells[column][1:],
                    file=file_name,
                    sheet=raw.name,
                    cell=f"{names}{excel_row}",
                    row=excel_row,
                    column=str(name).strip(),
                    value=name,
                )
            )
            continue
        values[column] = value
        cells[column] = f"{values_letter}{excel_row}"
        headers[column] = str(name).strip()
    missing = [c.name for c in spec.columns if c.name not in values and c.required]
    absent = [c.name for c in spec.columns if c.name not in values]
    findings += _field_findings(spec, raw, file_name, lang, unknown, absent, missing, at)
    parsed = ParsedSheet(
        name=spec.name,
        is_table=False,
        headers=headers,
        cells=cells,
        names_at=at,
        missing=frozenset(missing),
        reported_cells=frozenset(raw.formula_cells_without_value) | frozenset(raw.error_cells),
        tab=raw.name,
        merged=tuple(raw.merged_ranges),
    )
    return _read(parsed, spec, lang, raw, findings, {c: [values.get(c)] for c in wanted}, [0], file_name)
