"""Where things are: the repository's data folders and the defaults of every command.

Every path default of the `gtb` command, the API and the demo is defined here once.
"""

from __future__ import annotations

from pathlib import Path

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


def find_submissions(inputs: Path) -> list[Path]:
    """The workbooks under `inputs`/submissions (lock files left out), sorted; raises
    FileNotFoundError naming the folder when there is none."""
    folder = inputs / SUBMISSIONS_FOLDER
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    return sorted(p for p in folder.rglob("*.xlsx") if p.is_file() and not p.name.startswith(LOCK_PREFIX))
