"""`gtb report --year Y`: the year's charts, tables and entity factsheets, under
`{outputs}/report/{Y}/`:

    01_emissions_by_source.png/.svg ... 08_renewable_electricity.png/.svg   charts (300 dpi PNG + SVG)
    tables_{Y}.xlsx, tables/{name}.csv                                     report tables
    factsheets/{ENTITY}.pdf                                                one A4 page per entity
    index.md                                                               what each file is

Reads the warehouse read-only (all queries first, then the connection is closed); figures come
from the indicator views only.

Speed (60 entities, 2 shared cores): about 0.7 s to import matplotlib, 2.5 s for the 8 charts
(PNG at 300 dpi + SVG), 8 s for 60 factsheets in-process (~0.13 s a page, the page being reused).
`jobs=2` draws the factsheets in two worker processes; each costs ~1 s to start, so it only pays
when the machine has an idle core, hence the default of 1.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import safe
from pipeline.emissions.calculate import sets_used, year_mixed_sets
from pipeline.errors import GtbError
from pipeline.paths import write_whole
from pipeline.report import charts, factsheets, queries, tables
from pipeline.report import style as s
from pipeline.review.flags import flag_years, open_flags
from pipeline.review.stale import not_compared_again

POOL_FROM = 8  # factsheets below this many are drawn in-process (a worker costs ~1 s to start)


@dataclass
class ReportResult:
    year: int
    folder: Path
    charts: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    factsheets: list[Path] = field(default_factory=list)
    index: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    open_flags: int = 0  # plausibility flags of the year (or of a year before it) still open: a draft
    open_flag_years: str = ""  # '2025', '2024 and 2025': whose flags they are (`flag_years`)
    not_compared: int = 0  # workbooks of the year not compared again since an earlier year changed: a draft
    # the year's factor sets and how many workbooks use each, when two or more: a draft
    mixed_sets: tuple[tuple[str, int], ...] = ()

    @property
    def files(self) -> list[Path]:
        """Every file written, charts first."""
        return self.charts + self.tables + self.factsheets + ([self.index] if self.index else [])


@dataclass(frozen=True)
class _Sheet:
    """Everything one factsheet needs (picklable, for worker processes)."""

    code: str
    name: str
    kind: str
    rows: list[queries.Record]
    year: int
    source: str
    folder: Path
    years: tuple[int, ...]  # x axis of the trend: the entity's years (factsheets.trend_years)


def _draw_sheet(job: _Sheet) -> Path:
    with s.house_style():
        fig = factsheets.factsheet(job.code, job.name, job.kind, job.rows, job.year, job.source, job.years)
        return factsheets.write_factsheet(fig, job.folder, job.code)


def _pool_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _draw_sheets(jobs_list: list[_Sheet], jobs: int) -> list[Path]:
    if jobs <= 1 or len(jobs_list) < POOL_FROM:
        return [_draw_sheet(job) for job in jobs_list]
    workers = min(jobs, len(jobs_list))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        return list(pool.map(_draw_sheet, jobs_list, chunksize=max(1, len(jobs_list) // (workers * 4))))


class OpenFlags(GtbError):
    """`gtb report --final` while plausibility flags of the year, or of a year before it whose
    figures the report shows, are open."""

    def __init__(self, year: int, flags: list[dict]) -> None:
        super().__init__(
            f"the {year} report cannot be final: {len(flags)} plausibility flag{'s' * (len(flags) != 1)} "
            f"of {flag_years(flags)} still open (gtb accept ENTITY YEAR --reason ... closes them after review)"
        )
        self.flags = flags


def report(year: int, db: Path, outputs: Path, jobs: int | None = None, final: bool = False) -> ReportResult:
    """Write the report of data year `year` from the warehouse `db` into `{outputs}/report/{year}/`.

    `jobs`: worker processes for the factsheets (default 1: everything in-process). While any
    plausibility flag of the year is open, or a workbook of the year was not compared again since
    an earlier year changed (`not_compared_again`), or the year's workbooks are calculated with two
    factor sets or more (`calculate.year_mixed_sets`), the report is a draft (index.md, the tables'
    about sheet, every chart's source line and every factsheet say so, and why); `final` refuses
    instead (`OpenFlags`, or a GtbError naming the stale comparisons or the sets).
    """
    jobs = max(1, jobs or 1)
    folder = Path(outputs) / "report" / str(year)
    result = ReportResult(year=year, folder=folder)
    clock = time.perf_counter()
    con = queries.open_report_db(Path(db))
    try:
        queries.check_year(con, year, Path(db))
        flags = open_flags(con, year, earlier=True)  # the report shows the years before too
        result.open_flag_years = flag_years(flags)
        if final and flags:
            raise OpenFlags(year, flags)
        if final and (stale := not_compared_again(con, year)):
            raise GtbError(
                f"the {year} report cannot be final: "
                + "; ".join(
                    f"{entity} {year} was not compared again with {entity} {earlier} as it now stands"
                    f" (gtb run compares it again, with {safe.console_safe(name)} in the inputs folder)"
                    for entity, name, earlier in stale
                )
            )
        if final and (mixed := year_mixed_sets(con, year)):
            raise GtbError(f"the {year} report cannot be final: {mixed_sets_said(year, mixed)}")
        data = queries.load_report_data(con, year)
        report_tables = queries.report_tables(con, year)
        series = queries.entity_series(con, year)
        first_years = queries.entity_first_years(con, year)
        names = queries.entity_names(con)
        sources = queries.entity_sources(con, year)
    finally:
        con.close()
    result.seconds["queries"] = time.perf_counter() - clock

    try:
        return _write(result, data, report_tables, series, names, sources, first_years, jobs, flags)
    except OSError as exc:
        raise GtbError(f"cannot write the report into {folder}: {exc.strerror or exc}") from None


def _write(
    result: ReportResult,
    data: queries.ReportData,
    report_tables: list[queries.Table],
    series: dict[str, list[queries.Record]],
    names: dict[str, tuple[str, str]],
    sources: dict[str, tuple[tuple[str, ...], tuple[int, ...]]],
    first_years: dict[str, int],
    jobs: int,
    flags: list[dict],
) -> ReportResult:
    year, folder = result.year, result.folder
    folder.mkdir(parents=True, exist_ok=True)
    sheet_folder = folder / "factsheets"
    own_sheets = listed_factsheets(folder) | {factsheets.file_name(code) for code in names}  # before index.md is new
    sheets = []
    for code, rows in series.items():
        name, kind = names.get(code, (code, ""))
        factor_sets, history = sources.get(code, ((), ()))
        years = factsheets.trend_years(rows, year, first_years.get(code))
        source = s.source_line(
            year,
            factor_sets,
            history,
            draft=data.open_flags,
            stale=data.not_compared,
            mixed=data.mixed_set_names,
            note=sheet_note(rows, year, years),
            draft_detail=sheet_flags(flags, code),
        )
        sheets.append(_Sheet(code, name, kind, rows, year, source, sheet_folder, years))

    clock = time.perf_counter()
    with s.house_style():
        for chart in charts.CHARTS:
            result.charts += s.save_chart(chart.draw(data), folder, chart.stem)
    result.seconds["charts"] = time.perf_counter() - clock

    clock = time.perf_counter()
    source = s.source_line(
        year,
        data.factor_sets_all,
        data.history_years,
        data.partly_history_years,
        draft=data.open_flags,
        stale=data.not_compared,
        mixed=data.mixed_set_names,
        note=" ".join(n for n in (tables_coverage(data), factor_set_lines(data, tables=True)) if n),
    )
    result.tables.append(tables.write_xlsx(report_tables, folder / f"tables_{year}.xlsx", year, source))
    for table in report_tables:
        result.tables.append(tables.write_csv(table, folder / "tables" / f"{table.name}.csv"))
    result.seconds["tables"] = time.perf_counter() - clock

    clock = time.perf_counter()
    result.factsheets = _draw_sheets(sheets, jobs)
    written = {p.name for p in result.factsheets}
    for stale in sorted(own_sheets - written):  # an entity without data this time keeps no old page
        (sheet_folder / stale).unlink(missing_ok=True)  # only the report's own: a file put there stays
    result.seconds["factsheets"] = time.perf_counter() - clock

    result.open_flags, result.not_compared, result.mixed_sets = data.open_flags, data.not_compared, data.mixed_sets
    result.index = write_index(result, report_tables, data)
    return result


_LISTED_SHEET = re.compile(r"^- `factsheets/([A-Za-z0-9_-][A-Za-z0-9_.-]*\.pdf)`$")  # as file_name writes them


def listed_factsheets(folder: Path) -> set[str]:
    """The factsheets the previous index.md of `folder` listed: the pages an earlier run wrote (plain
    names inside factsheets/). With the file names of the warehouse's entity codes they are what a
    run may remove; any other file in factsheets/ is not the report's and stays (as `gtb export`
    removes only the files its previous datapackage.json listed)."""
    try:
        text = (folder / "index.md").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return set()
    return {m[1] for m in map(_LISTED_SHEET.match, text.splitlines()) if m}


def sheet_note(rows: list[queries.Record], year: int, years: tuple[int, ...]) -> str:
    """The note of an entity's factsheet where its years use different factor sets: what changed,
    marked style.CHANGE_MARK when the change from the previous year on the page compares two sets."""
    note = s.factor_set_note(rows, years[0])
    now = next(r for r in rows if r["year"] == year)
    return f"{s.CHANGE_MARK} {note}" if note and now.get("change_across_factor_sets") else note


SHEET_FLAGS_LISTED = 3  # a factsheet names at most this many of its entity's open flags


def sheet_flags(flags: list[dict], code: str) -> str:
    """Which of the open flags (`open_flags`) are on the figures of entity `code`, as its
    factsheet's source line says after their number: 'none on this entity', or '1 on this
    entity: implausible-value at Refrigerants D5, 2025' (at most SHEET_FLAGS_LISTED, then how many
    more). The figures of a flagged entity are the ones under review; another's stand as sent."""
    own = [f for f in flags if f["entity_code"] == code]
    if not flags:
        return ""
    if not own:
        return "none on this entity"
    listed = "; ".join(_flag_place(f) for f in own[:SHEET_FLAGS_LISTED])
    more = len(own) - SHEET_FLAGS_LISTED
    return f"{len(own)} on this entity: {listed}" + (f" and {more} more" if more > 0 else "")


def _flag_place(flag: dict) -> str:
    """'implausible-value at Refrigerants D5, 2025'; a flag of no cell: its code and year."""
    where = " ".join(str(flag[k]) for k in ("sheet", "cell") if flag.get(k))
    return f"{flag['code']}{' at ' + where if where else ''}, {flag['year']}"


def tables_coverage(data: queries.ReportData) -> str:
    """Who the year's tables are of, against the entities expected (the about sheet of the tables):
    the sentence of the year's charts, where the missing ones are listed, and how much of the
    emissions is estimated."""
    text = charts.year_coverage(data)
    if text and data.missing:
        text += " The completeness sheet lists the missing entities."
    return " ".join(t for t in (text, estimated_line(data, tables=True)) if t)


def estimated_line(data: queries.ReportData, tables: bool = False) -> str:
    """How much of the year's emissions in workbooks comes from figures marked estimated (the
    estimated_emissions view, which index.md names); '' for a year without workbooks."""
    e = data.estimated
    if e is None or s.is_missing(e["estimated_share"]):
        return ""
    whose = (
        f"the {s.plural(e['workbook_entities'], 'entity', 'entities')} that sent a workbook"
        if e["workbook_entities"] < data.this_year["reporting_entities"]
        else "the workbooks"
    )
    return (
        f"Of the emissions in {whose}, {s.fmt_percent(e['estimated_share'])} "
        f"({s.fmt_amount(e['estimated_tco2e'])} tCO\u2082e) come from figures the entities marked as "
        "estimated rather than measured"
        + (" (data_quality)." if tables else " (`data_quality`; each entity's share: the `estimated_emissions` view).")
    )


def factor_set_lines(data: queries.ReportData, tables: bool = False) -> str:
    """What changed where the years of the report use different factor sets, and where the report
    marks it ('' when every year with a set uses the same one): the about sheet of the tables and
    the section of index.md."""
    note = s.factor_set_note(data.factor_set_years, data.first_year, s.EMISSIONS + s.RENEWABLE)
    if not note:
        return ""
    where = (
        "The entities table marks a change from the previous year that compares two sets (change_across_factor_sets)."
        if tables
        else "The charts of emissions, offsets and renewable electricity across years mark the change with a "
        "divider, the entities table marks a change from the previous year that compares two sets "
        f"(`change_across_factor_sets`), and a factsheet with `{s.CHANGE_MARK}` beside its change."
    )
    return f"{note} {where}"


def _missing_personnel(now: queries.Record) -> str:
    """What the year's figures leave out, as far as it is known: the missing entities' personnel
    in their latest year reported and the share of the known personnel covered. Where no missing
    entity's personnel is known (none reported before) it says so and claims no share: the view's
    share would be 100 % of a known personnel of 0, which is no coverage figure at all."""
    one = now["entities_missing"] == 1
    if now["personnel_missing_estimate"] is None:
        return (
            "; the personnel of the missing entit"
            + ("y is unknown (it never" if one else "ies is unknown (none of them")
            + " reported personnel in an earlier year), so how much of the personnel the year's figures cover is "
            "unknown too."
        )
    who = "the missing entity" if one else "the missing entities"
    if now["entities_never_reported"]:
        known = now["entities_missing"] - now["entities_never_reported"]
        who = "the missing entity that reported before" if known == 1 else "the missing entities that reported before"
        one = known == 1
    return (
        f"; {who} had {s.fmt_number(now['personnel_missing_estimate'])} personnel in "
        f"{'its' if one else 'their'} latest year reported, so the entities reporting count "
        f"{_about(s.fmt_percent(now['personnel_coverage_share']))} of the known personnel."
    )


def _about(share: str) -> str:
    """'about 97 %'; a bound as words: 'more than 99 %', 'less than 1 %' (never 'about >99 %')."""
    if share.startswith(">"):
        return "more than " + share[1:]
    if share.startswith("<"):
        return "less than " + share[1:]
    return "about " + share


def own_coverage_line(data: queries.ReportData) -> str:
    """What the entities' own data cover: each workbook says which share of the entity's
    personnel its figures cover (`reporting_coverage_percent`), and the year's personnel-weighted
    mean is part of how complete the figures are, beside the entities missing."""
    share = data.this_year.get("reporting_coverage_percent")
    if share is None or s.is_missing(share):
        return ""
    return (
        f"The workbooks' own figures cover {_about(s.fmt_percent(float(share) / 100))} of their entities' personnel "
        "(each workbook's reporting coverage, weighted by its personnel; published totals give none): "
        "operations left out of a workbook are left out of the year's figures too."
    )


def completeness_lines(data: queries.ReportData) -> list[str]:
    """The reporting-completeness section of index.md: who reported of those expected, the
    personnel covered, the missing entities by name (from the completeness views)."""
    y = data.year
    now = data.coverage_of(y)
    if now is None:
        return []
    lines = [
        "## Reporting completeness",
        "",
        f"{now['entities_reporting_expected']} of {s.plural(now['entities_expected'], 'entity', 'entities')} "
        f"expected for {y} reported ({s.fmt_percent(now['entity_completeness_share'])})"
        + (f", {now['entities_from_history']} of them from published totals" if now["entities_from_history"] else "")
        + (
            f"; {now['entities_reporting'] - now['entities_reporting_expected']} more reported without being expected"
            if now["entities_reporting"] > now["entities_reporting_expected"]
            else ""
        )
        + f". They count {s.fmt_number(now['personnel_reporting'])} personnel",
    ]
    if now["entities_missing"]:
        lines[-1] += _missing_personnel(now)
        if now["entities_never_reported"]:
            never = now["entities_never_reported"]
            lines[-1] += f" {s.plural(never, 'missing entity has', 'missing entities have')} never reported."
        lines += ["", f"Missing for {y}:", ""]
        for r in data.missing:
            last = (
                f"last reported {r['last_reported_year']} ({s.fmt_number(r['last_reported_personnel'])} personnel)"
                if r["last_reported_year"]
                else "never reported"
            )
            waiting = (
                f"; {r['rejected_workbooks']} workbook{'s' * (r['rejected_workbooks'] != 1)} received and rejected, "
                "waiting for corrections"
                if r["rejected_workbooks"]
                else "; nothing received"
            )
            lines.append(f"- {r['entity_code']}, {r['entity_name'] or r['entity_code']}: {last}{waiting}")
    else:
        lines[-1] += "; every expected entity reported."
    own = own_coverage_line(data)
    if own:
        lines += ["", own]
    estimated = estimated_line(data)
    if estimated:
        lines += ["", estimated]
    note = charts.coverage_note(data)
    if note:
        lines += ["", note + " Totals of years with fewer entities are lower for that reason too."]
    lines += ["", "The `completeness` table lists every entity of the year with its status.", ""]
    return lines


def _factor_set_section(data: queries.ReportData) -> list[str]:
    """The emission factor sets section of index.md, where the report's years use different sets."""
    lines = factor_set_lines(data)
    if not lines:
        return []
    return [
        "## Emission factor sets",
        "",
        "Each year's emissions are calculated with the factor set pinned for that year, and a year stays on it "
        f"unless `gtb recalculate` restates it (listed under Restated years). {lines}",
        "",
    ]


def restated_lines(data: queries.ReportData) -> list[str]:
    """The years of the report restated since they were calculated (`gtb recalculate`, from its
    log), each with its factor sets and totals before and after: a report published before the
    restatement gave the figures before, and this report's series gives the figures after."""
    if not data.restated:
        return []
    lines = [
        "## Restated years",
        "",
        "These years were calculated again with another emission factor set after they were first "
        "calculated; this report shows them as restated, so a report published before gives other figures:",
        "",
    ]
    for r in data.restated:
        before = f"{s.fmt_number(r['old_total_tco2e'])} tCO₂e" if r["old_total_tco2e"] is not None else "no total"
        lines.append(
            f"- {r['year']}: restated on {r['recalculated_at']:%Y-%m-%d} with {r['new_factor_set']} "
            f"(before: {r['old_factor_set'] or 'none'}), {s.plural(r['submissions'], 'workbook', 'workbooks')}; "
            f"the workbooks' emissions went from {before} to {s.fmt_number(r['new_total_tco2e'])} tCO₂e. "
            f"Reason given: {_markdown_text(r['reason'])}"
        )
    return [*lines, ""]


def mixed_sets_said(year: int, sets: Sequence[tuple[str, int]], markdown: bool = False) -> str:
    """What a year whose workbooks use two factor sets or more is, and what restates it on one."""
    tick = "`" if markdown else ""
    return (
        f"the workbooks of {year} are calculated with {len(sets)} factor sets, {sets_used(sets)}: their figures do "
        f"not compare with one another. Restate the year with one set "
        f"({tick}gtb recalculate --year {year} --factor-set SET --reason ...{tick}) and pin it."
    )


def _markdown_text(text: str) -> str:
    """A reason an analyst typed, as one line of markdown: line breaks and the characters that
    would format it (or link or run anything) escaped."""
    flat = " ".join(str(text).split())
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>])", r"\\\1", flat)


def write_index(result: ReportResult, report_tables: list[queries.Table], data: queries.ReportData) -> Path:
    """`index.md`: completeness, then every chart, table and factsheet with a one-line description."""
    y = result.year
    lines = [
        f"# Greening the Blue report, data year {y}",
        "",
    ]
    if result.open_flags:
        lines += [
            f"**DRAFT: {result.open_flags} plausibility flag{'s' * (result.open_flags != 1)} "
            f"of {result.open_flag_years} still open.** "
            f"`gtb status --year YEAR` lists them; `gtb accept ENTITY YEAR --reason ...` closes them after review, "
            f"and `gtb report --year {y} --final` writes the final report.",
            "",
        ]
    if result.not_compared:
        n = result.not_compared
        lines += [
            f"**DRAFT: {n} workbook{'s' * (n != 1)} of {y} not compared again with an earlier year as it now "
            "stands** (restated with `gtb recalculate`, or resubmitted, since): their plausibility flags may not "
            f"be those of the data. `gtb status --year {y}` names them; `gtb run` compares them again while their "
            "files are in the inputs folder.",
            "",
        ]
    if result.mixed_sets:
        lines += [f"**DRAFT: {mixed_sets_said(y, result.mixed_sets, markdown=True)}**", ""]
    lines += [
        "Written by `gtb report` from the indicator views of the warehouse. Charts come as PNG (300 dpi) "
        "and SVG; figures in tables are unrounded (CSV) or rounded only by number formats (xlsx); "
        "an empty cell means no data, never zero.",
        "",
        *completeness_lines(data),
        *_factor_set_section(data),
        *restated_lines(data),
        "## Charts",
        "",
        "| file | what it shows |",
        "|---|---|",
    ]
    for chart in charts.CHARTS:
        lines.append(f"| `{chart.stem}.png`, `{chart.stem}.svg` | {chart.description} |")
    lines += [
        "",
        "## Tables",
        "",
        f"`tables_{y}.xlsx` holds every table as a sheet (after an `about` sheet), with a bold totals row "
        "under the entity tables; the same tables are in `tables/*.csv` with the view's column names and "
        "no totals row (one row per entity: the system-wide figures are in `system.csv`).",
        "",
        "| sheet / CSV | what it holds |",
        "|---|---|",
    ]
    for t in report_tables:
        lines.append(
            f"| `{t.name}` (`tables/{t.name}.csv`) | {t.title}: {t.description} ({s.plural(len(t.rows), 'row')}) |"
        )
    lines += [
        "",
        "## Entity factsheets",
        "",
        f"One A4 page per entity with data for {y} ({s.plural(len(result.factsheets), 'entity', 'entities')}): key "
        "figures, emissions "
        "by source over the years, source split of the year and more figures"
        + (" (in a draft, its source line says which open flags are on its entity)." if result.open_flags else "."),
        "",
    ]
    lines += [f"- `factsheets/{p.name}`" for p in result.factsheets]
    path = result.folder / "index.md"
    write_whole(path, ("\n".join(lines) + "\n").encode("utf-8"))  # whole or not at all
    return path
