"""Entity factsheets: one A4 portrait PDF page per entity, like an entity page of Greening the Blue.

A page holds a header band (entity name, code, data year), the "key figures" block (personnel,
total GHG emissions, air travel share, tCO2e per capita, facilities intensity, offsets / climate
neutrality), the entity's emissions by source over the years, its source split of the year, a
few more figures (EMS, renewables, waste, water) and the source line. All figures are the
entity's rows of `entity_indicators`; NULL shows as '–' or as a gap, never as 0. The trend runs
from the first year the entity was expected or reported in (`trend_years`), so that an entity
expected from 2021 has no empty slots before it; a year in that range without figures says "not
reported", and an entity without any emissions says so instead of an empty axis. Where the
entity's years use different emission factor sets (`entity_factor_sets`), the trend has a divider
before the first year on the new set, a change from the previous year across it is marked `*`, and
the source line says what changed.

Speed: the page (figure, axes, bars, texts) is built once per process and year range, and each
entity only updates its texts and bar heights before the page is saved; with Type 3 fonts a page
costs about 0.1 s. Every variable artist is rewritten on each fill, so a page does not depend on
the entity drawn before it (tests check this byte for byte).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.textpath import text_to_path

from pipeline import codelists
from pipeline.report import style as s
from pipeline.report.queries import Record

WIDTH_IN, HEIGHT_IN = s.A4_PORTRAIT_IN
MARGIN_IN = 0.55
HEADER_IN = 1.45
DASH = "\u2013"
ELLIPSIS = "\u2026"
SOURCE_FITS = 320  # characters of a source line that stand clear of More figures at SOURCE_SIZE, on two lines
ZERO = "0 tCO\u2082e reported"  # an entity that reported emissions of nothing (not: did not report)
# The entity name in the header band: the largest of NAME_SIZES at which it fits the band's width
# and the room from NAME_TOP_IN to NAME_BOTTOM_IN (clear of the band's edge); a name too long even
# at the smallest ends with an ellipsis there and is printed in full above the source line.
NAME_SIZES = (17.0, 15.0, 13.5, 12.0, 11.0, 10.0, 9.0)
NAME_TOP_IN, NAME_BOTTOM_IN, NAME_LINESPACING = 0.74, HEADER_IN - 0.14, 1.05
TILE_TOP_IN, TILE_GAP_IN, TILE_HEIGHT_IN = 2.0, 0.12, 0.85
TREND_TOP_IN, SPLIT_TOP_IN, MORE_TOP_IN = 4.05, 7.4, 8.55  # room under More figures for a 4-line source
MORE_LABELS = (
    "Environmental management",
    "Renewable electricity",
    "Waste",
    "Water",
    "Per capita change since 2010",
    "Scope 1 / 2 / 3, tCO\u2082e",
    "Optional emissions (HCFCs)",
    "Reporting coverage",
    "Data",
)


def trend_years(rows: list[Record], year: int, first_expected: int | None = None) -> tuple[int, ...]:
    """The x axis of an entity's trend: from the first year it was expected or reported in (of the
    report's years) to `year`. An entity expected only from 2021 has no empty slots for 2010-2020
    that would read as years it missed; a year in the range without a row is one it did miss."""
    first = min(r["year"] for r in rows)
    if first_expected is not None:
        first = min(first, first_expected)
    return tuple(range(first, year + 1))


@functools.lru_cache(maxsize=8192)
def _width_per_pt(text: str) -> float:
    """Width of `text` in the name's bold font, in points per point of font size."""
    prop = FontProperties(family=s.FONT, weight="bold", size=100)
    return float(text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0]) / 100


@functools.lru_cache(maxsize=64)
def _block_height_pt(lines: int, size: float) -> float:
    """Height of `lines` lines of the name at `size` as matplotlib lays them out: the first line's
    height, then a line pitch of (height - descent) * linespacing for each further line; measured
    on text with the font's tallest parts (accents, brackets), so that no name is taller."""
    prop = FontProperties(family=s.FONT, weight="bold", size=size)
    h, d = text_to_path.get_text_width_height_descent("\u00c9lpj()", prop, ismath=False)[1:]
    return float(h + (lines - 1) * (h - d) * NAME_LINESPACING)


def _wrap_name(name: str, width_pt: float, size: float) -> list[str]:
    """`name` wrapped at spaces to lines no wider than `width_pt` at `size` (measured widths); a
    word wider than a line is broken where it must be."""
    lines: list[str] = []
    line = ""
    for word in name.split():
        candidate = f"{line} {word}" if line else word
        if _width_per_pt(candidate) * size <= width_pt:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while _width_per_pt(line) * size > width_pt and len(line) > 1:  # one over-long word
            cut = len(line) - 1
            while cut > 1 and _width_per_pt(line[:cut]) * size > width_pt:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    return lines + ([line] if line else [])


def fit_name(name: str, width_in: float = WIDTH_IN - 2 * MARGIN_IN) -> tuple[str, float, bool]:
    """(text, font size, whether it is cut) of the entity name in the header band: the largest size
    of NAME_SIZES at which the whole name fits; else the smallest size, as many lines as fit, the
    last ending with an ellipsis."""
    # 4 % of the width to spare: drawn at a page's resolution, hinted glyphs are a little wider
    width_pt, room_pt = width_in * 72 * 0.96, (NAME_BOTTOM_IN - NAME_TOP_IN) * 72
    for size in NAME_SIZES:
        lines = _wrap_name(name, width_pt, size)
        if _block_height_pt(len(lines), size) <= room_pt:
            return "\n".join(lines), size, False
    size = NAME_SIZES[-1]
    lines = _wrap_name(name, width_pt, size)
    keep = max(n for n in range(1, len(lines) + 1) if n == 1 or _block_height_pt(n, size) <= room_pt)
    lines = lines[:keep]
    last = lines[-1]
    while last and _width_per_pt(last.rstrip() + ELLIPSIS) * size > width_pt:
        last = last[:-1]
    lines[-1] = last.rstrip(" ,;:-") + ELLIPSIS
    return "\n".join(lines), size, True


def file_name(entity_code: str) -> str:
    """A safe file name for the entity's factsheet."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", entity_code).strip(".") + ".pdf"


def _rect(
    top_in: float, height_in: float, left_in: float = MARGIN_IN, width_in: float | None = None
) -> tuple[float, float, float, float]:
    """Figure-fraction rectangle from inches measured from the top-left corner."""
    width_in = WIDTH_IN - 2 * MARGIN_IN if width_in is None else width_in
    return (left_in / WIDTH_IN, 1 - (top_in + height_in) / HEIGHT_IN, width_in / WIDTH_IN, height_in / HEIGHT_IN)


def _text(fig: Figure, x_in: float, top_in: float, text: str = "", **kw: Any) -> Text:
    """Text placed in inches from the top-left; data text is never parsed as mathtext."""
    return fig.text(x_in / WIDTH_IN, 1 - top_in / HEIGHT_IN, text, parse_math=False, **kw)


def _value(row: Record, key: str) -> float:
    v = row.get(key)
    return np.nan if v is None or s.is_missing(v) else float(v)


# --- what the page says, from an entity's row ------------------------------------------------------
def _change(now: Record, figure: str) -> str:
    """', −38 % on 2024' (the entity_change view), or '' without a previous year; marked
    style.CHANGE_MARK where the two years use different factor sets (the note says what changed)."""
    change = now.get(f"{figure}_change_previous_year")
    if s.is_missing(change):
        return ""
    mark = s.CHANGE_MARK if now.get("change_across_factor_sets") else ""  # two factor sets: see the source line
    return f", {s.fmt_percent(change, signed=True)} on {now['previous_year']}{mark}"


def _neutral_label(now: Record) -> str:
    """The label of the climate-neutral tile: what the offsets cover, or, with no emissions to cover
    (a total of 0 t), that none were reported, never 'cover – of emissions'."""
    offsets = f"offsets {s.fmt_amount(now.get('offsets_tco2e'))} tCO\u2082e"
    total = now.get("total_tco2e")
    if s.is_missing(total) or not total:
        what = "no emissions reported" if s.is_missing(total) else ZERO  # 0 t is a figure reported
        retired = now.get("offsets_tco2e")
        if s.is_missing(retired) or not retired:
            return f"Climate neutral: {what}, none to offset"
        return f"Climate neutral: {what}; {offsets}"
    return f"Climate neutral: {offsets} cover {s.fmt_percent(now.get('offset_share'))} of emissions"


def split_labels(now: Record, decimals: int = 0) -> dict[str, str]:
    """The source shares of the year as the page shows them side by side (the split's bar labels,
    its legend at one decimal, the air travel tile): rounded together, so that they add to 100 %."""
    labels = s.share_labels([now.get(f"share_{src}") for src in s.SOURCES], decimals)
    return dict(zip(s.SOURCES, labels, strict=True))


def key_figures(now: Record) -> list[tuple[str, str]]:
    """The six key-figure tiles: (value, label)."""
    intensity = now.get("facility_intensity_kgco2e_per_m2")
    neutral = now.get("climate_neutral_entities")
    return [
        (s.fmt_number(now.get("personnel")), "Personnel"),
        (s.fmt_amount(now.get("total_tco2e")), "Total GHG emissions, tCO\u2082e" + _change(now, "total")),
        (split_labels(now)["air_travel"], "Air travel share of emissions"),
        (
            s.fmt_number(now.get("per_capita_tco2e"), s.PER_CAPITA_DECIMALS),
            "tCO\u2082e per capita" + _change(now, "per_capita"),
        ),
        (
            s.fmt_number(intensity, 1),
            "Facilities intensity, kgCO\u2082e/m\u00b2" + (" (no floor area)" if s.is_missing(intensity) else ""),
        ),
        ("Yes" if neutral == 1 else ("No" if neutral == 0 else DASH), _neutral_label(now)),
    ]


def more_figures(now: Record) -> list[str]:
    """Values of the 'More figures' block, in the order of MORE_LABELS."""
    labels = {r["code"]: r["label"] for r in codelists.table("ems_status")}
    status: str | None = now.get("ems_status")
    # a workbook without a waste or water row reported none; published totals have no such detail
    untold = "not reported" if now.get("data_source") == "workbook" else DASH
    waste = untold
    if not s.is_missing(now.get("waste_tonnes")):
        waste = (
            f"{s.fmt_amount(now['waste_tonnes'], 1)} t, {s.fmt_number(now.get('waste_per_capita_kg'))} kg per capita"
        )
        if not s.is_missing(now.get("waste_diversion_share")):
            waste += f", {s.fmt_percent(now['waste_diversion_share'])} diverted"
    water = untold
    if not s.is_missing(now.get("water_m3")):
        water = (
            f"{s.fmt_amount(now['water_m3'])} m\u00b3, "
            f"{s.fmt_number(now.get('water_per_capita_m3'), s.PER_CAPITA_DECIMALS)} m\u00b3 per capita"
        )
    scopes = [now.get(k) for k in ("scope1_tco2e", "scope2_tco2e", "scope3_tco2e")]
    optional = now.get("optional_tco2e")
    coverage = now.get("reporting_coverage_percent")
    renewable = s.fmt_percent(now.get("renewable_electricity_share"))
    if not s.is_missing(now.get("renewable_share_grid_default")) and now["renewable_share_grid_default"] > 0:
        reported, grid_default = s.renewable_part_labels(now)
        renewable += f" ({reported} reported, {grid_default} grid default)"
    return [
        labels.get(status, status) if status else DASH,
        renewable,
        waste,
        water,
        s.fmt_percent(now.get("per_capita_change_since_2010"), signed=True),
        DASH if all(s.is_missing(v) for v in scopes) else " / ".join(s.fmt_amount(v) for v in scopes),
        DASH if s.is_missing(optional) else f"{s.fmt_amount(optional, 1)} tCO\u2082e, outside the total",
        DASH if s.is_missing(coverage) else f"{s.fmt_number(coverage)} % of personnel",
        _data_line(now),
    ]


def _data_line(now: Record) -> str:
    """Where the year's figures come from and, for a workbook, how much of its emissions was
    estimated rather than measured (estimated_emissions)."""
    if now.get("data_source") != "workbook":
        return "published totals (no detail)"
    share = now.get("estimated_share")
    if s.is_missing(share):
        return "submission workbook"
    return f"submission workbook, {s.fmt_percent(share)} of emissions from estimated figures"


# --- the page ---------------------------------------------------------------------------------------
class FactsheetPage:
    """An A4 page built once for a year range; `fill` writes one entity into it."""

    def __init__(self, years: tuple[int, ...]):
        self.years = years
        fig = self.fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        fig.patch.set_facecolor("white")
        # header band
        fig.add_artist(
            Rectangle(
                (0, 1 - HEADER_IN / HEIGHT_IN),
                1,
                HEADER_IN / HEIGHT_IN,
                transform=fig.transFigure,
                color=s.UN_BLUE,
                zorder=0,
            )
        )
        self.kicker = _text(fig, MARGIN_IN, 0.3, fontsize=8, fontweight="bold", color="white", va="top")
        self.kind = _text(fig, MARGIN_IN, 0.5, fontsize=8.5, color="white", va="top")
        self.name = _text(
            fig,
            MARGIN_IN,
            NAME_TOP_IN,
            fontsize=NAME_SIZES[0],
            fontweight="bold",
            color="white",
            va="top",
            linespacing=NAME_LINESPACING,
        )
        # key figures
        self._heading(1.68, "Key figures")
        width = (WIDTH_IN - 2 * MARGIN_IN - 2 * TILE_GAP_IN) / 3
        self.tile_width = width
        self.tile_values, self.tile_labels = [], []
        for i in range(6):
            row, col = divmod(i, 3)
            left = MARGIN_IN + col * (width + TILE_GAP_IN)
            top = TILE_TOP_IN + row * (TILE_HEIGHT_IN + TILE_GAP_IN)
            x, y, w, h = _rect(top, TILE_HEIGHT_IN, left, width)
            fig.add_artist(Rectangle((x, y), w, h, transform=fig.transFigure, color=s.LIGHT, zorder=0))
            self.tile_values.append(
                _text(fig, left + 0.14, top + 0.12, fontsize=19, fontweight="bold", color=s.NAVY, va="top")
            )
            self.tile_labels.append(
                _text(fig, left + 0.14, top + TILE_HEIGHT_IN - 0.1, fontsize=7.5, color=s.MUTED, va="bottom")
            )
        self._build_trend()
        self._build_split()
        # more figures: two text blocks (labels, values) rather than 18 texts
        self._heading(MORE_TOP_IN, "More figures")
        kw: dict[str, Any] = dict(fontsize=8.5, va="top", linespacing=1.7)
        _text(fig, MARGIN_IN, MORE_TOP_IN + 0.36, "\n".join(MORE_LABELS), color=s.MUTED, **kw)
        self.more = _text(fig, MARGIN_IN + 2.4, MORE_TOP_IN + 0.36, color=s.INK, **kw)
        self.source = _text(fig, MARGIN_IN, HEIGHT_IN - 0.3, fontsize=s.SOURCE_SIZE, color=s.MUTED, va="bottom")

    def _heading(self, top_in: float, text: str = "") -> Text:
        return _text(self.fig, MARGIN_IN, top_in, text, fontsize=11.5, fontweight="bold", color=s.NAVY, va="top")

    def _build_trend(self) -> None:
        years = list(self.years)
        self.trend_heading = self._heading(TREND_TOP_IN)
        ax = self.trend = self.fig.add_axes(
            _rect(TREND_TOP_IN + 0.62, 2.3, MARGIN_IN + 0.6, WIDTH_IN - 2 * MARGIN_IN - 0.6)
        )
        zeros = np.zeros(len(years))
        self.trend_bars = {
            src: ax.bar(years, zeros, 0.7, color=s.SOURCE_COLOURS[src], label=s.SOURCE_LABELS[src], zorder=2)
            for src in s.SOURCES
        }
        ax.set_ylabel("tCO\u2082e")
        ax.set_xticks(years)
        ax.set_xticklabels([str(y) for y in years], fontsize=7.5, rotation=0 if len(years) <= 16 else 90)
        ax.set_xlim(years[0] - 0.6, years[-1] + 0.6)
        ax.tick_params(axis="x", length=0)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=3, borderaxespad=0, handlelength=1.2)
        self.dividers: list[tuple[Line2D, Text]] = []  # changes of factor set, made as entities need them
        self.not_reported = {  # at the foot of a year of the range the entity did not report, or of 0 t
            y: ax.text(
                y,
                0,
                " not reported",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=6.5,
                color=s.MUTED,
                visible=False,
                parse_math=False,
            )
            for y in years
        }
        self.trend_empty = ax.text(
            0.5,
            0.5,
            "No emissions reported",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=10,
            color=s.MUTED,
            visible=False,
        )

    def _build_split(self) -> None:
        self.split_heading = self._heading(SPLIT_TOP_IN)
        ax = self.split = self.fig.add_axes(_rect(SPLIT_TOP_IN + 0.35, 0.42))
        ax.axis("off")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.5, 0.5)
        self.split_bars = {
            src: ax.barh(0, 0, height=1.0, color=s.SOURCE_COLOURS[src], edgecolor="white", linewidth=1)[0]
            for src in s.SOURCES
        }
        self.split_texts = {
            src: ax.text(
                0, 0, "", ha="center", va="center", color="white", fontsize=10, fontweight="bold", parse_math=False
            )
            for src in s.SOURCES
        }
        self.split_empty = ax.text(0, 0, "", va="center", color=s.MUTED, parse_math=False)
        handles = [Patch(color=s.SOURCE_COLOURS[src], label=s.SOURCE_LABELS[src]) for src in s.SOURCES]
        self.split_legend = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0, -0.12),
            ncol=3,
            borderaxespad=0,
            handlelength=1.1,
            fontsize=7.5,
            columnspacing=1.0,
        )

    # --- filling ------------------------------------------------------------------------------------
    def fill(self, code: str, name: str, kind_label: str, rows: list[Record], year: int, source: str) -> Figure:
        now = next(r for r in rows if r["year"] == year)
        draft = f"{s.DRAFT}  \u00b7  " if source.startswith(s.DRAFT) else ""  # open flags: said in the header too
        self.kicker.set_text(f"{draft}GREENING THE BLUE  \u00b7  ENTITY FACTSHEET  \u00b7  DATA YEAR {year}")
        self.kind.set_text(s.printable(f"{code}  \u00b7  {kind_label}"))
        name = " ".join((name or code).split())
        text, size, cut = fit_name(s.printable(name, bold=True))
        self.name.set_fontsize(size)
        self.name.set_text(text)
        if cut:  # the header ends with an ellipsis: the name in full stands above the source
            source = f"Entity: {name}.\n{source}"
        long = cut or len(source) > SOURCE_FITS  # a longer line is fitted above More figures
        for (value, label), vt, lt in zip(key_figures(now), self.tile_values, self.tile_labels, strict=True):
            vt.set_text(value)
            vt.set_fontsize(19 if len(value) <= 11 else 15)
            lt.set_text(s.wrap(label, self.tile_width - 0.25, 7.5))
        self._fill_trend(rows)
        self._fill_split(now, year)
        self.more.set_text("\n".join(more_figures(now)))
        self._fill_source(source, long)
        return self.fig

    def _fill_source(self, source: str, long: bool) -> None:
        """The source line at SOURCE_SIZE; `long` (with the entity's full name before it): in a
        smaller size where that is what keeps it clear of the More figures block above it."""
        for size in (s.SOURCE_SIZE, 6.5, 6.0, 5.5, 5.0) if long else (s.SOURCE_SIZE,):
            self.source.set_fontsize(size)
            self.source.set_text(
                s.printable("\n".join(s.wrap(part, WIDTH_IN - 2 * MARGIN_IN, size) for part in source.split("\n")))
            )
            if long:
                renderer = FigureCanvasAgg(self.fig).get_renderer()
                room = self.more.get_window_extent(renderer).y0 - 0.05 * self.fig.dpi
                if self.source.get_window_extent(renderer).y1 <= room:
                    break

    def _fill_trend(self, rows: list[Record]) -> None:
        by_year = {r["year"]: r for r in rows}
        first, last = self.years[0], self.years[-1]
        self.trend_heading.set_text(f"Emissions by source, {first}" + (f"\u2013{last}" if last > first else ""))
        for y, mark in self.not_reported.items():  # a slot without a bar says why: not reported, or 0 t
            zero = y in by_year and by_year[y].get("total_tco2e") == 0
            mark.set_text(f" {ZERO}" if zero else " not reported")
            mark.set_visible(y not in by_year or zero)
        bottom = np.zeros(len(self.years))
        for src in s.SOURCES:
            vals = np.array([_value(by_year[y], f"{src}_tco2e") if y in by_year else np.nan for y in self.years])
            for rect, b, v in zip(self.trend_bars[src], bottom, vals, strict=True):
                rect.set_y(b)
                rect.set_height(0.0 if np.isnan(v) else v)  # no data: no bar (a gap), never a drawn zero
                rect.set_visible(bool(v > 0))  # NaN or 0 t: nothing to draw (a 0-high bar is a hairline)
            bottom = bottom + np.nan_to_num(vals)
        peak = float(bottom.max()) if bottom.max() > 0 else 1.0
        empty = not bottom.max() > 0  # nothing to draw: said, not left as an empty 0-1 axis
        zeros = any(r.get("total_tco2e") == 0 for r in rows if r["year"] in self.years)
        self.trend_empty.set_text(ZERO if zeros else "No emissions reported")  # 0 t reported is not a gap
        self.trend_empty.set_visible(empty)
        if empty:  # said once in the middle, not again at the foot of each year of 0 t under it
            for mark in self.not_reported.values():
                mark.set_visible(mark.get_visible() and mark.get_text() != f" {ZERO}")
        self.trend.tick_params(axis="y", left=not empty, labelleft=not empty)
        self.trend.grid(not empty, axis="y")
        changes = [r for r in rows if r.get("factor_set_changed") and r["year"] in self.years]
        self.trend.set_ylim(0, peak * (1.24 if changes else 1.12))  # room for a divider's label at the top
        self.trend.yaxis.set_major_formatter(s.thousands())
        self._fill_dividers(changes)

    def _fill_dividers(self, changes: list[Record]) -> None:
        """A thin line before each year of the entity on other factor sets than its earlier years,
        labelled at the top of the plot ('factor set gtb-2026.1 from 2025'); the lines of an entity
        drawn before are hidden."""
        ax = self.trend
        while len(self.dividers) < len(changes):
            line = ax.axvline(0, color=s.MUTED, linewidth=0.7, zorder=1.5)
            label = ax.text(
                0, 0.985, "", transform=ax.get_xaxis_transform(), va="top", fontsize=6.5, color=s.INK, parse_math=False
            )
            self.dividers.append((line, label))
        middle = (self.years[0] + self.years[-1]) / 2
        for i, (line, label) in enumerate(self.dividers):
            shown = i < len(changes)
            line.set_visible(shown)
            label.set_visible(shown)
            if not shown:
                continue
            x = changes[i]["year"] - 0.5
            on_right = x > middle
            line.set_xdata([x, x])
            label.set_position((x - 0.15 if on_right else x + 0.15, 0.985))
            label.set_horizontalalignment("right" if on_right else "left")
            label.set_text(s.factor_set_label(changes[i]) + " \u2192" * on_right)

    def _fill_split(self, now: Record, year: int) -> None:
        self.split_heading.set_text(f"Source split, {year}")
        total = now.get("total_tco2e")
        empty = s.is_missing(total) or not total
        self.split_empty.set_text(("No emissions reported" if s.is_missing(total) else ZERO) if empty else "")
        shown, legend = split_labels(now), split_labels(now, 1)
        left = 0.0
        for src, legend_text in zip(s.SOURCES, self.split_legend.get_texts(), strict=True):
            share = 0.0 if empty else (now.get(f"share_{src}") or 0.0)
            bar, label = self.split_bars[src], self.split_texts[src]
            bar.set_x(left)
            bar.set_width(share)
            bar.set_visible(share > 0)
            label.set_position((left + share / 2, 0))
            label.set_text(shown[src] if share >= 0.08 else "")
            legend_text.set_text(
                f"{s.SOURCE_LABELS[src]} {legend[src]}, {s.fmt_amount(now.get(f'{src}_tco2e'))} tCO\u2082e"
            )
            left += share


_PAGES: dict[tuple[int, ...], FactsheetPage] = {}


def factsheet(
    code: str, name: str, kind: str, rows: list[Record], year: int, source: str, years: tuple[int, ...] | None = None
) -> Figure:
    """The factsheet page of one entity; `rows` are its entity_indicators rows up to `year`,
    `years` the x axis of the trend (default: the entity's own years).

    The returned figure is reused by the next call in this process: save it before asking for
    another entity. Call inside `style.house_style()`.
    """
    years = tuple(years) if years else trend_years(rows, year)
    page = _PAGES.get(years)
    if page is None:
        page = _PAGES[years] = FactsheetPage(years)
    kinds = {r["code"]: r["label"] for r in codelists.table("entity_type")}
    return page.fill(code, name, kinds.get(kind, kind or ""), rows, year, source)


def write_factsheet(fig: Figure, folder: Path, code: str) -> Path:
    return s.save_pdf(fig, folder / file_name(code))
