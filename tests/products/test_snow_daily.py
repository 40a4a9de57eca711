"""The daily gap-free snow map: latest clear observation in the window, incremental equals whole-window."""

import numpy as np
import pytest
import xarray as xr

from products.errors import BadInputError
from products.snow.codes import CLOUD, NO_OBSERVATION, NODATA, SNOW
from products.snow.daily import NONE, Scene, from_window, next_day, platform_of, sensor_code

COORDS = {"y": np.arange(2) * -20.0, "x": np.arange(3) * 20.0}


def layer(values):
    return xr.DataArray(np.array(values, dtype="uint8"), dims=("y", "x"), coords=COORDS)


def scene(snow, fsc=None, platform="sentinel-2a"):
    snow = layer(snow)
    return Scene(snow=snow, fsc=layer(fsc) if fsc is not None else snow, platform=platform)


LIKE = layer([[0] * 3] * 2)


def random_scene(rng, platform):
    snow = rng.choice([0, SNOW, CLOUD, NODATA], size=(40, 50), p=[0.3, 0.2, 0.4, 0.1]).astype("uint8")
    fsc = np.where(snow == SNOW, rng.integers(1, 101, size=snow.shape), snow).astype("uint8")
    coords = {"y": np.arange(40) * -20.0, "x": np.arange(50) * 20.0}
    return Scene(snow=xr.DataArray(snow, dims=("y", "x"), coords=coords),
                 fsc=xr.DataArray(fsc, dims=("y", "x"), coords=coords), platform=platform)


@pytest.mark.parametrize("window_days", [1, 3, 7])
def test_incremental_days_equal_the_whole_window_computation(window_days):
    rng = np.random.default_rng(window_days)
    platforms = ["sentinel-2a", "sentinel-2b", "landsat-8", "landsat-9"]
    series = [[random_scene(rng, p) for p in rng.choice(platforms, size=rng.integers(0, 3), replace=False)]
              for _ in range(20)]
    like = xr.zeros_like(random_scene(rng, "sentinel-2a").snow)
    outside = like.copy(data=rng.random(like.shape) < 0.05)
    daily = from_window(days=[series[0]], like=like, window_days=window_days, outside=outside)
    for day in range(1, len(series)):
        daily = next_day(previous=daily, scenes=series[day], window_days=window_days)
        window = [series[d] for d in range(day, max(day - window_days, -1), -1)]
        expected = from_window(days=window, like=like, window_days=window_days, outside=outside)
        xr.testing.assert_identical(daily, expected)
    assert (daily.age.values[daily.age.values != NONE] < window_days).all()


def test_the_latest_clear_observation_wins_with_its_age_fsc_and_sensor():
    old = scene([[0, SNOW, 0], [CLOUD, NODATA, SNOW]], [[0, 60, 0], [CLOUD, NODATA, 100]], platform="landsat-8")
    new = scene([[SNOW, CLOUD, NODATA], [CLOUD, CLOUD, 0]], [[80, CLOUD, NODATA], [CLOUD, CLOUD, 0]])
    daily = from_window(days=[[new], [], [old]], like=LIKE)
    assert daily.snow.values.tolist() == [[SNOW, SNOW, 0], [NO_OBSERVATION, NO_OBSERVATION, 0]]
    assert daily.fsc.values.tolist() == [[80, 60, 0], [NO_OBSERVATION, NO_OBSERVATION, 0]]
    assert daily.age.values.tolist() == [[0, 2, 2], [NONE, NONE, 0]]
    s2a, l8 = sensor_code("sentinel-2a"), sensor_code("landsat-8")
    assert daily.sensor.values.tolist() == [[s2a, l8, l8], [NONE, NONE, s2a]]
    assert platform_of(l8) == "landsat-8" and platform_of(NONE) is None


def test_a_day_takes_its_first_clear_scene_in_the_order_given():
    first = scene([[CLOUD, SNOW, CLOUD]] * 2, platform="sentinel-2b")
    second = scene([[0, 0, CLOUD]] * 2, platform="landsat-9")
    daily = from_window(days=[[first, second]], like=LIKE)
    assert daily.snow.values[0].tolist() == [0, SNOW, NO_OBSERVATION]
    assert daily.sensor.values[0].tolist() == [sensor_code("landsat-9"), sensor_code("sentinel-2b"), NONE]


def test_observations_lapse_past_the_window_and_days_without_scenes_still_age():
    daily = from_window(days=[[scene([[SNOW, 0, CLOUD]] * 2)]], like=LIKE, window_days=3)
    for expected_age in (1, 2):
        daily = next_day(previous=daily, scenes=[], window_days=3)
        assert daily.age.values[0].tolist() == [expected_age, expected_age, NONE]
    daily = next_day(previous=daily, scenes=[], window_days=3)
    assert (daily.snow.values == NO_OBSERVATION).all() and (daily.age.values == NONE).all()


def test_a_window_without_scenes_is_no_observation_inside_and_nodata_outside():
    outside = LIKE.copy(data=np.array([[True, False, False], [False, False, True]]))
    daily = from_window(days=[], like=LIKE, outside=outside)
    assert daily.snow.values.tolist() == [[NODATA, NO_OBSERVATION, NO_OBSERVATION],
                                          [NO_OBSERVATION, NO_OBSERVATION, NODATA]]
    later = next_day(previous=daily, scenes=[scene([[SNOW] * 3] * 2)])
    assert later.snow.values.tolist() == [[NODATA, SNOW, SNOW], [SNOW, SNOW, NODATA]]
    assert later.sensor.values[0, 0] == NONE


def test_dask_inputs_stay_lazy_and_give_the_same_map():
    eager = from_window(days=[[scene([[SNOW, 0, CLOUD]] * 2)]], like=LIKE)
    lazy = from_window(days=[[Scene(snow=layer([[SNOW, 0, CLOUD]] * 2).chunk(1), fsc=layer([[SNOW, 0, CLOUD]] * 2),
                                    platform="sentinel-2a")]], like=LIKE.chunk(1))
    assert lazy.snow.chunks is not None
    xr.testing.assert_identical(eager, lazy.compute())


@pytest.mark.parametrize("window_days", [0, 255, 2.5, True])
def test_a_bad_window_is_refused(window_days):
    with pytest.raises(BadInputError, match="window_days"):
        from_window(days=[], like=LIKE, window_days=window_days)


def test_an_unknown_platform_is_refused_by_name():
    with pytest.raises(BadInputError, match="'spot-5'"):
        scene([[0] * 3] * 2, platform="spot-5")


def test_the_product_definition_names_the_platforms_of_the_sensor_codes():
    from pathlib import Path

    import yaml

    doc = yaml.safe_load((Path(__file__).parents[2] / "products/snow/snow_daily.odc-product.yaml").read_text())
    sensor = next(m for m in doc["measurements"] if m["name"] == "sensor")
    values = sensor["flags_definition"]["sensor"]["values"]
    assert {code: name for code, name in values.items() if code != NONE} == {
        sensor_code(p): p for p in ("sentinel-2a", "sentinel-2b", "sentinel-2c", "landsat-8", "landsat-9")}
