"""Great-circle distance, one definition (haversine on the IUGG mean Earth radius)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Haversine distance in km between points given in decimal degrees, vectorised.

    Accepts scalars, arrays or Series; returns a Series (index of the first Series argument)
    when any argument is a Series, a float for scalars, else a numpy array.
    """
    index = next((a.index for a in (lat1, lon1, lat2, lon2) if isinstance(a, pd.Series)), None)
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    if index is not None:
        return pd.Series(km, index=index, name="gcd_km")
    return float(km) if np.ndim(km) == 0 else km
