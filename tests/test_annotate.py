"""The annotated copy of a submission: flagged cells, a summary sheet, no formula injection."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from python_calamine import CalamineWorkbook

from pipeline import api
from pipeline.cells import MAX_CELL_CHARS
from pipeline.intake import guard
from pipeline.intake.annotate import SUMMARY_COLUMNS, TABLE_HEADER_ROW, unique_sheet_name, write_annotated
from pipeline.intake.verdict import shown_name, verdict_bytes, write_verdict
from pipeline.xlsx import ERROR_FILL, WARNING_FILL
from tests.builders import a_finding


def make_submission(folder: Path, extra_sheet: str | None = None) -> Path:
    """A small workbook: an Entity sheet and a Facilities table with a few rows."""
    wb = Workbook()
    entity = wb.active
    entity.title = "Entity"
    entity.append(["Field", "Value"])
    entity.append(["entity_code", "UNEP"])
    entity.append(["reporting_year", 2024])
    entity["B2"].comment = Comment("prefilled by the template", "someone")
    fac = wb.create_sheet("Facilities")
    fac.append(["site", "country", "energy_type", "quantity", "unit"])
    fac.append(["HQ", "KEN", "electricity", 1200, "kwh"])
    fac.append(["Annex", "KEN", "natural_gas", -5, "litre"])
    fac.append(["Depot", "XXX", "diesel", "=1+1", "litre"])
    fac["A4"].data_type = "s"  # the text "Depot"; D4 is a formula in the source and stays one
    fac.merge_cells("F1:G1")
    if extra_sheet:
        wb.create_sheet(extra_sheet).append(["something else"])
    path = folder / "UNEP_2024_submission.xlsx"
    wb.save(path)
    return path


FINDINGS = [
    a_finding(
        "out-of-range",
        "quantity must be >= 0; found -5",
        file="x",
        sheet="Facilities",
        cell="D3",
        row=3,
        column="quantity",
        value=-5,
    ),
    a_finding(
        "unit-mismatch",
        "unit litre does not suit natural_gas; allowed: m3, kwh, gj",
        file="x",
        sheet="Facilities",
        cell="E3",
        row=3,
        column="unit",
        value="litre",
    ),
    a_finding(
        "not-in-codelist",
        "country XXX is not an ISO alpha-3 code",
        file="x",
        sheet="Facilities",
        cell="B4",
        row=4,
        column="country",
        value="XXX",
    ),
    a_finding(
        "type-error",
        "quantity is not a number",
        file="x",
        sheet="Facilities",
        cell="D4",
        row=4,
        column="quantity",
        value="=1+1",
    ),
    a_finding(
        "inconsistent-row",
        "second finding on D4",
        file="x",
        sheet="Facilities",
        cell="D4",
        row=4,
        column="quantity",
        value='=HYPERLINK("http://evil","click")',
        severity="warning",
    ),
    a_finding(
        "hidden-sheet",
        "reporting year 2024 differs from the folder",
        file="x",
        sheet="Entity",
        cell="B3",
        row=3,
        column="reporting_year",
        value=2024,
    ),
    a_finding(
        "unknown-field",
        "prefilled note kept",
        file="x",
        sheet="Entity",
        cell="B2",
        row=2,
        column="entity_code",
        value="@SUM(A1)",
    ),
    a_finding(
        "missing-column",
        "required column data_quality is missing",
        file="x",
        sheet="Facilities",
        column="data_quality",
        value="+cmd",
    ),
    a_finding("missing-sheet", "sheet Water is missing", file="x", sheet="Water"),
    a_finding(
        "unknown-column",
        "on a merged cell",
        file="x",
        sheet="Facilities",
        cell="G1",
        row=1,
        column="notes",
        value="-2",
        severity="warning",
    ),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ann")
    source = make_submission(folder)
    out = write_annotated(source, FINDINGS, folder / "out" / "annotated.xlsx")
    return source, out


def summary_rows(ws) -> list[dict]:
    rows = []
    for r in range(TABLE_HEADER_ROW + 1, ws.max_row + 1):
        rows.append(
            {name: ws.cell(row=r, column=i).value for i, name in enumerate(SUMMARY_COLUMNS, start=1)} | {"row": r}
        )
    return rows


def test_summary_is_the_first_sheet_with_counts_and_all_findings(files):
    _, out = files
    wb = load_workbook(out)
    assert wb.sheetnames == ["Validation summary", "Entity", "Facilities"]
    ws = wb.worksheets[0]
    assert wb.active.title == "Validation summary"
    assert ws["B2"].value == "UNEP_2024_submission.xlsx"
    assert (ws["A3"].value, ws["B3"].value) == ("Errors", 6)
    assert (ws["A4"].value, ws["B4"].value) == ("Warnings", 4)
    assert [ws.cell(row=TABLE_HEADER_ROW, column=i).value for i in range(1, 8)] == list(SUMMARY_COLUMNS)
    rows = summary_rows(ws)
    assert len(rows) == len(FINDINGS)
    assert {(r["sheet"], r["cell"] or "", r["code"]) for r in rows} == {(f.sheet, f.cell, f.code) for f in FINDINGS}
    assert [r["sheet"] for r in rows][:2] == ["Entity", "Entity"]  # workbook order, then row order
    assert ws.freeze_panes == f"A{TABLE_HEADER_ROW + 1}"
    assert ws.auto_filter.ref == f"A{TABLE_HEADER_ROW}:G{TABLE_HEADER_ROW + len(FINDINGS)}"


def test_summary_links_point_at_the_flagged_cells(files):
    _, out = files
    rows = summary_rows(load_workbook(out).worksheets[0])
    ws = load_workbook(out).worksheets[0]
    by_code = {r["code"]: r for r in rows}
    link = ws.cell(row=by_code["out-of-range"]["row"], column=2).hyperlink
    assert link.location == "'Facilities'!D3"
    # no cell: the sheet name links to the sheet; a sheet that does not exist: no link
    assert ws.cell(row=by_code["missing-column"]["row"], column=1).hyperlink.location == "'Facilities'!A1"
    assert ws.cell(row=by_code["missing-sheet"]["row"], column=1).hyperlink is None
    assert ws.cell(row=by_code["missing-sheet"]["row"], column=2).hyperlink is None


def test_flagged_cells_are_filled_and_commented(files):
    _, out = files
    wb = load_workbook(out)
    fac, entity = wb["Facilities"], wb["Entity"]
    for coordinate in ("D3", "E3", "B4", "D4"):
        assert fac[coordinate].fill.fgColor.rgb == ERROR_FILL.fgColor.rgb, coordinate
    assert entity["B3"].fill.fgColor.rgb == WARNING_FILL.fgColor.rgb
    assert "out-of-range: quantity must be >= 0; found -5" in fac["D3"].comment.text
    both = fac["D4"].comment.text
    assert "type-error: quantity is not a number" in both and "inconsistent-row: second finding on D4" in both
    assert fac["D4"].fill.fgColor.rgb == ERROR_FILL.fgColor.rgb  # an error wins over a warning
    assert "prefilled by the template" in entity["B2"].comment.text  # the existing comment is kept
    assert "unknown-field" in entity["B2"].comment.text
    assert fac["F1"].comment is not None  # G1 lies in the merged F1:G1: its top-left cell is marked
    unflagged = [c for row in fac.iter_rows() for c in row if c.coordinate not in ("D3", "E3", "B4", "D4", "F1")]
    assert all(c.comment is None and c.fill.fgColor.rgb != ERROR_FILL.fgColor.rgb for c in unflagged)


def test_values_from_findings_are_text_never_formulas(files):
    _, out = files
    ws = load_workbook(out).worksheets[0]
    values = {r["code"]: r["value"] for r in summary_rows(ws)}
    assert values["type-error"] == "=1+1"
    assert values["inconsistent-row"] == '=HYPERLINK("http://evil","click")'
    assert values["unknown-field"] == "@SUM(A1)"
    assert values["missing-column"] == "+cmd"
    assert values["unknown-column"] == "-2"
    for row in ws.iter_rows(min_row=TABLE_HEADER_ROW + 1):
        for cell in row:
            assert cell.data_type in ("s", "n"), cell.coordinate
    with zipfile.ZipFile(out) as zf:
        summary_xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in summary_xml
    assert '<t>=HYPERLINK("http://evil","click")</t>' in summary_xml


def test_original_data_is_unchanged(files):
    source, out = files
    before, after = load_workbook(source), load_workbook(out)
    for ws in before.worksheets:
        old = [[c.value for c in row] for row in ws.iter_rows()]
        new = [[c.value for c in row] for row in after[ws.title].iter_rows()]
        assert old == new, ws.title
    assert after["Facilities"]["D4"].data_type == "f"  # a formula of the submission stays a formula


def test_rerun_gives_the_same_summary_bytes(files, tmp_path):
    source, out = files
    again = write_annotated(source, list(reversed(FINDINGS)), tmp_path / "again.xlsx")
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(again) as b:
        for name in a.namelist():
            if name != "docProps/core.xml":  # holds the save time
                assert a.read(name) == b.read(name), name


def test_summary_name_collision_and_no_findings(tmp_path):
    source = make_submission(tmp_path, extra_sheet="VALIDATION SUMMARY")
    out = write_annotated(source, [], tmp_path / "clean.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Validation summary (2)"
    assert wb["VALIDATION SUMMARY"]["A1"].value == "something else"
    ws = wb.worksheets[0]
    assert (ws["B3"].value, ws["B4"].value) == (0, 0)
    assert ws["A5"].value.startswith("Nothing to correct")
    assert ws.max_row == TABLE_HEADER_ROW


def test_unique_sheet_name_respects_excel_limits():
    assert unique_sheet_name("Validation summary", ["Entity"]) == "Validation summary"
    name = unique_sheet_name("x" * 40, ["x" * 31])
    assert len(name) <= 31 and name.endswith("(2)")


def test_cells_inside_merged_cells_are_marked_on_the_top_left_headed_by_their_cell(tmp_path):
    """A site merged over each pair of 1,800 rows, every second row reported (900 findings, within
    the `MAX_LISTED` marked): each finding is on
    its range's top-left cell, its line headed by the cell it is about; a warning there does not
    turn an error's fill into a warning's."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Facilities"
    ws.append(["site", "country"])
    for i in range(2, 1802):
        ws.append([f"site {i // 2}" if i % 2 == 0 else None, "KEN"])
    for i in range(2, 1802, 2):
        ws.merge_cells(f"A{i}:A{i + 1}")
    source = tmp_path / "merged.xlsx"
    wb.save(source)
    findings = [
        a_finding("missing-value", f"site is required (row {i})", file="x", sheet="Facilities", cell=f"A{i}", row=i)
        for i in range(3, 1802, 2)
    ]
    findings.append(
        a_finding(
            "unknown-column", "a warning on A4", file="x", sheet="Facilities", cell="A4", row=4, severity="warning"
        )
    )
    findings.append(a_finding("type-error", "an error on B9", file="x", sheet="Facilities", cell="B9", row=9))
    out = load_workbook(write_annotated(source, findings, tmp_path / "out.xlsx"))["Facilities"]
    for i in range(3, 1802, 2):
        top = out[f"A{i - 1}"]
        assert top.comment is not None and f"A{i}: ERROR missing-value: site is required (row {i})" in top.comment.text
        assert top.fill.fgColor.rgb == ERROR_FILL.fgColor.rgb
        assert out[f"A{i}"].comment is None
    # A4 tops its range A4:A5: its own finding is not headed, A5's is, and the error's fill stays
    assert "\nWARNING unknown-column: a warning on A4" in out["A4"].comment.text
    assert out["A4"].comment.text.startswith("A5: ERROR missing-value")
    assert out["A4"].fill.fgColor.rgb == ERROR_FILL.fgColor.rgb
    assert out["B9"].comment.text.startswith("ERROR type-error")  # not merged: no heading


def test_a_warning_below_an_error_in_merged_cells_keeps_the_error_fill(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Facilities"
    ws.append(["site"])
    ws.append(["HQ"])
    ws.merge_cells("A2:A4")
    source = tmp_path / "m.xlsx"
    wb.save(source)
    findings = [
        a_finding("missing-value", "an error on A3", file="x", sheet="Facilities", cell="A3", row=3),
        a_finding(
            "unknown-column", "a warning on A4", file="x", sheet="Facilities", cell="A4", row=4, severity="warning"
        ),
    ]
    top = load_workbook(write_annotated(source, findings, tmp_path / "out.xlsx"))["Facilities"]["A2"]
    assert top.fill.fgColor.rgb == ERROR_FILL.fgColor.rgb
    assert top.comment.text.startswith("A4: WARNING") and "A3: ERROR missing-value: an error on A3" in top.comment.text


@pytest.mark.parametrize(
    ("lang", "error", "warning"),
    [("en", "ERROR", "WARNING"), ("fr", "ERREUR", "AVERTISSEMENT"), ("es", "ERROR", "ADVERTENCIA")],
)
def test_comments_name_the_severity_as_the_summary_does_in_its_language(tmp_path, lang, error, warning):
    """A French or Spanish workbook's comments head each finding by the summary's word for its
    severity (erreur, advertencia), in capitals; never by the English one."""
    source = make_submission(tmp_path)
    out = load_workbook(write_annotated(source, FINDINGS, tmp_path / "out.xlsx", lang=lang))
    summary = {r["code"]: r["severity"] for r in summary_rows(out.worksheets[0])}
    assert (summary["out-of-range"], summary["inconsistent-row"]) == (error.lower(), warning.lower())
    fac, entity = out["Facilities"], out["Entity"]
    colon = "\u00a0: " if lang == "fr" else ": "  # French typography: a no-break space before a colon
    assert fac["D3"].comment.text.startswith(f"{error} out-of-range{colon}quantity must be >= 0")
    assert f"{warning} inconsistent-row{colon}second finding on D4" in fac["D4"].comment.text
    assert entity["B3"].comment.text.startswith(f"{warning} hidden-sheet{colon}")
    comments = [c.comment.text for ws in out.worksheets for row in ws.iter_rows() for c in row if c.comment]
    if lang != "en":
        assert not any("WARNING" in text for text in comments), comments
    if lang == "fr":
        assert not any("ERROR" in text for text in comments), comments


def as_strict_open_xml(path: Path) -> Path:
    """The workbook as Excel's "Strict Open XML Spreadsheet" writes it: the Strict namespaces in
    place of the transitional ones, in every part of the workbook."""
    swaps = [
        (
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ),
        (
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    ]
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    for name, body in parts.items():
        if name.startswith("xl/") and name.endswith(".xml"):
            for old, new in swaps:
                body = body.replace(old, new)
            parts[name] = body
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in parts.items():
            dst.writestr(name, body)
    return path


def test_a_strict_open_xml_workbook_gets_its_findings_and_says_why_no_copy_was_made(tmp_path):
    """openpyxl reads a Strict Open XML workbook as one without sheets: the "annotated copy" was
    the summary alone, saying "click a cell reference to jump to the cell" to cells it did not
    have. calamine reads the workbook, so the findings are there; the summary now says the copy
    could not be made, and why."""
    from pipeline import api
    from pipeline.intake.annotate import annotate
    from tests.builders import set_cell, valid_sheets, write_workbook

    path = as_strict_open_xml(
        write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Facilities", "D2", -5))
    )
    [sub] = api.check_files([path], jobs=1)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("Facilities", "D2", "out-of-range")]
    outcome = annotate(path, sub.findings, tmp_path / "annotated.xlsx", path.name)
    assert outcome.startswith("findings-only")
    text = " ".join(
        str(c.value)
        for row in load_workbook(tmp_path / "annotated.xlsx").worksheets[0].iter_rows()
        for c in row
        if c.value
    )
    assert "Strict Open XML" in text and "jump to the cell" not in text, text


# --- the summary alone, for a workbook without findings --------------------------------------


def _rows(path: Path) -> list[list[object]]:
    ws = load_workbook(path).active
    return [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("lang", "title", "file_label", "starts"),
    [
        ("en", "Validation summary", "File", "Nothing to correct"),
        ("fr", "Résumé de la vérification", "Fichier", "Rien à corriger"),
        ("es", "Resumen de la verificación", "Archivo", "Nada que corregir"),
    ],
)
def test_a_clean_workbook_gets_its_summary_alone_in_its_language(tmp_path, lang, title, file_label, starts):
    out = write_verdict("UNEP_2024.xlsx", tmp_path / "annotated.xlsx", lang)
    wb = load_workbook(out)
    assert wb.sheetnames == [title]
    rows = _rows(out)
    assert rows[0] == [title] and rows[1] == [file_label, "UNEP_2024.xlsx"]
    assert [r[1] for r in rows[2:4]] == [0, 0] and rows[4][0].startswith(starts)
    assert wb.active.merged_cells.ranges and wb.active.sheet_properties.tabColor.rgb == "FF00B050"
    # the pipeline's own guard takes it as a workbook: it is one a focal point can open anywhere
    assert guard.check_bytes(out.read_bytes()).sheet_names == [title]


def test_the_summary_is_the_same_bytes_for_the_same_name():
    assert verdict_bytes("a.xlsx", "fr") == verdict_bytes("a.xlsx", "fr") != verdict_bytes("b.xlsx", "fr")


def test_a_hostile_file_name_is_shown_as_text_never_run():
    name = "=cmd|' /C calc'!A0 \u202eslx.exe\x1b[2J\r\udcff\ufffe.xlsx"
    shown = shown_name(name)
    assert shown == "=cmd|' /C calc'!A0 \\u202eslx.exe\\x1b[2J\\x0d\\xff\\ufffe.xlsx"
    data = verdict_bytes(name)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="inlineStr"' in sheet
    assert shown.replace("&", "&amp;").replace("<", "&lt;") in sheet


@settings(max_examples=60, deadline=None)
@given(hs.text(min_size=1, max_size=300))
def test_any_file_name_gives_a_workbook_that_opens_with_the_name_shown(name):
    data = verdict_bytes(name, "en")
    shown = shown_name(name)
    assert load_workbook(io.BytesIO(data)).active["B2"].value == (shown or None)
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1][1] == shown


@pytest.mark.parametrize("name", ["Q_x0041__x001B_[2J_xD800_.xlsx", "a\tb\nc.xlsx", "zero\u200bwidth.xlsx"])
def test_a_name_reads_back_as_shown_whatever_escapes_it_holds(name):
    """'_x001B_' is an escaped ESC to Excel, LibreOffice and calamine: written as typed it came back
    as the character; a tab, a line feed and a zero-width space are shown as the console shows them."""
    data = verdict_bytes(name)
    shown = shown_name(name)
    assert "\x1b" not in shown and "\t" not in shown and "\n" not in shown and "\u200b" not in shown
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1][1] == shown
    cell = load_workbook(io.BytesIO(data)).active["B2"]
    assert cell.value == shown and cell.quotePrefix


def test_a_name_longer_than_a_cell_is_cut_to_what_a_cell_holds():
    assert len(shown_name("x" * 40_000)) == MAX_CELL_CHARS


@pytest.mark.parametrize("char", ["\ufffe", "\uffff"])
def test_a_character_xml_forbids_never_makes_the_copy_unreadable(tmp_path, char):
    """calamine reads a cell holding U+FFFE or U+FFFF, which XML 1.0 forbids; a finding quoting it
    made annotated.xlsx XML that is not well-formed ("Excel found a problem with some content")."""
    from pipeline import api
    from tests.builders import set_cell, valid_sheets, write_workbook

    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Facilities", "D2", f"12{char}5"))
    [sub] = api.check_files([path], jobs=1)
    assert any(f.cell == "D2" and char in str(f.value) for f in sub.findings)
    from pipeline.intake.reports import write_reports

    folder = write_reports([sub], tmp_path / "out")[0]
    copy = load_workbook(folder / "annotated.xlsx")  # well-formed
    text = " ".join(str(c.value) for ws in copy.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert char not in text and f"12\\u{ord(char):04x}5" in text  # the summary shows it as an escape


def test_the_summary_of_a_full_copy_shows_submitted_text_as_the_console_does(tmp_path):
    """The summary sheet of a copy with findings dropped an ESC unseen, wrote a right-to-left
    override raw (Excel draws '\u202eNEK' as 'KEN', which the sheet then said is no country) and an
    '_x0041_' that Excel and calamine read as 'A'; the summary of a clean workbook showed the same
    file name escaped. Now both show the submission's text as the console does."""
    from tests.builders import set_cell, valid_sheets, write_workbook

    sheets = set_cell(valid_sheets(), "Facilities", "B2", "_x001B_[31mKEN\u202e")  # an ESC, as Excel stores it
    sheets = set_cell(sheets, "Facilities", "B3", "\u202eNEK")
    name = "UNDP_2024 \u202exslx.exe_x0041_.xlsx"
    path = write_workbook(tmp_path / name, set_cell(sheets, "Facilities", "D3", "_x005F_x0041_BC"))  # as typed
    [sub] = api.check_files([path], jobs=1)
    values = {f.cell: f.value for f in sub.findings if f.sheet == "Facilities"}
    assert {"B2", "B3", "D3"} <= set(values), values
    out = write_annotated(path, sub.findings, tmp_path / "out" / "annotated.xlsx")
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[1][1] == "UNDP_2024 \\u202exslx.exe\\x5fx0041_.xlsx" == shown_name(name)
    listed = {row[1]: row[3] for row in rows[TABLE_HEADER_ROW:] if row[0] == "Facilities"}
    assert listed["B2"] == "\\x1b[31mKEN\\u202e" and listed["B3"] == "\\u202eNEK", listed
    assert listed["D3"] == "\\x5fx0041_BC", listed
    text = "".join(str(c) for row in rows for c in row)
    assert not any(c in text for c in "\x1b\u202e"), "nothing the console would escape stands raw"


# Text as a field holds it: no control character (XML turns a carriage return into a line feed,
# and a cell of white space alone is read as empty), no white space at its ends (the readers trim).
_FIELD_TEXT = hs.text(
    hs.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")) | hs.just(" "), max_size=40
).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(_FIELD_TEXT | hs.from_regex(r"(_x[0-9A-Fa-f]{4}_|[a-z_]|x){1,6}", fullmatch=True))
def test_text_the_house_writes_reads_back_as_it_was(text):
    """openpyxl writes a string as given, and Excel, LibreOffice and calamine read an '_xHHHH_' in
    it as the character it escapes: a site name '_x0041_BC' on the template's Last year sheet, or a
    prefilled field, came back 'ABC'. `write_text` escapes the underscore as Excel does."""
    from pipeline.xlsx import clean_text, write_text

    wb = Workbook()
    write_text(wb.active["A1"], text)
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue())).get_sheet_by_index(0).to_python()
    expected = clean_text(text)
    assert (rows[0][0] if rows and rows[0] else "") == expected
