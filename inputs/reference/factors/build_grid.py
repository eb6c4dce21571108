"""Regenerate the country grid-electricity and district-cooling factors of a factor set.

Source: the per-country electricity carbon intensity table that the codecarbon package ships
(`codecarbon/data/private_infra/global_energy_mix.json`), itself Ember's Yearly Electricity
Data as published by Our World in Data (CC BY 4.0). Get it without installing codecarbon:

    pip download --no-deps codecarbon==3.3.2 -d build/codecarbon
    python inputs/reference/factors/build_grid.py build/codecarbon/codecarbon-3.3.2-py3-none-any.whl

The argument may be the wheel, the directory it was unpacked into, or the JSON file itself.
Writes `factors_grid.csv`, `factors_district_cooling.csv` and `grid_renewable_share.csv` into
the factor set directory (`--set-dir`). Only those CSVs and this script are committed.

Rules (documented in docs/emission-factors.md):
- one `grid.electricity.kwh` row per ISO3 code with a carbon intensity > 0;
- a country listed with intensity 0 but generation > 0 and no fossil generation is a real
  near-zero-carbon grid (the Central African Republic: all hydro), not missing data: its factor
  is the generation-weighted IPCC AR5 WG III lifecycle median of its sources (`--set-dir` of a
  set from gtb-2026.1 on; `--zero-as-missing` restores the earlier rule). Intensity 0 with fossil
  generation stays "no data" and falls back to WORLD;
- the WORLD row is the generation-weighted mean of the country rows (sum of g/kWh x TWh / sum of TWh);
- district cooling = grid factor / chiller COP (project assumption, `--cooling-cop`, default 4);
- renewable share = renewables_TWh / total_TWh (hydro, wind, solar, bioenergy, geothermal, marine;
  nuclear excluded), the default renewable share of electricity rows without an entity figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
JSON_MEMBER = "codecarbon/data/private_infra/global_energy_mix.json"
COLUMNS = [
    "factor_id", "category", "activity", "unit", "region", "kgco2e_per_unit", "gwp_basis",
    "source_title", "source_url", "publication_year", "licence", "notes",
]
SOURCE_URL = "https://github.com/owid/energy-data"
LICENCE = "CC BY 4.0 (Ember, Our World in Data); codecarbon MIT"
GWP_BASIS = "lifecycle gCO2e/kWh as published by Ember"


def load_energy_mix(path: Path) -> tuple[dict, str]:
    """(country table, codecarbon version) from a wheel, an unpacked wheel or the JSON itself."""
    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            data = json.loads(wheel.read(JSON_MEMBER))
        match = re.search(r"codecarbon-([^-]+)-", path.name)
        return data, match.group(1) if match else "unknown"
    if path.is_dir():
        json_path = path / JSON_MEMBER
        metas = sorted(path.glob("codecarbon-*.dist-info/METADATA"))
        version = "unknown"
        if metas:
            found = re.search(r"^Version: (\S+)$", metas[0].read_text(encoding="utf-8"), re.M)
            version = found.group(1) if found else version
        return json.loads(json_path.read_text(encoding="utf-8")), version
    return json.loads(path.read_text(encoding="utf-8")), "unknown"


def _row(factor_id: str, category: str, activity: str, region: str, value: float, title: str,
         year: int, notes: str) -> dict:
    return {
        "factor_id": factor_id, "category": category, "activity": activity, "unit": "kwh",
        "region": region, "kgco2e_per_unit": float(f"{value:.9g}"), "gwp_basis": GWP_BASIS,
        "source_title": title, "source_url": SOURCE_URL, "publication_year": year,
        "licence": LICENCE, "notes": notes,
    }


# IPCC AR5 WG III, Annex III, Table A.III.2: lifecycle emissions, median, gCO2e/kWh (utility PV,
# onshore wind, dedicated biomass) - only for grids the source lists at 0 with no fossil generation.
IPCC_AR5_LIFECYCLE_G = {
    "hydroelectricity_TWh": 24.0,
    "wind_TWh": 11.0,
    "solar_TWh": 48.0,
    "nuclear_TWh": 12.0,
    "biofuel_TWh": 230.0,
    "other_renewable_exc_biofuel_TWh": 38.0,  # geothermal
}
IPCC_SOURCE = ("IPCC AR5 WG III (2014), Annex III, Table A.III.2, lifecycle medians "
               "(https://www.ipcc.ch/report/ar5/wg3/)")


def _num(value: object) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def zero_carbon_grid(rec: dict) -> float | None:
    """gCO2e/kWh of a grid listed at 0 with generation and no fossil source; None otherwise."""
    total = _num(rec.get("total_TWh"))
    if _num(rec.get("carbon_intensity")) > 0 or total <= 0 or _num(rec.get("fossil_TWh")) > 0:
        return None
    parts = {k: _num(rec.get(k)) for k in IPCC_AR5_LIFECYCLE_G}
    known = sum(parts.values())
    if known <= 0:
        return None
    return sum(IPCC_AR5_LIFECYCLE_G[k] * v for k, v in parts.items()) / known


def build_rows(
    data: dict, version: str, cooling_cop: float = 4.0, zero_as_missing: bool = False
) -> tuple[list[dict], list[dict]]:
    """(grid rows, district cooling rows), WORLD first, then countries in ISO3 order."""
    title = ("Ember Yearly Electricity Data via Our World in Data energy dataset (carbon intensity of "
             f"electricity), as redistributed in codecarbon {version} global_energy_mix.json")
    data = dict(data)
    derived: dict[str, float] = {}
    if not zero_as_missing:
        for code, rec in data.items():
            if len(code) == 3 and (g := zero_carbon_grid(rec)) is not None:
                derived[code] = g
                data[code] = {**rec, "carbon_intensity": g}
    kept = {code: rec for code, rec in data.items()
            if len(code) == 3 and float(rec.get("carbon_intensity") or 0) > 0}
    twh = sum(float(rec["total_TWh"]) for rec in kept.values())
    world_g = sum(float(rec["carbon_intensity"]) * float(rec["total_TWh"]) for rec in kept.values()) / twh
    world_year = max(int(rec["year"]) for rec in kept.values())
    grid = [_row("grid.electricity.kwh", "grid_electricity", "electricity", "WORLD", world_g / 1000,
                 title, world_year,
                 f"generation-weighted mean of the {len(kept)} country rows ({twh:.0f} TWh); "
                 f"{world_g:.1f} gCO2e/kWh")]
    for code in sorted(kept):
        rec = kept[code]
        note = (f"{rec.get('country_name', code)}: {float(rec['carbon_intensity']):g} gCO2e/kWh, "
                f"data year {int(rec['year'])}; location-based")
        if code in derived:
            note = (f"{rec.get('country_name', code)}: listed at 0 gCO2e/kWh with {_num(rec['total_TWh']):g} TWh "
                    f"generated and no fossil source (data year {int(rec['year'])}): a near-zero-carbon grid, "
                    f"not missing data; {derived[code]:.1f} gCO2e/kWh = generation-weighted lifecycle medians "
                    f"of its sources, {IPCC_SOURCE}")
        grid.append(_row("grid.electricity.kwh", "grid_electricity", "electricity", code,
                         float(rec["carbon_intensity"]) / 1000, title, int(rec["year"]), note))
    cooling = [
        {**row, "factor_id": "cooling.district_cooling.kwh", "category": "district_cooling",
         "activity": "district_cooling",
         "kgco2e_per_unit": float(f"{row['kgco2e_per_unit'] / cooling_cop:.9g}"),
         "source_title": f"Derived: grid factor of the same region / chiller COP {cooling_cop:g}; {title}",
         "notes": f"kWh of cooling delivered = kWh of electricity x COP {cooling_cop:g} "
                  f"(project assumption, electric chillers); grid row: {row['notes']}"}
        for row in grid
    ]
    return grid, cooling


RENEWABLE_COLUMNS = ["region", "renewable_share", "data_year", "renewables_twh", "total_twh",
                     "source_title", "source_url", "licence", "notes"]


def renewable_rows(data: dict, version: str) -> list[dict]:
    """Share of renewable electricity per country: renewables_TWh / total_TWh (nuclear excluded)."""
    title = ("Ember Yearly Electricity Data via Our World in Data energy dataset (share of electricity from "
             f"renewables), as redistributed in codecarbon {version} global_energy_mix.json")
    countries = {c: r for c, r in data.items() if len(c) == 3 and _num(r.get("total_TWh")) > 0}
    all_renewable = sum(_num(r.get("renewables_TWh")) for r in countries.values())
    all_total = sum(_num(r.get("total_TWh")) for r in countries.values())
    rows = [{
        "region": "WORLD", "renewable_share": float(f"{all_renewable / all_total:.6g}"),
        "data_year": max(int(r["year"]) for r in countries.values()), "renewables_twh": round(all_renewable, 2),
        "total_twh": round(all_total, 2), "source_title": title, "source_url": SOURCE_URL, "licence": LICENCE,
        "notes": f"generation-weighted over the {len(countries)} country rows: the default where a country has no row",
    }]
    for code in sorted(c for c in data if len(c) == 3):
        rec = data[code]
        total, renewables = _num(rec.get("total_TWh")), _num(rec.get("renewables_TWh"))
        if total <= 0:
            continue
        rows.append({
            "region": code, "renewable_share": float(f"{renewables / total:.6g}"), "data_year": int(rec["year"]),
            "renewables_twh": round(renewables, 4), "total_twh": round(total, 4), "source_title": title, "source_url": SOURCE_URL,
            "licence": LICENCE,
            "notes": f"{rec.get('country_name', code)}: renewables (hydro, wind, solar, bioenergy, geothermal, "
                     f"marine; nuclear excluded) {renewables:g} of {total:g} TWh",
        })
    return rows


def write_csv(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="codecarbon wheel, unpacked wheel directory or JSON")
    parser.add_argument("--set-dir", type=Path, default=HERE / "gtb-2026.1")
    parser.add_argument("--cooling-cop", type=float, default=4.0)
    parser.add_argument("--zero-as-missing", action="store_true",
                        help="treat every 0 intensity as missing data (the rule of gtb-2025.1)")
    args = parser.parse_args(argv)
    data, version = load_energy_mix(args.source)
    grid, cooling = build_rows(data, version, args.cooling_cop, args.zero_as_missing)
    write_csv(args.set_dir / "factors_grid.csv", grid)
    write_csv(args.set_dir / "factors_district_cooling.csv", cooling)
    if not args.zero_as_missing:
        write_csv(args.set_dir / "grid_renewable_share.csv", renewable_rows(data, version), RENEWABLE_COLUMNS)
    dropped = sorted(code for code in data if code not in {row["region"] for row in grid})
    print(f"codecarbon {version}: {len(grid) - 1} countries + WORLD written to {args.set_dir}; "
          f"dropped (no intensity): {', '.join(dropped) or 'none'}")


if __name__ == "__main__":
    main()
