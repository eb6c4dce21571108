"""Refrigerants sheet: refills taken as leaked (scope 1 fugitive; HCFCs are optional emissions)."""

from schemas.checks import sheet_schema

schema = sheet_schema("Refrigerants")
