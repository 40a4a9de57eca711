import importlib.util
import warnings
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box

from flows.storage.reference import (
    ReferenceDataError,
    map_classes,
    rasterise_polygons,
    read_polygons,
    read_reference,
)
from products.landcover.nomenclature import (
    ClassMapping,
    UnmappedCodeError,
    load_mapping,
)


@pytest.fixture
def parcels(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "code_cultu": ["BTH", "MIS", "XXX", "SNE", "YYY", None],
            "code_group": ["1", "2", "4", "28", "99", "18"],
        },
        geometry=[box(857000 + i * 100, 6525000, 857080 + i * 100, 6525080) for i in range(6)],
        crs="EPSG:2154",
    )
    path = tmp_path / "rpg.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def test_crop_code_first_then_crop_group_then_reported_as_unmapped(parcels):
    with pytest.warns(UserWarning, match=r"1 polygon\(s\) have codes unknown .*YYY \(1 polygon\)"):
        ref = read_reference(parcels, mapping="rpg_code_cultu_to_oso23")
    assert ref.frame["class_code"].tolist() == [6, 10, 6, 13]
    assert ref.frame["polygon_id"].tolist() == [1, 2, 3, 4]
    assert ref.frame["source_code"].tolist() == ["BTH", "MIS", "4", "18"]
    assert dict(ref.excluded) == {"SNE": 1} and dict(ref.unmapped) == {"YYY": 1}
    assert ref.nomenclature == "oso23" and ref.polygon_classes() == {1: 6, 2: 10, 3: 6, 4: 13}
    assert "UNMAPPED" in ref.summary() and "YYY (1)" in ref.summary()


def test_unmapped_codes_can_raise_and_a_missing_column_is_named(parcels):
    with pytest.raises(UnmappedCodeError, match="YYY"):
        read_reference(parcels, mapping="rpg_code_cultu_to_oso23", on_unmapped="raise")
    with pytest.raises(ReferenceDataError, match="column 'CODE'"):
        read_reference(parcels, mapping="oso17_to_oso23", column="CODE")


def test_reprojection_to_the_requested_crs(parcels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = read_reference(parcels, mapping="rpg_code_cultu_to_oso23", crs="EPSG:3035")
    assert ref.frame.crs.to_epsg() == 3035
    x0, y0, *_ = ref.frame.total_bounds
    assert 3.9e6 < x0 < 4.0e6 and 2.4e6 < y0 < 2.6e6


def test_rasterised_polygon_ids_land_on_their_pixels():
    frame = gpd.GeoDataFrame({"polygon_id": [1, 2]}, geometry=[box(0, 0, 30, 20), box(50, 0, 60, 40)], crs="EPSG:3035")
    ids = rasterise_polygons(frame, shape=(4, 6), transform=Affine(10, 0, 0, 0, -10, 40))
    np.testing.assert_array_equal(ids, [[0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 2], [1, 1, 1, 0, 0, 2], [1, 1, 1, 0, 0, 2]])


def test_map_classes_counts_excluded_and_unmapped_separately():
    mapping = ClassMapping("m", "oso23", MappingProxyType({"a": 1, "b": None}), column="c")
    frame = gpd.GeoDataFrame({"c": ["a", "b", "b", "z", "a"]}, geometry=[box(0, 0, 1, 1)] * 5)
    codes, source, excluded, unmapped = map_classes(frame, mapping)
    assert codes.tolist()[0] == 1 and codes.isna().tolist() == [False, True, True, True, False]
    assert excluded == {"b": 2} and unmapped == {"z": 1}


def test_geoparquet_is_read_or_the_missing_dependency_is_named(tmp_path):
    frame = gpd.GeoDataFrame({"CODE": [31]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:2154")
    path = tmp_path / "ref.parquet"
    if importlib.util.find_spec("pyarrow") is None:
        path.write_bytes(b"PAR1")
        with pytest.raises(ImportError, match="pyarrow"):
            read_polygons(path)
    else:
        frame.to_parquet(path)
        ref = read_reference(path, mapping="oso17_to_oso23", column="CODE")
        assert ref.frame["class_code"].tolist() == [16]


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ReferenceDataError, match="does not exist"):
        read_reference(tmp_path / "none.gpkg", mapping=load_mapping("clc_to_oso23"))
