"""`gtb report`: charts, tables and factsheets from the indicator views of a synthetic warehouse.

The warehouse (tests/report_fixtures.py) has 7 entities: history 2010-2018, workbooks 2019-2024,
with awkward ones: UNFCCC's 2024 comes from a history row (NULL scopes, EMS, floor area), UNHCR
reports no waste or water, UNICEF no floor area, ITC stops after 2018, WFP's name looks like a
formula. The report is written twice (in-process, and with a worker pool) to compare bytes.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from openpyxl import load_workbook
from PIL import Image

from pipeline import cli
from pipeline.errors import GtbError
from pipeline.report import build, charts, factsheets, queries, tables
from pipeline.report import style as s
from pipeline.report.build import report
from tests.report_fixtures import FORMULA_NAME, build_warehouse
from tests.warehouse_fixtures import Warehouse

YEAR = 2024
IN_YEAR = ["UNDP", "UNEP", "UNFCCC", "UNHCR", "UNICEF", "WFP"]  # ITC has no row in 2024
SHEETS = ["about", "headline", "completeness", "system", "entities", "waste", "waste_treatment", "water", "ems"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "gtb.duckdb")


@pytest.fixture(scope="module")
def runs(db, tmp_path_factory):
    first = report(YEAR, db, tmp_path_factory.mktemp("a"), jobs=1)
    pool_from = build.POOL_FROM
    build.POOL_FROM = 2  # exercise the worker pool with the small fixture
    try:
        second = report(YEAR, db, tmp_path_factory.mktemp("b"), jobs=2)
    finally:
        build.POOL_FROM = pool_from
    return first, second


@pytest.fixture(scope="module")
def out(runs):
    return runs[0]


def view(db: Path, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    """Query the views as the report does: one thread (DuckDB's parallel float sums can differ in
    the last bit between runs)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET threads = 1")
        cur = con.execute(sql, params or [])
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def parse_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def equal(cell: object, value: object) -> bool:
    """An xlsx cell equals a view value: openpyxl writes numbers with 16 significant digits (Excel
    itself keeps 15), so floats agree to 1e-15."""
    if isinstance(value, float) and isinstance(cell, float):
        return math.isclose(cell, value, rel_tol=1e-15)
    return cell == value


def same(text: str, value: object) -> bool:
    """A CSV field equals a view value: empty for NULL, exact for numbers, text otherwise."""
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, (int, float)):
        return text != "" and float(text) == float(value)
    return text == str(value)


# --- files --------------------------------------------------------------------------------------------
def test_writes_every_expected_file(out):
    folder = out.folder
    assert folder.name == str(YEAR) and folder.parent.name == "report"
    for chart in charts.CHARTS:
        for ext in ("png", "svg"):
            path = folder / f"{chart.stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
    assert len(charts.CHARTS) >= 8
    assert (folder / f"tables_{YEAR}.xlsx").is_file()
    assert sorted(p.name for p in (folder / "tables").glob("*.csv")) == sorted(f"{n}.csv" for n in SHEETS[1:])
    assert sorted(p.stem for p in (folder / "factsheets").glob("*.pdf")) == IN_YEAR
    for pdf in (folder / "factsheets").glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF")
    assert all(p.is_file() for p in out.files)
    assert len(out.files) == 2 * len(charts.CHARTS) + 1 + len(SHEETS) - 1 + len(IN_YEAR) + 1
    index = (folder / "index.md").read_text(encoding="utf-8")
    for chart in charts.CHARTS:
        assert f"`{chart.stem}.png`" in index
    for name in SHEETS[1:]:
        assert f"`{name}`" in index
    assert "factsheets/WFP.pdf" in index and "factsheets/ITC.pdf" not in index


def test_png_is_300_dpi_without_software_or_date(out):
    png = out.folder / "01_emissions_by_source.png"
    image = Image.open(png)
    assert round(image.info["dpi"][0]) == 300
    assert image.size[0] == round(s.CHART_WIDTH_IN * 300)
    assert "Software" not in image.info and not any("date" in k.lower() for k in image.info)


def test_svg_and_pdf_are_byte_identical_across_runs_and_workers(runs):
    a, b = runs
    svgs = sorted(a.folder.glob("*.svg"))
    assert len(svgs) == len(charts.CHARTS)
    for svg in svgs:
        assert svg.read_bytes() == (b.folder / svg.name).read_bytes(), svg.name
        assert b"<dc:date>" not in svg.read_bytes()
    for pdf in sorted((a.folder / "factsheets").glob("*.pdf")):
        assert pdf.read_bytes() == (b.folder / "factsheets" / pdf.name).read_bytes(), pdf.name
        assert b"CreationDate" not in pdf.read_bytes()
    assert (a.folder / f"tables_{YEAR}.xlsx").read_bytes() == (b.folder / f"tables_{YEAR}.xlsx").read_bytes()


def test_a_factsheet_does_not_depend_on_the_page_drawn_before(db, tmp_path):
    con = queries.open_report_db(db)
    series = queries.entity_series(con, YEAR)
    con.close()
    years = tuple(range(2010, YEAR + 1))

    def draw(code: str) -> bytes:
        buffer = io.BytesIO()
        with s.house_style():
            fig = factsheets.factsheet(code, code, "", series[code], YEAR, "Source: test", years)
            fig.savefig(buffer, format="pdf", metadata=s.PDF_METADATA)
        return buffer.getvalue()

    factsheets._PAGES.clear()
    fresh = draw("UNEP")
    draw("UNFCCC")  # history row in 2024: dashes, no scopes; then UNEP again on the same page
    assert draw("UNEP") == fresh


# --- tables -------------------------------------------------------------------------------------------
def test_xlsx_has_sheets_frozen_headers_units_and_no_formulas(out):
    path = out.folder / f"tables_{YEAR}.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), name
        assert ws.column_dimensions["A"].width >= 8
    headers = [c.value for c in wb["entities"][1]]
    assert "Total emissions (tCO2e)" in headers and "Facilities intensity (kgCO2e/m2)" in headers
    assert wb["system"].freeze_panes == "B2" and wb["entities"].freeze_panes == "C2"
    share = wb["entities"].cell(row=2, column=headers.index("Air travel share (%)") + 1)
    assert share.number_format == tables.SHARE
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_xlsx_numbers_equal_the_views(out, db):
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    columns, rows = view(db, "SELECT * FROM system_indicators WHERE year <= ? ORDER BY year", [YEAR])
    ws = wb["system"]
    assert ws.max_row == len(rows) + 1
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            assert equal(ws.cell(row=i, column=j).value, value), (columns[j - 1], row[0])
    keys = [
        "personnel",
        "total_tco2e",
        "share_air_travel",
        "per_capita_tco2e",
        "facility_intensity_kgco2e_per_m2",
        "offsets_tco2e",
    ]
    _, expected = view(
        db, f"SELECT entity_code, {', '.join(keys)} FROM entity_indicators WHERE year = ? ORDER BY 1", [YEAR]
    )
    ws = wb["entities"]
    got = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=ws.max_row - 1)]  # then the totals
    headers = [c.value for c in ws[1]]
    from pipeline.report.tables import header

    idx = [headers.index(header(k)) for k in keys]
    assert [r[0] for r in got] == [e[0] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert all(equal(g[i], v) for i, v in zip(idx, e[1:], strict=True)), e[0]


def test_csvs_equal_the_views(out, db):
    head, body = parse_csv(out.folder / "tables" / "system.csv")
    columns, rows = view(db, "SELECT * FROM system_indicators WHERE year <= ? ORDER BY year", [YEAR])
    assert head == columns and len(body) == len(rows)
    for fields, row in zip(body, rows, strict=True):
        assert all(same(f, v) for f, v in zip(fields, row, strict=True)), row[0]
    for table in ("entities", "waste", "water", "ems"):
        head, body = parse_csv(out.folder / "tables" / f"{table}.csv")
        shared = [c for c in head if c in queries_entity_columns(db)]
        assert len(shared) >= 3, table
        _, rows = view(
            db, f"SELECT {', '.join(shared)} FROM entity_indicators WHERE year = ? ORDER BY entity_code", [YEAR]
        )
        assert [r[head.index("entity_code")] for r in body] == [r[0] for r in rows]
        for fields, row in zip(body, rows, strict=True):
            for col, value in zip(shared, row, strict=True):
                assert same(fields[head.index(col)], value), (table, col, row[0])


def queries_entity_columns(db: Path) -> set[str]:
    columns, _ = view(db, "SELECT * FROM entity_indicators LIMIT 0")
    return set(columns)


def test_null_figures_stay_empty_never_zero(out):
    folder = out.folder
    head, body = parse_csv(folder / "tables" / "entities.csv")
    unfccc = dict(zip(head, next(r for r in body if r[0] == "UNFCCC"), strict=True))
    unicef = dict(zip(head, next(r for r in body if r[0] == "UNICEF"), strict=True))
    assert unfccc["data_source"] == "history" and unfccc["facility_intensity_kgco2e_per_m2"] == ""
    assert unicef["facility_intensity_kgco2e_per_m2"] == ""
    head, body = parse_csv(folder / "tables" / "waste.csv")
    unhcr = dict(zip(head, next(r for r in body if r[0] == "UNHCR"), strict=True))
    assert unhcr["waste_tonnes"] == "" and unhcr["waste_per_capita_kg"] == "" and unhcr["personnel"] != ""
    head, body = parse_csv(folder / "tables" / "ems.csv")
    assert dict(zip(head, next(r for r in body if r[0] == "UNFCCC"), strict=True))["ems_met"] == ""
    head, body = parse_csv(folder / "tables" / "system.csv")
    y2015 = dict(zip(head, next(r for r in body if r[0] == "2015"), strict=True))
    assert y2015["scope1_tco2e"] == "" and y2015["renewable_electricity_share"] == "" and y2015["ems_met"] == ""
    wb = load_workbook(folder / f"tables_{YEAR}.xlsx")
    ws = wb["waste"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "UNHCR")
    assert row[3].value is None and row[4].value is None


def test_formula_looking_entity_name_is_stored_as_text(out):
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["entities"]
    cell = next(r[1] for r in ws.iter_rows(min_row=2) if r[0].value == "WFP")
    assert cell.value == FORMULA_NAME and cell.data_type == "s" and cell.quotePrefix
    head, body = parse_csv(out.folder / "tables" / "entities.csv")
    assert next(r for r in body if r[0] == "WFP")[1] == "'" + FORMULA_NAME  # OWASP: a leading apostrophe


def test_breakdown_views_add_up_to_the_indicators(db):
    con = queries.open_report_db(db)
    try:
        waste = con.execute(
            "SELECT sum(waste_tonnes), sum(share_of_waste) FROM report_waste_by_treatment WHERE year = ?", [YEAR]
        ).fetchone()
        system = queries.system_series(con, YEAR)[-1]
        ems = dict(
            con.execute("SELECT ems_status, entities FROM report_ems_by_status WHERE year = ?", [YEAR]).fetchall()
        )
    finally:
        con.close()
    assert math.isclose(waste[0], system["waste_tonnes"], rel_tol=1e-12) and math.isclose(waste[1], 1.0)
    assert ems.get("implemented", 0) + ems.get("certified", 0) == system["ems_met"]
    assert ems.get("none", 0) + ems.get("planning", 0) == system["ems_not_met"]
    assert ems["no_data"] == 1  # UNFCCC's history row


def test_headline_table_is_the_system_view_on_its_side(out, db):
    from pipeline.indicators import keys

    columns, rows = view(db, "SELECT * FROM system_indicators WHERE year <= ? ORDER BY year", [YEAR])
    head, body = parse_csv(out.folder / "tables" / "headline.csv")
    assert head == ["key", "indicator", "unit", *(str(r[0]) for r in rows)]
    assert [r[0] for r in body] == [k.key for k in keys()]
    for fields in body:
        j = columns.index(fields[0])
        assert all(same(f, r[j]) for f, r in zip(fields[3:], rows, strict=True)), fields[0]
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["headline"]
    by_key = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert by_key["total_tco2e"][1].value == "Total emissions" and by_key["total_tco2e"][2].value == "tCO2e"
    assert by_key["share_air_travel"][3].number_format == tables.SHARE  # each row its key's format
    assert by_key["personnel"][3].number_format == "#,##0"


def test_headline_units_say_what_the_values_are(out):
    """A 0-1 fraction is a 'share' (as keys.csv and the export's datapackage say), '%' only for a
    value in percent: one column must not hold 0.67 and 92.5 both as '%'."""
    from pipeline.indicators import keys

    kinds = {k.key: k.kind for k in keys()}
    head, body = parse_csv(out.folder / "tables" / "headline.csv")
    units = {r[0]: r[2] for r in body}
    assert units["share_facilities"] == units["offset_share"] == "share"
    assert units["per_capita_change_since_2010"] == "share" and units["reporting_coverage_percent"] == "%"
    assert {key for key, unit in units.items() if unit == "%"} == {k for k, kind in kinds.items() if kind == "percent"}
    coverage = next(r for r in body if r[0] == "reporting_coverage_percent")
    assert all(float(v) > 1 for v in coverage[3:] if v)  # in percent indeed (the fixture: 80-100 %)
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["headline"]
    by_key = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert by_key["share_facilities"][2].value == "share"
    assert by_key["share_facilities"][-1].number_format == tables.SHARE
    assert by_key["reporting_coverage_percent"][-1].number_format == "#,##0.0"  # 92.5 shown as 92.5


def test_entity_tables_end_with_the_system_row_as_totals(out, db):
    columns, [system] = view(db, "SELECT * FROM system_indicators WHERE year = ?", [YEAR])
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    for name, label in (
        ("entities", "Total (system-wide)"),
        ("waste", "Total of the entities reporting waste"),
        ("water", "Total of the entities reporting water"),
    ):
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        last = [c.value for c in ws[ws.max_row]]
        assert last[:2] == ["ALL", label] and ws[ws.max_row][0].font.b, name
        from pipeline.report.tables import header

        for column in ("personnel", "total_tco2e", "waste_tonnes", "water_m3", "per_capita_tco2e"):
            if header(column) in headers and not (column == "personnel" and name != "entities"):
                assert equal(last[headers.index(header(column))], system[columns.index(column)]), (name, column)
    head, body = parse_csv(out.folder / "tables" / "entities.csv")
    assert all(r[0] != "ALL" for r in body), "the CSV stays one row per entity"


def test_labels_stand_beside_codes(out):
    head, body = parse_csv(out.folder / "tables" / "entities.csv")
    rows = [dict(zip(head, r, strict=True)) for r in body]
    assert {r["entity_type_label"] for r in rows if r["entity_type"] == "fund_programme"} == {"Fund or programme"}
    head, body = parse_csv(out.folder / "tables" / "waste_treatment.csv")
    labels = dict((r[0], r[1]) for r in body)
    assert labels["landfill"].lower().startswith("landfill")
    head, body = parse_csv(out.folder / "tables" / "ems.csv")
    rows = [dict(zip(head, r, strict=True)) for r in body]
    assert all(bool(r["ems_status"]) == bool(r["ems_status_label"]) for r in rows)


def test_change_from_the_previous_year_in_table_and_factsheet(out, db):
    _, [(total, before)] = view(
        db,
        "SELECT a.total_tco2e, b.total_tco2e FROM entity_indicators a JOIN entity_indicators b "
        "ON b.entity_code = a.entity_code AND b.year = a.year - 1 WHERE a.entity_code = 'UNEP' AND a.year = ?",
        [YEAR],
    )
    head, body = parse_csv(out.folder / "tables" / "entities.csv")
    unep = dict(zip(head, next(r for r in body if r[0] == "UNEP"), strict=True))
    assert math.isclose(float(unep["total_change_previous_year"]), total / before - 1, rel_tol=1e-12)
    con = queries.open_report_db(db)
    try:
        series = queries.entity_series(con, YEAR)
    finally:
        con.close()
    labels = dict((label.split(",")[0], label) for _, label in factsheets.key_figures(series["UNEP"][-1]))
    expected = s.fmt_percent(total / before - 1, signed=True)
    assert labels["Total GHG emissions"].endswith(f", {expected} on {YEAR - 1}")
    first = series["UNEP"][0]  # 2010: no previous year, no change
    assert all(" on 20" not in label for _, label in factsheets.key_figures(first))


def test_completeness_page_names_the_missing(out, db):
    head, body = parse_csv(out.folder / "tables" / "completeness.csv")
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in body}
    assert rows["ITC"]["data_source"] == "missing" and rows["ITC"]["last_reported_year"] == "2018"
    assert rows["UNFCCC"]["data_source"] == "history" and rows["UNEP"]["data_source"] == "workbook"
    index = (out.folder / "index.md").read_text(encoding="utf-8")
    section = index.split("## Reporting completeness")[1].split("## Charts")[0]
    assert f"6 of 7 entities expected for {YEAR} reported (86 %)" in section
    assert "- ITC, International Trade Centre: last reported 2018" in section and "nothing received" in section
    assert "Coverage differs between years" in section
    # how much of it is estimated, from the view, in the section and in the tables' about sheet
    _, [(share, tonnes, entities)] = view(
        db,
        "SELECT estimated_share, estimated_tco2e, workbook_entities FROM estimated_emissions "
        "WHERE is_system AND year = ?",
        [YEAR],
    )
    assert 0 <= share < 1 and entities == 5  # UNFCCC's published totals say nothing of it
    said = f"Of the emissions in the {entities} entities that sent a workbook, {s.fmt_percent(share)} "
    said += f"({s.fmt_amount(tonnes)} tCO\u2082e) come from figures the entities marked as estimated"
    assert said in section
    about = [
        c
        for row in load_workbook(out.folder / f"tables_{YEAR}.xlsx").worksheets[0].iter_rows(values_only=True)
        for c in row
    ]
    assert any(isinstance(c, str) and said in c for c in about)


def test_trend_charts_note_years_of_different_coverage(db):
    con = queries.open_report_db(db)
    try:
        data = queries.load_report_data(con, YEAR)
        complete = queries.load_report_data(con, 2018)  # ITC still reported
    finally:
        con.close()
    note = charts.coverage_note(data)
    assert "not every expected entity reported in 2019\u20132024 (6 of 7 in 2024)" in note
    assert "6 to 7 entities reported per year" in note
    assert charts.coverage_note(complete) == ""
    with s.house_style():
        fig = charts.emissions_trend(data)
        assert any("Coverage differs" in t.get_text() for t in fig.texts)
        assert "6/7" in [t.get_text() for t in fig.axes[0].texts]
        fig = charts.emissions_trend(complete)
        assert not any("Coverage differs" in t.get_text() for t in fig.texts)


# --- a change of emission factor set between two years ------------------------------------------------
NEW_SET_FROM = 2025
EMISSIONS_NOTE = (
    "From 2025 air travel follows the ICAO calculator's method (factor set gtb-2026.1); 2019\u20132024 use "
    "gtb-2025.1, so the change between 2024 and 2025 is partly the method's."
)
RENEWABLE_NOTE = (
    "From 2025 renewable electricity includes the grid default, the country grid's renewable share of the electricity "
    "beyond an entity's own renewable figure (factor set gtb-2026.1); 2019\u20132024 use gtb-2025.1, so the change "
    "between 2024 and 2025 is partly the method's."
)
MARKED = (charts.emissions_trend, charts.offsets_trend, charts.renewable_trend)


@pytest.fixture(scope="module")
def sets_db(tmp_path_factory) -> Path:
    """The test warehouse with workbooks up to 2025, whose 2025 is calculated with the new factor set
    (UNFCCC's 2025 comes from published totals, which name no set)."""
    return build_warehouse(
        tmp_path_factory.mktemp("sets") / "gtb.duckdb", workbook_years=range(2019, 2026), new_set_from=NEW_SET_FROM
    )


def report_data(db: Path, year: int) -> queries.ReportData:
    con = queries.open_report_db(db)
    try:
        return queries.load_report_data(con, year)
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_sets(sets_db) -> queries.ReportData:
    return report_data(sets_db, NEW_SET_FROM)


@pytest.fixture(scope="module")
def two_set_pages(sets_db, two_sets) -> tuple[dict, tuple[int, ...], dict]:
    """Each entity's factsheet series, the report's years, and each entity's sources, under two sets."""
    con = queries.open_report_db(sets_db)
    try:
        series = queries.entity_series(con, NEW_SET_FROM)
        sources = queries.entity_sources(con, NEW_SET_FROM)
    finally:
        con.close()
    return series, tuple(r["year"] for r in two_sets.system), sources


@pytest.fixture(scope="module")
def one_set(db) -> queries.ReportData:
    return report_data(db, YEAR)


def all_text(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts).replace("\n", " ")


def dividers(ax) -> list[float]:
    """x of the vertical lines drawn between two years (the dividers of factor sets)."""
    return [float(line.get_xdata()[0]) for line in ax.lines if line.get_visible() and len(set(line.get_xdata())) == 1]


@pytest.mark.parametrize("chart", MARKED)
def test_a_change_of_factor_set_is_marked_where_the_trend_crosses_it(two_sets, chart):
    assert [r["year"] for r in two_sets.factor_set_changes()] == [NEW_SET_FROM]
    with s.house_style():
        fig = chart(two_sets)
    ax = fig.axes[0]
    assert dividers(ax) == [NEW_SET_FROM - 0.5]  # between the bars of 2024 and 2025
    assert "factor set gtb-2026.1 from 2025 \u2192" in [t.get_text() for t in ax.texts]
    note = RENEWABLE_NOTE if chart is charts.renewable_trend else EMISSIONS_NOTE
    assert note in all_text(fig)
    assert ("ICAO" in all_text(fig)) == (chart is not charts.renewable_trend)  # each chart says what bears on it


@pytest.mark.parametrize("chart", MARKED)
def test_the_divider_label_stays_clear_of_the_plot_and_the_legend(two_sets, chart):
    """The label sits in a band of its own above the plot area, under the legend, inside the figure."""
    with s.house_style():
        fig = chart(two_sets)
        renderer = FigureCanvasAgg(fig).get_renderer()
        ax = fig.axes[0]
        label = next(t for t in ax.texts if t.get_text().startswith("factor set")).get_window_extent(renderer)
        plot = ax.get_window_extent(renderer)
        legend = fig.legends[0].get_window_extent(renderer)
    assert plot.y1 <= label.y0 and label.y1 <= legend.y0
    assert label.x0 >= 0 and label.x1 <= fig.bbox.x1


@pytest.mark.parametrize("chart", [*MARKED, charts.water_trend])
def test_years_on_one_factor_set_have_no_divider_and_no_note(one_set, chart):
    assert one_set.factor_set_changes() == []
    with s.house_style():
        fig = chart(one_set)
    assert dividers(fig.axes[0]) == []
    assert not any(t.get_text().startswith("factor set") for t in fig.axes[0].texts)
    assert "method's" not in all_text(fig)


def test_water_is_not_marked_no_emission_factor_bears_on_it(two_sets):
    with s.house_style():
        fig = charts.water_trend(two_sets)
    assert dividers(fig.axes[0]) == [] and "method's" not in all_text(fig)


def test_renewable_chart_stacks_the_reported_share_and_the_grid_default(two_sets, sets_db):
    rows = [r for r in two_sets.system if r["renewable_electricity_share"] is not None]
    with s.house_style():
        fig = charts.renewable_trend(two_sets)
    reported, default = fig.axes[0].containers
    assert len(reported) == len(default) == len(rows) == NEW_SET_FROM - 2019 + 1
    for row, own, grid in zip(rows, reported, default, strict=True):
        assert own.get_height() == pytest.approx(row["renewable_share_reported"], rel=1e-12)
        assert grid.get_y() == pytest.approx(own.get_height(), rel=1e-12)  # stacked on the reported part
        assert own.get_height() + grid.get_height() == pytest.approx(row["renewable_electricity_share"], rel=1e-12)
    assert [bar.get_height() > 0 for bar in default] == [r["year"] >= NEW_SET_FROM for r in rows]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [part.label for part in charts.RENEWABLE_PARTS] and "on-site" not in legend[1]
    subtitle = fig.texts[1].get_text().replace("\n", " ")
    assert "on-site or purchased" not in subtitle
    reported, grid_default = s.renewable_part_labels(two_sets.this_year)
    assert f"{reported} reported by the entities and {grid_default} the grid default" in subtitle
    _, parts = view(
        sets_db,
        "SELECT max(abs(renewable_share_reported + renewable_share_grid_default - renewable_electricity_share)) "
        "FROM entity_indicators UNION ALL SELECT max(abs(renewable_share_reported + renewable_share_grid_default "
        "- renewable_electricity_share)) FROM system_indicators",
    )
    assert all(gap < 1e-12 for (gap,) in parts)  # the parts add up to the share, entity by entity too


def test_changes_across_factor_sets_are_cautioned_in_tables_text_and_factsheets(
    sets_db, two_sets, two_set_pages, out, tmp_path
):
    result = report(NEW_SET_FROM, sets_db, tmp_path)
    index = (result.folder / "index.md").read_text(encoding="utf-8")
    section = index.split("## Emission factor sets")[1].split("## Charts")[0]
    assert "From 2025 air travel follows the ICAO calculator's method and renewable electricity includes" in section
    assert "so the change between 2024 and 2025 is partly the method's" in section
    assert "## Emission factor sets" not in (out.folder / "index.md").read_text(encoding="utf-8")

    head, body = parse_csv(result.folder / "tables" / "entities.csv")
    flags = {r[0]: r[head.index("change_across_factor_sets")] for r in body}
    assert flags["UNEP"] == flags["WFP"] == "true" and flags["UNFCCC"] == "false"  # UNFCCC: published totals
    head, body = parse_csv(out.folder / "tables" / "entities.csv")
    assert {r[head.index("change_across_factor_sets")] for r in body} == {"false"}
    wb = load_workbook(result.folder / f"tables_{NEW_SET_FROM}.xlsx")
    headers = [c.value for c in wb["entities"][1]]
    column = headers.index("Change on previous year compares two factor sets (yes/no)")
    assert next(r for r in wb["entities"].iter_rows(min_row=2) if r[0].value == "UNEP")[column].value == "yes"
    assert "partly the method's" in wb["about"]["A2"].value

    series, years, _ = two_set_pages
    labels = [label for _, label in factsheets.key_figures(series["UNEP"][-1])]
    assert labels[1].endswith(f" on 2024{s.CHANGE_MARK}") and labels[3].endswith(f" on 2024{s.CHANGE_MARK}")
    assert build.sheet_note(series["UNEP"], NEW_SET_FROM, years) == f"{s.CHANGE_MARK} {EMISSIONS_NOTE}"
    assert not any(s.CHANGE_MARK in label for _, label in factsheets.key_figures(series["UNFCCC"][-1]))
    assert build.sheet_note(series["UNFCCC"], NEW_SET_FROM, years) == ""  # its years with a set: the old one only


def test_a_factsheet_marks_the_entitys_own_change_of_set_and_forgets_it_for_the_next(two_set_pages):
    series, years, _ = two_set_pages

    def draw(code: str) -> tuple[bytes, list[float], list[str]]:
        buffer = io.BytesIO()
        with s.house_style():
            fig = factsheets.factsheet(code, code, "", series[code], NEW_SET_FROM, "Source: test", years)
            fig.savefig(buffer, format="pdf", metadata=s.PDF_METADATA)
        trend = factsheets._PAGES[years].trend
        return buffer.getvalue(), dividers(trend), [t.get_text() for t in trend.texts if t.get_visible()]

    factsheets._PAGES.clear()
    _, lines, labels = draw("UNHCR")  # its 2025 is on the new set
    assert lines == [NEW_SET_FROM - 0.5] and labels == ["factor set gtb-2026.1 from 2025 \u2192"]
    factsheets._PAGES.clear()
    alone, lines, labels = draw("UNFCCC")  # 2025 from published totals: 2019-2024 all on the old set
    assert lines == [] and labels == []
    draw("UNEP")
    again, lines, labels = draw("UNFCCC")
    assert again == alone and lines == [] and labels == []


def test_a_factsheet_source_line_with_the_factor_set_note_stays_clear_of_more_figures(two_set_pages):
    """A draft page whose years come partly from published totals and span two factor sets: four lines
    of source under the 'More figures' block, which must not run into it."""
    series, years, sources = two_set_pages
    sets, history = sources["UNEP"]
    note = build.sheet_note(series["UNEP"], NEW_SET_FROM, years)
    source = s.source_line(NEW_SET_FROM, sets, history, draft=12, note=note)
    with s.house_style():
        fig = factsheets.factsheet("UNEP", "UNEP", "", series["UNEP"], NEW_SET_FROM, source, years)
        renderer = FigureCanvasAgg(fig).get_renderer()
        page = factsheets._PAGES[years]
        more, line = page.more.get_window_extent(renderer), page.source.get_window_extent(renderer)
    assert page.source.get_text().count("\n") + 1 == 4
    assert line.y1 < more.y0


# --- charts with NULLs ----------------------------------------------------------------------------------
def test_charts_leave_gaps_for_null_and_draw_history_only_years(db):
    con = queries.open_report_db(db)
    try:
        data = queries.load_report_data(con, 2015)  # history only: no scopes, EMS, renewables, treatment
        latest = queries.load_report_data(con, YEAR)
    finally:
        con.close()
    with s.house_style():
        for chart in charts.CHARTS:
            fig = chart.draw(data)
            assert fig.texts, chart.stem
        texts = [t.get_text() for ax in charts.renewable_trend(data).axes for t in ax.texts]
        assert "No data reported yet" in texts
        rows = [dict(r) for r in latest.system]
        rows[-3]["water_per_capita_m3"] = None  # a gap in the middle of the series
        gap = queries.ReportData(**{**latest.__dict__, "system": rows})
        ax = charts.water_trend(gap).axes[0]
        heights = [p.get_height() for p in ax.patches]
        assert len(heights) == YEAR - 2014 + 1  # from the first year with water (2014)
        assert math.isnan(heights[-3]) and 0.0 not in heights
        assert "n/a" in [t.get_text() for t in ax.texts]


# --- years without data, unknown personnel, a year of 0 t ------------------------------------------------
GAP = (2013, 2014, 2015)


@pytest.fixture(scope="module")
def gap_db(tmp_path_factory) -> Path:
    """Figures for 2010-2012 (published totals) and 2016-2018 (workbooks), none for 2013-2015; UNICEF
    is expected every year and never reported (its personnel is unknown)."""
    return build_warehouse(
        tmp_path_factory.mktemp("gap") / "gtb.duckdb",
        codes=("UNEP", "UNDP", "WFP"),
        history_years=range(2010, 2013),
        workbook_years=range(2016, 2019),
        awkward={},
        never_reporting=("UNICEF",),
    )


@pytest.fixture(scope="module")
def gap(gap_db) -> queries.ReportData:
    con = queries.open_report_db(gap_db)
    try:
        return queries.load_report_data(con, 2018)
    finally:
        con.close()


def test_years_without_data_are_named_in_the_notes(gap, gap_db, tmp_path):
    assert [r["year"] for r in gap.coverage] == list(range(2010, 2019))
    empty = [r for r in gap.coverage if r["year"] in GAP]
    assert all(r["entities_reporting"] == 0 and r["entities_expected"] == 4 for r in empty)
    note = charts.coverage_note(gap)
    assert "no data for 2013\u20132015 (no entity reported)" in note
    assert "not every expected entity reported in 2010\u20132012, 2016\u20132018 (3 of 4 in 2018)" in note
    result = report(2018, gap_db, tmp_path)
    index = (result.folder / "index.md").read_text(encoding="utf-8")
    assert "no data for 2013\u20132015" in index.split("## Charts")[0]


@pytest.mark.parametrize("chart", [charts.emissions_trend, charts.offsets_trend])
def test_trend_lines_break_at_years_without_data(gap, chart):
    """No interpolation across a gap: the line (right axis) has a point, NaN, for each year without
    data, and the year says 'no data' where its bar would be."""
    with s.house_style():
        fig = chart(gap)
    line = fig.axes[1].lines[0]
    xs, ys = list(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
    assert xs == list(range(2010, 2019))
    assert [x for x, y in zip(xs, ys, strict=True) if np.isnan(y)] == list(GAP)
    axis = fig.axes[0]
    assert [round(t.get_position()[0]) for t in axis.texts if t.get_text().strip() == "no data"] == list(GAP)
    assert [int(v) for v in axis.get_xticks()] == list(range(2010, 2019))


@pytest.mark.parametrize(("chart", "axis"), [(charts.offsets_trend, "y"), (charts.ems_status, "x")])
def test_counts_of_entities_have_whole_ticks(gap, chart, axis):
    """Three or four entities: the entity axis shows 0, 1, 2, 3, never 0.5 or 2.25 of an entity."""
    with s.house_style():
        fig = chart(gap)
    ticks = fig.axes[0].get_yticks() if axis == "y" else fig.axes[0].get_xticks()
    shown = [t for t in ticks if 0 <= t <= (fig.axes[0].get_ylim() if axis == "y" else fig.axes[0].get_xlim())[1]]
    assert len(shown) >= 2
    assert all(float(t).is_integer() for t in shown), shown


def test_unknown_personnel_of_the_missing_is_said_to_be_unknown(gap, out):
    """No missing entity has a personnel figure: the sentence says so and claims no coverage figure
    (the view's share would be 100 % of a known personnel of 0)."""
    line = next(x for x in build.completeness_lines(gap) if x.startswith("3 of 4 entities expected"))
    assert "the personnel of the missing entity is unknown" in line  # one missing: singular
    assert "had 0 personnel" not in line and "%" not in line.split("They count")[1]
    assert "1 missing entity has never reported" in line
    index = (out.folder / "index.md").read_text(encoding="utf-8")  # ITC reported until 2018: known
    assert "the missing entity had " in index and "in its latest year" in index and "of the known personnel" in index


def test_a_year_of_0_tco2e_draws_every_chart_without_warnings(tmp_path):
    """A workbook with empty activity sheets: every axis limit that came from the largest value was
    0 to 0 (singular), and matplotlib warned on stderr."""
    wh = Warehouse(tmp_path / "gtb.duckdb")
    wh.submission("UNEP", 2024, 200)
    wh.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = report(2024, tmp_path / "gtb.duckdb", tmp_path / "out")
    assert len(result.charts) == 2 * len(charts.CHARTS) and all(p.stat().st_size > 1000 for p in result.charts)
    assert (result.folder / "factsheets" / "UNEP.pdf").is_file()


def test_a_nearly_complete_offset_share_is_not_rounded_to_all(out, db):
    data = report_data(db, YEAR)
    rows = [dict(r) for r in data.system]
    rows[-1]["offset_share"] = 0.9997
    with s.house_style():
        fig = charts.offsets_trend(queries.ReportData(**{**data.__dict__, "system": rows}))
    subtitle = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert f"{YEAR}: >99 % offset" in subtitle and "100 % offset" not in subtitle


@pytest.mark.parametrize("share", [0.0, 0.02, 0.05, 0.09, 0.12, 0.15, 0.2, 0.3])
def test_no_count_of_climate_neutral_entities_lies_under_the_share_lines_marker(out, db, share):
    """A share of emissions offset as low as the counts at the foot of the bars (9 % in 2010 on
    the demo) put its marker on the count: each count moves down onto the axis, or above the
    marker, whatever the share."""
    data = report_data(db, YEAR)
    rows = [dict(r) for r in data.system]
    for r in rows:
        r["offset_share"], r["climate_neutral_entities"] = share, max(1, r["reporting_entities"] // 12)
    with s.house_style():
        fig = charts.offsets_trend(queries.ReportData(**{**data.__dict__, "system": rows}))
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax, line_ax = fig.axes[0], fig.axes[1]
    [line] = line_ax.get_lines()
    markers = line_ax.transData.transform(np.column_stack(line.get_data()))
    counts = [t for t in ax.texts if t.get_text().strip().isdigit()]
    assert len(counts) == len(rows)
    for text in counts:
        box = text.get_window_extent(renderer)
        assert box.y0 >= ax.transData.transform((0, 0))[1], "a count never reaches below the axis"
        for mx, my in markers:
            assert not (box.x0 <= mx <= box.x1 and box.y0 - 3 <= my <= box.y1 + 3), (text.get_text(), share)


# --- style ----------------------------------------------------------------------------------------------
def test_number_formatting_and_source_line():
    assert s.fmt_number(1234567.8) == "1,234,568" and s.fmt_number(None) == "\u2013"
    assert s.fmt_percent(0.223) == "22 %" and s.fmt_percent(-0.22, signed=True) == "\u221222 %"
    assert s.fmt_percent(0.003) == "<1 %" and s.fmt_percent(0.0) == "0 %"  # a sliver is not nothing
    assert s.fmt_percent(0.9997) == ">99 %" and s.fmt_percent(0.995) == ">99 %"  # nearly all is not all
    assert s.fmt_percent(0.99997, 1) == ">99.9 %" and s.fmt_percent(0.9997, 2) == "99.97 %"
    assert s.fmt_percent(1.0) == "100 %" and s.fmt_percent(0.994) == "99 %" and s.fmt_percent(1.2) == "120 %"
    assert s.thousands()(2.5, 0) == "2.5" and s.thousands(scale=1000)(1_500_000, 0) == "1,500"
    line = s.source_line(2024, ["gtb-2025.1"], range(2010, 2019), [2024])
    assert line.startswith("Source: Greening the Blue inventory pipeline, data year 2024; emission factors gtb-2025.1")
    assert "2010\u20132018" in line and "some entities in 2024" in line


def test_small_amounts_never_print_as_0():
    """'Unknown 0 t (3 %)' for 0.185 t, 2.29 t and 1.91 t both '2 t', '95 % of 0 GWh' for 30,710 kWh."""
    assert s.fmt_amount(0.186) == "0.19" and s.fmt_amount(0.0004) == "0.0004" and s.fmt_amount(-0.186) == "-0.19"
    assert (s.fmt_amount(2.289), s.fmt_amount(1.908)) == ("2.3", "1.9")  # two figures that differ stay apart
    assert s.fmt_amount(7.0) == "7" and s.fmt_amount(7.0, 1) == "7.0" and s.fmt_amount(0.04, 1) == "0.04"
    assert s.fmt_amount(9.96) == "10" and s.fmt_amount(10.4) == "10" and s.fmt_amount(10.4, 1) == "10.4"
    assert s.fmt_amount(1234567.8) == "1,234,568" and s.fmt_amount(0) == "0"  # ordinary sizes look as before
    assert s.fmt_amount(None) == s.fmt_amount(math.nan) == "\u2013"
    assert s.fmt_amount(5e-324) == "<0.0001" and s.fmt_amount(-0.0) == "0", "no 327 digits, no '-0'"
    assert s.fmt_energy(30_710) == "31 MWh" and s.fmt_energy(4_310_000) == "4.3 GWh"
    assert s.fmt_energy(12_345_678) == "12 GWh" and s.fmt_energy(999_600) == "1 GWh" and s.fmt_energy(512) == "512 kWh"
    assert s.fmt_energy(None) == "\u2013"


def test_a_small_system_prints_its_amounts_and_not_0(one_set):
    """A draft early in a cycle with one small entity: chart 08 said '95 % of 0 GWh', chart 05
    'Unknown 0 t (3 %)'."""
    rows = [dict(r) for r in one_set.system]
    rows[-1].update(electricity_kwh=30_710.0, renewable_electricity_share=0.95, renewable_share_grid_default=0.0)
    rows[-1].update(waste_tonnes=4.384, renewable_share_reported=0.95)
    tonnes = {"landfill": 2.289, "recycling": 1.908, "unknown": 0.187}
    waste = [
        {**r, "waste_tonnes": tonnes[code], "share_of_waste": tonnes[code] / 4.384}
        for r in one_set.waste
        if (code := r["treatment_code"]) in tonnes
    ]
    assert len(waste) == 3, [r["treatment_code"] for r in one_set.waste]
    small = queries.ReportData(**{**one_set.__dict__, "system": rows, "waste": waste})
    with s.house_style():
        renewable = charts.renewable_trend(small)
        treated = charts.waste_by_treatment(small)
    assert f"{YEAR}: 95 % of 31 MWh." in renewable.texts[1].get_text().replace("\n", " ")
    labels = sorted(t.get_text().strip() for t in treated.axes[0].texts)
    assert [label.split(" t (")[0] for label in labels] == ["0.19", "1.9", "2.3"], labels
    assert treated.texts[1].get_text().startswith("4.4 t of waste")


def test_waste_or_water_a_workbook_left_out_is_not_reported_and_published_totals_have_no_detail():
    workbook = factsheets.more_figures({"data_source": "workbook", "water_m3": None, "waste_tonnes": 12.0})
    assert workbook[3] == "not reported" and workbook[2].startswith("12.0 t")
    history = factsheets.more_figures({"data_source": "history", "estimated_share": 0.5})
    assert history[2] == history[3] == "\u2013" and history[-1] == "published totals (no detail)"
    assert workbook[-1] == "submission workbook"  # no emission: no share
    measured = factsheets.more_figures({"data_source": "workbook", "estimated_share": 0.264})
    assert measured[-1] == "submission workbook, 26 % of emissions from estimated figures"


def test_renewable_parts_add_up_to_the_share_shown(two_sets):
    """'62 % (51 % reported, 12 % grid default)': 62.08 %, 50.56 % and 11.52 % rounded each on its own."""
    assert s.share_labels([0.5056, 0.1152], whole=0.6208) == ["51 %", "11 %"]
    assert s.share_labels([0.0952, 0.0048], whole=0.1) == ["10 %", "<1 %"]  # a sliver keeps its bound
    assert s.share_labels([0.5056, 0.1152], 1, whole=0.6208) == ["50.6 %", "11.5 %"]
    assert s.share_labels([0.5, 0.2], whole=0.6208) == ["50 %", "20 %"]  # parts of another whole: each its own
    now = {"renewable_electricity_share": 0.6208, "renewable_share_reported": 0.5056}
    now["renewable_share_grid_default"] = 0.1152
    assert factsheets.more_figures(now)[1] == "62 % (51 % reported, 11 % grid default)"
    for total, reported in ((0.1, 0.025), (0.93, 0.914), (0.74, 0.675), (0.24, 0.025), (0.995, 0.5)):
        now = {"renewable_electricity_share": total, "renewable_share_reported": reported}
        now["renewable_share_grid_default"] = total - reported
        shown = [float(x.rstrip(" %")) for x in s.renewable_part_labels(now)]
        assert sum(shown) == round(total * 100), (total, reported, shown)
    rows = [dict(r) for r in two_sets.system]
    rows[-1].update(renewable_electricity_share=0.6208, renewable_share_reported=0.5056)
    rows[-1]["renewable_share_grid_default"] = 0.1152
    with s.house_style():
        fig = charts.renewable_trend(queries.ReportData(**{**two_sets.__dict__, "system": rows}))
    subtitle = fig.texts[1].get_text().replace("\n", " ")
    assert "62 % of " in subtitle and "51 % reported by the entities and 11 % the grid default" in subtitle


# --- errors and the command -------------------------------------------------------------------------------
def test_a_year_between_years_with_data_is_not_said_to_be_available(tmp_path, capsys):
    """Data for 2023 and 2025: 'no data for 2024 ... (years available: 2023-2025)' contradicted itself."""
    from pipeline.report.export import export

    wh = Warehouse(tmp_path / "gtb.duckdb")
    wh.submission("UNEP", 2023, 200)
    wh.submission("UNEP", 2025, 200)
    wh.close()
    for write in (report, export):
        with pytest.raises(GtbError, match=r"no data for 2024 .*\(years available: 2023, 2025\)$"):
            write(2024, tmp_path / "gtb.duckdb", tmp_path / "out")
    assert cli.main(["report", "--year", "2024", "--db", str(tmp_path / "gtb.duckdb")]) == 2
    assert "years available: 2023, 2025)" in capsys.readouterr().err


def test_year_without_data_is_a_one_line_error(db, tmp_path, capsys):
    with pytest.raises(GtbError, match="no data for 2031"):
        report(2031, db, tmp_path)
    assert cli.main(["report", "--year", "2031", "--db", str(db), "--outputs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2031" in err
    assert cli.main(["report", "--year", "2024", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


# --- tables that print and read whole ---------------------------------------------------------------------
def test_the_about_sheet_wraps_its_source_across_both_columns(out):
    """The source (draft notice, factor sets: several hundred characters) unwrapped in A2 made the
    sheet as wide as many pages, and fitting it to the page width shrank it to a quarter."""
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["about"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    width = ws.column_dimensions["A"].width + ws.column_dimensions["B"].width
    for row in (2, 3):
        cell = ws.cell(row=row, column=1)
        assert cell.alignment.wrap_text and f"A{row}:B{row}" in merged, row
        assert ws.row_dimensions[row].height >= 15 * math.ceil(len(cell.value) / (width * 1.1)), row
    assert len(ws["A2"].value) > width  # the source is longer than a line: it does wrap
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1


def test_headers_and_long_texts_wrap_in_rows_as_high_as_they_need(out):
    """A header as long as 'Change on previous year compares two factor sets (yes/no)' in a column 14
    wide lost its last lines in a 45 pt row; an entity name of 70 characters ran into the next column."""
    from pipeline.report import tables

    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    for name in SHEETS[1:]:
        ws = wb[name]
        most = 1
        for cell in ws[1]:
            width = ws.column_dimensions[cell.column_letter].width
            assert cell.alignment.wrap_text, (name, cell.value)
            assert max(len(w) for w in cell.value.split()) <= width, (name, cell.value)  # no word is cut
            most = max(most, math.ceil(len(cell.value) / width))
        assert ws.row_dimensions[1].height >= 15 * most, name
    ws = wb["entities"]
    assert ws.column_dimensions["B"].width <= tables.TEXT_WIDTH_MAX
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "UNFCCC")
    name = row[1].value
    assert len(name) > tables.TEXT_WIDTH_MAX
    assert row[1].alignment.wrap_text and row[1].alignment.vertical == "top"
    assert ws.row_dimensions[row[0].row].height >= 15 * math.ceil(len(name) / ws.column_dimensions["B"].width)
    assert row[3].alignment.vertical == "top"  # its figures stand beside the name's first line


def printed_scale(ws) -> float:
    """The scale a sheet prints at: fitted to one page wide, the printable width over the columns'."""
    if not ws.sheet_properties.pageSetUpPr.fitToPage:
        return (ws.page_setup.scale or 100) / 100
    columns = sum((d.width * 7 + 5) * 0.75 for d in ws.column_dimensions.values())
    printable = 11.69 * 72 - (ws.page_margins.left + ws.page_margins.right) * 72
    return min(1.0, printable / columns)


def test_wide_sheets_print_over_several_pages_readable_with_their_key_repeated(out):
    """The 37 columns of the system sheet fitted to one landscape page printed at about a quarter of
    their size: every sheet now prints at 70 % or more, a wide one over several pages wide with the
    header row and its first column (the year, the entity) on each page."""
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    for name in SHEETS[1:]:
        ws = wb[name]
        assert printed_scale(ws) >= 0.7, name
        assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape", name
    system = wb["system"]
    assert not system.sheet_properties.pageSetUpPr.fitToPage and system.print_title_cols == "$A:$A"
    assert wb["ems"].sheet_properties.pageSetUpPr.fitToPage  # a narrow sheet stays one page wide


def test_the_completeness_header_covers_missing(out):
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    ws = wb["completeness"]
    headers = [c.value for c in ws[1]]
    head, body = parse_csv(out.folder / "tables" / "completeness.csv")
    column = head.index("data_source")
    values = {r[column] for r in body}
    assert values == {"workbook", "history", "missing"}
    assert all(v in headers[column] for v in values), headers[column]
    entities = [c.value for c in wb["entities"][1]]
    assert "Data source (workbook / history)" in entities  # no entity of that table is missing


def test_waste_and_water_totals_rows_add_up(out, db):
    """The per-capita figure of the totals row divides by the personnel of the entities that reported
    the resource (UNHCR reports neither): the row shows that personnel, not the system's."""
    from pipeline.report.tables import header

    _, [(personnel,)] = view(db, "SELECT personnel FROM system_indicators WHERE year = ?", [YEAR])
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    for name, amount, per_capita, factor in (
        ("waste", "waste_tonnes", "waste_per_capita_kg", 1000),
        ("water", "water_m3", "water_per_capita_m3", 1),
    ):
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        p, a, c = (headers.index(header(k)) for k in ("personnel", amount, per_capita))
        rows = [[cell.value for cell in r] for r in ws.iter_rows(min_row=2, max_row=ws.max_row - 1)]
        total = [cell.value for cell in ws[ws.max_row]]
        assert total[p] == sum(r[p] for r in rows if r[a] is not None) < personnel, name
        assert math.isclose(total[a] * factor / total[p], total[c], rel_tol=1e-12), name


# --- charts: who a figure rests on, labels clear of lines ------------------------------------------------
def test_the_water_chart_says_who_its_bars_rest_on(one_set):
    """Water per capita is of the entities that reported water (not UNHCR): each bar says how many of
    those that reported did, and the note which year rests on the least personnel, instead of how
    many entities reported emissions."""
    with s.house_style():
        fig = charts.water_trend(one_set)
    marks = [t.get_text() for t in fig.axes[0].texts if "/" in t.get_text()]
    resources = {r["year"]: r for r in one_set.resources}
    water_years = [r["year"] for r in one_set.system if r["water_per_capita_m3"] is not None]
    assert marks == [f"{resources[y]['water_entities']}/{resources[y]['reporting_entities']}" for y in water_years]
    assert marks[-1] == "5/6"
    note = all_text(fig)
    assert "Fewer entities report water than emissions" in note and "of the personnel" in note
    assert "entities reported per year" not in note
    with s.house_style():
        waste = all_text(charts.waste_by_treatment(one_set))
    assert f"5 of the 6 entities reporting emissions for {YEAR} reported waste" in waste


def test_the_coverage_label_of_a_bar_stands_clear_of_the_per_capita_marker(one_set):
    """The right axis is drawn over the left: a per-capita marker just above a bar covered its 'n/m'."""
    rows = [dict(r) for r in one_set.system]
    i = next(k for k, r in enumerate(rows) if r["year"] == 2022)
    for key in ("facilities_tco2e", "air_travel_tco2e", "other_travel_tco2e", "total_tco2e"):
        rows[i][key] /= 2
    data = queries.ReportData(**{**one_set.__dict__, "system": rows})
    with s.house_style():
        fig = charts.emissions_trend(data)
        ax, ax2 = fig.axes[0], fig.axes[1]
        height_pt = ax.get_position().height * fig.get_size_inches()[1] * 72
        line_top = ax2.get_ylim()[1]
        # the marker 4 pt above the bar's top: in the middle of a label standing on the bar
        rows[i]["per_capita_tco2e"] = (rows[i]["total_tco2e"] / ax.get_ylim()[1] + 4 / height_pt) * line_top
        fig = charts.emissions_trend(data)
        ax, ax2 = fig.axes[0], fig.axes[1]
        assert ax2.get_ylim()[1] == line_top
        renderer = FigureCanvasAgg(fig).get_renderer()
        label = next(
            t for t in ax.texts if t.get_text() == "6/7" and getattr(t, "xy", t.get_position())[0] == 2022
        ).get_window_extent(renderer)
        line = ax2.lines[0]
        xs, ys = ax2.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()])).T
    marker_x, marker_y = xs[i], ys[i]
    radius = 4 * fig.dpi / 72
    nearest_x = min(max(marker_x, label.x0), label.x1)
    nearest_y = min(max(marker_y, label.y0), label.y1)
    assert math.hypot(marker_x - nearest_x, marker_y - nearest_y) > radius
    for x in (label.x0, label.x1):  # the line runs under the label, not through it
        assert np.interp(x, xs, ys) < label.y0


def test_per_capita_labels_stand_on_white_over_the_system_line(one_set):
    """The dashed UN-system line ran through the value labels near it ('3.1' beside 3.54)."""
    with s.house_style():
        fig = charts.per_capita_by_entity(one_set)
    ax = fig.axes[0]
    (line,) = [x for x in ax.lines if x.get_linestyle() != "-"]
    labels = [t for t in ax.texts if t.get_text().replace(".", "").strip().isdigit()]
    assert len(labels) == len(one_set.ranked)
    for label in labels:
        box = label.get_bbox_patch()
        assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0), label.get_text()
        assert label.get_zorder() > line.get_zorder()


# --- factsheets: signs, years, entities without emissions -------------------------------------------------
def test_a_small_change_keeps_its_sign(db):
    assert s.fmt_percent(-0.0019, signed=True) == "\u2212<1 %" and s.fmt_percent(0.0019, signed=True) == "+<1 %"
    assert s.fmt_percent(-0.0019, 1, signed=True) == "\u22120.2 %" and s.fmt_percent(-0.0019) == "<1 %"
    assert s.fmt_percent(-0.9997, signed=True) == "\u2212>99 %"  # fell by nearly all, not to nothing
    assert s.fmt_percent(0.9997, signed=True) == "+100 %"  # a rise is not bounded by 100 %
    assert s.fmt_percent(0.9997) == ">99 %" and s.fmt_percent(0.0, signed=True) == "0 %"
    con = queries.open_report_db(db)
    try:
        now = dict(queries.entity_series(con, YEAR)["UNEP"][-1])
    finally:
        con.close()
    now["total_change_previous_year"] = -0.0019
    labels = [label for _, label in factsheets.key_figures(now)]
    assert labels[1].endswith(f", \u2212<1 % on {YEAR - 1}")


def test_a_factsheet_of_one_year_names_the_year_once(db):
    con = queries.open_report_db(db)
    try:
        rows = queries.entity_series(con, YEAR)["UNEP"][-1:]
    finally:
        con.close()
    factsheets._PAGES.clear()
    with s.house_style():
        factsheets.factsheet("UNEP", "UNEP", "", rows, YEAR, "Source: test")
    assert factsheets._PAGES[(YEAR,)].trend_heading.get_text() == f"Emissions by source, {YEAR}"


def test_a_factsheet_trend_starts_with_the_entity_and_marks_the_years_it_missed(db, tmp_path):
    """UNEP expected from 2019 (no earlier figures) and without a loaded 2021: its axis runs 2019-2024,
    not 2010-2024 with nine empty slots, and 2021 says 'not reported'."""
    copy = tmp_path / "gtb.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute("UPDATE entities SET expected_from = 2019 WHERE entity_code = 'UNEP'")
        con.execute("DELETE FROM history_totals WHERE entity_code = 'UNEP'")
        con.execute("UPDATE submissions SET status = 'rejected' WHERE entity_code = 'UNEP' AND reporting_year = 2021")
    finally:
        con.close()
    factsheets._PAGES.clear()
    report(YEAR, copy, tmp_path / "out")
    years = tuple(range(2019, YEAR + 1))
    page = factsheets._PAGES[years]  # UNEP's page, the only entity starting in 2019
    assert page.trend_heading.get_text() == f"Emissions by source, 2019\u2013{YEAR}"
    assert [int(x) for x in page.trend.get_xticks()] == list(years)
    marked = [
        round(t.get_position()[0]) for t in page.trend.texts if t.get_visible() and "not reported" in t.get_text()
    ]
    assert marked == [2021]
    others = factsheets._PAGES[tuple(range(2010, YEAR + 1))]  # WFP: figures from 2010, every year
    assert not [t for t in others.trend.texts if t.get_visible() and "not reported" in t.get_text()]


def test_an_entity_without_emissions_is_said_to_have_none(tmp_path):
    wh = Warehouse(tmp_path / "gtb.duckdb")
    wh.submission("UNEP", 2024, 200)
    wh.close()
    con = queries.open_report_db(tmp_path / "gtb.duckdb")
    try:
        rows = queries.entity_series(con, 2024)["UNEP"]
    finally:
        con.close()
    factsheets._PAGES.clear()
    with s.house_style():
        factsheets.factsheet("UNEP", "UNEP", "", rows, 2024, "Source: test")
    page = factsheets._PAGES[(2024,)]
    shown = [t.get_text() for t in page.trend.texts if t.get_visible()]
    assert shown == [factsheets.ZERO]  # reported, of nothing: said once, never 'No emissions reported'
    assert not any(label.get_visible() for label in page.trend.get_yticklabels() if label.get_text())
    assert page.split_empty.get_text() == factsheets.ZERO == "0 tCO\u2082e reported"
    value, label = factsheets.key_figures(rows[-1])[5]
    assert label == f"Climate neutral: {factsheets.ZERO}, none to offset" and "\u2013" not in label


# --- names, coverage, shares, zero, plurals and decimals as the report shows them -------------------------
LONG_NAME = (
    "United Nations International Computing Centre for Information and Communications Technology Services, "
    "Digital Transformation, Cyber Security and Hosting of Shared Platforms Across the UN System (Geneva, "
    "Valencia, New York, Bangkok)"
)


def draw_page(code: str, name: str, rows: list, year: int, source: str = "Source: test") -> factsheets.FactsheetPage:
    factsheets._PAGES.clear()
    with s.house_style():
        fig = factsheets.factsheet(code, name, "", rows, year, source)
        fig.savefig(io.BytesIO(), format="pdf", metadata=s.PDF_METADATA)  # drawn as written: glyphs and all
    return factsheets._PAGES[(year,)]


def band_and_name(page: factsheets.FactsheetPage) -> tuple[float, float, float]:
    """(the band's lower edge, the name's lowest and rightmost pixel), in the page's pixels."""
    renderer = FigureCanvasAgg(page.fig).get_renderer()
    box = page.name.get_window_extent(renderer)
    height, width = page.fig.bbox.height, page.fig.bbox.width
    return height * (1 - factsheets.HEADER_IN / factsheets.HEIGHT_IN), box.y0, box.x1 / width


@pytest.mark.parametrize("repeat", [1, 4])
def test_a_long_entity_name_is_readable_inside_the_header_band(db, repeat):
    """The name was cut to 3 lines without an ellipsis, its last line on the band's edge: it shrinks
    to fit the band, and one too long even then ends with an ellipsis and stands in full on the page."""
    con = queries.open_report_db(db)
    try:
        rows = queries.entity_series(con, YEAR)["UNEP"][-1:]
    finally:
        con.close()
    name = " ".join([LONG_NAME] * repeat)
    page = draw_page("UNICC", name, rows, YEAR)
    edge, bottom, right = band_and_name(page)
    assert bottom > edge + 0.05 * page.fig.dpi  # clear of the band's lower edge
    assert right < 1 - factsheets.MARGIN_IN / factsheets.WIDTH_IN + 1e-3  # within the right margin
    shown = page.name.get_text()
    if repeat == 1:
        assert " ".join(shown.split()) == name and factsheets.ELLIPSIS not in shown
        assert page.name.get_fontsize() >= factsheets.NAME_SIZES[-1]
    else:
        assert shown.endswith(factsheets.ELLIPSIS)
        assert name in " ".join(page.source.get_text().split())  # the full name elsewhere on the page
        renderer = FigureCanvasAgg(page.fig).get_renderer()
        assert page.source.get_window_extent(renderer).y1 < page.more.get_window_extent(renderer).y0
    short = draw_page("UNEP", "United Nations Environment Programme", rows, YEAR)
    assert short.name.get_fontsize() == factsheets.NAME_SIZES[0]  # a usual name keeps the large size


def test_an_emoji_in_a_name_is_a_visible_placeholder_without_a_warning(db):
    con = queries.open_report_db(db)
    try:
        rows = queries.entity_series(con, YEAR)["UNEP"][-1:]
    finally:
        con.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's 'Glyph ... missing from font(s)' is a warning
        page = draw_page("UNAIDS", "Joint Programme \U0001f30d\U0001f397\ufe0f UNAIDS", rows, YEAR)
    assert page.name.get_text() == f"Joint Programme {s.PLACEHOLDER}{s.PLACEHOLDER} UNAIDS"
    assert s.printable("Programme commun \u00e9tabli, \u0628\u0631\u0646\u0627\u0645\u062c") == (
        "Programme commun \u00e9tabli, \u0628\u0631\u0646\u0627\u0645\u062c"  # glyphs the font has stay
    )


def test_every_chart_of_the_year_and_the_about_sheet_state_coverage_against_the_expected(one_set, out, db):
    """Only the trend charts said who reported of those expected; the charts of the year and the
    tables said nothing. The count is the completeness view's."""
    _, ((reported, expected),) = view(
        db, "SELECT entities_reporting_expected, entities_expected FROM completeness_by_year WHERE year = ?", [YEAR]
    )
    said = f"{reported} of {expected} expected entities reported for {YEAR}"
    assert reported < expected
    with s.house_style():
        for chart in charts.CHARTS:
            text = all_text(chart.draw(one_set))  # the trends: '(6 of 7 in 2024)' in their coverage note
            assert said in text or f"({reported} of {expected} in {YEAR})" in text, chart.stem
        water = all_text(charts.water_trend(one_set))
        ems = all_text(charts.ems_status(one_set))
    resources = next(r for r in one_set.resources if r["year"] == YEAR)
    assert said in water  # against the expected, and its bars against those that reported
    assert f"{resources['water_entities']} of the {resources['reporting_entities']} entities that reported" in water
    assert said in ems and "the bars count the entities that reported" in ems
    about = " ".join(str(c) for r in load_workbook(out.folder / f"tables_{YEAR}.xlsx")["about"].values for c in r if c)
    assert said in about and "completeness sheet" in about


def test_shares_shown_side_by_side_add_to_100(one_set, db):
    """55.8/24.7/19.5 % were labelled 56/25/20 (101 %) beside a legend of 55.8/24.7/19.5."""
    assert s.share_labels([0.558, 0.247, 0.195]) == ["56 %", "25 %", "19 %"]
    assert s.share_labels([0.558, 0.247, 0.195], 1) == ["55.8 %", "24.7 %", "19.5 %"]
    assert s.share_labels([0.004, 0.5, 0.496]) == ["<1 %", "50 %", "50 %"]  # a sliver keeps its bound
    assert s.share_labels([None, 0.5, 0.5]) == ["\u2013", "50 %", "50 %"]
    rows = [dict(r) for r in one_set.system]
    total = rows[-1]["total_tco2e"]
    for src, share in zip(s.SOURCES, (0.558, 0.247, 0.195), strict=True):
        rows[-1][f"share_{src}"], rows[-1][f"{src}_tco2e"] = share, share * total
    with s.house_style():
        fig = charts.source_split(queries.ReportData(**{**one_set.__dict__, "system": rows}))
    bars = [float(t.get_text().rstrip(" %")) for t in fig.axes[0].texts]
    legend = [float(t.get_text().split(": ")[1].split(" %")[0]) for t in fig.axes[0].get_legend().get_texts()]
    assert len(bars) == 3 and sum(bars) == 100 and round(sum(legend), 6) == 100
    assert all(abs(b - v) < 1 for b, v in zip(bars, legend, strict=True))  # the same shares, rounded
    con = queries.open_report_db(db)
    try:
        now = dict(queries.entity_series(con, YEAR)["UNEP"][-1])
    finally:
        con.close()
    for src, share in zip(s.SOURCES, (0.558, 0.245, 0.197), strict=True):
        now[f"share_{src}"] = share
    page = draw_page("UNEP", "UNEP", [now], YEAR)
    shown = [t.get_text() for t in page.split_texts.values()]
    assert sum(float(x.rstrip(" %")) for x in shown) == 100
    assert factsheets.key_figures(now)[2][0] == shown[1]  # the air travel tile is the split's figure


def test_an_entity_of_0_tco2e_says_so_and_its_change_of_factor_set_is_marked(sets_db, tmp_path):
    """UNEP's 2025 workbook with every emissions sheet empty: its year is '0 tCO2e reported' (not
    'no emissions reported', not a blank slot) and its change from 2024 crosses the change of set
    like every other entity's."""
    copy = tmp_path / "gtb.duckdb"
    copy.write_bytes(sets_db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            """DELETE FROM emissions WHERE submission_id IN (SELECT submission_id FROM submissions
               WHERE entity_code = 'UNEP' AND reporting_year = ?)""",
            [NEW_SET_FROM],
        )
    finally:
        con.close()
    con = queries.open_report_db(copy)
    try:
        series = queries.entity_series(con, NEW_SET_FROM)
        data = queries.load_report_data(con, NEW_SET_FROM)
        # the indicator views themselves say so, for every reader (the notebook, the export)
        [(crossed,)] = con.execute(
            "SELECT change_across_factor_sets FROM entity_change WHERE entity_code = 'UNEP' AND year = ?",
            [NEW_SET_FROM],
        ).fetchall()
    finally:
        con.close()
    assert crossed is True
    rows, years = series["UNEP"], tuple(r["year"] for r in data.system)
    assert rows[-1]["total_tco2e"] == 0
    labels = [label for _, label in factsheets.key_figures(rows[-1])]
    assert labels[1].endswith(f" on 2024{s.CHANGE_MARK}")  # as any entity whose years span two sets
    assert build.sheet_note(rows, NEW_SET_FROM, years).startswith(f"{s.CHANGE_MARK} From 2025")
    factsheets._PAGES.clear()
    with s.house_style():
        factsheets.factsheet("UNEP", "UNEP", "", rows, NEW_SET_FROM, "Source: test", years)
    page = factsheets._PAGES[years]
    slot = [t for t in page.trend.texts if t.get_visible() and t.get_position()[0] == NEW_SET_FROM]
    assert [t.get_text().strip() for t in slot] == [factsheets.ZERO]
    assert dividers(page.trend) == [NEW_SET_FROM - 0.5]
    assert page.split_empty.get_text() == factsheets.ZERO and "No emissions" not in page.split_empty.get_text()


def test_index_counts_agree_with_their_nouns(out, gap):
    index = (out.folder / "index.md").read_text(encoding="utf-8")
    assert " 1 rows)" not in index and " 1 entities" not in index and "1 missing entities" not in index
    assert s.plural(1, "entity", "entities") == "1 entity" and s.plural(0, "row") == "0 rows"
    assert "1 of 1 entities" not in " ".join(build.completeness_lines(gap))


def test_per_capita_has_one_rule_of_decimals_in_charts_factsheets_and_tables(out, one_set, db):
    """The workbook showed 3.54 where charts and factsheets showed 3.5."""
    decimals = s.PER_CAPITA_DECIMALS
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["entities"]
    headers = [c.value for c in ws[1]]
    fmt = ws.cell(row=2, column=headers.index("Emissions per capita (tCO2e/person)") + 1).number_format
    assert fmt.split(".")[1] == "0" * decimals if decimals else "." not in fmt
    ws = load_workbook(out.folder / f"tables_{YEAR}.xlsx")["water"]
    headers = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=len(headers)).number_format == fmt
    with s.house_style():
        ranked = charts.per_capita_by_entity(one_set)
        water = charts.water_trend(one_set)
    values = [t.get_text() for t in ranked.axes[0].texts if t.get_text()[:1].isdigit()]
    values += [t.get_text() for t in water.axes[0].texts if t.get_text()[:1].isdigit() and "/" not in t.get_text()]
    assert values and all(len(v.split(".")[1]) == decimals for v in values), values
    con = queries.open_report_db(db)
    try:
        now = queries.entity_series(con, YEAR)["UNEP"][-1]
    finally:
        con.close()
    tile = factsheets.key_figures(now)[3][0]
    assert len(tile.split(".")[1]) == decimals


def test_a_rerun_removes_its_own_stale_factsheets_and_keeps_other_files(db, tmp_path):
    """`gtb report` deleted every PDF in factsheets/ it did not write this run: an analyst's signed
    copy put there was gone. It removes only pages of its own: those its previous index.md listed and
    those named for an entity of the warehouse (ITC: no data in 2024)."""
    sheets = tmp_path / "report" / str(YEAR) / "factsheets"
    sheets.mkdir(parents=True)
    kept = {"UNEP_signed_by_director.pdf": b"%PDF-1.4 signed", "notes.txt": b"mine"}
    for name, content in kept.items():
        (sheets / name).write_bytes(content)
    (sheets / "ITC.pdf").write_bytes(b"%PDF-1.4 a page of 2023")  # an entity without data this year
    (sheets / "GONE.pdf").write_bytes(b"%PDF-1.4 an entity the warehouse no longer has")
    (sheets.parent / "index.md").write_text("- `factsheets/GONE.pdf`\n- `factsheets/../x.pdf`\n", encoding="utf-8")
    result = report(YEAR, db, tmp_path)
    assert sorted(p.name for p in sheets.iterdir()) == sorted([f"{c}.pdf" for c in IN_YEAR] + list(kept))
    assert all((sheets / name).read_bytes() == content for name, content in kept.items())
    assert [p.name for p in result.factsheets] == [f"{c}.pdf" for c in IN_YEAR]
    assert build.listed_factsheets(result.folder) == {f"{c}.pdf" for c in IN_YEAR}  # what the next run may remove


@pytest.mark.parametrize("view", ["estimated_emissions", "year_factor_sets"])
def test_views_of_an_older_version_are_met_with_run_gtb_run_first(db, tmp_path, view):
    """A warehouse whose views were made before a view was added (estimated_emissions, say) is told
    to run `gtb run`, not met with the database's error at the first table that reads it."""
    import shutil

    old = tmp_path / "old.duckdb"
    shutil.copy(db, old)
    with duckdb.connect(str(old)) as con:
        con.execute(f"DROP VIEW {view}")
    with pytest.raises(GtbError, match=r"no usable indicator views .*run `gtb run` first"):
        report(YEAR, old, tmp_path / "out")


def test_a_report_stopped_while_it_draws_leaves_every_earlier_file_whole(db, tmp_path, monkeypatch):
    """Charts, factsheets, CSVs and index.md were written straight to their names: Ctrl-C or a kill
    while one was being drawn left it empty or cut (a PNG of 0 bytes, a PDF without its end) where
    a good one was, and index.md still listed it."""
    from matplotlib.figure import Figure

    report(YEAR, db, tmp_path, jobs=1)
    folder = tmp_path / "report" / str(YEAR)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert any(p.suffix == ".pdf" for p in before) and any(p.suffix == ".png" for p in before)
    drawn = Figure.savefig
    calls = []

    def stopped_midway(self, target, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # half a file written, then Ctrl-C
            if hasattr(target, "write"):
                target.write(b"%PDF-1.4 half")
            else:
                Path(target).write_bytes(b"%PDF-1.4 half")
            raise KeyboardInterrupt
        return drawn(self, target, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", stopped_midway)
    with pytest.raises(KeyboardInterrupt):
        report(YEAR, db, tmp_path, jobs=1)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before, "every file as it was, and no temporary file left"


# --- what a reader is told about restatements, coverage, data missing and shares near all ----------


def test_a_restated_year_is_named_with_its_totals_before_and_after(db, out, tmp_path):
    """A year calculated again with another factor set (gtb recalculate) showed its new figures in
    every chart with no word that a report published before had given others; the index said
    "published years stay on theirs"."""
    import datetime as dt
    import shutil

    index = (out.folder / "index.md").read_text(encoding="utf-8")
    assert "## Restated years" not in index  # nothing restated: no section
    copy = tmp_path / "gtb.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "INSERT INTO recalculations VALUES (?, 2023, 'gtb-2025.1', 'gtb-2026.1', 5, 1372193.4, 1110324.2, ?)",
            [dt.datetime(2026, 3, 2, 9, 30), "ICAO method for air travel *from* [2023]"],
        )
        con.execute(
            "INSERT INTO recalculations VALUES (?, 2030, 'gtb-2025.1', 'gtb-2026.1', 1, 1.0, 2.0, 'later')",
            [dt.datetime(2026, 3, 2, 9, 30)],
        )
    lines = build.restated_lines(report_data(copy, YEAR))
    assert lines[0] == "## Restated years"
    [said] = [line for line in lines if line.startswith("- ")]  # 2030 is after the report's year
    assert said.startswith("- 2023: restated on 2026-03-02 with gtb-2026.1 (before: gtb-2025.1), 5 workbooks;")
    assert "went from 1,372,193 tCO₂e to 1,110,324 tCO₂e" in said
    assert said.endswith(r"Reason given: ICAO method for air travel \*from\* \[2023\]")  # as text, never markup


@pytest.mark.parametrize(
    ("share", "said"), [("97 %", "about 97 %"), (">99 %", "more than 99 %"), ("<1 %", "less than 1 %")]
)
def test_a_bound_share_is_said_in_words(share, said):
    assert build._about(share) == said


def test_the_completeness_section_says_what_the_workbooks_own_figures_cover(out, db):
    """The index said the year's figures "cover about 99 % of the known personnel" from the
    entities missing alone, while each workbook says its figures cover only part of its entity's
    personnel (reporting coverage): the personnel-weighted mean is said beside it."""
    _, [(coverage,)] = view(db, "SELECT reporting_coverage_percent FROM system_indicators WHERE year = ?", [YEAR])
    section = (out.folder / "index.md").read_text(encoding="utf-8").split("## Reporting completeness")[1]
    assert 0 < coverage < 100
    assert (
        f"The workbooks' own figures cover {build._about(s.fmt_percent(coverage / 100))} of their entities'" in section
    )
    assert "cover about >" not in section and "about <" not in section


def test_entities_without_ems_data_are_hatched_and_counted_in_the_subtitle(one_set):
    """In a year with published totals, "No EMS data" was a grey next to the grey of "No EMS", and
    the subtitle left those entities out."""
    no_data = next(r["entities"] for r in one_set.ems if r["ems_status"] == "no_data")
    assert no_data >= 1  # UNFCCC's 2024 comes from published totals
    with s.house_style():
        fig = charts.ems_status(one_set)
    assert f"; {no_data} with no EMS data." in all_text(fig)
    hatched = [p for ax in fig.axes for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_width() == no_data
    legend = [h for ax in fig.axes for h in (ax.get_legend().legend_handles if ax.get_legend() else [])]
    legend += [h for leg in fig.legends for h in leg.legend_handles]
    assert any(h.get_hatch() for h in legend), "the legend's key is hatched too"


def test_the_diverted_share_is_said_of_the_waste_with_treatment_detail(one_set):
    """Published totals' waste has no treatment: the subtitle's diverted share (of the itemised
    waste) did not match the green bars' share of all the waste drawn."""
    assert any(r["treatment_code"] == "not_itemised" for r in one_set.waste)
    with s.house_style():
        text = all_text(charts.waste_by_treatment(one_set))
    assert "of the waste with treatment detail diverted" in text, text


def test_a_share_nearly_all_is_never_shown_as_all_in_the_workbook(out):
    """The tables' 0.0% format showed 0.99955 as "100.0%" beside "not climate neutral"; the
    format caps it as the charts and factsheets do, and keeps 100.0% for all."""
    wb = load_workbook(out.folder / f"tables_{YEAR}.xlsx")
    formats = {c.number_format for ws in wb.worksheets for row in ws.iter_rows() for c in row if "%" in c.number_format}
    assert formats == {tables.SHARE}
    sections = tables.SHARE.split(";")
    assert sections == ["[>=1]0.0%", '[>=0.9995]">99.9%"', "0.0%"]


def test_a_flag_open_on_an_earlier_year_keeps_the_report_a_draft(db, tmp_path):
    """The report of a year shows the years before it (trends, each entity's change on the year
    before): a flag reopened on the year before by a late correction left --final publishing that
    unreviewed figure with no DRAFT mark. Any open flag of the years it shows makes it a draft."""
    import shutil

    copy = tmp_path / "gtb.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con:
        [(sid,)] = con.execute(
            "SELECT min(submission_id) FROM submissions WHERE status = 'loaded' AND reporting_year = ?", [YEAR - 1]
        ).fetchall()
        assert sid is not None
        con.execute(
            "INSERT INTO flags (flag_id, submission_id, code, check_name, message, status) "
            "VALUES (9001, ?, 'implausible-change', 'yoy', 'x1,000 on the year before', 'open')",
            [sid],
        )
        assert con.execute("SELECT count(*) FROM flags WHERE status = 'open'").fetchone() == (1,)
    with pytest.raises(build.OpenFlags, match=f"1 plausibility flag of {YEAR - 1} still open"):
        report(YEAR, copy, tmp_path / "final", jobs=1, final=True)
    done = report(YEAR, copy, tmp_path / "draft", jobs=1)
    assert done.open_flags == 1
    index = (done.folder / "index.md").read_text(encoding="utf-8")
    assert f"**DRAFT: 1 plausibility flag of {YEAR - 1} still open.**" in index


def test_the_headline_says_its_span_and_from_how_many_expected_entities(db, one_set):
    """A report of the first year read "2010–2010"; a year from some of the expected entities
    gave its per capita with no word of it but in the source line."""
    _, [(first,)] = view(db, "SELECT min(year) FROM system_indicators")
    with s.house_style():
        single = all_text(charts.emissions_trend(report_data(db, first)))
        text = all_text(charts.emissions_trend(one_set))
    assert f"per capita, {first}. " in single and f"{first}\u2013{first}" not in single, single
    cover = one_set.coverage_of(YEAR)
    assert cover is not None and cover["entities_reporting_expected"] < cover["entities_expected"]
    assert (
        f"from {cover['entities_reporting_expected']} of the {cover['entities_expected']} expected entities" in text
    ), text


def test_a_draft_says_so_at_the_top_of_every_chart_and_factsheet(db, one_set):
    """With flags open, charts and factsheets said DRAFT only in their 7-pt source line; the mark
    now stands beside each chart's title and in each factsheet's header, and only in a draft."""
    draft = queries.ReportData(**{**one_set.__dict__, "open_flags": 2})
    con = queries.open_report_db(db)
    series = queries.entity_series(con, YEAR)
    con.close()
    years = tuple(range(2010, YEAR + 1))
    with s.house_style():
        for chart in charts.CHARTS:
            marked = [t for t in chart.draw(draft).texts if t.get_text() == s.DRAFT]
            assert len(marked) == 1 and marked[0].get_ha() == "right", chart.stem
            assert not [t for t in chart.draw(one_set).texts if t.get_text() == s.DRAFT], chart.stem
        factsheets._PAGES.clear()
        for source, said in ((s.source_line(YEAR, (), draft=2), True), (s.source_line(YEAR, ()), False)):
            fig = factsheets.factsheet("UNEP", "UNEP", "", series["UNEP"], YEAR, source, years)
            kicker = [t.get_text() for t in fig.texts if "ENTITY FACTSHEET" in t.get_text()]
            assert len(kicker) == 1 and kicker[0].startswith(f"{s.DRAFT}  \u00b7  ") == said, kicker


def test_a_factsheet_says_which_open_flags_are_on_its_entity(db, tmp_path, monkeypatch):
    """Every factsheet of a draft said "DRAFT, 1 plausibility flag open", the page of the flagged
    entity as the page of every other: a reader could not tell whose figures were under review.
    The source line of each page now says how many of the open flags are on its entity, and where."""
    import shutil

    copy = tmp_path / "gtb.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con:
        [(sid, flagged)] = con.execute(
            "SELECT submission_id, entity_code FROM submissions WHERE status = 'loaded' AND reporting_year = ? "
            "ORDER BY entity_code LIMIT 1",
            [YEAR],
        ).fetchall()
        places = [("Facilities", "D17"), ("Refrigerants", "D5"), (None, None), ("Fleet", "E9")]
        for i, (sheet, cell) in enumerate(places):
            con.execute(
                "INSERT INTO flags (flag_id, submission_id, code, check_name, message, status, sheet, cell) "
                "VALUES (?, ?, 'implausible-change', 'yoy', 'x3 on the year before', 'open', ?, ?)",
                [9100 + i, sid, sheet, cell],
            )
    seen: dict[str, str] = {}

    def capture(jobs_list, jobs):
        seen.update({job.code: job.source for job in jobs_list})
        return []

    monkeypatch.setattr(build, "_draw_sheets", capture)
    report(YEAR, copy, tmp_path / "draft", jobs=1)
    assert len(seen) > 1 and flagged in seen
    assert seen[flagged].startswith(
        f"{s.DRAFT}, 4 plausibility flags open (4 on this entity: implausible-change at Facilities D17, {YEAR}; "
        f"implausible-change at Refrigerants D5, {YEAR}; implausible-change, {YEAR} and 1 more). Source: "
    ), seen[flagged]
    for code, source in seen.items():
        if code != flagged:
            assert source.startswith(f"{s.DRAFT}, 4 plausibility flags open (none on this entity). "), source
    seen.clear()
    report(YEAR, db, tmp_path / "clean", jobs=1)  # no flag open: nothing of the kind
    assert seen and not any("on this entity" in v or s.DRAFT in v for v in seen.values())


def test_a_year_on_two_factor_sets_is_said_in_the_plural():
    """'From 2025 the emission factor sets gtb-2026.1, gtb-2027.1 is used': a year whose entities
    are on two sets (one restated, say) read as one set."""
    from pipeline.report import style

    def note(new: str) -> str:
        rows = [
            {"year": 2024, "factor_sets": "gtb-2099.1", "factor_set_changed": False},
            {
                "year": 2025,
                "factor_sets": new,
                "previous_factor_sets": "gtb-2099.1",
                "previous_factor_sets_year": 2024,
                "factor_set_changed": True,
            },
        ]
        return style.factor_set_note(rows, 2024)

    assert "From 2025 the emission factor sets gtb-2098.1, gtb-2097.1 are used; 2024 uses gtb-2099.1" in note(
        "gtb-2098.1, gtb-2097.1"
    )
    assert "From 2025 the emission factor set gtb-2098.1 is used;" in note("gtb-2098.1")
