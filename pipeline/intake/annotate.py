"""annotated.xlsx: a copy of a submission with its flagged cells coloured and commented.

Errors are filled red, warnings amber; each flagged cell gets a comment listing every finding on
it ("code: message"). A first sheet, "Validation summary", gives the file name, the counts and a
table of the findings with a link from each cell reference to the flagged cell. Findings with no
cell (a missing sheet or column) are listed in the summary only, linked to their sheet when it
exists.

The copy is made in an isolated worker process (memory and time limits, as for reading:
`annotate_many`), from the bytes the guard has vetted. When it cannot be made (openpyxl cannot
open the workbook, a merged range or hyperlink covers millions of cells, the sheet is too large
to copy, the worker runs out of memory or time) a findings-only workbook takes its place: the
summary sheet alone, whose cell references name the cells of the submission. Either way the
file keeps its verdict. At most `MAX_LISTED` findings are marked and listed; the summary counts
the rest and points to issues.csv.

The copy never carries what could run or call out when it is opened: external links, DDE and
cross-file formulas, formulas calling out (WEBSERVICE, CALL, ...) become inert text, and links
to other files or web addresses are removed. Everything written from the submission or the
findings is stored as text, never as a formula (see `xlsx_style.write_text`). The summary holds
no timestamp, so reruns differ only in zip and document-property metadata.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import paths, safe
from pipeline import xlsx as st
from pipeline.cells import MergedRanges, column_letter, parse_cell
from pipeline.errors import UnreadableFile
from pipeline.intake import guard
from pipeline.intake.findings import ERROR, Finding, count
from pipeline.intake.verdict import SUMMARY_WIDTHS
from schemas import i18n

MAX_LISTED = 1_000  # findings marked in the copy and listed in the summary; the rest are counted
MAX_COPY_CELLS = 1_000_000  # sheets larger than this (rows x columns) are not copied cell by cell
MAX_RANGE_CELLS = 100_000  # nor sheets with a merged range or hyperlink covering more cells
SUMMARY_COLUMNS = ("sheet", "cell", "column", "value", "code", "severity", "message")
TABLE_HEADER_ROW = 7  # rows 1-5: title, file, errors, warnings, what to do; row 6 blank


def _sheet_ref(name: str) -> str:
    """A sheet name quoted for a formula or link: 'It''s'."""
    return "'" + name.replace("'", "''") + "'"


def unique_sheet_name(wanted: str, existing: list[str]) -> str:
    """`wanted`, or `wanted (2)`, ... : unique ignoring case (as Excel compares), at most 31 characters."""
    taken = {n.lower() for n in existing}
    name, n = wanted[:31], 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = wanted[: 31 - len(suffix)] + suffix
    return name


def _merged_targets(ws: Worksheet, cells: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, column) -> the top-left of the merged range holding it, for those of `cells` that lie
    in one: one pass over the sheet's ranges for the columns asked about, then a search by row
    (a sheet merging a site over every pair of its 10,000 rows was a scan of every range per
    finding: tens of seconds)."""
    merged = [(row, col) for row, col in cells if isinstance(ws.cell(row=row, column=col), MergedCell)]
    if not merged:
        return {}
    boxes = ((r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges)
    lookup = MergedRanges(boxes, columns={col for _, col in merged})
    return {cell: box[:2] for cell in merged if (box := lookup.holding(*cell)) is not None}


def _mark_cells(wb: Workbook, findings: list[Finding], lang: str = "en") -> None:
    """Fill and comment every cell named by a finding whose sheet exists in the workbook; a cell
    inside merged cells is marked on the range's top-left cell (the one Excel shows), its lines
    headed by the cell they are about, each by its severity in `lang` as the summary names it
    (ERREUR, AVERTISSEMENT)."""
    by_cell: dict[tuple[str, int, int], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell and (pos := parse_cell(f.cell)):
            by_cell[(f.sheet, *pos)].append(f)
    targets = {
        name: _merged_targets(wb[name], [(row, col) for sheet, row, col in by_cell if sheet == name])
        for name in {sheet for sheet, _, _ in by_cell}
    }
    position = {name: i for i, name in enumerate(wb.sheetnames)}
    for (sheet, row, col), items in sorted(by_cell.items(), key=lambda kv: (position[kv[0][0]], kv[0][1:])):
        at = targets[sheet].get((row, col))
        cell = wb[sheet].cell(row=at[0], column=at[1]) if at else wb[sheet].cell(row=row, column=col)
        items.sort(key=lambda f: (f.severity != ERROR, f.code, f.message))
        has_error = any(f.severity == ERROR for f in items) or cell.fill == st.ERROR_FILL
        cell.fill = st.ERROR_FILL if has_error else st.WARNING_FILL
        head = f"{column_letter(col)}{row}: " if at else ""
        colon = "\u00a0: " if lang == "fr" else ": "  # French sets a no-break space before a colon
        lines = [f"{head}{_severity_word(f.severity, lang)} {f.code}{colon}{f.message}" for f in items]
        if cell.comment is not None and cell.comment.text:
            lines += ["", "---", cell.comment.text]
        cell.comment = st.comment("\n".join(lines))


def _severity_word(severity: str, lang: str) -> str:
    """A severity as a cell's comment heads a finding: the summary's word in `lang`, in capitals."""
    return i18n.text(f"annotate.{severity}", lang).upper()


# Formulas that reach outside the workbook: another file ([1]Sheet!A1, 'C:\\[b.xlsx]S'!A1), DDE
# (cmd|' /c calc'!A1), or functions that call out or run code, called or only named: Excel 365
# passes a function by its name alone (=MAP({"http://..."},WEBSERVICE)). A sheet or name that
# merely contains such a word is neutralised too: the copy only shows the findings.
_OUTSIDE = re.compile(
    r"\[|\||\b(?:WEBSERVICE|FILTERXML|CALL|REGISTER(?:\.ID)?|EXEC|RTD|DDE|HYPERLINK|IMAGE|INFO)\b",
    re.IGNORECASE,
)
# The functions a formula of the copy may call: arithmetic, logic, text, dates and look-ups within
# the workbook. Any other call (Excel 365's TRANSLATE, DETECTLANGUAGE, STOCKHISTORY, COPILOT and
# whatever comes next, a LAMBDA or a name called as one, INDIRECT, which may name another file)
# makes the formula inert: a list of what may call out is never complete, a list of what cannot
# is. Names as stored in the file, without the _xlfn./_xlws. prefixes of newer functions.
_SAFE_NAMES = """
    ABS AND AVERAGE AVERAGEA AVERAGEIF AVERAGEIFS CEILING CEILING.MATH CHOOSE CLEAN CODE COLUMN COLUMNS
    CONCAT CONCATENATE COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS DATE DATEDIF DATEVALUE DAY DAYS EDATE
    EOMONTH EXACT EXP FALSE FILTER FIND FLOOR FLOOR.MATH HLOOKUP HOUR IF IFERROR IFNA IFS INDEX INT
    ISBLANK ISERR ISERROR ISEVEN ISLOGICAL ISNA ISNONTEXT ISNUMBER ISODD ISTEXT LARGE LEFT LEN LN LOG
    LOG10 LOOKUP LOWER MATCH MAX MAXA MAXIFS MEDIAN MID MIN MINA MINIFS MINUTE MOD MONTH MROUND N NA
    NETWORKDAYS NOT NOW OR PERCENTILE PI POWER PRODUCT PROPER QUOTIENT RANK REPLACE REPT RIGHT ROUND
    ROUNDDOWN ROUNDUP ROW ROWS SEARCH SECOND SEQUENCE SIGN SMALL SORT SORTBY SQRT STDEV STDEV.P STDEV.S
    SUBSTITUTE SUBTOTAL SUM SUMIF SUMIFS SUMPRODUCT SWITCH T TEXT TEXTJOIN TIME TODAY TRANSPOSE TRIM TRUE
    TRUNC UNIQUE UPPER VALUE VAR VAR.P VAR.S VLOOKUP WEEKDAY WEEKNUM WORKDAY XLOOKUP XMATCH XOR YEAR
"""
SAFE_FUNCTIONS = frozenset(_SAFE_NAMES.split())
_STRING = re.compile(r'"(?:[^"]|"")*"')
_CALLED = re.compile(r"([^\W\d][\w.\\]*)\s*\(")  # a name, in any script, then "("
_NEW_FUNCTION_PREFIX = re.compile(r"^(?:_xl(?:fn|ws)\.)+", re.IGNORECASE)


def reaches_outside(formula: str) -> bool:
    """True for a formula that refers to another file, uses DDE, names a function that calls out,
    or calls any function that is not one of `SAFE_FUNCTIONS` (text in quotes aside)."""
    if _OUTSIDE.search(formula):
        return True
    for name in _CALLED.findall(_STRING.sub('""', formula)):
        if _NEW_FUNCTION_PREFIX.sub("", name).upper() not in SAFE_FUNCTIONS:
            return True
    return False


def make_inert(wb: Workbook) -> int:
    """Strip from the copy whatever runs or calls out when it is opened; return how many items went.

    External links (xl/externalLinks) and defined names that point outside go; formulas that reach
    outside become their own text (inert, quote-prefixed); hyperlinks to other files or web
    addresses are removed (links inside the workbook stay); data validations whose lists point
    outside go.
    """
    removed = len(getattr(wb, "_external_links", []))
    wb._external_links = []
    for scope in [wb.defined_names, *(ws.defined_names for ws in wb.worksheets)]:
        for name in [n for n, d in scope.items() if d.value and reaches_outside(str(d.value))]:
            del scope[name]
            removed += 1
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):  # the cells present only (iter_rows would create the rest)
            if cell.data_type == "f":
                text = cell.value if isinstance(cell.value, str) else getattr(cell.value, "text", None) or ""
                if reaches_outside(str(text)):
                    st.write_text(cell, text if str(text).startswith("=") else f"={text}")
                    removed += 1
            link = cell.hyperlink
            if link is not None and (link.target or link.id):  # a target outside, with a location or not
                cell.hyperlink = None
                removed += 1
        validations = ws.data_validations.dataValidation
        kept = [dv for dv in validations if not reaches_outside(f"{dv.formula1 or ''} {dv.formula2 or ''}")]
        removed += len(validations) - len(kept)
        ws.data_validations.dataValidation = kept
        removed += _inert_conditional_formats(ws)
        removed += _inert_table_formulas(ws)
    return removed


def _inert_table_formulas(ws: Worksheet) -> int:
    """Drop the formulas of Excel tables' columns that reach outside: a calculated column's
    (Excel fills it into every row added to the table) and the total row's; return how many went.
    The cells keep what they hold: their own formulas are made inert above."""
    removed = 0
    for table in ws.tables.values():
        for column in table.tableColumns:
            for name in ("calculatedColumnFormula", "totalsRowFormula"):
                formula = getattr(column, name)
                if formula is not None and reaches_outside(str(formula.attr_text or "")):
                    setattr(column, name, None)
                    if name == "totalsRowFormula" and column.totalsRowFunction == "custom":
                        column.totalsRowFunction = None  # 'custom' without its formula: Excel would repair the file
                    removed += 1
    return removed


def _inert_conditional_formats(ws: Worksheet) -> int:
    """Drop the conditional formatting rules whose formulas reach outside (Excel evaluates them
    as it draws the sheet), the values of colour scales, data bars and icon sets among them
    (`<cfvo type="formula" val=...>`); return how many went."""
    rules = ws.conditional_formatting._cf_rules
    removed = 0
    for target in list(rules):
        kept = [rule for rule in rules[target] if not reaches_outside(_rule_formulas(rule))]
        removed += len(rules[target]) - len(kept)
        if kept:
            rules[target] = kept
        else:
            del rules[target]
    return removed


def _rule_formulas(rule: Any) -> str:
    """Every formula of a conditional formatting rule: its own, and its scale's, bar's or icons' values."""
    texts = [str(f) for f in rule.formula or []]
    for scale in (rule.colorScale, rule.dataBar, rule.iconSet):
        if scale is not None:
            texts += [str(v.val) for v in scale.cfvo or [] if v.val is not None]
    return " ".join(texts)


def _order(sheets: list[str], findings: list[Finding]) -> list[Finding]:
    """Workbook order: file-level findings first, then by sheet position, row, column, code."""
    position = {name: i for i, name in enumerate(sheets)}

    def key(f: Finding) -> tuple:
        pos = parse_cell(f.cell) if f.cell else None
        return (
            0 if not f.sheet else 1,
            position.get(f.sheet, len(position)),
            f.sheet,
            pos[0] if pos else (f.row or 0),
            pos[1] if pos else 0,
            f.code,
            f.message,
        )

    return sorted(findings, key=key)


def _summary(wb: Workbook, file_name: str, findings: list[Finding], note: str = "", lang: str = "en") -> None:
    """The summary sheet in `lang`, first and selected: the counts, what to do, and a table of the
    findings (the first MAX_LISTED, in workbook order), each linked to its cell."""
    name = unique_sheet_name(i18n.text("annotate.title", lang), wb.sheetnames)
    original = list(wb.sheetnames)
    ws = wb.create_sheet(name, 0)
    errors, warnings = count(findings)
    _summary_counts(ws, file_name, errors, warnings, lang)

    listed = _order(original, findings)
    verdict = _verdict(len(listed), note, lang)
    st.write_text(ws.cell(row=5, column=1), verdict).alignment = st.WRAP_TOP
    ws.merge_cells(start_row=5, start_column=1, end_row=5, end_column=len(SUMMARY_COLUMNS))
    ws.row_dimensions[5].height = 15 * max(2, -(-len(verdict) // 110))

    for idx, header in enumerate(SUMMARY_COLUMNS, start=1):
        st.write_text(ws.cell(row=TABLE_HEADER_ROW, column=idx), i18n.text(f"annotate.{header}", lang))
    st.style_header_row(ws, TABLE_HEADER_ROW, len(SUMMARY_COLUMNS))
    row = _summary_table(ws, listed[:MAX_LISTED], original, lang)

    st.set_widths(ws, SUMMARY_WIDTHS)
    last = column_letter(len(SUMMARY_COLUMNS))
    ws.auto_filter.ref = f"A{TABLE_HEADER_ROW}:{last}{max(row, TABLE_HEADER_ROW + 1)}"
    ws.freeze_panes = f"A{TABLE_HEADER_ROW + 1}"
    ws.print_title_rows = f"{TABLE_HEADER_ROW}:{TABLE_HEADER_ROW}"
    ws.sheet_properties.tabColor = "C00000" if errors else ("FFC000" if warnings else "00B050")
    st.fit_to_page_width(ws)

    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _summary_counts(ws: Worksheet, file_name: str, errors: int, warnings: int, lang: str = "en") -> None:
    """Title, file name and the error and warning counts (shaded when there are any)."""
    title = st.write_text(ws.cell(row=1, column=1), i18n.text("annotate.title", lang))
    title.font = st.TITLE_FONT
    rows = (("File", safe.sheet_safe(safe.file_name(file_name))), ("Errors", errors), ("Warnings", warnings))
    for row, (label, value) in enumerate(rows, start=2):
        st.write_text(ws.cell(row=row, column=1), i18n.text(f"annotate.{label.lower()}", lang)).font = st.BOLD
        cell = ws.cell(row=row, column=2)
        if isinstance(value, int):
            cell.value = value
            cell.alignment = st.INPUT_ALIGN
        else:
            st.write_text(cell, value)
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(SUMMARY_COLUMNS))
        if label == "Errors" and errors:
            cell.fill = st.ERROR_FILL
        if label == "Warnings" and warnings:
            cell.fill = st.WARNING_FILL


def _verdict(total: int, note: str, lang: str = "en") -> str:
    """What the focal point should do about `total` findings; `note`, if given, comes first."""
    verdict = (
        i18n.text("annotate.nothing", lang)
        if not total
        else i18n.text("annotate.correct", lang) + ("" if note else " " + i18n.text("annotate.click", lang))
    )
    if total > MAX_LISTED:
        verdict += " " + i18n.text("annotate.first", lang, listed=f"{MAX_LISTED:,}", total=f"{total:,}")
    if note:
        verdict = f"{note} {verdict}"
    return verdict


def _summary_table(ws: Worksheet, findings: list[Finding], sheets: list[str], lang: str = "en") -> int:
    """One row per finding under the table header, its cell reference a link; returns the last row."""
    row = TABLE_HEADER_ROW
    for f in findings:
        row += 1
        values = (f.sheet, f.cell, f.column, f.value, f.code, i18n.text(f"annotate.{f.severity}", lang), f.message)
        for idx, value in enumerate(values, start=1):  # the submission's text as the console shows it
            cell = st.write_text(ws.cell(row=row, column=idx), safe.sheet_safe(value) if value is not None else None)
            cell.alignment = st.WRAP_TOP
            cell.border = st.BORDER
        ws.cell(row=row, column=6).fill = st.ERROR_FILL if f.severity == ERROR else st.WARNING_FILL
        link = _link(f, sheets)
        if link:  # on the cell reference, or on the sheet name when the finding has no cell
            ref = ws.cell(row=row, column=2 if f.cell else 1)
            ref.hyperlink = Hyperlink(ref=ref.coordinate, location=link, display=str(ref.value))
            ref.font = st.LINK_FONT
        ws.row_dimensions[row].height = 15 * max(1, -(-len(f.message) // 100))
    return row


def _link(f: Finding, sheets: list[str]) -> str | None:
    """In-workbook link target of a finding: its cell, or A1 of its sheet; None if no such sheet."""
    if not f.sheet or f.sheet not in sheets:
        return None
    pos = parse_cell(f.cell) if f.cell else None
    target = f"{column_letter(pos[1])}{pos[0]}" if pos else "A1"
    return f"{_sheet_ref(f.sheet)}!{target}"


def _save(wb: Workbook, output: Path) -> Path:
    """Save whole or not at all (`paths.write_whole`): a killed writer or a full disk leaves no half file."""
    buffer = io.BytesIO()
    wb.save(buffer)
    output.parent.mkdir(parents=True, exist_ok=True)
    return paths.write_whole(output, buffer.getvalue())


def write_annotated(
    source: Path, findings: list[Finding], output: Path, file_name: str | None = None, lang: str = "en"
) -> Path:
    """Write `output`: the submission at `source` with flagged cells filled and commented, and a
    first sheet summarising `findings`. Raises when the copy cannot be made (see `annotate`)."""
    source, output = Path(source), Path(output)
    from pipeline.intake.read import file_bytes

    data = file_bytes(source, guard.DEFAULT_LIMITS)  # a regular file of bounded size, as when it was read
    report = guard.check_bytes(data)
    too_big = _too_big(report)
    if too_big:
        raise _NoCopy(*too_big)
    with warnings.catch_warnings():  # openpyxl's complaints about what it cannot read: the check below decides
        warnings.simplefilter("ignore", UserWarning)
        wb = load_workbook(io.BytesIO(data))
    worksheets = {name for name in report.sheet_names if report.sheet_kinds.get(name) == "worksheets"}
    if worksheets - set(wb.sheetnames):  # openpyxl reads a Strict Open XML workbook as no sheets
        raise _NoCopy("annotate.no-copy-strict" if _is_strict(data) else "annotate.no-copy-unopenable", {})
    make_inert(wb)
    _mark_cells(wb, _order(list(wb.sheetnames), findings)[:MAX_LISTED], lang)
    _summary(wb, file_name or source.name, findings, lang=lang)
    return _save(wb, output)


STRICT_MAIN = b"http://purl.oclc.org/ooxml/spreadsheetml/main"  # the Strict Open XML namespace


def _is_strict(data: bytes) -> bool:
    """Whether the workbook part is written in Strict Open XML (Excel's "Strict Open XML
    Spreadsheet" format), which calamine reads and openpyxl does not."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = {n.lower().lstrip("/"): n for n in package.namelist()}
        member = names.get("xl/workbook.xml")
        return member is not None and STRICT_MAIN in package.read(member)[:4096]


class _NoCopy(Exception):
    """Why a workbook is too large to copy: a key of the i18n text table and its parameters."""

    def __init__(self, key: str, params: dict[str, object]) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def reason(self, lang: str) -> str:
        from pipeline.catalogue import number_text

        params = {k: number_text(v, lang) if isinstance(v, int) else v for k, v in self.params.items()}
        return i18n.text(self.key, lang, **params)


def _too_big(report: guard.GuardReport) -> tuple[str, dict[str, object]] | None:
    for sheet, cells in report.range_cells.items():
        if cells > MAX_RANGE_CELLS:
            return "annotate.no-copy-range", {"sheet": sheet, "cells": cells}
    for sheet, last in report.last_cells.items():
        pos = parse_cell(last) if last else None
        if pos and pos[0] * pos[1] > MAX_COPY_CELLS:
            return "annotate.no-copy-extent", {"sheet": sheet, "cell": last}
    return None


def _no_copy_reason(exc: BaseException, lang: str) -> str:
    """Why the annotated copy could not be made, in the summary's language."""
    if isinstance(exc, _NoCopy):
        return exc.reason(lang)
    if isinstance(exc, UnreadableFile):  # the guard's refusal of the file at copying time
        return exc.render(lang)
    return i18n.text("annotate.no-copy-unopenable", lang)


def write_findings_only(
    file_name: str, findings: list[Finding], output: Path, reason: str = "", lang: str = "en"
) -> Path:
    """The summary sheet alone, for a submission the annotated copy cannot be made of (`reason`:
    why, in `lang`)."""
    wb = Workbook()
    wb.remove(wb.active)
    note = i18n.text("annotate.no-copy", lang, reason=f" ({reason})" if reason else "")
    _summary(wb, file_name, findings, note=note, lang=lang)
    return _save(wb, Path(output))


def annotate(source: Path, findings: list[Finding], output: Path, file_name: str, lang: str = "en") -> str:
    """The annotated copy, or the findings-only workbook when the copy cannot be made; says which."""
    try:
        write_annotated(source, findings, output, file_name, lang)
        return "annotated"
    except Exception as exc:  # whatever openpyxl raises on a workbook it cannot handle
        write_findings_only(file_name, findings, output, _no_copy_reason(exc, lang), lang)
        return f"findings-only: {type(exc).__name__}"


def annotate_many(
    jobs: Iterable[
        tuple[Path, list[Finding], Path]
        | tuple[Path, list[Finding], Path, str]
        | tuple[Path, list[Finding], Path, str, str]
    ],
    workers: int = 2,
    limits: guard.Limits = guard.DEFAULT_LIMITS,
) -> dict[Path, str]:
    """`annotate` each (source, findings, output[, language[, file name]]) in isolated worker
    processes; output -> outcome. The file name, as the summary sheet gives it, is the name the
    workbook was submitted under (an upload's, not its stored copy's); by default the source's.

    A worker that crashes, runs out of memory or time costs only the copy of its file: the
    findings-only workbook is then written here, from the findings alone.
    """
    from pipeline.workers import ReaderFailed, run_isolated

    items = [
        (
            Path(job[2]),
            (
                Path(job[0]),
                list(job[1]),
                Path(job[2]),
                job[4] if len(job) > 4 else Path(job[0]).name,
                job[3] if len(job) > 3 else "en",
            ),
        )
        for job in jobs
    ]
    if not items:
        return {}
    sources = {out: args for out, args in items}
    outcomes: dict[Path, str] = {}
    for output, result in run_isolated(items, annotate, workers, limits=limits):
        if isinstance(result, str):
            outcomes[output] = result
            continue
        _, found, _, name, lang = sources[output]
        why = "annotate.no-copy-resources" if isinstance(result, ReaderFailed) else "annotate.no-copy-failed"
        write_findings_only(name, found, output, i18n.text(why, lang), lang)
        outcomes[output] = f"findings-only: {getattr(result, 'kind', type(result).__name__)}"
    return outcomes
