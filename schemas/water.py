"""Water sheet: water withdrawn by source."""

from schemas.checks import sheet_schema

schema = sheet_schema("Water")
