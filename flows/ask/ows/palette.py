"""Map colours of the products' codes (snow, cloud, no snow) and ramps for their continuous bands."""

from __future__ import annotations

from products.snow.codes import CLOUD, NO_OBSERVATION, NO_SNOW, SNOW

SNOW_CODES = ((SNOW, "snow", "#1ec8ff"), (NO_SNOW, "no snow", "#8a6a3a"), (CLOUD, "cloud", "#ffffff"))
"""snow_cover ``snow``: code, legend name, colour; no data stays transparent."""

DAILY_CODES = ((SNOW, "snow", "#1ec8ff"), (NO_SNOW, "no snow", "#8a6a3a"),
               (NO_OBSERVATION, "no clear observation in the window", "#ffffff"))

LEGEND_BACKGROUND = "#d0d0d0"
"""Under a class legend's patches: datacube-ows draws each patch in its own colour, edge included, so a white class
(cloud, no observation) would vanish on a white background."""

FSC = ("#8a6a3a", "#b9e6f5", "#1ec8ff")
"""Fractional snow cover 0 -> 50 -> 100 %."""
DAYS = ("#ffffcc", "#41b6c4", "#081d58")
"""Days (duration, dates, age): low -> mid -> high."""
GREYS = ("#000000", "#808080", "#ffffff")
