"""The `gtb` command: parses arguments, calls `pipeline.api`, maps the outcome to an exit code.

Exit codes (cli.md): 0 all good (warnings allowed); 1 at least one submission had errors;
2 the command itself could not run, with a one-line reason on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from pipeline import __version__
from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS

OK, HAD_ERRORS, CANNOT_RUN = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line on stderr, exit 2, no usage dump
        self.exit(CANNOT_RUN, f"{self.prog}: {message} (try {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gtb", description="Greening the Blue inventory pipeline")
    parser.add_argument("--version", action="version", version=f"gtb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("template", help="write a blank submission workbook")
    p.add_argument("entity", help="entity code, e.g. UNEP")
    p.add_argument("year", type=int, help="reporting year")
    p.add_argument("-o", "--output", type=Path, help="file to write (default ENTITY_YEAR_submission.xlsx)")
    p.add_argument("--lang", default="en", help="language of the instructions (en)")

    p = sub.add_parser("validate", help="check workbooks against the contract (never touches the database)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--report-dir", type=Path, help="where reports go (default outputs/validation)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: up to 2)")

    p = sub.add_parser("run", help="validate every submission, load the valid ones, recompute emissions")
    p.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS, help="inputs folder (default inputs/)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder (default outputs/)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: up to 2)")

    p = sub.add_parser("recalculate", help="recalculate a past year with another factor set (logged)")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--factor-set", required=True, help="name of a set under inputs/reference/factors/")
    p.add_argument("--reason", required=True, help="why; kept in the recalculations log")
    p.add_argument("--db", type=Path, default=DEFAULT_DB)

    p = sub.add_parser("indicators", help="print one row of the indicators (system-wide or one entity)")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--entity", help="entity code (default: the system-wide row)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB)
    p.add_argument("--json", action="store_true", help="print the row as one JSON object")

    p = sub.add_parser("report", help="write the year's charts, tables and entity factsheets")
    p.add_argument("--year", type=int, required=True, help="data year")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help="database (default outputs/gtb.duckdb)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="outputs folder (default outputs/)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes for the factsheets (default 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("run", "validate"):
        from pipeline.workers import warm_up

        warm_up("pipeline.intake.read")  # the readers' fork server starts while we import
    try:
        return _dispatch(args)
    except GtbError as exc:
        print(f"gtb: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except KeyboardInterrupt:
        print("gtb: interrupted", file=sys.stderr)
        return CANNOT_RUN
    except OSError as exc:  # a folder or file the command needs cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        print(f"gtb: {exc.strerror or exc}{where}", file=sys.stderr)
        return CANNOT_RUN
    except Exception as exc:  # a bug, not an input: one line, and the traceback on request
        if os.environ.get("GTB_DEBUG"):
            raise
        print(f"gtb: internal error ({type(exc).__name__}: {exc}); rerun with GTB_DEBUG=1 for details", file=sys.stderr)
        return CANNOT_RUN


def _dispatch(args: argparse.Namespace) -> int:
    from pipeline import api

    if args.command == "template":
        path = api.template(args.entity, args.year, args.output, lang=args.lang)
        print(f"wrote {path}")
        return OK
    if args.command == "validate":
        subs = api.validate(args.files, report_dir=args.report_dir, jobs=args.jobs)
        return HAD_ERRORS if any(not s.is_valid for s in subs) else OK
    if args.command == "run":
        result = api.run(args.inputs, args.db, args.outputs, jobs=args.jobs)
        return HAD_ERRORS if result.had_errors else OK
    if args.command == "recalculate":
        done = api.recalculate(args.year, args.factor_set, args.reason, args.db)
        print(
            f"recalculated {done['submissions']} submissions of {done['year']} with {done['new_factor_set']} "
            f"(was {done['old_factor_set']}): "
            f"{done['old_total_tco2e'] or 0:,.1f} -> {done['new_total_tco2e']:,.1f} tCO2e"
        )
        return OK
    if args.command == "indicators":
        row = api.indicators(args.year, args.entity, args.db)
        if args.json:
            print(json.dumps(row, allow_nan=False))  # the views never hold a non-finite number
        else:
            from pipeline.indicators import print_table

            print_table(row)
        return OK
    if args.command == "report":
        report = api.report(args.year, args.db, args.outputs, jobs=args.jobs)
        print(
            f"wrote {len(report.charts)} chart files, {len(report.tables)} tables and {len(report.factsheets)} "
            f"factsheets to {report.folder} (see index.md)"
        )
        return OK
    raise GtbError(f"unknown command {args.command}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
