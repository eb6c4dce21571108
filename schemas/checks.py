"""Parsing and the pandera checks every sheet model is built from.

Sheets reach pandera with their cells *as typed* (object columns: numbers, text, dates, None),
so a check can report the value a focal point actually wrote. Each check's `name` is a rule id
of `RULES`; a rule knows its finding code, which column it blames, and how to word the message.
The same parse functions later turn valid columns into typed ones (`pipeline.intake.coerce`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline import codelists
from schemas.contract import ColumnSpec

# Context columns added beside a sheet's own columns (never part of the contract).
REPORTING_YEAR = "_reporting_year"
FILE_NO = "_file_no"  # which workbook a row came from, when many are validated together

_SPACES = re.compile(f"[{codelists.WHITESPACE}']+")  # thousands separators in numeric text
_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?|[+-]?\.\d+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------------------------- parsing
# Arrow-backed strings: strip, lower and regex run in compiled code, not per element in Python.
STRING = "string[pyarrow]"
_memo: dict | None = None


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


def _memoised(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    @functools.wraps(fn)
    def wrapper(s: pd.Series) -> pd.Series:
        if _memo is None or s.dtype != object:
            return fn(s)
        values = s.to_numpy(copy=False)
        key = (fn.__name__, values.__array_interface__["data"][0], len(values))
        hit = _memo.get(key)
        if hit is None:
            hit = fn(s)
            _memo[key] = hit
            _memo[(*key, "source")] = values  # keeps the address taken while the block lasts
        return hit if hit.index.equals(s.index) else hit.set_axis(s.index)

    return wrapper


def _text(s: pd.Series) -> pd.Series:
    """Every value as stripped text (pandas string dtype, <NA> for empty cells)."""
    return s.astype(STRING).str.strip()


@_memoised
def is_blank(s: pd.Series) -> pd.Series:
    """None/NaN or text that is only white space."""
    return (s.isna() | _text(s).eq("").fillna(False)).astype(bool)


_NUMBER_TYPES = (int, float, np.int64, np.float64)


@_memoised
def parse_number(s: pd.Series) -> pd.Series:
    """Numbers as typed or as numeric text ('1 200', '1,200.5') -> float; anything else NaN.

    Booleans and dates are not numbers. Vectorised: one pass to sort cells by type, then
    string operations over the text cells only.
    """
    out = pd.Series(np.nan, index=s.index, dtype="float64")
    types = s.map(type)
    is_num = types.isin(_NUMBER_TYPES)
    if is_num.any():
        out[is_num] = s[is_num].astype("float64")
    is_text = types.eq(str)
    if is_text.any():
        text = s[is_text].astype(STRING).str.strip().str.replace(_SPACES.pattern, "", regex=True)
        ok = text.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
        if ok.any():
            out[ok[ok].index] = pd.to_numeric(text[ok].str.replace(",", "", regex=False), errors="coerce").astype("float64")
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


def warm_up() -> None:
    """Build what the first validation would otherwise build on its clock: the sheet models,
    the code-list indexes (airports included) and Arrow strings. Called while files are read."""
    import schemas
    from schemas.contract import sheets

    schemas.schemas()
    for spec in sheets():
        for col in spec.columns:
            if col.codelist:
                code_index(col.codelist)
    parse_code(pd.Series(["warm up"], dtype=object))


def in_codelist(values: pd.Series, codelist: str) -> pd.Series:
    return pd.Series(code_index(codelist).get_indexer(values.astype(object)) >= 0, index=values.index)


# ---------------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Rule:
    """What a failed check means: the finding code, the column blamed, and the message."""

    id: str
    code: str
    blame: str | None  # column to report for a row-level (DataFrame) check; None: the failing column
    message: Callable[[object, pd.Series | None], str]  # (value as typed, the row's raw values) -> text


RULES: dict[str, Rule] = {}


def as_check(fn: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
    """A check result as plain booleans; <NA> (an input missing or invalid, reported elsewhere) passes."""

    def wrapped(data):
        result = fn(data)
        return result.fillna(True).astype(bool) if isinstance(result, pd.Series) else result

    return wrapped


def _check(fn: Callable[..., pd.Series], name: str) -> pa.Check:
    return pa.Check(as_check(fn), name=name)


def rule(id: str, code: str, message: Callable[[object, pd.Series | None], str], blame: str | None = None) -> str:
    """Register a rule (idempotent for an identical id) and return its id for a Check name."""
    RULES.setdefault(id, Rule(id, code, blame, message))
    return id


def _shown(value: object) -> str:
    from pipeline.intake.findings import display_value

    return repr(display_value(value)) if isinstance(value, str) else display_value(value) or "an empty cell"


def _bound(text: str | None) -> float | None:
    if text is None or not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    return float(text)


def _symbolic(text: str | None) -> bool:
    return text is not None and _bound(text) is None


def current_year() -> int:
    return dt.date.today().year


def _number_hint(value: object) -> str:
    if isinstance(value, str):
        if re.fullmatch(r"\s*-?\d{1,3}(\.\d{3})+(,\d+)?\s*|\s*-?\d+,\d{1,2}\s*", value):
            return " Use a point for decimals (1200.5), not a comma."
        if re.search(r"\d", value) and re.search(r"[A-Za-z]", value):
            return " Type the number only; the unit goes in its own column and estimates are marked in data_quality."
    if isinstance(value, (dt.date, dt.datetime)):
        return " The cell is formatted as a date; format it as a number."
    return ""


def enum_message(spec: ColumnSpec) -> Callable[[object, pd.Series | None], str]:
    allowed = codelists.codes(spec.codelist)

    def message(value: object, row: pd.Series | None) -> str:
        shown = ", ".join(allowed) if len(allowed) <= 15 else f"the {spec.codelist.replace('_', ' ')} list of the drop-down"
        text = f"expected one of {shown}; found {_shown(value)}."
        close = difflib.get_close_matches(codelists.normalise_code(value), allowed, n=1, cutoff=0.6)
        if close:
            text += f" Did you mean {close[0]}?"
        return text

    return message


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for row in codelists.table("countries"):
        names[row["label"].strip().upper()] = row["code"]
        names[row["alpha_2"].upper()] = row["code"]
    return names


def _country_message(value: object, row: pd.Series | None) -> str:
    text = f"expected an ISO 3166-1 alpha-3 country code (e.g. KEN, CHE, USA); found {_shown(value)}."
    key = str(value).strip().upper()
    guess = _country_names().get(key)
    if guess is None:
        close = difflib.get_close_matches(key, list(_country_names()), n=1, cutoff=0.8)
        guess = _country_names()[close[0]] if close else None
    if guess:
        text += f" For {str(value).strip()} use {guess}."
    return text


def _airport_message(value: object, row: pd.Series | None) -> str:
    return (
        f"expected a 3-letter IATA airport code known to the airport reference (e.g. NBO, GVA, JFK); "
        f"found {_shown(value)}. For a place without a known airport, leave origin and destination "
        f"empty and give distance_km."
    )


def _entity_message(value: object, row: pd.Series | None) -> str:
    codes = codelists.codes("entities")
    text = f"expected an entity code of the reference list; found {_shown(value)}."
    close = difflib.get_close_matches(codelists.normalise_ref(value), codes, n=1, cutoff=0.6)
    if close:
        text += f" Did you mean {close[0]}?"
    return text


# ---------------------------------------------------------------------------------- checks
def column_checks(spec: ColumnSpec) -> list[pa.Check]:
    """The element rules of one contract column: type, code list, numeric bounds."""
    checks: list[pa.Check] = []
    d = spec.dtype
    if d in ("number", "integer"):
        integer = d == "integer"
        checks.append(
            _check(
                lambda s: is_blank(s) | parse_number(s).notna(),
                name=rule(
                    f"{d}-type",
                    "type-error",
                    lambda v, r: f"expected a number; found {_shown(v)}.{_number_hint(v)}",
                ),
            )
        )
        if integer:
            checks.append(
                _check(
                    lambda s: ~((parse_number(s) % 1) > 0),
                    name=rule("integer-whole", "type-error", lambda v, r: f"expected a whole number; found {_shown(v)}."),
                )
            )
        ge, gt, le = _bound(spec.ge), _bound(spec.gt), _bound(spec.le)
        if ge is not None:
            negative = ge == 0
            checks.append(
                _check(
                    lambda s, ge=ge: ~(parse_number(s) < ge),
                    name=rule(
                        f"ge-{spec.ge}",
                        "out-of-range",
                        (lambda v, r: f"negative values are not allowed; found {_shown(v)}. Report consumption as a positive number.")
                        if negative
                        else (lambda v, r, ge=spec.ge: f"expected a value of at least {ge}; found {_shown(v)}."),
                    ),
                )
            )
        if gt is not None:
            checks.append(
                _check(
                    lambda s, gt=gt: ~(parse_number(s) <= gt),
                    name=rule(f"gt-{spec.gt}", "out-of-range", lambda v, r, gt=spec.gt: f"expected a value above {gt}; found {_shown(v)}."),
                )
            )
        if le is not None:
            checks.append(
                _check(
                    lambda s, le=le: ~(parse_number(s) > le),
                    name=rule(
                        f"le-{spec.sheet}-{spec.name}",
                        "out-of-range",
                        lambda v, r, le=le, note=spec.bound_note: f"expected a value of at most {le:,g}; found {_shown(v)}"
                        + (f" ({note})." if note else "."),
                    ),
                )
            )
        if spec.le == "current_year":
            checks.append(
                _check(
                    lambda s: ~(parse_number(s) > current_year()),
                    name=rule("le-current_year", "out-of-range", lambda v, r: f"expected a year no later than {current_year()}; found {_shown(v)}."),
                )
            )
    elif d == "enum" or d == "yesno":
        codelist = spec.codelist
        assert codelist, f"{spec.sheet}.{spec.name}: an enumeration needs a code list"
        checks.append(
            _check(
                lambda s, cl=codelist: is_blank(s) | in_codelist(parse_code(s), cl),
                name=rule(f"codelist-{codelist}", "not-in-codelist", enum_message(spec)),
            )
        )
    elif d in ("iso3", "iata", "entity"):
        codelist = {"iso3": "countries", "iata": "airports", "entity": "entities"}[d]
        message = {"iso3": _country_message, "iata": _airport_message, "entity": _entity_message}[d]
        checks.append(
            _check(
                lambda s, cl=codelist: is_blank(s) | in_codelist(parse_ref(s), cl),
                name=rule(f"codelist-{codelist}", "not-in-codelist", message),
            )
        )
    elif d == "email":
        checks.append(
            _check(
                lambda s: is_blank(s) | parse_text(s).str.fullmatch(_EMAIL).fillna(True).astype(bool),
                name=rule("email", "invalid-email", lambda v, r: f"expected an e-mail address like name@un.org; found {_shown(v)}."),
            )
        )
    elif d == "date":
        checks.append(
            _check(
                lambda s: is_blank(s) | parse_date(s).notna(),
                name=rule(
                    "date-type",
                    "type-error",
                    lambda v, r: f"expected a date (an Excel date, or text like 2025-03-01); found {_shown(v)}.",
                ),
            )
        )
    return checks


def column(spec: ColumnSpec) -> pa.Column:
    """A pandera Column for a contract column; cells stay as typed (no dtype coercion)."""
    return pa.Column(
        checks=column_checks(spec),
        # text must not be blank either: `required_not_blank` reports both, once
        nullable=not spec.required or spec.dtype in ("text", "email"),
        required=spec.required,
        name=spec.name,
    )


def required_not_blank(spec: ColumnSpec) -> pa.Check:
    """Text cells holding only spaces count as empty for a required column."""
    return _check(
        lambda d, c=spec.name: ~is_blank(d[c]) if c in d else pd.Series(True, index=d.index),
        name=rule(f"required-{spec.name}", "missing-value", lambda v, r, c=spec.name: f"{c} is required; the cell is empty.", blame=spec.name),
    )


def row_check(rule_id: str, code: str, blame: str, fn: Callable[[pd.DataFrame], pd.Series], message) -> pa.Check:
    """A rule across columns of one row; failures are reported on the `blame` column."""
    return _check(fn, name=rule(rule_id, code, message, blame=blame))


def bounds_from_reporting_year(spec: ColumnSpec) -> list[pa.Check]:
    """Symbolic bounds such as `reporting_year+1` (vintage) or `reporting_year-01-01` (retirement date)."""
    checks: list[pa.Check] = []
    col = spec.name
    if spec.le and spec.le.startswith("reporting_year"):
        offset = int(spec.le.removeprefix("reporting_year") or 0)

        def fn(d: pd.DataFrame, col=col, offset=offset) -> pd.Series:
            return ~(parse_number(d[col]) > d[REPORTING_YEAR] + offset)

        checks.append(
            row_check(
                f"le-reporting-year-{col}",
                "out-of-range",
                col,
                fn,
                lambda v, r, offset=offset: f"expected a year no later than {int(r[REPORTING_YEAR]) + offset} "
                f"(the reporting year {int(r[REPORTING_YEAR])} + {offset}); found {_shown(v)}.",
            )
        )
    if spec.ge and spec.ge.startswith("reporting_year") and spec.dtype == "date":

        def fn_date(d: pd.DataFrame, col=col) -> pd.Series:
            dates = parse_date(d[col])
            start = pd.to_datetime(d[REPORTING_YEAR].astype("Float64").astype("Int64").astype(str) + "-01-01", errors="coerce")
            return ~(dates < start)

        checks.append(
            row_check(
                f"ge-reporting-year-{col}",
                "out-of-range",
                col,
                fn_date,
                lambda v, r: f"expected a date on or after {int(r[REPORTING_YEAR])}-01-01 (credits retired for "
                f"the reporting year {int(r[REPORTING_YEAR])}); found {_shown(v)}.",
            )
        )
    return checks


def sheet_schema(sheet_name: str, row_checks: list[pa.Check] = ()) -> pa.DataFrameSchema:
    """The pandera model of one sheet: its contract columns plus the sheet's cross-column rules."""
    from schemas.contract import sheet

    spec = sheet(sheet_name)
    columns = {c.name: column(c) for c in spec.columns}
    checks = [required_not_blank(c) for c in spec.columns if c.required and c.dtype in ("text", "email")]
    for c in spec.columns:
        checks.extend(bounds_from_reporting_year(c))
    checks.extend(row_checks)
    return pa.DataFrameSchema(columns, checks=checks, strict=False, name=sheet_name, ordered=False)


def unit_compatibility(table: str, type_column: str, unit_column: str = "unit") -> pa.Check:
    """(type, unit) pairs from a compatibility CSV such as `facilities_unit.csv`."""
    allowed = codelists.allowed_units(table)
    pairs = codelists.pairs(table)

    def fn(d: pd.DataFrame) -> pd.Series:
        types, units = parse_code(d[type_column]), parse_code(d[unit_column])
        known = types.isin(list(allowed)) & in_codelist(units, "unit")
        pair_ok = pd.Series([(t, u) in pairs for t, u in zip(types, units)], index=d.index, dtype=bool)
        return ~known | pair_ok

    def message(value: object, row: pd.Series | None) -> str:
        kind = codelists.normalise_code(row[type_column])
        return f"expected one of {', '.join(allowed[kind])} for {kind}; found {_shown(value)}."

    return row_check(f"unit-{table}", "unit-mismatch", unit_column, fn, message)
