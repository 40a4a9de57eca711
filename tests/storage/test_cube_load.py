"""Loading on the EEA grid: Sentinel-2 tiles of UTM 31N and 32N fuse per solar day with no seam."""

from __future__ import annotations

import json

import numpy as np
from odc.geo import geom
from pyproj import Transformer

from flows.storage.grid import EEA_CRS
from flows.storage.load import load


def _area(sim):
    x0, y0, x1, y1 = json.loads(sim.truth.read_text())["world"]["bounds"]
    return geom.box(x0, y0, x1, y1, crs=EEA_CRS)


def test_both_utm_zones_are_indexed_for_the_same_days(dc, simulated):
    found = dc.find_datasets(product="s2_l2a", geopolygon=_area(simulated))
    zones = {d.crs.epsg for d in found}
    assert zones == {32631, 32632}


def test_each_solar_day_is_one_time_step_and_reflectance_is_scaled(dc, simulated):
    data = load("s2_l2a", geometry=_area(simulated), measurements=["green", "swir16", "scl"], dc=dc)
    days = [str(t)[:10] for t in data.time.values]
    tiles = dc.find_datasets(product="s2_l2a", geopolygon=_area(simulated))
    assert len(days) == len(set(days)) == len({str(d.center_time)[:10] for d in tiles}) < len(tiles)
    green = data.green.values[np.isfinite(data.green.values)]
    assert 0 <= np.percentile(green, 1) and np.percentile(green, 99) <= 1.2, "DN -> reflectance with the -1000 offset"


def test_values_on_both_sides_of_6_degrees_east_load_without_seam_or_gap(dc, simulated):
    data = load("s2_l2a", geometry=_area(simulated), measurements=["red"], dc=dc).red.compute()
    to_lon = Transformer.from_crs(3035, 4326, always_xy=True)
    lon, _ = to_lon.transform(data.x.values, np.full(data.x.size, float(data.y.mean())))
    boundary = int(np.argmin(np.abs(lon - 6.0)))
    assert 20 < boundary < data.x.size - 20, "the test area must straddle 6 E"
    strip = data.isel(x=slice(boundary - 20, boundary + 20))
    assert not strip.isnull().any(), "no gap where the two UTM tiles meet"
    steps = np.abs(np.diff(data.values, axis=2))
    across = np.nanmean(steps[:, :, boundary - 1:boundary + 1])
    typical = np.nanmean(steps)
    assert across < 2 * typical, f"a seam at 6 E: {across:.4f} vs {typical:.4f} between neighbouring columns"
