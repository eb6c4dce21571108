"""Factor sets: cited emission factors as versioned CSVs, validated on read.

A factor set is a directory `inputs/reference/factors/<name>/` holding:

- `factors_*.csv`: the factors, one row per (factor_id, region), columns `FACTOR_COLUMNS`;
- `factor_lookup.csv`: which factor a workbook activity uses (sheet, activity -> category,
  factor_activity, and whether the factor varies by country);
- `conversions.csv`: unit conversions to the canonical unit of each factor (see `units.py`);
- `air_distance_bands.csv`, `air_gcd_correction.csv`, `refrigerant_blends.csv`: method data.

`inputs/reference/factor_pins.csv` says which set each reporting year uses. Every path defaults
to the repository layout but accepts an override directory, so tests build sets in code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import paths
from pipeline.codelists import codes, normalise_codes, normalise_refs

REPO_ROOT = paths.REPO
# The factor sets and pins read by default: the repository's, or those of the inputs folder a run
# reads (`reference_folder`).
FACTORS_DIR = paths.FACTORS
PINS_PATH = paths.FACTOR_PINS


def use_reference(folder: Path | str) -> bool:
    """From now on in this process, the factor pins and sets are those of `folder` (an inputs
    folder's `reference/`: `factor_pins.csv`, `factors/<set>/`) where it holds them, each on its
    own, else those read until now (the repository's); whether the folder's are read. The
    portal's process does so once, at start, for its inputs folder, so that its checks price as
    its runs do."""
    global FACTORS_DIR, PINS_PATH
    folder = Path(folder).resolve()
    pins_here, sets_here = (folder / "factor_pins.csv").is_file(), (folder / "factors").is_dir()
    if pins_here:
        PINS_PATH = folder / "factor_pins.csv"
    if sets_here:
        FACTORS_DIR = folder / "factors"
    return pins_here or sets_here


@contextmanager
def reference_folder(folder: Path | str) -> Iterator[bool]:
    """`use_reference(folder)` while it lasts, then what was read before: `gtb run --inputs DIR`
    reads `DIR/reference/` so. Module state: one run at a time in a process (the portal runs
    `gtb run` in a process of its own)."""
    global FACTORS_DIR, PINS_PATH
    saved = FACTORS_DIR, PINS_PATH
    try:
        yield use_reference(folder)
    finally:
        FACTORS_DIR, PINS_PATH = saved


WORLD = "WORLD"
FACTOR_COLUMNS = (
    "factor_id",
    "category",
    "activity",
    "unit",
    "region",
    "kgco2e_per_unit",
    "gwp_basis",
    "source_title",
    "source_url",
    "publication_year",
    "licence",
    "notes",
)
OPTIONAL_COLUMNS = frozenset({"notes"})
CATEGORIES = (
    "stationary_fuel",
    "grid_electricity",
    "district_heating",
    "district_cooling",
    "vehicle_fuel",
    "refrigerant_gwp",
    "air_travel",
    "other_travel",
)
UNITS = ("kwh", "litre", "kg", "tonne", "m3", "passenger_km", "vehicle_km", "kg_fuel")
ZERO_ALLOWED = frozenset({"refrigerant_gwp"})  # a GWP of 0 is real (ammonia); nothing else is
LOOKUP_COLUMNS = ("sheet", "activity", "category", "factor_activity", "regional")
MAX_LISTED = 20


class FactorSetError(ValueError):
    """A factor set, pin or lookup that cannot be used; the message names file, line and column."""


def _problems(source: str, problems: list[str]) -> FactorSetError:
    shown = problems[:MAX_LISTED]
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return FactorSetError(f"{source}: {len(problems)} problem(s)\n  " + "\n  ".join(shown) + more)


def _root(directory: Path | str | None) -> Path:
    return Path(directory) if directory is not None else FACTORS_DIR


def _version_key(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", name))


def available_sets(directory: Path | str | None = None) -> tuple[str, ...]:
    """Names of the factor sets under `directory` (default the repository's), oldest first."""
    root = _root(directory)
    if not root.is_dir():
        return ()
    names = [p.name for p in root.iterdir() if p.is_dir() and any(p.glob("factors_*.csv"))]
    return tuple(sorted(names, key=_version_key))


def default_set(directory: Path | str | None = None) -> str:
    """The newest factor set; used where no reporting year pins one (e.g. unit conversion)."""
    sets = available_sets(directory)
    if not sets:
        raise FactorSetError(f"no factor set (a directory with factors_*.csv) under {_root(directory)}")
    return sets[-1]


def set_dir(name: str | None = None, directory: Path | str | None = None) -> Path:
    """The directory of factor set `name` (default: `default_set`), checked to exist."""
    name = name or default_set(directory)
    path = _root(directory) / name
    if name not in available_sets(directory):
        raise FactorSetError(
            f"unknown factor set {name!r} under {_root(directory)}; "
            f"available: {', '.join(available_sets(directory)) or 'none'}"
        )
    return path


def _read_text_csv(path: Path) -> pd.DataFrame:
    """A reference CSV as stripped text columns; read again only when the file changes (a
    long-lived caller such as the submission portal calculates with the same files many times)."""
    if not path.is_file():
        raise FactorSetError(f"{path}: file not found")
    stat = path.stat()
    return _read_text_csv_once(str(path), stat.st_mtime_ns, stat.st_size).copy()  # re-read when the file changes


@lru_cache(maxsize=128)
def _read_text_csv_once(path_text: str, mtime_ns: int, size: int) -> pd.DataFrame:
    path = Path(path_text)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, pd.errors.ParserError) as exc:
        raise FactorSetError(f"{path}: not a readable CSV ({exc})") from exc
    if not isinstance(frame.index, pd.RangeIndex):  # every line had one field more than the header
        raise FactorSetError(f"{path}: rows have more fields than the header (an unquoted comma?)")
    return frame.apply(lambda col: col.str.strip())


def read_set_table(filename: str, name: str | None = None, directory: Path | str | None = None) -> pd.DataFrame:
    """A method table of a factor set (e.g. `air_distance_bands.csv`) as text columns."""
    return _read_text_csv(set_dir(name, directory) / filename)


# --- factors -------------------------------------------------------------------------------


def validate_factors(frame: pd.DataFrame, source: str, lines: pd.Series | None = None) -> pd.DataFrame:
    """Check a frame of factor rows (text columns) and return it typed; raise listing every problem.

    Rules: required columns present and filled (only `notes` may be empty), no unknown column,
    known category and unit, region `WORLD` or an ISO3 code of `schemas/codelists/countries.csv`,
    a finite factor > 0 (>= 0 for refrigerant GWPs), an http(s) `source_url`, a plausible
    `publication_year`, no duplicate (factor_id, region), one category/activity/unit per factor_id.
    """
    problems = _column_problems(frame)
    if problems:
        raise _problems(source, problems)
    line = lines if lines is not None else pd.Series([f"line {i + 2}" for i in range(len(frame))], index=frame.index)
    values = pd.to_numeric(frame["kgco2e_per_unit"], errors="coerce").astype(float)
    years = pd.to_numeric(frame["publication_year"], errors="coerce")
    countries = frozenset(codes("countries"))
    rows = frame.to_dict("records")  # plain dicts: indexing a pandas row per cell cost seconds per set
    for idx, row, value, year in zip(frame.index, rows, values, years, strict=True):
        where = str(line.at[idx])
        problems += _empty_cells(where, row)
        problems += _code_problems(where, row, countries)
        problems += _factor_problems(where, row, value)
        problems += _source_problems(where, row, year)
    problems += _duplicate_problems(frame, line)
    if problems:
        raise _problems(source, problems)
    typed = frame.copy()
    typed["kgco2e_per_unit"] = values.astype(float)
    typed["publication_year"] = years.astype(int)
    return typed


def _column_problems(frame: pd.DataFrame) -> list[str]:
    """The required columns missing, then the columns that are not factor columns."""
    problems = []
    missing = [c for c in FACTOR_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in FACTOR_COLUMNS]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    return problems


def _empty_cells(where: str, row: Mapping[Any, Any]) -> list[str]:
    """The required cells of a row left empty (only `notes` may be)."""
    return [f"{where}, column {col}: empty" for col in FACTOR_COLUMNS if col not in OPTIONAL_COLUMNS and row[col] == ""]


def _code_problems(where: str, row: Mapping[Any, Any], countries: frozenset[str]) -> list[str]:
    """A category or unit that is not known, a region neither WORLD nor an ISO3 code."""
    problems = []
    if row["category"] and row["category"] not in CATEGORIES:
        problems.append(f"{where}, column category: {row['category']!r} is not one of {', '.join(CATEGORIES)}")
    if row["unit"] and row["unit"] not in UNITS:
        problems.append(f"{where}, column unit: {row['unit']!r} is not one of {', '.join(UNITS)}")
    if row["region"] and row["region"] != WORLD and row["region"] not in countries:
        problems.append(f"{where}, column region: {row['region']!r} is neither WORLD nor an ISO3 country code")
    return problems


def _factor_problems(where: str, row: Mapping[Any, Any], value: float) -> list[str]:
    """A factor (`value`, as parsed) that is not a finite number > 0 (>= 0 for refrigerant GWPs)."""
    if row["kgco2e_per_unit"] == "":
        return []  # reported as an empty cell
    floor_ok = value >= 0 if row["category"] in ZERO_ALLOWED else value > 0
    if math.isfinite(value) and floor_ok:
        return []
    rule = ">= 0" if row["category"] in ZERO_ALLOWED else "> 0"
    return [f"{where}, column kgco2e_per_unit: {row['kgco2e_per_unit']!r} is not a number {rule}"]


def _source_problems(where: str, row: Mapping[Any, Any], year: float) -> list[str]:
    """A source_url that is not an http(s) address, a publication year (`year`, as parsed) that is implausible."""
    problems = []
    if row["source_url"] and not re.match(r"https?://\S+$", row["source_url"]):
        problems.append(f"{where}, column source_url: {row['source_url']!r} is not an http(s) address")
    if row["publication_year"] and not (year == year and float(year).is_integer() and 1990 <= year <= 2100):
        problems.append(f"{where}, column publication_year: {row['publication_year']!r} is not a year")
    return problems


def _duplicate_problems(frame: pd.DataFrame, line: pd.Series) -> list[str]:
    """Rows repeating a (factor_id, region), two factors for one (category, activity, region) (a row
    could not tell which to use), and factor_ids whose rows disagree on category, activity or unit."""
    problems = []
    dup = frame.duplicated(["factor_id", "region"], keep=False) & (frame["factor_id"] != "")
    for (fid, region), group in frame[dup].groupby(["factor_id", "region"], sort=True):
        problems.append(
            f"{', '.join(str(line[i]) for i in group.index)}: duplicate factor_id {fid!r} for region {region!r}"
        )
    key = ["category", "activity", "region"]
    twice = frame.duplicated(key, keep=False) & (frame["activity"] != "")
    for (category, activity, region), group in frame[twice].groupby(key, sort=True):
        if group["factor_id"].nunique() < 2:  # one factor_id repeated: reported above
            continue
        where = ", ".join(str(line[i]) for i in group.index)
        problems.append(f"{where}: two factors for {category}/{activity} in region {region!r}")
    shape = frame.groupby("factor_id")[["category", "activity", "unit"]].nunique()
    for fid in shape.index[(shape > 1).any(axis=1)]:
        problems.append(f"factor_id {fid!r}: rows disagree on category, activity or unit")
    return problems


@cache
def _load_factors(path_text: str, stamp: tuple) -> pd.DataFrame:
    path = Path(path_text)
    files = sorted(path.glob("factors_*.csv"))
    parts, lines, sources = [], [], []
    for file in files:
        part = _read_text_csv(file)
        missing = [c for c in FACTOR_COLUMNS if c not in part.columns]
        unknown = [c for c in part.columns if c not in FACTOR_COLUMNS]
        if missing or unknown:
            raise _problems(
                str(file),
                [f"missing column(s): {', '.join(missing)}"] * bool(missing)
                + [f"unknown column(s): {', '.join(unknown)}"] * bool(unknown),
            )
        parts.append(part)
        lines.append(pd.Series([f"{file.name} line {i + 2}" for i in range(len(part))]))
        sources.append(file.name)
    if not parts:
        raise FactorSetError(f"{path}: no factors_*.csv file")
    frame = pd.concat(parts, ignore_index=True)
    line = pd.concat(lines, ignore_index=True)
    typed = validate_factors(frame, f"factor set {path.name} ({', '.join(sources)})", line)
    typed.insert(0, "factor_set", path.name)
    return typed.sort_values(["category", "activity", "region"], kind="stable").reset_index(drop=True)


def factor_set(name: str | None = None, directory: Path | str | None = None) -> pd.DataFrame:
    """All factors of set `name` (default: `default_set`) as one validated frame.

    Columns: `factor_set` then `FACTOR_COLUMNS`; `kgco2e_per_unit` float, `publication_year` int.
    Raises `FactorSetError` naming file, line and column of every problem.
    """
    path = set_dir(name, directory).resolve()
    return _load_factors(
        str(path), file_stamp(sorted(path.glob("factors_*.csv")))
    ).copy()  # re-read when a file changes


def file_stamp(files: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """(name, modification time, size) of each of `files` that exists: what a cache of what was
    read from them is keyed by, so that it is read again when one of them changes."""
    out = []
    for f in files:
        try:
            stat = f.stat()
        except FileNotFoundError:
            continue
        out.append((f.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


# --- pins ----------------------------------------------------------------------------------


def pins(pins_path: Path | str | None = None) -> pd.DataFrame:
    """`factor_pins.csv` as a frame (year int, factor_set), one row per year."""
    path = Path(pins_path) if pins_path is not None else PINS_PATH
    frame = _read_text_csv(path)
    problems = [f"missing column {c}" for c in ("year", "factor_set") if c not in frame.columns]
    if problems:
        raise _problems(str(path), problems)
    years = pd.to_numeric(frame["year"], errors="coerce")
    for idx in frame.index[years.isna() | (frame["factor_set"] == "")]:
        problems.append(f"line {idx + 2}: year {frame.at[idx, 'year']!r} / factor_set {frame.at[idx, 'factor_set']!r}")
    for idx in frame.index[years.duplicated(keep=False) & years.notna()]:
        problems.append(f"line {idx + 2}: year {frame.at[idx, 'year']!s} is pinned more than once")
    if problems:
        raise _problems(str(path), problems)
    return frame.assign(year=years.astype(int))


def pinned_sets(pins_path: Path | str | None = None) -> list[str]:
    """Every factor set some year is pinned to, sorted."""
    return sorted(set(pins(pins_path)["factor_set"]))


def pinned_set(year: int, pins_path: Path | str | None = None) -> str:
    """The factor set pinned for reporting `year`; raises if the year has no pin."""
    table = pins(pins_path)
    hit = table.loc[table["year"] == int(year), "factor_set"]
    if hit.empty:
        raise FactorSetError(
            f"{pins_path or PINS_PATH}: no factor set pinned for year {year} "
            f"(pinned: {table['year'].min()}-{table['year'].max()})"
        )
    return str(hit.iloc[0])


# --- lookup and resolution -----------------------------------------------------------------


def factor_lookup(name: str | None = None, directory: Path | str | None = None) -> pd.DataFrame:
    """`factor_lookup.csv` of a set: (sheet, activity) -> (category, factor_activity, regional)."""
    frame = read_set_table("factor_lookup.csv", name, directory)
    source = str(set_dir(name, directory) / "factor_lookup.csv")
    missing = [c for c in LOOKUP_COLUMNS if c not in frame.columns]
    if missing:
        raise _problems(source, [f"missing column(s): {', '.join(missing)}"])
    bad = ~frame["regional"].str.lower().isin(["true", "false"])
    problems = [
        f"line {i + 2}, column regional: {frame.at[i, 'regional']!r} is not true/false" for i in frame.index[bad]
    ]
    for i in frame.index[frame.duplicated(["sheet", "activity"], keep=False)]:
        problems.append(f"line {i + 2}: ({frame.at[i, 'sheet']!s}, {frame.at[i, 'activity']!s}) listed twice")
    if problems:
        raise _problems(source, problems)
    return frame.assign(sheet_key=frame["sheet"].str.lower(), regional=frame["regional"].str.lower() == "true")


DISTINCT_FROM_ROWS = 1000  # shorter inputs are resolved row by row


def resolve_factors(
    sheet: str,
    activities: pd.Series,
    countries: pd.Series | None = None,
    *,
    name: str | None = None,
    directory: Path | str | None = None,
) -> pd.DataFrame:
    """The factor each row uses, vectorised; index of `activities` kept.

    Regional factors (grid electricity, district cooling) take the row's country when the set
    has it and fall back to WORLD otherwise (`fell_back_to_world` True); other factors are
    WORLD rows. Raises `FactorSetError` for an activity without a lookup row or a factor.
    Columns: factor_id, category, activity, region, unit, kgco2e_per_unit, fell_back_to_world.

    Each row's factor depends on its activity and country alone: a long input (a year's air
    travel, 40,000 rows of a few activities and countries) is resolved once per distinct pair,
    in the order they first appear, and spread back over its rows.
    """
    aligned = countries.reindex(activities.index) if countries is not None else None
    pairs = _distinct_pairs(activities, aligned)
    if pairs is None:
        return _resolve(sheet, activities, aligned, name, directory)
    first, codes = pairs
    distinct = _resolve(
        sheet,
        activities.iloc[first].reset_index(drop=True),
        aligned.iloc[first].reset_index(drop=True) if aligned is not None else None,
        name,
        directory,
    )
    return distinct.iloc[codes].set_axis(activities.index)


def _distinct_pairs(activities: pd.Series, countries: pd.Series | None) -> tuple[Any, Any] | None:
    """(position of the first row of each distinct (activity, country), each row's pair number),
    for a long input of texts (empty countries aside) that repeats its pairs; None otherwise."""
    import numpy as np

    if len(activities) < DISTINCT_FROM_ROWS or activities.isna().any():
        return None
    if pd.api.types.infer_dtype(activities, skipna=False) != "string":
        return None
    codes, _ = pd.factorize(activities)
    if countries is not None:
        if not countries.isna().all() and pd.api.types.infer_dtype(countries, skipna=True) != "string":
            return None
        by_country, countries_seen = pd.factorize(countries)  # empty countries: -1, one pair
        codes, _ = pd.factorize(codes * (len(countries_seen) + 1) + by_country + 1)
    _, first = np.unique(codes, return_index=True)  # pair numbers run 0, 1, ... in order of appearance
    if len(first) * 4 > len(activities):
        return None
    return first, codes


def _resolve(
    sheet: str,
    activities: pd.Series,
    countries: pd.Series | None,
    name: str | None,
    directory: Path | str | None,
) -> pd.DataFrame:
    """Each row's factor, by the rule of `resolve_factors`: the lookup row of its (sheet, activity),
    then the factor of the row's country where the lookup says regional and the set has one,
    else the WORLD factor. Dictionary lookups over the set's tables (`_tables`), one per row."""
    by_activity, by_key = _tables(name, directory)
    lookup = by_activity.get(sheet.strip().lower())
    if lookup is None:
        raise FactorSetError(f"factor_lookup.csv of set {name or default_set(directory)}: no row for sheet {sheet!r}")
    acts = normalise_codes(activities).tolist()
    wanted = [WORLD] * len(acts) if countries is None else normalise_refs(countries).fillna("").tolist()
    factor_id: list[str] = []
    category: list[str] = []
    activity: list[str] = []
    region: list[str] = []
    unit: list[str] = []
    kg: list[float] = []
    fell_back: list[bool] = []
    unknown: list[int] = []
    lost: dict[tuple[str, str], None] = {}  # ordered set, in the order the rows meet them
    for i, (act, country) in enumerate(zip(acts, wanted, strict=True)):
        entry = lookup.get(act) if act is not None else None
        if entry is None:
            unknown.append(i)
            continue
        cat, factor_activity, regional = entry
        want = country if regional else WORLD
        hit = by_key.get((cat, factor_activity, want))
        found = hit if hit is not None else by_key.get((cat, factor_activity, WORLD))
        if found is None:
            lost.setdefault((cat, factor_activity), None)
            continue
        factor_id.append(found[0])
        unit.append(found[1])
        kg.append(found[2])
        category.append(cat)
        activity.append(factor_activity)
        region.append(want if hit is not None else WORLD)
        fell_back.append(hit is None)
    if unknown:
        found_text = sorted({str(a) for a in activities.iloc[unknown]})
        raise FactorSetError(f"{sheet}: no factor lookup for activity {', '.join(map(repr, found_text))}")
    if lost:
        listed = ", ".join(f"{c}/{a}" for c, a in lost)
        raise FactorSetError(f"{sheet}: no factor (not even {WORLD}) for {listed}")
    return pd.DataFrame(
        {
            "factor_id": pd.Series(factor_id, dtype="str"),
            "category": pd.Series(category, dtype="str"),
            "activity": pd.Series(activity, dtype="str"),
            "region": pd.Series(region, dtype="str"),
            "unit": pd.Series(unit, dtype="str"),
            "kgco2e_per_unit": pd.Series(kg, dtype=float),
            "fell_back_to_world": pd.Series(fell_back, dtype=bool),
        }
    ).set_axis(activities.index)


def _tables(name: str | None, directory: Path | str | None) -> tuple[dict, dict]:
    """The set's factor lookup as {sheet key: {activity: (category, factor activity, regional)}}
    and its factors as {(category, activity, region): (factor_id, unit, kgco2e_per_unit)}; built
    once per set and again when one of its files changes (as `factor_set` is)."""
    path = set_dir(name, directory).resolve()
    files = [path / "factor_lookup.csv", *sorted(path.glob("factors_*.csv"))]
    return _tables_once(name, directory, str(path), file_stamp(files))


@lru_cache(maxsize=16)
def _tables_once(name: str | None, directory: Path | str | None, path_text: str, stamp: tuple) -> tuple[dict, dict]:
    by_activity: dict[str, dict[str, tuple[str, str, bool]]] = {}
    lookup = factor_lookup(name, directory)
    for row in lookup[["sheet_key", "activity", "category", "factor_activity", "regional"]].itertuples(index=False):
        by_activity.setdefault(row[0], {})[row[1]] = (row[2], row[3], bool(row[4]))
    table = factor_set(name, directory)
    columns = ["category", "activity", "region", "factor_id", "unit", "kgco2e_per_unit"]
    by_key = {(c, a, r): (f, u, float(k)) for c, a, r, f, u, k in table[columns].itertuples(index=False)}
    return by_activity, by_key


def renewable_shares(name: str | None = None, directory: Path | str | None = None) -> dict[str, float]:
    """Region -> share of renewable electricity of the grid (`grid_renewable_share.csv`), with a
    WORLD row; empty for a set without the file."""
    path = set_dir(name, directory) / "grid_renewable_share.csv"
    if not path.is_file():
        return {}
    frame = _read_text_csv(path)
    share = pd.to_numeric(frame["renewable_share"], errors="coerce")
    bad = frame.index[~share.between(0, 1)]
    if len(bad) or WORLD not in set(frame["region"]):
        raise _problems(
            str(path),
            [f"line {i + 2}: renewable_share {frame.at[i, 'renewable_share']!r} is not a share" for i in bad]
            or ["no WORLD row"],
        )
    return dict(zip(frame["region"], share.astype(float), strict=True))


def conversions(name: str | None = None, directory: Path | str | None = None) -> pd.DataFrame:
    """`conversions.csv` of a set, `multiplier` as float (see `pipeline.reference.units`)."""
    frame = read_set_table("conversions.csv", name, directory)
    source = str(set_dir(name, directory) / "conversions.csv")
    needed = ("sheet", "activity", "from_unit", "to_unit", "multiplier", "source_title", "source_url")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise _problems(source, [f"missing column(s): {', '.join(missing)}"])
    mult = pd.to_numeric(frame["multiplier"], errors="coerce")
    problems = [
        f"line {i + 2}, column multiplier: {frame.at[i, 'multiplier']!r} is not a number > 0"
        for i in frame.index[~(mult > 0)]
    ]
    problems += [f"line {i + 2}, column source_url: empty" for i in frame.index[frame["source_url"] == ""]]
    problems += [
        f"line {i + 2}: ({frame.at[i, 'sheet']!s}, {frame.at[i, 'activity']!s}, "
        f"{frame.at[i, 'from_unit']!s}) listed twice"
        for i in frame.index[frame.duplicated(["sheet", "activity", "from_unit"], keep=False)]
    ]
    if problems:
        raise _problems(source, problems)
    return frame.assign(multiplier=mult.astype(float), sheet_key=frame["sheet"].str.lower())


def warm_up(directory: Path | str | None = None) -> None:
    """Read and check every pinned factor set now (each is read once per process), e.g. while the
    submissions are being read: calculating then finds them ready. Their unit conversions are
    `units.warm_up`'s."""
    for name in pinned_sets():
        _tables(name, directory)  # factor_set and factor_lookup, checked, as lookups
        renewable_shares(name, directory)
