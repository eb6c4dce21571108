"""Vehicles sheet: fuel of the owned or controlled fleet (scope 1 mobile; "other travel"). Its one
cross-column rule, the units each fuel takes, comes from `schemas/codelists/vehicle_unit.csv`."""

from schemas.checks import sheet_schema

schema = sheet_schema("Vehicles")
