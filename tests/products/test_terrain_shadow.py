"""Relief shadow geometry on synthetic DEMs: cast-shadow length and direction, hillshade, NaN, the bits."""

import math

import numpy as np
import pytest

from products.terrain import CAST, LOW_HILLSHADE, cast_shadow, hillshade, relief_shadow

PIXEL = 20.0
DECEMBER_NOON_45N = {"sun_azimuth": 180.0, "sun_elevation": 21.5}
"""The sun at solar noon on 21 December at 45 N: 90 - 45 - 23.5 degrees high, due south."""


def wall(*, rows=300, cols=300, height=1000.0, along="row", at=150):
    """Flat ground at 0 m with a one-pixel wall of ``height`` along a row (east-west) or a column (north-south)."""
    dem = np.zeros((rows, cols), dtype="f4")
    if along == "row":
        dem[at, :] = height
    else:
        dem[:, at] = height
    return dem


@pytest.mark.parametrize("elevation", [20.0, 30.0, 45.0, 60.0])
def test_a_wall_casts_a_shadow_as_long_as_its_height_over_the_tangent_of_the_sun_elevation(elevation):
    shadow = cast_shadow(dem=wall(), pixel_size=PIXEL, sun_azimuth=180.0, sun_elevation=elevation)
    behind = np.flatnonzero(shadow[:, 100])
    expected_px = 1000.0 / math.tan(math.radians(elevation)) / PIXEL
    assert behind.max() == 149  # the sun is south: the shadow lies north of the wall, next to it
    assert len(behind) == math.ceil(expected_px - 1e-6) - 1  # every pixel nearer than that length
    assert not shadow[150:, :].any()  # nothing on the sun's side


@pytest.mark.parametrize(("azimuth", "side"), [(90.0, "west"), (270.0, "east"), (0.0, "south"), (180.0, "north")])
def test_the_shadow_falls_away_from_the_sun(azimuth, side):
    along = "column" if side in ("west", "east") else "row"
    shadow = cast_shadow(dem=wall(along=along), pixel_size=PIXEL, sun_azimuth=azimuth, sun_elevation=45.0)
    line = shadow[100, :] if along == "column" else shadow[:, 100]
    found = np.flatnonzero(line)
    before = side in ("west", "north")  # lower column or row index than the wall
    assert len(found) == 49 and (found.max() == 149 if before else found.min() == 151)


@pytest.mark.parametrize("azimuth", [135.0, 160.0, 225.0, 315.0])
def test_an_oblique_sun_shortens_the_shadow_across_a_straight_wall(azimuth):
    shadow = cast_shadow(dem=wall(along="column"), pixel_size=PIXEL, sun_azimuth=azimuth, sun_elevation=45.0)
    across = 50.0 * abs(math.sin(math.radians(azimuth)))  # the 50 px shadow, projected on the row
    assert abs(shadow[150].sum() - across) <= 1


def test_in_december_a_north_face_and_the_slope_beyond_a_ridge_are_shadowed_even_where_they_face_the_sun():
    y = np.arange(400)[:, None] * np.ones((1, 50))
    ridge = np.clip(1500.0 - np.abs(y - 300) * PIXEL * 0.8, 0, None)  # crest at row 300, 38.7 degree faces
    hill = np.clip(300.0 - np.abs(y - 200) * PIXEL * 0.3, 0, None)  # a gentle hill 100 px north of it
    dem = np.maximum(ridge, hill).astype("f4")
    shade = hillshade(dem=dem, pixel_size=PIXEL, **DECEMBER_NOON_45N)
    bits = relief_shadow(dem=dem, pixel_size=PIXEL, **DECEMBER_NOON_45N)
    alone = relief_shadow(dem=hill.astype("f4"), pixel_size=PIXEL, **DECEMBER_NOON_45N)

    north_face = slice(260, 299)  # rows north of the crest are the north face
    assert (shade[north_face, 25] < 0.2).all() and (bits[north_face, 25] & LOW_HILLSHADE).all()
    sunny_slope = slice(205, 215)  # the hill's south face, lit when the ridge is not there
    assert (shade[sunny_slope, 25] > 0.5).all() and (alone[sunny_slope, 25] == 0).all()
    assert (bits[sunny_slope, 25] == CAST).all()
    assert (bits[310:390, 25] == 0).all()  # the ridge's south face is lit


def test_hillshade_is_the_cosine_of_the_incidence_on_a_plane():
    slope = math.radians(30.0)
    rows = np.arange(20)[:, None] * np.ones((1, 20))
    facing_south = (rows * PIXEL * math.tan(slope)).astype("f4")  # rises southwards: faces north
    for azimuth, expected in ((0.0, math.cos(math.radians(60.0) - slope)), (180.0, math.cos(math.radians(60.0) + slope))):
        shade = hillshade(dem=facing_south, pixel_size=PIXEL, sun_azimuth=azimuth, sun_elevation=30.0)
        assert shade[5:15, 5:15] == pytest.approx(expected, abs=1e-5)


def test_unknown_elevation_neither_casts_nor_receives_a_shadow():
    dem = wall()
    dem[150, :100] = np.nan
    dem[120, 100:] = np.nan
    shadow = cast_shadow(dem=dem, pixel_size=PIXEL, sun_azimuth=180.0, sun_elevation=45.0)
    assert not shadow[:, :100].any()
    assert not shadow[120, 100:].any() and shadow[119, 100:].all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sun_elevation": 0.0}, "below the horizon"),
    ({"pixel_size": 0.0}, "pixel_size"),
    ({"dem": np.zeros(5)}, "2-D"),
])
def test_impossible_geometry_is_refused(kwargs, message):
    args = {"dem": np.zeros((5, 5)), "pixel_size": PIXEL, "sun_azimuth": 180.0, "sun_elevation": 30.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        relief_shadow(**args)
