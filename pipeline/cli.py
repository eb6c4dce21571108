"""The `gtb` command: parses arguments, calls `pipeline.api`, maps the outcome to an exit code.

Exit codes (cli.md): 0 all good (warnings allowed); 1 at least one submission had errors;
2 the command itself could not run, with a one-line reason on stderr and no traceback.
SIGTERM stops a command as Ctrl-C does (`_sigterm_as_ctrl_c`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from pipeline import __version__
from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS

OK, HAD_ERRORS, CANNOT_RUN = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line on stderr, exit 2, no usage dump
        self.exit(CANNOT_RUN, f"{self.prog}: {message} (try {self.prog} --help)\n")


def _year(text: str) -> int:
    """A year argument: a whole number from 1900 to 2999 (0, -5 or 99999999999999999999 are no
    year of an inventory, and the last would not even fit the warehouse's INTEGER)."""
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None
    if not 1900 <= year <= 2999:
        raise argparse.ArgumentTypeError(f"{text} is not a year of an inventory (1900 to 2999)")
    return year


def _jobs(text: str) -> int:
    """A number of worker processes: a whole number from 1 (0 or -2 are no number of processes)."""
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number of processes (1 or more)")
    return jobs


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gtb", description="Greening the Blue inventory pipeline")
    parser.add_argument("--version", action="version", version=f"gtb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("template", help="write a blank submission workbook")
    p.add_argument("entity", help="entity code, e.g. UNEP")
    p.add_argument("year", type=_year, help="reporting year")
    p.add_argument("-o", "--output", type=Path, help="file to write (default ENTITY_YEAR_submission.xlsx)")
    p.add_argument("--lang", default="en", choices=("en", "fr", "es"), help="language of the workbook (en, fr, es)")
    p.add_argument("--db", type=Path, default=None, help="add a read-only sheet of the entity's previous year")

    p = sub.add_parser("validate", help="check workbooks against the contract (never touches the database)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--report-dir", type=Path, help="where reports go (default outputs/validation)")
    p.add_argument("--jobs", type=_jobs, default=None, help="worker processes (default: up to 2)")
    p.add_argument("--db", type=Path, default=None, help="compare with the entity's previous year in this database")
    p.add_argument("--lang", choices=("en", "fr", "es"), help="language of the findings (default: the workbook's)")

    p = sub.add_parser("run", help="validate every submission, load the valid ones, recompute emissions")
    p.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS, help="inputs folder (default inputs/)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder (default outputs/)")
    p.add_argument("--jobs", type=_jobs, default=None, help="worker processes (default: up to 2)")

    p = sub.add_parser("recalculate", help="recalculate a past year with another factor set (logged)")
    p.add_argument("--year", type=_year, required=True)
    p.add_argument("--factor-set", required=True, help="name of a set under inputs/reference/factors/")
    p.add_argument("--reason", required=True, help="why; kept in the recalculations log")
    p.add_argument("--db", type=Path, default=DEFAULT_DB)
    p.add_argument(
        "--inputs",
        type=Path,
        default=DEFAULT_INPUTS,
        help="inputs folder whose reference/ sets are read, as gtb run reads them (default inputs/)",
    )

    p = sub.add_parser("indicators", help="print one row of the indicators (system-wide or one entity)")
    p.add_argument("--year", type=_year, required=True)
    p.add_argument("--entity", help="entity code (default: the system-wide row)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB)
    p.add_argument("--json", action="store_true", help="print the row as one JSON object")

    p = sub.add_parser("report", help="write the year's charts, tables and entity factsheets")
    p.add_argument("--year", type=_year, required=True, help="data year")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder (default outputs/)")
    p.add_argument("--jobs", type=_jobs, default=None, help="worker processes for the factsheets (default 1)")
    p.add_argument(
        "--final",
        action="store_true",
        help="refuse while the year is a draft: flags open (exit 1), a comparison stale or factor sets mixed (exit 2)",
    )

    p = sub.add_parser("export", help="publish the year's data: Parquet or CSV files with a datapackage.json")
    p.add_argument("--year", type=_year, required=True, help="data year")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder (default outputs/)")

    p = sub.add_parser("status", help="every entity expected for a year and where its submission stands")
    p.add_argument("--year", type=_year, required=True)
    p.add_argument("--db", type=Path, default=DEFAULT_DB)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("accept", help="accept an entity's loaded submission, closing its open flags (logged)")
    p.add_argument("entity", help="entity code, e.g. UNEP")
    p.add_argument("year", type=_year, help="reporting year")
    p.add_argument("--reason", required=True, help="why; kept in the review log")
    p.add_argument("--by", help="who accepts (default: your user name)")
    p.add_argument(
        "--file",
        metavar="NAME",
        help="the loaded workbook reviewed, as gtb compare names it: nothing is accepted if a run loaded another since",
    )
    p.add_argument(
        "--sha256",
        metavar="HEX",
        help="the start of that workbook's SHA-256, as gtb compare shows it: nothing is accepted if a run loaded "
        "other bytes since, under the same name or another",
    )
    p.add_argument("--db", type=Path, default=DEFAULT_DB)

    p = sub.add_parser("compare", help="an entity's indicators this year and last, with the change")
    p.add_argument("entity", help="entity code, e.g. WFP")
    p.add_argument("--year", type=_year, required=True)
    p.add_argument("--db", type=Path, default=DEFAULT_DB)

    p = sub.add_parser("serve", help="the submission portal: focal points upload, SUN reviews (Ctrl-C stops it)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS, help="inputs folder (default inputs/)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder; state in its portal/")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")

    p = sub.add_parser("users", help="the submission portal's accounts")
    users = p.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    q = users.add_parser("add", help="add an account: a focal point bound to entities, or an analyst")
    q.add_argument("username")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--entity", action="append", metavar="CODE", help="entity of the focal point (repeatable)")
    who.add_argument("--analyst", action="store_true", help="a SUN analyst: sees every entity")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    q.add_argument("--replace", action="store_true", help="reset an existing account's entities, role and password")
    q.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder of the portal's state")
    q = users.add_parser("list", help="list the accounts")
    q.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder of the portal's state")
    q = users.add_parser("disable", help="disable an account: no more sign-in, open sessions end; nothing deleted")
    q.add_argument("username")
    q.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder of the portal's state")
    return parser


def main(argv: list[str] | None = None) -> int:
    return _main(build_parser().parse_args(argv))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt (`_sigterm_as_ctrl_c`)."""


class _Sigterm:
    """Whether SIGTERM stopped the command (`received`), and whether one that comes now is still
    raised (`armed`: not once the first was, nor once the command has ended)."""

    def __init__(self) -> None:
        self.received = False
        self.armed = True

    def handle(self, signum: int, frame: object) -> None:
        if self.armed:
            self.armed = False
            self.received = True
            raise Terminated


@contextlib.contextmanager
def _sigterm_as_ctrl_c(restore: bool = True) -> Iterator[_Sigterm]:
    """SIGTERM (`kill`, systemd, `docker stop`, a CI timeout) stops the command as Ctrl-C does:
    `Terminated`, a KeyboardInterrupt, is raised in the main thread, so the transaction rolls
    back, the workers stop and the command ends with one line and exit code 2 (`gtb serve`: the
    portal stops). Python's own handler ended the process at once, saying nothing. Only the first
    is raised: those that follow (a service manager may send it again) are let be while the
    command stops, so that the rollback and the stopping run to their end. The handler before is
    put back as the block ends (tests call `main` in-process), unless `restore` is False (the
    `gtb` program: a SIGTERM as it exits is let be, not a kill that turns the exit code into
    -15, nor a traceback in the interpreter's teardown). None is set outside the main
    thread (Python allows none there), nor where SIGTERM is ignored (the process was started not
    to stop on it) or handled outside Python. Worker processes never run this handler: the fork
    server is a program of its own, and each worker sets SIGTERM back to its default."""
    state = _Sigterm()
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or previous is signal.SIG_IGN or previous is None:
        yield state
        return
    signal.signal(signal.SIGTERM, state.handle)
    try:
        yield state
    finally:
        state.armed = False  # a SIGTERM now is let be, until the handler before is back
        if restore:
            signal.signal(signal.SIGTERM, previous)


def _main(args: argparse.Namespace, restore_sigterm: bool = True) -> int:
    """The command, SIGTERM stopping it as Ctrl-C does (`_sigterm_as_ctrl_c`). `validate` and
    `run` end without the interpreter's teardown (`entry`): the worker processes still running
    as they end (a reading ahead whose files were dropped, or that an interrupted command left)
    are stopped first and their log files removed (`workers.stopping_pools`)."""
    with _sigterm_as_ctrl_c(restore_sigterm) as sigterm:
        if args.command not in QUICK_EXIT:
            return _command(args, sigterm)
        from pipeline.workers import stopping_pools

        with stopping_pools():
            code = _command(args, sigterm)
            sigterm.armed = False  # the command has ended: its workers are stopped whatever comes
            return code


def _command(args: argparse.Namespace, sigterm: _Sigterm) -> int:
    try:
        _start_workers(args)
        return _dispatch(args)
    except GtbError as exc:  # may quote a name from the command line or a folder: never replayed on the terminal
        from pipeline import safe

        print(f"gtb: {safe.console_safe(str(exc))}", file=sys.stderr)
        return CANNOT_RUN
    except KeyboardInterrupt:
        sigterm.armed = False
        print(_interruption(sigterm), file=sys.stderr)
        return CANNOT_RUN
    except BrokenPipeError:  # the reader went away (gtb status | head): end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK
    except OSError as exc:  # a folder or file the command needs cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        print(f"gtb: {exc.strerror or exc}{where}", file=sys.stderr)
        return CANNOT_RUN
    except Exception as exc:  # a bug, not an input: one line, and the traceback on request
        if _interrupted(exc):
            sigterm.armed = False
            print(_interruption(sigterm), file=sys.stderr)
            return CANNOT_RUN
        if os.environ.get("GTB_DEBUG"):
            raise
        print(f"gtb: internal error ({type(exc).__name__}: {exc}); rerun with GTB_DEBUG=1 for details", file=sys.stderr)
        return CANNOT_RUN


def _start_workers(args: argparse.Namespace) -> None:
    """The worker processes' fork server, started before the command imports the rest, and
    for `validate` and `run` a reading ahead of the workbooks."""
    if args.command in ("run", "validate"):
        from pipeline.workers import warm_up

        # the readers' fork server starts (and prepares what normalising looks up) while we import
        warm_up("pipeline.intake.normalise", "pipeline.intake.prepared")
        _read_ahead(args)
    elif args.command == "serve":
        from pipeline.workers import warm_up

        warm_up(
            "pipeline.intake.normalise",
            "pipeline.intake.annotate",
            "pipeline.intake.excerpt",
            "pipeline.intake.prepared",  # the last: it freezes what the server imported
        )


def _interruption(sigterm: _Sigterm) -> str:
    """The line that says the command was stopped, by SIGTERM or by Ctrl-C."""
    return "gtb: stopped (SIGTERM)" if sigterm.received else "gtb: interrupted"


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` comes of Ctrl-C (or SIGTERM, raised as Ctrl-C): DuckDB stops a query on it
    with its own InterruptException ("Query interrupted"), and the rollback that follows may raise
    again ("Current transaction is aborted") with the interruption as its context. The database
    is as it was before the run."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt) or type(current).__name__ == "InterruptException":
            return True
        # a query DuckDB stops while it describes or plans one (`gtb export`'s DESCRIBE)
        if type(current) is RuntimeError and str(current).startswith("Query interrupted"):
            return True
        current = current.__cause__ or current.__context__
    return False


def _read_ahead(args: argparse.Namespace) -> None:
    """The workers start reading the workbooks while this process imports the rest of the
    pipeline. `gtb run` reads only new files, which it knows once the warehouse is open: it
    reads ahead when every submission looks new (no warehouse yet, or each file changed since
    the warehouse last did); files the warehouse holds after all are dropped once it is open."""
    from pipeline import paths
    from pipeline.intake import ahead
    from pipeline.workers import default_jobs

    if args.command == "validate":
        ahead.start(args.files, args.jobs or default_jobs(), args.lang)
        return
    with contextlib.suppress(OSError):  # no submissions folder (the run says so), a file gone
        files = paths.find_submissions(args.inputs)
        db = Path(args.db)
        changed = db.stat().st_mtime if db.exists() else None
        if changed is None or all(f.stat().st_mtime > changed for f in files):
            ahead.start(files, args.jobs or default_jobs())


def _template(args: argparse.Namespace) -> int:
    from pipeline import api

    print(f"wrote {api.template(args.entity, args.year, args.output, lang=args.lang, db=args.db)}")
    return OK


def _validate(args: argparse.Namespace) -> int:
    from pipeline import api

    subs = api.validate(args.files, report_dir=args.report_dir, jobs=args.jobs, db=args.db, lang=args.lang)
    return HAD_ERRORS if any(not s.is_valid for s in subs) else OK


def _run(args: argparse.Namespace) -> int:
    from pipeline import api, safe
    from pipeline.portal.runjob import settle_after_run

    result = api.run(args.inputs, args.db, args.outputs, jobs=args.jobs)
    try:  # what SUN accepted in the portal and this run loaded: accepted in the warehouse too
        settled = settle_after_run(args.inputs, args.db, args.outputs, "gtb run")
    except GtbError as exc:
        print(f"portal: the acceptances were not settled ({safe.console_safe(str(exc))}); the next run settles them")
        settled = None
    for line in settled or []:
        print(f"portal: {safe.console_safe(line)}")
    return HAD_ERRORS if result.had_errors else OK


def _recalculate(args: argparse.Namespace) -> int:
    from pipeline import api

    done = api.recalculate(args.year, args.factor_set, args.reason, args.db, args.inputs)
    if done["unchanged"]:
        print(
            f"{done['year']} is already calculated with {done['new_factor_set']} ({done['submissions']} "
            "submissions), and its figures come out the same: nothing changed, nothing logged"
        )
        return OK
    print(
        f"recalculated {done['submissions']} submissions of {done['year']} with {done['new_factor_set']} "
        f"(was {done['old_factor_set']}): total {done['old_headline_tco2e'] or 0:,.1f} -> "
        f"{done['new_headline_tco2e'] or 0:,.1f} tCO2e, as gtb indicators gives it "
        f"(every emission row, optional ones included: {done['old_total_tco2e'] or 0:,.1f} -> "
        f"{done['new_total_tco2e']:,.1f})"
    )
    return OK


def _indicators(args: argparse.Namespace) -> int:
    from pipeline import api
    from pipeline.indicators import print_table

    row = api.indicators(args.year, args.entity, args.db)
    if args.json:
        print(json.dumps(row, allow_nan=False))  # the views never hold a non-finite number
    else:
        print_table(row)
    return OK


def _status_command(args: argparse.Namespace) -> int:
    from pipeline import api

    found = api.tracker(args.year, args.db)  # one connection: rows, files and note agree
    return _status(found.rows, args.year, args.json, found.unattributed, found.no_run_completed, found.mixed_sets)


def _accept(args: argparse.Namespace) -> int:
    from pipeline import api, safe

    done = api.accept(args.entity, args.year, args.reason, args.db, args.by, file_name=args.file, sha256=args.sha256)
    by = safe.console_safe(done.by)  # as typed: a name pasted with a terminal escape shows it, never runs it
    print(
        f"accepted {done.entity} {done.year} ({safe.console_safe(done.file_name)}): "
        f"{done.flags_closed} open flag(s) closed, logged for {by}"
    )
    return OK


def _compare_command(args: argparse.Namespace) -> int:
    from pipeline import api

    _compare(api.compare(args.entity, args.year, args.db))
    return OK


def _report(args: argparse.Namespace) -> int:
    from pipeline import api, safe
    from pipeline.report.build import OpenFlags

    try:
        report = api.report(args.year, args.db, args.outputs, jobs=args.jobs, final=args.final)
    except OpenFlags as exc:
        print(f"gtb: {exc}", file=sys.stderr)
        for flag in exc.flags:
            print(
                f"  {flag['entity_code']} {flag['sheet']}!{flag['cell']} {flag['code']}: "
                f"{safe.console_safe(flag['message'])}",
                file=sys.stderr,
            )
        return HAD_ERRORS
    charts, tables, sheets = len(report.charts), len(report.tables), len(report.factsheets)
    print(
        f"wrote {charts} chart file{'s' * (charts != 1)}, {tables} table{'s' * (tables != 1)} and {sheets} "
        f"factsheet{'s' * (sheets != 1)} to {report.folder} (see index.md)"
    )
    if report.open_flags:
        print(
            f"note: {report.open_flags} plausibility flag(s) of {report.open_flag_years or report.year} still open; "
            "the report says DRAFT"
        )
    if report.not_compared:
        print(
            f"note: {report.not_compared} workbook(s) of {report.year} not compared again with an earlier year as it "
            "now stands (gtb status lists them); the report says DRAFT"
        )
    if report.mixed_sets:
        print(f"note: {_mixed_sets_note(report.year, report.mixed_sets)}; the report says DRAFT")
    return OK


def _mixed_sets_note(year: int, sets: Sequence[tuple[str, int]]) -> str:
    from pipeline.emissions.calculate import sets_used

    used = sets_used(sets)
    return f"the workbooks of {year} are calculated with {len(sets)} factor sets, {used} (gtb recalculate restates it)"


def _export(args: argparse.Namespace) -> int:
    from pipeline import api

    done = api.export(args.year, args.db, args.outputs, args.format)
    print(
        f"wrote {len(done.rows)} {done.format} files ({sum(done.rows.values()):,} rows) and datapackage.json "
        f"to {done.folder}"
    )
    if done.removed:
        kinds = sorted({name.rsplit(".", 1)[-1] for name in done.removed})
        print(
            f"removed {len(done.removed)} {'/'.join(kinds)} files of the export before, which this datapackage.json "
            "does not describe"
        )
    if done.open_flags:
        print(
            f"note: {done.open_flags} plausibility flag(s) of {done.open_flag_years or done.year} still open; "
            "the package says DRAFT"
        )
    if done.not_compared:
        print(
            f"note: {len(done.not_compared)} submission(s) of {done.year} not compared again with an earlier year as "
            "it now stands (gtb status lists them); the package says DRAFT"
        )
    if done.mixed_sets:
        print(f"note: {_mixed_sets_note(done.year, done.mixed_sets)}; the package says DRAFT")
    return OK


def _serve(args: argparse.Namespace) -> int:
    from pipeline import api

    # Ctrl-C or SIGTERM: waitress stops serving (and takes the KeyboardInterrupt itself once it serves)
    with contextlib.suppress(KeyboardInterrupt):
        api.serve(args.host, args.port, args.inputs, args.outputs, args.db, on_ready=print)
    print("portal stopped")
    return OK


def _users(args: argparse.Namespace) -> int:
    from pipeline import api

    if args.users_command == "list":
        for user in api.users_list(args.outputs):
            seen = f"{user.last_login:%Y-%m-%d %H:%M} UTC" if user.last_login else "never"
            locked = f", locked until {user.locked_until:%H:%M} UTC" if user.locked_until else ""
            where = "every entity" if user.analyst else ", ".join(user.entities) or "no entity"
            off = "" if user.is_active else "\tdisabled"
            print(f"{user.username}\t{user.role}\t{where}\tlast sign-in {seen}{locked}{off}")
        return OK
    if args.users_command == "disable":
        user = api.users_disable(args.username, args.outputs)
        print(f"disabled {user.username}: they can no longer sign in (`gtb users add --replace` enables them again)")
        return OK
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise GtbError("no password on standard input")
    user, secret = api.users_add(args.username, args.entity, args.analyst, password, args.outputs, replace=args.replace)
    what = "analyst" if user.analyst else f"focal point of {', '.join(user.entities)}"
    print(f"{'reset' if args.replace else 'added'} {user.username}: {what}")
    if password is None:
        print(f"password: {secret}")
    return OK


COMMANDS = {
    "template": _template,
    "validate": _validate,
    "run": _run,
    "recalculate": _recalculate,
    "indicators": _indicators,
    "status": _status_command,
    "accept": _accept,
    "compare": _compare_command,
    "report": _report,
    "export": _export,
    "serve": _serve,
    "users": _users,
}


def _dispatch(args: argparse.Namespace) -> int:
    command = COMMANDS.get(args.command)
    if command is None:
        raise GtbError(f"unknown command {args.command}")
    return command(args)


# Commands after which nothing is left to close (their database connection is closed, their
# files written and closed, their worker processes stopped): the process ends at once, without
# the interpreter's teardown, which frees every object one by one (0.15 s after validating
# 100,000 rows). They also run without the cyclic garbage collector: a process that lives for
# one command and leaves almost no cycles behind (about 500 objects after loading a year of 60
# workbooks) need not scan the objects it holds again and again (0.2 s of a `gtb run`).
QUICK_EXIT = ("validate", "run")


def entry() -> NoReturn:
    """The `gtb` program: `main`, then exit; `QUICK_EXIT` commands without the cyclic garbage
    collector and without the teardown."""
    args = build_parser().parse_args(sys.argv[1:])
    if args.command in QUICK_EXIT:
        gc.disable()
    code = _main(args, restore_sigterm=False)  # a SIGTERM from here on is let be: the command has ended
    if args.command in QUICK_EXIT:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # a reader that went away (gtb run | head)
                stream.flush()
        _remove_multiprocessing_folder()
        os._exit(code)
    sys.exit(code)


def _remove_multiprocessing_folder() -> None:
    """Remove the temporary folder multiprocessing made for the fork server's socket (`pymp-*`),
    as its exit function would in the teardown `os._exit` skips: every `gtb run` and `gtb
    validate` left one behind, thousands a year on a server. The fork server ends with this
    process, and no worker starts after the command (`workers.stopping_pools`). The folder's
    place is kept in the process's multiprocessing configuration, which has no public getter.
    Only for a process about to end: one that goes on (a test calling `entry`) would find its fork
    server's socket gone at its next worker pool."""
    import shutil
    from multiprocessing import process

    folder = process.current_process()._config.get("tempdir")  # type: ignore[attr-defined]
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _status(
    rows: list,
    year: int,
    as_json: bool,
    unattributed: list | None = None,
    no_run: bool = False,
    mixed: Sequence[tuple[str, int]] = (),
) -> int:
    unattributed = unattributed or []
    if as_json:
        entities = [r.as_json() for r in rows]
        files = [u.as_json() for u in unattributed]
        out: dict = {"year": year, "entities": entities, "unattributed": files}
        if no_run:  # only then: the entities are the code list's, nothing was received yet
            out["no_run_completed"] = True
        if mixed:  # only then: the year's report and export are drafts until it is restated
            out["mixed_factor_sets"] = [{"factor_set": name, "submissions": n} for name, n in mixed]
        print(json.dumps(out, default=str))
        return OK
    from rich.table import Table

    from pipeline import safe
    from pipeline.terminal import Console

    expected = sum(r.expected for r in rows)
    others = f", and {len(rows) - expected} not expected that sent a workbook" if len(rows) > expected else ""
    table = Table(title=f"Submissions {year}: {expected} entities expected{others}")
    for column in ("entity", "status", "file", "received", "errors", "warnings", "open flags", "first finding"):
        table.add_column(column, overflow="fold")
    styles = {"missing": "red", "rejected": "red", "loaded-with-flags": "yellow", "accepted": "green"}
    for r in rows:
        table.add_row(
            r.entity if r.expected else f"{r.entity} (not expected in {year})",
            f"[{styles.get(r.status, 'default')}]{r.status}[/]"
            + (f"\n[yellow]compare again with {r.compare_again}[/]" if r.compare_again else ""),
            safe.for_console(r.file or ""),
            r.received_at or "",
            str(r.errors),
            str(r.warnings),
            str(r.open_flags),
            safe.for_console(_says_year(r.workbook_year) + (r.first_finding or "")[:120]),
        )
        for f in r.rejected_files:  # under the row: its status stays the loaded file's
            table.add_row(
                "",
                "[red]rejected since[/]" if f.newer else "[red]also rejected[/]",
                safe.for_console(f.file),
                f.received_at or "",
                str(f.errors),
                "",
                "",
                safe.for_console(_says_year(f.year if f.year != year else None) + (f.first_finding or "")[:120]),
            )
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    if no_run:
        console.print(
            "[yellow]no run has completed on this database yet[/]: the entities are those the code list "
            f"expects for {year}; gtb run loads the submissions"
        )
    console.print(table)
    counts = {
        s: sum(r.status == s for r in rows)
        for s in ("missing", "rejected", "loaded-with-flags", "loaded", "accepted", "history-only")
    }
    since = sum(bool(r.rejected_since) for r in rows if r.status not in ("rejected", "missing", "history-only"))
    newer = [f"{since} loaded with a newer file rejected since"] if since else []
    stale = sum(bool(r.compare_again) for r in rows)
    newer += [f"{stale} to compare again"] if stale else []
    console.print(", ".join([*(f"{n} {s}" for s, n in counts.items() if n), *newer]))
    _compare_again_lines(console, rows)
    _report_lines(console, rows)
    _unattributed_lines(console, unattributed, year)
    if mixed:
        from rich.text import Text

        note = Text(safe.console_safe(_mixed_sets_note(year, mixed)), style="yellow")
        console.print(Text.assemble(note, ": the report and export are drafts until then"))
    return OK


STALE_LISTED = 10  # the stale rows listed under the table: a recalculated year makes every later one stale


def _compare_again_lines(console, rows: list) -> None:
    """The loaded files whose flags may be stale, and how a run compares them again."""
    from pipeline import safe

    stale = [r for r in rows if r.compare_again]
    if not stale:
        return
    console.print(
        "[yellow]to compare again[/] (the earlier year was received or recalculated since: the flags, "
        "and an acceptance, may no longer hold; gtb report --final waits for them). gtb run compares "
        "each whose workbook is in the inputs folder (put back any that is not):"
    )
    for r in stale[:STALE_LISTED]:
        console.print(
            f"  {r.entity} {safe.for_console(r.file or '')} with {r.entity} {r.compare_again}", highlight=False
        )
    if len(stale) > STALE_LISTED:
        console.print(f"  ... and {len(stale) - STALE_LISTED} more (gtb status --json lists them all)")


def _report_lines(console, rows: list) -> None:
    """Where the reports to send back are: each rejected or flagged row's file, and each file
    rejected since a loaded one (its issues.csv, and annotated.xlsx when it has findings)."""
    from pipeline import safe

    wanted = [
        (r.entity, r.file, r.report) for r in rows if r.status in ("rejected", "loaded-with-flags") and r.report
    ] + [(r.entity, f.file, f.report) for r in rows for f in r.rejected_since if f.report]
    if not wanted:
        return
    console.print("reports to send back (issues.csv and annotated.xlsx):")
    for entity, file, report in wanted:
        console.print(f"  {entity} {safe.for_console(file or '')}: {safe.for_console(report)}", highlight=False)


def _says_year(year: int | None) -> str:
    """The lead of a rejected file's finding when the workbook names another year than its folder's."""
    return f"(the workbook says {year}) " if year is not None else ""


def _unattributed_lines(console, files: list, year: int) -> None:
    """The rejected files no entity row shows: their entity or year could not be read."""
    from pipeline import safe

    if not files:
        return
    console.print(f"[red]{len(files)} rejected file{'s' * (len(files) != 1)} of {year} not attributed to an entity[/]:")
    for u in files:
        console.print(
            f"  {safe.for_console(u.path)} ({u.received_at}, {u.errors} error{'s' * (u.errors != 1)}): "
            f"{safe.for_console((u.first_finding or '')[:160])}"
            + (f" -> {safe.for_console(u.report)}" if u.report else "")
        )


def _compare(result) -> None:
    from rich.table import Table

    from pipeline.indicators import shown
    from pipeline.terminal import Console

    before = str(result.previous_year or result.year - 1)
    table = Table(title=f"{result.entity}: {before} and {result.year}")
    for column, justify in (
        ("indicator", "left"),
        (before, "right"),
        (str(result.year), "right"),
        ("change", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in result.lines:
        old, unit = shown(line.key, line.before)
        new, unit_new = shown(line.key, line.now)
        change = "" if line.change is None else f"{line.change * 100:+.1f} %"
        table.add_row(
            f"{line.key.label} ({unit or unit_new})" if (unit or unit_new) else line.key.label,
            old,
            new,
            change,
            "[yellow]flag[/]" if line.flagged else "",
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    from pipeline import safe

    if result.file_name:  # the workbook whose flags these are: `gtb accept --file --sha256` names it
        console.print(
            f"  loaded workbook: {safe.console_safe(result.file_name)} (sha256 {result.sha256})", markup=False
        )

    if result.factor_set_changed:  # as the report says it wherever it compares years
        console.print(
            f"  note: {before} was calculated with {result.previous_factor_sets} and {result.year} with "
            f"{result.factor_sets}: part of the change in emissions is the method's "
            "(docs/emission-factors.md; `gtb recalculate` restates a year)"
        )
    for flag in result.flags:
        console.print(
            f"  [yellow]{flag['status']}[/] {flag['sheet']}!{flag['cell']} {flag['code']}: "
            f"{safe.for_console(flag['message'])}"
        )
        if flag["explanation"]:  # the focal point's comment on the row: what the analyst weighs before accepting
            console.print(f"    explained: {safe.for_console(flag['explanation'])}")


if __name__ == "__main__":  # pragma: no cover
    entry()
