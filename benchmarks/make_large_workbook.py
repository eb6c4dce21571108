"""Write one valid submission workbook whose AirTravel sheet has ROWS rows (a per-ticket export).

    python benchmarks/make_large_workbook.py OUT.xlsx [--rows 99000] [--entity UNDP] [--year 2024]

The other sheets are the demo generator's for the entity and year (`demo.data`); the AirTravel
sheet repeats the entity's valid routes one ticket at a time (trips = 1), as a large agency's
travel export would. Written the way Excel writes a workbook (shared strings, a date style), in a
stream, so that a million rows take seconds and little memory: `--rows 1000000` is the
one-million-row benchmark. Benchmarks only: nothing here is committed as a binary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone

from pipeline.cells import column_letter  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
EXCEL_EPOCH = dt.date(1899, 12, 30)

Row = list[object]


def large_grid(entity: str, year: int, rows: int, seed: int = 2025) -> dict[str, Iterable[Row]]:
    """The demo workbook of `entity` and `year`, its AirTravel rows repeated as single tickets."""
    from demo.data import build_submission, render

    grid: dict[str, list[Row]] = render(build_submission(entity, year, seed), seed)
    header, *routes = grid["AirTravel"]
    names = [str(h).strip().lower() for h in header]
    trips, rt = names.index("trips"), names.index("round_trip")

    def tickets() -> Iterator[Row]:
        yield header
        for i in range(rows):
            row = list(routes[i % len(routes)])
            row[trips] = 1
            row[rt] = "yes" if i % 3 else "no"
            yield row

    return {**grid, "AirTravel": tickets()}


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def __call__(self, text: str) -> int:
        self.count += 1
        return self.index.setdefault(text, len(self.index))


def _cell(ref: str, value: object, strings: _Strings) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, dt.date):
        serial = (value - EXCEL_EPOCH).days if not isinstance(value, dt.datetime) else None
        if serial is None:
            raise TypeError("date-times are not used by the demo workbooks")
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    return f'<c r="{ref}" t="s"><v>{strings(str(value))}</v></c>'


def _sheet_chunks(rows: Iterable[Row], strings: _Strings) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{column_letter(c)}{r}", v, strings) for c, v in enumerate(row, start=1))
        yield f'<row r="{r}">{cells}</row>'
    yield "</sheetData></worksheet>"


def write(path: Path, grid: dict[str, Iterable[Row]]) -> None:
    """A minimal package as Excel lays it out: content types, workbook, its rels, sheets, strings, styles."""
    strings = _Strings()
    names = list(grid)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1)
        )
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        sheets = "".join(
            f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1)
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            f"<sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        n = len(names)
        rels += f'<Relationship Id="rId{n + 1}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        rels += f'<Relationship Id="rId{n + 2}" Type="{REL}/styles" Target="styles.xml"/>'
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL}">{rels}'
            "</Relationships>",
        )
        for i, name in enumerate(names, start=1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as fh:
                buffer: list[str] = []
                for chunk in _sheet_chunks(grid[name], strings):
                    buffer.append(chunk)
                    if len(buffer) >= 4096:
                        fh.write("".join(buffer).encode("utf-8"))
                        buffer.clear()
                fh.write("".join(buffer).encode("utf-8"))
        items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings.index)
        zf.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" count="{strings.count}" '
            f'uniqueCount="{len(strings.index)}">{items}</sst>',
        )
        zf.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            "</styleSheet>",
        )


def make(path: Path, rows: int = 99_000, entity: str = "UNDP", year: int = 2024) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, large_grid(entity, year, rows))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the workbook to write, e.g. outputs/bench/large/UNDP_2024.xlsx")
    parser.add_argument("--rows", type=int, default=99_000, help="AirTravel rows (default 99,000)")
    parser.add_argument("--entity", default="UNDP")
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    make(args.out, args.rows, args.entity, args.year)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
