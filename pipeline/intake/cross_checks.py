"""Rules that need more than one workbook: offset serials claimed twice, two workbooks for one entity-year.

They run after validation, over the files of the run and the serials already in the warehouse
(handed in as data by the caller, so this stage never reads the database itself).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline import catalogue, codelists, serials
from pipeline.cells import parse_cell
from pipeline.intake.findings import Finding, finding
from pipeline.intake.validate import Submission

# Who holds a serial: (entity, year, file name, serial as written).
_Owner = tuple[str | None, int | None, str, str]


def cross_submission_findings(subs: list[Submission], claimed: Iterable[tuple[str, str, int, str]] = ()) -> None:
    """Add duplicate-submission and duplicate-serial errors to `subs` (in place), then drop the
    tables of every submission that is not valid.

    `claimed`: (serial range as written, entity, year, file name) of the serials already loaded
    (`pipeline.warehouse.load.loaded_serials`).
    """
    claims_findings(subs, claimed)
    for s in subs:
        if not s.is_valid:
            s.tables, s.entity, s.ems = {}, {}, {}


def claims_findings(
    subs: list[Submission],
    claimed: Iterable[tuple[str, str, int, str]] = (),
    message_id: str = "duplicate-submission.run",
    *,
    name_others: bool = True,
    known: Iterable[str] | None = (),
) -> None:
    """The duplicate-submission and duplicate-serial errors of `cross_submission_findings`, added
    to `subs` in place, their tables kept: what `gtb validate` (files checked together, and with
    `--db` the serials loaded) and the portal's check of an upload (the serials loaded) say, so
    that a workbook they call valid is not then rejected by `gtb run` for a serial or an
    entity-year claimed elsewhere. `message_id`: how the duplicate submission is told.
    `name_others=False` (a focal point's upload): a serial another entity holds is said to be
    claimed elsewhere, without that entity, its year, file or block, which are its own data.
    `known`: the sha256 of files the warehouse holds already, which a run does not read again, so
    they make no duplicate of a new file (an entity's loaded workbook beside its correction); None
    when that cannot be known (no warehouse given): then no duplicate submission is said, as it
    may be a loaded workbook and its correction."""
    if known is not None:
        skipped = set(known)
        _duplicate_submissions([s for s in subs if s.sha256 not in skipped], message_id)
    _duplicate_serials(subs, claimed, name_others)  # after the above: a duplicate submission claims no serials


def _duplicate_submissions(subs: list[Submission], message_id: str = "duplicate-submission.run") -> None:
    """Valid workbooks of one entity and year with different contents: an error on each of them."""
    valid = [s for s in subs if s.is_valid]
    by_key: dict[tuple[str | None, int | None], list[Submission]] = {}
    for s in valid:
        by_key.setdefault((s.entity_code, s.reporting_year), []).append(s)
    for (entity, year), group in by_key.items():
        if len({s.sha256 for s in group}) < 2:
            continue
        names = ", ".join(s.file_name for s in group)
        for s in group:
            s.findings.append(
                _on_entity_field(
                    s,
                    message_id,
                    "entity_code",
                    entity,
                    count=len(group),
                    entity=entity,
                    year=year,
                    names=names,
                )
            )


def _duplicate_serials(
    subs: list[Submission], claimed: Iterable[tuple[str, str, int, str]], name_others: bool = True
) -> None:
    """Offset serials of a valid workbook already claimed by another entity or year: loaded ones
    (`claimed`), or those of a valid workbook earlier in the run (files taken in path order).

    A valid workbook of the run for an entity-year already loaded replaces that entity-year's
    loaded serials: it is checked first, and its serials then stand where the loaded ones stood,
    ahead of the other files of the run. So an owner's correction keeps its serials whatever the
    file names, and the serials it no longer claims (a block claimed by mistake) are free for
    their owner in the same run. Should every workbook of that entity-year fail, its loaded
    serials stay, and the others are checked against them after all."""
    claimed = list(claimed)
    loaded = {(c[1], c[2]) for c in claimed}
    replacing = [s for s in subs if s.is_valid and (s.entity_code, s.reporting_year) in loaded]
    replaced = {(s.entity_code, s.reporting_year) for s in replacing}
    held = [c for c in claimed if (c[1], c[2]) not in replaced]
    _check_serials(replacing, held, True, name_others)
    first = {id(s) for s in replacing}
    _check_serials([s for s in subs if id(s) not in first], held + _claims_of(replacing), True, name_others)
    kept = replaced - {(s.entity_code, s.reporting_year) for s in replacing if s.is_valid}
    if kept:
        _check_serials(subs, [c for c in claimed if (c[1], c[2]) in kept], False, name_others)


def _claims_of(subs: list[Submission]) -> list[tuple[str, str, int, str]]:
    """(serial as written, entity, year, file name) of every serial of the valid ones of `subs`."""
    return [
        (raw, str(s.entity_code), int(s.reporting_year or 0), s.file_name)
        for s in subs
        if s.is_valid and _has_offsets(s)
        for raw in s.tables["Offsets"]["serial_range"]
    ]


def _check_serials(
    subs: list[Submission], claimed: list[tuple[str, str, int, str]], claims_of_the_run: bool, name_others: bool = True
) -> None:
    """Each serial of each valid workbook against `claimed` and, with `claims_of_the_run`, the
    serials of the valid workbooks before it."""
    asking = [s for s in sorted(subs, key=lambda s: s.path) if s.is_valid and _has_offsets(s)]
    if not asking:  # a rerun with nothing new, or no offsets: no serial to ask about
        return
    held = [(serials.parse(raw), raw, entity, year, file_name) for raw, entity, year, file_name in claimed]
    parsed_of = {id(s): [serials.parse(raw) for raw in s.tables["Offsets"]["serial_range"]] for s in asking}
    everything = itertools.chain((h[0] for h in held), itertools.chain.from_iterable(parsed_of.values()))
    if serials.disjoint(everything):
        return  # no serial overlaps another: none is held by anyone else
    claims: serials.Claims[_Owner] = serials.Claims()
    for serial, raw, entity, year, file_name in held:
        claims.add(serial, (entity, year, file_name, raw))
    for s in asking:
        offsets = s.tables["Offsets"]
        parsed = parsed_of[id(s)]
        for serial, row, raw in zip(parsed, offsets["source_row"], offsets["serial_range"], strict=True):
            _check_serial(s, claims, serial, int(row), raw, name_others)
        if s.is_valid and claims_of_the_run:
            for serial, raw in zip(parsed, offsets["serial_range"], strict=True):
                claims.add(serial, (s.entity_code, s.reporting_year, s.file_name, raw))


def _has_offsets(s: Submission) -> bool:
    offsets = s.tables.get("Offsets")
    return offsets is not None and not offsets.empty


def _check_serial(
    s: Submission, claims: serials.Claims[_Owner], serial: serials.Serial, row: int, raw: str, name_others: bool = True
) -> None:
    """An error on `s` if another entity or year already holds `serial` (Offsets row `row`, written
    `raw`), naming the holder, or (`name_others=False`) only when it is `s`'s own entity."""
    other = next((o for o in claims.each_holder(serial) if (o[0], o[1]) != (s.entity_code, s.reporting_year)), None)
    if other is not None:
        entity, year, file_name, held = other
        same = serials.normalise(held) == serial.text
        if not name_others and entity != s.entity_code:
            message_id = "duplicate-serial.elsewhere"
        else:
            message_id = "duplicate-serial.claimed" if same else "duplicate-serial.overlaps"
        s.findings.append(
            finding(
                message_id,
                serial=raw,
                held=held,
                entity=entity,
                year=year,
                owner_file=file_name,
                file=s.file_name,
                lang=s.lang,
                sheet=s.tab("Offsets"),
                cell=f"{_letter(s, 'Offsets', 'serial_range')}{row}",
                row=row,
                column=s.header("Offsets", "serial_range"),
                value=raw,
            )
        )


def _letter(sub: Submission, sheet: str, column: str) -> str:
    return sub.letters.get((sheet, column), "")


_YEAR = re.compile(r"(?:19|20)\d\d")


def unpinned_year_findings(subs: list[Submission], pins_path: Path | None = None) -> None:
    """Add an `out-of-range` error (in place) to each workbook whose reporting year (valid by
    the contract) has no factor set pinned (`factor_pins.csv`): it could not be priced, and
    loading it would stop the run for every workbook. A workbook with other errors gets it too,
    so that its focal point sees at once everything to fix. A pins file that cannot be read is
    the run's own error, reported when it prices (no workbook's)."""
    from pipeline.reference.factors import FactorSetError, pins

    try:
        pinned = sorted({int(year) for year in pins(pins_path)["year"]})
    except FactorSetError:
        return
    shown = catalogue.year_ranges(pinned) or "-"
    for sub in subs:
        if sub.readable and sub.reporting_year is not None and sub.reporting_year not in pinned:
            year = sub.reporting_year
            sub.findings.append(
                _on_entity_field(sub, "out-of-range.year-not-pinned", "reporting_year", year, year=year, pinned=shown)
            )


def named_in(stem: str, entities: set[str]) -> tuple[str | None, int | None]:
    """The entity code and the year a file name starts with (`UNEP_2024`, `2024 UNEP`,
    `GTB-UNEP-2024-final`): an entity code among its first two words, a year as its first word or
    the word after the entity code. A year further on (`UNEP GHG 2024 final`), or one that begins
    a date (`UNEP_2025-03-01`, the day it was sent), is not a claim about the reporting year."""
    tokens = [t for t in re.split(r"[_\-\s.]+", stem) if t]
    # a code as written with any separator or none (UN-HABITAT, UN Habitat, UNHABITAT; ITC-ILO for
    # ITCILO), the longest first: 'ITC-ILO_2024' names ITCILO, not ITC
    by_letters = {_squashed(code): code for code in entities}
    entity, after = None, 0
    for start in (0, 1):
        for words in (3, 2, 1):
            code = by_letters.get(_squashed("".join(tokens[start : start + words])))
            if entity is None and len(tokens) >= start + words and code is not None:
                entity, after = code, start + words
    year = None
    for i in sorted({0, after} if entity else {0}):
        if i < len(tokens) and _YEAR.fullmatch(tokens[i]) and not _a_date(tokens[i + 1 : i + 3]):
            year = int(tokens[i])
            break
    return entity, year


def folder_year(path: Path | str) -> int | None:
    """The year of the folder a file sits in (`submissions/2025/x.xlsx`: 2025), else None."""
    folder = Path(path).parent.name
    return int(folder) if _YEAR.fullmatch(folder) else None


def _a_date(after: list[str]) -> bool:
    """Whether the two words after a year make it a date (`2025-03-01`, `2025_3_1`)."""
    return len(after) == 2 and all(t.isdigit() and len(t) <= 2 for t in after)


def _squashed(text: str) -> str:
    """A code or a file name's words, their letters and digits alone in upper case."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def folder_and_name_findings(subs: list[Submission]) -> None:
    """Add `year-mismatch` (an error: the workbook sits in a folder named after another year),
    `entity-mismatch` (an error: the file name starts with another entity code than the workbook
    says; loaded, it would replace one entity's year with a file meant, or named, for another) and
    `file-name-mismatch` (a warning: the file name starts with another year) to `subs`, in place.
    Only workbooks whose entity and year could be read."""
    entities = set(codelists.codes("entities"))
    for sub in subs:
        if not sub.readable or sub.reporting_year is None:
            continue
        folder = folder_year(sub.path)
        if folder is not None and folder != sub.reporting_year:
            sub.findings.append(
                _on_entity_field(
                    sub,
                    "year-mismatch.folder",
                    "reporting_year",
                    sub.reporting_year,
                    folder=str(folder),
                    year=sub.reporting_year,
                )
            )
        stem = Path(sub.file_name).stem
        named_entity, named_year = named_in(stem, entities)
        wrong_entity = sub.entity_code and named_entity and named_entity != sub.entity_code
        wrong_year = named_year is not None and named_year != sub.reporting_year
        if wrong_entity:  # one of the two is wrong, and loading it would replace an entity's year
            sub.findings.append(
                _on_entity_field(
                    sub,
                    "entity-mismatch.file-name",
                    "entity_code",
                    sub.entity_code,
                    name=sub.file_name,
                    entity=sub.entity_code or "",
                    named=named_entity,
                    year=sub.reporting_year,
                )
            )
        if wrong_year:
            sub.findings.append(
                _on_entity_field(
                    sub,
                    "file-name-mismatch.name",
                    "reporting_year",
                    sub.reporting_year,
                    name=sub.file_name,
                    entity=sub.entity_code or "",
                    year=sub.reporting_year,
                )
            )


def expected_entity_and_year(subs: list[Submission], entity: str, year: int) -> None:
    """Add an `entity-mismatch` error to each workbook that names another entity than `entity`, and
    a `year-mismatch` error to each that reports another year than `year` (a workbook uploaded to
    the submission portal for one entity and year), in place. Only what could be read is compared:
    an unreadable entity code or year already has its own error."""
    for sub in subs:
        if not sub.readable:
            continue
        if sub.entity_code is not None and sub.entity_code != entity:
            sub.findings.append(
                _on_entity_field(
                    sub,
                    "entity-mismatch.portal",
                    "entity_code",
                    sub.entity_code,
                    entity=sub.entity_code,
                    expected=entity,
                )
            )
        if sub.reporting_year is not None and sub.reporting_year != year:
            sub.findings.append(
                _on_entity_field(
                    sub,
                    # a late or corrected workbook of a year before: not to be relabelled as this year's
                    "year-mismatch.portal-earlier" if sub.reporting_year < year else "year-mismatch.portal",
                    "reporting_year",
                    sub.reporting_year,
                    year=sub.reporting_year,
                    expected=year,
                )
            )


def _on_entity_field(sub: Submission, message_id: str, column: str, value: object, **params: Any) -> Finding:
    """A finding on one field of the workbook's Entity sheet: its cell and row, the sheet's tab
    and the workbook's language."""
    cell = sub.cells.get(("Entity", column), "")
    return finding(
        message_id,
        **params,
        file=sub.file_name,
        lang=sub.lang,
        sheet=sub.tab("Entity"),
        cell=cell,
        row=_row_of(cell),
        column=sub.header("Entity", column),
        value=value,
    )


def _row_of(cell: str) -> int | None:
    """The row of a cell reference ('B2' -> 2); None for no cell."""
    position = parse_cell(cell) if cell else None
    return position[0] if position else None
