"""Validate: parsed workbooks -> Submissions carrying their findings and, when valid, typed tables.

The pandera models of `schemas/` run once per sheet type over the rows of *all* workbooks
concatenated (pandera costs a few ms per call; one call per sheet type keeps a 60-file run
fast). Failure cases come back indexed by (file number, Excel row) and are translated into
findings on the original cells.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import schemas
from pipeline import safe
from pipeline.catalogue import using_language
from pipeline.errors import UnreadableFile
from pipeline.intake import coerce
from pipeline.intake.findings import Finding, count, finding, sort_key, unreadable_finding
from pipeline.intake.normalise import SAME_FINDINGS_LISTED, ParsedSheet, ParsedWorkbook, normalised, pipeline_fault
from pipeline.intake.workbook import RawWorkbook
from schemas import checks, contract, i18n

FILE_LEVEL = "file_no"
ROW_LEVEL = "row"
# Sheets whose rules need the Entity sheet's reporting year beside each row: those with a bound
# relative to it in the contract (columns.csv: `reporting_year+1`, `reporting_year-01-01`), and
# AirTravel (the factor set of the year prices its flights).
NEEDS_REPORTING_YEAR = tuple(
    dict.fromkeys(
        [
            *(
                spec.name
                for spec in contract.sheets()
                for col in spec.columns
                if any(str(bound or "").startswith("reporting_year") for bound in (col.ge, col.gt, col.le))
            ),
            "AirTravel",
        ]
    )
)


@dataclass(frozen=True)
class _Cut:
    """Rows start:end of a table that all workbooks validated together share."""

    table: pd.DataFrame
    start: int
    end: int

    def rows(self) -> pd.DataFrame:
        """The rows, as a table of their own (a copy, indexed from 0)."""
        return self.table.iloc[self.start : self.end].reset_index(drop=True)


class TypedTables(MutableMapping[str, pd.DataFrame]):
    """A submission's typed tables by sheet.

    Workbooks validated together share one typed table per sheet; a submission's rows are cut
    from it (a copy with its own index) when first asked for, so that taking every submission's
    rows at once (`concat_tables`, to load them) costs one selection instead of a cut per
    workbook and sheet, and a concatenation. Pickled as the tables themselves."""

    def __init__(self, tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        self._items: dict[str, pd.DataFrame | _Cut] = dict(tables or {})

    def cut(self, sheet: str, table: pd.DataFrame, start: int, end: int) -> None:
        """The sheet's rows are rows start:end of `table`, cut out when first asked for."""
        self._items[sheet] = _Cut(table, start, end)

    def __getitem__(self, sheet: str) -> pd.DataFrame:
        item = self._items[sheet]
        if isinstance(item, _Cut):
            item = self._items[sheet] = item.rows()
        return item

    def __setitem__(self, sheet: str, table: pd.DataFrame) -> None:
        self._items[sheet] = table

    def __delitem__(self, sheet: str) -> None:
        del self._items[sheet]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"TypedTables({dict(self)!r})"

    def __reduce__(self) -> tuple[type[TypedTables], tuple[dict[str, pd.DataFrame]]]:
        return TypedTables, (dict(self),)


def concat_tables(tables: Sequence[Mapping[str, pd.DataFrame]], sheet: str) -> tuple[pd.DataFrame, list[int]]:
    """The rows of `sheet` of each of `tables` one after the other (a fresh index), and how many
    each gave (0 without the sheet): what concatenating `t[sheet]` gives, without cutting the
    rows of submissions validated together out of their shared table first."""
    counts: list[int] = []
    pieces: list[pd.DataFrame] = []
    run: list[_Cut] = []  # consecutive cuts of one shared table

    def flush() -> None:
        if run:
            rows = np.concatenate([np.arange(c.start, c.end) for c in run])
            pieces.append(run[0].table.take(rows))
            run.clear()

    for t in tables:
        item = t._items.get(sheet) if isinstance(t, TypedTables) else t.get(sheet)
        if isinstance(item, _Cut):
            counts.append(item.end - item.start)
            if run and run[0].table is not item.table:
                flush()
            if item.end > item.start:
                run.append(item)
            continue
        flush()
        counts.append(0 if item is None else len(item))
        if item is not None and len(item):
            pieces.append(item)
    flush()
    if not pieces:
        return pd.DataFrame(), counts
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    return frame.reset_index(drop=True), counts


@dataclass
class Submission:
    """One workbook after validation."""

    path: str
    file_name: str
    sha256: str = ""
    size_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)
    entity: dict[str, object] = field(default_factory=dict)  # typed Entity fields (valid submissions)
    ems: dict[str, object] = field(default_factory=dict)  # typed EMS fields (valid submissions)
    tables: MutableMapping[str, pd.DataFrame] = field(default_factory=TypedTables)  # typed tables, with source_row
    entity_code: str | None = None  # as far as it could be read, for report folders
    reporting_year: int | None = None
    readable: bool = True
    letters: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, column) -> column letter
    cells: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, field) -> value cell
    headers: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, column) -> header as written
    # reviewed against a warehouse (the portal): key figures as loaded, beside the entity's year before
    figures: list[dict] = field(default_factory=list)
    lang: str = "en"  # the workbook's language: its findings are written in it
    tabs: dict[str, str] = field(default_factory=dict)  # contract sheet -> its tab as written

    def tab(self, sheet: str) -> str:
        """A contract sheet's tab in this workbook ('Installations' for Facilities in French)."""
        return self.tabs.get(sheet, sheet)

    def header(self, sheet: str, column: str) -> str:
        """A column's header (a field's label) as this workbook writes it ('Quantité'); the
        contract's name where the workbook has no such column."""
        return self.headers.get((sheet, column), column)

    @property
    def errors(self) -> int:
        return count(self.findings)[0]

    @property
    def warnings(self) -> int:
        return count(self.findings)[1]

    @property
    def is_valid(self) -> bool:
        return self.readable and self.errors == 0

    @property
    def key(self) -> str:
        """`{ENTITY}_{YEAR}` when both could be read, else the file's stem."""
        if self.entity_code and self.reporting_year:
            return f"{self.entity_code}_{self.reporting_year}"
        return Path(self.file_name).stem


def unreadable(path: Path | str, error: UnreadableFile) -> Submission:
    path = Path(path)
    name = safe.file_name(path.name)
    return Submission(path=str(path), file_name=name, findings=[unreadable_finding(name, error)], readable=False)


def validate_files(
    files: list[Path],
    jobs: int,
    on_file: Callable[[Path], object] | None = None,
    warm_up: Callable[[], object] | None = None,
    lang: str | None = None,
    unread_lang: str | None = None,
) -> list[Submission]:
    """Read and normalise files in worker processes, then validate them all at once.

    Each worker guards, reads and normalises one workbook at a time (`normalise.read_normalised`),
    so normalising runs on every core, overlapped with reading (a workbook too large to
    normalise within a worker's memory cap is normalised here); a workbook the pipeline fails
    to normalise is that workbook's unreadable-file verdict. One pandera call per sheet type over
    every workbook: validating in batches as files arrive was measured slower (pandera's fixed
    cost per call outweighs the overlap on two cores; see docs/performance.md). The sheet models
    and code-list indexes are built while the first files are read, and so is whatever
    `warm_up` prepares for the caller's next steps. One file alone, read with the guard and
    calamine side by side, comes in two: its sheets but the largest first, which are validated
    here while the worker normalises the largest (`check_part`). Results keep the input order.
    `lang` sets the language of every workbook's findings; by default each workbook's own (its
    sheet names). A file that cannot be read has no sheet names to tell its language: its finding
    is in `lang`, else `unread_lang` (the portal's page, where it was uploaded), else English.
    A reading of exactly these files started ahead (`ahead.start`, by the command line before it
    imports the rest) is taken up instead of starting another.
    """
    from pipeline.intake import ahead

    reading = ahead.take(files, jobs, lang) or ahead.Reading(files, jobs, lang)
    if on_file:
        reading.listen(on_file)
    _warm_up(warm_up)  # while the workers read
    ahead_part = reading.part(files[0]) if len(files) == 1 else None
    checked = None
    if isinstance(ahead_part, ParsedWorkbook):
        try:
            checked = check_part(ahead_part)  # while it reads on
        except Exception:
            checked = None  # checked again with the rest, where a fault becomes the workbook's verdict
    results: dict[Path, ParsedWorkbook | RawWorkbook | UnreadableFile] = reading.results()  # type: ignore[assignment]
    if checked is not None and not (
        isinstance(results[files[0]], ParsedWorkbook) and reading.part(files[0]) is ahead_part
    ):
        checked = None  # not the rest of that part: its reading failed, the file was read again
    parsed = _parsed(results, lang)
    validated = dict(zip(parsed, validate_each_fault_apart(list(parsed.values()), checked), strict=True))
    subs = []
    for f in files:
        result = results[f]
        if isinstance(result, UnreadableFile):
            with using_language(lang or unread_lang):
                sub = unreadable(f, result)
            sub.lang = lang or unread_lang or sub.lang
            subs.append(sub)
        else:
            subs.append(validated[f])
    return subs


def _parsed(
    results: dict[Path, ParsedWorkbook | RawWorkbook | UnreadableFile], lang: str | None
) -> dict[Path, ParsedWorkbook]:
    """The workbooks the workers normalised, and those they read but could not normalise within
    their memory cap, normalised here; a fault of the pipeline on one workbook becomes its own
    unreadable-file verdict (in `results`) instead of ending the whole batch."""
    parsed = {}
    for f, r in results.items():
        if isinstance(r, RawWorkbook):
            try:
                r = results[f] = normalised(r, lang)
            except UnreadableFile as exc:
                results[f] = exc
                continue
        if isinstance(r, ParsedWorkbook):
            parsed[f] = r
    return parsed


def _warm_up(also: Callable[[], object] | None) -> None:
    """What the first validation would otherwise build on its clock, and the caller's own preparations."""
    checks.warm_up()
    for spec in contract.sheets():
        coerce.empty_table(spec.name)
    if also is not None:
        also()


@dataclass
class Checked:
    """What the sheet models found in the sheets of some types (`sheets`) of the workbooks
    validated together: their findings, by file number, and their typed tables."""

    sheets: set[str] = field(default_factory=set)
    findings: dict[str, list[tuple[int, Finding]]] = field(default_factory=dict)  # sheet -> (file number, finding)
    typed: dict[str, tuple[pd.DataFrame, np.ndarray]] = field(default_factory=dict)  # sheet -> table, file numbers


def check_part(part: ParsedWorkbook) -> Checked:
    """The sheet models run over the sheets of a workbook that its worker sent ahead of the rest
    (`ahead.Reading.part`): what `validate_parsed([workbook], checked)` then need not run again,
    as those sheets are the workbook's own. The sheets whose rules need the Entity sheet's
    reporting year wait for the rest when the Entity sheet is not among them."""
    names = {name for name in part.sheets if "Entity" in part.sheets or name not in NEEDS_REPORTING_YEAR}
    return _check([part], _reporting_years([part]), names, Checked())


def validate_parsed(parsed: list[ParsedWorkbook], checked: Checked | None = None) -> list[Submission]:
    """Run every sheet model over all workbooks at once; return one Submission per workbook.
    `checked`: what the models found already in some sheet types of these very workbooks
    (`check_part`); those types are not checked again, the others are added to it."""
    subs = [Submission(p.path, p.file_name, p.sha256, p.size_bytes, findings=list(p.findings)) for p in parsed]
    years = _reporting_years(parsed)
    for sub, p, year, code in zip(subs, parsed, years, _entity_codes(parsed), strict=True):
        sub.entity_code = code
        sub.lang = p.lang
        sub.tabs = {name: sheet.tab or name for name, sheet in p.sheets.items()}
        for name, sheet in p.sheets.items():
            sub.letters.update({(name, c): letter for c, letter in sheet.letters.items()})
            sub.cells.update({(name, c): cell for c, cell in sheet.cells.items()})
            sub.headers.update({(name, c): header for c, header in sheet.headers.items()})
        sub.reporting_year = int(year) if year is not None else None

    done = checked or Checked()
    names = {spec.name for spec in contract.sheets()} - done.sheets
    _check(parsed, years, names, done)
    for spec in contract.sheets():
        for file_no, f in done.findings.get(spec.name, []):
            subs[file_no].findings.append(f)
    for sub in subs:
        sub.findings = _dedupe(sub.findings)
    _attach_typed(subs, done.typed)
    return subs


def validate_each_fault_apart(parsed: list[ParsedWorkbook], checked: Checked | None = None) -> list[Submission]:
    """`validate_parsed`, where a fault of the pipeline on one workbook (an exception it raises,
    not a finding) is that workbook's own verdict, as a fault when normalising is
    (`normalise.pipeline_fault`): the workbooks are then validated one by one, and each on which
    validation still raises gets the unreadable-file.internal-error finding. The others are
    validated as they would have been with it."""
    try:
        return validate_parsed(parsed, checked)
    except Exception:
        pass
    subs = []
    for p in parsed:
        try:
            [sub] = validate_parsed([p])
        except Exception as exc:
            with using_language(p.lang):
                sub = unreadable(p.path, pipeline_fault(exc))
            sub.sha256, sub.size_bytes = p.sha256, p.size_bytes
        subs.append(sub)
    return subs


def _check(parsed: list[ParsedWorkbook], years: list[float | None], names: set[str], checked: Checked) -> Checked:
    """Run the sheet models of the sheet types `names` over all workbooks; add what they find to `checked`."""
    with checks.dates_from_1904(frozenset(i for i, p in enumerate(parsed) if p.date1904)):
        return _check_sheets(parsed, years, names, checked)


def _check_sheets(
    parsed: list[ParsedWorkbook], years: list[float | None], names: set[str], checked: Checked
) -> Checked:
    for spec in contract.sheets():
        if spec.name not in names:
            continue
        checked.sheets.add(spec.name)
        present = [(i, p.sheets[spec.name]) for i, p in enumerate(parsed) if spec.name in p.sheets]
        if not any(s.index for _, s in present):
            continue
        # keys: (file number, Excel row) of each row; pandera reports flat positions, not tuples
        combined, keys = _combined(present, [c.name for c in spec.columns])
        combined[checks.FILE_NO] = keys.files
        if spec.name in NEEDS_REPORTING_YEAR:
            each_file = np.array([np.nan if year is None else year for year in years], dtype="float64")
            combined[checks.REPORTING_YEAR] = pd.array(each_file[keys.files], dtype="Float64")  # NaN: <NA>
        sheets = dict(present)
        with checks.shared_parsing():  # each column is parsed once for all its checks and its coercion
            checked.findings[spec.name] = _run_schema(spec, combined, keys, sheets, parsed)
            checked.findings[spec.name] += repeated_rows(spec, combined, keys, sheets, parsed)
            # the very columns the checks parsed, so that coercion finds them parsed already
            typed = coerce.typed_table(combined, spec, source_rows=pd.Index(keys.rows))
        checked.typed[spec.name] = (typed, keys.files)
    return checked


@dataclass(frozen=True)
class _Keys:
    """The file number and Excel row of each row of the sheets of many workbooks combined."""

    files: np.ndarray  # int64
    rows: np.ndarray  # int64

    def __getitem__(self, position: int) -> tuple[int, int]:
        return int(self.files[position]), int(self.rows[position])


def _combined(present: list[tuple[int, ParsedSheet]], names: list[str]) -> tuple[pd.DataFrame, _Keys]:
    """The rows of one sheet of every workbook, as one object grid of the contract columns `names`
    (None where a workbook lacks a column), and the (file number, Excel row) of each row: what
    concatenating the sheets' `frame`s gives, without building a frame per workbook first."""
    sheets = [(i, s) for i, s in present if s.index]
    grid = np.empty((sum(len(s.index) for _, s in sheets), len(names)), dtype=object)
    start = 0
    for _, s in sheets:
        stop = start + len(s.index)
        for position, name in enumerate(names):
            if name in s.values:
                grid[start:stop, position] = s.values[name]  # element by element: a value is never unpacked
        start = stop
    keys = _Keys(
        np.repeat(np.array([i for i, _ in sheets], dtype="int64"), [len(s.index) for _, s in sheets]),
        np.fromiter(itertools.chain.from_iterable(s.index for _, s in sheets), dtype="int64", count=len(grid)),
    )
    return pd.DataFrame(grid, columns=names, dtype=object, copy=False), keys  # the grid is this frame's own


# messages whose `name` is the column or field of the cell: its header (or field name) as written in the workbook
NAMING_THE_COLUMN = frozenset(
    {"missing-value.column", "missing-value.field", "missing-value.required", "missing-value.merged"}
)
# an empty required cell: said to be part of merged cells where it is (`ParsedSheet.merged_range`)
EMPTY_REQUIRED = frozenset(
    {
        "missing-value.column",
        "missing-value.field",
        "missing-value.required",
        "missing-value.origin",  # a route's airport merged over the flights of the same route
        "missing-value.destination",
    }
)
# a finding on a row's other cell, when this column's cell of the row is empty because merged
EMPTY_ELSEWHERE = {"missing-value.route": "origin"}  # no airports and no distance: the airports merged


def _run_schema(
    spec: contract.SheetSpec,
    combined: pd.DataFrame,
    keys: _Keys,  # (file number, Excel row) of each row of `combined`
    sheets: dict[int, ParsedSheet],
    parsed: list[ParsedWorkbook],
) -> list[tuple[int, Finding]]:
    out: list[tuple[int, Finding]] = []
    listed: Counter[tuple[int, str, str]] = Counter()  # (file, column, rule) -> failures listed, then beyond
    for failure in checks.failures(schemas.schemas()[spec.name], combined):
        file_no, row = keys[failure.position]
        sheet = sheets[file_no]
        if failure.column in sheet.missing:
            continue  # the missing column or field is reported once, not on every row
        cell, excel_row, header = sheet.locate(failure.column, row)
        if cell in sheet.reported_cells:
            continue  # reported as formula-without-value or as an Excel error
        same = (file_no, failure.column, failure.rule.id if failure.rule else "")
        listed[same] += 1
        if listed[same] > SAME_FINDINGS_LISTED:
            continue  # counted, said once below
        message_id, params = failure.message(
            combined, "missing-value.column" if sheet.is_table else "missing-value.field"
        )
        column = failure.column
        if message_id in EMPTY_ELSEWHERE and sheet.merged:
            other = EMPTY_ELSEWHERE[message_id]
            other_cell, _, other_header = sheet.locate(other, row)
            if sheet.merged_range(other_cell):  # the row's airports merged with the row above
                column, cell, header, message_id = other, other_cell, other_header, "missing-value.required"
        if message_id in EMPTY_REQUIRED and (merged := sheet.merged_range(cell)):
            message_id, params = "missing-value.merged", {"range": merged[0], "first": merged[1]}
        if message_id in NAMING_THE_COLUMN:  # named as the focal point sees it, not by its contract name
            params = {**params, "name": header}
        value = combined.at[failure.position, column]
        found = finding(
            message_id,
            **params,
            lang=parsed[file_no].lang,
            file=parsed[file_no].file_name,
            sheet=sheet.tab or spec.name,
            cell=cell,
            row=excel_row,
            column=header,
            value=sheet.shown(column, row if sheet.is_table else 0, value),
        )
        out.append((file_no, found))
    out += _more_of_the_same(spec, listed, sheets, parsed)
    return out


def repeated_rows(
    spec: contract.SheetSpec,
    combined: pd.DataFrame,
    keys: _Keys,
    sheets: dict[int, ParsedSheet],
    parsed: list[ParsedWorkbook],
) -> list[tuple[int, Finding]]:
    """A `duplicate-row` warning on each row of a sheet whose rows are one item each
    (`SheetSpec.unique_rows`) that holds, in every column of the contract, what a row above it
    holds: a block pasted twice counts its figures twice. On the row's first cell, naming the row
    it repeats; at most SAME_FINDINGS_LISTED per workbook and sheet, the rest counted."""
    if not spec.unique_rows:
        return []
    rows = combined[list(spec.names)].assign(_file=keys.files)
    try:  # in compiled code: which rows take part in a repetition at all (few, or none)
        involved = np.flatnonzero(rows.duplicated(keep=False).to_numpy())
    except TypeError:  # a value that cannot be hashed: every row compared below, by its text
        involved = np.arange(len(rows))
    if not len(involved):
        return []
    columns = [rows[name].to_numpy()[involved].tolist() for name in (*spec.names, "_file")]
    first: dict[tuple, int] = {}  # (the row's values, file number) -> its first position
    listed: Counter[tuple[int, str, str]] = Counter()
    out: list[tuple[int, Finding]] = []
    for position, values in zip(involved.tolist(), zip(*columns, strict=True), strict=True):
        try:
            earlier = first.setdefault(values, position)
        except TypeError:
            earlier = first.setdefault(tuple(map(repr, values)), position)
        if earlier == position:
            continue
        file_no, row = keys[position]
        sheet = sheets[file_no]
        # on the row's first cell: its first contract column the sheet has
        lead = next((c for c in spec.names if c in sheet.letters), spec.names[0])
        listed[(file_no, lead, "duplicate-row")] += 1
        if listed[(file_no, lead, "duplicate-row")] > SAME_FINDINGS_LISTED:
            continue
        cell, excel_row, header = sheet.locate(lead, row)
        lang = parsed[file_no].lang
        comment = sheet.headers.get("comment") or i18n.header(spec.name, "comment", lang)
        found = finding(
            "duplicate-row.repeats",
            other=keys[earlier][1],
            comment=comment,
            lang=lang,
            file=parsed[file_no].file_name,
            sheet=sheet.tab or spec.name,
            cell=cell,
            row=excel_row,
            column=header,
            value=sheet.shown(lead, row, combined.at[position, lead]),
        )
        out.append((file_no, found))
    return out + _more_of_the_same(spec, listed, sheets, parsed)


def _more_of_the_same(
    spec: contract.SheetSpec,
    listed: Counter[tuple[int, str, str]],
    sheets: dict[int, ParsedSheet],
    parsed: list[ParsedWorkbook],
) -> list[tuple[int, Finding]]:
    """One `more-findings` warning per (workbook, column, rule) beyond SAME_FINDINGS_LISTED: how many
    more cells of the column have the problem of the ones listed."""
    out = []
    for (file_no, column, _), failed in listed.items():
        if failed > SAME_FINDINGS_LISTED:
            sheet = sheets[file_no]
            header = sheet.headers.get(column, column)
            found = finding(
                "more-findings.same",
                count=failed - SAME_FINDINGS_LISTED,
                listed=SAME_FINDINGS_LISTED,
                name=header,
                lang=parsed[file_no].lang,
                file=parsed[file_no].file_name,
                sheet=sheet.tab or spec.name,
                column=header,
            )
            out.append((file_no, found))
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in sorted(findings, key=sort_key):
        key = (f.sheet, f.cell, f.code, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _field(p: ParsedWorkbook, sheet: str, name: str) -> object:
    s = p.sheets.get(sheet)
    column = None if s is None else s.values.get(name)
    return column[0] if column else None


def _reporting_years(parsed: list[ParsedWorkbook]) -> list[float | None]:
    """Each Entity sheet's reporting year when valid; rules that depend on it are skipped otherwise."""
    years = checks.parse_number(pd.Series([_field(p, "Entity", "reporting_year") for p in parsed], dtype=object))
    first = float(contract.sheet("Entity").column("reporting_year").ge or 0)
    return [
        float(year) if pd.notna(year) and float(year).is_integer() and first <= year <= checks.current_year() else None
        for year in years
    ]


def _entity_codes(parsed: list[ParsedWorkbook]) -> list[str | None]:
    """Each Entity sheet's entity code when it is a listed one."""
    codes = checks.parse_ref(pd.Series([_field(p, "Entity", "entity_code") for p in parsed], dtype=object))
    listed = checks.in_codelist(codes, "entities")
    return [None if pd.isna(code) or not ok else str(code) for code, ok in zip(codes, listed, strict=True)]


def _attach_typed(subs: list[Submission], typed_by_sheet: dict[str, tuple[pd.DataFrame, np.ndarray]]) -> None:
    """Typed tables for the valid submissions, split by file from the one-pass coercion per sheet type."""
    valid = [i for i, sub in enumerate(subs) if sub.errors == 0]
    if not valid:
        return
    for spec in contract.sheets():
        empty = coerce.empty_table(spec.name)
        cuts: dict[int, _Cut] = {}  # file number -> its rows of the typed table
        if spec.name in typed_by_sheet:
            typed, numbers = typed_by_sheet[spec.name]
            assert (np.diff(numbers) >= 0).all(), "the sheets are combined in file order"  # each file's rows: one run
            starts = np.searchsorted(numbers, valid, side="left").tolist()
            ends = np.searchsorted(numbers, valid, side="right").tolist()
            spans = zip(valid, starts, ends, strict=True)
            cuts = {i: _Cut(typed, start, end) for i, start, end in spans if end > start}
        for i in valid:
            if spec.is_table and i in cuts:
                tables = subs[i].tables
                assert isinstance(tables, TypedTables)  # as `validate_parsed` made it
                tables.cut(spec.name, cuts[i].table, cuts[i].start, cuts[i].end)
                continue
            table = cuts[i].rows() if i in cuts else empty.copy()
            if spec.is_table:
                subs[i].tables[spec.name] = table
            elif spec.name == "Entity":
                subs[i].entity = coerce.fields_of(table, spec)
            else:
                subs[i].ems = coerce.fields_of(table, spec)
