"""Plausibility: loaded figures against the entity's previous year and against documented bounds.

`metrics(con, ids)` reads, per submission, the figures a reviewer compares from year to year
(personnel; energy by type, refrigerant by gas, fleet fuel by fuel, other travel by mode, in their
canonical units; flights, waste, water; emissions per capita) and the intensities that have
bounds (kWh, m3, kg of waste and flights per person; kg of refrigerant per site), each with the
row that drives it (the largest). `flags(con, ids)` compares them:

- `implausible-change` when a figure moves beyond the factor of its check since the entity's
  previous loaded year (or its latest published totals, where they are later: personnel, waste,
  water and emissions per capita, `previous_published`), both values and the likely cause in the
  message (x1000: a unit slip),
  when a figure that was 0 is now at least its check's floor (no ratio: `from-zero`), and when a
  source the previous year reported is not reported at all (`VANISHING`);
- `implausible-value` when an intensity exceeds its bound, and when a workbook with personnel
  reports no emission at all (every emission sheet empty or zero) and no source it reported the
  year before is flagged as gone.

The checks, their limits, floors (figures too small to judge) and reasons are data:
`schemas/plausibility.csv`. The findings are warnings on the driving row's cell; `gtb run`
records them as open flags until an analyst accepts them (`gtb accept`).
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import sys
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from typing import Any, NamedTuple

import duckdb
import pandas as pd

from pipeline import paths
from pipeline.catalogue import DEFAULT_LANG, Message, Rendered, column_named, localised
from schemas import contract, i18n

# (metric, item, unit, value, sheet, driving Excel row, contract column of the driving cell)
METRICS_SQL = """
WITH subs AS (SELECT unnest(?) AS submission_id),
energy AS (
    SELECT submission_id, 'energy' AS metric, energy_type_code AS item, canonical_unit AS unit,
           sum(canonical_quantity) AS value, 'Facilities' AS sheet, arg_max(source_row, canonical_quantity) AS row,
           'quantity' AS col
    FROM facilities_activity JOIN subs USING (submission_id) GROUP BY ALL
), refrigerant(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT submission_id, 'refrigerant', gas_code, 'kg', sum(refilled_kg), 'Refrigerants',
           arg_max(source_row, refilled_kg), 'refilled_kg'
    FROM refrigerants_activity JOIN subs USING (submission_id) GROUP BY ALL
), fleet(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT submission_id, 'fleet', fuel_code, canonical_unit, sum(canonical_quantity), 'Vehicles',
           arg_max(source_row, canonical_quantity), 'quantity'
    FROM vehicles_activity JOIN subs USING (submission_id) GROUP BY ALL
), flights(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT submission_id, 'flights', 'all', 'flights', sum(flights)::DOUBLE, 'AirTravel',
           arg_max(source_row, flights), 'trips'
    FROM air_travel_activity JOIN subs USING (submission_id) GROUP BY ALL
), travel(submission_id, metric, item, unit, value, sheet, row, col) AS (
    -- in the unit the mode was priced in (a rental car in vehicle-km from factor set gtb-2026.1 on):
    -- a year in passenger-km is no figure to compare with one in vehicle-km
    SELECT o.submission_id, 'travel', o.mode_code, coalesce(any_value(e.activity_unit), 'passenger_km'),
           sum(o.passenger_km), 'OtherTravel', arg_max(o.source_row, o.passenger_km), 'passenger_km'
    FROM other_travel_activity o JOIN subs USING (submission_id)
    LEFT JOIN emissions e
           ON e.submission_id = o.submission_id AND e.sheet = 'OtherTravel' AND e.source_row = o.source_row
    GROUP BY o.submission_id, o.mode_code
), waste(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT submission_id, 'waste', 'all', 'tonne', sum(quantity_tonnes), 'Waste',
           arg_max(source_row, quantity_tonnes), 'quantity'
    FROM waste_activity JOIN subs USING (submission_id) GROUP BY ALL
), water(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT submission_id, 'water', 'all', 'm3', sum(volume_m3), 'Water', arg_max(source_row, volume_m3), 'volume'
    FROM water_activity JOIN subs USING (submission_id) GROUP BY ALL
), people AS (
    SELECT submission_id, personnel::DOUBLE AS personnel FROM entity_reports JOIN subs USING (submission_id)
), emitted AS (  -- the factor sets are the item: per capita is compared only under the same factors
    SELECT submission_id, sum(emissions_tco2e) AS tco2e, arg_max(sheet, emissions_tco2e) AS sheet,
           arg_max(source_row, emissions_tco2e) AS row, string_agg(DISTINCT factor_set, ' ' ORDER BY factor_set) AS sets
    FROM emissions JOIN subs USING (submission_id) WHERE NOT is_optional GROUP BY ALL
), site_refrigerant AS (
    SELECT submission_id, site, sum(refilled_kg) AS kg, arg_max(source_row, refilled_kg) AS row
    FROM refrigerants_activity JOIN subs USING (submission_id) GROUP BY ALL
), per_person(submission_id, metric, item, unit, value, sheet, row, col) AS (
    SELECT p.submission_id, 'per_capita', e.sets, 'tCO2e/person', e.tco2e / p.personnel, e.sheet, e.row,
           CASE e.sheet WHEN 'Refrigerants' THEN 'refilled_kg' WHEN 'AirTravel' THEN 'trips'
                        WHEN 'OtherTravel' THEN 'passenger_km' ELSE 'quantity' END
    FROM people p JOIN emitted e USING (submission_id) WHERE p.personnel > 0
    UNION ALL
    SELECT p.submission_id, 'electricity_per_person', 'electricity', 'kWh/person', x.value / p.personnel, 'Facilities',
           x.row, 'quantity'
    FROM people p JOIN energy x USING (submission_id)
    WHERE x.item = 'electricity' AND x.unit = 'kwh' AND p.personnel > 0
    UNION ALL
    SELECT p.submission_id, 'water_per_person', 'all', 'm3/person', x.value / p.personnel, 'Water', x.row, 'volume'
    FROM people p JOIN water x USING (submission_id) WHERE p.personnel > 0
    UNION ALL
    SELECT p.submission_id, 'waste_per_person', 'all', 'kg/person', x.value * 1000 / p.personnel, 'Waste', x.row,
           'quantity'
    FROM people p JOIN waste x USING (submission_id) WHERE p.personnel > 0
    UNION ALL
    SELECT p.submission_id, 'flights_per_person', 'all', 'flights/person', x.value / p.personnel, 'AirTravel', x.row,
           'trips'
    FROM people p JOIN flights x USING (submission_id) WHERE p.personnel > 0
    UNION ALL
    SELECT submission_id, 'refrigerant_per_site', arg_max(site, kg), 'kg', max(kg), 'Refrigerants', arg_max(row, kg),
           'refilled_kg'
    FROM site_refrigerant GROUP BY submission_id
    UNION ALL
    SELECT submission_id, 'personnel', 'all', 'persons', personnel, 'Entity', NULL, 'personnel' FROM people
)
SELECT * FROM energy UNION ALL SELECT * FROM refrigerant UNION ALL SELECT * FROM fleet
UNION ALL SELECT * FROM flights UNION ALL SELECT * FROM travel UNION ALL SELECT * FROM waste
UNION ALL SELECT * FROM water UNION ALL SELECT * FROM per_person
"""
COLUMNS = ["submission_id", "metric", "item", "unit", "value", "sheet", "row", "column"]


class Figure(NamedTuple):
    """One compared figure of a submission (a row of `metrics`)."""

    submission_id: int
    metric: str
    item: str
    unit: str
    value: float
    sheet: str
    row: int | None
    column: str


def figures_of(frame: pd.DataFrame) -> list[Figure]:
    return [
        Figure(int(sid), str(m), str(i), str(u), float(v), str(s), None if pd.isna(r) else int(r), str(c))
        for sid, m, i, u, v, s, r, c in frame[COLUMNS].itertuples(index=False, name=None)
    ]


@dataclass(frozen=True)
class Check:
    name: str
    check: str  # change, maximum, tolerance
    metric: str
    unit: str
    limit: float
    floor: float
    reason: str
    reasons: tuple[tuple[str, str], ...] = ()  # (language, the reason in it) where translated


@cache
def checks() -> tuple[Check, ...]:
    """The checks of schemas/plausibility.csv."""
    with (paths.SCHEMAS / "plausibility.csv").open(newline="", encoding="utf-8") as fh:
        return tuple(
            Check(
                r["name"],
                r["check"],
                r["metric"],
                r["unit"],
                float(r["limit"]),
                float(r["floor"] or 0),
                r["reason"],
                tuple(
                    (key.removeprefix("reason_"), text) for key, text in r.items() if key.startswith("reason_") and text
                ),
            )
            for r in csv.DictReader(fh)
        )


# --- what a flag's message says, in the language of the workbook it is on ---------------------
ITEM_LISTS = {
    "energy": "energy_type",
    "refrigerant": "refrigerant_gas",
    "fleet": "vehicle_fuel",
    "travel": "travel_mode",
}


@dataclass(frozen=True)
class Shown(Rendered):
    """A compared figure as the message's language writes numbers: 1,200,000 (en), 1 200 000 (fr),
    1.200.000 (es); to a French reader 1,200,000 is 1.2."""

    value: float

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return localised(_fmt(self.value), lang)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Times(Rendered):
    """The change from `old` to `new` (`times`) as the message's language writes numbers."""

    new: float
    old: float

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return localised(times(self.new, self.old), lang)


@dataclass(frozen=True)
class Said(Rendered):
    """A unit or a figure's name as schemas/i18n/text.csv says it in the message's language
    (`key` itself where it has no entry)."""

    key: str
    fallback: str

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return i18n.text_or(self.key, lang, self.fallback)


@dataclass(frozen=True)
class Label(Rendered):
    """A code as the workbook's drop-down shows it ('Gaz naturel' in French)."""

    codelist: str
    code: str

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return i18n.code_label(self.codelist, self.code, lang)


@dataclass(frozen=True)
class Reason(Rendered):
    """Why a bound is what it is, in the message's language (English where not translated)."""

    check: Check

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return dict(self.check.reasons).get(lang, self.check.reason)


@dataclass(frozen=True)
class Header(Rendered):
    """A column of a sheet named as messages name columns, in the message's language
    (`catalogue.column_named`: 'Commentaire'): the sheet varies with the flag, so the message
    cannot name it as `<<Sheet.column>>`."""

    sheet: str
    column: str

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return column_named(self.sheet, self.column, lang)


def _unit(unit: str) -> Said:
    return Said(f"unit.{unit}", unit)


def _what(figure: Figure) -> Rendered:
    if figure.metric in ITEM_LISTS:
        return Label(ITEM_LISTS[figure.metric], figure.item)
    return Said(f"metric.{figure.metric}", figure.metric.replace("_", " "))


def metrics(con: duckdb.DuckDBPyConnection, ids: list[int]) -> pd.DataFrame:
    """The compared figures of the given submissions (columns `COLUMNS`)."""
    if not ids:
        return pd.DataFrame(columns=COLUMNS)
    frame = con.execute(METRICS_SQL, [ids]).df()
    frame.columns = COLUMNS
    return frame


def previous_submissions(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, tuple[int, int]]:
    """submission -> (the entity's loaded submission of the latest earlier year, that year)."""
    if not ids:
        return {}
    rows = con.execute(
        """
        SELECT n.submission_id, arg_max(p.submission_id, p.reporting_year), max(p.reporting_year)
        FROM submissions n JOIN submissions p
          ON p.entity_code = n.entity_code AND p.reporting_year < n.reporting_year AND p.status = 'loaded'
        WHERE n.submission_id IN (SELECT unnest(?))
        GROUP BY n.submission_id
        """,
        [ids],
    ).fetchall()
    return {new: (old, year) for new, old, year in rows}


def previous_published(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, tuple[int, list[Figure]]]:
    """submission -> (the latest earlier year of the entity's published totals, its figures as
    `metrics` names them), where that year is later than the entity's last loaded workbook
    before it (or it has none): an entity's first workbook, or one after years of published
    totals, is compared with what was published. The totals have personnel, waste, water and
    emissions by group, so the figures are personnel, waste and water, and emissions per capita
    (whose item, the factor sets, is the submission's own: a published total names no set)."""
    if not ids:
        return {}
    rows = con.execute(
        """
        WITH new AS (
            SELECT n.submission_id, n.entity_code, n.reporting_year,
                   (SELECT max(p.reporting_year) FROM submissions p WHERE p.entity_code = n.entity_code
                      AND p.reporting_year < n.reporting_year AND p.status = 'loaded') AS workbook_year
            FROM submissions n WHERE n.submission_id IN (SELECT unnest(?))
        )
        SELECT n.submission_id, h.year, h.personnel::DOUBLE,
               h.facilities_tco2e + h.air_travel_tco2e + h.other_travel_tco2e, h.waste_tonnes, h.water_m3
        FROM new n JOIN history_totals h
          ON h.entity_code = n.entity_code AND h.year < n.reporting_year AND h.year > coalesce(n.workbook_year, 0)
        QUALIFY row_number() OVER (PARTITION BY n.submission_id ORDER BY h.year DESC) = 1
        """,
        [ids],
    ).fetchall()
    out = {}
    for sid, year, personnel, tco2e, waste, water in rows:
        figures = [Figure(0, "personnel", "all", "persons", personnel, "Entity", None, "personnel")]
        figures += [Figure(0, "waste", "all", "tonne", waste, "Waste", None, "quantity")] if waste is not None else []
        figures += [Figure(0, "water", "all", "m3", water, "Water", None, "volume")] if water is not None else []
        if personnel > 0:
            figures.append(Figure(0, "per_capita", "*", "tCO2e/person", tco2e / personnel, "", None, ""))
        out[int(sid)] = (int(year), figures)
    return out


@dataclass(frozen=True)
class Flag:
    """One plausibility finding before it is tied to a workbook's cells."""

    submission_id: int
    check: Check
    message_id: str
    params: dict[str, Any]  # message parameters, passed on to finding(**params)
    sheet: str
    row: int | None  # driving Excel row (None: a Field/Value sheet's field)
    column: str  # contract column or field of the driving cell
    value: float


def flag_key(flag: Flag) -> str:
    """What a flag says, apart from how its message words it: its check, its message id and its
    parameters as values (figures, years, codes, the sheet and column a header names), never their
    rendered text. A run comparing a later year again keeps a flag whose key it raises again, so a
    message reworded by an upgrade or a translation neither withdraws an accepted flag nor opens
    it anew."""
    return json.dumps([flag.check.name, flag.message_id, _as_value(flag.params)], sort_keys=True, ensure_ascii=True)


def _as_value(param: object) -> object:
    if isinstance(param, Reason):  # its text is the check's, named by the check
        return ["Reason", param.check.name]
    if isinstance(param, Message):
        return ["Message", param.id, _as_value(param.params)]
    if isinstance(param, dict):
        return {str(k): _as_value(v) for k, v in param.items() if not isinstance(v, Wording)}
    if is_dataclass(param) and not isinstance(param, type):
        return [type(param).__name__, *(_as_value(getattr(param, f.name)) for f in fields(param))]
    if isinstance(param, bool | str) or param is None:
        return param
    if isinstance(param, numbers.Integral):  # numpy's integers too, as Python's
        return int(param)
    if isinstance(param, numbers.Real):  # numpy's floats too: exact, finite or not
        return repr(float(param))
    return [type(param).__name__, str(param)]


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def plain(value: float) -> str:
    """A compared figure rounded as messages round it, without grouping and with a decimal point,
    the same in every language (issues.csv's value column): '2\u202f400' in a French message and
    '2.400' in a Spanish one are 2400 here (a Spanish 2.400 would read as 2.4 in an English
    spreadsheet); 0.125 is '0.125' everywhere."""
    return _fmt(value).replace(",", "")


def likely_cause(ratio: float) -> tuple[str, dict[str, object]]:
    """The catalogue message of the likely cause of a change by `ratio` (new / old)."""
    for factor, message in ((1000, "hint.x1000"), (100, "hint.x100"), (12, "hint.x12")):
        if 0.85 <= ratio / factor <= 1.15:
            return message, {"factor": factor}
        if 0.85 <= ratio * factor <= 1.15:
            return message.replace("x", "div"), {"factor": factor}
    return "hint.real-change", {}


def flags(con: duckdb.DuckDBPyConnection, ids: list[int]) -> list[Flag]:
    """Every plausibility flag of the given loaded submissions (within the caller's transaction)."""
    previous = previous_submissions(con, ids)
    published = previous_published(con, ids)
    wanted = sorted(set(ids) | {old for old, _ in previous.values()})  # a year loaded with its previous one: once
    figures = figures_of(metrics(con, wanted))
    by_sub: dict[int, list[Figure]] = {}
    for figure in figures:
        by_sub.setdefault(figure.submission_id, []).append(figure)
    years = dict(
        con.execute(
            "SELECT submission_id, reporting_year FROM submissions WHERE list_contains(?, submission_id)", [ids]
        ).fetchall()
    )
    out: list[Flag] = []
    for sid in ids:
        new = by_sub.get(sid)
        if new is None:
            continue
        out += _maximum_flags(sid, new)
        vanished: list[Flag] = []
        if sid in published:  # published totals later than any workbook before: what is compared
            old_year, totals = published[sid]
            sets = {f.item for f in new if f.metric == "per_capita"}  # a total names no factor set
            old = [f._replace(item=next(iter(sets))) if f.item == "*" and sets else f for f in totals]
            out += _change_flags(sid, new, old, (old_year, years[sid]), published=True)
        elif sid in previous and previous[sid][0] in by_sub:
            old_sid, old_year = previous[sid]
            out += _change_flags(sid, new, by_sub[old_sid], (old_year, years[sid]))
            vanished = _vanished_flags(sid, new, by_sub[old_sid], (old_year, years[sid]))
        out += vanished or _no_emission_flags(sid, new, years[sid])  # each source gone says it already
    return out


def _maximum_flags(sid: int, figures: list[Figure]) -> list[Flag]:
    out = []
    for check in (c for c in checks() if c.check == "maximum"):
        for row in (f for f in figures if f.metric == check.metric and f.value > check.limit):
            params = {
                "figure": Shown(row.value),
                "unit": _unit(row.unit),
                "limit": Shown(check.limit),
                "reason": Reason(check),
                "comment": Header(row.sheet, "comment"),
            }
            out.append(Flag(sid, check, "implausible-value.maximum", params, row.sheet, row.row, row.column, row.value))
    return out


def times(new: float, old: float) -> str:
    """The change from `old` to `new` (both positive) as a reader says it: x1,000, x12, x3.4;
    ÷1,000 for a fall; x6.1e+299 from a billion on. A factor beyond what a float holds (a figure
    of 5e-324 after a normal year) is shown as more than the largest float, not divided by zero."""
    factor = new / old if new >= old else old / new
    if factor >= 1e9:
        shown = f"{factor:.2g}" if math.isfinite(factor) else f">{sys.float_info.max:.2g}"
    else:
        shown = f"{factor:,.0f}" if factor >= 10 else f"{factor:.1f}".removesuffix(".0")
    return ("x" if new >= old else "÷") + shown


# The sources whose whole disappearance is flagged: a sheet that held figures last year and none
# (or only zeros) this year. Refrigerants are left out: refills are lumpy, a year without is usual.
VANISHING = ("energy", "fleet", "flights", "travel", "waste", "water")


@dataclass(frozen=True)
class Tab(Rendered):
    """A sheet named as the message's language names it."""

    sheet: str

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return i18n.sheet_name(self.sheet, lang)


EMITTING = ("energy", "refrigerant", "fleet", "flights", "travel")  # the figures of the emission sheets
EMISSION_SHEETS = ("Facilities", "Refrigerants", "Vehicles", "AirTravel", "OtherTravel")


def _no_emission_flags(sid: int, figures: list[Figure], year: int) -> list[Flag]:
    """`implausible-value.no-emissions` for a workbook with personnel and every emission sheet
    empty (or only zeros): it loaded clean at 0 tCO2e and lowered the system's per capita by its
    personnel, while `_vanished_flags` can say so only of sources an entity's previous year
    reported (where it does, this flag is not raised too). On the Entity sheet's personnel; its
    explanation is the Entity sheet's comment."""
    check = next(c for c in checks() if c.check == "none" and c.metric == "emissions")  # limit: the personnel
    people = [f for f in figures if f.metric == "personnel" and f.value >= check.limit]
    if not people or any(f.metric in EMITTING and f.value > 0 for f in figures):
        return []
    params = {
        "year": year,
        "sheets": Tabs(EMISSION_SHEETS),
        "personnel": Shown(people[0].value),
        "reason": Reason(check),
        "comment": Header("Entity", "comment"),
        "entity_sheet": Tab("Entity"),
    }
    return [Flag(sid, check, "implausible-value.no-emissions", params, "Entity", None, "personnel", 0.0)]


@dataclass(frozen=True)
class Tabs(Rendered):
    """Sheets named as the message's language names them, in a list: Installations, Réfrigérants, ..."""

    sheets: tuple[str, ...]

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return ", ".join(i18n.sheet_name(sheet, lang) for sheet in self.sheets)


def _vanished_flags(sid: int, new: list[Figure], old: list[Figure], years: tuple[int, int]) -> list[Flag]:
    """`implausible-change.vanished` for each source of `VANISHING` the previous year reported above
    its check's floor and this year does not report at all (or only as zeros): a sheet emptied by
    mistake loaded clean, and a total of -64 % went unflagged, as the change checks compare only
    figures present in both years. The flag names the previous year's largest figure of the
    source; it is on the sheet, not a row, and its explanation is the Entity sheet's comment."""
    old_year, new_year = years
    reported = {f.metric for f in new if f.value > 0}
    change = {(c.metric, c.unit): c for c in checks() if c.check == "change"}
    out = []
    for metric in VANISHING:
        if metric in reported:
            continue
        was = [(f, change[(f.metric, f.unit)]) for f in old if f.metric == metric and (f.metric, f.unit) in change]
        was = [(f, c) for f, c in was if f.value >= c.floor and f.value > 0]
        if not was:
            continue
        figure, check = max(was, key=lambda fc: fc[0].value / max(fc[1].floor, 1e-300))
        params = {
            "source_sheet": Tab(figure.sheet),
            "new_year": new_year,
            "old_year": old_year,
            "old": Shown(figure.value),
            "unit": _unit(figure.unit),
            # the source's largest item, where a source has items (energy: electricity, diesel...)
            "of_what": Message("implausible-change.vanished-of", {"what": _what(figure)})
            if figure.metric in ITEM_LISTS
            else "",
            "comment": Header("Entity", "comment"),
            "entity_sheet": Tab("Entity"),
        }
        out.append(Flag(sid, check, "implausible-change.vanished", params, figure.sheet, None, figure.column, 0.0))
    return out


@dataclass(frozen=True)
class Wording(Message):
    """A part of a message that only words what the message's other parameters say (where an
    explanation goes, by the sheet its `comment` Header names): left out of the flag's key, so that
    a flag raised before the part existed keeps its key (`flag_key`)."""


def _cause_said(metric: str, cause: str, params: dict[str, object]) -> Wording:
    """How the message words the likely cause of a change (`likely_cause`). A headcount is no
    figure of a month or in a unit: twelve times more personnel is not "a month's figure last
    year", nor a thousand times "kWh entered as MWh"; its cause is asked as what was counted."""
    if metric == "personnel":
        return Wording("hint.headcount", {})
    return Wording(cause, params)


def _comment_place(sheet: str) -> Wording:
    """Where the explanation of a figure's change goes: the Comment column of its row, or on a
    Field/Value sheet (the Entity sheet's personnel), that sheet's Comment field."""
    field = contract.sheet(sheet).layout == "field_value"
    where = "implausible-change.in-field" if field else "implausible-change.in-row"
    return Wording(where, {"comment": Header(sheet, "comment")})


def _change_flags(
    sid: int, new: list[Figure], old: list[Figure], years: tuple[int, int], published: bool = False
) -> list[Flag]:
    """`implausible-change.change` for each figure of both years moved beyond its check's factor,
    and `implausible-change.from-zero` for one that was 0 the year before and is now at least its
    check's floor: a ratio to 0 is infinite, and such a figure (electricity 35,926 -> 0 ->
    2,000,000 kWh) went uncompared. A fall to 0 of an item whose source is still reported is not
    flagged, as an item left out is not (`_vanished_flags` flags a whole source gone).
    `published`: the figures of the year before are published totals (`previous_published`), and
    the message says so."""
    out = []
    old_year, new_year = years
    before = {(r.metric, r.item, r.unit): r.value for r in old}
    for check in (c for c in checks() if c.check == "change"):
        for row in (f for f in new if f.metric == check.metric and f.unit == check.unit):
            was = before.get((row.metric, row.item, row.unit))
            if was is None or was < 0 or row.value <= 0 or max(was, row.value) < check.floor:
                continue
            params: dict[str, Any] = {
                "what": _what(row),
                "old_year": old_year,
                "new": Shown(row.value),
                "unit": _unit(row.unit),
                "new_year": new_year,
                "comment": Header(row.sheet, "comment"),
                "where": _comment_place(row.sheet),
            }
            if was == 0:  # from nothing: no ratio to judge by, nor a likely slip to name
                message = "implausible-change.from-zero"
            else:
                ratio = row.value / was
                if 1 / check.limit <= ratio <= check.limit:
                    continue
                cause, cause_params = likely_cause(ratio)
                message = "implausible-change.change-published" if published else "implausible-change.change"
                params |= {
                    "old": Shown(was),
                    "ratio": Times(row.value, was),
                    "cause": Message(cause, cause_params),  # in the flag's key, as before
                    "why": _cause_said(row.metric, cause, cause_params),  # what the message says
                }
            out.append(Flag(sid, check, message, params, row.sheet, row.row, row.column, row.value))
    return out
