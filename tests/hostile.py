"""Builders of hostile and odd input files, for the guard and read tests (and anyone else's).

Each builder writes one file into a folder and returns its path. They are written in code,
small and readable, and never hold a large file in memory: the bombs are written with
streaming zip writes. `minimal_xlsx` writes a hand-made package part by part, so a test can put
exactly the XML it needs into a sheet.

`typical_workbook` writes a benign submission-sized workbook (10 sheets, ~2,000 rows).

The `*_name` functions, `pid_after_nap` and `calamine_unguarded` are worker functions for
`read_many` tests (crash, hang, run out of memory, fail, or read without the guard): top-level
so they pickle into worker processes (`from tests import hostile`).
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKBOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
SHEET1 = "xl/worksheets/sheet1.xml"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="{ns}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>
""".replace("{ns}", MAIN_NS)


# --- a hand-made xlsx package ---------------------------------------------------------------


def sheet_xml(cells: str, dimension: str | None = None) -> str:
    """A worksheet part around `cells` (the `<row>` elements), with an optional `<dimension>`."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN_NS}">{dim}'
        f"<sheetData>{cells}</sheetData></worksheet>"
    )


def package_parts(
    sheets: dict[str, str],
    *,
    shared_strings: str | None = None,
    hidden: dict[str, str] | None = None,
    workbook_content_type: str = WORKBOOK_CT,
) -> dict[str, str]:
    """The parts (member name -> XML text) of an xlsx package with the given sheets, in order.

    `sheets` maps a sheet name to its worksheet XML; `hidden` maps a sheet name to its state
    ("hidden" or "veryHidden").
    """
    hidden = hidden or {}
    names = list(sheets)
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_content_type}"/>']
    overrides += [
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{WORKSHEET_CT}"/>'
        for i in range(1, len(names) + 1)
    ]
    rels = [
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    ]
    if shared_strings is not None:
        overrides.append(
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
        rels.append(
            f'<Relationship Id="rId{len(names) + 1}" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    sheet_elems = "".join(
        f'<sheet name="{name}" sheetId="{i}"'
        + (f' state="{hidden[name]}"' if name in hidden else "")
        + f' r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    xml_decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
    parts = {
        "[Content_Types].xml": xml_decl + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>",
        "_rels/.rels": xml_decl + f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": xml_decl
        + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheet_elems}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": xml_decl
        + f'<Relationships xmlns="{PKG_REL_NS}">'
        + "".join(rels)
        + "</Relationships>",
    }
    for i, name in enumerate(names, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheets[name]
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    return parts


def minimal_xlsx(
    path: Path,
    sheets: dict[str, str],
    *,
    extra_members: dict[str, bytes] | None = None,
    **options: object,
) -> Path:
    """Write an xlsx package of `package_parts(sheets, **options)` plus `extra_members` as they are."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, text in package_parts(sheets, **options).items():  # type: ignore[arg-type]
            zf.writestr(member, text)
        for member, data in (extra_members or {}).items():
            zf.writestr(member, data)
    return path


def renamed_sheet_part(path: Path, sheet: str, part: str = "xl/worksheets/data.bin") -> Path:
    """A one-sheet workbook whose sheet part has a name that does not end in .xml (calamine reads it)."""
    parts = package_parts({"S": sheet})
    parts[part] = parts.pop(SHEET1)
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace('Target="worksheets/sheet1.xml"', f'Target="{part.removeprefix("xl/")}"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, text in parts.items():
            zf.writestr(member, text)
    return path


def one_cell_sheet(ref: str, value: str = "1", dimension: str | None = None) -> str:
    row = int("".join(ch for ch in ref if ch.isdigit()))
    return sheet_xml(f'<row r="{row}"><c r="{ref}"><v>{value}</v></c></row>', dimension)


# --- files that are not xlsx at all ---------------------------------------------------------


def empty_file(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def random_bytes(folder: Path, size: int = 4096) -> Path:
    path = folder / "random.xlsx"
    path.write_bytes(os.urandom(size))
    return path


def csv_renamed(folder: Path) -> Path:
    path = folder / "facilities.xlsx"
    path.write_text("site,country,energy_type,quantity,unit\nGeneva HQ,CHE,electricity,1200,kwh\n", encoding="utf-8")
    return path


def _ole2(stream_names: list[str], payload: bytes = b"") -> bytes:
    """A small OLE2 compound file: header, one FAT sector, one directory sector, payload.

    Enough structure for the signature and the directory entry names (UTF-16LE) that tell an
    old .xls ("Workbook") from a password-protected OOXML ("EncryptionInfo",
    "EncryptedPackage"); not a file Office would open.
    """
    sector = 512
    header = bytearray(sector)
    header[0:8] = OLE2_SIGNATURE
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # minor, major, byte order, 2^9, 2^6
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # first directory sector
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<I", header, 60, 0xFFFFFFFE)  # no mini FAT
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)  # no DIFAT sectors
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: FAT in sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * sector)
    struct.pack_into("<II", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE)  # sector 0 is FAT, sector 1 ends the directory
    directory = bytearray(sector)
    for i, name in enumerate(["Root Entry", *stream_names][:4]):
        encoded = (name + "\0").encode("utf-16-le")
        entry = 128 * i
        directory[entry : entry + len(encoded)] = encoded
        struct.pack_into("<H", directory, entry + 64, len(encoded))
        directory[entry + 66] = 5 if i == 0 else 2  # root storage / stream
    return bytes(header + fat + directory + payload)


def legacy_xls(folder: Path) -> Path:
    path = folder / "legacy.xlsx"
    path.write_bytes(_ole2(["Workbook", "\x05SummaryInformation"], os.urandom(1024)))
    return path


def encrypted_ooxml(folder: Path) -> Path:
    path = folder / "protected.xlsx"
    path.write_bytes(_ole2(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"], os.urandom(2048)))
    return path


def label_encrypted_ooxml(folder: Path) -> Path:
    """A workbook encrypted by a sensitivity label (rights management): its data space is the DRM one."""
    path = folder / "labelled.xlsx"
    streams = ["\x06DataSpaces", "DRMEncryptedDataSpace", "DRMEncryptedTransform", "\x06Primary", "EncryptedPackage"]
    path.write_bytes(_ole2(streams, os.urandom(2048)))
    return path


def ods_renamed(folder: Path) -> Path:
    path = folder / "spreadsheet.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest/>')
    return path


def xlsm_renamed(folder: Path) -> Path:
    return minimal_xlsx(
        folder / "macros.xlsx",
        {"Entity": one_cell_sheet("A1")},
        workbook_content_type=MACRO_WORKBOOK_CT,
        extra_members={"xl/vbaProject.bin": _ole2(["VBA", "PROJECT"])},
    )


def zip_without_workbook(folder: Path) -> Path:
    path = folder / "not_a_workbook.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "just a zip")
        zf.writestr("data/facilities.csv", "site,country\nGeneva,CHE\n")
    return path


def zipped_workbook(folder: Path) -> Path:
    """A compressed folder holding the workbook (Windows' "Send to > Compressed folder"), renamed
    .xlsx: Excel cannot open it, so "open it in Excel" is no way out."""
    inner = minimal_xlsx(folder / "UNEP_2024.xlsx", {"Entity": one_cell_sheet("A1")})
    path = folder / "UNEP_2024 (zipped).xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(inner, "Greening the Blue/UNEP_2024.xlsx")
        zf.writestr("Greening the Blue/notes.txt", "sent as asked")
    return path


# --- bombs and absurd extents ---------------------------------------------------------------

_ROW = b'<row><c t="n"><v>0</v></c></row>'


def _write_bomb_sheet(zf: zipfile.ZipFile, member: str, inflated_bytes: int) -> None:
    """Stream a sheet member of `inflated_bytes` of repeated XML into `zf`, 1 MiB at a time."""
    chunk = _ROW * (2**20 // len(_ROW))
    head = f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    with zf.open(member, "w") as out:
        out.write(head)
        written = len(head)
        while written < inflated_bytes:
            out.write(chunk)
            written += len(chunk)
        out.write(b"</sheetData></worksheet>")


def zip_bomb(folder: Path, inflated_mb: int = 300, name: str = "bomb.xlsx", member: str = SHEET1) -> Path:
    """A well-formed workbook whose `member` (the only sheet by default) inflates to `inflated_mb`
    MiB of repeated XML: about 2 MB on disk, written 1 MiB at a time."""
    path = folder / name
    empty_sst = f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}" count="0" uniqueCount="0"/>'
    parts = package_parts({"Entity": one_cell_sheet("A1")}, shared_strings=empty_sst)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for part, text in parts.items():
            if part == member:
                _write_bomb_sheet(zf, part, inflated_mb * 2**20)
            else:
                zf.writestr(part, text)
    return path


def lying_zip_bomb(folder: Path, inflated_mb: int = 300, declared_bytes: int = 4096, member: str = SHEET1) -> Path:
    """As `zip_bomb`, but the zip directory claims `member` inflates to only `declared_bytes`.

    Both size fields (local header and central directory) are patched, so only a reader that
    counts what it actually inflates notices.
    """
    path = zip_bomb(folder, inflated_mb, name="lying_bomb.xlsx", member=member)
    with zipfile.ZipFile(path) as zf:
        header_offset = zf.getinfo(member).header_offset
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, header_offset + 22, declared_bytes)  # local header: uncompressed size
    pos = data.find(b"PK\x01\x02")  # central directory entries
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, pos + 24, declared_bytes)
            break
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    return path


def xml_bomb(folder: Path) -> Path:
    """Billion laughs in sharedStrings.xml: a DOCTYPE whose entities expand to gigabytes."""
    cells = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return minimal_xlsx(folder / "xml_bomb.xlsx", {"Entity": sheet_xml(cells)}, shared_strings=BILLION_LAUGHS)


def far_cell(folder: Path) -> Path:
    """A header in A1 and one value at XFD1048576: a few KB that make calamine allocate the whole
    grid (17 billion cells, about 550 GB) and abort the process."""
    cells = '<row r="1"><c r="A1" t="inlineStr"><is><t>Field</t></is></c></row>'
    cells += '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return minimal_xlsx(folder / "far_cell.xlsx", {"Entity": sheet_xml(cells)})


def shared_strings_count_bomb(folder: Path) -> Path:
    """A shared-string table announcing 4 billion strings: calamine reserves ~96 GB for it and aborts."""
    sst = (
        f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}" count="4000000000" uniqueCount="4000000000">'
        "<si><t>x</t></si></sst>"
    )
    cells = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return minimal_xlsx(folder / "sst_count.xlsx", {"Entity": sheet_xml(cells)}, shared_strings=sst)


def lying_dimension(folder: Path) -> Path:
    """The `<dimension>` says A1:B2, but a cell sits at A900000."""
    cells = '<row r="1"><c r="A1"><v>1</v></c></row><row r="900000"><c r="A900000"><v>2</v></c></row>'
    return minimal_xlsx(folder / "lying_dimension.xlsx", {"Entity": sheet_xml(cells, dimension="A1:B2")})


# --- a benign workbook of the usual size ----------------------------------------------------


# Every family of file the guard refuses before a parser sees it, each quick to write (a few KB):
# the findings corpus and the guard benchmark go through all of them. `zip_bomb` and
# `lying_zip_bomb` write 300 MB of XML on purpose and are listed where wanted.
FAMILIES = (
    empty_file,
    random_bytes,
    csv_renamed,
    legacy_xls,
    encrypted_ooxml,
    ods_renamed,
    xlsm_renamed,
    zip_without_workbook,
    zipped_workbook,
    xml_bomb,
    far_cell,
    lying_dimension,
    shared_strings_count_bomb,
)


def typical_workbook(path: Path, rows_total: int = 2000) -> Path:
    """A submission-sized workbook written by openpyxl: the contract's sheets, headers in row 1,
    about `rows_total` data rows spread over the table sheets (text, numbers, dates)."""
    import datetime

    import openpyxl

    from schemas import contract

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    specs = contract.sheets()
    tables = [spec for spec in specs if spec.is_table]
    for spec in specs:
        ws = wb.create_sheet(spec.name)
        if not spec.is_table:
            ws.append(["Field", "Value"])
            for column in spec.columns:
                ws.append([column.name, 1 if column.is_numeric else "text"])
            continue
        ws.append(list(spec.names))
        for i in range(rows_total // len(tables)):
            row = []
            for column in spec.columns:
                if column.is_numeric:
                    row.append(round(1000 + i * 1.5, 2))
                elif column.dtype == "date":
                    row.append(datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 365))
                else:
                    row.append(f"{column.name} {i}")
            ws.append(row)
    wb.save(path)
    return path


# --- worker functions for read_many tests ---------------------------------------------------


def sleep_on_slow_name(path: Path) -> str:
    """Return the file name, but hang for a minute on files named slow*.xlsx."""
    import time

    if path.name.startswith("slow"):
        time.sleep(60)
    return path.name


def hog_on_hog_name(path: Path) -> int:
    """Return the file size, but try to allocate 4 GiB on files named hog*.xlsx."""
    if path.name.startswith("hog"):
        return len(bytearray(4 * 2**30))
    return path.stat().st_size


def fail_on_bug_name(path: Path) -> str:
    """Return the file name, but raise an ordinary exception (a pipeline bug) on files named bug*."""
    if path.name.startswith("bug"):
        raise KeyError("no such column")
    return path.name


def normalise_failing_on_wfp(path: Path, lang: str | None = None, **kwargs: object) -> object:
    """The readers' work (`read_normalised`), but normalising a workbook named WFP* meets a fault
    of the pipeline (an exception nobody foresaw), in the worker process where it runs."""
    return _normalise_failing_on_wfp(TypeError("a value of a type nobody foresaw"), path, lang, **kwargs)


def normalise_out_of_memory_on_wfp(path: Path, lang: str | None = None, **kwargs: object) -> object:
    """The readers' work (`read_normalised`), but normalising a workbook named WFP* runs out of
    the worker's memory."""
    return _normalise_failing_on_wfp(MemoryError(), path, lang, **kwargs)


def _normalise_failing_on_wfp(error: BaseException, path: Path, lang: str | None, **kwargs: object) -> object:
    from pipeline.intake import normalise

    real = normalise.normalise

    def failing(raw, lang=None, part=None):
        if Path(raw.path).name.startswith("WFP"):
            raise error
        return real(raw, lang, part)

    normalise.normalise = failing
    try:
        return normalise.read_normalised(path, lang, **kwargs)
    finally:
        normalise.normalise = real


def crash_when_overlapped(path: Path, lang: str | None = None, overlap: bool = False, early: bool = False) -> object:
    """The readers' work (`ahead.read_one`), but a read with the guard and calamine side by side
    aborts the process (as calamine does when a part the guard has not scanned yet exhausts the
    worker's memory), leaving a mark beside the file (`<name>.overlapped`) to show it did; asked
    to send a part ahead (`early`), it sends one first, which the caller must then drop."""
    from pipeline.intake import ahead

    if overlap:
        path.with_name(path.name + ".overlapped").write_bytes(b"")
        if early:
            from pipeline.workers import send_part

            send_part(ahead.read_one(path, lang))  # the whole workbook, as if it were a part
        os.abort()
    return ahead.read_one(path, lang, early=early)


def parts_then_result(path: Path) -> str:
    """Send two parts ahead of the result (`workers.send_part`), then return the result."""
    from pipeline.workers import send_part

    send_part(f"{path.name}: first part")
    send_part(f"{path.name}: second part")
    return f"{path.name}: result"


def pid_retiring_on_retire_name(path: Path) -> int:
    """Return the worker's process id; for files named retire*, the worker retires after the task."""
    from pipeline.workers import retire_after_task

    if path.name.startswith("retire"):
        retire_after_task()
    return os.getpid()


class _Node:
    """An object that can refer to itself: a reference cycle, which only the collector frees."""

    def __init__(self) -> None:
        self.me: _Node | None = None


_CYCLES_LEFT: list = []  # in a worker: weak references to the cycles its earlier tasks left


def leaves_a_cycle(_: object) -> tuple[bool, bool]:
    """In a worker: (whether the collector runs during the task, whether every cycle the worker's
    earlier tasks left behind has been freed); then leaves a cycle of its own."""
    import gc
    import weakref

    freed = all(ref() is None for ref in _CYCLES_LEFT)
    node = _Node()
    node.me = node
    _CYCLES_LEFT.append(weakref.ref(node))
    return gc.isenabled(), freed


def pid_after_nap(path: Path) -> int:
    """Sleep a little and return the worker's process id (to see the files spread over workers)."""
    import time

    time.sleep(0.2)
    return os.getpid()


def crash_on_abort_name(path: Path) -> str:
    """Return the file name, but abort the process (SIGABRT) for files named abort*.xlsx."""
    if path.name.startswith("abort"):
        os.abort()
    return path.name


def calamine_unguarded(path: Path) -> int:
    """Read every sheet with calamine and no guard: what the guard protects us from."""
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in workbook.sheet_names:
        cells += sum(len(row) for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return cells


def check(path, limits=None):
    """The guard on a file by its path (the pipeline guards the bytes it then reads)."""
    from pipeline.intake import guard
    from pipeline.intake.read import file_bytes

    limits = limits or guard.DEFAULT_LIMITS
    return guard.check_bytes(file_bytes(Path(path), limits), limits)
