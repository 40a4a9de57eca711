"""The sun's azimuth and elevation travel from each source into the indexed dataset, where the snow flow reads
them for the relief shadow: STAC ``view:sun_*`` (Earth Search), STAC 0.7 ``eo:sun_*`` (USGS), MAJA's MTD_ALL.xml."""

from __future__ import annotations

import pystac
import pytest
from realsamples import THEIA_L8, landsat_item, s2_item
from test_index_theia_maja import NAME, write_maja_folder

from flows.storage import properties as prop
from flows.storage.sources.stac import item_to_eo3
from flows.storage.sources.theia import sun_angles, theia_to_eo3

MTD_ALL = """<?xml version="1.0" encoding="UTF-8"?>
<Muscate_Metadata_Document>
  <Geometric_Informations>
    <Mean_Value_List>
      <Sun_Angles>
        <ZENITH_ANGLE unit="deg">66.8421</ZENITH_ANGLE>
        <AZIMUTH_ANGLE unit="deg">162.377</AZIMUTH_ANGLE>
      </Sun_Angles>
    </Mean_Value_List>
  </Geometric_Informations>
</Muscate_Metadata_Document>
"""


def _angles(doc):
    p = doc["properties"]
    return p.get(prop.SUN_AZIMUTH), p.get(prop.SUN_ELEVATION)


def test_the_real_earth_search_item_gives_its_view_sun_angles(real_data, tmp_path):
    doc, _ = item_to_eo3(pystac.Item.from_file(str(s2_item(real_data, tmp_path))), grid_from="file")
    assert _angles(doc) == pytest.approx((147.671041914385, 48.293248430895))


def test_the_real_usgs_landsat_item_of_stac_0_7_gives_its_eo_sun_angles(real_data, tmp_path):
    doc, _ = item_to_eo3(pystac.Item.from_file(str(landsat_item(real_data, tmp_path))), grid_from="file")
    assert _angles(doc) == pytest.approx((118.08241478, 64.45083205))  # SUN_AZIMUTH / SUN_ELEVATION of its MTL


def test_a_maja_product_gives_the_mean_sun_angles_of_its_metadata(tmp_path):
    folder = write_maja_folder(tmp_path)
    (folder / f"{NAME}_MTD_ALL.xml").write_text(MTD_ALL)
    doc, _ = theia_to_eo3(folder)
    assert _angles(doc) == pytest.approx((162.377, 90 - 66.8421))


def test_theia_products_without_sun_angles_are_indexed_without_them(real_data, tmp_path):
    folder = write_maja_folder(tmp_path)
    assert _angles(theia_to_eo3(folder)[0]) == (None, None)  # no metadata file
    real_mtd = next((real_data / "iota2/data/references/CoRegister").rglob("*_MTD_ALL.xml"))
    assert sun_angles(real_mtd.parent) == {}, "this real MTD_ALL.xml is a cut copy: not even well-formed XML"
    n2a = next(p for p in (real_data / THEIA_L8).rglob("*_N2A_*") if p.is_dir())
    assert _angles(theia_to_eo3(n2a)[0]) == (None, None)  # MACCS N2A folders carry no sun angles
