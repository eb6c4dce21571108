"""A deterministic corpus of bad workbooks and the findings validation gives them.

`tests/test_findings_snapshot.py` builds the corpus, validates it the way `gtb run` does (guard,
read, normalise, validate, cross-checks) and compares every finding (file, sheet, cell, row,
column, value, code, severity, message) with the snapshot `tests/snapshots/findings.csv`. A
change to how validation is done (faster parsing, another backend, work moved between processes)
must leave that file unchanged.

A change of what validation says (a new rule, a reworded or translated message, a new limit) is
made on purpose: regenerate the snapshot and review the difference line by line before
committing it, as each changed line is a finding a focal point will see differently:

    .venv/bin/python -m tests.findings_corpus --write
    git diff tests/snapshots/findings.csv

The corpus: one-mistake workbooks for the rules of every sheet; structural mistakes (missing,
renamed, extra and hidden sheets, missing, renamed, duplicate and shifted columns, unknown,
duplicate, missing and shifted fields, blank rows, formulas without a saved value, Excel error cells);
duplicate serials within and across workbooks, two workbooks for one entity-year, file names and
folders naming another entity or year; three larger workbooks whose rows carry seeded random
mistakes of every kind in every column; the odd files of `tests/odd_files.py`; and hostile or
non-xlsx files from `tests/hostile.py`; two random workbooks filled in French and Spanish (tabs,
headers, labels, numbers and dates as typed in those languages). Nothing depends on today's date:
no reporting year, vintage or date near the current year is used, so the snapshot holds from year
to year.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests import hostile, odd_files
from tests.builders import Rows, set_cell, valid_sheets, write_workbook

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "findings.csv"
COLUMNS = ["file", "sheet", "cell", "row", "column", "value", "code", "severity", "message"]
YEAR = 2022  # reporting year of the corpus: far from the current year

# (sheet, cell, value typed by the focal point): one workbook each
SINGLE_MISTAKES: list[tuple[str, str, object]] = [
    ("Entity", "B2", "UNEPX"),
    ("Entity", "B2", "une p"),
    ("Entity", "B3", 2007),
    ("Entity", "B3", "2022.5"),
    ("Entity", "B3", "twenty"),
    ("Entity", "B4", 0),
    ("Entity", "B4", "twelve"),
    ("Entity", "B4", 12.5),
    ("Entity", "B4", 3_000_000),
    ("Entity", "B5", 120),
    ("Entity", "B6", -1),
    ("Entity", "B7", "   "),
    ("Entity", "B8", "amina.otieno.un.org"),
    ("Entity", "B8", "a@b"),
    ("Entity", "B9", None),
    ("Entity", "B9", "2019.3"),
    ("Facilities", "A2", None),
    ("Facilities", "B2", "Kenya"),
    ("Facilities", "B2", "KE"),
    ("Facilities", "C2", "solar"),
    ("Facilities", "C2", "electricty"),
    ("Facilities", "D2", "approx. 500"),
    ("Facilities", "D2", "1.200,5"),
    ("Facilities", "D2", "500 kWh"),
    ("Facilities", "D2", -5),
    ("Facilities", "D2", "-5"),
    ("Facilities", "D2", True),
    ("Facilities", "D2", dt.date(2022, 5, 1)),
    ("Facilities", "D2", 5e12),
    ("Facilities", "E2", "litre"),
    ("Facilities", "E3", "kwh"),
    ("Facilities", "F2", 3_000_000),
    ("Facilities", "F3", 10),
    ("Facilities", "G2", "guess"),
    ("Facilities", "D3", "#DIV/0!"),
    ("Facilities", "D2", "=1200*2"),
    ("Refrigerants", "C2", "r999"),
    ("Refrigerants", "D2", -1),
    ("Refrigerants", "D2", 2e7),
    ("Vehicles", "B2", "tank"),
    ("Vehicles", "C2", "hydrogen"),
    ("Vehicles", "E2", "kwh"),
    ("AirTravel", "A2", "XXX"),
    ("AirTravel", "B2", None),
    ("AirTravel", "B2", "NBO"),
    ("AirTravel", "C2", 6000),
    ("AirTravel", "C4", None),
    ("AirTravel", "C4", 0),
    ("AirTravel", "C4", 30000),
    ("AirTravel", "D2", "economy plus"),
    ("AirTravel", "E2", 0),
    ("AirTravel", "E2", 2.5),
    ("AirTravel", "F2", "maybe"),
    ("AirTravel", "F2", 0),  # TRUE and FALSE are yes and no
    ("AirTravel", "G2", 1_000_000),
    ("AirTravel", "G2", 5),
    ("AirTravel", "H2", "guessed"),
    ("OtherTravel", "A2", "plane"),
    ("OtherTravel", "B2", "abc"),
    ("Offsets", "A2", "voluntary"),
    ("Offsets", "B2", None),
    ("Offsets", "D2", 1999),
    ("Offsets", "D2", YEAR + 2),
    ("Offsets", "E2", 0),
    ("Offsets", "F2", dt.date(YEAR - 1, 12, 31)),
    ("Offsets", "F2", "15/03/2023"),
    ("Offsets", "F2", "2023-02-30"),
    ("Waste", "C2", "textiles"),
    ("Waste", "D2", "burnt"),
    ("Waste", "F2", "lbs"),
    ("Water", "C2", "sea"),
    ("Water", "E2", "gallon"),
    ("Water", "F2", None),
    ("EMS", "B2", "done"),
    ("EMS", "B3", "none"),
    ("EMS", "B4", 101),
    ("EMS", "B5", "Y"),
    ("EMS", "B6", "next year"),
    ("Entity", "B5", 0.005),  # a share typed as a fraction: 0.5 % (implausible-value)
    ("Offsets", "C2", f"CER-UNEP-{YEAR}-000001-005000\nCER-UNEP-{YEAR}-005001-006000"),  # two blocks, one cell
]


def _sheets(entity: str = "UNEP") -> dict[str, Rows]:
    sheets = valid_sheets(entity, YEAR)
    sheets["AirTravel"][0].insert(6, "icec_co2_kg")  # the optional calculator column, before data_quality
    for row in sheets["AirTravel"][1:]:
        row.insert(6, None)
    return sheets


def _structural() -> dict[str, dict[str, Rows]]:
    out: dict[str, dict[str, Rows]] = {}
    s = _sheets()
    del s["Water"]
    s["Air Travel"] = s.pop("AirTravel")
    s["Notes"] = [["anything"]]
    out["sheets_missing_renamed_extra"] = s
    s = _sheets()
    s["Facilities"][0][3] = "qty"
    s["Facilities"][0].append("comments")
    s["Vehicles"][0][2] = "Fuel "
    s["Vehicles"][0].append("fuel")
    s["Vehicles"][1].append("petrol")
    out["columns_missing_renamed_duplicate"] = s
    s = _sheets()
    s["Waste"] = [[None, *row] for row in s["Waste"]]  # one column to the right
    s["Water"] = [row[1:] for row in s["Water"]]  # first column lost
    out["columns_shifted"] = s
    s = _sheets()
    s["Entity"] = [r for r in s["Entity"] if r[0] != "personnel"] + [["phone", "+254"], ["entity_code", "WFP"]]
    s["EMS"] = [r for r in s["EMS"] if r[0] != "status"]
    out["fields_missing_unknown_duplicate"] = s
    s = _sheets()
    s["Facilities"].insert(2, [None] * 7)
    s["Facilities"].insert(3, ["", " ", None, None, None, None, None])
    set_cell(s, "Facilities", "D6", -1)
    set_cell(s, "Facilities", "A9", None)
    set_cell(s, "Facilities", "B9", "CHE")
    s["Vehicles"] = s["Vehicles"][:1]
    out["blank_rows_and_stray_cells"] = s
    s = _sheets()
    set_cell(s, "Facilities", "D2", "=A1*2")
    set_cell(s, "Water", "D2", "=1/0")
    set_cell(s, "Waste", "E3", "#N/A")
    set_cell(s, "Refrigerants", "D3", "#VALUE!")
    out["formulas_and_error_cells"] = s
    s = _sheets()
    s["Offsets"].append(list(s["Offsets"][1]))
    s["Offsets"].append(["CER", "CDM-1234", f"cer-unep-{YEAR}-004000 - 006000", YEAR, 2001, dt.date(YEAR, 6, 1)])
    s["Offsets"].append(["VCU", "VCS-99", "  ", YEAR, 10, dt.date(YEAR, 6, 1)])
    out["serials_repeated_in_file"] = s
    s = _sheets()
    for name in ("Facilities", "Water", "Waste", "AirTravel"):
        s[name] = s[name][:1]
    s["Vehicles"] = []
    out["empty_sheets"] = s
    s = _sheets()
    for row in s["Facilities"][1:]:
        row[2] = " Natural-Gas "
        row[4] = "M3"
    s["Facilities"][0] = [h.upper() for h in s["Facilities"][0]]
    set_cell(s, "AirTravel", "A3", " nbo")
    set_cell(s, "AirTravel", "B3", "NBO ")
    set_cell(s, "EMS", "B2", "certified")
    set_cell(s, "EMS", "B3", "other")
    out["spellings_and_same_airport"] = s
    s = _sheets()
    s["Entity"] = [[None, *row] for row in s["Entity"]]  # a column inserted at the left: fields in B, values in C
    set_cell(s, "Entity", "C4", "twelve")
    s["EMS"] = [[None, None, *row] for row in s["EMS"] if row[0] != "status"]  # two columns, a field missing
    out["fields_shifted"] = s
    return out


# Bad values per contract type, and a few that are fine as typed
BAD: dict[str, list[object]] = {
    "number": [
        "abc",
        "1.200,5",
        "500 kWh",
        -5,
        "-12",
        True,
        dt.date(2022, 1, 5),
        "  ",
        1e30,
        "1 2 3",
        "٣",
        "nan",
        "inf",
    ],
    "integer": [2.5, "3.7", "x", -1, 0, 1e12, False, "1e3", dt.datetime(2022, 2, 3, 4, 5)],
    "enum": ["xyz", "Natural  Gas", 12, True, dt.date(2022, 1, 1), "élec", "  "],
    "yesno": ["Y", "N", 0, 1, "oui", "  "],  # not True or False: a boolean cell is yes or no
    "iso3": ["XXX", "Kenya", "ke", 5, "  "],
    "iata": ["ZZZ", "Geneva", "gv", 7],
    "entity": ["UNEPX", "un ep", 3],
    "text": ["  ", 12, None, dt.date(2022, 1, 1)],
    "email": ["nobody", "a@b", "x@y.z"],
    "date": ["2022-13-01", "15/03/2023", 45000, "soon", True, dt.date(2020, 1, 1), " 2022-06-01 "],
}
GOOD: dict[str, list[object]] = {
    "number": ["1 200", "1,200.5", " 42 ", 0.5, 7],
    "integer": ["12", 3, "1 000"],
    "enum": [],
    "yesno": ["YES", "no ", "No"],
}


def _random_rows(spec, n: int, rng: random.Random, valid: list[object]) -> Rows:
    """n rows, each a valid row with now and then one or two cells replaced by a bad or odd value."""
    rows: Rows = [list(spec.names)]
    for i in range(n):
        row = list(valid)
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            j = rng.randrange(len(row))
            dtype = spec.columns[j].dtype
            pool = BAD.get(dtype, []) + GOOD.get(dtype, []) + [None]
            row[j] = rng.choice(pool)
        if i % 17 == 5:
            row = [None] * len(row)  # a blank row
        rows.append(row)
    return rows


def _valid_row(sheets: dict[str, Rows], spec) -> list[object]:
    header = [str(h) for h in sheets[spec.name][0]]
    first = sheets[spec.name][1]
    return [first[header.index(c)] if c in header else None for c in spec.names]


def _random_workbook(seed: int, entity: str) -> dict[str, Rows]:
    from schemas import contract

    rng = random.Random(seed)
    base = _sheets(entity)
    out: dict[str, Rows] = {}
    for spec in contract.sheets():
        if spec.is_table:
            out[spec.name] = _random_rows(spec, 150, rng, _valid_row(base, spec))
        else:
            rows = [list(r) for r in base[spec.name]]
            for _ in range(2):
                k = rng.randrange(1, len(rows))
                dtype = spec.column(str(rows[k][0])).dtype
                rows[k][1] = rng.choice(BAD.get(dtype, ["?"]))
            out[spec.name] = rows
    for i, row in enumerate(out["Offsets"][1:]):
        if i % 13 and isinstance(row[2], str) and row[2].startswith("CER-"):  # every 13th repeats a serial
            row[2] = f"CER-{entity}-{YEAR}-{10 * i + 1:06d}-{10 * i + 5:06d}"
            if isinstance(row[4], (int, float)) and not isinstance(row[4], bool) and row[4] == 5000:
                row[4] = 5  # the five credits of the range (a quantity made wrong on purpose stays)
    if seed % 2:  # the unit and renewable rules need sound types and units
        for row in out["Facilities"][1::3]:
            row[2:5] = [rng.choice(["electricity", "diesel", "natural_gas"]), 100, rng.choice(["kwh", "litre", "m3"])]
            row[5] = rng.choice([None, 50, 500])
    return out


def _in_language(sheets: dict[str, Rows], lang: str, rng: random.Random) -> dict[str, Rows]:
    """`sheets` as a focal point fills the `lang` template: its tabs, headers and field names, coded
    values now and then as the drop-down's label, numbers and dates now and then typed as text the
    way that language writes them ('1 200,5', '15/03/2022')."""
    from schemas import contract, i18n

    out: dict[str, Rows] = {}
    for name, rows in sheets.items():
        spec = contract.sheet(name)
        new = [list(r) for r in rows]
        if spec.is_table:
            new[0] = [i18n.header(name, str(h), lang) if h in spec.names else h for h in new[0]]
            kinds = [[spec.column(str(h)) if h in spec.names else None for h in rows[0]]] * len(rows)
        else:  # field names in column A, values in column B
            kinds = [[None, spec.column(str(r[0])) if r and r[0] in spec.names else None] for r in rows]
            for row in new[1:]:
                if row and row[0] in spec.names:
                    row[0] = i18n.header(name, str(row[0]), lang)
        for k in range(1, len(new)):
            for j, value in enumerate(new[k]):
                col = kinds[k][j] if j < len(kinds[k]) else None
                if col is not None and value is not None and rng.random() < 0.5:
                    new[k][j] = _as_typed(col, value, lang)
        out[i18n.sheet_name(name, lang)] = new
    return out


def _as_typed(col, value: object, lang: str) -> object:
    """A value as a person typing in `lang` writes it: the drop-down's label, '1 200,5', '15/03/2022'."""
    from schemas import i18n

    if col.codelist and isinstance(value, str) and col.codelist not in ("entities", "airports"):
        return i18n.code_label(col.codelist, value, lang) or value
    if isinstance(value, float) and value == value:
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def _hostile(folder: Path) -> list[Path]:
    out = []
    for build in hostile.FAMILIES:
        sub = folder / f"_{build.__name__}"
        sub.mkdir()
        made = build(sub)
        target = folder / f"hostile_{build.__name__}.xlsx"
        shutil.move(made, target)
        shutil.rmtree(sub)
        out.append(target)
    return out


def _odd(folder: Path) -> list[Path]:
    out = [odd_files.mutated(folder, f"odd_{name}.xlsx", name) for name in sorted(odd_files.MUTATIONS)]
    base = write_workbook(folder / "_base.xlsx", _sheets())
    for sheet, cell, text in (("Facilities", "D2", "inf"), ("Water", "D2", "NaN"), ("Vehicles", "D2", "1e400")):
        path = folder / f"odd_raw_{sheet}_{text}.xlsx"
        path.write_bytes(odd_files.raw_value(base.read_bytes(), sheet, cell, text))
        out.append(path)
    base.unlink()
    return out


def build(folder: Path) -> list[Path]:
    """Write the corpus into `folder` (empty or absent); return its files in a fixed order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i, (sheet, cell, value) in enumerate(SINGLE_MISTAKES):
        name = f"single_{i:02d}_{sheet}_{cell}.xlsx"
        paths.append(write_workbook(folder / name, set_cell(_sheets(), sheet, cell, value)))
    for name, sheets in _structural().items():
        paths.append(write_workbook(folder / f"structure_{name}.xlsx", sheets))
    hidden = folder / "structure_hidden_sheet.xlsx"
    write_workbook(hidden, _sheets())
    _hide_sheet(hidden, "EMS")
    paths.append(hidden)
    merged = folder / "structure_merged_cells.xlsx"  # a site typed once over its rows, merged
    write_workbook(merged, _sheets())
    _merge(merged, "Facilities", "A2:A3", "B3:B4")
    paths.append(merged)
    hidden_rows = folder / "structure_hidden_rows.xlsx"  # rows hidden by hand or a filter are read all the same
    write_workbook(hidden_rows, _sheets("UNFPA"))
    _hide_rows(hidden_rows, {"Facilities": (2, 3, 40), "Entity": (4,)})
    paths.append(hidden_rows)
    for seed, entity in ((1, "WFP"), (2, "UNICEF"), (3, "UNHCR")):
        paths.append(write_workbook(folder / f"random_{seed}_{entity}_{YEAR}.xlsx", _random_workbook(seed, entity)))
    for seed, entity, lang in ((4, "UNEP", "fr"), (5, "UNDP", "es")):  # read in the workbook's language
        sheets = _in_language(_random_workbook(seed, entity), lang, random.Random(seed))
        paths.append(write_workbook(folder / f"random_{seed}_{entity}_{YEAR}_{lang}.xlsx", sheets))
    # across workbooks: one entity-year twice, a serial claimed by two entities, misleading names and folders
    paths.append(write_workbook(folder / f"twice_a_FAO_{YEAR}.xlsx", _sheets("FAO")))
    paths.append(write_workbook(folder / f"twice_b_FAO_{YEAR}.xlsx", set_cell(_sheets("FAO"), "Water", "D2", 5)))
    claimed = _sheets("ILO")
    claimed["Offsets"][1][2] = f"CER-UNEP-{YEAR}-000001-005000"
    paths.append(write_workbook(folder / f"ILO_{YEAR}_serial_claimed.xlsx", claimed))
    paths.append(write_workbook(folder / f"WHO_{YEAR - 1}.xlsx", _sheets("UNDP")))
    other_year = folder / str(YEAR + 1)
    other_year.mkdir()
    paths.append(write_workbook(other_year / f"UNESCO_{YEAR}.xlsx", _sheets("UNESCO")))
    paths.extend(_odd(folder))
    paths.extend(_hostile(folder))
    paths.append(folder / "absent.xlsx")
    return paths


def _merge(path: Path, sheet: str, *ranges: str) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for cells in ranges:
        wb[sheet].merge_cells(cells)
    wb.save(path)


def _hide_rows(path: Path, rows: dict[str, tuple[int, ...]]) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for sheet, numbers in rows.items():
        for number in numbers:
            wb[sheet].row_dimensions[number].hidden = True
    wb.save(path)


def _hide_sheet(path: Path, sheet: str) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb[sheet].sheet_state = "hidden"
    wb.save(path)


def findings(paths: list[Path], check: Callable | None = None) -> list[dict[str, str]]:
    """Every finding of the corpus as `gtb run` makes them before loading, as CSV rows in a fixed order.

    File names are given relative to the corpus folder (`2023/UNESCO_2022.xlsx`)."""
    from pipeline.api import check_files
    from pipeline.intake.cross_checks import cross_submission_findings, folder_and_name_findings
    from pipeline.intake.findings import sort_key

    subs = (check or check_files)(paths, 2)
    folder_and_name_findings(subs)
    cross_submission_findings(subs, [(f"CER-UNEP-{YEAR}-000100-000200", "UNEP", YEAR - 1, "UNEP_2021.xlsx")])
    rows = []
    root = paths[0].parent
    for path, sub in zip(paths, subs, strict=True):
        shown = path.relative_to(root).as_posix()
        for f in sorted(sub.findings, key=sort_key):
            row = {c: getattr(f, c) for c in COLUMNS}
            row["file"] = shown
            row["message"] = str(row["message"]).replace(f"{root}{os.sep}", "")  # where the corpus was built
            rows.append({c: "" if row[c] is None else str(row[c]) for c in COLUMNS})
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def current() -> str:
    """The snapshot's text as the current code makes it."""
    with tempfile.TemporaryDirectory(prefix="gtb-corpus-") as tmp:
        return to_csv(findings(build(Path(tmp) / "corpus")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare or rewrite the findings snapshot of the bad-workbook corpus.")
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.relative_to(Path.cwd())}")
    args = parser.parse_args(argv)
    text = current()
    if args.write:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
        print(f"wrote {text.count(chr(10)) - 1} findings to {SNAPSHOT}; review `git diff` line by line")
        return 0
    same = SNAPSHOT.is_file() and SNAPSHOT.read_text(encoding="utf-8") == text
    print("the snapshot matches" if same else "the findings differ from the snapshot (rerun with --write to update)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
