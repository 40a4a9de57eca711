"""Simulated scenes (flows/simulator/scenes.py, flows/simulator/): layout, encoding, geometry, truth, determinism.

One small run (5 km across the 6 E UTM boundary, three weeks of January 2024) is shared by the tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from flows.simulator import sensors
from flows.simulator.geometry import MgrsTile, WorldGrid, s2_tiles_for
from flows.simulator.scenes import SimulationConflict, simulate_scenes
from flows.simulator.spectra import BANDS, GREEN, RED, SWIR16, ndsi
from flows.simulator.world import (
    QA_CLEAR,
    QA_CLOUD,
    QA_DILATED,
    QA_FILL,
    build_world,
    dilated_cloud_ring,
)
from products.errors import BadInputError
from products.sensors import LANDSAT_C2L2, S2_L2A
from products.terrain import cast_shadow

SEED = 42
SIZE_KM = 5.0
CENTRE = (4_005_000.0, 2_440_000.0)  # on the 6 E meridian
START, END = "2024-01-10", "2024-02-01"
RUN = dict(s2_every_days=15, seed=SEED, size_km=SIZE_KM, centre=CENTRE, start=START, end=END)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "a"
    summary = simulate_scenes(out, **RUN)
    return out, summary


@pytest.fixture(scope="module")
def world():
    return build_world(SEED, SIZE_KM, CENTRE)


def items(out: Path, collection: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / collection).glob("*/*.json")) if p.stem == p.parent.name]


def read(item_path_dir: Path, asset: dict):
    with rasterio.open(item_path_dir / asset["href"]) as src:
        return src.read(1), src


# ------------------------------------------------------------------------------------------ layout and STAC
def test_layout_and_counts(run):
    out, summary = run
    assert summary.items == {"sentinel-2-l2a": 4, "landsat-c2-l2": 2, "cop-dem-glo-30": 4}
    assert summary.written == summary.items
    catalog = json.loads((out / "catalog.json").read_text())
    assert catalog["type"] == "Catalog" and "SIMULATED" in catalog["description"]
    assert {link["href"] for link in catalog["links"] if link["rel"] == "child"} == {
        f"./{c}/collection.json" for c in summary.items}
    for collection, n in summary.items.items():
        coll = json.loads((out / collection / "collection.json").read_text())
        assert coll["id"] == collection and "SIMULATED" in coll["description"]
        assert len([link for link in coll["links"] if link["rel"] == "item"]) == n
        features = json.loads((out / collection / "items.json").read_text())["features"]
        assert len(features) == n
        for f in features:  # the ItemCollection carries absolute paths that exist
            assert all(Path(a["href"]).is_absolute() and Path(a["href"]).exists() for a in f["assets"].values())
    text = (out / "README.txt").read_text()
    assert text.startswith("SIMULATED DATA")
    for name in ("truth/truth.json", "truth/dem.tif", "truth/landcover.gpkg"):
        assert (out / name).exists()


def test_items_are_marked_simulated_and_named_as_real_ones(run):
    out, _ = run
    patterns = {
        "sentinel-2-l2a": r"^S2[AB]_3[12]T[A-Z]{2}_2024\d{4}_0_L2A$",
        "landsat-c2-l2": r"^LC08_L2SP_\d{6}_2024\d{4}_02_T1$",
        "cop-dem-glo-30": r"^Copernicus_DSM_COG_10_N\d{2}_00_E\d{3}_00_DEM$",
    }
    for collection, pattern in patterns.items():
        for item in items(out, collection):
            assert re.match(pattern, item["id"]), item["id"]
            assert item["collection"] == collection
            assert item["properties"]["snowland:simulated"] is True
            assert "SIMULATED" in item["properties"]["title"] and "SIMULATED" in item["properties"]["description"]


def test_s2_items_follow_earth_search(run):
    out, _ = run
    for item in items(out, "sentinel-2-l2a"):
        p = item["properties"]
        assert set(item["assets"]) == {m.name for m in S2_L2A.measurements}
        assert p["s2:processing_baseline"] == "05.10" and p["earthsearch:boa_offset_applied"] is False
        assert p["constellation"] == "sentinel-2" and p["instruments"] == ["msi"]
        assert p["platform"] in ("sentinel-2a", "sentinel-2b") and item["id"][:3] == "S2" + p["platform"][-1].upper()
        assert p["proj:code"] == f"EPSG:{p['proj:epsg']}" and p["proj:epsg"] == 32600 + p["mgrs:utm_zone"]
        assert p["grid:code"] == f"MGRS-{p['mgrs:utm_zone']}{p['mgrs:latitude_band']}{p['mgrs:grid_square']}"
        assert 0 <= p["eo:cloud_cover"] <= 100
        for key, asset in item["assets"].items():
            band = asset["raster:bands"][0]
            assert band["nodata"] == 0
            if key == "scl":
                assert band["data_type"] == "uint8"
            else:
                assert (band["data_type"], band["scale"], band["offset"]) == ("uint16", 0.0001, -0.1)
                assert asset["eo:bands"][0]["name"] == key
                assert asset["gsd"] == band["spatial_resolution"] == abs(asset["proj:transform"][0])


def test_landsat_items_follow_c2_l2(run):
    out, _ = run
    for item in items(out, "landsat-c2-l2"):
        p = item["properties"]
        assert p["platform"] == "landsat-8" and p["instruments"] == ["oli", "tirs"]
        assert (p["landsat:wrs_path"], p["landsat:wrs_row"]) == ("196", "029")
        assert set(item["assets"]) == {m.name for m in LANDSAT_C2L2.measurements}
        for key, asset in item["assets"].items():
            band = asset["raster:bands"][0]
            if key == "qa_pixel":
                assert band["nodata"] == 1 and len(asset["classification:bitfields"]) == 12
            else:
                assert (band["nodata"], band["scale"], band["offset"]) == (0, 0.0000275, -0.2)


def test_proj_fields_match_the_cog_headers(run):
    out, _ = run
    for collection in ("sentinel-2-l2a", "landsat-c2-l2", "cop-dem-glo-30"):
        for item in items(out, collection):
            folder = out / collection / item["id"]
            epsg = item["properties"]["proj:epsg"]
            for asset in item["assets"].values():
                with rasterio.open(folder / asset["href"]) as src:
                    assert src.crs.to_epsg() == epsg
                    assert [src.height, src.width] == asset["proj:shape"]
                    assert list(src.transform)[:6] == pytest.approx(asset["proj:transform"], abs=1e-9)
                    assert src.dtypes[0] == asset["raster:bands"][0]["data_type"]
                    assert src.nodata == asset["raster:bands"][0]["nodata"]
                    assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
                    assert src.compression.name == "deflate" and src.block_shapes[0] == (512, 512)
                    assert src.tags()["SIMULATED"] == "YES"
                    if max(src.shape) > 512:
                        assert src.overviews(1)[0] == 2, "from 2x in every band, as Earth Search's COGs"


def test_s2_pixel_grids_are_on_the_mgrs_lattice(run):
    out, _ = run
    for item in items(out, "sentinel-2-l2a"):
        transforms = {a["proj:transform"][0]: a["proj:transform"] for a in item["assets"].values()}
        assert set(transforms) == {10, 20}
        assert transforms[10][2] == transforms[20][2] and transforms[10][5] == transforms[20][5]
        assert transforms[10][2] % 60 == 0 and transforms[10][5] % 60 == 0


# ------------------------------------------------------------------------------------------ geometry
def test_known_mgrs_tiles():
    assert MgrsTile(29, "R", 2, 27).name == "29RKH" and MgrsTile(29, "R", 2, 27).origin == (199980.0, 2800020.0)
    assert MgrsTile(31, "T", 7, 50).name == "31TGL" and MgrsTile(31, "T", 7, 50).origin == (699960.0, 5100000.0)
    default = s2_tiles_for(WorldGrid.around())
    assert [t.tile.name for t in default] == ["31TGK", "32TKQ"]


def test_two_s2_tiles_in_two_utm_zones_overlap_across_6E(run):
    out, _ = run
    by_day: dict[str, list[dict]] = {}
    for item in items(out, "sentinel-2-l2a"):
        by_day.setdefault(item["properties"]["datetime"][:10], []).append(item)
    assert by_day
    for pair in by_day.values():
        assert sorted(i["properties"]["proj:epsg"] for i in pair) == [32631, 32632]
        west = next(i for i in pair if i["properties"]["proj:epsg"] == 32631)
        east = next(i for i in pair if i["properties"]["proj:epsg"] == 32632)
        assert west["bbox"][2] > 6.0 > east["bbox"][0]  # each reaches across the meridian: they overlap
        assert east["bbox"][0] < west["bbox"][2] - 0.05


# ------------------------------------------------------------------------------------------ encoding
def _world_index(world, epsg: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    x, y = Transformer.from_crs(epsg, 3035, always_xy=True).transform(xs, ys)
    return world.grid.index_of(np.asarray(x), np.asarray(y))


def _sample_pixels(src, n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, src.height, n), rng.integers(0, src.width, n)
    xs, ys = rasterio.transform.xy(src.transform, rows, cols)
    return rows, cols, np.asarray(xs), np.asarray(ys)


def test_dn_round_trips_to_world_reflectance(run, world):
    out, _ = run
    checked = 0
    for item in items(out, "sentinel-2-l2a") + items(out, "landsat-c2-l2"):
        day = dt.date.fromisoformat(item["properties"]["datetime"][:10])
        state = world.state(day)
        folder = out / item["collection"] / item["id"]
        for key in ("red", "swir16"):
            asset = item["assets"][key]
            band = asset["raster:bands"][0]
            with rasterio.open(folder / asset["href"]) as src:
                dn = src.read(1)
                rows, cols, xs, ys = _sample_pixels(src)
                idx = _world_index(world, src.crs.to_epsg(), xs, ys)
            got = dn[rows, cols]
            valid = got != 0
            assert valid.mean() > 0.5
            source = "B04" if key == "red" else "B11"
            expected = state.reflectance[BANDS.index(source)].ravel()[idx[valid]]
            decoded = got[valid] * band["scale"] + band["offset"]
            assert (idx[valid] >= 0).all()
            tolerance = band["scale"] / 2 + 1e-6
            close = np.abs(decoded - expected) <= tolerance
            assert close.mean() > 0.999, f"{item['id']} {key}: {np.abs(decoded - expected).max()}"
            checked += int(valid.sum())
    assert checked > 10_000


def test_encodings_and_baselines():
    assert sensors.s2_processing_baseline(dt.date(2024, 1, 15)) == "05.10"
    assert sensors.s2_processing_baseline(dt.date(2022, 1, 1)) < "04.00"
    refl = np.array([0.0, 0.1234, 0.9], dtype=np.float32)
    assert sensors.encode_s2(refl, "05.10").tolist() == [1000, 2234, 10000]
    assert sensors.encode_s2(refl, "03.01").tolist() == [1, 1234, 9000]  # 0 stays nodata
    dn = sensors.encode_landsat(refl)
    assert np.allclose(dn * 0.0000275 - 0.2, refl, atol=0.0000275 / 2)
    with pytest.raises(BadInputError, match="s2_every_days must be a positive multiple of 5"):
        sensors.s2_calendar(dt.date(2024, 1, 1), dt.date(2024, 2, 1), 7)
    days = sensors.s2_calendar(dt.date(2024, 1, 1), dt.date(2024, 3, 1), 15)
    assert [p for _, p in days][:2] == ["sentinel-2b", "sentinel-2a"]  # 15 days: platforms alternate
    assert all(d.toordinal() % 1 == 0 for d, _ in days) and days[1][0] - days[0][0] == dt.timedelta(days=15)


# ------------------------------------------------------------------------------------------ truth
def _truth(out: Path, day: str) -> np.ndarray:
    with rasterio.open(out / "truth" / "snow" / f"{day}.tif") as src:
        return src.read(1)


def test_snow_truth_follows_elevation_and_snowline(run):
    out, _ = run
    truth_doc = json.loads((out / "truth" / "truth.json").read_text())
    with rasterio.open(out / "truth" / "dem.tif") as src:
        dem = src.read(1)
    assert truth_doc["world"]["seed"] == SEED and len(truth_doc["dates"]) == 4
    for day in truth_doc["dates"]:
        truth = _truth(out, day["date"])
        assert set(np.unique(truth)) <= {0, 100, 205, 255}
        seen = (truth == 0) | (truth == 100)
        line = day["snowline_m"]
        above, below = seen & (dem > line + 250), seen & (dem < line - 250)
        assert above.sum() > 1000 and below.sum() > 1000
        assert (truth[above] == 100).mean() > 0.85, day
        assert (truth[below] == 100).mean() < 0.05, day


def test_scl_and_qa_pixel_clouds_coincide_with_truth(run, world):
    out, _ = run
    for item in items(out, "sentinel-2-l2a") + items(out, "landsat-c2-l2"):
        day = item["properties"]["datetime"][:10]
        truth = _truth(out, day).ravel()
        folder = out / item["collection"] / item["id"]
        key = "scl" if "scl" in item["assets"] else "qa_pixel"
        with rasterio.open(folder / item["assets"][key]["href"]) as src:
            codes = src.read(1)
            rows, cols, xs, ys = _sample_pixels(src, n=20_000)
            idx = _world_index(world, src.crs.to_epsg(), xs, ys)
        c = codes[rows, cols]
        if key == "scl":
            keep = c != 0
            flagged = np.isin(c[keep], [8, 9, 10])
        else:
            keep = c != 1
            flagged = (c[keep] & 0b1100) > 0  # cloud or cirrus bit
        t = truth[idx[keep]]
        assert (t != 255).all()
        assert (flagged == (t == 205)).mean() > 0.999, item["id"]


def test_cfmask_ring_is_three_landsat_pixels_around_every_cloud_as_a_square():
    qa = np.full((11, 11), QA_CLEAR, dtype=np.uint16)
    qa[5, 5] = QA_CLOUD
    qa[:, 0] = QA_FILL
    out = dilated_cloud_ring(qa)
    ring = (out & QA_DILATED) > 0
    expected = np.zeros_like(ring)
    expected[2:9, 2:9] = True
    expected[5, 5] = False
    assert (ring == expected).all(), "a 7 x 7 square less the cloud: corners included, as Fmask's square dilation"
    assert not (out[ring] & QA_CLEAR).any() and (out[~ring & (qa == QA_CLEAR)] == QA_CLEAR).all()
    assert (dilated_cloud_ring(np.full((3, 3), QA_CLEAR, dtype=np.uint16)) == QA_CLEAR).all()


def test_landsat_qa_pixel_carries_the_ring_in_its_own_pixels(run):
    out, _ = run
    rings = 0
    for item in items(out, "landsat-c2-l2"):
        with rasterio.open(out / item["collection"] / item["id"] / item["assets"]["qa_pixel"]["href"]) as src:
            qa = src.read(1)
        ring = (qa & QA_DILATED) > 0
        assert not (ring & ((qa & QA_CLOUD) > 0)).any()
        assert (ring == ((dilated_cloud_ring(qa & ~np.uint16(QA_DILATED)) & QA_DILATED) > 0)).all()
        rings += int(ring.sum())
    assert rings > 0, "some simulated Landsat date is partly cloudy"


def test_lis_thresholds_find_clear_snow(world):
    """Snow is physically plausible: NDSI > 0.4 and red > 0.2 (LIS pass 1) finds it on clear, sunlit pixels."""
    state = world.state(dt.date(2024, 2, 20))
    refl = state.reflectance
    pass1 = (ndsi(refl[GREEN], refl[SWIR16]) > 0.4) & (refl[RED] > 0.2)
    clear = ~state.sky.obscured & ~state.sky.shadow_mask & ~state.cast_shadow
    assert clear.mean() > 0.1 and state.snow[clear].mean() > 0.1
    assert (pass1[clear] == state.snow[clear]).mean() > 0.97
    cloud = state.sky.opacity > 0.9
    if cloud.any():  # thick clouds are bright in the SWIR too: not snow for LIS
        assert (ndsi(refl[GREEN], refl[SWIR16])[cloud] < 0.15).mean() > 0.99


def test_the_relief_casts_shadows_from_the_sun_of_the_day_darker_and_bluer_than_sunlit_ground(world):
    """In December the low sun leaves much of the relief in cast shadow, in June little; there, snow keeps only the
    diffuse sky light: red below LIS's pass-2 0.04, blue well above NIR (what the shaded-snow test looks for)."""
    december, june = world.state(dt.date(2023, 12, 20)), world.state(dt.date(2024, 6, 20))
    expected = cast_shadow(dem=world.terrain.elevation, pixel_size=world.grid.res_x,
                           sun_azimuth=december.sun_azimuth, sun_elevation=90 - december.sun_zenith)
    assert (december.cast_shadow == expected).all()
    assert december.cast_shadow.mean() > 0.1 > june.cast_shadow.mean()
    refl = december.reflectance
    clear = ~december.sky.obscured & ~december.sky.shadow_mask & december.snow & ~world.glacier
    shaded, lit = clear & december.cast_shadow, clear & ~december.cast_shadow
    assert shaded.sum() > 100 and lit.sum() > 100
    blue, nir = refl[BANDS.index("B02")], refl[BANDS.index("B08")]
    assert np.median(refl[RED][shaded]) < 0.04 and np.median(refl[RED][lit]) > 0.2
    assert ((blue - nir)[shaded] > 0.016).mean() > 0.95


def test_items_report_the_sun_that_cast_their_shadows(run, world):
    out, _ = run
    for collection in (sensors.S2_COLLECTION, sensors.LANDSAT_COLLECTION):
        for item in items(out, collection):
            p = item["properties"]
            zenith, azimuth = world.sun(dt.date.fromisoformat(p["datetime"][:10]))
            assert (p["view:sun_azimuth"], p["view:sun_elevation"]) == pytest.approx((azimuth, 90 - zenith), abs=1e-5)


def test_landcover_truth(run, world):
    import geopandas as gpd

    out, _ = run
    frame = gpd.read_file(out / "truth" / "landcover.gpkg", layer="landcover")
    assert list(frame.columns) == ["parcel_id", "year", "code", "name", "geometry"]
    assert frame.crs.to_epsg() == 3035 and set(frame["year"]) == {2024}
    assert frame["parcel_id"].is_unique and len(frame) == len(world.parcels)
    assert frame.geometry.area.sum() == pytest.approx(SIZE_KM**2 * 1e6, rel=1e-6)
    # crops rotate from one year to the next, other classes stay
    codes_2024, codes_2025 = world.parcels.codes(2024), world.parcels.codes(2025)
    arable = np.isin(codes_2024, (5, 6, 9, 10))
    assert (codes_2024[~arable] == codes_2025[~arable]).all()
    if arable.any():
        assert (codes_2024[arable] != codes_2025[arable]).any()


# ------------------------------------------------------------------------------------------ reproducibility
def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "items.json"}


def test_same_seed_same_bytes_and_reruns_skip(run, tmp_path):
    out, _ = run
    again = simulate_scenes(tmp_path / "b", **RUN)
    assert again.written == again.items
    first, second = _digests(out), _digests(tmp_path / "b")
    assert first == second  # truth, COGs and item JSONs byte for byte
    rerun = simulate_scenes(tmp_path / "b", **RUN)
    assert sum(rerun.written.values()) == 0 and rerun.skipped == rerun.items == again.items
    assert _digests(tmp_path / "b") == second


def test_a_rerun_clears_the_hidden_files_a_dead_writer_left_and_keeps_a_live_ones(run, tmp_path):
    out, summary = run
    copy = tmp_path / "c"
    shutil.copytree(out, copy)
    item = next(p for p in (copy / "sentinel-2-l2a").iterdir() if p.is_dir())
    host, pid = socket.gethostname(), os.getpid()
    dead = [item / f".B02.tif.partial-{host}-{pid}-1-0123abcd.tif",  # its pid now runs another process
            copy / "truth" / f".truth.json.partial-{host}-{pid}-1-0123abcd.json"]
    alive = copy / f".catalog.json.partial-other-host-{pid}-1-0123abcd.json"  # cannot be asked: kept until old
    for path in (*dead, alive):
        path.write_bytes(b"half written")
    again = simulate_scenes(copy, **RUN)
    assert sum(again.written.values()) == 0 and again.skipped == summary.items
    assert not any(p.exists() for p in dead) and alive.exists()


def test_another_world_in_the_same_folder_is_refused(run):
    out, _ = run
    with pytest.raises(SimulationConflict, match="holds a simulated world .* made with other parameters"):
        simulate_scenes(out, **{**RUN, "seed": SEED + 1})
