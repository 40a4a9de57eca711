"""Snow on the ground: a snowline that follows the season and the weather, and snow where terrain is above it.

- ``snowline(day)``: a seasonal curve over the hydrological year (1 September - 31 August): no snow in
  September, the line descends through autumn to ~900 m in January-February, rises in spring, gone (above
  every summit) by July. Each hydrological year gets its own offset, a red-noise wobble and a few snowfall
  events that push the line down for some days, all drawn from the seed and the year: the same date always
  gives the same snowline, whatever the period simulated.
- ``snow_cover(...)``: the fraction of a pixel covered by snow. Snow lies where the *effective* elevation
  (elevation minus a sun-exposure shift of up to ``ASPECT_SHIFT_M`` on steep south faces, plus a static patchy
  noise) is above the snowline; the transition is sharp (``TRANSITION_M`` wide). The truth is
  ``fraction >= 0.5``; glaciers are snow all year and open water never is.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

NO_SNOW_M = 3900.0  # a snowline above every summit
ASPECT_SHIFT_M = 150.0
TRANSITION_M = 70.0
PATCH_NOISE_M = 45.0

# (day of hydrological year, snowline in metres); day 0 = 1 September
_SEASON = np.array([
    (0, NO_SNOW_M), (35, NO_SNOW_M), (50, 2900.0), (75, 2000.0), (100, 1400.0), (125, 1050.0), (150, 900.0),
    (170, 920.0), (190, 1100.0), (215, 1500.0), (245, 1950.0), (270, 2450.0), (290, 2950.0), (303, NO_SNOW_M),
    (366, NO_SNOW_M),
])


def hydrological_year(day: dt.date) -> int:
    """The year in which the hydrological year containing ``day`` starts (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def seasonal_snowline(day: dt.date) -> float:
    """The climatological snowline of ``day``, no weather."""
    d = (day - dt.date(hydrological_year(day), 9, 1)).days
    return float(np.interp(d, _SEASON[:, 0], _SEASON[:, 1]))


@lru_cache(maxsize=32)
def _weather(seed: int, hyear: int) -> np.ndarray:
    """Daily snowline perturbation (metres) over one hydrological year, from the seed and the year."""
    rng = np.random.default_rng([seed, 0x5A0, hyear])
    n = 366
    offset = rng.normal(0.0, 120.0)
    wobble = np.zeros(n)
    eps = rng.normal(0.0, 45.0, n)
    for i in range(1, n):
        wobble[i] = 0.9 * wobble[i - 1] + eps[i]
    events = np.zeros(n)
    n_events = rng.poisson(7)
    days = rng.uniform(55, 250, n_events)  # late October .. early May
    drops = rng.uniform(250.0, 700.0, n_events)
    t = np.arange(n)
    for day0, drop in zip(days, drops):
        after = t - day0
        events -= np.where(after >= 0, drop * np.exp(-np.maximum(after, 0) / 6.0), 0.0)
    return offset + wobble + events


def snowline(day: dt.date, seed: int) -> float:
    """Snowline elevation (m) on ``day``: season + this year's weather. Above every summit in summer."""
    base = seasonal_snowline(day)
    if base >= NO_SNOW_M:
        return NO_SNOW_M
    hyear = hydrological_year(day)
    d = (day - dt.date(hyear, 9, 1)).days
    # weather fades out where the season has no snow, so September and July-August stay snow-free
    fade = np.clip((NO_SNOW_M - base) / 600.0, 0.0, 1.0)
    return float(np.clip(base + fade * _weather(seed, hyear)[min(d, 365)], 150.0, NO_SNOW_M))


def snow_cover(effective_elevation: np.ndarray, line: float) -> np.ndarray:
    """Fraction of ground covered by snow, 0..1, float32: a steep ramp centred on the snowline."""
    out = (effective_elevation - np.float32(line)) * np.float32(1.0 / TRANSITION_M)
    out += np.float32(0.5)
    np.maximum(out, 0.0, out=out)
    return np.minimum(out, 1.0, out=out).astype(np.float32, copy=False)


def snow_age(day: dt.date) -> float:
    """0 for fresh winter snow, 1 for old spring snow (coarse grains: lower visible and SWIR reflectance)."""
    d = (day - dt.date(hydrological_year(day), 9, 1)).days
    return float(np.clip((d - 150) / 110.0, 0.0, 1.0))
