"""Parsing and the pandera checks every sheet model is built from.

Sheets reach pandera with their cells *as typed* (object columns: numbers, text, dates, None),
so a check can report the value a focal point actually wrote. Each check's `name` is a rule id
of `RULES`; a rule knows its finding code, which column it blames, and how to word the message.
The same parse functions later turn valid columns into typed ones (`pipeline.intake.coerce`).

A sheet model is held as the parts of a pandera `DataFrameSchema` that validation uses
(`SheetModel`, `Column`, `Check`: columns, checks, their functions and names), and
`SheetModel.to_pandera()` gives the pandera model itself. `failures` runs the parts as pandera's
lazy validation runs the model (`pandera_failures`, which the tests compare with it on every
sheet of the findings corpus), so that validating does not import pandera (0.16 s a process).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute

from pipeline import catalogue, codelists
from pipeline.catalogue import Message
from pipeline.cells import NUMBER_SPACES, NUMBER_TEXT, NUMBER_TYPES
from pipeline.codelists import UNSEEN
from schemas import i18n
from schemas.contract import ColumnSpec, resolve_bound

if TYPE_CHECKING:
    import pandera.pandas as pa

# Context columns added beside a sheet's own columns (never part of the contract).
REPORTING_YEAR = "_reporting_year"
FILE_NO = "_file_no"  # which workbook a row came from, when many are validated together

# An e-mail address: no white space, '@' or colon in its parts (a colon is not allowed unquoted,
# and a link's 'mailto:' prefix has one), nor anything unseen.
# an address: no colon (a pasted "mailto:"), and a top-level domain of letters, digits or hyphens
# (a link's "?subject=" or a trailing ">" is no part of it)
_EMAIL = re.compile(f"[^@:\\s{UNSEEN}]+@[^@:\\s{UNSEEN}]+\\.[^\\W_][\\w-]*[^\\W_]")
_MAILTO = re.compile(r"mailto:\s*(.*)", re.IGNORECASE)
_NAMED_ADDRESS = re.compile(r"[^<>]*+<\s*+(?:mailto:)?([^<>]*+)>[\s;,]*+", re.IGNORECASE)  # linear: possessive
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An ISO date and time as programs write it ('2025-03-15T10:30:00', '2025-03-15 00:00:00.000Z',
# '2025-03-15T10:30+01:00'): the date, the time and the zone
_ISO_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE
)


# ---------------------------------------------------------------------------------- parsing
# Arrow-backed strings: strip, lower and regex run in compiled code, not per element in Python.
STRING: Final = "string[pyarrow]"
_memo: dict | None = None
T = TypeVar("T")


@contextmanager
def shared_parsing() -> Iterator[None]:
    """Within this block, parsing the same column twice returns the first result.

    Every check of a column parses it (type, range, cross-column rules), and coercion parses it
    once more; pandera hands each check the same underlying array, so results are keyed by the
    array's address. The cache holds the arrays themselves, so an address is never reused
    within the block.
    """
    global _memo
    outer, _memo = _memo, {}
    try:
        yield
    finally:
        _memo = outer


_date1904: frozenset[int] = frozenset()  # within `dates_from_1904`: the workbooks (FILE_NO) counting from 1904


@contextmanager
def dates_from_1904(files: frozenset[int]) -> Iterator[None]:
    """Within this block, the workbooks numbered `files` (`FILE_NO`) count their dates from
    1904-01-01 (`workbookPr date1904`): what a number that lost its date format means
    (`_date_params`) depends on it."""
    global _date1904
    outer, _date1904 = _date1904, files
    try:
        yield
    finally:
        _date1904 = outer


def _shared(name: str, array: np.ndarray, compute: Callable[[], T]) -> T:
    """`compute()`, or within `shared_parsing` what it gave for this very array (by its address)
    the first time `name` was asked of it."""
    if _memo is None:
        return compute()
    key = (name, array.__array_interface__["data"][0], len(array))
    if key not in _memo:
        _memo[key] = compute()
        _memo[(*key, "source")] = array  # keeps the address taken while the block lasts
    return _memo[key]


def _memoised(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    @functools.wraps(fn)
    def wrapper(s: pd.Series) -> pd.Series:
        if s.dtype != object:
            return fn(s)
        hit = _shared(fn.__name__, s.to_numpy(copy=False), lambda: by_distinct(fn, s))
        return hit if hit.index.equals(s.index) else hit.set_axis(s.index)

    return wrapper


# Columns whose values (empty cells aside) are all of one of these kinds are parsed value by
# distinct value; among mixed kinds 1, 1.0 and True are one key to a hash but not to every parser.
_ONE_KIND: Final = frozenset({"string", "integer", "floating"})
DISTINCT_FROM_ROWS: Final = 1000  # shorter columns are parsed as they are


def by_distinct(fn: Callable[[pd.Series], pd.Series], s: pd.Series) -> pd.Series:
    """`fn(s)` for a parser that takes each value on its own: computed on the column's distinct
    values and spread back over its rows, when the column is long, of one kind of value, and
    repeats them (a column of codes repeats a few thousands of times: its string operations then
    run on a few values instead of 100,000)."""
    found = distinct(s)
    if found is None:
        return fn(s)
    codes, values = found
    return fn(values).iloc[codes].set_axis(s.index)


def distinct(s: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """(the row's position in `values` for each row, `values`): the distinct values of a column
    that is long, of one kind of value and repeats them, then None for its empty cells (None,
    NaN); None for other columns. Within `shared_parsing`, a column is factorised once for all
    its parsers and checks."""
    if s.dtype != object or len(s) < DISTINCT_FROM_ROWS:
        return None
    array = s.to_numpy(dtype=object, copy=False)
    return _shared("distinct", array, lambda: _factorised(array, s.name))


def _factorised(array: np.ndarray, name: Hashable) -> tuple[np.ndarray, pd.Series] | None:
    if pd.api.types.infer_dtype(array, skipna=True) not in _ONE_KIND:
        return None
    codes, uniques = pd.factorize(array)  # empty cells (None, NaN): -1
    if len(uniques) * 4 > len(array):
        return None
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = uniques
    values[-1] = None  # where the empty cells point
    codes[codes < 0] = len(uniques)
    return codes, pd.Series(values, dtype=object, name=name)


def _text(s: pd.Series) -> pd.Series:
    """Every value as stripped text (pandas string dtype, <NA> for empty cells)."""
    return s.astype(STRING).str.strip()


# What `infer_dtype` calls a column that holds no text (empty cells aside): its blank cells are its empty ones.
_NO_TEXT: Final = frozenset({"empty", "floating", "integer", "mixed-integer-float", "boolean", "date", "datetime"})


@_memoised
def is_blank(s: pd.Series) -> pd.Series:
    """None/NaN or text that is only white space. A column without text (numbers, dates) is
    not turned into text to find out."""
    if pd.api.types.infer_dtype(s, skipna=True) in _NO_TEXT:
        return s.isna().astype(bool)
    return (s.isna() | _text(s).eq("").fillna(False)).astype(bool)


@_memoised
def parse_number(s: pd.Series) -> pd.Series:
    """Numbers as typed or as numeric text ('1 200', '1,200.5') -> float; anything else NaN.

    Booleans and dates are not numbers. Vectorised: one pass to sort cells by type, then
    string operations over the text cells only.
    """
    out = pd.Series(np.nan, index=s.index, dtype="float64")
    types = s.map(type)
    is_num = types.isin(NUMBER_TYPES)
    if is_num.any():
        out[is_num] = s[is_num].astype("float64")
    is_text = types.eq(str)  # type: ignore[arg-type]  # a Series of types; the stubs expect scalars
    if is_text.any():
        text = s[is_text].astype(STRING).str.strip().str.replace(NUMBER_SPACES.pattern, "", regex=True)
        ok = text.str.fullmatch(NUMBER_TEXT.pattern).fillna(False).astype(bool)
        if ok.any():
            out[ok[ok].index] = pd.to_numeric(text[ok].str.replace(",", "", regex=False), errors="coerce").astype(
                "float64"
            )
    return out.where(np.isfinite(out))  # inf and NaN (an XML <v>inf</v>, 400 digits of text) are no numbers


@_memoised
def parse_date(s: pd.Series) -> pd.Series:
    """Excel dates (date/datetime cells) or ISO text 'YYYY-MM-DD' -> Timestamp; anything else NaT."""

    def one(v: object) -> pd.Timestamp | None:
        if isinstance(v, dt.datetime):
            return pd.Timestamp(v).normalize()
        if isinstance(v, dt.date):
            return pd.Timestamp(v)
        if isinstance(v, str) and _ISO_DATE.fullmatch(v.strip()):
            try:
                return pd.Timestamp(dt.date.fromisoformat(v.strip()))
            except ValueError:
                return None
        if isinstance(v, str) and (day := date_of_date_time(v)) is not None:
            return pd.Timestamp(day)
        return None

    return pd.to_datetime(s.map(one), errors="coerce")


@_memoised
def parse_code(s: pd.Series) -> pd.Series:
    """Enumerations: 'Natural Gas' -> 'natural_gas' (case, spaces and hyphens ignored)."""
    return _text(s).str.lower().str.replace(codelists.SEPARATORS, "_", regex=True)


@_memoised
def parse_ref(s: pd.Series) -> pd.Series:
    """Reference codes (country, airport, entity): upper case, surrounding spaces ignored."""
    return _text(s).str.upper()


@_memoised
def parse_text(s: pd.Series) -> pd.Series:
    text = _text(s)
    return text.mask(text.eq("").fillna(False))


@cache
def code_index(codelist: str) -> pd.Index:
    """A hashed index of the codes: membership by get_indexer is far cheaper than isin on long lists."""
    return pd.Index(codelists.codes(codelist))


@cache
def _code_values(codelist: str, arrow_type: pyarrow.DataType) -> pyarrow.Array:
    """The codes as an Arrow array of the type of the values looked up in them."""
    return pyarrow.array(codelists.codes(codelist), type=arrow_type)


def warm_up() -> None:
    """Build what the first validation would otherwise build on its clock: the sheet models,
    the code lists as `in_codelist` looks parsed text up in them (airports included) and Arrow
    strings. Called while files are read."""
    import schemas
    from schemas.contract import sheets

    schemas.schemas()
    parsed = parse_code(pd.Series(["warm up"], dtype=object))
    for spec in sheets():
        for col in spec.columns:
            if col.codelist:
                in_codelist(parsed, col.codelist)


def in_codelist(values: pd.Series, codelist: str) -> pd.Series:
    """Whether each value is a code of the list (False where empty). Arrow text (what the parsers
    give) is looked up in Arrow, without a Python object per cell."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        text = pyarrow.array(values.array)
        found = pyarrow.compute.is_in(text, value_set=_code_values(codelist, text.type))
        return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    return pd.Series(code_index(codelist).get_indexer(pd.Index(values.astype(object))) >= 0, index=values.index)


# ---------------------------------------------------------------------------------- rules
Params = Callable[[object, "pd.Series | None"], dict[str, object]]


@dataclass(frozen=True)
class Rule:
    """What a failed check means: its catalogue message, the column blamed, the message's parameters."""

    id: str
    message_id: str  # pipeline/catalogue/messages.csv; its code is the finding's code
    blame: str | None  # column to report for a row-level (DataFrame) check; None: the failing column
    params: Params  # (value as typed, the row's raw values) -> parameters of the message

    @property
    def code(self) -> str:
        return catalogue.code_of(self.message_id)


RULES: dict[str, Rule] = {}


def as_check(fn: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
    """A check result as plain booleans; <NA> (an input missing or invalid, reported elsewhere) passes."""

    def wrapped(data: pd.DataFrame | pd.Series) -> pd.Series:
        result = fn(data)
        return result.fillna(True).astype(bool) if isinstance(result, pd.Series) else result

    return wrapped


@dataclass(eq=False)
class Check:
    """A pandera `Check` as validation uses it: its function (`_check_fn`, as pandera names it)
    and its rule id (`name`)."""

    _check_fn: Callable[..., object]
    name: str

    def to_pandera(self) -> pa.Check:
        import pandera.pandas as pa

        return pa.Check(self._check_fn, name=self.name)


@dataclass(eq=False)
class Column:
    """A pandera `Column`: its checks, whether it may be empty and whether it must be there."""

    name: str
    checks: list[Check]
    nullable: bool
    required: bool

    def to_pandera(self) -> pa.Column:
        import pandera.pandas as pa

        checks = [c.to_pandera() for c in self.checks]
        return pa.Column(checks=checks, nullable=self.nullable, required=self.required, name=self.name)


@dataclass(eq=False)
class SheetModel:
    """A pandera `DataFrameSchema` of one sheet: its columns and the rules across them; cells
    stay as typed (no dtypes, no coercion), columns beyond the contract are let be."""

    name: str
    columns: dict[str, Column]
    checks: list[Check]

    def to_pandera(self) -> pa.DataFrameSchema:
        """The pandera model itself (`pandera_failures`, and anyone who wants to run pandera)."""
        import pandera.pandas as pa

        columns = {name: c.to_pandera() for name, c in self.columns.items()}
        checks = [c.to_pandera() for c in self.checks]
        return pa.DataFrameSchema(columns, checks=checks, strict=False, name=self.name, ordered=False)


def _check(fn: Callable[..., pd.Series], name: str) -> Check:
    return Check(as_check(fn), name=name)


@dataclass(frozen=True)
class Failure:
    """One failed check on one value: its position in the frame validated, the column blamed, the rule."""

    position: int
    column: str
    rule: Rule | None  # None: a required column or field is empty (pandera's not_nullable)

    def message(self, frame: pd.DataFrame, empty_id: str) -> tuple[str, dict[str, Any]]:
        """(message id, parameters) of the finding; `empty_id` names the message of an empty cell.

        The parameters are passed on as keywords of `finding` (hence Any: they are message values)."""
        if self.rule is None:
            return empty_id, {"name": self.column}
        row: pd.Series = frame.loc[self.position]  # type: ignore[assignment]  # one row: the index is unique
        return self.rule.message_id, self.rule.params(frame.at[self.position, self.column], row)


def failures(schema: SheetModel, frame: pd.DataFrame) -> list[Failure]:
    """Every failed check of `schema` on `frame`, once per value, column and rule: what pandera's lazy
    validation reports (`pandera_failures`), in the same order, without its machinery.

    The sheet models stay pandera models; this runs their checks as pandera does for them (no
    dtypes, no coercion, every contract column present): the frame's checks first, then per column
    its nullability and its checks, each column check on the whole column (every check of a column
    is element by element, so one parse serves them all) with empty cells passing, as pandera's
    `ignore_na` has it. `tests/test_validate.py` compares the two.

    Where they part: a check that raises is not passed over, as pandera's failure case without a
    row would be. It is run again on each workbook's rows alone (`FILE_NO`), so that one
    workbook's odd value never leaves another unchecked, and each workbook on whose rows it still
    raises gets one `rule-not-checked` failure on its first row (`not_checked`): what was not
    checked is never loaded.
    """
    found = _Found()
    _frame_checks(schema, frame, found)
    for name, column in schema.columns.items():
        if name in frame.columns:  # a missing column: pandera's case without a row
            _column_checks(schema, name, column, frame, found)
    return found.failures


class _Found:
    """Failures in the order found, each (row, column, check) once."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.seen: set[tuple[int, str, str]] = set()

    def not_checked(self, index: pd.Index, column: str, check: str, exc: Exception) -> None:
        """`check` raised `exc` on the rows `index` (one workbook's): one failure on its first row."""
        if not len(index):
            return
        detail = f"{type(exc).__name__}: {exc}"
        detail = detail if len(detail) <= 200 else detail[:199] + "…"
        params: dict[str, object] = {"rule": check, "detail": detail}
        rule_ = Rule(f"{check}.not-checked", "rule-not-checked.raised", None, lambda _value, _row: params)
        self.add(index[:1], np.ones(1, dtype=bool), column, rule_.id, rule_)

    def add(self, index: pd.Index, failed: np.ndarray, column: str, check: str, rule_: Rule | None) -> None:
        if not failed.any():
            return
        for position in np.asarray(index[failed], dtype="int64").tolist():
            key = (position, column, check)
            if key not in self.seen:
                self.seen.add(key)
                self.failures.append(Failure(position, column, rule_))


def _frame_checks(schema: SheetModel, frame: pd.DataFrame, found: _Found) -> None:
    """The rules across columns; a row whose every value is empty passes (pandera's ignore_na)."""
    all_empty = _all_empty(frame) if len(frame.columns) else None
    for check in schema.checks:
        rule_ = _registered(schema, check.name)
        fn = check._check_fn
        column = rule_.blame or schema.name
        parts: list[tuple[slice | np.ndarray, np.ndarray]]
        try:
            parts = [(_EVERY_ROW, _as_passed(fn(frame), frame.index))]
        except Exception:
            parts = _by_file(fn, frame, frame, found, column, check.name)
        for where, passed in parts:
            if all_empty is not None:
                passed = passed | all_empty[where]
            found.add(frame.index[where], ~passed, column, check.name, rule_)


_EVERY_ROW = slice(None)  # the rows of every workbook at once: views, not copies


def _by_file(
    fn: Callable[..., object],
    data: pd.DataFrame | pd.Series,
    frame: pd.DataFrame,
    found: _Found,
    column: str,
    check: str,
    empty: np.ndarray | None = None,
) -> list[tuple[slice | np.ndarray, np.ndarray]]:
    """A check that raised on the rows of every workbook at once, run again on each workbook's
    rows of `data` alone (`_each_file` of `frame`): (positions, verdicts) of each it answers;
    each it still fails on gets its `rule-not-checked` failure, on its first row that is not
    `empty` (a column's empty cells pass every check)."""
    parts: list[tuple[slice | np.ndarray, np.ndarray]] = []
    for rows in _each_file(frame):
        part = data.iloc[rows]
        try:
            parts.append((rows, _as_passed(fn(part), part.index)))
        except Exception as exc:
            found.not_checked(part.index if empty is None else part.index[~empty[rows]], column, check, exc)
    return parts


def _each_file(frame: pd.DataFrame) -> list[np.ndarray]:
    """The positions of each workbook's rows in `frame` (`FILE_NO`; all rows when it has none)."""
    if FILE_NO not in frame.columns:
        return [np.arange(len(frame))]
    numbers = frame[FILE_NO].to_numpy()
    return [np.flatnonzero(numbers == number) for number in pd.unique(numbers)]


def _all_empty(frame: pd.DataFrame) -> np.ndarray:
    """`frame.isna().all(axis="columns")`, column by column, typed columns first, until no row is
    left empty: the file number beside every row (`FILE_NO`) ends it at once."""
    empty = np.ones(len(frame), dtype=bool)
    for position in sorted(range(len(frame.columns)), key=lambda i: frame.dtypes.iloc[i] == np.dtype(object)):
        empty &= frame.iloc[:, position].isna().to_numpy()
        if not empty.any():
            break
    return empty


def _column_checks(schema: SheetModel, name: str, column: Column, frame: pd.DataFrame, found: _Found) -> None:
    """A column's nullability, then its checks on the whole column, empty cells passing."""
    values = frame[name]
    # a column's checks take each value on its own (`column_checks`): a long column repeating a
    # few values is checked value by distinct value, and the verdicts spread back over its rows
    spread = distinct(values)
    empty = values.isna().to_numpy() if spread is None else spread[0] == len(spread[1]) - 1  # the empty cells' value
    if not column.nullable and empty.any():
        found.add(frame.index, empty, name, "not_nullable", None)
    for check in column.checks:
        rule_ = _registered(schema, check.name)
        fn = check._check_fn
        blamed = rule_.blame or name
        parts: list[tuple[slice | np.ndarray, np.ndarray]]
        try:
            if spread is None:
                passed = _as_passed(fn(values), frame.index)
            else:
                codes, each = spread
                passed = _as_passed(fn(each), each.index)[codes]
            parts = [(_EVERY_ROW, passed)]
        except Exception:
            parts = _by_file(fn, values, frame, found, blamed, check.name, empty)
        for where, passed in parts:
            found.add(frame.index[where], ~passed & ~empty[where], blamed, check.name, rule_)


def _registered(schema: SheetModel, check: str | None) -> Rule:
    found = RULES.get(str(check))
    if found is None:
        raise AssertionError(f"{schema.name}: a check not registered as a rule: {check!r}")
    return found


def _as_passed(result: object, index: pd.Index) -> np.ndarray:
    """A check's result as booleans aligned with the frame. Any other answer (pandera reports it
    without a row) is a rule that could not be checked: raised, as a rule that raises."""
    if not isinstance(result, pd.Series) or not result.index.equals(index):
        raise TypeError(f"the rule answered {type(result).__name__}, not one verdict per row")
    return result.to_numpy(dtype=bool)


def pandera_failures(schema: SheetModel, frame: pd.DataFrame) -> list[Failure]:
    """`failures` as pandera's lazy validation finds them: the reference the lean runner is tested against."""
    import pandera.pandas as pa

    try:
        schema.to_pandera().validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    out: list[Failure] = []
    seen: set[tuple[int, str, str]] = set()
    for case in cases.itertuples(index=False):
        if case.index is None or pd.isna(case.index):
            continue  # schema-level cases (dtypes); the contract has none that concern a cell
        check = str(case.check)
        rule_ = None if check == "not_nullable" else RULES.get(check)
        if check != "not_nullable" and rule_ is None:
            raise AssertionError(f"{schema.name}: pandera reported an unregistered check {check!r}")
        column = (rule_.blame if rule_ else None) or str(case.column)
        key = (int(case.index), column, check)
        if key not in seen:
            seen.add(key)
            out.append(Failure(int(case.index), column, rule_))
    return out


def _no_params(value: object, row: pd.Series | None) -> dict[str, object]:
    return {}


def rule(id: str, message_id: str, params: Params = _no_params, blame: str | None = None) -> str:
    """Register a rule (idempotent for an identical id) and return its id for a Check name."""
    RULES.setdefault(id, Rule(id, message_id, blame, params))
    return id


_shown = catalogue.shown


def _bound(text: str | None) -> float | None:
    if text is None or not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    return float(text)


def _symbolic(text: str | None) -> bool:
    return text is not None and _bound(text) is None


def current_year() -> int:
    return dt.date.today().year


# what focal points type for "no figure" in a number cell (casefolded, a final point dropped),
# in the template's languages; dashes alone are read so too (`_DASHES`)
NO_FIGURE = frozenset(
    {
        *("n/a", "na", "n.a", "n/d", "nd", "n.d", "nil", "none", "null", "tbd", "tbc", "unknown", "?", "??"),
        *("nan", "#n/a"),  # a program's not-a-number, and Excel's #N/A, as text
        *("not available", "not applicable", "not known", "no data"),
        *("s.o", "s/o", "sans objet", "non disponible", "non applicable", "inconnu", "néant", "aucun", "aucune"),
        *("s/d", "sin datos", "no aplica", "no disponible", "desconocido", "ninguno", "ninguna", "nada"),
    }
)
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")
_YEAR_SPAN = re.compile(r"\s*(?:FY\s*)?(19|20)\d\d\s*[/\-\u2013]\s*(?:(19|20)?\d\d)\s*", re.IGNORECASE)


def _number_hint(value: object, unit_column: bool = True, zero_ok: bool = True, a_year: bool = False) -> Message | str:
    """Why a text is no number, when it looks like one: a decimal comma (in scientific notation
    too: '1,2E6'), or words beside the figure: the unit, which goes in the figure's unit column
    when it has one (`unit_column`), or anything else; a placeholder for "no figure" ('n/a',
    '-', 'TBD', 'néant', 'sin datos'), which says what to type instead (0 only where the column
    takes 0: `zero_ok`); in a column of years (`a_year`), a span of years ('2024/25',
    'FY2024-2025'), where one calendar year is wanted; words with no digit ('douze mille'),
    which ask for the figure in digits.

    A workbook's cells reach the checks as read in its language (`pipeline.intake.reading`),
    the language its findings are written in: French and Spanish read a decimal comma ('1,2',
    '1.234,567', '1,2E6'), so the hint to use a point is only given where a point is wanted
    (in English, and in the history files, read as written)."""
    if isinstance(value, str):
        if re.fullmatch(r"\s*-?\d{1,3}(\.\d{3})+,\d+\s*|\s*-?\d+,\d{1,2}\s*|\s*-?\d+,\d+[eE][+-]?\d+\s*", value):
            return Message("hint.decimal-comma")
        text = value.strip()
        if text and (text.casefold().rstrip(".").strip() in NO_FIGURE or set(text) <= _DASHES):
            return Message("hint.no-figure" if zero_ok else "hint.no-figure-above-zero")
        if a_year and _YEAR_SPAN.fullmatch(value):
            return Message("hint.one-year")
        if re.search(r"\d", value) and re.search(r"[A-Za-z$\u00a3\u00a5\u20ac~\u2248<>\u00b1]", value):  # a unit, $, ~
            return Message("hint.unit-in-number" if unit_column else "hint.number-only")
        if not re.search(r"\d", value) and any(c.isalpha() for c in value):  # 'douze mille', 'see annex'
            return Message("hint.year-in-digits" if a_year else "hint.number-in-words")
    if isinstance(value, (dt.date, dt.datetime)):
        return Message("hint.date-in-number")
    if isinstance(value, (dt.time, dt.timedelta)):  # a number in a cell formatted as a time or a duration
        return Message("hint.time-in-number")
    return ""


def _did_you_mean(key: str, allowed: tuple[str, ...] | list[str], codelist: str | None = None) -> Message | str:
    """The allowed code closest to `key`, if any is close: as the drop-down of `codelist` shows it
    in the finding's language, when given."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if not close:
        return ""
    return Message("hint.did-you-mean", {"code": i18n.CodeLabels(codelist, (close[0],)) if codelist else close[0]})


def _pairs_table(sheet: str) -> str | None:
    """The table of the (type, unit) pairs a sheet takes, where its units depend on the row's type."""
    from schemas.contract import sheet as sheet_spec

    pair = sheet_spec(sheet).unit_pairs
    return pair[1] if pair else None


@cache
def _units_taken(sheet: str, allowed: tuple[str, ...]) -> frozenset[str]:
    """The units a sheet takes for some type of row: every unit of its list (`allowed`), or, where
    its units depend on the type, those of its pairs table (Vehicles take no MWh)."""
    if table := _pairs_table(sheet):
        return frozenset(row["unit"] for row in codelists.table(table)) & frozenset(allowed)
    return frozenset(allowed)


def enum_rule(spec: ColumnSpec) -> str:
    """The code-list rule of an enumeration: the codes listed when few, else the list named."""
    codelist = spec.codelist
    assert codelist
    allowed = tuple(codelists.codes(codelist))
    # a unit column lists the units its sheet takes (Vehicles: no MWh, GJ or tonne)
    offered = tuple(c for c in allowed if c in _units_taken(spec.sheet, allowed)) if codelist == "unit" else allowed
    long = len(offered) > 15

    def params(value: object, row: pd.Series | None) -> dict[str, object]:
        # the codes as the drop-down offers them, in the finding's language
        listed = {"codelist": codelist.replace("_", " ")} if long else {"allowed": i18n.CodeLabels(codelist, offered)}
        typed = codelists.normalise_code(value) if isinstance(value, str) else ""  # TRUE is no misspelt 'Litre'
        other = i18n.other_units().get(i18n.fold(value)) if isinstance(value, str) else None
        if other is not None and other["unit"] in _units_taken(spec.sheet, allowed):  # 'gallons': how to convert
            hint = Message(
                "hint.convert-unit",
                {
                    "one": other["one"],
                    "factor": catalogue.Number(float(other["factor"])),
                    "symbol": other["symbol"],
                    "unit": i18n.CodeLabels(codelist, (other["unit"],)),
                },
            )
            return {**listed, "hint": hint}
        meant = i18n.code_hints(codelist).get(i18n.fold(value)) if isinstance(value, str) else None
        if meant:  # 'Propane': LPG; 'Chilled water': district cooling; 'Gasoil': diesel or marine diesel
            return {**listed, "hint": Message("hint.did-you-mean", {"code": i18n.CodeLabels(codelist, meant)})}
        return {**listed, "hint": _did_you_mean(typed, offered, codelist) if typed else ""}

    # one rule per list, but per sheet where the units taken depend on the sheet (its hint differs)
    id = f"codelist-{codelist}" + (f"-{spec.sheet}" if codelist == "unit" and _pairs_table(spec.sheet) else "")
    return rule(id, "not-in-codelist.enum-long" if long else "not-in-codelist.enum", params)


@cache
def _country_names() -> dict[str, str]:
    """fold(country name in English, French or Spanish) -> ISO alpha-3 code: the names as the
    drop-down shows them ('Korea, Republic of'), then as the UN writes them ('Republic of Korea',
    'Bolivia (Plurinational State of)'), the first part alone where it names one country only
    ('Tanzania'; not 'Îles Vierges', which two names start with), and the common and former
    names of `schemas/i18n/country_names.csv` ('South Korea', 'Ivory Coast'). Only for hints: a
    name is never read as a code."""
    names: dict[str, str] = {}
    variants: list[tuple[str, str]] = []
    firsts: dict[str, set[str]] = {}
    for lang in i18n.LANGS:
        for code, name in i18n.country_names(lang).items():
            names.setdefault(i18n.fold(name), code)
            first, comma, rest = name.partition(", ")
            if comma:
                variants += [(f"{rest} {first}", code), (f"{first} ({rest})", code)]
                if rest.casefold().startswith("the "):
                    variants.append((f"{rest[4:]} {first}", code))
                firsts.setdefault(i18n.fold(first), set()).add(code)
    starts = _name_starts()
    single = [
        (key, codes.pop()) for key, codes in firsts.items() if len(codes) == 1 and len(starts.get(key, codes)) == 1
    ]
    for text, code in variants + single:
        names.setdefault(i18n.fold(text), code)
    for row in i18n.country_aliases():
        names.setdefault(i18n.fold(row["text"]), row["code"])
    return names


@cache
def _name_starts() -> dict[str, set[str]]:
    """fold(the first words of a country's name, four letters or more, in any of the three
    languages, commas dropped) -> the countries whose names start so."""
    starts: dict[str, set[str]] = {}
    for lang in i18n.LANGS:
        for code, name in i18n.country_names(lang).items():
            words = name.replace(",", " ").split()
            for n in range(1, len(words)):
                start = i18n.fold(" ".join(words[:n]))
                if len(start) >= 4:
                    starts.setdefault(start, set()).add(code)
    return starts


@cache
def _names_cut_short() -> dict[str, tuple[str, ...]]:
    """fold(the first words of countries' names that name no country themselves) -> the codes of
    those countries: 'Dominican' (DOM, not Dominica), 'Virgin Islands' (VGB, VIR), 'Îles Vierges',
    'Korea' (KOR, PRK), 'Saint' (seven countries). Where a text is such a start, the focal point
    stopped short of the name: its hint lists the countries (up to four), and never a look-alike
    name ('Saint' is no 'Spain')."""
    names = _country_names()
    return {
        start: tuple(sorted(codes))
        for start, codes in _name_starts().items()
        if start not in names  # 'Guinea' is a country of its own
    }


@cache
def _alpha2() -> dict[str, str]:
    return {row["alpha_2"].upper(): row["code"] for row in codelists.table("countries")}


def _one_letter_off(a: str, b: str) -> bool:
    """Whether two codes of one length differ by one letter, or by two neighbours swapped (KNE, KEN)."""
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(differ) == 1 or (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and a[differ[0]] == b[differ[1]]
        and a[differ[1]] == b[differ[0]]
    )


def country_guesses(value: object) -> tuple[str, ...]:
    """The country codes a value that is no country code may mean, most certain first: the code it
    is once look-alike letters are read as Latin ones ('KЕN' with a Cyrillic Е), the country of
    an alpha-2 code ('KE') or of a name in English, French or Spanish ('Suisse'); else, for three
    letters, the codes one letter off ('KEM': KEN, KHM) and the country of the airport so coded
    (a duty station's: 'GVA'), at most four in all; else, for the first words of countries' names,
    those countries ('Virgin Islands': VGB, VIR), if four at most; else the country whose name is
    closest to the text ('Keyna'); else none."""
    text = codelists.to_latin(str(value).strip())
    key = text.upper()
    countries = codelists.codes("countries")
    for exact in (key if key in countries else None, _alpha2().get(key), _country_names().get(i18n.fold(text))):
        if exact:
            return (exact,)
    cut = _names_cut_short().get(i18n.fold(text))
    if cut:  # 'Virgin Islands': the British or the U.S. ones
        return cut if len(cut) <= 4 else ()
    if len(key) == 3 and key.isascii() and key.isalpha():
        near = [code for code in countries if _one_letter_off(key, code)]
        airport = codelists.airport_countries().get(key)  # a duty station's airport: GVA, NBO
        guesses = near + ([airport] if airport is not None and airport not in near else [])
        return tuple(guesses) if len(guesses) <= 4 else ()
    close = difflib.get_close_matches(i18n.fold(text), list(_country_names()), n=1, cutoff=0.8)
    return (_country_names()[close[0]],) if close and len(key) > 3 else ()


def _country_params(value: object, row: pd.Series | None) -> dict[str, object]:
    guesses = country_guesses(value)
    typed = str(value).strip()
    if guesses and codelists.to_latin(typed).upper() == guesses[0] != typed.upper():
        return {"hint": Message("hint.look-alike", {"code": guesses[0]})}
    if len(guesses) == 1:
        return {"hint": Message("hint.country", {"value": str(value).strip(), "code": guesses[0]})}
    if guesses:
        return {"hint": Message("hint.did-you-mean", {"code": i18n.CodeLabels("countries", guesses)})}
    return {"hint": ""}


def _email_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """'mailto:amina@un.org', a link's target pasted: the address is what follows 'mailto:'."""
    text = str(value).strip()
    found = _MAILTO.fullmatch(text)
    if found and _EMAIL.fullmatch(address := found.group(1).strip()):
        return {"hint": Message("hint.mailto", {"address": address})}
    named = _NAMED_ADDRESS.fullmatch(text) if len(text) <= 500 else None  # 'Amina Otieno <amina@un.org>', copied
    if named and len(address := named.group(1).strip()) <= 254 and _EMAIL.fullmatch(address):
        return {"hint": Message("hint.address-only", {"address": address})}
    return {"hint": ""}


def _entity_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """'ILО' (a Cyrillic О) -> type it again as ILO, as for a country (the quote looks like ILO);
    a code typed in full-width letters ('ＩＬＯ') or misspelt -> the code it is closest to."""
    import unicodedata

    typed = unicodedata.normalize("NFKC", codelists.normalise_ref(value))
    known = codelists.codes("entities")
    if latin := codelists.look_alike_of(typed, known):
        return {"hint": Message("hint.look-alike", {"code": latin})}
    named, folded = _entity_names(), i18n.fold(str(value))
    code = named.get(folded)  # the entity's name, as the list writes it
    if code is None and len(typed) > 8:  # its name misspelt ('United Nations Enviroment Programme')
        close = difflib.get_close_matches(folded, list(named), n=1, cutoff=0.85)
        code = named[close[0]] if close else None
    if code is not None:
        return {"hint": Message("hint.country", {"value": str(value).strip(), "code": code})}
    return {"hint": _did_you_mean(typed, known)}


@cache
def _entity_names() -> dict[str, str]:
    """fold(an entity's name in the reference list, with and without its note in brackets) -> its code."""
    names: dict[str, str] = {}
    for row in codelists.table("entities"):
        for name in (row["name"], i18n.strip_note(row["name"])):
            names.setdefault(i18n.fold(name), row["code"])
    return names


def _airport_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """'NВО' (a Cyrillic В and О) -> type it again as NBO, as for a country; 'Nairobi' -> ' Nairobi
    is a city: its airport codes are NBO, WIL.', then what to do for a place without a known
    airport (not said of a code typed with look-alike letters: its airport is known); 'LON', the
    code of all of London's airports together -> the airports to choose from; 'Genève', 'Ginebra'
    (a city's name in French or Spanish) as 'Geneva'."""
    typed = str(value).strip()
    if latin := codelists.look_alike_of(typed, code_index("airports")):
        return {"hint": Message("hint.look-alike", {"code": latin}), "advice": ""}
    metro = i18n.metro_areas().get(typed.upper())
    known = _metro_airports().get(codelists.city_key(metro["city"]), ()) if metro else ()
    if known:  # 'LON': all of London's airports together, which a booking shows
        named = i18n.MetroCity(typed.upper())
        return {
            "hint": Message("hint.airport-metro", {"code": typed.upper(), "city": named, "codes": ", ".join(known)}),
            "advice": "",
        }
    key = codelists.city_key(typed)
    city = _city_names().get(key, key)
    codes = _metro_airports().get(city) or codelists.airport_cities().get(city)
    advice = Message("hint.no-airport")
    if not codes:
        return {"hint": "", "advice": advice}
    shown = ", ".join(codes[:4]) + (", ..." if len(codes) > 4 else "")
    return {"hint": Message("hint.airport-city", {"city": typed, "codes": shown}), "advice": advice}


@cache
def _city_names() -> dict[str, str]:
    """`codelists.city_key` of a city's name in French or Spanish (`schemas/i18n/city_names.csv`: Genève,
    Ginebra) -> that of its name in the airport reference (Geneva)."""
    return {codelists.city_key(row["text"]): codelists.city_key(row["city"]) for row in i18n.city_names()}


@cache
def _metro_airports() -> dict[str, tuple[str, ...]]:
    """`codelists.city_key` of a city with an IATA metropolitan code (`airport_metro_areas.csv`) -> its main
    airports, busiest first: London is LHR, LGW, ..., not every place of that name (London, Ontario)."""
    known = code_index("airports")
    return {
        codelists.city_key(row["city"]): tuple(code for code in row["airports"].split() if code in known)
        for row in i18n.metro_areas().values()
    }


_QUOTES = "'\u2018\u2019`"  # an apostrophe (straight or curly) or a backtick pasted before a code


def _quoted_code(codelist: str, params: Params) -> Params:
    """`params`, but for a code with an apostrophe before it (`'LHR`: a CSV cell pasted as text
    keeps the apostrophe a spreadsheet hides), the hint to remove it."""

    def with_quote(value: object, row: pd.Series | None) -> dict[str, object]:
        found = params(value, row)
        typed = str(value).strip()
        bare = typed.lstrip(_QUOTES).strip().upper()
        if typed[:1] in _QUOTES and bare in code_index(codelist):
            found["hint"] = Message("hint.apostrophe", {"code": bare})
            found.update({k: "" for k in found if k not in ("hint",)})
        return found

    return with_quote


EXCEL_DAY_ZERO = dt.date(1899, 12, 30)  # day 0 of Excel's dates (1900 system, its leap-year bug included)
EXCEL_DAY_ZERO_1904 = dt.date(1904, 1, 1)  # day 0 of a workbook of the 1904 date system (old Excel for Mac)
LIKELY_DATES = (dt.date(1990, 1, 1), dt.date(2099, 12, 31))  # numbers that are such days: likely dates


def date_of_date_time(text: str) -> dt.date | None:
    """The date of an ISO date and time typed as text, as an Excel date-time cell is read (its
    day): '2025-03-15 10:30:00' and '2025-03-15T10:30:00+01:00' (a time in its own zone: the day
    as written) are 2025-03-15. One in universal time ('Z', as a program's toISOString writes
    local midnight) is that day only at midnight: '2025-03-14T23:00:00.000Z' may be the 15th
    where it was written, so it is no date (`_date_params` names the two days it may be)."""
    m = _ISO_DATE_TIME.fullmatch(text.strip())
    if m is None:
        return None
    try:
        day = dt.date.fromisoformat(m.group(1))
        hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        dt.time(hour, minute, second)  # a time that exists
    except ValueError:
        return None
    if (m.group(5) or "").upper() == "Z" and (hour, minute, second) != (0, 0, 0):
        return None
    return day


def _utc_day(text: str) -> tuple[dt.date, dt.date] | None:
    """The two days a date and time in universal time may have been meant as, where it is not
    midnight ('2025-03-14T23:00:00Z': the 14th or the 15th); None for any other text."""
    m = _ISO_DATE_TIME.fullmatch(text.strip())
    if m is None or (m.group(5) or "").upper() != "Z" or date_of_date_time(text) is not None:
        return None
    try:
        day = dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None
    return (day, day + dt.timedelta(days=1)) if int(m.group(2)) >= 12 else (day - dt.timedelta(days=1), day)


def _date_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """A whole number that is a day of this century is a date that lost its format (pasted as
    values, or from a program that keeps no styles): 46068 is 2026-02-15; in a workbook counting
    from 1904 (`dates_from_1904`), 46068 is 2030-02-16."""
    if isinstance(value, str) and (either := _utc_day(value)):
        first, second = (day.isoformat() for day in either)
        return {"hint": Message("hint.utc-date-time", {"first": first, "second": second})}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        from_1904 = row is not None and FILE_NO in row.index and int(row[FILE_NO]) in _date1904
        zero = EXCEL_DAY_ZERO_1904 if from_1904 else EXCEL_DAY_ZERO
        days = int(value)
        if (LIKELY_DATES[0] - zero).days <= days <= (LIKELY_DATES[1] - zero).days:
            day = zero + dt.timedelta(days=days)
            return {"hint": Message("hint.serial-date", {"date": day.isoformat()})}
    return {"hint": ""}


REFERENCE_RULES = {  # dtype -> (code list, message, parameters)
    "iso3": ("countries", "not-in-codelist.country", _quoted_code("countries", _country_params)),
    "iata": ("airports", "not-in-codelist.airport", _quoted_code("airports", _airport_params)),
    "entity": ("entities", "not-in-codelist.entity", _quoted_code("entities", _entity_params)),
}


# ---------------------------------------------------------------------------------- checks
def _fixed_params(**params: object) -> Params:
    """Message parameters that depend neither on the value nor on the row."""
    return lambda value, row: dict(params)


def _bound_params(bound: float, spec: ColumnSpec, **extra: object) -> Params:
    """Message parameters: the bound as shown to focal points (as the finding's language writes
    numbers; a year without grouping), then `extra`."""
    return _fixed_params(bound=catalogue.Number(bound, grouped=not is_year(spec)), **extra)


def is_year(spec: ColumnSpec) -> bool:
    """A column of years (reporting year, vintage): its bounds are written 2008, not 2,008."""
    return spec.dtype == "integer" and (spec.name in ("year", "vintage") or spec.name.endswith("_year"))


def column_checks(spec: ColumnSpec) -> list[Check]:
    """The element rules of one contract column: type, code list, numeric bounds."""
    d = spec.dtype
    if d in ("number", "integer"):
        return _number_checks(spec)
    checks: list[Check] = []
    if d == "enum" or d == "yesno":
        codelist = spec.codelist
        assert codelist, f"{spec.sheet}.{spec.name}: an enumeration needs a code list"
        checks.append(_check(lambda s, cl=codelist: is_blank(s) | in_codelist(parse_code(s), cl), name=enum_rule(spec)))
    elif d in REFERENCE_RULES:
        codelist, message_id, params = REFERENCE_RULES[d]
        checks.append(
            _check(
                lambda s, cl=codelist: is_blank(s) | in_codelist(parse_ref(s), cl),
                name=rule(f"codelist-{codelist}", message_id, params),
            )
        )
    elif d == "email":
        checks.append(
            _check(
                lambda s: is_blank(s) | parse_text(s).str.fullmatch(_EMAIL).fillna(True).astype(bool),
                name=rule("email", "invalid-email.format", _email_params),
            )
        )
    elif d == "date":
        checks.append(
            _check(
                lambda s: is_blank(s) | parse_date(s).notna(), name=rule("date-type", "type-error.date", _date_params)
            )
        )
    return checks


def _number_checks(spec: ColumnSpec) -> list[Check]:
    """A number (a whole one for an integer column) within the column's bounds."""
    from schemas.contract import sheet

    d = spec.dtype
    gt = _bound(spec.gt)
    zero_ok = gt is None or gt < 0  # 'type 0 where there was none' only where 0 is taken
    a_year = d == "integer" and ("year" in spec.name or spec.name == "vintage")
    # the figure whose unit the unit column gives, or one in the unit its header gives (kWh, persons)
    unit_column = "unit" in sheet(spec.sheet).names and spec.unit is None
    # rules are shared by id: one per kind of hint
    kind = ("" if unit_column else "-no-unit") + ("" if zero_ok else "-above-zero") + ("-year" if a_year else "")
    name = rule(
        f"{d}-type{kind}", "type-error.number", lambda v, r: {"hint": _number_hint(v, unit_column, zero_ok, a_year)}
    )
    checks = [_check(lambda s: is_blank(s) | parse_number(s).notna(), name=name)]
    if d == "integer":
        checks.append(_check(lambda s: ~((parse_number(s) % 1) > 0), name=rule("integer-whole", "type-error.whole")))
    return checks + _bound_checks(spec)


def within_bounds(spec: ColumnSpec, numbers: pd.Series) -> pd.Series:
    """True where a parsed number lies within the column's numeric bounds (ge, gt, le as
    columns.csv writes them, read as `_bound_checks` reads them); False for NaN (no number)."""
    ge, gt, le = _bound(spec.ge), _bound(spec.gt), _bound(spec.le)
    ok = numbers.notna()
    if ge is not None:
        ok &= ~(numbers < ge)
    if gt is not None:
        ok &= ~(numbers <= gt)
    if le is not None:
        ok &= ~(numbers > le)
    return ok


def _bound_checks(spec: ColumnSpec) -> list[Check]:
    """The numeric bounds ge, gt and le of a number column, and le `current_year`."""
    checks: list[Check] = []
    ge, gt, le = _bound(spec.ge), _bound(spec.gt), _bound(spec.le)
    if ge is not None:
        checks.append(
            _check(
                lambda s, ge=ge: ~(parse_number(s) < ge),
                name=rule(f"ge-{spec.ge}", "out-of-range.negative")
                if ge == 0
                else rule(f"ge-{spec.ge}", "out-of-range.ge", _bound_params(ge, spec)),
            )
        )
    if gt is not None:
        checks.append(
            _check(
                lambda s, gt=gt: ~(parse_number(s) <= gt),
                name=rule(f"gt-{spec.gt}", "out-of-range.gt", _bound_params(gt, spec)),
            )
        )
    if le is not None:
        note = (
            Message("hint.bound-note", {"note": i18n.BoundNote(spec.sheet, spec.name, spec.bound_note)})
            if spec.bound_note
            else ""
        )
        checks.append(
            _check(
                lambda s, le=le: ~(parse_number(s) > le),
                name=rule(f"le-{spec.sheet}-{spec.name}", "out-of-range.le", _bound_params(le, spec, note=note)),
            )
        )
    if spec.le == "current_year":
        checks.append(
            _check(
                lambda s: ~(parse_number(s) > current_year()),
                name=rule("le-current_year", "out-of-range.future-year", lambda v, r: {"year": current_year()}),
            )
        )
    return checks


def column(spec: ColumnSpec) -> Column:
    """A pandera Column for a contract column; cells stay as typed (no dtype coercion)."""
    return Column(
        checks=column_checks(spec),
        # text must not be blank either: `required_not_blank` reports both, once
        nullable=not spec.required or spec.dtype in ("text", "email"),
        required=spec.required,
        name=spec.name,
    )


def required_not_blank(spec: ColumnSpec) -> Check:
    """Text cells holding only spaces count as empty for a required column."""
    return _check(
        lambda d, c=spec.name: ~is_blank(d[c]) if c in d else pd.Series(True, index=d.index),
        name=rule(f"required-{spec.name}", "missing-value.required", _fixed_params(name=spec.name), blame=spec.name),
    )


def row_check(
    rule_id: str, message_id: str, blame: str, fn: Callable[[pd.DataFrame], pd.Series], params: Params = _no_params
) -> Check:
    """A rule across columns of one row; failures are reported on the `blame` column."""
    return _check(fn, name=rule(rule_id, message_id, params, blame=blame))


def bounds_from_reporting_year(spec: ColumnSpec) -> list[Check]:
    """Symbolic bounds such as `reporting_year+1` (vintage) or `reporting_year-01-01` (retirement date)."""
    checks: list[Check] = []
    col = spec.name
    if spec.le and spec.le.startswith("reporting_year") and spec.dtype == "date":
        checks.append(_date_until(col, spec.le))
    elif spec.le and spec.le.startswith("reporting_year"):
        offset = int(spec.le.removeprefix("reporting_year") or 0)

        def fn(d: pd.DataFrame, col: str = col, offset: int = offset) -> pd.Series:
            return ~(parse_number(d[col]) > d[REPORTING_YEAR] + offset)

        def vintage_params(value: object, row: pd.Series | None) -> dict[str, object]:
            assert row is not None  # a row rule
            return {"limit": int(row[REPORTING_YEAR]) + offset, "year": int(row[REPORTING_YEAR]), "offset": offset}

        checks.append(row_check(f"le-reporting-year-{col}", "out-of-range.vintage", col, fn, vintage_params))
    if spec.ge and spec.ge.startswith("reporting_year") and spec.dtype == "date":
        ge = spec.ge

        def fn_date(d: pd.DataFrame, col: str = col) -> pd.Series:
            return ~(parse_date(d[col]) < _day_of_reporting_year(d, ge))

        checks.append(row_check(f"ge-reporting-year-{col}", "out-of-range.retirement-date", col, fn_date, _year_params))
    return checks


def _day_of_reporting_year(d: pd.DataFrame, bound: str) -> pd.Series:
    """Each row's day `bound` (`reporting_year-01-01`, `reporting_year+1-12-31`) for its reporting
    year, read by `contract.resolve_bound` once per year; NaT where the year is unknown."""
    years = d[REPORTING_YEAR]
    days = {year: pd.Timestamp(resolve_bound(bound, int(year))) for year in years.dropna().unique()}
    return pd.to_datetime(years.astype(object).map(days), errors="coerce")


def _date_until(col: str, bound: str) -> Check:
    """A date no later than a day of the reporting year or of a year after it
    (`reporting_year+1-12-31`: a retirement or a review may fall in the year after, not later)."""

    def fn(d: pd.DataFrame) -> pd.Series:
        return ~(parse_date(d[col]) > _day_of_reporting_year(d, bound))

    def params(value: object, row: pd.Series | None) -> dict[str, object]:
        assert row is not None  # a row rule
        year = int(row[REPORTING_YEAR])
        day = resolve_bound(bound, year)
        assert isinstance(day, dt.date), f"{col}: the bound {bound!r} is no day"
        return {"limit": day.isoformat(), "year": year}

    return row_check(f"le-reporting-year-{col}", "out-of-range.date-until", col, fn, params)


def _year_params(value: object, row: pd.Series | None) -> dict[str, object]:
    assert row is not None  # a row rule
    return {"year": int(row[REPORTING_YEAR])}


def sheet_schema(sheet_name: str, row_checks: Sequence[Check] = ()) -> SheetModel:
    """The pandera model of one sheet: its contract columns, the (type, unit) pairs where its units
    depend on the row's type (`SheetSpec.unit_pairs`), then the sheet's cross-column rules."""
    from schemas.contract import sheet

    spec = sheet(sheet_name)
    columns = {c.name: column(c) for c in spec.columns}
    checks = [required_not_blank(c) for c in spec.columns if c.required and c.dtype in ("text", "email")]
    for c in spec.columns:
        checks.extend(bounds_from_reporting_year(c))
    if spec.unit_pairs:  # the sheet's units depend on each row's type
        type_column, table = spec.unit_pairs
        checks.append(unit_compatibility(table, type_column))
    checks.extend(row_checks)
    return SheetModel(sheet_name, columns, checks)


def pairs_allowed(first: pd.Series, second: pd.Series, pairs: frozenset[tuple[str, str]]) -> np.ndarray:
    """Whether each row's (first, second) is one of `pairs` (False where either is empty): the
    rows' pairs looked up at once, each distinct pair hashed once."""
    return pd.MultiIndex.from_arrays([first, second]).isin(list(pairs))


def unit_compatibility(table: str, type_column: str, unit_column: str = "unit") -> Check:
    """(type, unit) pairs from a compatibility CSV such as `facilities_unit.csv`. The message names
    the type and the units by their labels in the finding's language, as the drop-downs show them
    (the type's code list is the contract's, of the sheet with that type column and a unit column)."""
    from schemas.contract import sheets

    [kinds] = {
        c.codelist
        for s in sheets()
        if unit_column in s.names
        for c in s.columns
        if c.name == type_column and c.codelist
    }
    allowed = codelists.allowed_units(table)
    pairs = codelists.pairs(table)

    def fn(d: pd.DataFrame) -> pd.Series:
        types, units = parse_code(d[type_column]), parse_code(d[unit_column])
        known = types.isin(list(allowed)) & in_codelist(units, "unit")
        return ~known | pd.Series(pairs_allowed(types, units, pairs), index=d.index)

    def params(value: object, row: pd.Series | None) -> dict[str, object]:
        assert row is not None
        kind = codelists.normalise_code(row[type_column])
        return {"allowed": i18n.CodeLabels("unit", allowed[kind]), "kind": i18n.CodeLabels(kinds, (kind,))}

    return row_check(f"unit-{table}", "unit-mismatch.unit", unit_column, fn, params)
