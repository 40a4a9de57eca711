"""eo3 documents outline their grid the way the index expects, so indexing is quiet and extents are exact."""

from __future__ import annotations

import warnings

import pystac
from itemfactory import edit_item, write_tiny_s2_item
from shapely.geometry import shape

from flows.storage.eo3 import RasterGrid, add_dataset
from flows.storage.sources.stac import item_to_eo3
from products.sensors import S2_L2A


def test_footprint_is_the_grid_outline_wound_counter_clockwise():
    grid = RasterGrid(crs="EPSG:3035", shape=(20, 30), transform=(10.0, 0.0, 4_000_000.0, 0.0, -10.0, 2_500_000.0))
    outline = shape(grid.footprint())
    assert outline.exterior.is_ccw
    assert outline.bounds == (4_000_000.0, 2_499_800.0, 4_000_300.0, 2_500_000.0)


def test_indexing_records_the_footprint_as_extent_without_winding_warnings(dc, tmp_path):
    item = write_tiny_s2_item(tmp_path, item_id="S2B_31TGL_20230715_0_L2A")  # a day no other test indexes
    doc, _ = item_to_eo3(pystac.Item.from_file(str(item)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert add_dataset(dc.index, doc, uri=item.as_uri())
    extent = dc.index.datasets.get(doc["id"]).extent
    assert extent.geom.equals(shape(doc["geometry"]))


def test_an_item_naming_its_assets_as_planetary_computer_does_gives_the_same_document(tmp_path):
    path = write_tiny_s2_item(tmp_path)
    earth_search, _ = item_to_eo3(pystac.Item.from_file(str(path)))

    def rename(doc):
        doc["assets"] = {S2_L2A.measurement(name).assets[1]: asset for name, asset in doc["assets"].items()}
    planetary, _ = item_to_eo3(pystac.Item.from_file(str(edit_item(path, rename))))
    assert "B8A" in pystac.Item.from_file(str(path)).assets
    assert planetary["measurements"] == earth_search["measurements"]
    assert planetary["grids"] == earth_search["grids"]
