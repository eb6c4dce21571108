"""The `gtb` command as a focal point and an analyst use it: exit codes, reports, no tracebacks."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipeline import api
from pipeline.cli import main
from pipeline.intake import template
from tests import hostile
from tests.builders import example_rows, fill, set_cell, valid_sheets, write_workbook

ROOT = Path(__file__).resolve().parent.parent


def test_template_filled_in_validates_clean(tmp_path, capsys):
    """The round trip of the issue: `gtb template UNEP 2024`, filled in with openpyxl, is valid."""
    assert main(["template", "UNEP", "2024", "-o", str(tmp_path / "UNEP_2024.xlsx")]) == 0
    filled = fill(tmp_path / "UNEP_2024.xlsx", example_rows("UNEP", 2024))
    [sub] = api.check_files([filled], jobs=1)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.entity["entity_code"] == "UNEP" and sub.entity["reporting_year"] == 2024
    assert all(len(sub.tables[s]) == 1 for s in ("Facilities", "AirTravel", "Waste", "Water"))


def test_blank_template_reports_only_missing_entity_fields(tmp_path):
    path = template.template("WFP", 2024, tmp_path / "blank.xlsx")
    [sub] = api.check_files([path], jobs=1)
    # a blank template is structurally right: only the values the focal point must give are missing
    assert {f.code for f in sub.findings} <= {"missing-value"}
    assert {f.sheet for f in sub.findings} == {"Entity", "EMS"}


def test_validate_exit_codes_and_reports(tmp_path, capsys):
    good = write_workbook(tmp_path / "good.xlsx", valid_sheets("UNEP"))
    bad = write_workbook(tmp_path / "bad.xlsx", set_cell(valid_sheets("WFP"), "Facilities", "D3", "=D2*2"))
    reports = tmp_path / "reports"
    assert main(["validate", str(good), "--report-dir", str(reports)]) == 0
    assert main(["validate", str(good), str(bad), "--report-dir", str(reports)]) == 1
    out = capsys.readouterr().out
    assert "good.xlsx: valid" in out and "bad.xlsx: 1 error" in out and "Facilities!D3" in out
    with (reports / "WFP_2024" / "issues.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["sheet"], r["cell"], r["code"]) for r in rows] == [("Facilities", "D3", "formula-without-value")]
    assert list(rows[0]) == ["file", "sheet", "cell", "row", "column", "value", "code", "severity", "message"]
    annotated = load_workbook(reports / "WFP_2024" / "annotated.xlsx")
    assert annotated.sheetnames[0] != "Entity" and annotated["Facilities"]["D3"].comment is not None
    assert (reports / "UNEP_2024" / "issues.csv").read_text().count("\n") == 1  # header only
    verdict = load_workbook(reports / "UNEP_2024" / "annotated.xlsx")  # the summary alone: no cell to mark
    assert len(verdict.sheetnames) == 1
    summary = [[c for c in row if c is not None] for row in verdict.active.iter_rows(values_only=True)]
    assert summary[1:4] == [["File", "good.xlsx"], ["Errors", 0], ["Warnings", 0]]
    assert summary[4][0].startswith("Nothing to correct")


def test_validate_never_touches_the_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_workbook(tmp_path / "good.xlsx", valid_sheets("UNEP"))
    assert main(["validate", "good.xlsx"]) == 0
    assert (tmp_path / "outputs" / "validation" / "UNEP_2024" / "issues.csv").exists()
    assert not (tmp_path / "outputs" / "gtb.duckdb").exists()


HOSTILE = [*hostile.FAMILIES, hostile.zip_bomb]


def test_every_hostile_family_gets_a_finding_not_a_traceback(tmp_path):
    files = []
    for build in HOSTILE:
        folder = tmp_path / build.__name__
        folder.mkdir()
        files.append(build(folder))
    good = write_workbook(tmp_path / "good.xlsx", valid_sheets("UNEP"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "validate",
            *map(str, files),
            str(good),
            "--report-dir",
            str(tmp_path / "r"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "good.xlsx: valid" in proc.stdout
    for path in files:
        assert f"{path.name}: 1 error" in proc.stdout
    for folder in (tmp_path / "r").iterdir():
        rows = list(csv.DictReader((folder / "issues.csv").open()))
        if folder.name == "UNEP_2024":
            assert rows == []
            continue
        assert [r["code"] for r in rows] == ["unreadable-file"] and rows[0]["message"], folder
        assert not (folder / "annotated.xlsx").exists()


def test_bad_arguments_exit_2_with_one_line(capsys):
    assert main(["template", "NOPE", "2024"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NOPE" in err
    try:
        main(["indicators"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_recalculate_is_explicit_and_logged(tmp_path, capsys):
    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    assert main(["recalculate", "--year", "2024", "--factor-set", "no-such-set", "--reason", "x", "--db", str(db)]) == 2
    assert "unknown factor set" in capsys.readouterr().err
    capsys.readouterr()
    # the year's own set: the figures would be the same, so nothing is done and nothing logged
    assert (
        main(["recalculate", "--year", "2024", "--factor-set", "gtb-2025.1", "--reason", "check", "--db", str(db)]) == 0
    )
    assert (
        "2024 is already calculated with gtb-2025.1 (1 submissions), and its figures come out the same: "
        "nothing changed, nothing logged"
    ) in capsys.readouterr().out
    before = api.indicators(2024, db=db)["total_tco2e"]
    assert (
        main(["recalculate", "--year", "2024", "--factor-set", "gtb-2026.1", "--reason", "restate", "--db", str(db)])
        == 0
    )
    out = capsys.readouterr().out
    after = api.indicators(2024, db=db)["total_tco2e"]
    assert f"total {before:,.1f} -> {after:,.1f} tCO2e, as gtb indicators gives it" in out, out
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        log = con.execute(
            "SELECT reporting_year, old_factor_set, new_factor_set, submissions, reason FROM recalculations"
        ).fetchall()
    assert log == [(2024, "gtb-2025.1", "gtb-2026.1", 1, "restate")]


def test_an_entity_typed_with_look_alike_letters_is_told_how_to_type_it(tmp_path, capsys):
    """'UNEР' (a Cyrillic Р) got the list of every entity of the year, which holds 'UNEP'; and a
    one-line error quoting what was typed replayed it on the terminal as it was."""
    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    capsys.readouterr()
    for argv in (["indicators", "--year", "2024", "--entity", "UNE\u0420"], ["compare", "UNE\u0420", "--year", "2024"]):
        assert main([*argv, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert "'UNE\\u0420'" in err and "type it as UNEP" in err and err.count("\n") == 1, err
    assert main(["indicators", "--year", "2024", "--entity", "\x1b[2JX", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2JX" in err


def test_gtb_run_as_a_program_ends_at_once_with_its_work_kept(tmp_path):
    """`gtb run` and `gtb validate` end without the interpreter's teardown (`cli.QUICK_EXIT`):
    the exit code, the whole printed summary (through a pipe) and the committed database stay."""
    import duckdb

    inputs = tmp_path / "inputs" / "submissions"
    inputs.mkdir(parents=True)
    write_workbook(inputs / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    bad = valid_sheets("WFP")
    set_cell(bad, "Entity", "B3", "twenty")
    write_workbook(inputs / "WFP_2024.xlsx", bad)
    db = tmp_path / "gtb.duckdb"
    command = [sys.executable, "-m", "pipeline.cli", "run", "--inputs", str(inputs.parent), "--db", str(db)]
    proc = subprocess.run(
        [*command, "--outputs", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1, proc.stderr  # one workbook rejected
    assert "2 workbooks: 1 loaded" in proc.stdout and proc.stdout.rstrip().splitlines()[-1].startswith("stages:")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM emissions").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0] == 1
    # every command, run as the module: each of its functions defined before it runs
    for args, shown in (
        (["status", "--year", "2024"], "UNEP"),
        (["compare", "UNEP", "--year", "2024"], "UNEP"),
        (["indicators", "--year", "2024"], "2024"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args, "--db", str(db)], cwd=ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0 and shown in proc.stdout, (args, proc.stderr)


def _with_reader_gone(command: list[str]) -> tuple[int, str]:
    """Run `command` with its output piped to a reader that has gone before the first line
    (`| head -0`, a pager quit at once): its exit code and what it said on stderr."""
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # every write to stdout now fails with a broken pipe
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err


def test_a_reader_that_goes_away_costs_no_work_and_no_exit_code(tmp_path):
    """`gtb run | head -1`: the run still loads and commits, and ends with its own exit code (0:
    every workbook loaded; 1: one rejected), not with 1 for the lost output; `gtb status`,
    `compare` and `indicators` end with 0."""
    inputs = tmp_path / "inputs" / "submissions"
    inputs.mkdir(parents=True)
    write_workbook(inputs / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = tmp_path / "gtb.duckdb"
    run = [sys.executable, "-m", "pipeline.cli", "run", "--inputs", str(inputs.parent), "--db", str(db)]
    code, err = _with_reader_gone([*run, "--outputs", str(tmp_path / "out")])
    assert code == 0 and "Traceback" not in err, err
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM emissions").fetchone()[0] > 0
    for args in (["status", "--year", "2024"], ["compare", "UNEP", "--year", "2024"], ["indicators", "--year", "2024"]):
        code, err = _with_reader_gone([sys.executable, "-m", "pipeline.cli", *args, "--db", str(db)])
        assert code == 0 and "Traceback" not in err, (args, err)
    bad = valid_sheets("WFP")
    set_cell(bad, "Entity", "B3", "twenty")
    write_workbook(inputs / "WFP_2024.xlsx", bad)
    code, err = _with_reader_gone([*run, "--outputs", str(tmp_path / "out")])
    assert code == 1, err  # the rejected workbook's, as without the pipe


def test_only_the_commands_that_end_with_the_process_run_without_the_garbage_collector(monkeypatch, tmp_path):
    """`gtb run` and `gtb validate` turn the cyclic collector off (a process for one command);
    every other command, and the library the portal runs on, keep it."""
    import gc

    from pipeline import cli

    seen: dict[str, bool] = {}

    def record(args, restore_sigterm: bool = True) -> int:
        seen[args.command] = gc.isenabled()
        return 0

    monkeypatch.setattr(cli, "_main", record)
    monkeypatch.setattr(cli.os, "_exit", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    # the fork server's folder goes as the process ends; this process goes on, and its later
    # worker pools connect to the fork server there
    monkeypatch.setattr(cli, "_remove_multiprocessing_folder", lambda: None)
    book = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    try:
        for argv in (["validate", str(book)], ["run"], ["status", "--year", "2024"], ["template", "UNEP", "2024"]):
            monkeypatch.setattr(sys, "argv", ["gtb", *argv])
            with contextlib.suppress(SystemExit):
                cli.entry()
            gc.enable()  # as a new process would start
    finally:
        gc.enable()
    assert seen == {"validate": False, "run": False, "status": True, "template": True}


def _raise_interrupted_during_rollback() -> None:
    try:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    except duckdb.InterruptException:
        raise duckdb.TransactionException("Current transaction is aborted (please ROLLBACK)") from None


@pytest.mark.parametrize(
    "fault",
    [
        lambda: (_ for _ in ()).throw(duckdb.InterruptException("INTERRUPT Error: Interrupted!")),
        lambda: _raise_interrupted_during_rollback(),
    ],
)
def test_ctrl_c_while_the_database_works_is_said_to_be_an_interruption(monkeypatch, capsys, fault):
    """Ctrl-C during the load or the commit stopped DuckDB's query: 'gtb: internal error
    (RuntimeError: Query interrupted)' or '(TransactionException: ... aborted)', and the advice
    to rerun with GTB_DEBUG=1, for what is the user's own Ctrl-C."""
    import pipeline.cli as cli

    monkeypatch.setattr(cli, "_dispatch", lambda args: fault())
    assert cli.main(["status", "--year", "2025"]) == cli.CANNOT_RUN
    err = capsys.readouterr().err
    assert err.strip() == "gtb: interrupted", err


def test_a_real_fault_is_still_an_internal_error(monkeypatch, capsys):
    import pipeline.cli as cli

    def fault(args):
        raise duckdb.TransactionException("Current transaction is aborted (please ROLLBACK)")

    monkeypatch.setattr(cli, "_dispatch", fault)
    assert cli.main(["status", "--year", "2025"]) == cli.CANNOT_RUN
    assert "internal error (TransactionException" in capsys.readouterr().err


def test_sigterm_stops_the_command_as_ctrl_c_and_the_handler_before_is_back(monkeypatch, capsys):
    """In-process, as tests call `main`: SIGTERM during the command is raised as Ctrl-C is, a second
    one while it stops is let be, and the caller's own handler is back once `main` returns."""
    import pipeline.cli as cli

    def callers(signum, frame):
        raise AssertionError("the caller's handler ran during the command")

    during = []

    def command(args):
        during.append(signal.getsignal(signal.SIGTERM))
        if during[0] is callers:  # not handled by the command: not sent, or it would end the tests
            return cli.OK
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)  # the handler raises as the sleep is interrupted
        except KeyboardInterrupt:
            os.kill(os.getpid(), signal.SIGTERM)  # again, as the command stops (its rollback): let be
            time.sleep(0.05)
            during.append("stopped to its end")
            raise
        return cli.OK

    previous = signal.signal(signal.SIGTERM, callers)
    try:
        monkeypatch.setattr(cli, "_dispatch", command)
        code = cli.main(["status", "--year", "2025"])
        after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert during[0] not in (callers, signal.SIG_DFL) and during[1:] == ["stopped to its end"]
    assert (code, capsys.readouterr().err) == (cli.CANNOT_RUN, "gtb: stopped (SIGTERM)\n")
    assert after is callers


def test_sigterm_ignored_by_the_caller_stays_ignored(monkeypatch):
    """A process started not to stop on SIGTERM keeps it ignored through the command."""
    import pipeline.cli as cli

    during = []
    monkeypatch.setattr(cli, "_dispatch", lambda args: during.append(signal.getsignal(signal.SIGTERM)) or cli.OK)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        assert cli.main(["status", "--year", "2025"]) == cli.OK
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert during == [signal.SIG_IGN]


def test_recalculating_a_year_on_its_own_set_takes_the_rules_of_an_upgrade(tmp_path, capsys):
    """The renewable rule changed without a new factor set (migration 6), and `gtb recalculate` of a
    year already on its set did nothing: a year calculated before the upgrade could not take it."""
    import duckdb

    inputs = tmp_path / "inputs"
    sheets = valid_sheets("UNEP", 2025)
    sheets["Facilities"] = [
        sheets["Facilities"][0],
        ["Gigiri", "KEN", "electricity", 1_500_000, "kwh", 500_000, "measured"],
    ]
    write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", sheets)
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    fresh = api.indicators(2025, db=db)["renewable_electricity_share"]
    with duckdb.connect(str(db)) as con:  # as the rule before the upgrade recorded it: the row's own figure alone
        con.execute(
            "UPDATE emissions SET renewable_kwh = 500000, renewable_source = 'reported' WHERE sheet = 'Facilities'"
        )
    assert api.indicators(2025, db=db)["renewable_electricity_share"] == pytest.approx(1 / 3)
    argv = ["recalculate", "--year", "2025", "--factor-set", "gtb-2026.1", "--reason", "the rule of migration 6"]
    capsys.readouterr()
    assert main([*argv, "--db", str(db)]) == 0
    assert "recalculated 1 submissions of 2025 with gtb-2026.1 (was gtb-2026.1)" in capsys.readouterr().out
    assert api.indicators(2025, db=db)["renewable_electricity_share"] == pytest.approx(fresh) and fresh > 0.9
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT old_factor_set, new_factor_set, reason FROM recalculations").fetchall() == [
            ("gtb-2026.1", "gtb-2026.1", "the rule of migration 6")
        ]
    assert main([*argv, "--db", str(db)]) == 0  # once taken, the figures come out the same: nothing logged
    assert "nothing changed, nothing logged" in capsys.readouterr().out
