"""Refuse hostile or non-xlsx files before any xlsx parser sees them.

`check_bytes(data)` looks at the raw bytes and the zip package only, with bounded memory and time,
and raises `UnreadableFile` (a `Refused`) with a message a focal point can act on: what is
wrong and how to fix it. What it refuses:

- files that are not an .xlsx workbook: empty, random bytes, CSV/text/HTML renamed .xlsx, a
  legacy .xls (OLE2), a password-protected workbook (OLE2 holding an EncryptedPackage), an
  OpenDocument .ods, a macro-enabled .xlsm, a binary .xlsb, Word/PowerPoint files, a zip
  without xl/workbook.xml, or whose _rels/.rels names another workbook folder than xl/ (calamine
  reads the folder named there);
- decompression bombs: too many members, too large a zip directory, a total or per-member
  inflated size or compression ratio beyond `Limits`; declared sizes are not trusted, every
  XML member is inflated in a stream and stopped as soon as it exceeds its declared size;
- XML entity attacks: any `<!DOCTYPE` or `<!ENTITY` in an XML member;
- absurd sheet extents: a `<dimension>` or any cell reference beyond `Limits` (a 4.6 KB file
  with one cell at XFD1048576 makes calamine allocate the whole grid and abort the process);
  also a shared-string table announcing more strings than `Limits` allows (calamine reserves
  memory for the announced count).

- what calamine would read otherwise than written, or refuse: a cell or row reference it
  refuses (D0, $D$2, a row 0), a value holding a comment, CDATA or a character reference that
  calamine reads as empty or cut short, a sheet linked by two id attributes.

While streaming each sheet it also collects the formula cells with no cached value and the
hidden sheets, returned in the `GuardReport`. Sheets are mapped to zip members exactly as
calamine does (xl/workbook.xml + xl/_rels/workbook.xml.rels, names matched ignoring case), so
the guard inspects the very bytes the reader will parse. Error values calamine does not read
(Excel 365's #SPILL!, #CALC!...) are listed as error cells, and their parts in
`GuardReport.other_error_parts`: the reader hands calamine a copy where they are #N/A
(`classic_errors`). When calamine refuses a sheet all the same, `unreadable_cell` finds the
cell it refused (a shared string that does not exist, a boolean of 'yes'), so the refusal
names it in the focal point's language.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, BinaryIO

import defusedxml.ElementTree as SafeET

from pipeline.catalogue import Message
from pipeline.cells import R_ATTRIBUTE, cell_name, column_letter, column_number, parse_cell, tag_attribute
from pipeline.errors import UnreadableFile

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Every bound the guard and the reader apply, in one place."""

    max_file_bytes: int = 100 * MiB  # the .xlsx on disk
    max_members: int = 10_000  # zip members
    max_directory_bytes: int = 4 * MiB  # the zip central directory
    max_total_uncompressed_bytes: int = 1024 * MiB  # all members inflated (a million-row sheet is ~300 MB of XML)
    max_compression_ratio: float = 100.0  # inflated / packed, per member ...
    ratio_checked_above_bytes: int = 1 * MiB  # ... for members inflating beyond this
    max_part_bytes_in_memory: int = 16 * MiB  # workbook.xml, its rels, content types
    max_rows: int = 1_048_576  # per sheet, counted from row 1: Excel's own limit
    max_columns: int = 200  # per sheet, counted from column A (200 = GR)
    # rows x columns per sheet, from A1: the grid calamine allocates (2**20 rows of 16 columns, ~0.5 GB)
    max_cells: int = 16 * 1_048_576
    # An extent is absurd when it is far larger than the cells the sheet holds: beyond this many
    # cells plus `max_empty_per_cell` empty cells per cell present, the sheet is refused.
    extent_allowance_cells: int = 1_000_000
    max_empty_per_cell: int = 8
    # ... and over the whole workbook: every sheet's grid is built and walked, so many sheets each
    # just within their allowance (700 sheets of a cell at A1 and one at GR5000) are refused too
    workbook_extent_allowance_cells: int = 20_000_000
    check_dimension: bool = True  # also bound the sheets' declared <dimension> (calamine 0.37 only trusts cells)
    max_shared_strings: int = 5_000_000  # announced size of the shared-string table (uniqueCount)
    reader_memory_bytes: int = 2 * 2**30  # address-space limit of a reading child process
    reader_timeout_s: float = 60.0  # per file, in a reading child process


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class GuardReport:
    """What the guard learnt about a file it let through."""

    sha256: str
    size_bytes: int
    sheet_names: list[str]  # workbook order, as written
    hidden_sheets: list[str]  # state="hidden" or "veryHidden"
    formula_cells_without_value: dict[str, list[str]]  # sheet -> ["D14", ...]; only sheets with some
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet -> zip member
    sheet_kinds: dict[str, str] = field(default_factory=dict)  # sheet -> worksheets/chartsheets/dialogsheets
    last_cells: dict[str, str] = field(default_factory=dict)  # sheet -> furthest cell, e.g. "G2001"; "" if empty
    error_cells: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # sheet -> {"D14": "#DIV/0!"}; only sheets with some
    # sheet -> cells covered by its largest merged range or hyperlink (openpyxl builds every one of
    # them when it opens the sheet); only sheets with some
    range_cells: dict[str, int] = field(default_factory=dict)
    # sheet -> its merged ranges ("A5:A7"; calamine gives their value in the top-left cell only); only sheets with some
    merged_ranges: dict[str, list[str]] = field(default_factory=dict)
    # sheet -> its hidden rows as (first, last) runs, 1-based (calamine reads them as any other); only sheets with some
    hidden_rows: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # worksheet parts holding error values calamine refuses to read (Excel 365's #SPILL!, #CALC!...):
    # the reader hands calamine a copy where they are #N/A (`classic_errors`); `error_cells` keeps them as written
    other_error_parts: list[str] = field(default_factory=list)
    # sheet -> its error cells that hold a linked data type (Stocks, Geography: a `vm` attribute,
    # stored as #VALUE! with the value elsewhere); only sheets with some
    linked_cells: dict[str, list[str]] = field(default_factory=dict)
    # sheet -> its cells of the formula TRUE() or FALSE() and their boolean (LibreOffice stores
    # them as the number 1 or 0: `BOOLEAN_FORMULAS`); only sheets with some
    boolean_cells: dict[str, dict[str, bool]] = field(default_factory=dict)
    # sheet -> its cells whose formula adds up cells of their column above (`column_sum`), or the data
    # of a table column (`table_column`: an Excel table's Total Row), calculated or not: a total row;
    # only sheets with some
    sum_cells: dict[str, dict[str, str]] = field(default_factory=dict)
    # the workbook counts its dates from 1904-01-01 (`workbookPr date1904`, old Excel for Mac):
    # calamine reads its dates right; a number that lost its date format means another day
    date1904: bool = False


class Refused(UnreadableFile):
    """An UnreadableFile raised by the guard; `reason` is the stable key of its catalogue message
    (`unreadable-file.<reason>` in pipeline/catalogue/messages.csv)."""

    @property
    def reason(self) -> str:
        return self.message_id.removeprefix("unreadable-file.")


def refuse(reason: str, **details: object) -> Refused:
    return Refused(f"unreadable-file.{reason}", details)


def _detail(kind: str, **params: object) -> Message:
    """What is damaged, in the language the refusal is shown in (`unreadable-file.detail.<kind>`)."""
    return Message(f"unreadable-file.detail.{kind}", params)


# --- entry points ---------------------------------------------------------------------------


def check_bytes(
    data: bytes, limits: Limits = DEFAULT_LIMITS, *, structure_passed: Callable[[], object] | None = None
) -> GuardReport:
    """Inspect a file's bytes (the reader then parses exactly the bytes checked); return what was
    learnt or raise `Refused` (an UnreadableFile).

    `structure_passed()`, if given, is called once the package itself has passed (a zip whose
    directory, part sizes and compression ratios are within bounds, of a workbook without
    macros), before its parts are streamed and scanned: the reader may start parsing then, in
    the same bounded process (`read.read_workbook(overlap=True)`)."""
    if len(data) > limits.max_file_bytes:
        raise refuse("too-large", size_mb=len(data) / MiB, limit_mb=limits.max_file_bytes / MiB)
    return _inspect(io.BytesIO(data), len(data), limits, structure_passed)


def _inspect(
    fh: BinaryIO, size: int, limits: Limits, structure_passed: Callable[[], object] | None = None
) -> GuardReport:
    if size == 0:
        raise refuse("empty")
    digest = hashlib.sha256()
    fh.seek(0)
    head = fh.read(8192)
    digest.update(head)
    for block in iter(lambda: fh.read(MiB), b""):
        digest.update(block)
    if head.startswith(OLE2_SIGNATURE):
        raise refuse(_ole2_kind(fh))
    if not head.startswith(b"PK"):
        reason, details = _sniff_non_zip(head)
        raise refuse(reason, **details)
    package = _open_package(fh, size, limits)
    return package.inspect(digest.hexdigest(), structure_passed)


# --- files that are not zip packages --------------------------------------------------------

OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


def _ole2_kind(fh: BinaryIO) -> str:
    """Tell an OOXML encrypted by a sensitivity label or by a password from a legacy .xls by the
    stream names (UTF-16LE) inside."""
    names = {
        # a sensitivity label (or rights management) that encrypts: its data space is named so
        "encrypted-label": ("DRMEncrypted".encode("utf-16-le"),),
        "encrypted": ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le")),
        "legacy-xls": ("Workbook".encode("utf-16-le"), "Book\x00".encode("utf-16-le")),
    }
    found: set[str] = set()
    overlap = 64
    fh.seek(0)
    tail = b""
    while block := fh.read(MiB):
        window = tail + block
        for kind, needles in names.items():
            if any(needle in window for needle in needles):
                found.add(kind)
        tail = window[-overlap:]
    for kind in ("encrypted-label", "encrypted", "legacy-xls"):
        if kind in found:
            return kind
    return "ole2-other"


def _sniff_non_zip(head: bytes) -> tuple[str, dict[str, object]]:
    if head.startswith(b"%PDF"):
        return "pdf", {}
    text = _as_text(head)
    if text is None:
        return "unknown-type", {}
    start = text.lstrip("\ufeff \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in text.lower():
        return "xml-2003", {}
    if start.startswith(("<!doctype html", "<html", "<table", "<meta")) or "<html" in start[:1024]:
        return "html", {}
    # the kind is named in the language of the finding (a catalogue fragment, not English text)
    if start.startswith("<?xml") or start.startswith("<"):
        return "text", {"kind": Message("unreadable-file.kind-xml")}
    first_line = start.splitlines()[0] if start else ""
    if any(sep in first_line for sep in (",", ";", "\t")):
        return "text", {"kind": Message("unreadable-file.kind-csv")}
    return "text", {"kind": Message("unreadable-file.kind-text")}


def _as_text(head: bytes) -> str | None:
    """The head decoded as text if it looks like text (UTF-8, UTF-16 with BOM, or mostly ASCII)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the head
            return head[: exc.start].decode("utf-8")
    printable = sum(32 <= b < 127 or b in b"\r\n\t" for b in head)
    return head.decode("latin-1") if printable >= 0.9 * len(head) else None


# --- the zip package ------------------------------------------------------------------------

REL_TYPES_SHEET = ("worksheets", "chartsheets", "dialogsheets")
OFFICE_DOCUMENT = "/relationships/officeDocument"  # the type of the package's relationship to its workbook
_OFFICE_DOCUMENT_TYPE = re.compile(rb"""/relationships/officeDocument["']""")
XML_SUFFIXES = (".xml", ".rels")  # the parts XML readers parse (not .vml drawings)
CHUNK = MiB  # inflated bytes handed to the scanners at a time


def _open_package(fh: BinaryIO, size: int, limits: Limits) -> _Package:
    entries, directory_bytes = _central_directory_size(fh, size)
    if entries > limits.max_members:
        raise refuse("too-many-members", count=entries, limit=limits.max_members)
    if directory_bytes > limits.max_directory_bytes:
        raise refuse("too-many-members", count=directory_bytes // 46, limit=limits.max_members)
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, struct.error, EOFError):
        raise refuse("damaged-zip", detail=_detail("zip-unopenable")) from None
    if len(infos) > limits.max_members:
        raise refuse("too-many-members", count=len(infos), limit=limits.max_members)
    return _Package(fh, size, infos, limits)


def _central_directory_size(fh: BinaryIO, size: int) -> tuple[int, int]:
    """(entries, bytes) of the zip central directory, from the end record, before zipfile parses it.

    Also insists on the plain layout every spreadsheet program writes: nothing before the first
    part, the directory right before its end record, the end record (and comment) ending the
    file. A file with two readings (an ambiguous "polyglot" zip) could otherwise show the guard
    one package and the reader another.
    """
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        raise refuse("damaged-zip", detail=_detail("zip-no-directory"))
    _, _, _, _, entries, directory_bytes, directory_offset, comment_len = struct.unpack_from("<4s4H2LH", tail, pos)
    end_record = size - tail_len + pos
    directory_end = end_record
    if pos >= 20 and tail[pos - 20 : pos - 16] == b"PK\x06\x07":  # zip64 locator
        (zip64_end,) = struct.unpack_from("<Q", tail, pos - 20 + 8)
        fh.seek(zip64_end)
        record = fh.read(56)
        if len(record) != 56 or record[:4] != b"PK\x06\x06":
            raise refuse("damaged-zip", detail=_detail("zip64-no-directory"))
        entries, directory_bytes, directory_offset = struct.unpack_from("<QQQ", record, 32)
        directory_end = zip64_end
    if end_record + 22 + comment_len != size or directory_offset + directory_bytes != directory_end:
        raise refuse("damaged-zip", detail=_detail("zip-layout-after"))
    fh.seek(0)
    if entries and fh.read(4) != b"PK\x03\x04":
        raise refuse("damaged-zip", detail=_detail("zip-layout-before"))
    return entries, directory_bytes


class _Package:
    """A zip package whose directory passed the first bounds; inspects its members."""

    def __init__(self, fh: BinaryIO, size: int, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
        self.fh = fh
        self.size = size
        self.infos = infos
        self.limits = limits
        self.by_lower: dict[str, zipfile.ZipInfo] = {}
        # the workbook asks to be recalculated when opened (`<calcPr fullCalcOnLoad="1"/>`): what
        # its formulas hold is no result. xlsxwriter, which cannot calculate, saves 0 for every
        # formula so, for Excel to replace; read as figures, the 0s loaded in place of the results
        self.values_stale = False
        self.date1904 = False
        for info in infos:
            key = part_key(info.filename)
            if key in self.by_lower:  # calamine would read one of them, the guard the other
                raise refuse("damaged-zip", detail=_detail("part-twice", part=info.filename))
            self.by_lower[key] = info

    def member(self, name: str) -> zipfile.ZipInfo | None:
        return self.by_lower.get(part_key(name))

    def inspect(self, sha256: str, structure_passed: Callable[[], object] | None = None) -> GuardReport:
        """Check the package and stream every XML member; the report of a file let through."""
        self._check_members_are_plain()
        self._check_package_type()
        sheets, hidden = self._sheets()
        self._check_declared_sizes(sheets)
        if structure_passed is not None:
            structure_passed()
        grid = _WorkbookGrid(self.limits)
        sheet_of_part = {part_key(part): name for name, (part, kind) in sheets.items() if kind == "worksheets"}
        scans: dict[str, _SheetScan] = {}
        for info in self.infos:
            sheet = sheet_of_part.get(part_key(info.filename))  # whatever its name ends with: calamine reads it
            if sheet is None:
                if info.filename.lower().endswith(XML_SUFFIXES):
                    self._scan_xml(info, None)
                continue
            scans[sheet] = self._scan_sheet(info, sheet)
            grid.add(scans[sheet])
        return self._report(sha256, sheets, hidden, scans)

    def _report(
        self, sha256: str, sheets: dict[str, tuple[str, str]], hidden: list[str], scans: dict[str, _SheetScan]
    ) -> GuardReport:
        """What the scans of the worksheets found, sheet by sheet in workbook order."""
        scanned = [(name, scans[name]) for name in sheets if name in scans]
        return GuardReport(
            sha256=sha256,
            size_bytes=self.size,
            sheet_names=list(sheets),
            hidden_sheets=hidden,
            formula_cells_without_value={
                name: list(scan.formula_cells) for name, scan in scanned if scan.formula_cells
            },
            sheet_parts={name: part for name, (part, _) in sheets.items()},
            sheet_kinds={name: kind for name, (_, kind) in sheets.items()},
            last_cells={name: scan.last_cell() for name, scan in scanned},
            error_cells={name: dict(scan.error_cells) for name, scan in scanned if scan.error_cells},
            range_cells={name: scan.range_cells for name, scan in scanned if scan.range_cells},
            merged_ranges={name: scan.merged for name, scan in scanned if scan.merged},
            hidden_rows={name: scan.hidden_rows for name, scan in scanned if scan.hidden_rows},
            other_error_parts=[sheets[name][0] for name, scan in scanned if scan.other_errors],
            linked_cells={name: scan.linked_cells for name, scan in scanned if scan.linked_cells},
            boolean_cells={name: scan.boolean_cells for name, scan in scanned if scan.boolean_cells},
            sum_cells={name: scan.sum_cells for name, scan in scanned if scan.sum_cells},
            date1904=self.date1904,
        )

    def _scan_sheet(self, info: zipfile.ZipInfo, sheet: str) -> _SheetScan:
        """Stream a worksheet part; again with the exact positional walk if its cells need it."""
        scan = _SheetScan(sheet, self.limits, values_stale=self.values_stale)
        self._scan_xml(info, scan)
        if scan.needs_positional:  # cells without a plain r="A1": exact walk
            scan = _SheetScan(sheet, self.limits, positional=True, values_stale=self.values_stale)
            self._scan_xml(info, scan)
        scan.finish()
        return scan

    # -- directory-level checks --------------------------------------------------------------

    def _check_members_are_plain(self) -> None:
        for info in self.infos:
            if info.flag_bits & (0x1 | 0x40):  # encrypted, or strongly encrypted
                raise refuse("encrypted-zip", member=info.filename)
            if info.flag_bits & 0x20:  # "compressed patched data": no spreadsheet program writes it
                raise refuse("compression", member=info.filename)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise refuse("compression", member=info.filename)

    def _check_package_type(self) -> None:
        """Refuse what is not a plain .xlsx package: OpenDocument, macro-enabled, binary (.xlsb),
        Word or PowerPoint, no workbook, or no list of its parts. The first check that fails decides."""
        self._check_not_opendocument()
        names = [part_key(info.filename) for info in self.infos]  # as calamine looks parts up
        self._check_no_macros(names)
        self._check_content_types()
        self._check_workbook_parts(names, [info.filename for info in self.infos])
        self._check_workbook_folder()

    def _check_not_opendocument(self) -> None:
        mimetype = self.member("mimetype")
        if mimetype is not None:
            kind = self._read(mimetype, cap=256).decode("ascii", errors="replace").strip()
            raise refuse("ods" if kind.endswith("opendocument.spreadsheet") else "odf-other", mimetype=kind)

    @staticmethod
    def _check_no_macros(names: list[str]) -> None:
        for name in names:
            if name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/"):
                raise refuse("macro", evidence=Message("unreadable-file.macro-part", {"member": name}))

    def _check_content_types(self) -> None:
        """[Content_Types].xml, if present, must not declare a binary workbook. A workbook declared
        macro-enabled (Excel writes that type for every .xlsm) but holding no macro part
        (`_check_no_macros`, checked before) holds nothing that runs: it is read as any workbook."""
        content_types = self.member("[Content_Types].xml")
        if content_types is not None:
            text = self._read_xml(content_types, cap=self.limits.max_part_bytes_in_memory)
            # Excel declares every .xlsb "sheet.binary.macroEnabled", macros or not
            if re.search(rb"sheet\.binary", text, re.IGNORECASE):
                raise refuse("xlsb")

    @staticmethod
    def _check_workbook_parts(names: list[str], members: list[str]) -> None:
        """An xl/workbook.xml and its relationships must be there (telling .xlsb, Word and PowerPoint apart)."""
        if "xl/workbook.bin" in names:
            raise refuse("xlsb")
        if "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                raise refuse("other-office", kind="Word")
            if "ppt/presentation.xml" in names:
                raise refuse("other-office", kind="PowerPoint")
            held = [member for name, member in zip(names, members, strict=True) if name.endswith(_SPREADSHEET_SUFFIXES)]
            if held:  # a compressed folder holding the workbook, renamed: extract it, Excel cannot open a zip
                shown = ", ".join(_part_shown(member.replace("\\", "/").rsplit("/", 1)[-1]) for member in held[:3])
                raise refuse("zipped-workbook", files=shown + (", ..." if len(held) > 3 else ""))
            raise refuse("no-workbook")
        if "xl/_rels/workbook.xml.rels" not in names:
            raise refuse("damaged-part", detail=_detail("no-workbook-rels"))

    def _check_workbook_folder(self) -> None:
        """calamine reads the workbook (its sheets, relationships, shared strings and styles) from
        the folder of the package's officeDocument relationship in _rels/.rels (the last one it
        meets), whatever the file name: that folder must be xl/, which the guard checks. Every
        spreadsheet program writes xl/workbook.xml or /xl/workbook.xml there."""
        info = self.member("_rels/.rels")
        if info is None:  # calamine cannot tell what the file is
            raise refuse("damaged-part", detail=_detail("no-package-rels"))
        raw = self._read_xml(info, self.limits.max_part_bytes_in_memory)
        rels = _parse_xml(raw, info.filename)
        targets = [
            el.get("Target")
            for el in rels.iter()
            if _local(el.tag) == "Relationship" and el.get("Type", "").endswith(OFFICE_DOCUMENT)
        ]
        if not targets or not _OFFICE_DOCUMENT_TYPE.search(raw):  # calamine reads the type unescaped
            raise refuse("damaged-part", detail=_detail("workbook-unnamed"))
        for target in targets:
            if target is None or _workbook_folder(target) != "xl/":
                shown = _shown((target or "").encode("utf-8", errors="replace"))
                raise refuse("damaged-part", detail=_detail("workbook-elsewhere", target=shown))

    def _sheets(self) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """Sheet name -> (zip member, kind) in workbook order, and the hidden sheets.

        Mirrors calamine: each `sheet` element of xl/workbook.xml, its relationship id looked
        up in xl/_rels/workbook.xml.rels, the target made absolute under xl/.
        """
        cap = self.limits.max_part_bytes_in_memory
        workbook = _parse_xml(self._read_xml(self.member("xl/workbook.xml"), cap), "xl/workbook.xml")
        rels_name = "xl/_rels/workbook.xml.rels"
        rels = _parse_xml(self._read_xml(self.member(rels_name), cap), rels_name)
        targets = {el.get("Id"): el.get("Target", "") for el in rels.iter() if _local(el.tag) == "Relationship"}
        self._check_fixed_parts(rels)
        sheets: dict[str, tuple[str, str]] = {}
        hidden: list[str] = []
        self.values_stale = any(
            _local(el.tag) == "calcPr" and el.get("fullCalcOnLoad", "").strip().lower() in ("1", "true")
            for el in workbook.iter()
        )
        self.date1904 = any(
            _local(el.tag) == "workbookPr" and el.get("date1904", "").strip().lower() in ("1", "true")
            for el in workbook.iter()
        )
        for el in workbook.iter():
            if _local(el.tag) != "sheet":
                continue
            name = el.get("name", "")
            # calamine links a sheet by any attribute named id, whatever its prefix (r:id, id), the last one
            ids = [value for key, value in el.attrib.items() if _local(key) == "id"]
            if len(ids) > 1:
                raise refuse("damaged-part", detail=_detail("sheet-two-links", sheet=name))
            if not ids or ids[0] not in targets:
                raise refuse("damaged-part", detail=_detail("sheet-unlinked", sheet=name))
            part, info = self._sheet_part(name, targets[ids[0]])
            kind = part.split("/")[1] if part.count("/") >= 2 else ""
            if kind not in REL_TYPES_SHEET:
                raise refuse("damaged-part", detail=_detail("sheet-unexpected-part", sheet=name, part=part))
            if name in sheets:
                raise refuse("damaged-part", detail=_detail("sheet-twice", sheet=name))
            if any(info.filename == other for other, _ in sheets.values()):
                raise refuse("damaged-part", detail=_detail("sheet-shared-part", sheet=name))
            sheets[name] = (info.filename, kind)
            if el.get("state", "visible") in ("hidden", "veryHidden"):
                hidden.append(name)
        return sheets, hidden

    def _sheet_part(self, sheet: str, target: str) -> tuple[str, zipfile.ZipInfo]:
        """The part calamine reads for a sheet's relationship target, and its member; refused when
        it is not there (said so when the target is relative and the part is there all the same:
        './worksheets/sheet1.xml', '../xl/worksheets/sheet1.xml')."""
        part = _calamine_part(target)
        info = self.member(part)
        if info is None:
            where = _normalised_part(target)
            if where != part and self.member(where) is not None:
                raise refuse("target-unresolved", sheet=sheet, target=_part_shown(target))
            raise refuse("damaged-part", detail=_detail("sheet-part-missing", sheet=sheet, part=part))
        return part, info

    def _check_fixed_parts(self, rels: Element) -> None:
        """calamine reads the shared texts and the cell formats from xl/sharedStrings.xml and
        xl/styles.xml whatever the workbook's relationships name: one that names another part that
        is there (a writer's own layout) would be read without its texts (every text cell an error)
        or without its formats (dates as numbers, 92.5 % as 0.925). Refused for what it is, with
        the way out (save it again), rather than as damaged or, worse, read wrong."""
        for el in rels.iter():
            kind = el.get("Type", "").rsplit("/", 1)[-1] if _local(el.tag) == "Relationship" else ""
            if kind not in _FIXED_PARTS:
                continue
            expected, what = _FIXED_PARTS[kind]
            where = _normalised_part(el.get("Target", ""))
            if part_key(where) != part_key(expected) and self.member(where) is not None:
                raise refuse("part-elsewhere", what=Message(what), part=_part_shown(where), expected=expected)

    def _check_declared_sizes(self, sheets: dict[str, tuple[str, str]]) -> None:
        limits = self.limits
        total = sum(info.file_size for info in self.infos)
        if total > limits.max_total_uncompressed_bytes:
            raise refuse("bomb-total", total_mb=total / MiB, limit_mb=limits.max_total_uncompressed_bytes / MiB)
        for info in self.infos:
            if info.file_size > limits.ratio_checked_above_bytes:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_compression_ratio:
                    raise refuse(
                        "bomb-ratio",
                        where=_where(info.filename, sheets),
                        ratio=ratio,
                        size_mb=info.file_size / MiB,
                        limit=limits.max_compression_ratio,
                    )

    # -- member streaming --------------------------------------------------------------------

    def _inflate(self, info: zipfile.ZipInfo) -> Generator[bytes, None, None]:
        """Yield the inflated bytes of a member, never more than it declares; check length and CRC."""
        self.fh.seek(self._data_start(info))
        stream = _MemberStream(self.fh, info)
        declared = info.file_size
        produced = 0
        crc = 0
        while (data := stream.next_input()) is not None:
            out = stream.inflate(data)
            produced += len(out)
            if produced > declared:
                where = Message("unreadable-file.where-part", {"part": info.filename})
                raise refuse("bomb-lying", where=where, declared=declared)
            crc = zlib.crc32(out, crc)
            if out:
                yield out
            elif not data:
                break  # nothing more to drain
            if stream.ended:
                break
        if stream.inflater is not None and not stream.inflater.eof:
            raise refuse("damaged-zip", detail=_detail("part-cut-short", part=info.filename))
        if produced != declared or crc != info.CRC:
            raise refuse("damaged-zip", detail=_detail("part-checksum", part=info.filename))

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        """Where a member's packed bytes begin, past its local header; refuse a header that is
        missing or data that runs past the end of the file."""
        fh = self.fh
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise refuse("damaged-zip", detail=_detail("part-not-found", part=info.filename))
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if fh.read(name_len) != info.orig_filename.encode(encoding, errors="replace"):  # as zipfile checks it
            detail = _detail("part-misnamed", part=info.filename)
            raise refuse("damaged-zip", detail=detail)  # two names: which one a reader trusts differs
        start = info.header_offset + 30 + name_len + extra_len
        if start + info.compress_size > self.size:
            raise refuse("damaged-zip", detail=_detail("part-cut-short", part=info.filename))
        return start

    def _read(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        if info.file_size > cap:
            detail = _detail("part-too-large", part=info.filename, size=info.file_size)
            raise refuse("damaged-part", detail=detail)
        return b"".join(self._inflate(info))

    def _read_xml(self, info: zipfile.ZipInfo | None, cap: int) -> bytes:
        assert info is not None
        data = self._read(info, cap)
        scan = _XmlScan(info.filename, self.limits)
        scan.feed(data, final=True)
        return data

    def _scan_xml(self, info: zipfile.ZipInfo, sheet: _SheetScan | None) -> None:
        xml = _XmlScan(info.filename, self.limits)
        carry = b""
        chunks = self._inflate(info)
        for chunk in chunks:
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut <= 0 and len(data) < 4 * CHUNK:  # no complete tag yet
                carry = data
                continue
            if cut <= 0:
                cut = len(data)
            window, carry = data[:cut], data[cut:]
            xml.feed(window, final=False)
            if sheet is not None and not sheet.feed(window):
                chunks.close()  # a positional re-scan follows; stop inflating
                return
        xml.feed(carry, final=True)
        if sheet is not None:
            sheet.feed(carry, final=True)


class _MemberStream:
    """The packed bytes of one member, read from where the file position stands, and its inflater
    (None for a stored member, whose bytes are its content)."""

    def __init__(self, fh: BinaryIO, info: zipfile.ZipInfo) -> None:
        self.fh = fh
        self.info = info
        self.left = info.compress_size
        self.inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None

    def next_input(self) -> bytes | None:
        """The next bytes to inflate: b"" to drain the inflater, None when there is nothing left."""
        inflater = self.inflater
        if inflater is not None and inflater.unconsumed_tail:
            return inflater.unconsumed_tail  # output was capped at CHUNK: go on with the same input
        if self.left > 0:
            data = self.fh.read(min(256 * 1024, self.left))
            if not data:
                raise refuse("damaged-zip", detail=_detail("part-cut-short", part=self.info.filename))
            self.left -= len(data)
            return data
        if inflater is not None and not inflater.eof:
            return b""  # input used up: drain what zlib still holds
        return None

    def inflate(self, data: bytes) -> bytes:
        """At most CHUNK bytes of content from `data` (the rest waits in the inflater's unconsumed tail)."""
        if self.inflater is None:
            return data
        try:
            return self.inflater.decompress(data, CHUNK)
        except zlib.error:
            raise refuse("damaged-zip", detail=_detail("part-undecompressable", part=self.info.filename)) from None

    @property
    def ended(self) -> bool:
        """The deflate stream has reached its end marker."""
        return self.inflater is not None and self.inflater.eof


class _WorkbookGrid:
    """The grids of all a workbook's sheets: refused when, together, they are far larger than the
    cells they hold, though each sheet is within its own allowance."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sheets = 0
        self.extent = 0
        self.cells = 0

    def add(self, scan: _SheetScan) -> None:
        self.sheets += 1
        self.extent += scan.max_row * scan.max_col
        self.cells += scan.cells
        limits = self.limits
        if self.extent > limits.workbook_extent_allowance_cells + limits.max_empty_per_cell * self.cells:
            raise refuse("workbook-extent", sheets=self.sheets, extent=self.extent, cells=self.cells)


def _where(member: str, sheets: dict[str, tuple[str, str]]) -> Message:
    for name, (part, _) in sheets.items():
        if part == member:
            return Message("unreadable-file.where-sheet", {"sheet": name, "part": member})
    return Message("unreadable-file.where-part", {"part": member})


def _calamine_part(target: str) -> str:
    """A relationship target as calamine resolves it: an absolute one ('/xl/worksheets/sheet1.xml')
    from the package's root, any other under xl/, the workbook's folder, even one that begins
    with 'xl/' ('xl/worksheets/sheet1.xml' is xl/xl/worksheets/sheet1.xml)."""
    if target.startswith("/"):
        return target[1:]
    return "xl/" + target


_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # lower case, as `part_key` writes names

# Parts calamine reads at a fixed place: relationship type -> (that place, what they hold)
_FIXED_PARTS = {
    "sharedStrings": ("xl/sharedStrings.xml", "unreadable-file.what-shared-strings"),
    "styles": ("xl/styles.xml", "unreadable-file.what-styles"),
}


def _normalised_part(target: str) -> str:
    """A relationship target of xl/_rels/workbook.xml.rels as the package means it (OPC): from the
    root when absolute, else relative to xl/, with '.' and '..' resolved ('../xl/styles.xml' is
    xl/styles.xml); calamine does not resolve them (`_calamine_part`)."""
    joined = target[1:] if target.startswith("/") else "xl/" + target
    return posixpath.normpath(joined).lstrip("/") if joined else joined


def _workbook_folder(target: str) -> str:
    """The folder calamine reads the workbook from, given the officeDocument target: up to its
    last '/', without one leading '/', compared as calamine looks parts up (ASCII case ignored):
    'xl/workbook.xml', '/xl/workbook.xml' and 'XL/Workbook.xml' are all in xl/."""
    folder = target[: target.rfind("/") + 1]
    folder = folder[1:] if folder.startswith("/") else folder
    return folder.lower() if folder.isascii() else folder


def part_key(name: str) -> str:
    """A part's name as calamine looks it up in the package: '\\' read as '/', any case."""
    return name.replace("\\", "/").lower()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(data: bytes, member: str) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        detail = _detail("part-not-xml", part=member, line=line, column=column + 1)
        raise refuse("damaged-part", detail=detail) from None
    except ValueError:  # defusedxml's DTD/entity refusals
        raise refuse("xml-entities", member=member) from None


# --- XML scanners ---------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^<\?xml[^>]*\bencoding\s*=\s*["']([^"']*)["']""")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SST_TAG = re.compile(rb"<(?:[^\s<>/:!?]++:)?sst(?=[\s/>])([^<>]*+)>")  # a shared-string table's start tag


# Parts calamine never reads that Excel writes in UTF-16 with its byte-order mark: the custom XML
# items, among them Power Query's query definitions (DataMashup). Scanned all the same, as UTF-8.
_UTF16_ALLOWED = re.compile(r"customxml/[^/]+\.xml", re.IGNORECASE)


class _XmlScan:
    """Every XML member: UTF-8 only (but the custom XML items, which may be UTF-16 with its mark),
    no DOCTYPE/ENTITY anywhere, a sane shared-string count."""

    def __init__(self, member: str, limits: Limits) -> None:
        self.member = member
        self.limits = limits
        self.started = False
        self.utf16: codecs.IncrementalDecoder | None = None

    def feed(self, window: bytes, final: bool) -> None:
        if self.utf16 is not None:
            window = self._as_utf8(window, final)
        elif not self.started and window:
            self.started = True
            if window.startswith((b"\xff\xfe", b"\xfe\xff")) and _UTF16_ALLOWED.fullmatch(self.member):
                self.utf16 = codecs.getincrementaldecoder("utf-16")()
                window = self._as_utf8(window, final)
            elif window.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in window[:4]:
                raise refuse("xml-encoding", member=self.member)
            else:
                declared = _ENCODING.match(window.lstrip(b"\xef\xbb\xbf"))
                if declared and declared.group(1).lower().replace(b"-", b"") not in (b"utf8", b"usascii", b"ascii"):
                    raise refuse("xml-encoding", member=self.member)
        if _has(window, b"<!", b"!") and _DOCTYPE.search(window):
            raise refuse("xml-entities", member=self.member)
        if b"sst" in window:  # every table start tag, not only the root: calamine reserves at the first
            for table in _SST_TAG.finditer(window):
                self._check_shared_strings(table.group(1))

    def _as_utf8(self, window: bytes, final: bool) -> bytes:
        assert self.utf16 is not None
        try:
            return self.utf16.decode(window, final).encode("utf-8")
        except UnicodeError:  # not UTF-16 after all
            raise refuse("xml-encoding", member=self.member) from None

    def _check_shared_strings(self, attrs: bytes) -> None:
        """The table's announced size (`uniqueCount`, what calamine reserves room for); `count`
        is the number of cells referring to the table (5 million in a million-row export with
        five text columns) and costs nothing."""
        for key, double, single in _ATTR.findall(attrs):
            if key == b"uniqueCount":
                value = (double or single).strip()
                limit = self.limits.max_shared_strings
                if value.isdigit() and len(value) > 30:  # no table has such a count; int() of it is refused
                    raise refuse("shared-strings-digits", digits=len(value), limit=limit)
                if value.isdigit() and int(value) > limit:
                    raise refuse("shared-strings", count=int(value), limit=limit)


def _part_shown(name: str) -> str:
    """A part's name or a relationship's target as a message quotes it: its first 100 characters,
    those that show nothing or act on a terminal replaced."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name[:100])
    return "'" + text + ("...'" if len(name) > 100 else "'")


def _shown(raw: bytes) -> str:
    """Bytes of a damaged part as a message quotes them: text, never a Python bytes literal."""
    text = raw[:20].decode("utf-8", errors="replace")
    return "'" + "".join(ch if ch.isprintable() else "?" for ch in text) + ("...'" if len(raw) > 20 else "'")


def _has(window: bytes, marker: bytes, rare: bytes) -> bool:
    """Whether `marker` occurs in the window; `rare`, one of its bytes that ordinary sheet XML
    seldom holds, is looked for first. A byte is found at memory speed, a marker beginning with
    '<' or '"' (in every tag) twenty times slower: a window without the byte holds no marker."""
    return rare in window and marker in window


# Fast path: cells written as <c r="A1" ...> (Excel, LibreOffice, openpyxl, Google Sheets).
# Every unprefixed cell start tag, <c followed by a space, '/' or '>' (what calamine treats as a
# cell), with its row when it is written so; b"" for any other cell tag, which the fast path
# cannot place. One pass over the cells, one small object per cell: no tuples to unzip.
# The whole tag is read: its other attributes written plainly (a space, a name not starting with
# r, a double-quoted value), else the tag is odd; so a second r (calamine takes the last) is never
# missed, and the exact walk refuses it.
_CELL_ROW_OR_ODD = re.compile(rb'<c(?: r="[A-Z]{1,3}([0-9]{1,7})"(?: [a-qs-z][\w:.-]*+="[^"<>]*+")*+/?>|[\s/>])')

_CELL_REF_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"')  # the cells written so, their columns


MAX_COLUMN_STEPS = 64  # cells right of the furthest so far searched for one by one; beyond, every column is listed


def _window_column(window: bytes) -> int:
    """The furthest column of the cells written <c r="A1" in the window: the longest letters,
    then the highest (equal lengths compare as text)."""
    col = max(set(_CELL_REF_COLUMN.findall(window)), key=lambda c: (len(c), c))
    return column_number(col.decode("ascii"))


@functools.lru_cache(maxsize=256)
def _beyond(column: int) -> re.Pattern[bytes]:
    """The cells written <c r="A1" (as `_CELL_REF_COLUMN` finds them) whose column is further
    right than `column` (1-based; 0: every such cell), their letters as the group: more letters,
    or as many and a higher one at the first that differs."""
    if column == 0:
        return _CELL_REF_COLUMN
    letters = column_letter(column)
    width = len(letters)
    options = [f"[A-Z]{{{width + 1},3}}"] if width < 3 else []
    for i, letter in enumerate(letters):
        if letter != "Z":
            higher = "[" + chr(ord(letter) + 1) + "-Z]"
            options.append(letters[:i] + higher + f"[A-Z]{{{width - i - 1}}}")
    if not options:  # ZZZ: nothing lies beyond it
        return re.compile(rb"(?!)")
    return re.compile(b'<c r="(' + "|".join(options).encode() + b')[0-9]{1,7}"')


# A cell start tag with a namespace prefix, which calamine reads as a cell too.
_PREFIXED_CELL_START = re.compile(rb"<[^\s<>/:!?]+:c[\s/>]")
_DIMENSION = re.compile(rb"""<(?:[^\s<>/:!?]++:)?dimension\s[^<>]*?\bref\s*=\s*["']([^"'<>]{0,64})["']""")
_SHEETDATA = re.compile(rb"<(?:[^\s<>/:!?]+:)?sheetData[\s/>]")
# A formula cell up to what follows its formula: <v/>, <v> plus one byte, end of window, or </c>.
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^<>]*+)>\s*+<(?:[\w.-]++:)?f\b[^<>]*?(?:/>|>([^<]*+)</(?:[\w.-]++:)?f>)\s*+'
    rb"(<(?:[\w.-]++:)?v\s*/>|<(?:[\w.-]++:)?v>(?:[\s\S]|\Z)|</(?:[\w.-]++:)?c>)"
)
# The formulas that are a boolean: LibreOffice writes a TRUE or FALSE it opened from a workbook as
# the number 1 or 0 of the formula TRUE() or FALSE() (`<c t="n"><f>TRUE()</f><v>1</v>`), under a
# "TRUE";"TRUE";"FALSE" format: calamine reads the number, the cell shows TRUE (VRAI, VERDADERO).
BOOLEAN_FORMULAS = {b"TRUE()": True, b"FALSE()": False}
# A formula that adds up cells of its own column above it (=SUM(D2:D4), =SUM(D2,D4),
# =SUBTOTAL(9,D2:D4), =D2+D3+D4): a total row, whatever its label says (`column_sum`).
_A1_REF = re.compile(rb"\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?")
_SUM_REST = re.compile(rb"_XLFN\.|SUBTOTAL|AGGREGATE|SUM|[0-9\s,;()+]")
MAX_SUM_CELLS = 1_000  # per sheet: the column sums kept
# ... or a structured reference to a table column, as Excel writes an Excel table's Total Row
# (=SUBTOTAL(109,Table1[Quantity])): SUM, SUBTOTAL or AGGREGATE of the data of one column
# (`Table1[Quantity]`, `[Quantity]`, `Table1[[Quantity]]`, `Table1[[#Data],[Quantity]]`), whose
# name is written with Excel's escapes ('[ '] '# ''); the function with or without the prefix
# Excel stores before functions newer than Excel 2007 (AGGREGATE is stored
# `_xlfn.AGGREGATE(9,4,Table1[Quantity])`). A reference to the current row ([@Quantity],
# Table1[[#This Row],[Quantity]]) is the row's own figure, and so no total.
_TABLE_NAME = r"(?:[^\W\d]|[_\\])[\w.\\]*"
_COLUMN_NAME = r"((?:[^\[\]#'@]|'.)(?:[^\[\]#']|'.)*)"
_TABLE_COLUMN_SUM = re.compile(
    rf"\s*(?:_xlfn\.)?(?:SUM\(|SUBTOTAL\(\s*[0-9]{{1,3}}\s*,|AGGREGATE\(\s*[0-9]{{1,2}}\s*,\s*[0-9]{{1,2}}\s*,)\s*"
    rf"(?:{_TABLE_NAME})?\[(?:{_COLUMN_NAME}|\[(?:#Data\]\s*,\s*\[)?{_COLUMN_NAME}\])\]\s*\)\s*",
    re.IGNORECASE | re.DOTALL,
)
_XML_ESCAPES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


def column_sum(ref: str, formula: bytes) -> bool:
    """Whether `formula` (the text of cell `ref`'s formula) only adds up two cells or more of the
    same column above `ref`, on the same sheet: SUM, SUBTOTAL or AGGREGATE of them, or a chain
    of +."""
    text = formula.upper()
    position = parse_cell(ref)
    if position is None or b"!" in text or b"[" in text or len(text) > 2_000:
        return False
    row, column = position
    letter = column_letter(column).encode()
    cells = 0
    for c1, r1, c2, r2 in _A1_REF.findall(text):
        first, last = int(r1), int(r2 or r1)
        if c1 != letter or (c2 or c1) != letter or not (0 < first < row and 0 < last < row):
            return False
        cells += abs(last - first) + 1
    return cells >= 2 and not _SUM_REST.sub(b"", _A1_REF.sub(b"", text))


def table_column(formula: bytes | str) -> str | None:
    """The name of the table column whose data `formula` (a formula's text as written in the
    sheet's XML) only adds up, by a structured reference (SUBTOTAL(109,Table1[Quantity]): an Excel
    table's Total Row), without Excel's escapes; None for any other formula. Whether that column is
    the cell's own is for the caller, who knows the headers."""
    text = formula.decode("utf-8", "replace") if isinstance(formula, bytes) else formula
    if "[" not in text or "!" in text or len(text) > 2_000:
        return None
    if "&" in text:
        text = re.sub(r"&(?:lt|gt|quot|apos|amp);", lambda m: _XML_ESCAPES[m.group()], text)
    found = _TABLE_COLUMN_SUM.fullmatch(text)
    if found is None:
        return None
    name = found.group(1) if found.group(1) is not None else found.group(2)
    return re.sub(r"'(.)", r"\1", name, flags=re.DOTALL)


_STR_TYPE = re.compile(rb"""\bt\s*=\s*["']str["']""")
_ERROR_TYPE = re.compile(rb"""\bt\s*=\s*["']e["']""")
# A cell's value-metadata index: Excel's linked data types (Stocks, Geography) and pictures in
# cells, stored as the error #VALUE! with the value in xl/richData.
_VM_ATTRIBUTE = re.compile(rb"""\bvm\s*=\s*["']""")
# Cell and value tags, for the error-cell scan: attributes may quote anything but never run on.
_CELL_OR_VALUE = re.compile(rb"""<(/?)(?:[^\s<>/:!?]++:)?(c|v)(?=[\s/>])((?:[^<>"']++|"[^"<>]*+"|'[^'<>]*+')*+)>""")
# Merged ranges and hyperlinks, whose every cell openpyxl creates; bounded by the tag (no '<' or '>').
_RANGE_REF = re.compile(rb"""<(?:[\w.-]+:)?(mergeCell|hyperlink)\s[^<>]*?\bref\s*=\s*["']([^"'<>]{1,64})["']""")
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384  # a sheet's grid in Excel (A1:XFD1048576)
MAX_MERGED_RANGES = 10_000  # per sheet: the merged ranges kept to explain the empty cells they cover
MAX_HIDDEN_RUNS = 10_000  # per sheet: the runs of hidden rows kept (a filter hides rows in runs)
# A row start tag, any prefix, and its attributes; whether they say hidden (Excel writes "1", LibreOffice "true").
_ROW_TAG = re.compile(rb"<(?:[^\s<>/:!?]++:)?row(?=[\s/>])([^<>]*+)>")
_HIDDEN_TRUE = re.compile(rb"""(?:^|\s)hidden\s*=\s*["'](?:1|true)["']""")
# Exact walk (slow path): every row/cell/f/v/is start or end tag, any prefix.
# Every regular expression here that reads untrusted XML stops at the next '<' or '>' and does not
# backtrack (possessive quantifiers): the scans stay linear in the size of the part.
_TOKEN = re.compile(rb"<(/?)(?:[^\s<>/:!?]++:)?(row|c|f|v|is)(?=[\s/>])([^<>]*+)>")
FORMULA_OVERLAP = 64 * 1024


class _SheetScan:
    """One worksheet: its furthest cell (dimension and every cell) and formulas without a value.

    The fast path reads `r="A1"` references with one regex per window and checks that every
    cell start tag was such a reference; if not (no r, prefixes, odd quoting) it asks for the
    exact positional walk, which follows calamine's rules for cells without `r`.
    """

    def __init__(
        self,
        sheet: str,
        limits: Limits,
        positional: bool = False,
        shared_strings: int | None = None,
        values_stale: bool = False,
    ) -> None:
        self.sheet = sheet
        self.values_stale = values_stale  # the workbook's formulas hold no results (`_Package.values_stale`)
        self.limits = limits
        self.positional = positional
        self.shared_strings = shared_strings  # how many the table holds, to check each value's type (`unreadable_cell`)
        self.needs_positional = False
        self.max_row = 0  # 1-based
        self.max_col = 0  # 1-based
        self.dimension_done = False
        self.formula_cells: dict[str, None] = {}  # ordered set
        self.boolean_cells: dict[str, bool] = {}  # cells of the formula TRUE() or FALSE() (`BOOLEAN_FORMULAS`)
        self.sum_cells: dict[str, str] = {}  # cells adding up their column above them (`column_sum`): their formula
        self.error_cells: dict[str, str] = {}  # cells showing an Excel error (t="e"): ref -> "#DIV/0!"
        self.range_cells = 0  # cells of the largest merged range or hyperlink range
        self.merged: list[str] = []  # merged ranges, top-left to bottom-right ("A5:A7"), the first MAX_MERGED_RANGES
        self.hidden_rows: list[tuple[int, int]] = []  # runs of hidden rows (first, last), the first MAX_HIDDEN_RUNS
        self.cells = 0  # cell elements present
        self.previous_tail = b""
        self.error_ref: bytes | None = None  # inside a cell of type "e" with this reference
        self.error_linked = False  # that cell holds a linked data type (a `vm` attribute)
        self.linked_cells: list[str] = []  # error cells holding a linked data type
        self.other_errors = False  # an error value calamine does not read (#SPILL!): read from a copy as #N/A
        # positional state, as calamine keeps it (0-based)
        self.row_index = 0
        self.col_index = 0
        self.cell: list | None = None  # [ref, is_str, has_f, has_value, is_error, type, is_linked, formula]
        self.value_tail = b""  # the end of the previous window: a value tag there, its markup in this one
        self.open_value: tuple[str, bytes | None] | None = None  # the walk: (cell, type) of a value at a window's end

    def feed(self, window: bytes, final: bool = False) -> bool:
        """Scan one window of whole tags; False when the positional walk is needed instead."""
        if not self.dimension_done:
            self._dimension(window)
        if _has(window, b"mergeCell", b"g") or _has(window, b"hyperlink", b"k"):  # the only tags _RANGE_REF matches
            self._ranges(window)
        if self.positional:
            self._walk(window)
        else:
            if b"hidden" in window:
                self._hidden_rows(window)
            rows = _CELL_ROW_OR_ODD.findall(window)
            distinct = set(rows)
            # an odd tag (b""), or a row number with a leading zero (D0, which calamine refuses, or D02): the walk
            odd = bool(distinct) and min(distinct)[:1] in (b"", b"0")
            if odd or (_has(window, b":c", b":") and _PREFIXED_CELL_START.search(window)):
                self.needs_positional = True
                return False
            if rows:
                self.cells += len(rows)
                row = max(map(int, distinct))
                col = self._furthest_column(window)
                if col == self.max_col and self._would_refuse(row):
                    col = _window_column(window)  # the refusal names the window's own furthest cell
                self._reach(row, col)
            self._formulas(window)
            self._errors(window)
            if (
                _has(window, b"<!", b"!")
                or _has(window, b"&#", b"#")
                or (b"?" in window and window.find(b"<?", 8) >= 0)
            ):
                self._values(self.value_tail + window)
            self.value_tail = window[-VALUE_OVERLAP:]
        return True

    def finish(self) -> None:
        """At the end of the sheet: refuse an extent far larger than the cells it holds."""
        limits = self.limits
        extent = self.max_row * self.max_col
        if extent > limits.extent_allowance_cells + limits.max_empty_per_cell * self.cells:
            raise refuse(
                "sparse-extent",
                sheet=self.sheet,
                cell=cell_name(self.max_row, self.max_col),
                rows=self.max_row,
                cols=self.max_col,
                cells=self.cells,
            )

    def _dimension(self, window: bytes) -> None:
        found = _DIMENSION.search(window) if b"dimension" in window else None
        if found:
            self.dimension_done = True
            if not self.limits.check_dimension:
                return
            for part in found.group(1).split(b":"):
                position = _parse_ref(part)
                if position:
                    self._reach(*position)
        elif _SHEETDATA.search(window):
            self.dimension_done = True

    def _ranges(self, window: bytes) -> None:
        for found in _RANGE_REF.finditer(window):
            parts = found.group(2).split(b":")
            first, last = _parse_ref(parts[0], lenient=True), _parse_ref(parts[-1], lenient=True)
            if len(parts) in (1, 2) and first and last:
                (r1, c1), (r2, c2) = first, last
                cells = (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
                self.range_cells = max(self.range_cells, cells)
                if found.group(1) == b"mergeCell" and cells > 1 and len(self.merged) < MAX_MERGED_RANGES:
                    top, bottom, left, right = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
                    if bottom <= EXCEL_ROWS and right <= EXCEL_COLUMNS:  # beyond, no program made it
                        self.merged.append(f"{cell_name(top, left)}:{cell_name(bottom, right)}")

    def _hidden_rows(self, window: bytes) -> None:
        """The fast path's hidden rows: those whose tag gives its number (a row without r, in a
        sheet whose cells all have theirs, is left out)."""
        for found in _ROW_TAG.finditer(window):
            attrs = found.group(1)
            if _HIDDEN_TRUE.search(attrs):
                r = _attr_r(attrs)
                if r is not None and r.isdigit() and len(r) <= 7:
                    self._hidden(int(r))

    def _hidden(self, row: int) -> None:
        """Row `row` (1-based) is hidden: extend the last run or start one."""
        runs = self.hidden_rows
        if runs and runs[-1][1] + 1 == row:
            runs[-1] = (runs[-1][0], row)
        elif (not runs or runs[-1][1] != row) and len(runs) < MAX_HIDDEN_RUNS and 0 < row <= EXCEL_ROWS:
            runs.append((row, row))

    def _furthest_column(self, window: bytes) -> int:
        """The furthest column of the window's cells if it lies right of the furthest so far
        (`max_col`), else `max_col`: the first cell right of it, then the first right of that,
        and so on (a search that finds nothing allocates nothing; listing every cell's column
        costs a third of the scan). A row is as wide as the rows before it in most windows, and
        its columns are found in as many steps as it has in the first."""
        col, start = self.max_col, 0
        for _ in range(MAX_COLUMN_STEPS):
            found = _beyond(col).search(window, start)
            if found is None:
                return col
            col, start = column_number(found.group(1).decode("ascii")), found.end()
        return max(col, _window_column(window))

    def _would_refuse(self, row: int) -> bool:
        """Whether a cell of row `row` would take the sheet beyond its extent at the furthest
        column so far (the refusal names the window's own furthest cell, so it is found first)."""
        limits = self.limits
        return row > self.max_row and (row > limits.max_rows or row * self.max_col > limits.max_cells)

    def _reach(self, row: int, col: int) -> None:
        if row > self.max_row or col > self.max_col:
            self.max_row = max(self.max_row, row)
            self.max_col = max(self.max_col, col)
            limits = self.limits
            if (
                self.max_row > limits.max_rows
                or self.max_col > limits.max_columns
                or self.max_row * self.max_col > limits.max_cells
            ):
                raise refuse(
                    "extent",
                    sheet=self.sheet,
                    cell=cell_name(row, col),
                    rows=self.max_row,
                    cols=self.max_col,
                    max_rows=limits.max_rows,
                    max_cols=limits.max_columns,
                    max_col_letter=column_letter(limits.max_columns),
                    max_cells=limits.max_cells,
                )

    def _formulas(self, window: bytes) -> None:
        if not _has(window, b"<f", b"f") and b"<f" not in self.previous_tail:
            self.previous_tail = window[-FORMULA_OVERLAP:]
            return
        area = self.previous_tail + window
        self.previous_tail = window[-FORMULA_OVERLAP:]
        for ref, attrs, body, after in _FORMULA_CELL.findall(area):
            if after.startswith(b"</"):  # </c>: no <v> at all
                has_value = False
            elif after.endswith(b"/>"):  # <v/>: openpyxl writes formulas so
                has_value = _STR_TYPE.search(attrs) is not None
            else:  # <v> and the byte after it ('' at the end of the window, before a '<')
                following = after[after.index(b">") + 1 :]
                has_value = (following not in (b"", b"<")) or _STR_TYPE.search(attrs) is not None
            self._formula(ref.decode(), body, has_value)

    def _formula(self, cell: str, body: bytes, has_value: bool) -> None:
        """A formula cell, found by either path: without a value, a boolean as LibreOffice writes
        one, or a sum of its column above (a total row). In a workbook whose formulas hold no
        results (`values_stale`), every formula is without a value."""
        if not has_value or self.values_stale:
            self.formula_cells[cell] = None
        elif (boolean := BOOLEAN_FORMULAS.get(body.strip().upper())) is not None:
            self.boolean_cells[cell] = boolean
            return
        # a sum never calculated too (openpyxl saves none): its row is a total all the same
        if len(self.sum_cells) < MAX_SUM_CELLS and (column_sum(cell, body) or table_column(body) is not None):
            self.sum_cells[cell] = body.decode("utf-8", "replace")

    def _errors(self, window: bytes) -> None:
        """Cells of type "e" (#DIV/0!, #N/A, #REF!...): calamine reads them as empty.

        A walk over cell and value tags whose state carries across windows (windows end before
        a '<', so a value's text never straddles two).
        """
        if self.error_ref is None and (
            b'"e"' not in window and not _has(window, b"'e'", b"'") or not _ERROR_TYPE.search(window)
        ):
            return
        for match in _CELL_OR_VALUE.finditer(window):
            closing, name, attrs = match.groups()
            if name == b"c":
                is_error = not closing and not attrs.endswith(b"/") and _ERROR_TYPE.search(attrs)
                self.error_ref = _attr_r(attrs) if is_error else None
                self.error_linked = bool(is_error and _VM_ATTRIBUTE.search(attrs))
            elif self.error_ref is not None and not closing and not attrs.endswith(b"/"):
                ref = self.error_ref.decode("ascii", errors="replace")
                self._error_value(ref, window, match.end(), self.error_linked)

    def _values(self, area: bytes) -> None:
        """The fast path's values that hold markup (a comment, CDATA, a processing instruction)
        or, in a cell whose value calamine reads as it is written (a number, shared string,
        boolean or error), a character reference: calamine reads them as empty or cut short
        (<v>24<!-- -->00000</v> as 24), so the sheet is refused rather than read wrong. Only in
        windows holding '<!', '<?' or '&#' at all; `area` begins with the previous window's end."""
        cell: bytes | None = None
        for match in _CELL_OR_VALUE.finditer(area):
            closing, name, attrs = match.groups()
            if name == b"c":
                cell = None if closing else attrs
            elif not closing and not attrs.endswith(b"/"):
                end = area.find(b"<", match.end())
                end = len(area) if end < 0 else end
                kind = tag_attribute(_T_ATTRIBUTE, cell) if cell is not None else b"?"
                if area.startswith((b"<!", b"<?"), end) or (
                    kind in _VERBATIM_TYPES and b"&" in area[match.end() : end]
                ):
                    ref = _attr_r(cell) if cell is not None else None
                    self._markup_in_value((ref or b"?").decode("ascii", errors="replace"))

    def _markup_in_value(self, ref: str) -> None:
        raise refuse("damaged-part", detail=_detail("cell-value-markup", sheet=self.sheet, cell=ref))

    def _error_value(self, ref: str, window: bytes, start: int, linked: bool = False) -> None:
        if linked and ref not in self.linked_cells:
            self.linked_cells.append(ref)
        end = window.find(b"<", start)
        raw = window[start : end if end >= 0 else len(window)]
        if raw and raw not in CALAMINE_ERRORS:  # calamine reads the text up to the next tag, as it is
            self.other_errors = True
        text = raw[:64].strip()
        if text:
            self.error_cells[ref] = text.decode("utf-8", errors="replace")

    # -- exact positional walk (slow path) ---------------------------------------------------

    def _walk(self, window: bytes) -> None:
        """Every row, cell, formula and value tag of the window, in document order."""
        if self.open_value is not None:  # a value tag ended the last window: what follows it begins this one
            ref, kind = self.open_value
            self.open_value = None
            self._value_text(ref, kind, window, 0)
        for match in _TOKEN.finditer(window):
            closing, name, attrs = match.groups()
            self_closing = attrs.endswith(b"/")
            if name == b"row":
                self._walk_row(closing, attrs, self_closing)
            elif name == b"c":
                self._walk_cell(closing, attrs, self_closing)
            elif self.cell is not None and not closing:
                self._walk_in_cell(self.cell, name, self_closing, window, match.end())

    def _walk_row(self, closing: bytes, attrs: bytes, self_closing: bool) -> None:
        """A row tag: its r (digits only, as calamine reads it) sets the row; its end moves to the next."""
        if closing:
            self.row_index += 1
            self.col_index = 0
            return
        if len(R_ATTRIBUTE.findall(attrs)) > 1:
            raise refuse("damaged-part", detail=_detail("row-two-numbers", sheet=self.sheet))
        r = _attr_r(attrs)
        if r is not None:
            # calamine reads letters (ignored), then digits, and refuses anything else and row 0;
            # no row of Excel's grid has more than 7 digits (calamine would wrap a longer number)
            found = _ROW_NUMBER.fullmatch(r)
            if not found or not int(found.group(1)):
                raise refuse("damaged-part", detail=_detail("row-number", sheet=self.sheet, number=_shown(r)))
            self.row_index = int(found.group(1)) - 1
        if _HIDDEN_TRUE.search(attrs):
            self._hidden(self.row_index + 1)
        if self_closing:
            self.row_index += 1
            self.col_index = 0

    def _walk_cell(self, closing: bytes, attrs: bytes, self_closing: bool) -> None:
        """A cell tag: placed by its r or else after the previous cell, and bounded; its end closes it."""
        if closing:
            self._end_cell()
            return
        if len(R_ATTRIBUTE.findall(attrs)) > 1:  # not XML; calamine would take the last, the walk the first
            raise refuse("damaged-part", detail=_detail("cell-two-references", sheet=self.sheet))
        r = _attr_r(attrs)
        if r is not None:
            position = _cell_ref(r)
            if position is None:
                raise refuse("damaged-part", detail=_detail("cell-reference", sheet=self.sheet, reference=_shown(r)))
            row, col = position
            self.col_index = col - 1
        else:
            row, col = self.row_index + 1, self.col_index + 1
        self._reach(row, col)
        self.cells += 1
        is_error = bool(_ERROR_TYPE.search(attrs))
        kind = tag_attribute(_T_ATTRIBUTE, attrs)
        linked = is_error and bool(_VM_ATTRIBUTE.search(attrs))
        self.cell = [cell_name(row, col), bool(_STR_TYPE.search(attrs)), False, False, is_error, kind, linked, b""]
        if self_closing:
            self._end_cell()

    def _walk_in_cell(self, cell: list, name: bytes, self_closing: bool, window: bytes, end: int) -> None:
        """A start tag inside the open cell: a formula, an inline string or a value (`end`: where the tag ends)."""
        if name == b"f":
            cell[2] = True
            if not self_closing:  # the formula's text, up to its end tag (a shared formula's copies have none)
                stop = window.find(b"<", end)
                cell[7] = window[end:stop] if stop >= 0 else b""
        elif name == b"is":
            cell[3] = True
        elif name == b"v":  # a value unless empty; t="str" caches even an empty text
            following = window[end : end + 1]
            if cell[1] or (not self_closing and following not in (b"", b"<")):
                cell[3] = True
            if cell[4] and not self_closing:
                self._error_value(cell[0], window, end, cell[6])
            if not self_closing:
                self._value_text(cell[0], cell[5], window, end)
                if self.shared_strings is not None:
                    self._value_of_type(cell[0], cell[5], window, end)

    def _value_of_type(self, ref: str, kind: bytes | None, window: bytes, start: int) -> None:
        """Refuse a value calamine refuses for its cell's type (`unreadable_cell`)."""
        end = window.find(b"<", start)
        text = window[start : end if end >= 0 else len(window)]
        if kind not in _CALAMINE_TYPES:
            detail = _detail("cell-type", sheet=self.sheet, cell=ref, value=_shown(kind or b""))
        elif not text:
            return
        elif kind == b"s" and (not text.isdigit() or len(text) > 10 or int(text) >= (self.shared_strings or 0)):
            detail = _detail("cell-shared-string", sheet=self.sheet, cell=ref, value=_shown(text))
        elif kind == b"b" and text.strip().lower() not in (b"0", b"1", b"true", b"false"):
            detail = _detail("cell-boolean", sheet=self.sheet, cell=ref, value=_shown(text))
        elif kind == b"n" and not _CALAMINE_NUMBER.fullmatch(text):
            detail = _detail("cell-number", sheet=self.sheet, cell=ref, value=_shown(text))
        else:
            return
        raise refuse("damaged-part", detail=detail)

    def _value_text(self, ref: str, kind: bytes | None, window: bytes, start: int) -> None:
        """The walk's value from `start`, as `_values` checks it (`open_value` when it runs to the window's end)."""
        end = window.find(b"<", start)
        if end < 0:
            self.open_value = (ref, kind)
            end = len(window)
        if window.startswith((b"<!", b"<?"), end) or (kind in _VERBATIM_TYPES and b"&" in window[start:end]):
            self._markup_in_value(ref)

    def _end_cell(self) -> None:
        if self.cell is not None:
            ref, _, has_f, has_value, _, _, _, body = self.cell
            if has_f:
                self._formula(ref, body, has_value)
            self.cell = None
        self.col_index += 1

    def last_cell(self) -> str:
        return cell_name(self.max_row, self.max_col) if self.max_row and self.max_col else ""


# The error values calamine reads (as an empty cell); any other makes it refuse the whole sheet
CALAMINE_ERRORS = frozenset((b"#DIV/0!", b"#N/A", b"#NAME?", b"#NULL!", b"#NUM!", b"#REF!", b"#VALUE!"))
CLASSIC_ERROR = b"#N/A"  # what an error value calamine does not read becomes in the copy it is given


class ErrorValues:
    """Rewrites a worksheet part, one window of whole tags at a time (cut before a '<', as the
    guard scans it), with every error value calamine does not read (#SPILL!, #CALC!...) made
    #N/A: the cells the guard's error scan (`_SheetScan._errors`) reads as errors, their values
    up to the next tag. Everything else is left byte for byte."""

    def __init__(self) -> None:
        self.in_error = False

    def rewrite(self, window: bytes) -> bytes:
        if not self.in_error and not _ERROR_TYPE.search(window):
            return window
        out: list[bytes] = []
        done = 0
        for match in _CELL_OR_VALUE.finditer(window):
            closing, name, attrs = match.groups()
            if name == b"c":
                self.in_error = not closing and not attrs.endswith(b"/") and bool(_ERROR_TYPE.search(attrs))
            elif self.in_error and not closing and not attrs.endswith(b"/"):
                end = window.find(b"<", match.end())
                end = len(window) if end < 0 else end
                value = window[match.end() : end]
                if value and value not in CALAMINE_ERRORS:
                    out += (window[done : match.end()], CLASSIC_ERROR)
                    done = end
        out.append(window[done:])
        return b"".join(out)


def classic_errors(source: IO[bytes], target: IO[bytes]) -> None:
    """Copy a worksheet part from `source` to `target` with `ErrorValues` rewriting it, in windows."""
    values = ErrorValues()
    for window in _windows(source):
        target.write(values.rewrite(window))


def _windows(source: IO[bytes]) -> Generator[bytes, None, None]:
    """A part read from `source` in windows of whole tags (each ends before a '<'), as the guard scans it."""
    carry = b""
    while block := source.read(CHUNK):
        data = carry + block
        cut = data.rfind(b"<")
        if cut <= 0:
            carry = data
            continue
        yield data[:cut]
        carry = data[cut:]
    yield carry


# calamine's cell types, and the numbers it reads (as Rust's fast_float does: no spaces, no '_', no hex)
_CALAMINE_TYPES = (None, b"n", b"s", b"b", b"e", b"str", b"d", b"inlineStr", b"is")
_CALAMINE_NUMBER = re.compile(rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))")
_SHARED_STRING = re.compile(rb"<(?:[^\s<>/:!?]++:)?si(?=[\s/>])")


def unreadable_cell(data: bytes, part: str, sheet: str, limits: Limits = DEFAULT_LIMITS) -> Refused | None:
    """Why calamine refused a sheet the guard let through, when a cell says why: the first
    cell whose value calamine refuses for its type (a shared string that does not exist, a
    boolean of 'yes', a number of 'abc', an unknown type), as a damaged part naming the sheet
    and the cell; None when no cell does. Only after calamine has failed: the guard's scan of
    every workbook does not pay for reading every value."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        table = next((i for i in zf.infolist() if part_key(i.filename) == "xl/sharedstrings.xml"), None)
        strings = 0
        if table is not None:
            with zf.open(table) as fh:
                strings = sum(len(_SHARED_STRING.findall(window)) for window in _windows(fh))
        scan = _SheetScan(sheet, limits, positional=True, shared_strings=strings)
        try:
            with zf.open(part) as fh:
                for window in _windows(fh):
                    scan.feed(window)
        except Refused as refusal:
            return refusal
    return None


def _attr_r(attrs: bytes) -> bytes | None:
    return tag_attribute(R_ATTRIBUTE, attrs)


_T_ATTRIBUTE = re.compile(rb"""(?:^|\s)t\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Cell types whose value calamine reads as written, unescaped (no type is a number).
_VERBATIM_TYPES = (None, b"n", b"s", b"b", b"e")
VALUE_OVERLAP = 8 * 1024  # of the previous window, where the value tag whose markup starts a window is


_ROW_NUMBER = re.compile(rb"[A-Za-z]*+([0-9]{1,7})")  # a row's r, as calamine reads it
_CELL_REF = re.compile(rb"([A-Za-z]{1,7})([0-9]{1,12})")  # a cell's r, as calamine reads it (no '$', no space)


def _cell_ref(ref: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a cell's r as calamine reads it: letters of either case, then
    digits, the row at least 1 ('d2' is D2; 'D0', '$D$2' and 'D 2' are refused by calamine)."""
    found = _CELL_REF.fullmatch(ref)
    if not found or not int(found.group(2)):
        return None
    return int(found.group(2)), column_number(found.group(1).decode("ascii"))


def _parse_ref(ref: bytes, lenient: bool = False) -> tuple[int, int] | None:
    """(row, column), 1-based, of 'B7' (also lower case when lenient); None if not a cell reference."""
    if not lenient and ref.strip() != ref.strip().upper():
        return None
    return parse_cell(ref)
