"""Code lists and reference lists, loaded from the CSVs under `schemas/codelists/`.

Rules live in those files, not here: an allowed value is a row in a CSV. This module only reads
them (once, cached) and offers the one normalisation every enumeration shares.

`python -m pipeline.codelists` regenerates `countries.csv` from pycountry.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import paths, safe

if TYPE_CHECKING:  # pandas is imported where a Series is made: the readers' workers never need it
    from collections.abc import Collection

    import pandas as pd

CODELIST_DIR = paths.CODELISTS

# White space (the characters themselves, not \s: so Arrow's regex engine can run it, in compiled
# code) and hyphens separate the words of a code: "Natural Gas" = "natural-gas" = natural_gas.
WHITESPACE = " \t\n\r\x0b\x0c\xa0\u2009\u202f\u3000"
# Characters that show nothing (`safe.UNSEEN_RANGES`), for a regular expression's character class.
UNSEEN = safe.class_body(safe.UNSEEN_RANGES)
SEPARATORS = f"[{WHITESPACE}-]+"
# Cyrillic and Greek letters drawn as Latin ones (capitals and small letters), read as those.
LOOK_ALIKES = {
    **dict(zip("АВЕЅІЈКМНОРСТУХҮӀԚԜ", "ABESIJKMHOPCTYXYIQW", strict=True)),  # Cyrillic capitals
    **dict(zip("аеѕіјорсухһӏԛԝԁ", "aesijopcyxhlqwd", strict=True)),  # Cyrillic small letters
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϜ", "ABEZHIKMNOPTYXF", strict=True)),  # Greek capitals
    **dict(zip("οικνρτυχ", "oiknrtux", strict=True)),  # Greek small letters
}
_LATIN = str.maketrans(LOOK_ALIKES)


def to_latin(text: str) -> str:
    """`text` with the Cyrillic and Greek letters drawn as Latin ones read as those (`LOOK_ALIKES`):
    'КЕN' typed in a Cyrillic layout is 'KEN'."""
    return text.translate(_LATIN)


def look_alike_of(code: str, listed: Collection[str]) -> str | None:
    """The listed code `code` is drawn like ('UNEР', a Cyrillic Р: 'UNEP'): its Latin reading,
    in upper case, when that differs from it and is in `listed`; else None."""
    latin = to_latin(code).upper()
    return latin if latin != code.upper() and latin in listed else None


_SEPARATORS = re.compile(SEPARATORS)


def normalise_code(value: object) -> str:
    """'Natural Gas' -> 'natural_gas': lower case, spaces and hyphens folded to one underscore."""
    text = str(value).strip().lower()
    return _SEPARATORS.sub("_", text)


def normalise_ref(value: object) -> str:
    """Reference codes (country, airport, entity) match ignoring case and surrounding spaces."""
    return str(value).strip().upper()


def _text_only(values: pd.Series) -> pd.Series:
    """Text cells stripped (Arrow strings); anything else, and blank text, <NA>."""
    import pandas as pd

    if isinstance(values.dtype, pd.StringDtype):  # every value is text or <NA>: no cell to look at
        text = values.astype("string[pyarrow]").str.strip()
    else:
        is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
        text = pd.Series(values.where(is_text, None), index=values.index, dtype="string[pyarrow]").str.strip()
    return text.mask(text.eq("").fillna(False))


def normalise_codes(values: pd.Series) -> pd.Series:
    """`normalise_code` over a Series at once; non-text and blank values become None."""
    text = _text_only(values).str.lower().str.replace(SEPARATORS, "_", regex=True)
    return text.astype(object).where(text.notna(), None)


def normalise_refs(values: pd.Series) -> pd.Series:
    """`normalise_ref` over a Series at once; non-text and blank values become None."""
    text = _text_only(values).str.upper()
    return text.astype(object).where(text.notna(), None)


@cache
def table(name: str) -> tuple[dict[str, str], ...]:
    """All rows of `schemas/codelists/{name}.csv` as dicts of strings."""
    path = CODELIST_DIR / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = tuple(csv.DictReader(fh))
    assert rows, f"code list {path.name} is empty"
    return rows


@cache
def codes(name: str) -> tuple[str, ...]:
    """The codes of a code list, in file order. `airports` comes from airportsdata."""
    if name == "airports":
        return tuple(airports())
    return tuple(row["code"] for row in table(name))


@cache
def flag(name: str, column: str) -> frozenset[str]:
    """Codes whose boolean `column` is true, e.g. flag('refrigerant_gas', 'is_hcfc')."""
    return frozenset(row["code"] for row in table(name) if row[column].strip().lower() == "true")


@cache
def pairs_tables() -> dict[str, str]:
    """The compatibility tables among the code lists, type column -> table: a code list whose
    header is `<column>,unit` lists the units allowed for each value of that column, on every sheet
    with that column and a unit column ({'energy_type': 'facilities_unit', 'fuel': 'vehicle_unit'})."""
    out: dict[str, str] = {}
    for path in sorted(CODELIST_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        if len(header) == 2 and header[1] == "unit" and header[0] != "code":
            out[header[0]] = path.stem
    return out


@cache
def pairs(name: str) -> frozenset[tuple[str, str]]:
    """Allowed (type, unit) pairs of a compatibility table such as `facilities_unit`."""
    rows = table(name)
    first, second = list(rows[0].keys())[:2]
    return frozenset((row[first], row[second]) for row in rows)


@cache
def allowed_units(name: str) -> dict[str, tuple[str, ...]]:
    """type -> allowed units, in file order, from a compatibility table."""
    out: dict[str, list[str]] = {}
    rows = table(name)
    first, second = list(rows[0].keys())[:2]
    for row in rows:
        out.setdefault(row[first], []).append(row[second])
    return {k: tuple(v) for k, v in out.items()}


@cache
def _airport_rows() -> tuple[tuple[str, float, float, str, str], ...]:
    """(IATA code, latitude, longitude, alpha-2 country, city) of every airport: those of
    airportsdata (`_listed_airports`), then the codes airportsdata listed in earlier releases and
    no longer does (`airports_retired.csv`): codes changed or airports closed since (PNH, KIV,
    SXF), which tickets of the years reported carry; a code airportsdata lists now is never
    replaced by a retired one."""
    found = dict(_listed_airports())
    for old in _retired_airports():
        if old["code"] not in found:
            found[old["code"]] = (old["code"], float(old["lat"]), float(old["lon"]), old["country"], old["city"])
    return tuple(found.values())


@cache
def _listed_airports() -> dict[str, tuple[str, float, float, str, str]]:
    """IATA code -> (code, latitude, longitude, alpha-2 country, city) of the installed
    airportsdata, from one read of its table as `airportsdata.load("IATA")` reads it (numbers
    unquoted, the last row of a code the one kept, rows without a code left out), but of the five
    columns only: its 28,000 rows of dictionaries take 0.06 s, these 0.03 s (in the readers' fork
    server and in validation both), and a run needs the airports' places, countries and cities."""
    import airportsdata

    with Path(airportsdata.__file__).with_name("airports.csv").open(encoding="utf8", newline="") as fh:
        rows = csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC)
        header = [str(name) for name in next(rows)]
        iata, lat, lon, country, city = (header.index(name) for name in ("iata", "lat", "lon", "country", "city"))
        found: dict[str, tuple[str, float, float, str, str]] = {}
        for row in rows:
            if code := str(row[iata]):
                found[code] = (code, float(row[lat]), float(row[lon]), str(row[country]), str(row[city] or ""))
    return found


@cache
def _retired_airports() -> tuple[dict[str, str], ...]:
    with (CODELIST_DIR / "airports_retired.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@cache
def airport_city_names() -> dict[str, str]:
    """IATA code -> the city its airport serves, as the airport reference names it."""
    return {code: city for code, _, _, _, city in _airport_rows() if len(code) == 3}


def airport_source(code: str) -> str:
    """Where an airport's place and country come from: the airportsdata release installed, or, for
    a code it no longer lists, airports_retired.csv and the last release that listed it."""
    if code in _listed_airports():
        import airportsdata

        return f"airportsdata {getattr(airportsdata, '__version__', '')}".rstrip()
    for old in _retired_airports():
        if old["code"] == code:
            return f"airportsdata {old['last_listed']}, the last release to list it (airports_retired.csv)"
    return ""


@cache
def airports() -> dict[str, tuple[float, float]]:
    """IATA code -> (latitude, longitude), from the airportsdata package (IATA-keyed)."""
    return {code: (float(lat), float(lon)) for code, lat, lon, _, _ in _airport_rows() if len(code) == 3}


def city_key(name: str) -> str:
    """A city's name as `airport_cities` keys it: accents, case, spaces and punctuation ignored
    ('nairobi'; 'Nouvelle Delhi' as 'Nouvelle-Delhi', 'St Louis' as 'St. Louis')."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in plain if ch.isalnum()).casefold()


@cache
def airport_cities() -> dict[str, tuple[str, ...]]:
    """A city's name folded (`city_key`: case, accents, spaces and punctuation ignored) -> the IATA codes of its
    airports, from airportsdata: 'nairobi' -> ('NBO', 'WIL')."""
    out: dict[str, list[str]] = {}
    for code, _, _, _, city_name in _airport_rows():
        if key := city_key(city_name):
            out.setdefault(key, []).append(code)
    return {k: tuple(sorted(v)) for k, v in out.items()}


@cache
def airport_countries() -> dict[str, str]:
    """IATA code -> ISO 3166-1 alpha-3 country of the airport (airportsdata gives alpha-2)."""
    alpha3 = {row["alpha_2"]: row["code"] for row in table("countries")}
    return {code: alpha3[country] for code, _, _, country, _ in _airport_rows() if len(code) == 3 and country in alpha3}


def write_countries(path: Path | None = None) -> Path:
    """Regenerate countries.csv (ISO 3166-1 alpha-3) from pycountry."""
    import pycountry

    path = path or CODELIST_DIR / "countries.csv"
    rows = sorted((c.alpha_3, c.alpha_2, c.name) for c in pycountry.countries)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "alpha_2", "label"])
        writer.writerows(rows)
    return path


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    print(f"wrote {write_countries()}")
