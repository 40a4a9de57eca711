"""Snow products of the LIS method (Let-It-Snow, science.md part A), as pure xarray functions.

numpy- or dask-backed DataArrays on dims (y, x), or (time, y, x) for syntheses, go in; xarray comes
out. Nothing here reads or writes rasters, touches the database or knows about Prefect; the only I/O
is reading a parameter file (:meth:`SnowParams.from_file`).
"""

from products.snow.cloud_masks import (
    masks_from_l2a,
    masks_from_qa_pixel,
    masks_from_scl,
    masks_from_theia_clm,
)
from products.snow.codes import CLOUD, LIS_NO_ZS, NO_SNOW, NODATA, SNOW, QcFlag, SnowBit
from products.snow.daily_series import daily_snow, merge_same_day
from products.snow.detect import detect_snow, normalized_difference_snow_index
from products.snow.fsc import fsc_og, fsc_toc, ndsi_percent
from products.snow.params import FSC_LINEAR, FSC_TANH, SnowParams, SynthesisParams
from products.snow.qc_flags import qc_flags, qc_og, qc_toc
from products.snow.synthesis import hydrological_year, snow_season_synthesis
from products.snow.water import water_mask

__all__ = [
    "CLOUD",
    "FSC_LINEAR",
    "FSC_TANH",
    "LIS_NO_ZS",
    "NODATA",
    "NO_SNOW",
    "SNOW",
    "QcFlag",
    "SnowBit",
    "SnowParams",
    "SynthesisParams",
    "daily_snow",
    "detect_snow",
    "fsc_og",
    "fsc_toc",
    "hydrological_year",
    "masks_from_l2a",
    "masks_from_qa_pixel",
    "masks_from_scl",
    "masks_from_theia_clm",
    "merge_same_day",
    "ndsi_percent",
    "normalized_difference_snow_index",
    "qc_flags",
    "qc_og",
    "qc_toc",
    "snow_season_synthesis",
    "water_mask",
]
