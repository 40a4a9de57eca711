"""LIS's shaded-snow test (science.md A.3 step 5): NOT cloud_refine AND DEM >= zs AND relief_shadow != 0 AND
blue - NIR > 160 DN, its switch, and what it leaves in the bits, the FSC and the QC flags."""

import numpy as np
import pytest
import xarray as xr
from test_snow_detect import grid, mountain

from products.snow import (
    CLOUD,
    NO_SNOW,
    SNOW,
    QcFlag,
    SnowBit,
    SnowParams,
    detect_snow,
    fsc_toc,
    qc_flags,
)
from products.snow.params import FSC_TANH

SHADED = {"green": 0.06, "red": 0.03, "swir16": 0.003, "blue": 0.09, "nir": 0.02}
"""Snow in a deep relief shadow: too dark for pass 2 (red below 0.04), blue well above NIR."""
DARK_ROCK = {"green": 0.010, "red": 0.012, "swir16": 0.009, "blue": 0.008, "nir": 0.014}


def scene(*, shaded_rows=(2, 3, 4), shadow=True, pixel=SHADED, cloud_at=None):
    """The test mountain (zs 1300 m: rows of 100 m bands from 1000 m, pass-1 snow from row 5) with dark shaded
    pixels in column 0 of ``shaded_rows`` and the whole of column 0 in relief shadow."""
    pixels, dem, rf = mountain()
    for row in range(len(pixels)):
        for px in pixels[row]:
            px.setdefault("blue", px["green"])
            px.setdefault("nir", px["red"])
    for row in shaded_rows:
        pixels[row][0] = dict(pixel)
    if cloud_at is not None:
        pixels[cloud_at][0]["shadow"] = True  # a cloud shadow is in cloud_refine
    reflectance, masks, elevation = grid(pixels, dem=dem)
    for band in ("blue", "nir"):
        reflectance[band] = (("y", "x"), np.array([[p[band] for p in row] for row in pixels], dtype="f4"))
    relief = np.zeros(elevation.shape, dtype="u1")
    relief[:, 0] = 2 if shadow else 0
    return reflectance, masks, elevation, xr.DataArray(relief, dims=("y", "x"), coords=elevation.coords), rf


def run(*, params=None, relief=True, **kwargs):
    reflectance, masks, dem, relief_shadow, rf = scene(**kwargs)
    return detect_snow(reflectance=reflectance, masks=masks, dem=dem, params=params or SnowParams(rf=rf),
                       relief_shadow=relief_shadow if relief else None)


def test_dark_snow_in_relief_shadow_at_and_above_zs_is_snow_and_below_it_is_not():
    result = run()
    assert result.attrs["zs"] == 1300 and result.attrs["shaded_snow_run"]
    assert result.snow.values[2:5, 0].tolist() == [NO_SNOW, SNOW, SNOW]  # 1200 m < zs <= 1300 m, 1400 m
    assert result.snow_bits.values[3, 0] == SnowBit.SHADED_SNOW
    assert result.shaded_snow.values[:, 0].tolist() == [False] * 3 + [True, True] + [False] * 5
    off = run(params=SnowParams(rf=2, detect_shaded_snow=False))
    assert off.snow.values[3, 0] == NO_SNOW and not off.attrs["shaded_snow_run"] and not off.shaded_snow.any()


def test_snow_that_pass_1_or_2_finds_in_shadow_is_not_counted_as_shaded_snow():
    result = run()
    assert result.snow.values[7, 0] == SNOW  # bright snow in the shadowed column
    assert result.snow_bits.values[7, 0] & SnowBit.SHADED_SNOW == 0 and not result.shaded_snow.values[7, 0]


@pytest.mark.parametrize("case", ["lit", "no relief shadow given", "blue minus nir at the limit", "dark rock",
                                  "cloud shadow"])
def test_the_test_needs_every_one_of_its_conditions(case):
    kwargs = {"lit": {"shadow": False}, "no relief shadow given": {"relief": False},
              "dark rock": {"pixel": DARK_ROCK}, "cloud shadow": {"cloud_at": 3}}.get(case, {})
    params = SnowParams(rf=2)
    if case == "blue minus nir at the limit":
        kwargs["pixel"] = {**SHADED, "blue": 0.0625, "nir": 0.046875}
        params = SnowParams(rf=2, shaded_snow_pass=0.015625)  # dyadic: the difference equals it exactly
    result = run(params=params, **kwargs)
    assert result.snow.values[3, 0] == (CLOUD if case == "cloud shadow" else NO_SNOW)
    assert result.snow.values[4, 0] == NO_SNOW or case == "cloud shadow"


def test_no_shaded_snow_without_pass_2():
    result = run(params=SnowParams(rf=2, fsnow_total_lim=1.0))
    assert not result.attrs["pass2_run"] and not result.attrs["shaded_snow_run"]
    assert result.snow.values[3, 0] == NO_SNOW


def test_shaded_snow_is_fsc_100_with_qc_bit_6():
    result = run()
    toc = fsc_toc(snow=result.snow, ndsi=result.ndsi, params=SnowParams(fscToc_Eq=FSC_TANH),
                  shaded_snow=result.shaded_snow)
    assert toc.values[3, 0] == 100 and toc.values[4, 0] == 100
    assert toc.values[7, 1] < 100  # ordinary snow keeps its NDSI's fraction
    flags = qc_flags(fsc_toc=toc, all_cloud=xr.zeros_like(toc, dtype=bool), shaded_snow=result.shaded_snow)
    assert flags.values[3, 0] == QcFlag.SHADED_SNOW and flags.values[7, 0] == 0


@pytest.mark.parametrize(("key", "value", "message"), [
    ("shaded_snow_pass", 160, "reflectance x 10 000"), ("hillshade_lim", 2, "cosine"),
    ("detect_shaded_snow", "yes", "true or false"),
])
def test_shaded_snow_parameters_are_checked(key, value, message):
    with pytest.raises(Exception, match=message):
        SnowParams.from_mapping({key: value})
