"""Plain values handed from `read` to `normalise`: a workbook's sheets as rows of cell values.

No pandas here: these objects cross process boundaries (workers read, the parent validates).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawSheet:
    name: str  # exactly as in the workbook
    header: list[object]  # row 1 cell values as written (None for empty cells)
    # (Excel row number, cell values from column A); blank rows left out. A cell that is empty or
    # holds only white space is None (`read._clean`): no text value is blank.
    rows: list[tuple[int, list[object]]]
    formula_cells_without_value: list[str] = field(default_factory=list)  # e.g. ["D14"]
    error_cells: dict[str, str] = field(default_factory=dict)  # cells showing an Excel error, e.g. {"D14": "#DIV/0!"}
    linked_cells: list[str] = field(default_factory=list)  # error cells holding a linked data type (Geography)
    hidden: bool = False
    percent_cells: list[str] = field(default_factory=list)  # Field/Value sheets: cells formatted as a percentage
    merged_ranges: list[str] = field(default_factory=list)  # e.g. ["A5:A7"]: calamine gives the value in A5 only
    hidden_rows: list[tuple[int, int]] = field(
        default_factory=list
    )  # runs of hidden rows, e.g. [(12, 15)]: read all the same
    # cells adding up their column above or a table column: {"D5": "SUM(D2:D4)", "D9": "SUBTOTAL(109,Table1[Quantity])"}
    sum_cells: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing at all in the sheet: no header, no row (a tab cleared, a chart sheet)."""
        return not self.rows and all(h is None for h in self.header)


@dataclass
class RawWorkbook:
    path: str
    file_name: str
    sha256: str
    size_bytes: int
    sheets: dict[str, RawSheet]  # keyed by the sheet name as written, in workbook order
    date1904: bool = False  # its dates count from 1904-01-01 (`GuardReport.date1904`)
