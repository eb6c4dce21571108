"""The charts of the annual report, one function per chart, each returning a matplotlib Figure.

They draw what `queries.ReportData` holds (figures of the indicator views) and never compute a
figure themselves; NULL stays a gap or a "no data" note, never a zero bar. `CHARTS` lists them
with their file stem and a one-line description (used by `build.py` and the index).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from pipeline import codelists
from pipeline.report import style as s
from pipeline.report.queries import Record, ReportData


def _values(rows: list[Record], key: str) -> np.ndarray:
    """A column as floats, NULL -> NaN (drawn as a gap)."""
    return np.array([np.nan if s.is_missing(r.get(key)) else float(r[key]) for r in rows], dtype=float)


def _rows_from_first_value(rows: list[Record], key: str) -> list[Record]:
    """Rows from the first year that has a value of `key` (gaps after it are kept)."""
    for i, r in enumerate(rows):
        if not s.is_missing(r.get(key)):
            return rows[i:]
    return []


def _year_axis(ax: Axes, years: list[int]) -> None:
    step = 1 if len(years) <= 20 else 2
    ax.set_xticks(years[::step])
    ax.set_xticklabels([str(y) for y in years[::step]])
    ax.set_xlim(years[0] - 0.6, years[-1] + 0.6)
    ax.tick_params(axis="x", length=0)


def _top(values: np.ndarray, headroom: float = 1.0) -> float:
    """Upper limit of a value axis: the largest value with `headroom`, or 1 where no value is above
    0 (a year whose total is 0 t, no data): an axis from 0 to 0 is singular, and matplotlib warns
    about it on every report of such a year."""
    finite = values[np.isfinite(values)]
    peak = float(finite.max()) if finite.size else 0.0
    return peak * headroom if peak > 0 else 1.0


def _mark_years_without_data(ax: Axes, rows: list[Record]) -> None:
    """'no data' at the foot of each year that has no figure at all: its empty slot must not read
    as a year of zero (its line is broken there, its bar missing)."""
    for r in rows:
        if s.is_missing(r.get("reporting_entities")):
            ax.text(
                r["year"],
                0,
                " no data",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=s.BODY_SIZE - 2,
                color=s.MUTED,
                zorder=5,
            )


def _scale(values: np.ndarray) -> tuple[float, str]:
    peak = np.nanmax(values) if np.isfinite(values).any() else 0.0
    return (1000.0, "Thousand tCO\u2082e") if peak >= 100_000 else (1.0, "tCO\u2082e")


def _halo(width: float = 3) -> list:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _incomplete(rows: list[Record]) -> list[Record]:
    """Years with figures from which some expected entity is missing (a year without any is not one
    of them: it is said to have no data)."""
    return [r for r in rows if r["entities_reporting"] and r["entities_reporting_expected"] < r["entities_expected"]]


def _coverage_parts(rows: list[Record]) -> list[str]:
    """The clauses of the coverage note: years without data, years with missing entities, the
    range of entities reporting per year with data."""
    empty = [r["year"] for r in rows if not r["entities_reporting"]]
    incomplete = _incomplete(rows)
    counts = [r["entities_reporting"] for r in rows if r["entities_reporting"]]
    parts = [f"no data for {s.year_span(empty)} (no entity reported)"] if empty else []
    if incomplete:
        last = incomplete[-1]
        parts.append(
            f"not every expected entity reported in {s.year_span(r['year'] for r in incomplete)} "
            f"({last['entities_reporting_expected']} of {last['entities_expected']} in {last['year']})"
        )
    if counts and min(counts) != max(counts):
        parts.append(f"{min(counts)} to {max(counts)} entities reported per year")
    return parts


def year_coverage(d: ReportData, counted: str = "") -> str:
    """Who the data year's figures are of, against the entities expected (completeness_by_year):
    'Coverage: 52 of 61 expected entities reported for 2025 (85 %).' `counted`: what the chart
    counts or draws where that is not simply those entities (a clause after a semicolon)."""
    now = d.coverage_of(d.year)
    if now is None or not now["entities_expected"]:
        return ""
    n, m, reporting = now["entities_reporting_expected"], now["entities_expected"], now["entities_reporting"]
    if n == m:
        text = f"Coverage: all {s.plural(m, 'expected entity', 'expected entities')} reported for {d.year}"
    else:
        text = (
            f"Coverage: {n} of {s.plural(m, 'expected entity', 'expected entities')} reported for {d.year} "
            f"({s.fmt_percent(now['entity_completeness_share'])})"
        )
    if reporting > n:
        text += f", and {s.plural(reporting - n, 'entity', 'entities')} not expected"
    return text + (f"; {counted}" if counted else "") + "."


def coverage_note(d: ReportData, first: int | None = None, marked: bool = False) -> str:
    """A sentence when the years of a trend (from `first`) differ in who reported, else ''. A year
    between the first and the last with data that has none is named as having no data."""
    first = d.first_year if first is None else first
    rows = [r for r in d.coverage if first <= r["year"] <= d.year]
    parts = _coverage_parts(rows)
    if not parts:
        return ""
    key = " (n/m above a bar: entities reporting of those expected)" if _incomplete(rows) and marked else ""
    return "Coverage differs between years: " + "; ".join(parts) + f". See the completeness table{key}."


def _trend_source(
    d: ReportData,
    first: int | None = None,
    marked: bool = False,
    aspects: tuple[str, ...] = s.EMISSIONS,
    coverage: str | None = None,
) -> str:
    """Source line of a chart over the years (from `first`): factor sets used, years from published
    totals, what changed where the factor set changes between two years of the chart (for the
    `aspects` the chart shows; none for a chart no emission factor bears on), and a note where the
    years differ in coverage (`coverage`: the chart's own, in place of who reported at all)."""
    first = d.first_year if first is None else first
    sets = s.factor_set_note(d.factor_set_years, first, aspects) if aspects else ""
    coverage = coverage or coverage_note(d, first, marked)
    return s.source_line(
        d.year,
        d.factor_sets_all,
        [y for y in d.history_years if y >= first],
        [y for y in d.partly_history_years if y >= first],
        draft=d.open_flags,
        stale=d.not_compared,
        mixed=d.mixed_set_names,
        note=" ".join(n for n in (sets, coverage) if n),
    )


def _resource_gaps(d: ReportData, resource: str, first: int) -> list[tuple[int, int, int, float | None]]:
    """(year, entities that reported `resource` (waste or water), entities that reported, their
    share of the personnel) for each year from `first` in which some entity that reported left the
    resource out: a per-capita figure of that year rests on those entities only."""
    out = []
    for r in d.resources:
        n, m = r[f"{resource}_entities"], r["reporting_entities"]
        if first <= r["year"] <= d.year and n < m:
            share = r[f"{resource}_personnel"] / r["personnel"] if r["personnel"] and n else None
            out.append((r["year"], n, m, share))
    return out


def _resource_counted(d: ReportData, resource: str) -> str:
    """'48 of the 52 entities that reported gave water figures' for the data year (report_resource_coverage)."""
    now = next((r for r in d.resources if r["year"] == d.year), None)
    if now is None or not now["reporting_entities"]:
        return ""
    reported = s.plural(now["reporting_entities"], "entity", "entities")
    return f"{now[f'{resource}_entities']} of the {reported} that reported gave {resource} figures"


def resource_coverage_note(d: ReportData, resource: str, first: int, marked: bool = False) -> str:
    """A sentence where some entity that reported emissions left `resource` (waste, water) out in a
    year from `first`: the figures and the per capita are of those that reported it. `marked`: a
    trend whose bars say n/m (`_mark_resource_coverage`), whose note names the year resting on the
    least personnel; else the sentence is of that year alone. '' where every entity reported it."""
    gaps = _resource_gaps(d, resource, first)
    if not gaps:
        return ""
    year, n, m, share = min(gaps, key=lambda g: (g[3] or 0.0, g[0]))
    of_personnel = f", {s.fmt_percent(share, 1)} of the personnel" if share is not None else ""
    if not marked:
        return (
            f"{n} of the {m} entities reporting emissions for {year} reported {resource}{of_personnel}: the "
            f"{resource} figures and the per capita are theirs."
        )
    return (
        f"Fewer entities report {resource} than emissions: a year's figure is theirs, per capita of their "
        f"personnel (n/m under a year: entities that reported {resource} of those that reported emissions); "
        f"least covered: {year}, {n} of {m} entities{of_personnel}."
    )


def _mark_resource_coverage(ax: Axes, d: ReportData, resource: str, first: int) -> None:
    """'n/m' under the year of each bar whose figure not every entity that reported is in."""
    for year, n, m, _ in _resource_gaps(d, resource, first):
        ax.annotate(
            f"{n}/{m}",
            xy=(year, 0),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, -14),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=s.BODY_SIZE - 2.5,
            color=s.MUTED,
        )


def _mark_factor_set_changes(ax: Axes, changes: list[Record]) -> None:
    """A thin vertical line between the last year on the earlier factor set(s) and the first on the
    new, rising into the band above the plot area (style.DIVIDER_BAND_IN, which the chart leaves
    free of bars, lines and legend), where a label says which set from which year. Call after the
    year axis is set: the label goes left of the line, pointing to it, when the line stands in the
    right half."""
    height_in = ax.get_position().height * ax.get_figure().get_size_inches()[1]  # type: ignore[union-attr]
    top = 1 + (s.DIVIDER_BAND_IN - 0.05) / height_in
    left, right = ax.get_xlim()
    for change in changes:
        x = change["year"] - 0.5
        ax.axvline(x, ymin=0, ymax=top, color=s.MUTED, linewidth=0.8, clip_on=False, zorder=1.5)
        on_right = bool((x - left) / (right - left) > 0.5)
        ax.annotate(
            s.factor_set_label(change) + " \u2192" * on_right,
            xy=(x, top),
            xycoords=ax.get_xaxis_transform(),
            xytext=(-3 if on_right else 3, 0),
            textcoords="offset points",
            ha="right" if on_right else "left",
            va="top",
            fontsize=s.SOURCE_SIZE + 0.5,
            color=s.INK,
            annotation_clip=False,
        )


def _year_source(d: ReportData, note: str = "", counted: str = "") -> str:
    """Source line of a chart of the data year alone: with who reported of the entities expected
    (`counted`: what the chart counts of them, see year_coverage) before the chart's `note`."""
    y = d.year
    return s.source_line(
        y,
        d.factor_sets_year,
        [y] if y in d.history_years else (),
        [y] if y in d.partly_history_years else (),
        draft=d.open_flags,
        stale=d.not_compared,
        mixed=d.mixed_set_names,
        note=" ".join(n for n in (year_coverage(d, counted), note) if n),
    )


# (1) ---------------------------------------------------------------------------------------------
def _axes_pt(ax: Axes) -> tuple[float, float]:
    """Width and height of the plot area in points (it sits at fixed inches: no drawing needed)."""
    w, h = ax.get_figure().get_size_inches()  # type: ignore[union-attr]
    box = ax.get_position()
    return float(box.width * w * 72), float(box.height * h * 72)


def _label_lift(ax: Axes, i: int, bar: float, line: np.ndarray, line_top: float, label: tuple[float, float]) -> float:
    """Points to raise a label (`label`: width and height in points) standing on a bar of height
    `bar` (index `i`) so that it clears the line of the right axis (0 to `line_top`): its marker on
    the bar's year and its segments towards the neighbours under the label's width. 0 where the label
    is clear of it."""
    if not np.isfinite(line[i]):
        return 0.0
    width, height = _axes_pt(ax)
    left, right = ax.get_xlim()
    reach = min(1.0, label[0] / 2 / width * (right - left))  # the label's half width, in years
    ys = [line[i]] + [
        line[i] + (line[j] - line[i]) * reach for j in (i - 1, i + 1) if 0 <= j < len(line) and np.isfinite(line[j])
    ]
    clearance = 4.0  # the marker's radius with its white edge; the line's halo
    low = min(ys) / line_top * height - clearance
    high = max(ys) / line_top * height + clearance
    base = bar / ax.get_ylim()[1] * height
    return 0.0 if base + label[1] < low or base > high else high + 1 - base


def _mark_coverage(
    ax: Axes, d: ReportData, years: list[int], totals: np.ndarray, line: np.ndarray, line_top: float
) -> None:
    """'n/m' above the bar of each year some expected entity is missing from, raised above the
    per-capita line (`line`, right axis from 0 to `line_top`) where the line would run through it:
    the right axis is drawn over the left one, so the line would cover the label."""
    size = s.BODY_SIZE - 2.5
    for i, (year, total) in enumerate(zip(years, totals, strict=True)):
        cover = d.coverage_of(year)
        if cover and cover["entities_reporting_expected"] < cover["entities_expected"] and np.isfinite(total):
            text = f"{cover['entities_reporting_expected']}/{cover['entities_expected']}"
            lift = _label_lift(ax, i, total, line, line_top, (len(text) * size * 0.62, size * 1.2))
            ax.annotate(
                text,
                xy=(year, total),
                xytext=(0, lift),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=size,
                color=s.MUTED,
                path_effects=_halo(),
                zorder=5,
                annotation_clip=False,
            )


def emissions_trend(d: ReportData) -> Figure:
    rows = d.system
    years = [r["year"] for r in rows]
    now = d.this_year
    change = now.get("per_capita_change_since_2010")
    span = f"{years[0]}\u2013{d.year}" if years[0] != d.year else str(d.year)  # never '2010–2010'
    subtitle = (
        f"Total emissions by source and emissions per capita, {span}. "
        f"{d.year}: {s.fmt_amount(now['total_tco2e'])} tCO\u2082e, "
        f"{s.fmt_number(now['per_capita_tco2e'], s.PER_CAPITA_DECIMALS)} t per capita"
    )
    if not s.is_missing(change):
        subtitle += f" ({s.fmt_percent(change, signed=True)} against 2010)"
    cover = d.coverage_of(d.year)  # the headline says whose figures it is, when not every entity's
    if cover and cover["entities_expected"] and cover["entities_reporting_expected"] < cover["entities_expected"]:
        subtitle += (
            f", from {cover['entities_reporting_expected']} of the "
            f"{s.plural(cover['entities_expected'], 'expected entity', 'expected entities')}"
        )
    fig = s.new_chart("Greenhouse gas emissions of the UN system", subtitle + ".", _trend_source(d, marked=True))
    changes = d.factor_set_changes()
    ax = s.plot_area(fig, left_in=0.95, right_in=0.95, top_in=1.25 + s.DIVIDER_BAND_IN * bool(changes))
    totals = _values(rows, "total_tco2e")
    scale, unit = _scale(totals)
    bottom = np.zeros(len(rows))
    for src in s.SOURCES:
        vals = _values(rows, f"{src}_tco2e")
        ax.bar(years, vals, 0.72, bottom=bottom, color=s.SOURCE_COLOURS[src], label=s.SOURCE_LABELS[src], zorder=2)
        bottom = bottom + np.nan_to_num(vals)
    ax.yaxis.set_major_formatter(s.thousands(scale=scale))
    ax.set_ylabel(unit)
    ax.set_ylim(0, _top(totals, 1.12))
    _year_axis(ax, years)
    _mark_years_without_data(ax, rows)
    _mark_factor_set_changes(ax, changes)

    pc = _values(rows, "per_capita_tco2e")
    ax2 = _right_axis_line(ax, years, pc, "tCO\u2082e per capita (right axis)")
    top = _top(pc, 1.35)
    ax2.set_ylim(0, top)
    _mark_coverage(ax, d, years, totals, pc, top)
    ax2.set_ylabel("tCO\u2082e per capita")
    ax2.yaxis.set_major_formatter(s.thousands())
    base = next((r["per_capita_tco2e"] for r in rows if r["year"] == 2010), None)
    if base is not None and not s.is_missing(base):
        ax2.axhline(base, color=s.MUTED, linestyle=(0, (4, 3)), linewidth=1, zorder=3)
        ax2.text(
            years[-1] + 0.4,
            base + top * 0.01,
            f"2010 baseline: {s.fmt_number(base, s.PER_CAPITA_DECIMALS)} t per capita",
            ha="right",
            va="bottom",
            fontsize=s.BODY_SIZE - 1,
            color=s.INK,
            path_effects=_halo(),
            # a divider of factor sets may run under the label: it breaks there instead of crossing it
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6} if changes else None,
        )
    handles: list[Artist] = [Patch(color=s.SOURCE_COLOURS[k], label=s.SOURCE_LABELS[k]) for k in s.SOURCES]
    handles += ax2.get_legend_handles_labels()[0]
    s.legend_top(fig, handles, 0.98, ncol=4)
    return fig


# (2) ---------------------------------------------------------------------------------------------
def source_split(d: ReportData) -> Figure:
    now = d.this_year
    fig = s.new_chart(
        f"Emissions by source, {d.year}",
        f"Share of the total of {s.fmt_amount(now['total_tco2e'])} tCO\u2082e (facilities, air travel, other travel).",
        _year_source(d),
        height_in=2.6,
    )
    ax = s.plot_area(fig, left_in=0.35, right_in=0.35, top_in=0.85, bottom_in=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, 0.5)
    ax.axis("off")
    if s.is_missing(now.get("total_tco2e")) or not now["total_tco2e"]:
        zero = not s.is_missing(now.get("total_tco2e"))  # 0 t is a figure reported, not a gap
        s.no_data(ax, f"0 tCO\u2082e reported for {d.year}" if zero else f"No emissions reported for {d.year}")
        return fig
    shares = [now[f"share_{src}"] for src in s.SOURCES]
    # the bars say what the legend says (19.5 %, not a 19 % made to add up beside it), and add to 100 %
    shown = legend = s.share_labels(shares, 1)
    left = 0.0
    handles = []
    for i, src in enumerate(s.SOURCES):
        share = now[f"share_{src}"] or 0.0
        ax.barh(0, share, left=left, height=0.8, color=s.SOURCE_COLOURS[src], edgecolor="white", linewidth=1.2)
        if share >= 0.07:
            ax.text(
                left + share / 2,
                0,
                shown[i],
                ha="center",
                va="center",
                color="white",
                fontsize=s.BODY_SIZE + 3,
                fontweight="bold",
            )
        left += share
        handles.append(
            Patch(
                color=s.SOURCE_COLOURS[src],
                label=f"{s.SOURCE_LABELS[src]}: {legend[i]}, {s.fmt_amount(now[f'{src}_tco2e'])} tCO\u2082e",
            )
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, -0.02),
        ncol=3,
        borderaxespad=0,
        handlelength=1.2,
        columnspacing=1.2,
        fontsize=s.BODY_SIZE - 1,
    )
    return fig


# (3) ---------------------------------------------------------------------------------------------
def per_capita_by_entity(d: ReportData) -> Figure:
    rows = d.ranked
    n = max(len(rows), 1)
    bar_in = 0.19
    top_in, bottom_in = 1.55, 0.55
    height = top_in + bottom_in + max(n * bar_in, 1.6)
    now = d.this_year
    cover = d.coverage_of(d.year)
    drawn = (  # an entity that reported without a personnel figure has no per capita, and no bar
        f"{s.plural(len(rows), 'entity', 'entities')} with a per-capita figure drawn"
        if cover and len(rows) < cover["entities_reporting"]
        else ""
    )
    fig = s.new_chart(
        f"Emissions per capita by entity, {d.year}",
        f"tCO\u2082e per person (personnel), split by source, highest first. "
        f"UN system: {s.fmt_number(now['per_capita_tco2e'], s.PER_CAPITA_DECIMALS)} t per capita.",
        _year_source(d, counted=drawn),
        height_in=height,
    )
    longest = max((len(r["entity_code"]) for r in rows), default=4)
    ax = s.plot_area(fig, left_in=0.35 + 0.075 * longest, right_in=0.55, top_in=top_in, bottom_in=bottom_in)
    if not rows:
        s.no_data(ax, f"No entity per-capita figures for {d.year}")
        return fig
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for src in s.SOURCES:
        vals = np.nan_to_num(_values(rows, f"{src}_per_capita_tco2e"))
        ax.barh(y, vals, 0.74, left=left, color=s.SOURCE_COLOURS[src], label=s.SOURCE_LABELS[src], zorder=2)
        left = left + vals
    totals = _values(rows, "per_capita_tco2e")
    for yi, v in enumerate(totals):  # yi: the bar's position on y
        ax.annotate(  # on a white box over the UN-system line, which breaks there instead of crossing it
            s.fmt_number(v, s.PER_CAPITA_DECIMALS),
            xy=(v, yi),
            xytext=(2.5, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=s.BODY_SIZE - 1.5,
            color=s.INK,
            zorder=4,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    ax.set_yticks(y)
    ax.set_yticklabels([r["entity_code"] for r in rows], fontsize=s.BODY_SIZE - 1)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(0, _top(totals, 1.1))
    ax.xaxis.set_major_formatter(s.thousands())
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("tCO\u2082e per capita")
    ax.spines["bottom"].set_visible(False)
    ax.spines["top"].set_visible(True)
    system = now.get("per_capita_tco2e")
    if system is not None and not s.is_missing(system):
        ax.axvline(system, color=s.INK, linestyle=(0, (4, 3)), linewidth=1, zorder=3)
        ax.text(
            system,
            len(rows) - 0.4,
            f" UN system {s.fmt_number(system, s.PER_CAPITA_DECIMALS)} t",
            ha="left",
            va="bottom",
            fontsize=s.BODY_SIZE - 1,
            color=s.INK,
            path_effects=_halo(),
        )
    s.legend_top(fig, [Patch(color=s.SOURCE_COLOURS[k], label=s.SOURCE_LABELS[k]) for k in s.SOURCES], 0.8, ncol=3)
    return fig


# (4) ---------------------------------------------------------------------------------------------
def offsets_trend(d: ReportData) -> Figure:
    rows = d.system
    years = [r["year"] for r in rows]
    now = d.this_year
    fig = s.new_chart(
        "Offsets and climate-neutral entities",
        f"Share of emissions offset (capped at each entity's own emissions) and entities whose offsets cover all "
        f"their emissions. {d.year}: {s.fmt_percent(now['offset_share'])} offset, "
        f"{s.fmt_number(now['climate_neutral_entities'])} of {s.fmt_number(now['reporting_entities'])} "
        "entities climate neutral.",
        _trend_source(d),
    )
    changes = d.factor_set_changes()
    ax = s.plot_area(fig, left_in=0.95, right_in=0.95, top_in=1.3 + s.DIVIDER_BAND_IN * bool(changes))
    reporting = _values(rows, "reporting_entities")
    neutral = _values(rows, "climate_neutral_entities")
    ax.bar(years, reporting, 0.72, color=s.LIGHT, edgecolor=s.GRID, label="Reporting entities", zorder=2)
    ax.bar(years, neutral, 0.72, color=s.UN_BLUE, label="Climate-neutral entities", zorder=2)
    counts = {}
    for x, v in zip(years, neutral, strict=True):
        if np.isfinite(v) and v > 0:  # the count at the foot of its bar, clear of the share line
            counts[x] = ax.text(
                x,
                0,
                f"{v:,.0f}\n",
                ha="center",
                va="bottom",
                fontsize=s.BODY_SIZE - 1.5,
                color="white",
                fontweight="bold",
                linespacing=0.6,
            )
    ax.set_ylabel("Entities")
    ax.set_ylim(0, _top(reporting, 1.12))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # entities are counted whole: no 0.25 of one
    ax.yaxis.set_major_formatter(s.thousands())
    _year_axis(ax, years)
    _mark_years_without_data(ax, rows)
    _mark_factor_set_changes(ax, changes)
    share = _values(rows, "offset_share")
    ax2 = _right_axis_line(ax, years, share, "Emissions offset, % (right axis)")
    ax2.set_ylim(0, 1.05)
    ax2.yaxis.set_major_formatter(s.percent_ticks())
    ax2.set_ylabel("Share of emissions offset")
    _counts_clear_of_markers(fig, ax, ax2, counts, dict(zip(years, share, strict=True)))
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    s.legend_top(fig, handles, 0.98, ncol=3)
    return fig


def _right_axis_line(ax: Axes, years: list[int], values: np.ndarray, label: str) -> Axes:
    """A line with markers over the bars, on an axis of its own at the right (per capita, share
    offset): in the report's line colour, each marker ringed in white, the line haloed."""
    right = ax.twinx()
    right.spines["right"].set_visible(True)
    right.grid(False)
    right.plot(
        years,
        values,
        color=s.LINE_COLOUR,
        marker="o",
        markersize=4,
        linewidth=1.8,
        label=label,
        zorder=4,
        path_effects=_halo(4),
        markeredgecolor="white",
        markeredgewidth=0.8,
    )
    return right


def _counts_clear_of_markers(
    fig: Figure, ax: Axes, line_ax: Axes, counts: dict[int, Text], shares: dict[int, float], pad_pt: float = 6.0
) -> None:
    """Move a bar's count that the share line's marker of its year would touch (a share as low as
    the count's place near the foot of the bar) down onto the axis, in its bar; where the marker is
    lower still, to just above the marker, in ink. 9 % of emissions offset in 2010 sat on the '5'
    climate-neutral entities of that year."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    pad = pad_pt * fig.dpi / 72  # the marker's radius and halo, and a little air

    def touches(text: Text, mx: float, my: float) -> bool:
        box = text.get_window_extent(renderer)
        return box.x0 - pad <= mx <= box.x1 + pad and box.y0 - pad <= my <= box.y1 + pad

    for x, text in counts.items():
        share = shares.get(x, np.nan)
        if not np.isfinite(share):
            continue
        mx, my = line_ax.transData.transform((x, share))
        if not touches(text, mx, my):
            continue
        text.set_text(text.get_text().rstrip("\n"))  # on the axis: the line's blank line gone
        _, foot = ax.transData.transform((x, 0))
        text.set_y(ax.transData.inverted().transform((mx, foot + 1.5 * fig.dpi / 72))[1])
        if touches(text, mx, my):
            _, above = ax.transData.inverted().transform((mx, my + pad))
            text.set_y(above)
            text.set_color(s.INK)


# (5) ---------------------------------------------------------------------------------------------
def waste_by_treatment(d: ReportData) -> Figure:
    now = d.this_year
    labels = {r["code"]: r["label"] for r in codelists.table("waste_treatment")}
    labels["not_itemised"] = "Not itemised (published totals)"
    rows = [r for r in d.waste if not s.is_missing(r["waste_tonnes"])]
    if s.is_missing(now.get("waste_tonnes")):
        subtitle = "No entity reported waste this year."
    else:
        subtitle = (
            f"{s.fmt_amount(now['waste_tonnes'])} t of waste, "
            f"{s.fmt_number(now['waste_per_capita_kg'])} kg per capita; "
        )
        # published totals have no treatment detail: the diverted share is of the rest
        partly_itemised = any(r["treatment_code"] == "not_itemised" for r in rows)
        subtitle += (
            f"{s.fmt_percent(now['waste_diversion_share'])} "
            + ("of the waste with treatment detail " if partly_itemised else "")
            + "diverted (reused, recycled or composted)."
            if not s.is_missing(now.get("waste_diversion_share"))
            else "no treatment detail this year."
        )
    height = max(3.6, 2.1 + 0.36 * len(rows))
    note = resource_coverage_note(d, "waste", d.year)
    fig = s.new_chart(f"Waste by treatment, {d.year}", subtitle, _year_source(d, note), height_in=height)
    ax = s.plot_area(fig, left_in=2.75, right_in=1.45, top_in=1.2, bottom_in=0.95)
    if not rows:
        s.no_data(ax, f"No waste reported for {d.year}")
        return fig
    y = np.arange(len(rows))
    colours = [
        s.NO_DATA if r["is_diverted"] is None else (s.DIVERTED_COLOUR if r["is_diverted"] else s.NOT_DIVERTED_COLOUR)
        for r in rows
    ]
    vals = _values(rows, "waste_tonnes")
    ax.barh(y, vals, 0.7, color=colours, zorder=2)
    shares = s.share_labels([r["share_of_waste"] for r in rows])  # side by side: they add to 100 %
    for yi, (share, v) in enumerate(zip(shares, vals, strict=True)):  # yi: the bar's position on y
        ax.text(
            v,
            yi,
            f"  {s.fmt_amount(v)} t ({share})",
            va="center",
            ha="left",
            fontsize=s.BODY_SIZE - 1,
            color=s.INK,
        )
    ax.set_yticks(y)
    codes: list[str] = [r["treatment_code"] for r in rows]
    ax.set_yticklabels([labels.get(code, code) for code in codes])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(0, _top(vals, 1.02))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.xaxis.set_major_formatter(s.thousands())
    ax.set_xlabel("Tonnes")
    kinds = {r["is_diverted"] for r in rows}
    handles = [
        Patch(color=colour, label=label)
        for kind, colour, label in (
            (True, s.DIVERTED_COLOUR, "Diverted: reused, recycled, composted, digested"),
            (False, s.NOT_DIVERTED_COLOUR, "Disposed or unknown"),
            (None, s.NO_DATA, "No treatment detail (published totals)"),
        )
        if kind in kinds
    ]
    s.legend_top(fig, handles, 0.82, ncol=3)
    return fig


# (6) ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One part of a stacked bar: the key of the view that holds it, its legend label and colour."""

    key: str
    label: str
    colour: str


def _bar_parts(ax: Axes, fig: Figure, rows: list[Record], years: list[int], parts: tuple[Part, ...]) -> None:
    """The bars of each year stacked from `parts` (their keys add up to the bar's figure), with a
    legend of the parts that have a value in some year."""
    bottom = np.zeros(len(rows))
    handles = []
    for part in parts:
        vals = _values(rows, part.key)
        ax.bar(years, vals, 0.66, bottom=bottom, color=part.colour, label=part.label, zorder=2)
        bottom = bottom + np.nan_to_num(vals)
        if np.nan_to_num(vals).any() or part is parts[0]:
            handles.append(Patch(color=part.colour, label=part.label))
    s.legend_top(fig, handles, 0.98, ncol=len(handles))


def _bars_by_year(
    d: ReportData,
    key: str,
    title: str,
    subtitle: str,
    ylabel: str,
    fmt: Callable[[float], str],
    percent: bool = False,
    aspects: tuple[str, ...] = (),
    parts: tuple[Part, ...] = (),
    resource: str = "",
) -> Figure:
    """Bars of `key` by year from its first value, labelled with their value; stacked from `parts`
    when given. `aspects`: what of the figure an emission factor set bears on (style.SET_CHANGES):
    a change of set between two years of the chart is marked and said; none for a figure no factor
    bears on (water). `resource` (waste, water): the figure is of the entities that reported it,
    so each year says how many of those that reported did (n/m under the year) and the note which
    year rests on the least personnel."""
    rows = _rows_from_first_value(d.system, key)
    first = rows[0]["year"] if rows else None
    changes = d.factor_set_changes(first) if rows and aspects else []
    own = resource_coverage_note(d, resource, rows[0]["year"], marked=True) if resource and rows else ""
    coverage = own
    if resource:  # its bars count of the entities that reported; the year's coverage is of those expected
        coverage = " ".join(n for n in (year_coverage(d, _resource_counted(d, resource)), own) if n)
    fig = s.new_chart(title, subtitle, _trend_source(d, first, aspects=aspects, coverage=coverage))
    top_in = (1.25 if parts else 1.0) + s.DIVIDER_BAND_IN * bool(changes)
    ax = s.plot_area(fig, left_in=0.95, right_in=0.4, top_in=top_in, bottom_in=0.75 + 0.15 * bool(own))
    if not rows:
        s.no_data(ax, "No data reported yet")
        return fig
    years = [r["year"] for r in rows]
    vals = _values(rows, key)
    if parts:
        _bar_parts(ax, fig, rows, years, parts)
    else:
        ax.bar(years, vals, 0.66, color=s.UN_BLUE, zorder=2)
    for x, v in zip(years, vals, strict=True):
        if np.isfinite(v):
            ax.text(x, v, fmt(v), ha="center", va="bottom", fontsize=s.BODY_SIZE - 1.5, color=s.INK)
        else:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=s.BODY_SIZE - 2, color=s.MUTED)
    top = _top(vals)  # every bar zero: an axis up to 1 (or 100 %), not a singular one
    ax.set_ylim(0, min(1.0, top * 1.18) if percent else top * 1.15)
    ax.yaxis.set_major_formatter(s.percent_ticks() if percent else s.thousands())
    ax.set_ylabel(ylabel)
    _year_axis(ax, years)
    _mark_factor_set_changes(ax, changes)
    if own:
        _mark_resource_coverage(ax, d, resource, years[0])
    return fig


def water_trend(d: ReportData) -> Figure:
    """Water per capita by year. No emission factor bears on water: a change of factor set is not
    marked here (it would read as a change in how water is counted)."""
    now = d.this_year
    return _bars_by_year(
        d,
        "water_per_capita_m3",
        "Water use per capita",
        "Water withdrawn per person of the entities that reported water. "
        + (
            f"{d.year}: {s.fmt_number(now['water_per_capita_m3'], s.PER_CAPITA_DECIMALS)} m\u00b3 per capita, "
            f"{s.fmt_amount(now['water_m3'])} m\u00b3 in all."
            if not s.is_missing(now.get("water_m3"))
            else f"No water reported for {d.year}."
        ),
        "m\u00b3 per capita",
        lambda v: s.fmt_number(v, s.PER_CAPITA_DECIMALS),
        resource="water",
    )


RENEWABLE_PARTS = (
    Part("renewable_share_reported", "Reported by entities (on-site or certified purchase)", s.UN_BLUE),
    Part("renewable_share_grid_default", "Grid default, beyond the entities' own figures", s.GRID_DEFAULT_COLOUR),
)


def _renewable_subtitle(d: ReportData) -> str:
    """The data year's share and, where it has a grid default, its two parts: the grid default is
    not the entities' on-site or purchased electricity."""
    now = d.this_year
    text = "Renewable share of electricity used in buildings, from the first year with energy detail. "
    if s.is_missing(now.get("renewable_electricity_share")):
        return text + f"No energy detail for {d.year} (published totals only)."
    text += f"{d.year}: {s.fmt_percent(now['renewable_electricity_share'])} of {s.fmt_energy(now['electricity_kwh'])}"
    if now["renewable_share_grid_default"]:
        reported, grid_default = s.renewable_part_labels(now)
        text += f", {reported} reported by the entities and {grid_default} the grid default"
    return text + "."


def renewable_trend(d: ReportData) -> Figure:
    """The renewable share by year, stacked: the part the entities reported and the grid default
    (which only factor sets with country renewable shares apply), labelled with the total."""
    return _bars_by_year(
        d,
        "renewable_electricity_share",
        "Renewable electricity",
        _renewable_subtitle(d),
        "Renewable share of electricity",
        lambda v: s.fmt_percent(v),
        percent=True,
        aspects=s.RENEWABLE,
        parts=RENEWABLE_PARTS,
    )


# (7) ---------------------------------------------------------------------------------------------
def _statuses(group: str) -> str:
    """'EMS implemented or EMS certified (...)': the labels of a group's statuses, from the code list."""
    labels = [r["label"] for r in codelists.table("ems_status") if r["ems_group"] == group]
    return " or ".join(label[0].lower() + label[1:] if label[:3] != "EMS" else label for label in labels)


def ems_status(d: ReportData) -> Figure:
    now = d.this_year
    statuses = codelists.table("ems_status")
    group_of = {r["code"]: r["ems_group"] for r in statuses}
    label_of = {r["code"]: r["label"] for r in statuses}
    counts = {r["ems_status"]: r["entities"] for r in d.ems}
    groups = ("met", "approaching", "not_met") + (("no_data",) if counts.get("no_data") else ())
    totals = {
        "met": now.get("ems_met"),
        "approaching": now.get("ems_approaching"),
        "not_met": now.get("ems_not_met"),
        "no_data": counts.get("no_data"),
    }
    subtitle = (
        f"Entities by environmental management system status. {s.fmt_number(totals['met'])} met the criteria "
        f"({_statuses('met')}), {s.fmt_number(totals['approaching'])} approaching ({_statuses('approaching')}), "
        f"{s.fmt_number(totals['not_met'])} not met"
        + (f"; {s.fmt_number(totals['no_data'])} with no EMS data." if totals["no_data"] else ".")
        if not s.is_missing(now.get("ems_met"))
        else "No entity reported an EMS sheet this year."
    )
    counted = "the bars count the entities that reported"
    fig = s.new_chart(
        f"Environmental management systems, {d.year}", subtitle, _year_source(d, counted=counted), height_in=4.1
    )
    ax = s.plot_area(fig, left_in=1.45, right_in=0.5, top_in=1.55, bottom_in=0.95)
    if s.is_missing(now.get("ems_met")):
        s.no_data(ax, f"No EMS data for {d.year}")
        return fig
    shades = s.EMS_STATUS_COLOURS
    order = [r["code"] for r in statuses] + ["no_data"]
    y = {g: i for i, g in enumerate(groups)}
    left = dict.fromkeys(groups, 0.0)
    handles = []
    for code in order:
        n = counts.get(code)
        group = group_of.get(code, "no_data")
        if not n or group not in y:
            continue
        # no data: hatched, never a grey beside the greys of "not met"
        look: dict[str, Any] = s.NO_DATA_BAR if code == "no_data" else {"color": shades[code], "edgecolor": "white"}
        ax.barh(y[group], n, 0.62, left=left[group], linewidth=1, zorder=2, **look)
        if n >= 1:
            dark = group == "met"
            ax.text(
                left[group] + n / 2,
                y[group],
                f"{n}",
                ha="center",
                va="center",
                fontsize=s.BODY_SIZE - 1,
                color="white" if dark else s.INK,
            )
        left[group] += n
        patch: dict[str, Any] = s.NO_DATA_BAR if code == "no_data" else {"color": shades[code]}
        handles.append(Patch(**patch, label=label_of.get(code, "No EMS data")))
    for g in groups:
        if not s.is_missing(totals[g]):
            ax.text(
                left[g],
                y[g],
                f"  {s.fmt_number(totals[g])}",
                ha="left",
                va="center",
                fontsize=s.BODY_SIZE,
                fontweight="bold",
                color=s.INK,
            )
    ax.set_yticks(list(y.values()))
    ax.set_yticklabels([s.EMS_LABELS[g] for g in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(0, max(left.values()) * 1.12 or 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(s.thousands())
    ax.set_xlabel("Entities")
    s.legend_top(fig, handles, 0.98, ncol=3, fontsize=s.BODY_SIZE - 1)
    return fig


@dataclass(frozen=True)
class Chart:
    stem: str
    draw: Callable[[ReportData], Figure]
    description: str


CHARTS: tuple[Chart, ...] = (
    Chart(
        "01_emissions_by_source",
        emissions_trend,
        "Total emissions by year stacked by source, per-capita line (right axis), 2010 baseline marked.",
    ),
    Chart("02_source_split", source_split, "Share of facilities, air travel and other travel in the year's total."),
    Chart(
        "03_per_capita_by_entity",
        per_capita_by_entity,
        "Emissions per capita of every entity in the year, ranked, split by source, UN system average marked.",
    ),
    Chart("04_offsets", offsets_trend, "Share of emissions offset (line) and climate-neutral entities (bars) by year."),
    Chart(
        "05_waste_by_treatment", waste_by_treatment, "Waste of the year by treatment route; diverted routes in green."
    ),
    Chart(
        "06_water_per_capita",
        water_trend,
        "Water withdrawn per capita by year, of the entities that reported water (how many under each year).",
    ),
    Chart(
        "07_ems_status", ems_status, "Entities that met, are approaching or have not met the EMS criteria, by status."
    ),
    Chart(
        "08_renewable_electricity",
        renewable_trend,
        "Renewable share of electricity by year: the part the entities reported and the grid default, stacked.",
    ),
)
