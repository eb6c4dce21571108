"""OtherTravel sheet: business travel by rail, bus, rental car, taxi and ferry (scope 3)."""

from schemas.checks import sheet_schema

schema = sheet_schema("OtherTravel")
