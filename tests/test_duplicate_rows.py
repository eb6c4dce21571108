"""A row of a site's items repeated cell for cell (a block pasted twice) is a `duplicate-row` warning."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.api import check_files
from pipeline.intake.template import template
from schemas import contract
from tests.builders import example_rows, fill, valid_sheets, write_workbook


def checked(path: Path, *more: Path):
    return check_files([path, *more], jobs=1)


def duplicates(sub) -> list[tuple[str, str, str]]:
    return [(f.sheet, f.cell, f.message) for f in sub.findings if f.code == "duplicate-row"]


def test_a_row_pasted_twice_is_a_warning_naming_the_row_it_repeats_and_still_loads(tmp_path):
    sheets = valid_sheets()
    facilities, waste = sheets["Facilities"], sheets["Waste"]
    facilities += [list(facilities[1]), list(facilities[3]), list(facilities[1])]  # rows 5-7: 2, 4 and 2 again
    waste.append(list(waste[2]))
    [sub] = checked(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    found = duplicates(sub)
    assert [(s, c) for s, c, _ in found] == [
        ("Facilities", "A5"),
        ("Facilities", "A6"),
        ("Facilities", "A7"),
        ("Waste", f"A{len(waste)}"),
    ]
    assert [m.split(" in every")[0] for _, _, m in found[:3]] == [f"this row repeats row {n}" for n in (2, 4, 2)]
    assert (
        "counts its figures twice" in found[0][2] and "'Comment' column" in found[0][2]
    )  # the template's header: the sheet has none
    assert all(f.severity == "warning" for f in sub.findings) and sub.is_valid
    assert len(sub.tables["Facilities"]) == 6  # a warning: every row is read, as written


def test_rows_told_apart_by_any_cell_are_no_copies(tmp_path):
    sheets = valid_sheets()
    facilities = sheets["Facilities"]
    facilities[0].append("comment")
    facilities[1].append("main meter")
    facilities.append([*facilities[1][:-1], "annex meter, same reading"])  # told apart in its comment
    facilities.append([*facilities[1][:3], 2_400_001, *facilities[1][4:]])  # another figure
    [sub] = checked(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert duplicates(sub) == []


def test_trips_fleets_and_credits_may_repeat(tmp_path):
    """A flight, a rental or a vehicle is one of many alike; an offset repeated is a duplicate serial."""
    sheets = valid_sheets()
    for name in ("Vehicles", "AirTravel", "OtherTravel"):
        sheets[name].append(list(sheets[name][1]))
    [sub] = checked(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert duplicates(sub) == [] and sub.is_valid
    assert {s.name for s in contract.sheets() if s.unique_rows} == {"Facilities", "Refrigerants", "Waste", "Water"}


def test_rows_alike_in_two_workbooks_are_each_their_own(tmp_path):
    one = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    two = write_workbook(tmp_path / "WFP_2024.xlsx", valid_sheets("WFP"))
    assert [duplicates(sub) for sub in checked(one, two)] == [[], []]


def test_in_a_french_template_the_warning_is_french_and_names_the_comment_column_as_headed(tmp_path):
    rows = example_rows("UNEP", 2024)
    rows["Water"] = rows["Water"] * 3
    path = template("UNEP", 2024, tmp_path / "UNEP_2024_fr.xlsx", lang="fr")
    [sub] = checked(fill(path, rows, lang="fr", labels=True))
    found = duplicates(sub)
    assert [c for _, c, _ in found] == ["A3", "A4"]
    assert found[0][0] == "Eau" and found[0][2].startswith("cette ligne reproduit la ligne 2 dans chaque colonne")
    assert "colonne 'Commentaire'" in found[0][2]


def test_beyond_a_thousand_copies_the_rest_are_counted(tmp_path):
    sheets = valid_sheets()
    sheets["Refrigerants"] += [list(sheets["Refrigerants"][1]) for _ in range(1_003)]
    [sub] = checked(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert len(duplicates(sub)) == 1_000
    [more] = [f for f in sub.findings if f.code == "more-findings"]
    assert more.sheet == "Refrigerants" and more.message.startswith("3 more")


ROWS = [  # a few rows of one sheet, alike but for one cell each
    ["HQ", "KEN", "electricity", 1000, "kwh", None, "measured"],
    ["HQ", "KEN", "electricity", 1000, "kwh", None, "estimated"],
    ["HQ", "KEN", "electricity", 1000.5, "kwh", None, "measured"],
    ["HQ", "UGA", "electricity", 1000, "kwh", None, "measured"],
    ["Annex", "KEN", "electricity", 1000, "kwh", None, "measured"],
]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, len(ROWS) - 1), min_size=1, max_size=12))
def test_exactly_the_rows_seen_above_are_warned_of_each_naming_the_first(tmp_path_factory, picks):
    sheets = valid_sheets()
    sheets["Facilities"] = [sheets["Facilities"][0]] + [list(ROWS[i]) for i in picks]
    [sub] = checked(write_workbook(tmp_path_factory.mktemp("wb") / "UNEP_2024.xlsx", sheets))
    expected = [
        (f"A{n + 2}", f"this row repeats row {picks.index(i) + 2} in every column")
        for n, i in enumerate(picks)
        if picks.index(i) < n
    ]
    assert [(c, m.split(":")[0]) for _, c, m in duplicates(sub)] == expected


def test_without_its_first_column_the_warning_is_on_the_rows_first_cell_there_is(tmp_path):
    """A Water sheet without its Site column: the copy is marked on the first column it has."""
    sheets = valid_sheets()
    water = [row[1:] for row in sheets["Water"]]  # no site
    water.append(list(water[1]))
    sheets["Water"] = water
    [sub] = checked(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    [(sheet, cell, _)] = duplicates(sub)
    [found] = [f for f in sub.findings if f.code == "duplicate-row"]
    assert (sheet, cell, found.column) == ("Water", f"A{len(water)}", "country")
