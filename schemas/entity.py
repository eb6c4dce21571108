"""Entity sheet (Field/Value): who reports, for which year, with how many personnel."""

from schemas.checks import sheet_schema

# All rules of this sheet are column rules of columns.csv (codes, ranges, e-mail, current year).
schema = sheet_schema("Entity")
