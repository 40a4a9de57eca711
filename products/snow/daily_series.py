"""From a series of snow products to daily snow maps (science.md A.5 steps 2-4).

Inputs are (time, y, x) DataArrays of product codes: 0..100 (no snow, or FSC %; SEB snow is 100)
are observations, anything else (205 cloud, 254 / 255 nodata, NaN) is a gap. The time dim must be
a single dask chunk (it is rechunked to one if not); space may be chunked freely.
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

import dask
import numpy as np
import xarray as xr
from numpy.typing import DTypeLike

TIME = "time"
_CORE = "_core_time"

DateLike = str | date | np.datetime64
_Codes = TypeVar("_Codes", np.ndarray, xr.DataArray)


def merge_same_day(
    *, codes: xr.DataArray, priority: Sequence[int] | np.ndarray | xr.DataArray | None = None
) -> xr.DataArray:
    """One layer per calendar day: the first product with a valid value (0..100) wins.

    Products of a day are taken in ascending ``priority`` (one number per time step, e.g. 0 for
    Sentinel-2 and 1 for Landsat densification), then in the order given. A day with no valid value
    keeps the code of its first product. The time coordinate becomes the day at 00:00.
    """
    codes = _series(codes)
    days = codes[TIME].values.astype("datetime64[D]")
    rank = np.zeros(days.size) if priority is None else np.asarray(priority, dtype=np.float64)
    if rank.shape != days.shape:
        raise ValueError(f"priority needs one value per time step ({days.size}), got shape {rank.shape}")
    order = np.lexsort((rank, days))
    unique_days, starts = np.unique(days[order], return_index=True)
    groups = np.split(order, starts[1:])
    merged = _along_time(_first_valid, codes, size=len(groups), dtype=codes.dtype, groups=groups)
    return merged.assign_coords({TIME: unique_days.astype("datetime64[ns]")})


def daily_snow(*, codes: xr.DataArray, start: DateLike, stop: DateLike) -> xr.DataArray:
    """Daily binary snow (uint8 0/1) on every day from ``start`` to ``stop`` included.

    ``codes`` has at most one layer per day (see :func:`merge_same_day`). Snow is ``0 < v <= 100``
    (any FSC above 0). Between two valid observations the snow value (x 100) is interpolated linearly
    in time and the day is snow where it reaches 50, i.e. LIS's ``(v*2) div 100``. Before the first and
    after the last valid observation of a pixel the nearest valid observation is carried (constant
    extrapolation); a pixel with no valid observation at all is 0 on every day.
    """
    codes = _series(codes)
    first, last = _day(start), _day(stop)
    if last < first:
        raise ValueError(f"stop {last} is before start {first}")
    obs_days = (codes[TIME].values.astype("datetime64[D]") - first).astype(np.int64)
    if np.any(np.diff(obs_days) <= 0):
        raise ValueError("daily_snow needs one layer per day in increasing time; use merge_same_day first")
    out_days = np.arange((last - first).astype(np.int64) + 1)
    daily = _along_time(
        _interpolated_snow, codes, size=out_days.size, dtype=np.uint8, obs_days=obs_days, out_days=out_days
    )
    return daily.assign_coords({TIME: (first + out_days).astype("datetime64[ns]")})


def is_observation(codes: _Codes) -> _Codes:
    """True where a product code is a valid observation (0..100); NaN is not one."""
    return (codes >= 0) & (codes <= 100)


def _first_valid(codes: np.ndarray, *, groups: list[np.ndarray]) -> np.ndarray:
    merged = np.empty(codes.shape[:-1] + (len(groups),), dtype=codes.dtype)
    for slot, members in enumerate(groups):
        chosen = codes[..., members[0]].copy()
        found = is_observation(chosen)
        for member in members[1:]:
            candidate = codes[..., member]
            take = ~found & is_observation(candidate)
            chosen[take] = candidate[take]
            found |= take
        merged[..., slot] = chosen
    return merged


def _interpolated_snow(codes: np.ndarray, *, obs_days: np.ndarray, out_days: np.ndarray) -> np.ndarray:
    """Daily snow, walking runs of output days that share the same neighbouring observations.

    Time is moved to the first axis so that each date is one contiguous slice. The next valid
    observation at or after each date comes from one backward sweep; the last valid one at or before
    a day is carried forward while the output days are walked.
    """
    series = np.ascontiguousarray(np.moveaxis(codes, -1, 0))
    count, pixels = series.shape[0], series.shape[1:]
    valid = is_observation(series)
    snowy = valid & (series > 0)

    right_has = np.zeros((count + 1, *pixels), dtype=bool)
    right_snow = np.zeros((count + 1, *pixels), dtype=bool)
    right_day = np.zeros((count + 1, *pixels), dtype=np.int32)
    for index in range(count - 1, -1, -1):
        seen = valid[index]
        right_has[index] = seen | right_has[index + 1]
        right_snow[index] = np.where(seen, snowy[index], right_snow[index + 1])
        right_day[index] = np.where(seen, obs_days[index], right_day[index + 1])

    seen_by = np.searchsorted(obs_days, out_days, side="right")
    next_from = np.searchsorted(obs_days, out_days, side="left")
    run_edges = np.flatnonzero(np.diff(seen_by * (count + 1) + next_from)) + 1
    has_left = np.zeros(pixels, dtype=bool)
    left_snow = np.zeros(pixels, dtype=bool)
    left_day = np.zeros(pixels, dtype=np.int32)
    daily = np.empty((out_days.size, *pixels), dtype=np.uint8)
    consumed = 0
    for first, last in zip(np.r_[0, run_edges], np.r_[run_edges, out_days.size], strict=True):
        while consumed < seen_by[first]:
            seen = valid[consumed]
            has_left |= seen
            left_snow = np.where(seen, snowy[consumed], left_snow)
            left_day = np.where(seen, obs_days[consumed], left_day)
            consumed += 1
        after = next_from[first]
        days = out_days[first:last].reshape((-1,) + (1,) * len(pixels))
        daily[first:last] = _snow_at(
            days, has_left, left_snow, left_day, right_has[after], right_snow[after], right_day[after]
        )
    return np.moveaxis(daily, 0, -1)


def _snow_at(
    days: np.ndarray,
    has_left: np.ndarray,
    left_snow: np.ndarray,
    left_day: np.ndarray,
    has_right: np.ndarray,
    right_snow: np.ndarray,
    right_day: np.ndarray,
) -> np.ndarray:
    """Whether the linear interpolation of 100 x snow between the two neighbours reaches 50.

    With weight w = (day - left_day) / span that is w <= 1/2 when only the left neighbour is snow and
    w >= 1/2 when only the right one is, tested in whole days so that the midpoint is exact.
    """
    twice_elapsed = 2 * (days - left_day)
    span = right_day - left_day
    between = np.where(left_snow, right_snow | (twice_elapsed <= span), right_snow & (twice_elapsed >= span))
    return np.where(has_left & has_right, between, np.where(has_left, left_snow, has_right & right_snow))


def _along_time(
    function: Callable[..., np.ndarray], codes: xr.DataArray, *, size: int, dtype: DTypeLike, **kwargs: Any
) -> xr.DataArray:
    result = xr.apply_ufunc(
        function,
        codes,
        input_core_dims=[[TIME]],
        output_core_dims=[[_CORE]],
        kwargs=kwargs,
        dask="parallelized",
        output_dtypes=[dtype],
        dask_gufunc_kwargs={"output_sizes": {_CORE: size}},
    )
    return result.rename({_CORE: TIME}).transpose(TIME, ...)


def _series(codes: xr.DataArray) -> xr.DataArray:
    if TIME not in codes.dims:
        raise ValueError(f"codes must have a {TIME!r} dim, got {codes.dims}")
    if dask.is_dask_collection(codes.data):
        codes = codes.chunk({TIME: -1})
    return codes.transpose(TIME, ...)


def _day(value: DateLike) -> np.datetime64:
    return np.datetime64(value, "D")
