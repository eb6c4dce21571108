"""Vehicles sheet: fuel of the owned or controlled fleet (scope 1 mobile; "other travel")."""

from schemas.checks import sheet_schema, unit_compatibility

schema = sheet_schema("Vehicles", [unit_compatibility("vehicle_unit", "fuel")])
