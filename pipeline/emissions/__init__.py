"""Emission factors as cited, versioned data, and the arithmetic that goes with them.

- `factors`: factor sets under `inputs/reference/factors/<set>/` (validated on read), the pins
  that say which set a reporting year uses, and the lookup from a workbook activity to its
  factor (country factor or the WORLD fallback).
- `units`: conversion of reported quantities to the canonical unit of each factor.
- `air`: great-circle distance between airports, the ICAO distance correction, distance bands.

The choices and sources are explained in `docs/emission-factors.md`.
"""
