"""Season syntheses of a snow-product series: SCD, SOD, SMOD, NOBS, NSP (science.md A.5)."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

import numpy as np
import xarray as xr

from products.snow.daily_series import (
    TIME,
    DateLike,
    daily_snow,
    is_observation,
    merge_same_day,
)
from products.snow.params import SynthesisParams


def hydrological_year(*, year: int, hemisphere: Literal["north", "south"] = "north") -> tuple[date, date]:
    """First and last day of the hydrological year that starts in ``year``:
    1 Sept - 31 Aug in the north, 1 Mar - end of Feb in the south."""
    if hemisphere == "north":
        return date(year, 9, 1), date(year + 1, 8, 31)
    if hemisphere == "south":
        return date(year, 3, 1), date(year + 1, 3, 1) - timedelta(days=1)
    raise ValueError(f"hemisphere must be 'north' or 'south', got {hemisphere!r}")


def snow_season_synthesis(
    *,
    codes: xr.DataArray,
    start: DateLike,
    stop: DateLike,
    priority: Sequence[int] | np.ndarray | xr.DataArray | None = None,
    params: SynthesisParams = SynthesisParams(),
) -> xr.Dataset:
    """Season indicators of a (time, y, x) series of snow products between ``start`` and ``stop`` (included).

    The series may hold several products per day (merged with :func:`merge_same_day` by ``priority``)
    and dates outside the season, which support the gap filling at its ends. Returns a Dataset with

    - ``scd`` (uint16): snow cover duration, number of snow days of the daily series;
    - ``sod`` / ``smod`` (uint16): index (days since ``start``, which is day 0) of the first / last day of
      the longest run of snow days (the earliest if several are as long), where ``scd`` is larger
      than ``params.min_snow_days``; 0 elsewhere;
    - ``nobs`` (uint16): number of days with a valid observation between ``start`` and ``stop``;
    - ``nsp`` (uint16): number of separate snow periods (runs of snow days), flagged experimental by LIS;
    - ``daily_snow`` (time, y, x; uint8 0/1): the gap-filled daily snow maps (DAILY_SNOW_MASKS).
    """
    merged = merge_same_day(codes=codes, priority=priority)
    daily = daily_snow(codes=merged, start=start, stop=stop)
    in_season = merged.sel({TIME: slice(np.datetime64(start, "D"), np.datetime64(stop, "D"))})
    scd = daily.sum(TIME, dtype=np.uint16)
    sod, smod, nsp = xr.apply_ufunc(
        _runs,
        daily,
        input_core_dims=[[TIME]],
        output_core_dims=[[], [], []],
        dask="parallelized",
        output_dtypes=[np.uint16, np.uint16, np.uint16],
    )
    dated = scd > params.min_snow_days
    return xr.Dataset(
        {
            "scd": scd,
            "sod": sod.where(dated, 0).astype(np.uint16),
            "smod": smod.where(dated, 0).astype(np.uint16),
            "nobs": is_observation(in_season).sum(TIME, dtype=np.uint16),
            "nsp": nsp,
            "daily_snow": daily,
        },
        attrs={"start": str(np.datetime64(start, "D")), "stop": str(np.datetime64(stop, "D"))},
    )


def _runs(daily: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last index of the longest run of 1s on the last axis (the earliest on ties), and the number of runs."""
    series = np.ascontiguousarray(np.moveaxis(daily, -1, 0)).astype(bool)
    shape = series.shape[1:]
    run = np.zeros(shape, dtype=np.int32)
    run_start = np.zeros(shape, dtype=np.int32)
    best = np.zeros(shape, dtype=np.int32)
    best_start = np.zeros(shape, dtype=np.int32)
    runs = np.zeros(shape, dtype=np.int32)
    for day, snow in enumerate(series):
        starting = snow & (run == 0)
        runs += starting
        np.copyto(run_start, day, where=starting)
        run += 1
        run *= snow
        longer = run > best
        np.copyto(best, run, where=longer)
        np.copyto(best_start, run_start, where=longer)
    best_end = np.where(best > 0, best_start + best - 1, 0)
    return best_start.astype(np.uint16), best_end.astype(np.uint16), runs.astype(np.uint16)
