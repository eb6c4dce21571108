"""Great-circle distance, the ICAO correction and distance bands."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from pipeline import geo
from pipeline.reference import air
from pipeline.reference.factors import FactorSetError

R = geo.EARTH_RADIUS_KM


def test_great_circle_on_known_geometry():
    assert geo.great_circle_km(0, 0, 0, 0) == 0
    assert geo.great_circle_km(0, 0, 90, 0) == pytest.approx(math.pi / 2 * R)
    assert geo.great_circle_km(0, 0, 0, 180) == pytest.approx(math.pi * R)
    assert geo.great_circle_km(10, 20, 30, 40) == pytest.approx(geo.great_circle_km(30, 40, 10, 20))


def test_great_circle_is_vectorised_and_keeps_the_series_index():
    lat1 = pd.Series([0.0, 0.0], index=["a", "b"])
    km = geo.great_circle_km(lat1, np.array([0.0, 0.0]), np.array([0.0, 90.0]), np.array([1.0, 0.0]))
    assert list(km.index) == ["a", "b"]
    assert km.tolist() == pytest.approx([2 * math.pi * R / 360, math.pi / 2 * R])
    assert isinstance(geo.great_circle_km(np.zeros(3), np.zeros(3), np.ones(3), np.zeros(3)), np.ndarray)


def test_known_city_pairs():
    gcd = air.route_gcd_km(pd.Series(["LHR", "NBO"]), pd.Series(["JFK", "GVA"]))
    # London Heathrow - New York JFK: 5,555 km on the WGS-84 ellipsoid (Vincenty), as published
    # by airmilescalc.com's DESNZ worked example; a sphere is within 0.5 % of it.
    assert gcd.iloc[0] == pytest.approx(5555, rel=0.005)
    # Nairobi - Geneva: about 6,000 km (6,087 km here).
    assert 5950 < gcd.iloc[1] < 6150


@pytest.mark.parametrize(
    ("gcd", "added"),
    [(0, 50), (300, 50), (549.99, 50), (550, 100), (3000, 100), (5499.99, 100), (5500, 125), (15000, 125)],
)
def test_icao_correction_bands(gcd, added):
    assert air.icao_correction_km(pd.Series([gcd])).iloc[0] == added


def test_flight_distance_is_great_circle_plus_correction():
    origin, destination = pd.Series(["NBO", "GVA", "gva"]), pd.Series(["GVA", "ZRH", "nbo"])
    gcd = air.route_gcd_km(origin, destination)
    flown = air.flight_distance_km(origin, destination)
    assert (flown - gcd).tolist() == pytest.approx([125, 50, 125])  # GVA-ZRH is about 230 km
    assert flown.iloc[0] == pytest.approx(flown.iloc[2])


@pytest.mark.parametrize(
    ("km", "band"),
    [
        (0, "short_haul"),
        (482.8, "short_haul"),
        (482.8032, "medium_haul"),
        (3701.49, "medium_haul"),
        (3701.4912, "long_haul"),
        (12000, "long_haul"),
    ],
)
def test_distance_band_edges_are_300_and_2300_miles(km, band):
    assert air.distance_band(pd.Series([km])).iloc[0] == band


def test_missing_distance_stays_missing_and_negative_is_refused():
    km = pd.Series([np.nan, 100.0], index=[7, 8])
    assert air.distance_band(km).tolist() == [None, "short_haul"]
    assert math.isnan(air.icao_correction_km(km).loc[7])
    with pytest.raises(ValueError, match="negative distance"):
        air.distance_band(pd.Series([-1.0]))


def test_unknown_airport_is_named():
    with pytest.raises(KeyError, match="QQQ"):
        air.route_gcd_km(pd.Series(["GVA", "QQQ"]), pd.Series(["NBO", "NBO"]))


def write_tables(root, bands, corrections):
    folder = root / "alt-1.0"
    folder.mkdir(parents=True)
    (folder / "factors_empty.csv").write_text("factor_id\n")
    for name, header, rows in (
        ("air_distance_bands.csv", ["band", "min_km", "max_km"], bands),
        ("air_gcd_correction.csv", ["min_km", "max_km", "add_km"], corrections),
    ):
        with (folder / name).open("w", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    return root


def test_bands_and_corrections_come_from_the_chosen_set(tmp_path):
    root = write_tables(tmp_path, [["near", 0, 1000], ["far", 1000, ""]], [[0, "", 0]])
    km = pd.Series([999.0, 1000.0])
    assert air.distance_band(km, factor_set="alt-1.0", directory=root).tolist() == ["near", "far"]
    assert air.corrected_distance_km(km, factor_set="alt-1.0", directory=root).tolist() == [999.0, 1000.0]


def test_a_gap_between_intervals_is_refused(tmp_path):
    root = write_tables(tmp_path, [["near", 0, 900], ["far", 1000, ""]], [[0, "", 0]])
    with pytest.raises(FactorSetError, match="intervals must start at 0"):
        air.distance_band(pd.Series([5.0]), factor_set="alt-1.0", directory=root)


def test_the_airports_are_read_as_airportsdata_reads_them():
    # the five columns read straight from airportsdata's table are its own loader's, airport by
    # airport and in its order (the last row of a code kept, rows without a code left out)
    import airportsdata

    from pipeline import codelists

    expected = tuple(
        (code, row["lat"], row["lon"], row["country"], str(row.get("city") or ""))
        for code, row in airportsdata.load("IATA").items()
    )
    rows = codelists._airport_rows()
    assert rows[: len(expected)] == expected  # then the retired codes it no longer lists
    assert len(expected) > 7000


def test_a_code_retired_since_the_year_reported_is_an_airport_and_never_hides_a_current_one(tmp_path):
    """Tickets of 2024 say PNH (Phnom Penh, replaced by KTI in 2025), of 2019 SXF (Berlin-
    Schönefeld, closed in 2020): such codes are airports, placed where they were; a code
    airportsdata lists now keeps its current airport, whatever the retired list says."""
    import csv

    import airportsdata

    from pipeline import codelists
    from tests.builders import check_cell

    current = airportsdata.load("IATA")
    with (codelists.CODELIST_DIR / "airports_retired.csv").open(encoding="utf-8", newline="") as fh:
        retired = list(csv.DictReader(fh))
    assert len(retired) > 200 and {"PNH", "SXF", "KIV"} <= {r["code"] for r in retired}
    places = codelists.airports()
    for row in retired:
        code = row["code"]
        if code in current:
            assert places[code] == (current[code]["lat"], current[code]["lon"]), code
        else:
            assert places[code] == (float(row["lat"]), float(row["lon"])), code
    assert codelists.airport_countries()["PNH"] == "KHM" and codelists.airport_countries()["SXF"] == "DEU"
    sub = check_cell(tmp_path, "AirTravel", "A2", "PNH")
    assert sub.findings == [] and sub.is_valid, [f.message for f in sub.findings]
