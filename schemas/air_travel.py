"""AirTravel sheet: one row per route and cabin class; both airports, or distance_km alone."""

import pandas as pd

from schemas.checks import is_blank, parse_ref, row_check, sheet_schema


def _pair_complete(d: pd.DataFrame, column: str, other: str) -> pd.Series:
    return ~(is_blank(d[column]) & ~is_blank(d[other]))


def _no_distance_with_airports(d: pd.DataFrame) -> pd.Series:
    return is_blank(d["distance_km"]) | is_blank(d["origin"]) | is_blank(d["destination"])


def _route_given(d: pd.DataFrame) -> pd.Series:
    return ~(is_blank(d["origin"]) & is_blank(d["destination"]) & is_blank(d["distance_km"]))


def _different_airports(d: pd.DataFrame) -> pd.Series:
    same = parse_ref(d["origin"]).eq(parse_ref(d["destination"])) & ~is_blank(d["origin"])
    return ~same.fillna(False).astype(bool)


schema = sheet_schema(
    "AirTravel",
    [
        row_check(
            "origin-needs-destination",
            "missing-value.destination",
            "destination",
            lambda d: _pair_complete(d, "destination", "origin"),
        ),
        row_check(
            "destination-needs-origin",
            "missing-value.origin",
            "origin",
            lambda d: _pair_complete(d, "origin", "destination"),
        ),
        row_check(
            "distance-or-airports",
            "inconsistent-row.distance-and-airports",
            "distance_km",
            _no_distance_with_airports,
        ),
        row_check(
            "route-required",
            "missing-value.route",
            "distance_km",
            _route_given,
        ),
        row_check(
            "different-airports",
            "inconsistent-row.same-airport",
            "destination",
            _different_airports,
            lambda v, r: {"airport": str(v).strip().upper()},
        ),
    ],
)
