"""Fixtures shared by the portal's test modules (tests/portal_fixtures.py)."""

from tests.portal_fixtures import personas, portal, warehouse, warehouse_2023  # noqa: F401
