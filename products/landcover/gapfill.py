"""Linear temporal gap filling onto a regular date grid (iota2 / OTB ImageTimeSeriesGapFilling, `it = linear`).

For each pixel and grid date, the value is interpolated linearly in time between the nearest
valid observations before and after it. Before the first valid observation and after the last
one there is nothing to interpolate between: the grid date takes the value of the nearest valid
observation (constant extrapolation, the behaviour of `numpy.interp`). A pixel with no valid
date at all gets NaN on every grid date. Every date of the input is used: to forbid the use of
later dates (near real time) select the dates before calling.

Grid: every `step_days` days from `start` (default: first date) up to `end` (default: last date);
10 days for Sentinel-2, 16 for Landsat (science.md B.3). Observations count on their day (the
time of acquisition is dropped, as iota2's dates are days). On dask the series is chunked over
y/x only; time is one chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from products.landcover.validity import NoValidDateError

S2_STEP_DAYS = 10
LANDSAT_STEP_DAYS = 16


def date_grid(start: object, end: object, *, step_days: int = S2_STEP_DAYS) -> pd.DatetimeIndex:
    """Regular dates every `step_days` from `start` (its day, 00:00) while not after `end`."""
    if step_days <= 0:
        raise ValueError("step_days must be positive")
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end)
    if last < first:
        raise ValueError(f"grid end {last.date()} is before its start {first.date()}")
    return pd.date_range(first, last, freq=pd.Timedelta(days=step_days), name="time")


def days_since(dates: object, origin: object) -> np.ndarray:
    """Fractional days from `origin` to each of `dates`."""
    delta = pd.DatetimeIndex(np.atleast_1d(dates)) - pd.Timestamp(origin)
    return np.asarray(delta / pd.Timedelta(days=1), dtype=np.float64)


def gapfill(
    series: xr.DataArray | xr.Dataset,
    valid: xr.DataArray,
    *,
    step_days: int = S2_STEP_DAYS,
    start: object | None = None,
    end: object | None = None,
    dates: pd.DatetimeIndex | None = None,
    dim: str = "time",
) -> xr.DataArray | xr.Dataset:
    """`series` (any of y, x, band ... with `dim`) linearly gap filled onto a regular date grid.

    `valid` is True on clear observations; NaN values are treated as invalid too. `dates`
    overrides the grid made from `start`, `end` and `step_days`. Returns float32 with `dim`
    holding the grid dates.
    """
    times = pd.DatetimeIndex(series[dim].values)
    if len(times) == 0:
        raise NoValidDateError("the series has no date")
    if not times.equals(pd.DatetimeIndex(valid[dim].values)):
        raise ValueError(f"series and validity mask have different {dim!r} coordinates")
    if dates is None:
        dates = date_grid(times.min() if start is None else start, times.max() if end is None else end, step_days=step_days)
    if not _is_lazy(valid) and not bool(valid.any()):
        raise NoValidDateError(f"no valid date: all {len(times)} dates are masked (clouds, nodata or flags)")
    order = np.argsort(times.values, kind="stable")
    series, valid = series.isel({dim: order}), valid.isel({dim: order})
    origin = times.min().normalize()
    t_days, g_days = days_since(times.normalize().values[order], origin), days_since(dates, origin)
    if _is_lazy(series) or _is_lazy(valid):
        series, valid = series.chunk({dim: -1}), valid.chunk({dim: -1})
    filled = xr.apply_ufunc(
        interpolate_linear,
        series,
        valid,
        input_core_dims=[[dim], [dim]],
        output_core_dims=[[dim]],
        exclude_dims={dim},
        kwargs=dict(t_days=t_days, g_days=g_days),
        dask="parallelized",
        output_dtypes=[np.float32],
        dask_gufunc_kwargs=dict(output_sizes={dim: len(dates)}),
    )
    filled = filled.assign_coords({dim: pd.DatetimeIndex(dates, name=dim)})
    order_dims = [d for d in series.dims]
    return filled.transpose(*order_dims)


def interpolate_linear(values: np.ndarray, valid: np.ndarray, *, t_days: np.ndarray, g_days: np.ndarray) -> np.ndarray:
    """Kernel on arrays whose last axis is time: (..., t) -> (..., g), see the module docstring."""
    values = np.asarray(values, dtype=np.float32)
    valid = np.broadcast_to(np.asarray(valid, dtype=bool), values.shape) & np.isfinite(values)
    lead, n_t, n_g = values.shape[:-1], values.shape[-1], len(g_days)
    v = values.reshape(-1, n_t)
    ok = valid.reshape(-1, n_t)
    idx = np.arange(n_t)
    last_valid = np.maximum.accumulate(np.where(ok, idx, -1), axis=1)
    next_valid = np.minimum.accumulate(np.where(ok, idx, n_t)[:, ::-1], axis=1)[:, ::-1]
    k = np.searchsorted(t_days, g_days, side="right") - 1
    before = np.where(k >= 0, last_valid[:, np.clip(k, 0, n_t - 1)], -1)
    after = np.where(k + 1 < n_t, next_valid[:, np.clip(k + 1, 0, n_t - 1)], n_t)
    has_before, has_after = before >= 0, after < n_t
    i0, i1 = np.clip(before, 0, n_t - 1), np.clip(after, 0, n_t - 1)
    v0, v1 = np.take_along_axis(v, i0, axis=1), np.take_along_axis(v, i1, axis=1)
    t0, t1 = t_days[i0], t_days[i1]
    both = has_before & has_after
    span = np.where(both, t1 - t0, 1.0)
    weight = np.where(both, (g_days[None, :] - t0) / span, 0.0)
    out = np.where(both, v0 + weight * (v1 - v0), np.where(has_before, v0, np.where(has_after, v1, np.nan)))
    return out.astype(np.float32).reshape(*lead, n_g)


def _is_lazy(obj: xr.DataArray | xr.Dataset) -> bool:
    if isinstance(obj, xr.Dataset):
        return any(v.chunks is not None for v in obj.data_vars.values())
    return obj.chunks is not None
