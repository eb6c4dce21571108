"""House style of the report: palette, fonts, sizes, frame (title, subtitle, source line),
number formatting and deterministic saving.

Every chart and factsheet goes through these helpers, so the report looks like one document:

- one font that exists on a bare machine (DejaVu Sans, shipped with matplotlib);
- a UN blue for single series, and one colour per Greening the Blue source (facilities, air
  travel, other travel) used identically in every chart and factsheet;
- a title and subtitle at the top left, units on the axes, thousands separators, a source line
  at the bottom naming the data year and the emission factor set(s);
- deterministic files: fixed SVG hash salt, no dates or software versions in the metadata, so
  the same data gives byte-identical SVG and PDF.
"""

from __future__ import annotations

import io
import math
import textwrap
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsFloat

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# --- palette -----------------------------------------------------------------------------------
UN_BLUE = "#009EDB"
NAVY = "#1F4E79"
INK = "#1A1A1A"
MUTED = "#5F6B73"
GRID = "#DCE3E8"
LIGHT = "#EEF3F6"
NO_DATA = "#C8CDD1"

SOURCES = ("facilities", "air_travel", "other_travel")
SOURCE_LABELS = {"facilities": "Facilities", "air_travel": "Air travel", "other_travel": "Other travel"}
SOURCE_COLOURS = {"facilities": NAVY, "air_travel": UN_BLUE, "other_travel": "#F2A541"}
LINE_COLOUR = INK  # per-capita and share lines drawn over bars
GRID_DEFAULT_COLOUR = "#8DD3F0"  # the grid-default part of the renewable share, a paler UN blue
DIVERTED_COLOUR = "#3A9D5D"
NOT_DIVERTED_COLOUR = "#8A969E"
EMS_COLOURS = {"met": "#3A9D5D", "approaching": "#F2A541", "not_met": "#CDD3D8", "no_data": "#E3E7EA"}
EMS_STATUS_COLOURS = {  # shades within the groups: met (greens), approaching, not met (greys)
    "certified": "#1F6E3D",
    "implemented": EMS_COLOURS["met"],
    "implementing": EMS_COLOURS["approaching"],
    "planning": "#7F8C95",
    "none": EMS_COLOURS["not_met"],
    "no_data": EMS_COLOURS["no_data"],
}
# a bar of entities without data: white, hatched in grey, told apart from every shade of a status
NO_DATA_BAR: dict[str, Any] = {"facecolor": "white", "edgecolor": "#8A969F", "hatch": "////"}
EMS_LABELS = {"met": "Met the criteria", "approaching": "Approaching", "not_met": "Not met", "no_data": "No EMS data"}

# --- type and sizes ------------------------------------------------------------------------------
FONT = "DejaVu Sans"
TITLE_SIZE = 13
SUBTITLE_SIZE = 9.5
BODY_SIZE = 9
SOURCE_SIZE = 7
PNG_DPI = 300
CHART_WIDTH_IN = 8.0
CHART_HEIGHT_IN = 4.8
A4_PORTRAIT_IN = (8.27, 11.69)

PER_CAPITA_DECIMALS = 1  # tCO2e and m3 per capita, in every chart, factsheet and table (kg of waste: whole kg)
PLACEHOLDER = "\ufffd"  # shown for a character of the data that the report's font has no glyph for

PUBLISHER = "Greening the Blue inventory pipeline"
SVG_SALT = "greening-the-blue"

RC: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": BODY_SIZE,
    "text.color": INK,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.labelsize": BODY_SIZE,
    "axes.titlesize": BODY_SIZE + 1,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "xtick.labelsize": BODY_SIZE - 0.5,
    "ytick.labelsize": BODY_SIZE - 0.5,
    "legend.frameon": False,
    "legend.fontsize": BODY_SIZE - 0.5,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "svg.hashsalt": SVG_SALT,
    "svg.fonttype": "path",
    "pdf.fonttype": 3,  # subset Type 3 fonts: ~3x faster to write than TrueType (42) subsetting
    "pdf.compression": 6,
    "path.simplify": True,
}

SVG_METADATA = {"Date": None, "Creator": PUBLISHER}
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": PUBLISHER, "Producer": None}


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the report's rcParams for the duration of the block (global state left untouched)."""
    with matplotlib.rc_context(RC):
        yield


# --- numbers --------------------------------------------------------------------------------------
def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: SupportsFloat | None, decimals: int = 0, missing: str = "–") -> str:
    """1234567.8 -> '1,234,568'; NULL -> '–' (never '0')."""
    if value is None or is_missing(value):
        return missing
    return f"{float(value):,.{decimals}f}"


AMOUNT_DIGITS = 2  # significant digits an amount below 10 keeps (2.29 t -> '2.3 t', 0.186 t -> '0.19 t')
AMOUNT_FLOOR = 0.0001  # a non-zero amount below it is written '<0.0001'


def fmt_amount(value: SupportsFloat | None, decimals: int = 0, missing: str = "–") -> str:
    """An amount (tonnes, m3, kWh) as `fmt_number` shows it, but never a non-zero amount as '0': one
    below 10 keeps AMOUNT_DIGITS significant digits (0.186 -> '0.19', 2.29 and 1.91 -> '2.3' and
    '1.9', not '2' and '2'); an ordinary one keeps its whole units (1234567.8 -> '1,234,568').
    `decimals`: the fewest decimals shown (0: 7 -> '7', 1: 7 -> '7.0')."""
    if value is None or is_missing(value):
        return missing
    v = float(value)
    if v == 0:
        return f"{0.0:,.{decimals}f}"  # -0.0 too: '0', never '-0'
    if not math.isfinite(v) or abs(v) >= 10:
        return f"{v:,.{decimals}f}"
    if abs(v) < AMOUNT_FLOOR:  # 5e-324 t is no figure to write out in 327 digits
        return ("-" if v < 0 else "") + f"<{AMOUNT_FLOOR:g}"
    leading = math.floor(math.log10(abs(_significant(v))))  # of the rounded figure: 9.96 -> 10, 2 digits
    shown = max(decimals, AMOUNT_DIGITS - 1 - leading)
    text = f"{v:,.{shown}f}"
    while shown > decimals and text.endswith("0"):  # no trailing zeros it did not ask for: 7 -> '7', not '7.0'
        text, shown = text[:-1], shown - 1
    return text.rstrip(".")


def _significant(value: float) -> float:
    """`value` rounded to AMOUNT_DIGITS significant digits."""
    return float(f"{value:.{AMOUNT_DIGITS - 1}e}")


ENERGY_UNITS = (("GWh", 1e6), ("MWh", 1e3), ("kWh", 1.0))


def fmt_energy(kwh: SupportsFloat | None, missing: str = "–") -> str:
    """Electricity in the largest unit it makes at least one of: 4,310,000 kWh -> '4.3 GWh', 30,710
    kWh -> '31 MWh' (never '0 GWh'), 512 kWh -> '512 kWh'; the figure as `fmt_amount` shows it."""
    if kwh is None or is_missing(kwh):
        return missing
    value = float(kwh)
    unit, size = next(((u, n) for u, n in ENERGY_UNITS if abs(_significant(value / n)) >= 1), ENERGY_UNITS[-1])
    return f"{fmt_amount(value / size)} {unit}"


def fmt_percent(share: SupportsFloat | None, decimals: int = 0, missing: str = "–", signed: bool = False) -> str:
    """A fraction as a percentage: 0.223 -> '22 %', signed: -0.22 -> '−22 %'.

    Rounding never reaches either end of 0-100 % from inside: a sliver is not nothing (0.003 ->
    '<1 %', never '0 %') and nearly all is not all (0.9997 -> '>99 %', never '100 %', beside
    '5 of 6 entities climate neutral'); `decimals` sets the step (1: '<0.1 %', '>99.9 %').

    signed: a change keeps its sign on either bound ('−<1 %' for −0.19 %, '−>99 %' for a fall of
    99.7 %, never '−100 %', which would say it fell to nothing); a rise is not bounded by 100 %, so
    +99.7 % is '+100 %'."""
    if share is None or is_missing(share):
        return missing
    value = float(share) * 100
    step = 10**-decimals
    sign = ("+" if value > 0 else "\u2212") if signed and value != 0 else ""
    if 0 < abs(value) <= 0.5 * step:  # rounds to 0 (at 0.5 too: half to even)
        return f"{sign}<{step:g} %"
    nearly_all = 100 - 0.5 * step <= abs(value) < 100 and not (signed and value > 0)
    text = f">{100 - step:,.{decimals}f} %" if nearly_all else f"{abs(value):,.{decimals}f} %"
    return sign + text


def share_labels(
    shares: Sequence[SupportsFloat | None], decimals: int = 0, whole: SupportsFloat | None = 1.0
) -> list[str]:
    """`fmt_percent` of shares shown side by side (the parts of one total), rounded together by the
    largest remainder so that they add to 100 % as the parts add to the whole: 55.8/24.7/19.5 %
    give 56/25/19, never 56/25/20 (101 %). Shares that do not add to `whole` (or with a NULL) are
    rounded each on its own; a sliver or nearly all keeps fmt_percent's bounds ('<1 %', '>99 %').

    `whole`: the share the parts make up, when less than all (the renewable share of electricity,
    reported part and grid default): the parts add up to `fmt_percent(whole)`, 62.08 % of 50.56 %
    and 11.52 % give '62 %' of '51 %' and '11 %', never '51 %' and '12 %' (63 %)."""
    values = [None if v is None or is_missing(v) else float(v) for v in shares]
    known = [v for v in values if v is not None]
    if (
        len(known) != len(values)
        or whole is None
        or is_missing(whole)
        or not math.isclose(sum(known), float(whole), abs_tol=1e-9)
    ):
        return [fmt_percent(v, decimals) for v in values]
    scale = 100 * 10**decimals  # a share in steps of the last decimal shown
    units = [v * scale for v in known]
    whole_units = int(f"{float(whole) * scale:.0f}")  # the whole as fmt_percent rounds it
    counts = [math.floor(u) for u in units]
    by_remainder = sorted(range(len(units)), key=lambda i: (-(units[i] - counts[i]), i))
    for i in by_remainder[: max(0, whole_units - sum(counts))]:
        counts[i] += 1
    step = 10**-decimals
    labels = []
    for share, n in zip(known, counts, strict=True):
        if share > 0 and n == 0:
            labels.append(f"<{step:g} %")
        elif share < 1 and n * step >= 100:
            labels.append(f">{100 - step:,.{decimals}f} %")
        else:
            labels.append(f"{n * step:,.{decimals}f} %")
    return labels


def renewable_part_labels(now: Mapping[str, Any]) -> tuple[str, str]:
    """The reported part and the grid default of a renewable share of electricity, as the chart and
    the factsheet show them beside `fmt_percent` of the share: rounded together, so that they add up
    to the share shown (62.08 % of 50.56 % and 11.52 %: '51 %' and '11 %' beside '62 %', never
    '51 %' and '12 %')."""
    reported, grid_default = share_labels(
        [now.get("renewable_share_reported"), now.get("renewable_share_grid_default")],
        whole=now.get("renewable_electricity_share"),
    )
    return reported, grid_default


def plural(n: int, singular: str, plural_form: str = "") -> str:
    """'1 entity', '3 entities', '0 entities': a count with its noun in the right number."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


@cache
def _font_charmap(bold: bool) -> frozenset[int]:
    from matplotlib import font_manager, ft2font

    prop = font_manager.FontProperties(family=FONT, weight="bold" if bold else "normal")
    return frozenset(ft2font.FT2Font(font_manager.findfont(prop, fallback_to_default=False)).get_charmap())


_INVISIBLE = {0x200D, 0xFE0E, 0xFE0F}  # joiner and variation selectors of emoji: nothing to show


def printable(text: str, bold: bool = False) -> str:
    """`text` with each character the report's font (FONT, regular or bold) has no glyph for shown as
    PLACEHOLDER, and the invisible joiners of emoji dropped: an emoji in an entity name is a visible
    mark, never an empty box, and matplotlib has no missing glyph to warn about. One font only, so
    that a page looks and is the same on every machine (no fallback to whatever fonts are installed)."""
    charmap = _font_charmap(bold)
    if all(ord(c) in charmap or c in "\n\t" for c in text):
        return text
    return "".join(
        "" if ord(c) in _INVISIBLE else (c if ord(c) in charmap or c in "\n\t" else PLACEHOLDER) for c in text
    )


def _trimmed(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def thousands(decimals: int | None = None, scale: float = 1.0) -> FuncFormatter:
    """Tick formatter with thousands separators; `scale` divides (1000 for 'thousand tCO2e').

    decimals=None shows as many decimals as the tick needs (2.5 stays 2.5, never '2').
    """
    if decimals is None:
        return FuncFormatter(lambda v, _pos: _trimmed(v / scale))
    return FuncFormatter(lambda v, _pos: f"{v / scale:,.{decimals}f}")


def percent_ticks() -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: f"{_trimmed(v * 100)} %")


# --- source line ----------------------------------------------------------------------------------
def year_span(years: Iterable[int]) -> str:
    """[2010, 2011, 2012, 2015] -> '2010–2012, 2015'."""
    ys = sorted(set(years))
    parts: list[str] = []
    start = prev = None
    for y in ys + [None]:
        if start is None:
            start = prev = y
        elif y is not None and prev is not None and y == prev + 1:
            prev = y
        else:
            parts.append(str(start) if start == prev else f"{start}\u2013{prev}")
            start = prev = y
    return ", ".join(parts)


DRAFT = "DRAFT"  # a report with plausibility flags open: its source lines start so, and its charts say it at the top
ALERT = "#B03A2E"  # the colour of that mark


def source_line(
    data_year: int,
    factor_sets: Sequence[str],
    history_years: Iterable[int] = (),
    partly_history_years: Iterable[int] = (),
    draft: int = 0,
    note: str = "",
    draft_detail: str = "",
    stale: int = 0,
    mixed: Sequence[str] = (),
) -> str:
    """'Source: Greening the Blue inventory pipeline, data year 2024; emission factors gtb-2025.1'.

    `history_years`: years whose figures all come from published totals; `partly_history_years`:
    years where some entities' figures do; `draft`: open plausibility flags (the line says DRAFT);
    `note`: a sentence after the source (the coverage of a trend's years); `draft_detail`: which
    of the open flags the page is concerned by, after their number (a factsheet's own); `stale`:
    workbooks of the year not compared again with an earlier year as it now stands (a draft too);
    `mixed`: the factor sets of the year's workbooks, when they are two or more (a draft too).
    """
    detail = f" ({draft_detail})" if draft_detail else ""
    why = [f"{draft} plausibility flag{'s' * (draft != 1)} open{detail}"] if draft else []
    if stale:
        why.append(f"{stale} workbook{'s' * (stale != 1)} not compared again since an earlier year changed")
    if len(mixed) > 1:
        why.append(f"the workbooks of {data_year} calculated with {len(mixed)} factor sets ({', '.join(mixed)})")
    text = f"{DRAFT}, {'; '.join(why)}. " if why else ""
    text += f"Source: {PUBLISHER}, data year {data_year}"
    if factor_sets:
        text += "; emission factors " + ", ".join(sorted(factor_sets))
    full, partly = sorted(set(history_years)), sorted(set(partly_history_years) - set(history_years))
    if full or partly:
        text += "; published totals (no scope, energy, waste-treatment or EMS detail) for "
        if full:
            text += year_span(full)
        if full and partly:
            text += " and "
        if partly:
            text += f"some entities in {year_span(partly)}"
    return text + "." + (f" {note}" if note else "")


# --- changes of emission factor set ---------------------------------------------------------------
# What moving to a factor set changed, by the figures it bears on (docs/emission-factors.md): the
# emissions (totals, sources, per capita, the share offset) and the renewable share. A note names
# only what the chart shows; a set not listed here is named without a description.
SET_CHANGES: dict[str, dict[str, str]] = {
    "gtb-2026.1": {
        "emissions": "air travel follows the ICAO calculator's method",
        "renewable": "renewable electricity includes the grid default, the country grid's renewable share of the "
        "electricity beyond an entity's own renewable figure",
    },
}
EMISSIONS, RENEWABLE = ("emissions",), ("renewable",)
DIVIDER_BAND_IN = 0.24  # room above a trend's plot area for the label of a change of factor set
CHANGE_MARK = "*"  # beside a change from the previous year that compares two factor sets, and its note


def _set_word(sets: str) -> str:
    return f"factor set{'s' * (',' in sets)} {sets}"


def factor_set_label(change: Mapping[str, Any]) -> str:
    """'factor set gtb-2026.1 from 2025': the label of the divider before the first year on a set."""
    return f"{_set_word(change['factor_sets'])} from {change['year']}"


def factor_set_note(rows: Sequence[Mapping[str, Any]], first: int, aspects: Sequence[str] = EMISSIONS) -> str:
    """A sentence for each year of `rows` whose factor sets differ from those of an earlier year that
    is `first` or later: what changed (SET_CHANGES, for `aspects`), the years on the set before, and
    that the change between the two years is partly the method's; '' without a change. `rows`: one
    per year with year, factor_sets, previous_factor_sets, previous_factor_sets_year and
    factor_set_changed (the year_factor_sets or entity_factor_sets view)."""
    sentences = []
    for change in rows:
        if not change.get("factor_set_changed") or change["previous_factor_sets_year"] < first:
            continue
        year, new, old = change["year"], change["factor_sets"], change["previous_factor_sets"]
        known = [SET_CHANGES.get(new, {}).get(aspect) for aspect in aspects]
        what = " and ".join(k for k in known if k)
        used = "are used" if "," in new else "is used"  # a year whose entities are on two sets
        what = f"{what} ({_set_word(new)})" if what else f"the emission {_set_word(new)} {used}"
        before = [r["year"] for r in rows if r.get("factor_sets") == old and first <= r["year"] < year]
        verb = "uses" if len(before) == 1 else "use"
        sentences.append(
            f"From {year} {what}; {year_span(before)} {verb} {old}, so the change between "
            f"{change['previous_factor_sets_year']} and {year} is partly the method's."
        )
    return " ".join(sentences)


def wrap(text: str, width_in: float, size: float) -> str:
    """Wrap `text` to lines that fit `width_in` inches at font `size` (DejaVu Sans average width)."""
    chars = max(20, int(width_in * 72 / (size * 0.58)))
    return "\n".join(textwrap.wrap(text, width=chars))


# --- frame ----------------------------------------------------------------------------------------
_SOURCE_LINES: weakref.WeakKeyDictionary[Figure, int] = weakref.WeakKeyDictionary()  # lines of each source


def new_chart(
    title: str,
    subtitle: str,
    source: str,
    width_in: float = CHART_WIDTH_IN,
    height_in: float = CHART_HEIGHT_IN,
) -> Figure:
    """A figure with the title, subtitle and source line placed at fixed distances in inches."""
    fig = Figure(figsize=(width_in, height_in))
    fig.patch.set_facecolor("white")
    top = 1 - 0.22 / height_in
    fig.text(0.32 / width_in, top, title, ha="left", va="top", fontsize=TITLE_SIZE, fontweight="bold", color=INK)
    if source.startswith(DRAFT):  # open flags: said where the eye starts, not only in the source line
        fig.text(
            1 - 0.32 / width_in, top, DRAFT, ha="right", va="top", fontsize=TITLE_SIZE, fontweight="bold", color=ALERT
        )
    if subtitle:
        sub = wrap(subtitle, width_in - 0.64, SUBTITLE_SIZE)
        fig.text(
            0.32 / width_in,
            top - 0.30 / height_in,
            sub,
            ha="left",
            va="top",
            fontsize=SUBTITLE_SIZE,
            color=MUTED,
            parse_math=False,
        )
    src = wrap(source, width_in - 0.64, SOURCE_SIZE)
    _SOURCE_LINES[fig] = src.count("\n") + 1
    fig.text(
        0.32 / width_in,
        0.14 / height_in,
        src,
        ha="left",
        va="bottom",
        fontsize=SOURCE_SIZE,
        color=MUTED,
        parse_math=False,
    )
    return fig


def plot_area(
    fig: Figure, left_in: float = 0.9, right_in: float = 0.35, top_in: float = 0.95, bottom_in: float = 0.75
) -> Axes:
    """Axes whose edges sit at fixed inches from the figure edges (room for title and source; a
    source line of more than two lines pushes the bottom edge up by the lines it adds)."""
    w, h = fig.get_size_inches()
    bottom_in += max(0, _SOURCE_LINES.get(fig, 2) - 2) * SOURCE_SIZE * 1.2 / 72
    rect = (left_in / w, bottom_in / h, 1 - (left_in + right_in) / w, 1 - (top_in + bottom_in) / h)
    return fig.add_axes(rect)


def legend_top(fig: Figure, handles: list, top_in: float, ncol: int, fontsize: float = BODY_SIZE - 0.5) -> None:
    """A legend row under the subtitle, aligned with the title at the left margin."""
    w, h = fig.get_size_inches()
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.28 / w, 1 - top_in / h),
        ncol=ncol,
        borderaxespad=0,
        handlelength=1.4,
        columnspacing=1.4,
        fontsize=fontsize,
    )


def no_data(ax: Axes, text: str) -> None:
    """Say so in the plot area instead of drawing zeros."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=BODY_SIZE + 1, color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


# --- saving ---------------------------------------------------------------------------------------
def _save_whole(fig: Figure, path: Path, **options: object) -> Path:
    """The figure drawn in memory, then written whole or not at all (`paths.write_whole`): a
    report stopped or killed while it draws leaves the chart it replaces, never half of one."""
    from pipeline.paths import write_whole

    buffer = io.BytesIO()
    fig.savefig(buffer, facecolor="white", **options)  # type: ignore[arg-type]
    return write_whole(path, buffer.getvalue())


def save_chart(fig: Figure, folder: Path, stem: str) -> list[Path]:
    """Write `{stem}.png` (300 dpi) and `{stem}.svg`; no dates, no software versions."""
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
    with house_style():
        _save_whole(fig, svg, format="svg", metadata=SVG_METADATA)
        _save_whole(fig, png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    return [png, svg]


def save_pdf(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with house_style():
        _save_whole(fig, path, format="pdf", metadata=PDF_METADATA)
    return path
