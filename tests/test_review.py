"""Review: plausibility flags against last year, the tracker, acceptance, draft and final reports.

Every scenario runs the real `gtb` commands on real workbooks in a real inputs folder."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline import api, catalogue
from pipeline.cli import main
from pipeline.review import plausibility
from tests.builders import set_cell, valid_sheets, write_workbook


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "inputs" / "submissions").mkdir(parents=True)
    (tmp_path / "inputs" / "history").mkdir()
    return tmp_path / "inputs"


def db_of(inputs: Path) -> Path:
    return inputs.parent / "out" / "gtb.duckdb"


def gtb(inputs: Path, *args: str) -> int:
    needs_outputs = args[0] in ("run", "report")
    extra = ["--outputs", str(inputs.parent / "out")] if needs_outputs else []
    if args[0] == "run":
        extra += ["--inputs", str(inputs), "--jobs", "1"]
    return main([*args, "--db", str(db_of(inputs)), *extra])


def query(inputs: Path, sql: str, params=None):
    with duckdb.connect(str(db_of(inputs)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def submit(inputs: Path, name: str, sheets) -> Path:
    path = inputs / "submissions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_workbook(path, sheets)


def mwh_slip() -> dict:
    """UNEP 2024 with the electricity typed in MWh into kWh rows (2,400 instead of 2,400,000)."""
    return set_cell(set_cell(valid_sheets("UNEP", 2024), "Facilities", "D2", 2_400), "Facilities", "F2", 600)


def two_years(inputs: Path, this_year) -> None:
    """UNEP's 2023 workbook, loaded and accepted, then `this_year`'s sheets for 2024, loaded."""
    submit(inputs, "2023/UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    assert gtb(inputs, "run") == 0
    submit(inputs, "2024/UNEP_2024.xlsx", this_year)
    gtb(inputs, "run")


def test_unit_slip_is_flagged_with_both_values_and_the_row(inputs, capsys):
    two_years(inputs, mwh_slip())
    out = capsys.readouterr().out
    [(status,)] = query(inputs, "SELECT status FROM submissions WHERE reporting_year = 2024")
    assert status == "loaded", "a flag is a warning: the workbook loads and waits for review"
    flags = query(inputs, "SELECT sheet, cell, code, value, message, status FROM flags")
    electricity = [f for f in flags if f[1] == "D2"]
    assert len(electricity) == 1, flags
    sheet, cell, code, value, message, state = electricity[0]
    assert (sheet, code, state) == ("Facilities", "implausible-change", "open")
    assert value in ("2400", "2400.0", "2,400")
    assert "2,400,000" in message and "2,400" in message and "2023" in message
    assert "1000" in message.replace(",", "") or "thousand" in message, message
    # the flag is also a finding of the submission, in its issues.csv, on that cell
    issues = (inputs.parent / "out" / "validation" / "UNEP_2024" / "issues.csv").read_text()
    assert "Facilities,D2" in issues and "implausible-change" in issues
    assert "flag" in out.lower()


def test_plausible_change_is_not_flagged(inputs):
    sheets = valid_sheets("UNEP", 2024)
    for cell, value in (("D2", 2_640_000), ("D3", 31_000), ("D4", 13_000)):  # +10 %, -11 %, +8 %
        sheets = set_cell(sheets, "Facilities", cell, value)
    sheets = set_cell(sheets, "Entity", "B4", 1_300)
    two_years(inputs, sheets)
    assert query(inputs, "SELECT count(*) FROM flags") == [(0,)]
    [(warnings,)] = query(inputs, "SELECT warning_count FROM submissions WHERE reporting_year = 2024")
    [(warnings_2023,)] = query(inputs, "SELECT warning_count FROM submissions WHERE reporting_year = 2023")
    assert warnings == warnings_2023, "the same workbook shape gives the same warnings, plus no flag"


@pytest.mark.parametrize(
    ("factor", "ratio", "cause"),
    [
        (1000, "(x1,000)", "a thousand times: a unit slip"),
        (0.001, "(÷1,000)", "a thousandth: a unit slip"),
        (12, "(x12)", "about twelve times: a month's figure"),
        (1 / 12, "(÷12)", "about a twelfth: one month's figure"),
        (100, "(x100)", "a hundred times: a misplaced decimal point"),
        (4.4, "(x4.4)", "Check the figure and its unit."),
    ],
)
def test_a_change_beyond_the_limit_names_the_likely_cause(inputs, factor, ratio, cause):
    water = round(61_000 * factor)
    two_years(inputs, set_cell(valid_sheets("UNEP", 2024), "Water", "D2", water))
    [(cell, message)] = query(inputs, "SELECT cell, message FROM flags WHERE code = 'implausible-change'")
    assert cell == "D2"
    assert message.startswith(f"water went from 61,000 m³ in 2023 to {water:,} m³ in 2024 {ratio}."), message
    assert cause in message


@pytest.mark.parametrize(
    ("water", "ratio"),
    [(5e-324, "(÷>1.8e+308)"), (1e-300, "(÷6.1e+304)"), (1e-5, "(÷6.1e+09)"), (1e-4, "(÷610,000,000)")],
)
def test_a_change_beyond_what_a_float_holds_is_flagged_not_a_crash(inputs, water, ratio):
    """A tiny positive figure (the bounds allow it) after a normal year: new / old underflows to
    0, which was divided into 1 and ended the run for every workbook. Now it is a flag."""
    submit(inputs, "UNDP_2024.xlsx", valid_sheets("UNDP", 2024))
    two_years(inputs, set_cell(valid_sheets("UNEP", 2024), "Water", "D2", water))
    [(cell, message)] = query(inputs, "SELECT cell, message FROM flags WHERE code = 'implausible-change'")
    assert cell == "D2" and f"in 2024 {ratio}." in message, message
    loaded = query(inputs, "SELECT file_name FROM submissions WHERE status = 'loaded' ORDER BY 1")
    assert loaded == [("UNDP_2024.xlsx",), ("UNEP_2023.xlsx",), ("UNEP_2024.xlsx",)]


def test_a_bound_is_checked_without_a_previous_year(inputs):
    # 50 million kWh of electricity for 1,250 people: 40,000 kWh a head is fine, 50 M is not.
    submit(inputs, "2024/UNEP_2024.xlsx", set_cell(valid_sheets("UNEP", 2024), "Facilities", "D2", 90_000_000))
    gtb(inputs, "run")
    [(code, cell, message)] = query(inputs, "SELECT code, cell, message FROM flags")
    assert (code, cell) == ("implausible-value", "D2") and "72,000" in message


def test_every_check_of_the_plausibility_table_is_wired():
    checks = plausibility.checks()
    names = {c.name for c in checks}
    assert len(names) == len(checks) >= 15
    metrics = {c.metric for c in checks}
    assert {"energy", "refrigerant", "fleet", "flights", "waste", "water", "personnel", "per_capita"} <= metrics
    for c in checks:
        assert c.reason and c.limit > 0


def test_wrong_year_file_is_rejected_and_the_earlier_year_untouched(inputs, capsys):
    submit(inputs, "2023/UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    gtb(inputs, "run")
    before = query(inputs, "SELECT submission_id, status FROM submissions")
    before_rows = query(inputs, "SELECT count(*), sum(quantity) FROM facilities_activity")
    # Last year's workbook, copied into the 2024 folder with new figures but the year left at 2023.
    copied = set_cell(valid_sheets("UNEP", 2023), "Facilities", "D2", 2_500_000)
    submit(inputs, "2024/UNEP_2024.xlsx", copied)
    assert gtb(inputs, "run") == 1
    rows = query(inputs, "SELECT file_name, reporting_year, status FROM submissions ORDER BY submission_id")
    assert rows[0][2] == "loaded" and rows[1] == ("UNEP_2024.xlsx", 2023, "rejected")
    assert query(inputs, "SELECT submission_id, status FROM submissions WHERE status = 'loaded'") == before[:1]
    assert (
        query(inputs, "SELECT count(*), sum(quantity) FROM facilities_activity WHERE submission_id = 1") == before_rows
    )
    [(cell, message)] = query(inputs, "SELECT cell, message FROM findings WHERE code = 'year-mismatch'")
    assert cell == "B3" and "2024" in message and "2023" in message
    assert "UNEP_2024" in capsys.readouterr().out


def test_file_name_of_another_entity_is_an_error_and_replaces_nothing(inputs, capsys):
    """A workbook whose Entity sheet names UNEP saved as WFP_2024.xlsx (filled in on another
    entity's template, or an attachment saved under the wrong name) loaded as UNEP with a warning,
    replacing UNEP's loaded year, or WFP's when the sheet was the wrong one; and it could not be
    undone. One of the two is wrong: it is refused until the name or the code is corrected."""
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    assert gtb(inputs, "run") == 0
    other = set_cell(valid_sheets("UNEP", 2024), "Facilities", "D2", 1_200_000)
    submit(inputs, "2024/WFP_2024.xlsx", other)
    capsys.readouterr()
    gtb(inputs, "run")
    said = capsys.readouterr().out
    assert "WFP_2024.xlsx" in said and "rejected" in said, said
    statuses = dict(query(inputs, "SELECT file_name, status FROM submissions"))
    assert statuses == {"UNEP_2024.xlsx": "loaded", "WFP_2024.xlsx": "rejected"}, statuses
    [(cell, message)] = query(inputs, "SELECT cell, message FROM findings WHERE code = 'entity-mismatch'")
    assert cell == "B2" and "WFP_2024.xlsx" in message and "UNEP" in message and "WFP" in message
    [(quantity,)] = query(
        inputs,
        """SELECT sum(canonical_quantity) FROM facilities_activity JOIN submissions USING (submission_id)
           WHERE status = 'loaded' AND energy_type_code = 'electricity'""",
    )
    assert quantity == 2_400_000, "UNEP's loaded year is untouched"


@pytest.mark.parametrize("name", ["ITC-ILO_2024.xlsx", "itc ilo 2024.xlsx", "ITCILO_2024.xlsx"])
def test_a_file_named_as_the_entity_writes_its_code_is_no_mismatch(inputs, capsys, name):
    """'ITC-ILO_2024.xlsx' starts with ITC, a code too: ITCILO's workbook named the way the entity
    writes its own name was refused as naming another entity."""
    submit(inputs, f"2024/{name}", valid_sheets("ITCILO", 2024))
    assert gtb(inputs, "run") == 0
    assert query(inputs, "SELECT status, warning_count FROM submissions") == [("loaded", 0)]


@pytest.mark.parametrize("name", ["ITCILO_2024.xlsx", "ITC-ILO_2024.xlsx", "itc_ilo 2024.xlsx"])
def test_a_workbook_of_a_shorter_code_named_for_the_longer_one_is_a_mismatch(inputs, capsys, name):
    """ITC's workbook in a file named for ITCILO: the name starts with ITC's letters, but names
    another entity; loaded, it would take the place of ITC's year under a name meant for ITCILO's."""
    submit(inputs, f"2024/{name}", valid_sheets("ITC", 2024))
    assert gtb(inputs, "run") == 1
    assert query(inputs, "SELECT status FROM submissions") == [("rejected",)]
    [(cell, message)] = query(inputs, "SELECT cell, message FROM findings WHERE code = 'entity-mismatch'")
    assert cell == "B2" and name in message and "ITCILO" in message, message


@pytest.mark.parametrize("name", ["ITC_2024.xlsx", "itc 2024 final.xlsx"])
def test_a_workbook_of_the_shorter_code_named_for_it_loads(inputs, capsys, name):
    submit(inputs, f"2024/{name}", valid_sheets("ITC", 2024))
    assert gtb(inputs, "run") == 0
    assert query(inputs, "SELECT status FROM submissions") == [("loaded",)]


def test_file_name_of_another_year_is_a_warning(inputs, capsys):
    submit(inputs, "UNEP_2023_final.xlsx", valid_sheets("UNEP", 2024))
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    said = capsys.readouterr().out  # the run's summary names the file, its count and first warning
    assert (
        "loaded with 1 warning UNEP_2023_final.xlsx -> " in said
        and "file name" in said.split("loaded with 1 warning")[1]
    )
    [(status,)] = query(inputs, "SELECT status FROM submissions")
    assert status == "loaded"
    [(cell, message)] = query(inputs, "SELECT cell, message FROM findings WHERE code = 'file-name-mismatch'")
    assert cell == "B3" and "UNEP_2023_final.xlsx" in message


@pytest.mark.parametrize(
    "stem, named",
    [
        ("UNEP_2024", ("UNEP", 2024)),
        ("2024 UNEP", ("UNEP", 2024)),
        ("GTB-UNEP-2023-final", ("UNEP", 2023)),
        ("un_habitat 2023 v2", ("UN-HABITAT", 2023)),  # a code of two words, any separator, any case
        ("UNOV-UNODC-2022", ("UNOV-UNODC", 2022)),
        ("UNEP_sent_2025-03-01", ("UNEP", None)),  # the day it was sent, not the year it reports
        ("UNEP_2025-03-01", ("UNEP", None)),
        ("UNEP GHG 2023 final", ("UNEP", None)),  # a year further on: not what the name starts with
        ("vintage_1999", (None, None)),
        ("tplver_number_2025_1", (None, None)),
        ("2023_report", (None, 2023)),
    ],
)
def test_a_file_name_is_read_for_the_entity_and_year_it_starts_with(stem, named):
    from pipeline import codelists
    from pipeline.intake.cross_checks import named_in

    assert named_in(stem, set(codelists.codes("entities"))) == named


def test_a_file_named_by_the_day_it_was_sent_is_no_mismatch(inputs):
    submit(inputs, "2024/UNEP_sent_2025-03-01.xlsx", valid_sheets("UNEP", 2024))
    submit(inputs, "2024/UN-HABITAT_2023.xlsx", valid_sheets("UN-HABITAT", 2024))
    assert gtb(inputs, "run") == 0
    sql = "SELECT file_name FROM findings JOIN submissions USING (submission_id) WHERE code = 'file-name-mismatch'"
    found = query(inputs, sql)
    assert found == [("UN-HABITAT_2023.xlsx",)]


def status_json(inputs: Path, year: int, capsys) -> dict:
    capsys.readouterr()
    assert gtb(inputs, "status", "--year", str(year), "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_status_lists_the_rejected_files_no_entity_row_shows(inputs, capsys):
    """A code not in the reference list, or an Entity sheet with no year: rejected, and the run says
    "gtb status lists them"; they were in no row. They are listed apart, by the year read or the
    year folder, until a file at the same path reads."""
    foo = submit(inputs, "2024/FOO_2024.xlsx", set_cell(valid_sheets("UNEP", 2024), "Entity", "B2", "FOO"))
    submit(inputs, "2024/UNEP_noyear.xlsx", set_cell(valid_sheets("UNEP", 2024), "Entity", "B3", None))
    submit(inputs, "2023/FOO_2023.xlsx", set_cell(valid_sheets("UNEP", 2023), "Entity", "B2", "FOO"))
    assert gtb(inputs, "run") == 1
    got = status_json(inputs, 2024, capsys)
    files = {u["file"]: u for u in got["unattributed"]}
    assert set(files) == {"FOO_2024.xlsx", "UNEP_noyear.xlsx"}
    assert files["FOO_2024.xlsx"]["entity"] is None and files["FOO_2024.xlsx"]["year"] == 2024
    assert "FOO" in files["FOO_2024.xlsx"]["first_finding"] and files["FOO_2024.xlsx"]["errors"] >= 1
    assert files["UNEP_noyear.xlsx"]["entity"] == "UNEP" and files["UNEP_noyear.xlsx"]["year"] is None
    assert "FOO_2024.xlsx" not in {e["file"] for e in got["entities"]}
    assert gtb(inputs, "status", "--year", "2024") == 0
    shown = capsys.readouterr().out
    assert "2 rejected files of 2024 not attributed to an entity" in shown and "FOO_2024.xlsx" in shown
    write_workbook(foo, valid_sheets("UNEP", 2024))  # the same name, now UNEP's: it reads
    gtb(inputs, "run")
    assert {u["file"] for u in status_json(inputs, 2024, capsys)["unattributed"]} == {"UNEP_noyear.xlsx"}
    assert [u["file"] for u in status_json(inputs, 2023, capsys)["unattributed"]] == ["FOO_2023.xlsx"]


def test_status_names_every_expected_entity(inputs, capsys):
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    submit(inputs, "2024/WFP_2024.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", -5))
    gtb(inputs, "run")
    got = status_json(inputs, 2024, capsys)
    assert set(got) == {"year", "entities", "unattributed"} and got["year"] == 2024 and got["unattributed"] == []
    entities = {e["entity"]: e for e in got["entities"]}
    expected = {
        code
        for code, start, until in query(inputs, "SELECT entity_code, expected_from, expected_until FROM entities")
        if (start or 0) <= 2024 <= (until or 9999)
    }
    assert set(entities) == expected and len(expected) > 50
    assert set(entities["UNEP"]) == {
        "entity",
        "status",
        "file",
        "received_at",
        "errors",
        "warnings",
        "open_flags",
        "first_finding",
        "expected",
        "report",
        "sha256",
    }
    assert entities["UNEP"]["status"] == "loaded" and entities["UNEP"]["file"] == "UNEP_2024.xlsx"
    assert len(entities["UNEP"]["sha256"]) == 64  # the loaded file's bytes, as a decision on it names them
    wfp = entities["WFP"]
    assert wfp["status"] == "rejected" and wfp["errors"] == 1 and wfp["first_finding"].startswith("Water!D2")
    assert entities["UNHCR"] == {
        "entity": "UNHCR",
        "status": "missing",
        "file": None,
        "received_at": None,
        "errors": 0,
        "warnings": 0,
        "open_flags": 0,
        "first_finding": None,
        "expected": True,
        "report": None,
        "sha256": None,
    }
    # the report's completeness view tells the rejected from the never received
    completeness = dict(
        query(
            inputs,
            "SELECT entity_code, (data_source, rejected_workbooks) FROM reporting_completeness WHERE year = 2024",
        )
    )
    assert completeness["WFP"] == ("missing", 1) and completeness["UNHCR"] == ("missing", 0)
    assert completeness["UNEP"] == ("workbook", 0)
    # the readable table says the same, with the counts
    assert gtb(inputs, "status", "--year", "2024") == 0
    text = capsys.readouterr().out
    assert "UNHCR" in text and "missing" in text and f"{len(expected) - 2} missing" in text


def test_entity_not_yet_expected_is_not_missing(inputs, capsys):
    gtb(inputs, "run")
    later = query(inputs, "SELECT entity_code, expected_from FROM entities WHERE expected_from > 2010 ORDER BY 1")
    assert later, "the code list has entities that joined after 2010"
    for code, start in later:
        before = {e["entity"] for e in status_json(inputs, start - 1, capsys)["entities"]}
        after = {e["entity"] for e in status_json(inputs, start, capsys)["entities"]}
        assert code not in before and code in after


def test_an_entity_not_expected_that_sent_a_workbook_is_listed_with_its_flags(inputs, capsys):
    """UNSSC is expected from 2021; its 2020 workbook, loaded with a flag, is in the tracker that the
    run and the report point to, marked as not expected, and the expected entities are as before."""
    [(start,)] = query_entities("UNSSC")
    year = start - 1
    slip = set_cell(set_cell(valid_sheets("UNSSC", year), "Facilities", "D2", 2_400), "Facilities", "F2", 600)
    submit(inputs, f"{year - 1}/UNSSC_{year - 1}.xlsx", valid_sheets("UNSSC", year - 1))
    gtb(inputs, "run")
    submit(inputs, f"{year}/UNSSC_{year}.xlsx", slip)
    gtb(inputs, "run")
    rows = {e["entity"]: e for e in status_json(inputs, year, capsys)["entities"]}
    assert rows["UNSSC"]["expected"] is False and rows["UNSSC"]["status"] == "loaded-with-flags"
    assert rows["UNSSC"]["open_flags"] >= 1
    assert all(e["expected"] for code, e in rows.items() if code != "UNSSC")
    assert gtb(inputs, "status", "--year", str(year)) == 0
    assert f"UNSSC (not expected in {year})" in capsys.readouterr().out


def query_entities(code: str) -> list[tuple[int]]:
    import csv

    from pipeline import codelists

    with (codelists.CODELIST_DIR / "entities.csv").open(newline="", encoding="utf-8") as fh:
        return [(int(r["expected_from"]),) for r in csv.DictReader(fh) if r["code"] == code]


def test_draft_until_accepted_then_final(inputs, capsys):
    two_years(inputs, mwh_slip())
    assert [e["status"] for e in status_json(inputs, 2024, capsys)["entities"] if e["entity"] == "UNEP"] == [
        "loaded-with-flags"
    ]
    # --final refuses while a flag is open, and names it
    assert gtb(inputs, "report", "--year", "2024", "--final") == 1
    err = capsys.readouterr().err
    assert "UNEP Facilities!D2 implausible-change" in err
    # without --final the report is written, and says it is a draft
    assert gtb(inputs, "report", "--year", "2024") == 0
    index = (inputs.parent / "out" / "report" / "2024" / "index.md").read_text()
    assert "draft" in index.lower() and "UNEP" in index
    # acceptance needs a reason, closes the flags and is logged
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", " ") == 2
    assert (
        gtb(
            inputs,
            "accept",
            "UNEP",
            "2024",
            "--reason",
            "generator site closed; confirmed by e-mail",
            "--by",
            "analyst1",
        )
        == 0
    )
    assert "1 open flag(s) closed" in capsys.readouterr().out
    assert query(inputs, "SELECT status, reviewed_by, review_reason FROM flags") == [
        ("accepted", "analyst1", "generator site closed; confirmed by e-mail")
    ]
    [(by, entity, year, closed, reason)] = query(
        inputs, "SELECT reviewed_by, entity_code, reporting_year, flags_closed, reason FROM reviews"
    )
    assert (by, entity, year, closed) == ("analyst1", "UNEP", 2024, 1) and "e-mail" in reason
    assert [e["status"] for e in status_json(inputs, 2024, capsys)["entities"] if e["entity"] == "UNEP"] == ["accepted"]
    assert gtb(inputs, "report", "--year", "2024", "--final") == 0
    index = (inputs.parent / "out" / "report" / "2024" / "index.md").read_text()
    assert "draft" not in index.lower()


def test_accept_without_a_loaded_submission_is_a_clear_error(inputs, capsys):
    gtb(inputs, "run")
    assert gtb(inputs, "accept", "UNHCR", "2024", "--reason", "ok") == 2
    assert "UNHCR has no loaded submission for 2024" in capsys.readouterr().err


def test_resubmission_reopens_review(inputs, capsys):
    two_years(inputs, mwh_slip())
    gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked")
    # the corrected workbook replaces the accepted one: its review starts again, with no flag
    submit(inputs, "2024/UNEP_2024_v2.xlsx", valid_sheets("UNEP", 2024))
    assert gtb(inputs, "run") == 0
    [unep] = [e for e in status_json(inputs, 2024, capsys)["entities"] if e["entity"] == "UNEP"]
    assert unep["status"] == "loaded" and unep["file"] == "UNEP_2024_v2.xlsx" and unep["open_flags"] == 0
    # the old flag and its acceptance stay for the record
    assert query(inputs, "SELECT count(*) FROM reviews") == [(1,)]
    assert query(inputs, "SELECT status FROM flags") == [("accepted",)]


def test_explanation_in_the_comment_column_travels_with_the_flag(inputs):
    sheets = set_cell(valid_sheets("UNEP", 2024), "Water", "D2", 610_000)
    sheets["Water"][0].append("comment")
    sheets["Water"][1].append("new staff housing block with a pool")
    two_years(inputs, sheets)
    [(explanation,)] = query(inputs, "SELECT explanation FROM flags WHERE sheet = 'Water'")
    assert explanation == "new staff housing block with a pool"


def test_compare_shows_the_focal_points_explanation_beside_its_flag(inputs, capsys):
    """What an analyst weighs before `gtb accept`: the comment on the flagged row, printed under its
    flag, a terminal escape typed in it shown, never run."""
    sheets = set_cell(valid_sheets("UNEP", 2024), "Water", "D2", 610_000)
    sheets["Water"][0].append("comment")
    sheets["Water"][1].append("new staff housing block with a pool \x9b2J[bold]")  # CSI: clear the screen
    two_years(inputs, sheets)
    capsys.readouterr()
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    flag_line = next(i for i, line in enumerate(lines) if "Water!D2" in line)
    [explained] = [i for i, line in enumerate(lines) if "explained:" in line]
    assert explained > flag_line
    assert lines[explained].strip() == "explained: new staff housing block with a pool \\x9b2J[bold]"
    assert "\x9b" not in out


def test_accept_shows_the_name_it_logged_without_running_an_escape(inputs, capsys):
    two_years(inputs, mwh_slip())
    capsys.readouterr()
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked", "--by", "\x1b[31mEVIL\x1b]0;t\x07") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "logged for \\x1b[31mEVIL" in out


def test_validate_with_db_shows_flags_and_loads_nothing(inputs, capsys, tmp_path):
    submit(inputs, "2023/UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    gtb(inputs, "run")
    before = db_of(inputs).read_bytes()
    candidate = write_workbook(tmp_path / "UNEP_2024.xlsx", mwh_slip())
    code = main(["validate", str(candidate), "--db", str(db_of(inputs)), "--report-dir", str(tmp_path / "reports")])
    assert code == 0
    issues = (tmp_path / "reports" / "UNEP_2024" / "issues.csv").read_text()
    assert "implausible-change" in issues and "Facilities,D2" in issues
    assert db_of(inputs).read_bytes() == before, "validate never writes the database"


def test_compare_prints_both_years(inputs, capsys):
    two_years(inputs, mwh_slip())
    capsys.readouterr()
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 0
    out = capsys.readouterr().out
    assert "2023" in out and "2024" in out and "flag" in out and "D2" in out
    result = api.compare("UNEP", 2024, db_of(inputs))
    assert result.previous_year == 2023 and any(line.flagged for line in result.lines)


def marked(inputs: Path) -> set[str]:
    return {line.key.key for line in api.compare("UNEP", 2024, db_of(inputs)).lines if line.flagged}


def test_compare_marks_what_a_flag_of_a_french_workbook_bears_on(inputs):
    """A flag keeps the tab as the workbook names it ("Installations"): compare reads it back to its
    sheet, so a French workbook's electricity slip marks what an English one's does."""
    from schemas import i18n

    two_years(inputs, mwh_slip())
    english = marked(inputs)
    for path in (inputs / "submissions").rglob("*.xlsx"):
        path.unlink()
    db_of(inputs).unlink()
    french = {i18n.sheet_name(name, "fr"): rows for name, rows in mwh_slip().items()}
    two_years(inputs, french)
    assert query(inputs, "SELECT DISTINCT sheet FROM flags WHERE cell = 'D2'") == [("Installations",)]
    assert marked(inputs) == english
    assert {"facilities_tco2e", "scope2_tco2e", "scope2_market_tco2e", "electricity_kwh", "total_tco2e"} <= english


def test_compare_marks_only_what_a_water_flag_bears_on(inputs):
    sheets = valid_sheets("UNEP", 2024)
    sheets["Water"][1][3] *= 1000
    two_years(inputs, sheets)
    assert query(inputs, "SELECT DISTINCT sheet FROM flags WHERE status = 'open'") == [("Water",)]
    assert marked(inputs) == {"water_m3", "water_per_capita_m3"}


def test_every_indicator_a_flag_bears_on_is_one_of_the_output_contract():
    from pipeline.indicators import keys
    from pipeline.review import compare
    from schemas import contract

    known = {k.key for k in keys()}
    assert set(compare.BEARS_ON) <= {spec.name for spec in contract.sheets()}
    assert all(set(bears) <= known for bears in compare.BEARS_ON.values())


@pytest.mark.parametrize(
    ("lang", "old", "new", "words"),
    [
        ("fr", "2\u202f400\u202f000 kWh", "2\u202f400 kWh", ("passage de", "Électricité")),
        ("es", "2.400.000 kWh", "2.400 kWh", ("pasó de", "Electricidad")),
    ],
)
def test_a_flag_is_written_in_the_workbooks_language_numbers_included(inputs, lang, old, new, words):
    """A French reader takes 1,200,000 for 1.2: a flag of a French or Spanish workbook writes its
    figures, the change, the item, the unit, the bound's reason and the comment column as that
    language does."""
    from schemas import contract, i18n

    sheets = mwh_slip()
    for name, rows in sheets.items():  # headers as the language's template writes them
        if contract.sheet(name).is_table:
            rows[0] = [i18n.header(name, str(h), lang) if h in contract.sheet(name).names else h for h in rows[0]]
    two_years(inputs, {i18n.sheet_name(name, lang): rows for name, rows in sheets.items()})
    messages = [m for (m,) in query(inputs, "SELECT message FROM flags WHERE cell = 'D2' ORDER BY code")]
    [change] = [m for m in messages if words[0] in m]
    assert old in change and new in change and words[1] in change and "÷1" in change
    assert repr(i18n.header("Facilities", "comment", lang)) in change
    assert "2,400" not in change and "electricity" not in change
    # its row of findings names the column as the workbook does; its value is the figure as a number
    # in every language (a Spanish 2.400 would read as 2.4 in an English spreadsheet)
    rows = query(inputs, "SELECT column_header, value FROM findings WHERE cell = 'D2' AND code = 'implausible-change'")
    assert rows and {header for header, _ in rows} == {i18n.header("Facilities", "quantity", lang)}
    shown = new.removesuffix(" kWh")
    assert shown.replace("\u202f", "").replace(".", "") in {value for _, value in rows}
    assert all(value.replace(".", "", 1).isdigit() for _, value in rows)


def test_every_figure_a_flag_names_has_its_words_in_every_language():
    """Every unit and every figure's name a flag can show, and the reason of every bound it
    gives, is written in each language (schemas/i18n/text.csv, schemas/plausibility.csv)."""
    from pipeline.reference import factors
    from pipeline.review.plausibility import ITEM_LISTS, Said, _unit, checks
    from schemas import i18n

    units = {c.unit for c in checks()} | set(factors.conversions()["to_unit"])
    metrics = {c.metric for c in checks() if c.check == "change"} - set(ITEM_LISTS)
    said = [*(_unit(u) for u in units), *(Said(f"metric.{m}", m) for m in metrics)]
    assert [s.key for s in said if s.key not in i18n.text_keys()] == []
    maximum = [c for c in checks() if c.check == "maximum"]
    assert maximum and all({"fr", "es"} <= dict(c.reasons).keys() for c in maximum)


def test_run_summary_names_files_and_the_runs_table_keeps_it(inputs, capsys):
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    submit(inputs, "2024/WFP_2024.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", -5))
    gtb(inputs, "run")
    first = capsys.readouterr().out
    assert "loaded: UNEP_2024.xlsx" in first
    assert "rejected WFP_2024.xlsx: 1 error" in first and "Water!D2" in first, (
        "each new rejection with its first finding"
    )
    # the next run: a resubmission of UNEP, the old rejection summarised in one line
    submit(inputs, "2024/UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP", 2024), "Facilities", "D2", 2_500_000))
    gtb(inputs, "run")
    second = capsys.readouterr().out
    assert "loaded: UNEP_2024_v2.xlsx" in second and "superseded: UNEP_2024.xlsx" in second
    assert "UNEP 2024 replaced: total" in second and "per capita" in second
    assert "still rejected, as before: 1 file (WFP_2024.xlsx)" in second
    assert "Water!D2" not in second, "an old rejection is not repeated in full"
    runs = query(
        inputs, "SELECT files_loaded, files_rejected, submissions_superseded, summary FROM runs ORDER BY run_id"
    )
    assert [r[:3] for r in runs] == [(1, 1, 0), (1, 1, 1)]
    for (_, _, _, summary), printed in zip(runs, (first, second), strict=True):
        for line in summary.splitlines():
            assert line.strip() in printed, line


def test_years_loaded_together_are_flagged_once(inputs):
    # 40,000 trips in both years: above the per-person bound each year, no change between them
    submit(inputs, "2023/UNEP_2023.xlsx", set_cell(valid_sheets("UNEP", 2023), "AirTravel", "E2", 40_000))
    submit(inputs, "2024/UNEP_2024.xlsx", set_cell(mwh_slip(), "AirTravel", "E2", 40_000))
    gtb(inputs, "run")  # both years in one run: 2023 is loaded and is 2024's previous year
    flags = query(
        inputs,
        "SELECT s.reporting_year, check_name, cell, count(*) FROM flags JOIN submissions s USING (submission_id) "
        "GROUP BY ALL ORDER BY ALL",
    )
    assert all(n == 1 for *_, n in flags), flags
    assert {(y, c) for y, c, _, _ in flags} == {
        (2023, "flights_per_person"),
        (2024, "flights_per_person"),
        (2024, "energy_change_kwh"),
    }


def test_per_capita_is_compared_only_under_the_same_factors(inputs):
    # Personnel a third each year: per capita triples. 2023 -> 2024 share a factor set; 2024 -> 2025 do not
    # (air travel by the ICAO method from 2025), so only the first pair is compared per capita.
    for year in (2023, 2024, 2025):
        sheets = valid_sheets("UNEP", year)
        if year != 2023:
            sheets = set_cell(sheets, "Entity", "B4", 1250 // (3 ** (year - 2023)))
        submit(inputs, f"{year}/UNEP_{year}.xlsx", sheets)
    gtb(inputs, "run")
    rows = query(
        inputs,
        "SELECT s.reporting_year, f.check_name FROM flags f JOIN submissions s USING (submission_id) ORDER BY ALL",
    )
    assert (2024, "per_capita_change") in rows and (2025, "per_capita_change") not in rows
    assert (2024, "personnel_change") in rows and (2025, "personnel_change") in rows
    [(message, sheet, cell)] = query(
        inputs, "SELECT message, sheet, cell FROM flags WHERE check_name = 'per_capita_change'"
    )
    assert message.startswith("emissions per capita went from")
    assert (sheet, cell) == ("Facilities", "D2"), "the largest emitting row (the electricity) names its quantity cell"


def test_compare_says_when_the_two_years_were_calculated_with_different_factor_sets(inputs, capsys):
    """2024 on gtb-2025.1, 2025 on gtb-2026.1 (air travel by the ICAO method): compare showed the
    drop in air travel without a word on the method, which the report says wherever it compares."""
    for year in (2023, 2024, 2025):
        submit(inputs, f"{year}/UNEP_{year}.xlsx", valid_sheets("UNEP", year))
    gtb(inputs, "run")
    capsys.readouterr()
    assert gtb(inputs, "compare", "UNEP", "--year", "2025") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: 2024 was calculated with gtb-2025.1 and 2025 with gtb-2026.1" in out
    result = api.compare("UNEP", 2025, db_of(inputs))
    assert result.factor_set_changed and result.previous_factor_sets == "gtb-2025.1"
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 0
    assert "note:" not in capsys.readouterr().out
    assert not api.compare("UNEP", 2024, db_of(inputs)).factor_set_changed


def test_the_figures_worked_out_before_the_views_agree_with_the_views(inputs):
    """Two places work out figures of a submission for themselves: the plausibility flags (inside
    the load transaction) and the template's "Last year" sheet. Each agrees with the views that
    define the indicators (per capita, water and waste per person, the total)."""
    from pipeline.review import last_year, plausibility

    two_years(inputs, set_cell(valid_sheets("UNEP", 2024), "Water", "D2", 61_000))
    with duckdb.connect(str(db_of(inputs)), read_only=True) as con:
        for year in (2023, 2024):
            [(sid,)] = con.execute(
                "SELECT submission_id FROM submissions WHERE reporting_year = ? AND status = 'loaded'", [year]
            ).fetchall()
            cur = con.execute("SELECT * FROM entity_indicators WHERE entity_code = 'UNEP' AND year = ?", [year])
            view = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
            metrics = plausibility.metrics(con, [sid])
            worked = {m: float(v) for m, v in zip(metrics["metric"], metrics["value"], strict=True)}
            assert worked["per_capita"] == pytest.approx(view["per_capita_tco2e"], rel=1e-12)
            assert worked["water_per_person"] == pytest.approx(view["water_per_capita_m3"], rel=1e-12)
            assert worked["waste_per_person"] == pytest.approx(view["waste_per_capita_kg"], rel=1e-12)
            assert worked["personnel"] == view["personnel"]
            sheet = last_year.last_year(db_of(inputs), "UNEP", year + 1)
            assert sheet is not None and sheet.year == year
            assert sheet.total_tco2e == pytest.approx(view["total_tco2e"], rel=1e-12)


def test_a_source_reported_last_year_and_not_this_year_is_flagged(inputs):
    """A sheet emptied by mistake loaded clean: UNV's air travel went from 384 t to nothing with no
    flag, as the change checks compared only figures present in both years. Each source of the
    previous year left unreported is now a flag on its sheet, naming last year's figure; its
    explanation is the year's comment on the Entity sheet. Refrigerants, refilled in some years
    only, are not flagged."""
    sheets = valid_sheets("UNEP", 2024)
    for sheet in ("AirTravel", "Water", "Refrigerants"):
        sheets[sheet] = sheets[sheet][:1]  # the header alone
    sheets["Entity"].append(["comment", "no travel this year; the compound's water meter failed"])
    two_years(inputs, sheets)
    flags = query(inputs, "SELECT sheet, cell, code, message, explanation, status FROM flags ORDER BY sheet")
    assert [(f[0], f[1], f[2], f[5]) for f in flags] == [
        ("AirTravel", "", "implausible-change", "open"),
        ("Water", "", "implausible-change", "open"),
    ], flags
    air, water = flags
    assert "AirTravel sheet reports nothing for 2024" in air[3] and "2023 had 104 flights" in air[3], air[3]
    assert "61,000 m³" in water[3] and "'Comment' field of the Entity sheet" in water[3], water[3]
    assert {air[4], water[4]} == {"no travel this year; the compound's water meter failed"}


def test_a_source_with_zeros_only_is_not_reported_and_one_still_reported_is_no_vanishing(inputs):
    sheets = valid_sheets("UNEP", 2024)
    for row in sheets["Water"][1:]:
        row[3] = 0  # volume 0 on every row
    sheets["Facilities"] = sheets["Facilities"][:2]  # electricity only: diesel and gas are no longer used
    two_years(inputs, sheets)
    flags = query(inputs, "SELECT sheet, message FROM flags")
    assert [sheet for sheet, _ in flags] == ["Water"], flags


def rejected_file_names(inputs: Path) -> set[str]:
    return {name for (name,) in query(inputs, "SELECT file_name FROM submissions WHERE status = 'rejected'")}


def listed_files(got: dict) -> set[str]:
    """Every file `gtb status --json` names: the rows' files, the files under them, the unattributed."""
    rows = got["entities"]
    return (
        {e["file"] for e in rows if e["file"]}
        | {f["file"] for e in rows for f in e.get("rejected_files", [])}
        | {u["file"] for u in got["unattributed"]}
    )


def test_status_shows_a_correction_rejected_after_the_loaded_workbook(inputs, capsys):
    """An analyst asks for a correction; it arrives and is rejected. The loaded workbook still
    decides the row's status, but the row says a newer file was rejected (file, errors, first
    finding): it showed the old loaded file alone, and `gtb run` said "gtb status lists them"."""
    two_years(inputs, mwh_slip())
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked") == 0
    submit(inputs, "2024/UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP", 2024), "Water", "D2", -5))
    submit(inputs, "2024/WFP_2024.xlsx", valid_sheets("WFP", 2024))
    assert gtb(inputs, "run") == 1
    # two different corrections of WFP in one run: both rejected, the loaded one stays
    submit(inputs, "2024/WFP_2024_v2.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", 700))
    submit(inputs, "2024/WFP_2024_v3.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", 800))
    assert gtb(inputs, "run") == 1
    got = status_json(inputs, 2024, capsys)
    rows = {e["entity"]: e for e in got["entities"]}
    unep = rows["UNEP"]
    assert (unep["status"], unep["file"], unep["errors"]) == ("accepted", "UNEP_2024.xlsx", 0)
    [since] = unep["rejected_files"]
    assert since["file"] == "UNEP_2024_v2.xlsx" and since["errors"] == 1 and since["newer"] is True
    assert since["first_finding"].startswith("Water!D2") and since["year"] == 2024
    wfp = rows["WFP"]
    assert (wfp["status"], wfp["file"]) == ("loaded", "WFP_2024.xlsx")
    assert {f["file"] for f in wfp["rejected_files"]} == {"WFP_2024_v2.xlsx", "WFP_2024_v3.xlsx"}
    assert all(f["newer"] and f["errors"] >= 1 for f in wfp["rejected_files"])
    assert "rejected_files" not in rows["UNHCR"], "a row without one keeps its keys"
    assert rejected_file_names(inputs) <= listed_files(got), "every rejected file is listed somewhere"
    assert gtb(inputs, "status", "--year", "2024") == 0
    text = capsys.readouterr().out
    assert "rejected since" in text and "UNEP_2024_v2.xlsx" in text and "WFP_2024_v3.xlsx" in text
    assert "2 loaded with a newer file rejected since" in text
    # a correction that loads replaces the rejected one: the row is the new file's alone
    submit(inputs, "2024/UNEP_2024_v3.xlsx", valid_sheets("UNEP", 2024))
    gtb(inputs, "run")
    unep = next(e for e in status_json(inputs, 2024, capsys)["entities"] if e["entity"] == "UNEP")
    assert unep["file"] == "UNEP_2024_v3.xlsx" and "rejected_files" not in unep


def test_status_lists_last_years_workbook_sent_as_a_correction_under_the_year_of_its_folder(inputs, capsys):
    """A "correction" that is really last year's workbook is rejected (`year-mismatch`) and was
    recorded under last year, shown in no year's row. It is listed under the year of the folder it
    was put in, saying which year the workbook names; last year's row does not show it."""
    two_years(inputs, valid_sheets("UNEP", 2024))
    submit(inputs, "2024/UNEP_2024_corrected.xlsx", valid_sheets("UNEP", 2023))
    submit(inputs, "2024/WFP_2024.xlsx", valid_sheets("WFP", 2023))  # WFP's only file of 2024
    assert gtb(inputs, "run") == 1
    got = status_json(inputs, 2024, capsys)
    rows = {e["entity"]: e for e in got["entities"]}
    [wrong] = rows["UNEP"]["rejected_files"]
    assert rows["UNEP"]["status"] == "loaded" and rows["UNEP"]["file"] == "UNEP_2024.xlsx"
    assert wrong["file"] == "UNEP_2024_corrected.xlsx" and wrong["year"] == 2023 and wrong["newer"] is True
    assert "reports the year 2023" in wrong["first_finding"]
    wfp = rows["WFP"]
    assert (wfp["status"], wfp["file"], wfp["workbook_year"]) == ("rejected", "WFP_2024.xlsx", 2023)
    assert "workbook_year" not in rows["UNEP"]
    assert rejected_file_names(inputs) <= listed_files(got)
    last = {e["entity"]: e for e in status_json(inputs, 2023, capsys)["entities"]}
    assert "rejected_files" not in last["UNEP"] and last["WFP"]["status"] == "missing"
    assert gtb(inputs, "status", "--year", "2024") == 0
    assert "(the workbook says 2023)" in capsys.readouterr().out


def test_status_and_compare_before_any_run_completed(inputs, capsys):
    """A first run that was stopped leaves a warehouse with its tables and nothing in them: status
    said "0 entities expected", compare gave an internal error (no indicator views)."""
    from pipeline import codelists
    from pipeline.warehouse.db import connect

    db_of(inputs).parent.mkdir(parents=True)
    connect(db_of(inputs)).close()  # created and migrated, as the run does before its transaction
    got = status_json(inputs, 2024, capsys)
    expected = {
        r["code"]
        for r in codelists.table("entities")
        if int(r["expected_from"] or 0) <= 2024 <= int(r["expected_until"] or 9999)
    }
    assert {e["entity"] for e in got["entities"]} == expected and len(expected) > 50
    assert {e["status"] for e in got["entities"]} == {"missing"} and got["no_run_completed"] is True
    assert gtb(inputs, "status", "--year", "2024") == 0
    text = capsys.readouterr().out
    assert "no run has completed on this database yet" in text and f"{len(expected)} entities expected" in text
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 2
    err = capsys.readouterr().err
    assert "no run has completed" in err and "internal error" not in err and len(err.strip().splitlines()) == 1
    assert gtb(inputs, "run") == 0  # once a run completed, the note goes
    assert "no_run_completed" not in status_json(inputs, 2024, capsys)


def test_an_unattributed_finding_without_a_sheet_does_not_start_with_a_colon(inputs, capsys):
    (inputs / "submissions" / "2024").mkdir()
    (inputs / "submissions" / "2024" / "notes.xlsx").write_text("not a workbook\n", encoding="utf-8")
    assert gtb(inputs, "run") == 1
    [notes] = status_json(inputs, 2024, capsys)["unattributed"]
    assert notes["file"] == "notes.xlsx" and notes["first_finding"]
    assert not notes["first_finding"].startswith(":") and not notes["first_finding"].startswith(" ")


def test_accept_an_unknown_entity_code_says_it_is_not_known(inputs, capsys):
    gtb(inputs, "run")
    assert gtb(inputs, "accept", "NOPE", "2024", "--reason", "ok") == 2
    err = capsys.readouterr().err
    assert "NOPE is not a known entity code" in err and "no loaded submission" not in err
    assert gtb(inputs, "accept", "UN\u0415P", "2024", "--reason", "ok") == 2  # a Cyrillic E
    assert "type it as UNEP" in capsys.readouterr().err
    assert gtb(inputs, "accept", " unhcr ", "2024", "--reason", "ok") == 2  # a known one: as before
    assert "UNHCR has no loaded submission for 2024" in capsys.readouterr().err
    assert query(inputs, "SELECT count(*) FROM reviews") == [(0,)]


def slip_2023() -> dict:
    """UNEP 2023 with the same MWh-in-kWh slip as `mwh_slip` gives 2024."""
    return set_cell(set_cell(valid_sheets("UNEP", 2023), "Facilities", "D2", 2_400), "Facilities", "F2", 600)


def unep_row(inputs: Path, year: int, capsys) -> dict:
    [row] = [e for e in status_json(inputs, year, capsys)["entities"] if e["entity"] == "UNEP"]
    return row


def test_correcting_the_earlier_year_withdraws_the_later_years_flags_it_no_longer_raises(inputs, capsys):
    """A correction of 2023 after 2024 was loaded left 2024's flag comparing with the 2023 figures
    as first loaded: still open, naming a figure no longer in the warehouse, the year a draft."""
    two_years(inputs, mwh_slip())
    assert query(inputs, "SELECT cell, status FROM flags") == [("D2", "open")]
    capsys.readouterr()
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())  # 2023 had the same slip: now both years agree
    assert gtb(inputs, "run") == 0
    out = capsys.readouterr().out
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: 1 flag withdrawn, 0 raised" in out, out
    [(cell, state, by, reason, message)] = query(
        inputs, "SELECT cell, status, reviewed_by, review_reason, message FROM flags"
    )
    assert (cell, state, by) == ("D2", "withdrawn", "gtb run"), "the flag is kept, withdrawn, never deleted"
    assert "compared again with UNEP 2023" in reason and "2,400,000" in message
    # its finding has left the 2024 submission's findings and warning count; the tracker and compare agree
    assert query(
        inputs,
        "SELECT count(*) FROM findings f JOIN submissions s USING (submission_id) "
        "WHERE s.reporting_year = 2024 AND s.status = 'loaded' AND f.code = 'implausible-change'",
    ) == [(0,)]
    row = unep_row(inputs, 2024, capsys)
    assert (row["status"], row["open_flags"], row["warnings"], row["first_finding"]) == ("loaded", 0, 0, None)
    assert api.compare("UNEP", 2024, db_of(inputs)).flags == []
    # the report to send back says the same: written anew without the withdrawn flag
    issues = (inputs.parent / "out" / "validation" / "UNEP_2024" / "issues.csv").read_text(encoding="utf-8")
    assert "implausible-change" not in issues and issues.startswith("file,"), issues
    assert gtb(inputs, "report", "--year", "2024", "--final") == 0
    [(action, closed)] = query(inputs, "SELECT action, flags_closed FROM reviews")
    assert (action, closed) == ("compare-again", 1)
    # a rerun with nothing new compares nothing again
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    assert "compared again" not in capsys.readouterr().out
    assert query(inputs, "SELECT count(*) FROM reviews") == [(1,)]


def test_a_later_years_report_written_anew_goes_to_this_runs_outputs(inputs, capsys):
    """Compared again by a run given another --outputs (the outputs folder moved, or a backup
    restored), the later year's report was rewritten in the folder first recorded, outside this
    run's outputs, and the tracker kept pointing there."""
    two_years(inputs, mwh_slip())
    first = inputs.parent / "out" / "validation" / "UNEP_2024"
    before = (first / "issues.csv").read_text(encoding="utf-8")
    assert "implausible-change" in before
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())
    moved = inputs.parent / "moved"
    argv = ["run", "--db", str(db_of(inputs)), "--outputs", str(moved), "--inputs", str(inputs), "--jobs", "1"]
    assert main(argv) == 0
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: 1 flag withdrawn" in capsys.readouterr().out
    assert (first / "issues.csv").read_text(encoding="utf-8") == before, "the other outputs folder is left as it was"
    issues = (moved / "validation" / "UNEP_2024" / "issues.csv").read_text(encoding="utf-8")
    assert issues.startswith("file,") and "implausible-change" not in issues, issues
    assert (moved / "validation" / "UNEP_2024" / "annotated.xlsx").is_file()
    assert Path(unep_row(inputs, 2024, capsys)["report"]) == moved / "validation" / "UNEP_2024"


def test_correcting_the_earlier_year_raises_the_change_it_brings_even_after_an_acceptance(inputs, capsys):
    two_years(inputs, valid_sheets("UNEP", 2024))
    assert query(inputs, "SELECT count(*) FROM flags") == [(0,)]
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "no flags; figures checked") == 0
    assert unep_row(inputs, 2024, capsys)["status"] == "accepted"
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())  # the correction brings a x1000 change
    assert gtb(inputs, "run") == 0
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: 0 flags withdrawn, 1 raised" in (
        capsys.readouterr().out
    )
    flags = query(
        inputs,
        "SELECT s.reporting_year, f.sheet, f.cell, f.status, f.message FROM flags f JOIN submissions s "
        "USING (submission_id) ORDER BY 1",
    )
    assert [f[:4] for f in flags] == [(2024, "Facilities", "D2", "open")], flags
    assert "2,400 kWh in 2023" in flags[0][4] and "2,400,000" in flags[0][4], flags[0][4]
    row = unep_row(inputs, 2024, capsys)
    assert (row["status"], row["open_flags"], row["warnings"]) == ("loaded-with-flags", 1, 1)
    assert "Facilities!D2" in row["first_finding"]
    assert gtb(inputs, "report", "--year", "2024", "--final") == 1
    # the report to send back holds the new flag, on its cell, in the annotated copy too
    folder = Path(row["report"])
    assert "Facilities,D2" in (folder / "issues.csv").read_text(encoding="utf-8")
    assert (folder / "annotated.xlsx").is_file() and (folder / "submission.txt").read_text().startswith("sha256 ")


def test_a_late_year_in_between_becomes_what_the_next_year_is_compared_with(inputs, capsys):
    """2025 was compared with 2023 while 2024 was missing; when 2024 arrives, 2025 is compared with it."""
    submit(inputs, "2023/UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    submit(
        inputs,
        "2025/UNEP_2025.xlsx",
        set_cell(set_cell(valid_sheets("UNEP", 2025), "Facilities", "D2", 2_400), "Facilities", "F2", 600),
    )
    assert gtb(inputs, "run") == 0
    assert query(inputs, "SELECT cell, status FROM flags") == [("D2", "open")]
    submit(inputs, "2024/UNEP_2024.xlsx", mwh_slip())  # the slip began in 2024
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    assert "UNEP 2025 compared again with UNEP 2024 as it now stands: 1 flag withdrawn, 0 raised" in (
        capsys.readouterr().out
    )
    by_year = query(
        inputs,
        "SELECT s.reporting_year, f.status FROM flags f JOIN submissions s USING (submission_id) ORDER BY 1, 2",
    )
    assert by_year == [(2024, "open"), (2025, "withdrawn")], "2024 is flagged against 2023, 2025 no longer"


def test_a_later_year_whose_workbook_left_the_inputs_is_said_not_compared_again(inputs, capsys):
    two_years(inputs, mwh_slip())
    later = inputs / "submissions" / "2024" / "UNEP_2024.xlsx"
    kept = later.read_bytes()
    later.unlink()
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    out = capsys.readouterr().out
    assert "UNEP 2024 not compared again with UNEP 2023 as it now stands" in out and "UNEP_2024.xlsx" in out, out
    assert query(inputs, "SELECT status FROM flags") == [("open",)], "left as it was, and said"
    from pipeline.review.stale import not_compared_again

    with duckdb.connect(str(db_of(inputs)), read_only=True) as con:  # what the tracker and --final ask, by year
        assert not_compared_again(con, 2024) == [("UNEP", "UNEP_2024.xlsx", 2023)]
        assert not_compared_again(con, 2023) == [] and not_compared_again(con, 2025) == []
    # put back, the next run compares it again though it loads nothing new
    later.write_bytes(kept)
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    out = capsys.readouterr().out
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: 1 flag withdrawn, 0 raised" in out, out
    assert query(inputs, "SELECT status FROM flags") == [("withdrawn",)]
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    assert "compared again" not in capsys.readouterr().out, "once compared, no longer stale"


def test_a_later_year_moved_within_the_inputs_is_found_by_its_bytes(inputs, capsys):
    two_years(inputs, mwh_slip())
    moved = inputs / "submissions" / "archive" / "UNEP_2024.xlsx"
    moved.parent.mkdir()
    (inputs / "submissions" / "2024" / "UNEP_2024.xlsx").rename(moved)
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())
    assert gtb(inputs, "run") == 0
    assert query(inputs, "SELECT status FROM flags") == [("withdrawn",)]


def test_status_says_where_the_reports_to_send_back_are(inputs, capsys):
    """The tracker named the rejected and flagged files but not where their issues.csv and
    annotated.xlsx were: the analyst had to work out the folder (ENTITY_YEAR, or with a hash)."""
    two_years(inputs, mwh_slip())
    submit(inputs, "2024/WFP_2024.xlsx", set_cell(valid_sheets("WFP", 2024), "Waste", "E2", "approx. 500"))
    submit(inputs, "2024/FOO_2024.xlsx", set_cell(valid_sheets("UNEP", 2024), "Entity", "B2", "FOO"))
    gtb(inputs, "run")
    got = status_json(inputs, 2024, capsys)
    rows = {e["entity"]: e for e in got["entities"]}
    validation = inputs.parent / "out" / "validation"
    for code in ("UNEP", "WFP"):
        assert Path(rows[code]["report"]) == validation / f"{code}_2024", rows[code]
        assert (Path(rows[code]["report"]) / "annotated.xlsx").is_file()
    [foo] = got["unattributed"]
    assert Path(foo["report"]).parent == validation and (Path(foo["report"]) / "issues.csv").is_file()
    assert gtb(inputs, "status", "--year", "2024") == 0
    shown = capsys.readouterr().out
    lines = shown[shown.index("reports to send back") :].splitlines()
    assert any("UNEP UNEP_2024.xlsx" in line and line.rstrip().endswith("UNEP_2024") for line in lines), lines
    assert any("WFP WFP_2024.xlsx" in line and line.rstrip().endswith("WFP_2024") for line in lines), lines
    assert not any(line.lstrip().startswith("UNEP UNEP_2023") for line in lines)


def test_last_years_workbook_moved_out_of_this_years_folder_leaves_this_years_row(inputs, capsys):
    """Misfiled in 2024/, rejected as year-mismatch, then moved to 2023/ where it loads: 2024's row
    still said "rejected" with that file, while the report's completeness counted no rejection."""
    misfiled = submit(inputs, "2024/WFP_2023.xlsx", valid_sheets("WFP", 2023))
    assert gtb(inputs, "run") == 1
    assert {e["entity"]: e for e in status_json(inputs, 2024, capsys)["entities"]}["WFP"]["status"] == "rejected"
    (inputs / "submissions" / "2023").mkdir(exist_ok=True)
    misfiled.rename(inputs / "submissions" / "2023" / "WFP_2023.xlsx")
    assert gtb(inputs, "run") == 0
    this_year = {e["entity"]: e for e in status_json(inputs, 2024, capsys)["entities"]}["WFP"]
    assert (this_year["status"], this_year["file"]) == ("missing", None), this_year
    last_year = {e["entity"]: e for e in status_json(inputs, 2023, capsys)["entities"]}["WFP"]
    assert (last_year["status"], last_year["file"]) == ("loaded", "WFP_2023.xlsx")
    assert query(
        inputs, "SELECT rejected_workbooks FROM reporting_completeness WHERE entity_code = 'WFP' AND year = 2024"
    ) in ([], [(0,)]), "the report's completeness agrees: no rejection of WFP's for 2024"


def test_a_rejected_file_taken_out_of_the_inputs_no_longer_stands(inputs, capsys):
    """A rejected correction the analyst removed from the inputs ("v1 stands, ignore v2") stood for
    ever: the tracker said "rejected since", the report's completeness counted it, and only a new
    workbook loading cleared it. A run now withdraws each standing rejected file whose bytes are no
    longer in the inputs, says so, and puts it back when they are."""
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    assert gtb(inputs, "run") == 0
    v2 = submit(inputs, "2024/UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP", 2024), "Water", "D2", -5))
    wfp = submit(inputs, "2024/WFP_2024.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", -5))
    foo = submit(inputs, "2024/FOO_2024.xlsx", set_cell(valid_sheets("UNEP", 2024), "Entity", "B2", "FOO"))
    assert gtb(inputs, "run") == 1
    completeness = (
        "SELECT entity_code, rejected_workbooks FROM reporting_completeness "
        "WHERE year = 2024 AND rejected_workbooks > 0"
    )

    def tracker() -> tuple[dict, list]:
        got = status_json(inputs, 2024, capsys)
        return {e["entity"]: e for e in got["entities"]}, [u["file"] for u in got["unattributed"]]

    rows, unattributed = tracker()
    assert [r["file"] for r in rows["UNEP"]["rejected_files"]] == ["UNEP_2024_v2.xlsx"]
    assert rows["WFP"]["status"] == "rejected" and unattributed == ["FOO_2024.xlsx"]
    assert sorted(query(inputs, completeness)) == [("UNEP", 1), ("WFP", 1)]
    kept = {path: path.read_bytes() for path in (v2, wfp, foo)}
    moved = inputs / "submissions" / "archive" / "WFP_2024.xlsx"  # moved within the inputs: still there
    moved.parent.mkdir()
    wfp.rename(moved)
    v2.unlink()
    foo.unlink()
    capsys.readouterr()
    assert gtb(inputs, "run") == 1, "WFP's file, moved, is read again and still rejected"
    out = capsys.readouterr().out
    assert "rejected UNEP_2024_v2.xlsx (UNEP 2024's) no longer in the inputs folder: withdrawn" in out, out
    assert "rejected FOO_2024.xlsx (unattributed) no longer in the inputs folder" in out, out
    assert "rejected WFP_2024.xlsx" not in out, "found by its bytes where it now lies"
    rows, unattributed = tracker()
    assert "rejected_files" not in rows["UNEP"] and rows["UNEP"]["status"] == "loaded"
    assert rows["WFP"]["status"] == "rejected" and unattributed == []
    assert query(inputs, completeness) == [("WFP", 1)], "the report's completeness agrees with the tracker"
    capsys.readouterr()
    gtb(inputs, "run")
    assert "withdrawn" not in capsys.readouterr().out, "said once"
    moved.unlink()
    for path, data in kept.items():
        if path != wfp:
            path.write_bytes(data)
    capsys.readouterr()
    gtb(inputs, "run")
    out = capsys.readouterr().out
    assert "rejected UNEP_2024_v2.xlsx (UNEP 2024's) back in the inputs folder: it stands again" in out, out
    assert "rejected WFP_2024.xlsx (WFP 2024's) no longer in the inputs folder" in out, out
    rows, unattributed = tracker()
    assert [r["file"] for r in rows["UNEP"]["rejected_files"]] == ["UNEP_2024_v2.xlsx"]
    assert rows["WFP"]["status"] == "missing" and unattributed == ["FOO_2024.xlsx"]
    assert query(inputs, completeness) == [("UNEP", 1)]


def test_accept_by_a_blank_name_logs_the_account_not_spaces(inputs, capsys):
    import getpass

    two_years(inputs, mwh_slip())
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked", "--by", "   ") == 0
    assert query(inputs, "SELECT reviewed_by FROM reviews") == [(getpass.getuser(),)]


def test_a_recalculated_year_is_compared_again_by_the_next_run(inputs, capsys):
    """Per capita (tCO2e a person) is compared with the year before: a `gtb recalculate` of either
    year changes it, and the flags stood as computed before, even after a rerun."""
    two_years(inputs, valid_sheets("UNEP", 2024))
    args = ["--factor-set", "gtb-2026.1", "--reason", "restated with the 2026 set"]
    assert gtb(inputs, "recalculate", "--year", "2024", *args) == 0
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    out = capsys.readouterr().out
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands" in out, out
    assert query(inputs, "SELECT entity_code, reporting_year, action FROM reviews") == [("UNEP", 2024, "compare-again")]
    assert gtb(inputs, "run") == 0
    assert "compared again" not in capsys.readouterr().out


def test_this_years_figures_in_last_years_workbook_stand_rejected_after_last_year_is_corrected(inputs, capsys):
    """2025's figures typed into the 2024 workbook (its year left at 2024) and put in 2025/: rejected,
    the 2025 row says so. A different 2024 correction that loads replaced it "for 2024", and 2025
    read missing: the focal point's 2025 file had vanished from every list."""
    submit(inputs, "2024/WFP_2024.xlsx", valid_sheets("WFP", 2024))
    assert gtb(inputs, "run") == 0
    submit(inputs, "2025/WFP_2025.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", 777))
    assert gtb(inputs, "run") == 1
    submit(inputs, "2024/WFP_2024_v2.xlsx", set_cell(valid_sheets("WFP", 2024), "Water", "D2", 555))
    assert gtb(inputs, "run") == 0
    row = {e["entity"]: e for e in status_json(inputs, 2025, capsys)["entities"]}["WFP"]
    assert (row["status"], row["file"], row.get("workbook_year")) == ("rejected", "WFP_2025.xlsx", 2024), row


def test_a_newer_file_of_the_same_run_that_failed_is_told_as_rejected_since(inputs, capsys):
    """Read in name order, the failing file saved an hour after the valid one was 'also rejected':
    left out of the count of rows with a newer rejection and of the reports to send back."""
    import os

    good = submit(inputs, "2024/UNEP_2024_b.xlsx", valid_sheets("UNEP", 2024))
    bad = submit(inputs, "2024/UNEP_2024_a.xlsx", set_cell(valid_sheets("UNEP", 2024), "Water", "D2", -2))
    os.utime(good, (1_700_000_000, 1_700_000_000))
    os.utime(bad, (1_700_003_600, 1_700_003_600))
    assert gtb(inputs, "run") == 1
    row = unep_row(inputs, 2024, capsys)
    assert row["file"] == "UNEP_2024_b.xlsx" and [(f["file"], f["newer"]) for f in row["rejected_files"]] == [
        ("UNEP_2024_a.xlsx", True)
    ]
    assert gtb(inputs, "status", "--year", "2024") == 0
    out = capsys.readouterr().out
    assert "1 loaded with a newer file rejected since" in out
    assert "UNEP UNEP_2024_a.xlsx" in out[out.index("reports to send back") :]


def test_many_later_years_not_found_are_said_in_ten_lines_and_a_count():
    from pipeline.review.rereview import Later
    from pipeline.run import RunResult, _compared_again_lines

    result = RunResult(
        not_compared_again=[Later(i, f"E{i:02d}", 2025, "f.xlsx", f"2025/E{i:02d}.xlsx", "", 2024) for i in range(14)]
    )
    lines = [line.plain for line in _compared_again_lines(result)]
    assert len(lines) == 11 and lines[-1] == "  and 4 more later years not compared again (workbooks not in the inputs)"


def electricity(sheets: dict, kwh: float) -> dict:
    """The sheets with the Gigiri compound's electricity at `kwh` (none of it renewable)."""
    return set_cell(set_cell(sheets, "Facilities", "D2", kwh), "Facilities", "F2", None)


def test_a_figure_that_was_0_last_year_is_compared_with_this_year(inputs):
    """A figure of 0 was never compared with the next year, as a change is new / old: an entity's
    electricity went 35,926 -> 0 -> 2,000,000 kWh with no flag. A rise from 0 to at least the
    floor of its check is now flagged, saying it was 0, with no ratio (there is none)."""
    for year, kwh in ((2023, 35_926), (2024, 0), (2025, 2_000_000)):
        submit(inputs, f"{year}/UNEP_{year}.xlsx", electricity(valid_sheets("UNEP", year), kwh))
    gtb(inputs, "run")
    flags = query(
        inputs,
        "SELECT s.reporting_year, f.check_name, f.sheet, f.cell, f.value, f.message, f.status "
        "FROM flags f JOIN submissions s USING (submission_id) ORDER BY ALL",
    )
    # 35,926 -> 0 is one item of a source still reported (diesel, gas): not flagged, as an item left out is not
    assert [f[:5] for f in flags] == [(2025, "energy_change_kwh", "Facilities", "D2", "2000000")], flags
    message = flags[0][5]
    assert message.startswith(
        "Electricity (purchased or generated) went from 0 kWh in 2024 to 2,000,000 kWh in 2025."
    ), message
    assert "%" not in message and "(x" not in message and "inf" not in message, message
    assert "'Comment' column of this row" in message, message
    issues = (inputs.parent / "out" / "validation" / "UNEP_2025" / "issues.csv").read_text(encoding="utf-8")
    assert "Facilities,D2" in issues and "went from 0 kWh in 2024" in issues


@pytest.mark.parametrize(
    ("last", "now", "flagged"),
    [
        (0, 3, False),  # 3 kWh: below the floor of the energy check (10,000 kWh), too small to judge
        (0, 9_999, False),
        (0, 10_000, True),  # the floor, as for any change
        (0, 0, False),  # both 0: nothing to say
        (2_400_000, 0, False),  # an item at 0 while its source stays: as an item left out
    ],
)
def test_a_rise_from_0_is_flagged_from_the_floor_of_its_check(inputs, last, now, flagged):
    submit(inputs, "2023/UNEP_2023.xlsx", electricity(valid_sheets("UNEP", 2023), last))
    assert gtb(inputs, "run") == 0
    submit(inputs, "2024/UNEP_2024.xlsx", electricity(valid_sheets("UNEP", 2024), now))
    gtb(inputs, "run")
    flags = query(inputs, "SELECT check_name, cell, message FROM flags WHERE check_name = 'energy_change_kwh'")
    assert [(c, cell) for c, cell, _ in flags] == ([("energy_change_kwh", "D2")] if flagged else []), flags


def test_a_whole_source_at_0_last_year_is_flagged_on_its_largest_row(inputs):
    """Water 0 m³ last year (a meter not read, typed as 0), 61,000 m³ this year."""
    submit(inputs, "2023/UNEP_2023.xlsx", set_cell(valid_sheets("UNEP", 2023), "Water", "D2", 0))
    assert gtb(inputs, "run") == 0
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    gtb(inputs, "run")
    [(check, cell, message)] = query(inputs, "SELECT check_name, cell, message FROM flags")
    assert (check, cell) == ("water_change", "D2")
    assert message.startswith("water went from 0 m³ in 2023 to 61,000 m³ in 2024."), message


@pytest.mark.parametrize(("lang", "words"), [("fr", "passage de 0 kWh en 2023 à"), ("es", "pasó de 0 kWh en 2023 a")])
def test_a_rise_from_0_is_written_in_the_workbooks_language(inputs, lang, words):
    from schemas import contract, i18n

    submit(inputs, "2023/UNEP_2023.xlsx", electricity(valid_sheets("UNEP", 2023), 0))
    assert gtb(inputs, "run") == 0
    sheets = valid_sheets("UNEP", 2024)
    for name, rows in sheets.items():
        if contract.sheet(name).is_table:
            rows[0] = [i18n.header(name, str(h), lang) if h in contract.sheet(name).names else h for h in rows[0]]
    submit(inputs, "2024/UNEP_2024.xlsx", {i18n.sheet_name(name, lang): rows for name, rows in sheets.items()})
    gtb(inputs, "run")
    [(message,)] = query(inputs, "SELECT message FROM flags")
    assert words in message and "2,400,000" not in message, message
    assert repr(i18n.header("Facilities", "comment", lang)) in message, message


def test_a_rise_from_0_is_compared_again_when_last_year_is_corrected(inputs, capsys):
    """Compared again word for word (`review.rereview`): a correction of 2023 that keeps its 0
    leaves the flag as it was (accepted stays accepted); one that gives 2023 its figure withdraws it;
    one that puts the 0 back raises it anew."""
    submit(inputs, "2023/UNEP_2023.xlsx", electricity(valid_sheets("UNEP", 2023), 0))
    assert gtb(inputs, "run") == 0
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    gtb(inputs, "run")
    assert query(inputs, "SELECT cell, status FROM flags") == [("D2", "open")]
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "a new meter; 2023 had none") == 0
    v2 = set_cell(electricity(valid_sheets("UNEP", 2023), 0), "Water", "D2", 60_000)  # another figure corrected
    submit(inputs, "2023/UNEP_2023_v2.xlsx", v2)
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: its flags stand as they were" in (
        capsys.readouterr().out
    )
    assert query(inputs, "SELECT cell, status FROM flags") == [("D2", "accepted")]
    submit(inputs, "2023/UNEP_2023_v3.xlsx", valid_sheets("UNEP", 2023))  # 2023's electricity found
    assert gtb(inputs, "run") == 0
    assert "1 flag withdrawn, 0 raised" in capsys.readouterr().out
    assert query(inputs, "SELECT cell, status FROM flags") == [("D2", "withdrawn")]
    submit(inputs, "2023/UNEP_2023_v4.xlsx", electricity(valid_sheets("UNEP", 2023), 0))  # and lost again
    assert gtb(inputs, "run") == 0
    assert "0 flags withdrawn, 1 raised" in capsys.readouterr().out
    assert query(inputs, "SELECT cell, status FROM flags ORDER BY flag_id") == [
        ("D2", "withdrawn"),
        ("D2", "open"),
    ]


def reworded(monkeypatch, message_id: str, new_english: str) -> None:
    """The catalogue as an upgrade that rewords one message would ship it."""
    from pipeline import catalogue

    rows = {k: dict(v) for k, v in catalogue._messages().items()}
    rows[message_id]["en"] = new_english
    monkeypatch.setattr(catalogue, "_messages", lambda: rows)
    catalogue._compiled.cache_clear()  # and again once the test is done (`fresh_catalogue`)


@pytest.fixture
def fresh_catalogue(monkeypatch):
    """Templates compiled while a test reworded the catalogue are forgotten after it."""
    from pipeline import catalogue

    yield
    monkeypatch.undo()
    catalogue._compiled.cache_clear()


def unrelated_2023_correction() -> dict:
    """UNEP 2023 sent again with only the focal point's name changed: no compared figure moves."""
    return set_cell(valid_sheets("UNEP", 2023), "Entity", "B7", "Amina Otieno-Kamau")


def test_an_accepted_flag_reworded_by_an_upgrade_stays_accepted_when_compared_again(
    inputs, capsys, monkeypatch, fresh_catalogue
):
    two_years(inputs, mwh_slip())
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "the new chiller doubled the load") == 0
    [(flag_id, before)] = query(inputs, "SELECT flag_id, message FROM flags WHERE status = 'accepted'")
    reworded(
        monkeypatch,
        "implausible-change.change",
        "{what}: {old} {unit} in {old_year}, {new} {unit} in {new_year} ({ratio}).{cause} Explain a real change "
        "in the {comment} column.",
    )
    submit(inputs, "2023/UNEP_2023_v2.xlsx", unrelated_2023_correction())
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    out = capsys.readouterr().out
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: its flags stand as they were" in out, out
    [(same_id, status, reason, message)] = query(inputs, "SELECT flag_id, status, review_reason, message FROM flags")
    assert (same_id, status, reason) == (flag_id, "accepted", "the new chiller doubled the load")
    assert message != before and "Explain a real change" in message and "2,400,000" in message
    # the submission's finding says it as the flag now does, once, and the year stays accepted
    assert query(
        inputs,
        "SELECT f.message FROM findings f JOIN submissions s USING (submission_id) "
        "WHERE s.reporting_year = 2024 AND s.status = 'loaded' AND f.code = 'implausible-change'",
    ) == [(message,)]
    row = unep_row(inputs, 2024, capsys)
    assert (row["status"], row["open_flags"], row["warnings"]) == ("accepted", 0, 1)


def test_a_flag_recorded_before_flags_had_keys_is_recognised_by_its_text_and_given_its_key(inputs, capsys):
    two_years(inputs, mwh_slip())
    with duckdb.connect(str(db_of(inputs))) as con:  # as a database migrated from version 4 holds it
        con.execute("UPDATE flags SET message_key = NULL")
    submit(inputs, "2023/UNEP_2023_v2.xlsx", unrelated_2023_correction())
    capsys.readouterr()
    assert gtb(inputs, "run") == 0
    assert "UNEP 2024 compared again with UNEP 2023 as it now stands: its flags stand" in capsys.readouterr().out
    [(status, key)] = query(inputs, "SELECT status, message_key FROM flags")
    assert status == "open" and key and "implausible-change.change" in key


def test_a_flag_key_holds_the_figures_not_the_words():
    figure = plausibility.Figure(1, "energy", "electricity", "kwh", 2_400.0, "Facilities", 2, "quantity")
    was = plausibility.Figure(0, "energy", "electricity", "kwh", 2_400_000.0, "Facilities", 2, "quantity")
    [flag] = plausibility._change_flags(1, [figure], [was], (2023, 2024))
    key = plausibility.flag_key(flag)
    assert plausibility.flag_key(flag) == key, "the same flag, the same key"
    moved = plausibility.Figure(0, "energy", "electricity", "kwh", 2_500_000.0, "Facilities", 2, "quantity")
    [other] = plausibility._change_flags(1, [figure], [moved], (2023, 2024))
    assert plausibility.flag_key(other) != key, "another figure compared with is another flag"
    assert "hint.div1000" in key and "Header" in key and "2400.0" in key
    assert "went from" not in key and "kWh" not in key, "no rendered words in the key"
    import numpy as np

    as_numpy = plausibility.Figure(1, "energy", "electricity", "kwh", np.float64(2_400.0), "Facilities", 2, "quantity")
    [same] = plausibility._change_flags(1, [as_numpy], [was], (np.int64(2023), np.int64(2024)))
    assert plausibility.flag_key(same) == key, "a figure read through numpy is the same figure"


@pytest.mark.parametrize(
    ("stem", "named"),
    [
        ("UN Women 2024", ("UN-WOMEN", 2024)),
        ("UNWOMEN_2024", ("UN-WOMEN", 2024)),
        ("un.habitat-2024", ("UN-HABITAT", 2024)),
        ("ITC-ILO_2024", ("ITCILO", 2024)),
        ("ITCILO 2024", ("ITCILO", 2024)),
        ("ITC_2024_ILO", ("ITC", 2024)),
        ("GTB-UNOV-UNODC-2024-final", ("UNOV-UNODC", 2024)),
        ("UNEP_2025-03-01", ("UNEP", None)),
    ],
)
def test_a_file_name_names_the_longest_code_its_words_spell(stem, named):
    from pipeline import codelists
    from pipeline.intake.cross_checks import named_in

    assert named_in(stem, set(codelists.codes("entities"))) == named


def test_rental_cars_are_compared_only_with_a_year_of_the_same_unit(inputs):
    """gtb-2026.1 (2025 on) counts a rental car in vehicle-km, gtb-2025.1 in passenger-km: 2024's
    4,000 passenger-km and 2025's 40,000 vehicle-km measure different things and are not
    compared; 2025 and 2026, both in vehicle-km, are, and the flag says vehicle-km."""
    for year, km in ((2024, 4_000), (2025, 40_000), (2026, 400_000)):
        sheets = valid_sheets("UNEP", year)
        sheets["OtherTravel"].append(["car_rental", km, "measured"])
        submit(inputs, f"{year}/UNEP_{year}.xlsx", sheets)
        gtb(inputs, "run")
    flags = query(
        inputs,
        """SELECT s.reporting_year, f.message FROM flags f JOIN submissions s USING (submission_id)
           WHERE f.sheet = 'OtherTravel' ORDER BY 1""",
    )
    assert [year for year, _ in flags] == [2026], flags
    assert "vehicle-km" in flags[0][1] and "passenger-km" not in flags[0][1]


def test_accept_names_the_workbook_and_refuses_one_loaded_after_the_review(inputs, capsys):
    """The analyst compares UNEP 2024 (one flag), then a run loads a v2 with another slip; a plain
    `gtb accept` closed the v2's flags, which nobody had seen, without naming the file. `gtb compare`
    names the loaded workbook, `gtb accept --file` accepts only while it is still the one loaded,
    and every acceptance says which workbook it closed the flags of."""
    two_years(inputs, mwh_slip())
    capsys.readouterr()
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 0
    assert "loaded workbook: UNEP_2024.xlsx" in capsys.readouterr().out
    worse = set_cell(mwh_slip(), "Facilities", "D3", 35_000_000)
    submit(inputs, "2024/UNEP_2024_v2.xlsx", worse)
    gtb(inputs, "run")
    capsys.readouterr()
    argv = ["accept", "UNEP", "2024", "--reason", "checked", "--file", "UNEP_2024.xlsx"]
    assert gtb(inputs, *argv) == 2
    assert "the loaded submission is UNEP_2024_v2.xlsx, not UNEP_2024.xlsx: nothing accepted" in capsys.readouterr().err
    assert query(inputs, "SELECT count(*) FROM flags WHERE status = 'accepted'") == [(0,)]
    argv[-1] = "UNEP_2024_v2.xlsx"
    assert gtb(inputs, *argv) == 0
    assert capsys.readouterr().out.startswith("accepted UNEP 2024 (UNEP_2024_v2.xlsx): ")


def test_accept_by_bytes_refuses_a_workbook_saved_again_under_the_name_reviewed(inputs, capsys):
    """`gtb accept --file` checked the name alone: a corrected workbook saved over the one reviewed,
    under the same name and loaded by a run, had its flags closed by an acceptance of the other's.
    `gtb compare` shows the start of the loaded workbook's SHA-256, and `--sha256` accepts only
    while those bytes are the ones loaded."""
    import hashlib

    two_years(inputs, mwh_slip())
    reviewed = inputs / "submissions" / "2024" / "UNEP_2024.xlsx"
    digest = hashlib.sha256(reviewed.read_bytes()).hexdigest()
    capsys.readouterr()
    assert gtb(inputs, "compare", "UNEP", "--year", "2024") == 0
    assert f"loaded workbook: UNEP_2024.xlsx (sha256 {digest[:12]})" in capsys.readouterr().out
    submit(inputs, "2024/UNEP_2024.xlsx", set_cell(mwh_slip(), "Facilities", "D3", 35_000_000))  # saved over it
    gtb(inputs, "run")
    [(now,)] = query(inputs, "SELECT sha256 FROM submissions WHERE reporting_year = 2024 AND status = 'loaded'")
    assert now != digest, "the run loaded the workbook saved again"
    capsys.readouterr()
    argv = ["accept", "UNEP", "2024", "--reason", "checked", "--file", "UNEP_2024.xlsx", "--sha256", digest[:12]]
    assert gtb(inputs, *argv) == 2
    err = capsys.readouterr().err
    assert (
        f"the loaded submission is UNEP_2024.xlsx (sha256 {now[:12]}), not UNEP_2024.xlsx (sha256 {digest[:12]}): "
        "nothing accepted"
    ) in err, err
    assert query(inputs, "SELECT count(*) FROM flags WHERE status = 'accepted'") == [(0,)]
    for bad in ("1234567", "not-hex-at-all", digest + "0"):  # too short, not hexadecimal, too long
        assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked", "--sha256", bad) == 2
        assert "at least 8 of its hexadecimal digits" in capsys.readouterr().err
    assert query(inputs, "SELECT count(*) FROM flags WHERE status = 'accepted'") == [(0,)]
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "checked", "--sha256", now[:8].upper()) == 0
    assert capsys.readouterr().out.startswith("accepted UNEP 2024 (UNEP_2024.xlsx): ")
    open_of_loaded = (
        "SELECT count(*) FROM flags JOIN submissions USING (submission_id) WHERE sha256 = ? AND flags.status = ?"
    )
    assert query(inputs, open_of_loaded, [now, "open"]) == [(0,)] and query(
        inputs, open_of_loaded, [now, "accepted"]
    ) != [(0,)]


def test_a_year_whose_comparison_is_stale_cannot_be_published_as_final(inputs, capsys):
    """UNEP 2024 is accepted, its workbook moved out of the inputs, then a correction of 2023 loads:
    the run says 2024 could not be compared again, but `--final` published 2024 on the acceptance
    of a comparison no longer true (the workbook put back raised a x1,000 flag)."""
    two_years(inputs, valid_sheets("UNEP", 2024))
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "as last year") == 0
    later = inputs / "submissions" / "2024" / "UNEP_2024.xlsx"
    kept = later.read_bytes()
    later.unlink()
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())
    assert gtb(inputs, "run") == 0
    capsys.readouterr()
    assert gtb(inputs, "report", "--year", "2024", "--final") == 2
    err = capsys.readouterr().err
    assert "the 2024 report cannot be final: UNEP 2024 was not compared again with UNEP 2023" in err, err
    assert "gtb run compares it again, with UNEP_2024.xlsx in the inputs folder" in err
    assert gtb(inputs, "report", "--year", "2024") == 0, "a draft is written as ever"
    # and says it is one, as the export does: the draft had no mark where no flag was open
    said = capsys.readouterr().out
    assert "1 workbook(s) of 2024 not compared again" in said and "the report says DRAFT" in said
    folder = inputs.parent / "out" / "report" / "2024"
    assert "**DRAFT: 1 workbook of 2024 not compared again with an earlier year" in (folder / "index.md").read_text()
    charts = [p.read_text(encoding="utf-8") for p in folder.glob("*.svg")]
    assert charts and all("DRAFT, 1 workbook not compared again since an earlier year changed" in c for c in charts)
    later.write_bytes(kept)
    assert gtb(inputs, "run") == 0
    capsys.readouterr()
    final = gtb(inputs, "report", "--year", "2024", "--final")
    assert "not compared again" not in capsys.readouterr().err
    assert final in (0, 1), "compared again: only its open flags, if any, stand in the way"
    assert gtb(inputs, "report", "--year", "2024") == 0
    assert "not compared again" not in (folder / "index.md").read_text()


def test_the_tracker_says_an_accepted_year_must_be_compared_again(inputs, capsys):
    """The same story as above: `gtb status` showed UNEP 2024 as `accepted`, with nothing to say
    that the acceptance was of a comparison no longer true, while `--final` refused the year."""
    two_years(inputs, valid_sheets("UNEP", 2024))
    assert gtb(inputs, "accept", "UNEP", "2024", "--reason", "as last year") == 0
    assert "compare_again" not in status_json(inputs, 2024, capsys)["entities"][0], "not stale yet"
    later = inputs / "submissions" / "2024" / "UNEP_2024.xlsx"
    kept = later.read_bytes()
    later.unlink()
    submit(inputs, "2023/UNEP_2023_v2.xlsx", slip_2023())
    assert gtb(inputs, "run") == 0
    rows = {e["entity"]: e for e in status_json(inputs, 2024, capsys)["entities"]}
    assert rows["UNEP"]["status"] == "accepted" and rows["UNEP"]["compare_again"] == 2023, rows["UNEP"]
    assert "compare_again" not in {e["entity"]: e for e in status_json(inputs, 2023, capsys)["entities"]}["UNEP"]
    assert gtb(inputs, "status", "--year", "2024") == 0
    shown = capsys.readouterr().out
    assert "1 to compare again" in shown, shown
    lines = shown[shown.index("to compare again (") :].splitlines()
    flowing = " ".join(shown.split())  # the console wraps long lines
    assert "gtb run compares each whose workbook is in the inputs folder (put back any that is not)" in flowing
    assert any(line.strip() == "UNEP UNEP_2024.xlsx with UNEP 2023" for line in lines), lines
    later.write_bytes(kept)
    assert gtb(inputs, "run") == 0
    row = {e["entity"]: e for e in status_json(inputs, 2024, capsys)["entities"]}["UNEP"]
    assert "compare_again" not in row, "compared again: no longer stale"


def test_a_first_workbook_with_every_emission_sheet_empty_is_flagged(inputs, capsys):
    """UNHCR's first workbook has its personnel, waste and water, and every emission sheet empty:
    it loaded clean at 0 tCO2e and halved the system's per capita, with no warning, as the
    vanished-source flag needs a previous year. A workbook with any one emission sheet filled is
    not flagged."""
    empty = valid_sheets("UNHCR", 2024)
    for name in plausibility.EMISSION_SHEETS:
        empty[name] = empty[name][:1]
    submit(inputs, "2024/UNHCR_2024.xlsx", empty)
    for code, kept in zip(("WFP", "UNDP", "UNICEF", "ILO", "FAO"), plausibility.EMISSION_SHEETS, strict=True):
        some = valid_sheets(code, 2024)
        for name in plausibility.EMISSION_SHEETS:
            if name != kept:
                some[name] = some[name][:1]  # this one sheet alone filled
        submit(inputs, f"2024/{code}_2024.xlsx", some)
    assert gtb(inputs, "run") == 0
    found = query(
        inputs,
        "SELECT s.entity_code, f.check_name, f.sheet, f.cell, f.status, f.message FROM flags f "
        "JOIN submissions s USING (submission_id)",
    )
    assert [row[:5] for row in found] == [("UNHCR", "no_emissions", "Entity", "B4", "open")], found
    message = found[0][5]
    assert message.startswith(
        "no emissions at all for 2024: the Facilities, Refrigerants, Vehicles, AirTravel, OtherTravel sheets are "
        "all empty or zero, for 1,250 personnel; an entity with personnel uses energy"
    ), message
    assert "say so in the 'Comment' field of the Entity sheet" in message, message


def test_a_workbook_emptied_after_a_year_with_data_gets_the_vanished_flags_alone(inputs, capsys):
    """The sources gone since last year are each flagged already: no second flag says it again."""
    submit(inputs, "2023/UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    empty = valid_sheets("UNEP", 2024)
    for name in plausibility.EMISSION_SHEETS:
        empty[name] = empty[name][:1]
    submit(inputs, "2024/UNEP_2024.xlsx", empty)
    assert gtb(inputs, "run") == 0
    checks = [c for (c,) in query(inputs, "SELECT DISTINCT message_key FROM flags")]
    assert checks and all("implausible-change.vanished" in c for c in checks), checks


def test_a_change_of_personnel_asks_for_the_entity_sheets_comment_field(inputs):
    """The Entity sheet is a Field/Value sheet: a flag on its personnel told the focal point to
    explain the change "in the 'Comment' column of this row", which that sheet does not have."""
    for year, personnel in ((2023, 1250), (2024, 12500)):
        submit(inputs, f"{year}/UNEP_{year}.xlsx", set_cell(valid_sheets("UNEP", year), "Entity", "B4", personnel))
    gtb(inputs, "run")
    [(message, sheet, cell)] = query(
        inputs, "SELECT message, sheet, cell FROM flags WHERE check_name = 'personnel_change'"
    )
    assert (sheet, cell) == ("Entity", "B4")
    assert message.endswith("If the change is real, say why in the 'Comment' field of this sheet."), message
    assert "column" not in message, message
    # ten times the personnel: no "month's figure" nor unit slip, but what was counted
    assert "whether what is counted changed" in message and "month" not in message, message


@pytest.mark.parametrize("personnel", [12 * 1250, 1000 * 1250])
def test_a_headcount_multiplied_is_not_said_to_be_a_months_figure_or_a_unit_slip(inputs, personnel):
    """Twelve times the personnel was said to be "a month's figure last year, or months added up
    twice?", a thousand times "kWh entered as MWh": causes of an energy figure, not a headcount.
    The flag's key stays what the release before computed (its likely cause by ratio)."""
    for year, people in ((2023, 1250), (2024, personnel)):
        submit(inputs, f"{year}/UNEP_{year}.xlsx", set_cell(valid_sheets("UNEP", year), "Entity", "B4", people))
    gtb(inputs, "run")
    [(message,)] = query(inputs, "SELECT message FROM flags WHERE check_name = 'personnel_change'")
    assert "whether what is counted changed" in message, message
    assert "month" not in message and "MWh" not in message, message


def test_flag_keys_are_those_of_the_release_before_where_only_the_wording_moved():
    """Where a change's explanation goes (the row's Comment column, the Entity sheet's Comment
    field) became a part of the message of its own; the keys stored with flags accepted before
    must stay those their figures give, or comparing a later year again would withdraw those
    flags and open them anew. The keys below are those the release before computed."""
    electricity = plausibility.Figure(1, "energy", "electricity", "kwh", 2_400.0, "Facilities", 2, "quantity")
    was = plausibility.Figure(0, "energy", "electricity", "kwh", 2_400_000.0, "Facilities", 2, "quantity")
    zero = plausibility.Figure(0, "energy", "electricity", "kwh", 0.0, "Facilities", 2, "quantity")
    grown = plausibility.Figure(1, "energy", "electricity", "kwh", 2_000_000.0, "Facilities", 2, "quantity")
    people = plausibility.Figure(1, "personnel", "all", "persons", 12500.0, "Entity", None, "personnel")
    were = plausibility.Figure(0, "personnel", "all", "persons", 1250.0, "Entity", None, "personnel")
    flags = [
        *plausibility._change_flags(1, [electricity], [was], (2023, 2024)),
        *plausibility._change_flags(1, [grown], [zero], (2023, 2024)),
        *plausibility._change_flags(1, [people], [were], (2023, 2024)),
    ]
    assert [json.loads(plausibility.flag_key(f)) for f in flags] == BEFORE_KEYS
    assert "field of this sheet" in catalogue.text(flags[2].message_id, "en", **flags[2].params)


BEFORE_KEYS = [
    [
        "energy_change_kwh",
        "implausible-change.change",
        {
            "cause": ["Message", "hint.div1000", {"factor": 1000}],
            "comment": ["Header", "Facilities", "comment"],
            "new": ["Shown", "2400.0"],
            "new_year": 2024,
            "old": ["Shown", "2400000.0"],
            "old_year": 2023,
            "ratio": ["Times", "2400.0", "2400000.0"],
            "unit": ["Said", "unit.kwh", "kwh"],
            "what": ["Label", "energy_type", "electricity"],
        },
    ],
    [
        "energy_change_kwh",
        "implausible-change.from-zero",
        {
            "comment": ["Header", "Facilities", "comment"],
            "new": ["Shown", "2000000.0"],
            "new_year": 2024,
            "old_year": 2023,
            "unit": ["Said", "unit.kwh", "kwh"],
            "what": ["Label", "energy_type", "electricity"],
        },
    ],
    [
        "personnel_change",
        "implausible-change.change",
        {
            "cause": ["Message", "hint.real-change", {}],
            "comment": ["Header", "Entity", "comment"],
            "new": ["Shown", "12500.0"],
            "new_year": 2024,
            "old": ["Shown", "1250.0"],
            "old_year": 2023,
            "ratio": ["Times", "12500.0", "1250.0"],
            "unit": ["Said", "unit.persons", "persons"],
            "what": ["Said", "metric.personnel", "personnel"],
        },
    ],
]  # as json.loads reads them


HISTORY_HEADER = (
    "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,"
    "waste_tonnes,water_m3\n"
)


def test_a_first_workbook_is_compared_with_the_published_totals_before_it(inputs, capsys):
    """UNEP's totals up to 2023 were published (a history file); its first workbook, for 2024,
    counts ten times the personnel and a tenth of the emissions per person. It was compared with
    nothing (only a loaded workbook of an earlier year was), so the year a focal point first fills
    in the workbook, when slips are likeliest, raised no flag. It is now compared with the latest
    published year, for what the totals hold: personnel, waste, water and emissions per capita."""
    (inputs / "history" / "totals.csv").write_text(
        HISTORY_HEADER + "UNEP,2022,125,300,100,50,0,3,500\nUNEP,2023,125,300,100,50,0,3,500\n"
    )
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    assert gtb(inputs, "run") == 0  # the totals and the workbook in one run: the totals are loaded first
    flags = query(
        inputs,
        "SELECT check_name, message FROM flags JOIN submissions USING (submission_id) WHERE reporting_year = 2024",
    )
    checks = {check for check, _ in flags}
    assert {"personnel_change", "per_capita_change"} <= checks, flags
    [personnel] = [m for c, m in flags if c == "personnel_change"]
    assert "125 persons in 2023 (as published) to 1,250 persons in 2024 (x10)" in personnel, personnel


def test_a_workbook_after_a_loaded_one_is_not_compared_with_older_published_totals(inputs):
    """Published totals of 2022 and a loaded workbook of 2023: 2024 is compared with the workbook,
    the latest year before it, not with the totals."""
    (inputs / "history" / "totals.csv").write_text(HISTORY_HEADER + "UNEP,2022,125,300,100,50,0,3,500\n")
    two_years(inputs, valid_sheets("UNEP", 2024))
    flags = query(
        inputs,
        "SELECT check_name FROM flags JOIN submissions USING (submission_id) WHERE reporting_year = 2024",
    )
    assert flags == [], flags


def test_the_flags_the_comparison_and_the_last_year_sheet_take_the_same_earlier_year(inputs):
    """A workbook of 2021, then published totals of 2023 (the entity reported by totals in
    between): the 2024 workbook is compared with 2023 by its flags, by `gtb compare` and by the
    template's Last year sheet alike, the latest year before it, whichever way it came."""
    submit(inputs, "2021/UNEP_2021.xlsx", valid_sheets("UNEP", 2021))
    (inputs / "history" / "totals.csv").write_text(HISTORY_HEADER + "UNEP,2023,125,300,100,50,0,3,500\n")
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP", 2024))
    assert gtb(inputs, "run") == 0
    [(message,)] = query(
        inputs,
        "SELECT message FROM flags JOIN submissions USING (submission_id) "
        "WHERE reporting_year = 2024 AND check_name = 'personnel_change'",
    )
    assert "in 2023 (as published)" in message, message
    assert api.compare("UNEP", 2024, db_of(inputs)).previous_year == 2023
    from pipeline.review.last_year import last_year

    sheet = last_year(db_of(inputs), "UNEP", 2024)
    assert sheet is not None and (sheet.year, sheet.published) == (2023, True)
