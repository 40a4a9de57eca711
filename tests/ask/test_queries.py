"""Ad-hoc queries (flows.ask.queries and `snowland query`) on products written into the real index.

The snow_cover, snow_season and land_cover datasets are the small SIMULATED products with known pixels of
tests/queryproducts.py (the ``query_products`` fixture). Expected areas are counted on the arrays written, not
with the query code.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from odc.geo import geom
from queryproducts import LAND_COVER_YEAR, PIXEL_KM2, SEASON_YEAR, SIDE, SNOW_DAYS, X0, Y1

from flows.storage.grid import EEA_CRS


def _box(col0: int, row0: int, col1: int, row1: int) -> geom.Geometry:
    """A box on pixel edges of the module's grid (columns and rows, end excluded)."""
    return geom.box(X0 + col0 * 20, Y1 - row1 * 20, X0 + col1 * 20, Y1 - row0 * 20, crs=EEA_CRS)


def test_snow_area_counts_each_code_and_the_areas_add_up_to_the_area(query_products):
    from flows.ask.queries import covered_km2, snow_area

    table = snow_area(_box(10, 20, 190, 120), time=("2023-01-01", "2023-01-31"))
    assert list(table.date.dt.strftime("%Y-%m-%d")) == list(SNOW_DAYS)
    for row, codes in zip(table.itertuples(), query_products.snow.values()):
        window = codes[20:120, 10:190]
        assert row.snow_km2 == pytest.approx((window == 100).sum() * PIXEL_KM2)
        assert row.cloud_km2 == pytest.approx((window == 205).sum() * PIXEL_KM2)
        assert row.no_data_km2 == pytest.approx((window == 255).sum() * PIXEL_KM2)
        assert row.snow_km2 + row.no_snow_km2 + row.cloud_km2 + row.no_data_km2 == pytest.approx(row.area_km2)
        assert row.area_km2 == pytest.approx(180 * 100 * PIXEL_KM2)
    assert table.zs.iloc[0] == 1500.0 and np.isnan(table.zs.iloc[1]), "zs -1000 (no snow line) is NaN"
    assert covered_km2(table) == pytest.approx((180 * 100 - (query_products.snow["2023-01-10"][20:120, 10:190] == 255)
                                                .sum()) * PIXEL_KM2)
    assert list(table.platform) == ["sentinel-2a", "landsat-8"]


def test_snow_area_over_a_place_name_or_a_box_in_degrees_and_one_sensor(query_products):
    from flows.ask.queries import snow_area

    by_name = snow_area("Taillefer", time=("2023-01-01", "2023-01-31"), resolution=20)
    whole = [(c == 100).sum() * PIXEL_KM2 for c in query_products.snow.values()]
    assert list(by_name.snow_km2) == pytest.approx(whole), "the massif covers all the product"
    assert (by_name.area_km2 > SIDE * SIDE * PIXEL_KM2).all()
    added = by_name.snow_km2 + by_name.no_snow_km2 + by_name.cloud_km2 + by_name.no_data_km2
    assert list(added) == pytest.approx(list(by_name.area_km2))
    in_degrees = snow_area((5.98, 44.99, 6.0, 45.01), time=("2023-01-01", "2023-01-31"), sensors=["l8"])
    assert list(in_degrees.sensor) == ["l8"]


def test_a_period_or_year_without_product_gives_an_empty_table(query_products):
    from flows.ask.queries import land_cover_areas, snow_area, snow_season_figures

    area = _box(0, 0, 100, 100)
    for table in (snow_area(area, time=("2019-01-01", "2019-03-31")), snow_season_figures(area, year=2015),
                  land_cover_areas(area, year=2015)):
        assert isinstance(table, pd.DataFrame) and table.empty and len(table.columns) > 3


def test_snow_season_figures_over_the_valid_pixels(query_products):
    from flows.ask.queries import snow_season_figures

    table = snow_season_figures(_box(0, 0, 100, 200), year=SEASON_YEAR).set_index("band")
    for band, values in query_products.season.items():
        window = values[:, :100]
        valid = window[window != 65535].astype(float)
        assert table.loc[band, "mean"] == pytest.approx(valid.mean())
        assert table.loc[band, "median"] == pytest.approx(np.median(valid))
        assert table.loc[band, "valid_km2"] == pytest.approx(valid.size * PIXEL_KM2)
    assert table.loc["scd", "area_km2"] == pytest.approx(100 * 200 * PIXEL_KM2)


def test_land_cover_areas_per_polygon_add_up_to_each_polygon(query_products, tmp_path):
    import geopandas as gpd

    from flows.ask.queries import land_cover_areas

    boxes = {"north": (0, 0, 100, 100), "south": (60, 100, 200, 200), "edge": (150, 150, 200, 200)}
    frame = gpd.GeoDataFrame({"parcel": list(boxes)}, geometry=[_box(*b).geom for b in boxes.values()], crs="EPSG:3035")
    frame.to_crs("EPSG:4326").to_file(tmp_path / "parcels.geojson", driver="GeoJSON")
    frame.to_file(tmp_path / "parcels.gpkg", driver="GPKG")
    table = land_cover_areas(tmp_path / "parcels.gpkg", year=LAND_COVER_YEAR, by="parcel", png=tmp_path / "lc.png")
    for name, (c0, r0, c1, r1) in boxes.items():
        mine = table[table.polygon == name]
        window = query_products.classes[r0:r1, c0:c1]
        assert mine.km2.sum() == pytest.approx(window.size * PIXEL_KM2)
        assert mine.percent.sum() == pytest.approx(100.0)
        expected = {int(c): n * PIXEL_KM2 for c, n in zip(*np.unique(window, return_counts=True))}
        assert dict(zip(mine.code, mine.km2)) == pytest.approx(expected), (name, mine, expected)
    names = dict(zip(table.code, table["class"]))
    assert names[13] == "meadows" and names[0] == "no data"
    assert (tmp_path / "lc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    in_degrees = land_cover_areas(tmp_path / "parcels.geojson", year=LAND_COVER_YEAR, by="parcel")
    assert in_degrees.groupby("polygon").km2.sum().to_dict() == pytest.approx(
        table.groupby("polygon").km2.sum().to_dict(), rel=0.02), "the same parcels in degrees"


def test_query_command_writes_csv_json_and_a_plot_on_a_dask_cluster(query_products, tmp_path, capsys):
    from flows.cli import main

    out = tmp_path / "snow"
    code = main(["query", "snow-area", "--bbox", "5.97", "44.98", "6.01", "45.02", "--time", "2023-01-01",
                 "2023-01-31", "--csv", f"{out}.csv", "--json", f"{out}.json", "--png", f"{out}.png", "--dask"])
    assert code == 0
    table = pd.read_csv(f"{out}.csv")
    assert len(table) == 2 and (table.snow_km2 > 0).all()
    assert len(json.loads((tmp_path / "snow.json").read_text())) == 2
    assert (tmp_path / "snow.png").stat().st_size > 10_000
    share = [line for line in capsys.readouterr().out.splitlines() if line.startswith("data over ")]
    covered = SIDE * (SIDE - 20) * PIXEL_KM2  # the module's square but its no-data strip, at most
    assert len(share) == 1 and float(share[0].split()[2]) <= covered + 0.01 and " km² area (" in share[0], share
    assert main(["query", "land-cover", "--place", "Taillefer", "--year", "2015"]) == 0
    assert "empty table" in capsys.readouterr().out


def test_an_unknown_or_misspelled_place_is_refused_with_a_suggestion(query_products):
    from flows.ask.queries import snow_area
    from flows.storage.index import CubeError

    with pytest.raises(CubeError, match="did you mean 'Taillefer'"):
        snow_area("Tailefer", time=("2023-01-01", "2023-01-31"))
    with pytest.raises(CubeError, match="no place"):
        snow_area("Qwxyzzz", time=("2023-01-01", "2023-01-31"))
