import pytest
from odc.geo import geom

from flows.storage.grid import EEA_CRS, Cell, aligned_geobox, cells_covering, footprint
from products.errors import BadInputError


def test_cell_names_round_trip_with_lower_left_origin():
    cell = Cell.parse("100kmE38N22")
    assert cell.bounds == (3_800_000, 2_200_000, 3_900_000, 2_300_000)
    assert cell.name == "100kmE38N22"
    small = Cell.parse("10kmE385N227")
    assert small.bounds == (3_850_000, 2_270_000, 3_860_000, 2_280_000)
    assert Cell.containing(3_859_999, 2_270_000, size_m=10_000) == small


@pytest.mark.parametrize("bad", ["100kmE38", "5kmE1N2", "E38N22", ""])
def test_bad_cell_name_is_refused_with_an_example(bad):
    with pytest.raises(BadInputError, match="100kmE38N22"):
        Cell.parse(bad)


def test_cell_geobox_is_on_the_eea_grid():
    gbox = Cell.parse("10kmE400N244").geobox(20)
    assert gbox.crs == EEA_CRS
    assert gbox.shape == (500, 500)
    assert gbox.affine.c == 4_000_000 and gbox.affine.f == 2_450_000


def test_cells_covering_a_lonlat_box_across_6_degrees_east():
    area = geom.box(5.9, 44.95, 6.1, 45.05, crs="EPSG:4326")
    names = [c.name for c in cells_covering(area, size_m=100_000)]
    assert names == ["100kmE39N24", "100kmE40N24"]


def test_cells_covering_cells_apart_are_those_cells_not_the_ones_touching_them():
    apart = geom.unary_union([Cell.parse(name).geometry for name in ("100kmE40N24", "100kmE42N26")])
    assert [c.name for c in cells_covering(apart)] == ["100kmE40N24", "100kmE42N26"]
    corner = geom.box(4_000_000, 2_400_000, 4_050_000, 2_450_000, crs=EEA_CRS)  # inside one cell, on its corner
    assert [c.name for c in cells_covering(corner)] == ["100kmE40N24"]


def test_footprint_is_where_the_datasets_lie_within_the_area():
    from types import SimpleNamespace

    datasets = [SimpleNamespace(extent=geom.box(x, 2_400_000, x + 60_000, 2_460_000, crs=EEA_CRS))
                for x in (3_950_000, 4_030_000)]
    cell = Cell.parse("100kmE40N24").geometry
    assert footprint(datasets, within=cell).area == pytest.approx((10_000 + 60_000) * 60_000)
    assert footprint(datasets).area == pytest.approx(2 * 60_000 * 60_000)


def test_aligned_geobox_snaps_outwards_to_the_resolution():
    area = geom.box(4_000_011, 2_440_007, 4_000_051, 2_440_049, crs=EEA_CRS)
    gbox = aligned_geobox(area, resolution=20)
    x0, y0, x1, y1 = gbox.extent.boundingbox
    assert (x0, y0, x1, y1) == (4_000_000, 2_440_000, 4_000_060, 2_440_060)
