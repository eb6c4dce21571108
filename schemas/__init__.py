"""The contract: sheets and columns as data (`contract`, the CSVs here), and one pandera model per sheet.

`schemas()` maps each contract sheet name (the workbook's sheets and `History`, the history CSV)
to its DataFrameSchema. The column rules come from `columns.csv` (through `checks.column`), the
cross-column rules sit in the sheet's module.
"""

from __future__ import annotations

from functools import cache


@cache
def schemas() -> dict:
    from schemas import (
        air_travel,
        ems,
        entity,
        facilities,
        history,
        offsets,
        other_travel,
        refrigerants,
        vehicles,
        waste,
        water,
    )

    return {
        "Entity": entity.schema,
        "Facilities": facilities.schema,
        "Refrigerants": refrigerants.schema,
        "Vehicles": vehicles.schema,
        "AirTravel": air_travel.schema,
        "OtherTravel": other_travel.schema,
        "Offsets": offsets.schema,
        "Waste": waste.schema,
        "Water": water.schema,
        "EMS": ems.schema,
        "History": history.schema,
    }
