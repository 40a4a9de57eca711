"""Per-date pixel validity from the L2A masks, and the count of clear dates (iota2 PixelsValidity).

A date is valid for land cover when nothing flags it (science.md B.3): any Theia/MAJA CLM bit
(thin cloud included), a Sen2Cor SCL cloud, shadow or defect class, any Landsat QA_PIXEL fill,
cloud, cirrus or shadow bit, saturation, image edge. All functions return boolean DataArrays
(True = clear) and stay lazy on dask.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from products.sensors import QA_PIXEL, SCL

SCL_INVALID = SCL.codes("invalid")
"""Sen2Cor SCL classes that invalidate a date: no data, defective, cloud shadow, cloud medium and
high probability, thin cirrus (science.md A.8; snow, 11, is a land-cover observation and stays valid)."""

QA_PIXEL_INVALID = QA_PIXEL.bitmask("invalid")
"""Landsat Collection-2 QA_PIXEL bits that invalidate a date: fill, dilated cloud, cirrus, cloud, shadow."""


class NoValidDateError(ValueError):
    """Every date of the series is invalid where a value is needed."""


def valid_from_clm(clm: xr.DataArray) -> xr.DataArray:
    """Theia/MAJA CLM: clear where no bit is set."""
    return (clm == 0).rename("valid")


def valid_from_scl(scl: xr.DataArray, *, invalid_classes: Iterable[int] = SCL_INVALID) -> xr.DataArray:
    """Sen2Cor scene classification: clear where the class is not in `invalid_classes`."""
    return (~scl.isin(list(invalid_classes))).rename("valid")


def valid_from_qa_pixel(qa: xr.DataArray, *, invalid_bits: int = QA_PIXEL_INVALID) -> xr.DataArray:
    """Landsat QA_PIXEL: clear where none of the bits of the mask `invalid_bits` is set."""
    return ((qa.astype(np.uint32) & invalid_bits) == 0).rename("valid")


def valid_from_flags(flags: xr.DataArray) -> xr.DataArray:
    """Any non-zero flag raster (SAT, EDG, a nodata mask set to 1) -> invalid."""
    return (flags == 0).rename("valid")


def combine_validity(*masks: xr.DataArray | None) -> xr.DataArray:
    """Clear only where every given mask is clear (`None` entries are skipped)."""
    present = [m.astype(bool) for m in masks if m is not None]
    if not present:
        raise ValueError("no validity mask given")
    out = present[0]
    for m in present[1:]:
        out = out & m
    return out.rename("valid")


def validity(
    *,
    clm: xr.DataArray | None = None,
    scl: xr.DataArray | None = None,
    qa_pixel: xr.DataArray | None = None,
    flags: Iterable[xr.DataArray] = (),
    valid: xr.DataArray | None = None,
) -> xr.DataArray:
    """Per-date validity from whichever masks the product has; `valid` is taken as given."""
    masks = [
        valid_from_clm(clm) if clm is not None else None,
        valid_from_scl(scl) if scl is not None else None,
        valid_from_qa_pixel(qa_pixel) if qa_pixel is not None else None,
        valid.astype(bool) if valid is not None else None,
        *(valid_from_flags(f) for f in flags),
    ]
    return combine_validity(*masks)


def clear_observations(valid: xr.DataArray, *, dim: str = "time") -> xr.DataArray:
    """Number of clear dates per pixel (uint16), the iota2 `PixelsValidity` layer."""
    return valid.sum(dim).astype(np.uint16).rename("clear_observations")
