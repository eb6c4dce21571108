"""The `gtb` command: parses arguments, calls `pipeline.api`, maps the outcome to an exit code.

Exit codes (cli.md): 0 all good (warnings allowed); 1 at least one submission had errors;
2 the command itself could not run, with a one-line reason on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.errors import GtbError

OK, HAD_ERRORS, CANNOT_RUN = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2, no usage dump
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except GtbError as exc:
        print(f"gtb: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except KeyboardInterrupt:
        print("gtb: interrupted", file=sys.stderr)
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
    raise GtbError(f"unknown command {args.command}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
