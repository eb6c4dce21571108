"""Where things are: the repository's data folders and the defaults of every command.

Every path default of the `gtb` command, the API and the demo is defined here once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
CODELISTS = SCHEMAS / "codelists"
DOCS = REPO / "docs"
REFERENCE = REPO / "inputs" / "reference"
FACTORS = REFERENCE / "factors"
FACTOR_PINS = REFERENCE / "factor_pins.csv"

# Defaults of the commands, relative to the folder they run in (a SUN analyst's own folders).
DEFAULT_INPUTS = Path("inputs")
DEFAULT_OUTPUTS = Path("outputs")
DEFAULT_DB = DEFAULT_OUTPUTS / "gtb.duckdb"
VALIDATION_FOLDER = "validation"  # under the outputs folder
REPORT_FOLDER = "report"  # under the outputs folder
SUBMISSIONS_FOLDER = "submissions"  # under the inputs folder
HISTORY_FOLDER = "history"  # under the inputs folder
LOCK_PREFIX = "~$"  # Excel's lock files beside an open workbook: never submissions
LIBREOFFICE_LOCK = (".~lock.", "#")  # LibreOffice's beside a workbook it has open: `.~lock.UNEP_2025.xlsx#`


def find_submissions(inputs: Path) -> list[Path]:
    """Everything under `inputs`/submissions named like a spreadsheet (`scan_submissions`)."""
    return scan_submissions(inputs)[0]


def scan_submissions(inputs: Path) -> tuple[list[Path], list[Path]]:
    """(everything under `inputs`/submissions named like a spreadsheet, the other files), each
    sorted; raises FileNotFoundError naming the folder when there is none, and OSError when it
    cannot be listed.

    Named like a spreadsheet: `.xlsx` in any case, and the other formats a focal point may send
    (`.xlsm`, `.xls`, `.ods`, `.csv`, ...: SPREADSHEET_SUFFIXES), with stray spaces or dots after
    the extension: the reader says what each is (a macro-free `.xlsm` is read as the workbook it
    is), where skipping it would leave the entity counted missing without a word. Whatever is
    named so is listed, files or not (a folder, a pipe, a broken link), and so is a folder that
    cannot be read: the reader gives each its own unreadable-file finding. Links to folders are
    not followed. The other files are listed apart (the run names them as not read), but for
    what programs leave beside files: lock files, macOS's `._` and `.DS_Store`, Windows'
    `Thumbs.db` and `desktop.ini`."""
    folder = inputs / SUBMISSIONS_FOLDER
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    found: list[Path] = []
    others: list[Path] = []

    def unreadable_folder(error: OSError) -> None:
        if not error.filename or Path(error.filename) == folder:
            raise error  # the submissions folder itself: the run's error
        found.append(Path(error.filename))

    for root, dirs, files in os.walk(folder, onerror=unreadable_folder):
        found += [Path(root) / name for name in files + dirs if _workbook_name(name)]
        others += [Path(root) / name for name in files if not _workbook_name(name) and not _left_by_programs(name)]
        dirs[:] = [d for d in dirs if not _workbook_name(d)]  # a folder named like a workbook: listed, not entered
    return sorted(found), sorted(others)


def scan_history(inputs: Path) -> tuple[list[Path], list[Path]]:
    """(the files of `inputs`/history named `.csv` in any case, stray spaces and dots after it
    allowed; every other file under history/, sub-folders included), each sorted; two empty lists
    without a history folder. History files are read from the folder itself only: a file's name is
    what its rows are recorded under, and two `totals.csv` of two sub-folders would replace each
    other's rows. What is not read is listed, so that the run names it instead of leaving its
    years missing without a word; what programs leave beside files is not."""
    folder = inputs / HISTORY_FOLDER
    if not folder.is_dir():
        return [], []
    found: list[Path] = []
    others: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=lambda error: None):  # an unreadable sub-folder: its files unseen
        here = Path(root)
        csv = [name for name in files + dirs if here == folder and _named_like(name, (".csv",))]
        found += [here / name for name in csv]
        others += [here / name for name in files if name not in csv and not _left_by_programs(name)]
    return sorted(found), sorted(others)


# What a focal point may send for a workbook, as its name ends once stray spaces and dots are gone.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".fods", ".csv", ".numbers")
_PROGRAMS_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def _left_by_programs(name: str) -> bool:
    """A file a program leaves beside the others: an Excel or LibreOffice lock file, macOS's `._`
    twin of a file or `.DS_Store`, Windows' `Thumbs.db` or `desktop.ini`."""
    start, end = LIBREOFFICE_LOCK
    return (
        name.startswith((LOCK_PREFIX, "._"))
        or (name.startswith(start) and name.endswith(end))
        or name.lower() in _PROGRAMS_FILES
    )


def _named_like(name: str, suffixes: tuple[str, ...]) -> bool:
    """Whether a name ends in one of `suffixes` in any case, stray spaces and dots after it allowed
    ('UNEP_2025 .XLSX '), and is not a file a program leaves beside the others."""
    return name.lower().rstrip(" .").endswith(suffixes) and not _left_by_programs(name)


def _workbook_name(name: str) -> bool:
    return _named_like(name, SPREADSHEET_SUFFIXES)


class NotARegularFile(OSError):
    """A path that names a folder, a device or a pipe where a file was expected."""


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading in binary, if it is a regular file; NotARegularFile otherwise.
    Checked on the file opened, without blocking: a pipe opens at once (no writer is awaited)
    and is refused, and a swap after a first look cannot make a device or pipe pass."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(f"{path} is not a regular file (a folder, a device or a pipe)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def plain_mode(path: str | Path) -> None:
    """Give `path` the mode a plain new file gets under the umask (a temporary file starts private)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def write_whole(path: Path, data: bytes) -> Path:
    """`data` into `path`, whole or not at all: written to a temporary file beside it, then renamed
    over it, so that a full disk or a cut never leaves a damaged file where a good one was (or
    where none was). OSError as the system gives it; the temporary file is gone either way."""
    import tempfile

    target = Path(os.path.realpath(path))  # a link is followed: the file it names is replaced, not the link
    if target.exists() and not target.is_file():  # a device or a pipe (/dev/stdout): written into, as asked
        with open(target, "wb") as fh:
            fh.write(data)
        return Path(path)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
        plain_mode(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(path)
