"""LIS snow detection: thresholds, cloud refinement, back-to-cloud, pass 2, codes and bits, numpy vs dask."""

import math

import numpy as np
import pytest
import xarray as xr

from products.snow.codes import CLOUD, NO_SNOW, NODATA, SNOW, SnowBit
from products.snow.detect import detect_snow
from products.snow.params import SnowParams

GROUND = {"green": 0.10, "red": 0.10, "swir16": 0.20}
SNOWY = {"green": 0.80, "red": 0.70, "swir16": 0.10}
NDSI_040 = {"green": 0.875, "swir16": 0.375}
"""(0.875 - 0.375) / (0.875 + 0.375) is 0.40 exactly as rounded in float32 and float64 alike."""
NDSI_015 = {"green": 0.359375, "swir16": 0.265625}
"""Dyadic bands whose NDSI rounds to 0.15 exactly."""
MASKS = ("all_cloud", "shadow", "high_cloud", "nodata", "bad_slope", "cloud_candidate")
NO_PASS2 = {"fsnow_total_lim": 1.0}


def grid(pixels, *, dem=1000.0, dtype="f4"):
    """Reflectance and masks Datasets from a 2-D list of pixel dicts (missing masks are False)."""
    rows = len(pixels)

    def layer(key, default):
        return np.array([[pixel.get(key, default) for pixel in row] for row in pixels])

    coords = {"y": np.arange(rows) * -20.0, "x": np.arange(len(pixels[0])) * 20.0}
    reflectance = xr.Dataset(
        {band: (("y", "x"), layer(band, np.nan).astype(dtype)) for band in ("green", "red", "swir16")}, coords=coords
    )
    masks = xr.Dataset({name: (("y", "x"), layer(name, False).astype(bool)) for name in MASKS}, coords=coords)
    dem_values = np.broadcast_to(np.asarray(dem, dtype="f4"), reflectance.red.shape)
    return reflectance, masks, xr.DataArray(dem_values, dims=("y", "x"), coords=coords)


def detect(pixels, *, dem=1000.0, dtype="f4", water=None, **params):
    reflectance, masks, dem = grid(pixels, dem=dem, dtype=dtype)
    if water is not None:
        water = xr.DataArray(np.array(water, dtype=bool), dims=("y", "x"), coords=dem.coords)
    params = SnowParams(**{"rf": 1, **params})
    return detect_snow(reflectance=reflectance, masks=masks, dem=dem, params=params, water=water)


def mountain(*, rows=10, cols=10, snow_from_row=5, rf=2):
    """Rows of 100 m DEM bands from 1000 m; rows from ``snow_from_row`` are pass-1 snow. zs is then
    the lower edge of band ``snow_from_row - 2``: 1300 m for the defaults."""
    pixels = [[dict(SNOWY if row >= snow_from_row else GROUND) for _ in range(cols)] for row in range(rows)]
    dem = 1000.0 + 100.0 * np.arange(rows)[:, None] * np.ones(cols)
    return pixels, dem, rf


def codes(result):
    return result.snow.values.tolist()


@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_ndsi_exactly_at_ndsi_pass1_is_not_snow_and_above_is(dtype):
    at = {**NDSI_040, "red": 0.5}
    above = {**NDSI_040, "swir16": 0.37, "red": 0.5}
    result = detect([[at, above]], dtype=dtype, **NO_PASS2)
    assert result.ndsi.values[0, 0] == np.float32(0.4)
    assert codes(result) == [[NO_SNOW, SNOW]]


@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_red_exactly_at_red_pass1_is_not_snow_and_above_is(dtype):
    result = detect([[{**SNOWY, "red": 0.20}, {**SNOWY, "red": 0.2001}]], dtype=dtype, **NO_PASS2)
    assert codes(result) == [[NO_SNOW, SNOW]]


def test_pass1_never_tests_pixels_in_the_l2a_cloud_mask():
    result = detect([[{**SNOWY, "all_cloud": True}]], red_darkcloud=0.9, red_backtocloud=0.9, **NO_PASS2)
    assert codes(result) == [[NO_SNOW]]
    assert result.snow_bits.values[0, 0] & SnowBit.PASS1_SNOW == 0


def test_pass2_finds_snow_above_zs_only_and_keeps_its_own_thresholds():
    pixels, dem, rf = mountain()
    candidates = {
        (8, 0): {**NDSI_015, "red": 0.5},
        (8, 1): {**NDSI_015, "swir16": 0.26, "red": 0.5},
        (8, 2): {"green": 0.5, "swir16": 0.2, "red": 0.04},
        (8, 3): {"green": 0.5, "swir16": 0.2, "red": 0.0401},
        (2, 0): {"green": 0.5, "swir16": 0.2, "red": 0.1},
    }
    for (row, col), pixel in candidates.items():
        pixels[row][col] = pixel
    result = detect(pixels, dem=dem, rf=rf)
    assert result.attrs["zs"] == 1300.0
    assert result.attrs["pass2_run"] is True
    assert result.snow.values[8, :4].tolist() == [NO_SNOW, SNOW, NO_SNOW, SNOW]
    assert result.snow.values[2, 0] == NO_SNOW
    assert result.snow_bits.values[8, 1] == SnowBit.PASS2_SNOW
    assert result.snow_bits.values[9, 0] == SnowBit.PASS1_SNOW | SnowBit.PASS2_SNOW


def _cloud_blocks(**block_pixels):
    """The mountain with 2x2 all_cloud blocks (aligned to rf=2) on rows 6-7, one per column pair."""
    pixels, dem, rf = mountain()
    for block, pixel in enumerate(block_pixels.values()):
        for row in (6, 7):
            for col in (2 * block, 2 * block + 1):
                pixels[row][col] = {**pixel, "all_cloud": True}
    return pixels, dem, rf


DARK_SNOW = {"green": 0.5, "swir16": 0.3, "red": 0.08}
BRIGHT = {"green": 0.3, "swir16": 0.3, "red": 0.5}
DARK_GROUND = {"green": 0.05, "swir16": 0.2, "red": 0.05}
DARK_BACK_TO_CLOUD = {"green": 0.05, "swir16": 0.2, "red": 0.2}
DARK_SNOW_BACK_TO_CLOUD = {"green": 0.5, "swir16": 0.3, "red": 0.2}


def test_dark_cloud_drops_out_of_the_refined_mask_bright_cloud_stays_and_back_to_cloud_applies():
    pixels, dem, rf = _cloud_blocks(
        dark_snow=DARK_SNOW,
        bright=BRIGHT,
        dark_ground=DARK_GROUND,
        back=DARK_BACK_TO_CLOUD,
        dark_snow_back=DARK_SNOW_BACK_TO_CLOUD,
    )
    result = detect(pixels, dem=dem, rf=rf)
    assert result.attrs["pass2_run"] is True
    assert result.snow.values[6, 0:10:2].tolist() == [SNOW, CLOUD, NO_SNOW, CLOUD, SNOW]
    initial = SnowBit.CLOUD_PASS1 | SnowBit.ALL_CLOUD
    assert result.snow_bits.values[6, 0:10:2].tolist() == [
        initial | SnowBit.PASS2_SNOW,
        initial | SnowBit.CLOUD_REFINE,
        initial,
        initial,
        initial | SnowBit.PASS2_SNOW,
    ]


def test_a_cloud_candidate_skips_the_refined_cloud_mask_so_pass2_may_release_it_and_back_to_cloud_still_applies():
    """Landsat's dilated-cloud ring: bright like the cloud beside it at 240 m, so as plain all_cloud it would be
    refined cloud; as a candidate, snow above zs is snow, bright snow-free ground cloud, dark ground no snow."""
    ring = {"all_cloud": True, "cloud_candidate": True}
    pixels, dem, rf = mountain()
    for col, pixel in enumerate((SNOWY, BRIGHT, DARK_GROUND)):
        pixels[6][2 * col] = {**pixel, **ring}
        pixels[6][2 * col + 1] = pixels[7][2 * col] = pixels[7][2 * col + 1] = {**BRIGHT, "all_cloud": True}
    result = detect(pixels, dem=dem, rf=rf)
    assert result.attrs["zs"] == 1300.0
    assert result.snow.values[6, 0:6:2].tolist() == [SNOW, CLOUD, NO_SNOW]
    assert result.snow_bits.values[6, 0] & SnowBit.CLOUD_REFINE == 0
    for row in pixels:
        for pixel in row:
            pixel.pop("cloud_candidate", None)
    assert detect(pixels, dem=dem, rf=rf).snow.values[6, 0:6:2].tolist() == [CLOUD, CLOUD, CLOUD], \
        "the ring taken as cloud outright: snowland before issue 17"


def test_strict_cloud_mask_sends_snow_in_back_to_cloud_pixels_to_cloud():
    pixels, dem, rf = _cloud_blocks(dark_snow=DARK_SNOW, dark_snow_back=DARK_SNOW_BACK_TO_CLOUD)
    result = detect(pixels, dem=dem, rf=rf, strict_cloud_mask=True)
    assert result.snow.values[6, [0, 2]].tolist() == [SNOW, CLOUD]


def test_dark_cloud_test_uses_the_block_mean_of_red():
    pixels, dem, rf = mountain()
    dark_and_bright = [{**DARK_SNOW, "all_cloud": True}, {**DARK_SNOW, "red": 0.6, "all_cloud": True}]
    pixels[6][0], pixels[6][1] = dark_and_bright
    pixels[7][0], pixels[7][1] = dark_and_bright
    result = detect(pixels, dem=dem, rf=rf)
    assert result.snow.values[6:8, 0:2].tolist() == [[CLOUD, CLOUD], [CLOUD, CLOUD]]
    assert detect(pixels, dem=dem, rf=1).snow.values[6, 0] == SNOW


def test_nodata_and_water_pixels_are_left_out_of_the_coarse_red():
    pixels, dem, rf = mountain()
    grey_cloud = {**DARK_GROUND, "red": 0.35, "all_cloud": True}
    pixels[6][0] = pixels[6][1] = pixels[7][0] = grey_cloud
    pixels[7][1] = {**DARK_GROUND, "red": 0.0}
    water = np.zeros((10, 10), dtype=bool)
    water[7, 1] = True
    with_water_red = detect(pixels, dem=dem, rf=rf).snow_bits.values[6, 0]
    without_water_red = detect(pixels, dem=dem, rf=rf, water=water).snow_bits.values[6, 0]
    assert with_water_red & SnowBit.CLOUD_REFINE == 0
    assert without_water_red & SnowBit.CLOUD_REFINE == SnowBit.CLOUD_REFINE


@pytest.mark.parametrize("mask", ["shadow", "high_cloud"])
def test_shadow_and_high_cloud_stay_cloud_even_when_dark(mask):
    pixels, dem, rf = _cloud_blocks(dark=DARK_SNOW)
    for row in (6, 7):
        for col in (0, 1):
            pixels[row][col][mask] = True
    result = detect(pixels, dem=dem, rf=rf)
    assert result.snow.values[6, 0] == CLOUD


def test_no_zs_when_no_band_qualifies_and_then_no_pass2():
    pixels, dem, rf = mountain(snow_from_row=10)
    pixels[8][0] = {"green": 0.5, "swir16": 0.2, "red": 0.1}
    result = detect(pixels, dem=dem, rf=rf)
    assert math.isnan(result.attrs["zs"])
    assert result.attrs["pass2_run"] is False
    assert result.snow.values[8, 0] == NO_SNOW


def test_pass2_is_skipped_when_pass1_snow_is_below_fsnow_total_lim():
    pixels = [[dict(GROUND) for _ in range(50)] for _ in range(40)]
    dem = np.full((40, 50), 1000.0)
    pixels[0][0:5] = [dict(SNOWY)] + [{"green": 0.5, "swir16": 0.2, "red": 0.1}] * 4
    dem[0, 0:5] = 2000.0
    skipped = detect(pixels, dem=dem)
    assert skipped.attrs["snow_pass1_fraction"] == 1 / 2000
    assert skipped.attrs["zs"] == 1800.0
    assert skipped.attrs["pass2_run"] is False
    assert skipped.snow.values[0, :5].tolist() == [SNOW] + [NO_SNOW] * 4
    ran = detect(pixels, dem=dem, fsnow_total_lim=0.0004)
    assert ran.attrs["pass2_run"] is True
    assert ran.snow.values[0, :5].tolist() == [SNOW] * 5


def test_nodata_pixels_are_255_with_no_bits_and_no_ndsi():
    result = detect(
        [[{**SNOWY, "swir16": np.nan}, {**SNOWY, "nodata": True, "all_cloud": True}, dict(SNOWY)]], **NO_PASS2
    )
    assert codes(result) == [[NODATA, NODATA, SNOW]]
    assert result.snow_bits.values[0].tolist() == [0, 0, SnowBit.PASS1_SNOW]
    assert np.isnan(result.ndsi.values[0, :2]).all()


def test_water_becomes_nodata_and_leaves_the_percentages():
    pixels = [[dict(SNOWY), dict(SNOWY), dict(GROUND), dict(GROUND)]]
    result = detect(pixels, water=[[True, False, False, False]], **NO_PASS2)
    assert codes(result) == [[NODATA, SNOW, NO_SNOW, NO_SNOW]]
    assert float(result.snow_percent) == pytest.approx(100 / 3)


def test_snow_and_cloud_percent_are_over_valid_pixels():
    pixels = [[dict(SNOWY), {**GROUND, "shadow": True, "all_cloud": True}, dict(GROUND), {**GROUND, "nodata": True}]]
    result = detect(pixels, **NO_PASS2)
    assert float(result.snow_percent) == pytest.approx(100 / 3)
    assert float(result.cloud_percent) == pytest.approx(100 / 3)


def test_bad_slope_sets_bit_6_value_32():
    result = detect([[{**SNOWY, "bad_slope": True}]], **NO_PASS2)
    assert result.snow_bits.values[0, 0] == SnowBit.PASS1_SNOW | SnowBit.BAD_SLOPE == 33


def test_dem_nodata_value_takes_no_part_in_the_snowline():
    pixels, dem, rf = mountain()
    reflectance, masks, dem = grid(pixels, dem=dem)
    dem = dem.where(dem.x != 0, -32767.0).assign_attrs(nodata=-32767.0)
    result = detect_snow(reflectance=reflectance, masks=masks, dem=dem, params=SnowParams(rf=rf))
    assert result.histogram_pixels.elevation_band.values[0] == 1000.0
    assert result.attrs["zs"] == 1300.0


def test_integer_reflectance_is_refused():
    reflectance, masks, dem = grid([[dict(SNOWY)]])
    reflectance["red"] = (reflectance.red * 10000).astype("i2")
    with pytest.raises(TypeError, match="red"):
        detect_snow(reflectance=reflectance, masks=masks, dem=dem)


def test_inputs_on_different_grids_are_refused():
    reflectance, masks, dem = grid([[dict(SNOWY), dict(SNOWY)]])
    with pytest.raises(ValueError, match="align"):
        detect_snow(reflectance=reflectance, masks=masks, dem=dem.assign_coords(x=dem.x + 10))


def _random_scene(seed=3, rows=50, cols=47):
    rng = np.random.default_rng(seed)
    dem = np.linspace(500, 3000, rows)[:, None] + rng.normal(0, 30, (rows, cols))
    dem[0, 0] = np.nan
    snowy = dem > 1800 + rng.normal(0, 200, (rows, cols))
    pick = lambda snow_range, ground_range: np.where(  # noqa: E731
        snowy, rng.uniform(*snow_range, (rows, cols)), rng.uniform(*ground_range, (rows, cols))
    )
    coords = {"y": np.arange(rows) * -20.0, "x": np.arange(cols) * 20.0}
    bands = {
        "green": pick((0.3, 0.9), (0.02, 0.2)),
        "red": pick((0.03, 0.9), (0.02, 0.4)),
        "swir16": pick((0.02, 0.3), (0.05, 0.3)),
    }
    reflectance = xr.Dataset({name: (("y", "x"), band.astype("f4")) for name, band in bands.items()}, coords=coords)
    reflectance["red"][0:3, 0:3] = np.nan
    cloud = rng.random((rows, cols))
    masks = xr.Dataset(
        {
            "all_cloud": (("y", "x"), cloud < 0.3),
            "shadow": (("y", "x"), cloud < 0.03),
            "high_cloud": (("y", "x"), (cloud > 0.25) & (cloud < 0.3)),
            "nodata": (("y", "x"), rng.random((rows, cols)) < 0.02),
        },
        coords=coords,
    )
    water = xr.DataArray(rng.random((rows, cols)) < 0.02, dims=("y", "x"), coords=coords)
    return reflectance, masks, xr.DataArray(dem.astype("f4"), dims=("y", "x"), coords=coords), water


def test_numpy_and_dask_give_identical_results_with_chunks_that_do_not_divide_rf():
    reflectance, masks, dem, water = _random_scene()
    params = SnowParams(rf=12)
    eager = detect_snow(reflectance=reflectance, masks=masks, dem=dem, params=params, water=water)
    chunks = {"y": 13, "x": 10}
    lazy = detect_snow(
        reflectance=reflectance.chunk(chunks),
        masks=masks.chunk(chunks),
        dem=dem.chunk(chunks),
        params=params,
        water=water.chunk(chunks),
    )
    assert lazy.snow.chunks is not None
    assert eager.attrs == lazy.attrs
    assert eager.attrs["pass2_run"] is True
    assert {CLOUD, NO_SNOW, SNOW, NODATA} <= set(np.unique(eager.snow.values))
    xr.testing.assert_identical(eager, lazy.compute())
