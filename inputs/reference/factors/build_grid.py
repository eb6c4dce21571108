"""Regenerate the country grid-electricity and district-cooling factors of a factor set.

Source: the per-country electricity carbon intensity table that the codecarbon package ships
(`codecarbon/data/private_infra/global_energy_mix.json`), itself Ember's Yearly Electricity
Data as published by Our World in Data (CC BY 4.0). Get it without installing codecarbon:

    pip download --no-deps codecarbon==3.3.2 -d build/codecarbon
    python inputs/reference/factors/build_grid.py build/codecarbon/codecarbon-3.3.2-py3-none-any.whl

The argument may be the wheel, the directory it was unpacked into, or the JSON file itself.
Writes `factors_grid.csv` and `factors_district_cooling.csv` into the factor set directory
(default: `gtb-2025.1` beside this script). Only those two CSVs and this script are committed.

Rules (documented in docs/emission-factors.md):
- one `grid.electricity.kwh` row per ISO3 code with a carbon intensity > 0 (a 0 in the source
  means "no data", e.g. CAF, so that country falls back to WORLD);
- the WORLD row is the generation-weighted mean of those rows (sum of g/kWh x TWh / sum of TWh);
- district cooling = grid factor / chiller COP (project assumption, `--cooling-cop`, default 4).
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


def build_rows(data: dict, version: str, cooling_cop: float = 4.0) -> tuple[list[dict], list[dict]]:
    """(grid rows, district cooling rows), WORLD first, then countries in ISO3 order."""
    title = ("Ember Yearly Electricity Data via Our World in Data energy dataset (carbon intensity of "
             f"electricity), as redistributed in codecarbon {version} global_energy_mix.json")
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
        grid.append(_row("grid.electricity.kwh", "grid_electricity", "electricity", code,
                         float(rec["carbon_intensity"]) / 1000, title, int(rec["year"]),
                         f"{rec.get('country_name', code)}: {float(rec['carbon_intensity']):g} gCO2e/kWh, "
                         f"data year {int(rec['year'])}; location-based"))
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


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="codecarbon wheel, unpacked wheel directory or JSON")
    parser.add_argument("--set-dir", type=Path, default=HERE / "gtb-2025.1")
    parser.add_argument("--cooling-cop", type=float, default=4.0)
    args = parser.parse_args(argv)
    data, version = load_energy_mix(args.source)
    grid, cooling = build_rows(data, version, args.cooling_cop)
    write_csv(args.set_dir / "factors_grid.csv", grid)
    write_csv(args.set_dir / "factors_district_cooling.csv", cooling)
    dropped = sorted(code for code in data if code not in {row["region"] for row in grid})
    print(f"codecarbon {version}: {len(grid) - 1} countries + WORLD written to {args.set_dir}; "
          f"dropped (no intensity): {', '.join(dropped) or 'none'}")


if __name__ == "__main__":
    main()
