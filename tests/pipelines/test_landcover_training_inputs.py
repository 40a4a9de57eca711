"""The training flow's reference files, checked before any image is read: one file per year or a year column,
the mapping found from the columns, any CRS, and bad files refused in one line naming the file and the cause."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from flows.pipelines.landcover.inputs import LandCoverInputError
from flows.pipelines.landcover.train import TrainingOptions, _reference, training_request
from products.errors import BadInputError
from products.landcover.nomenclature import mapping_for_columns

X0, Y0 = 4_000_000, 2_500_000  # EPSG:3035


def _parcels(path, codes, *, column="code", crs="EPSG:3035", **columns):
    frame = gpd.GeoDataFrame({column: codes, **columns},
                             geometry=[box(X0 + 100 * i, Y0, X0 + 100 * i + 90, Y0 + 90) for i in range(len(codes))],
                             crs="EPSG:3035").to_crs(crs)
    frame.to_file(path)
    return str(path)


def _request(reference, years=(2022, 2023), **options):
    return training_request(reference=reference, years=list(years), cells=None, bbox=None, key_date=None,
                            options=TrainingOptions(**options))


def test_the_mapping_is_found_from_the_columns_when_one_mapping_reads_them():
    assert mapping_for_columns(["ID_PARCEL", "CODE_CULTU", "CODE_GROUP"]) == "rpg_code_cultu_to_oso23"
    assert mapping_for_columns(["parcel", "oso23"]) == "oso23_codes"
    assert mapping_for_columns(["CODE_18", "area"]) == "clc_to_oso23"
    with pytest.raises(BadInputError, match="no class column a shipped mapping reads"):
        mapping_for_columns(["id", "crop"])
    with pytest.raises(BadInputError, match="several mappings.*code_18: clc_to_oso23"):
        mapping_for_columns(["code_cultu", "code_18"])


def test_one_file_per_year_each_read_for_its_year_and_any_crs_reprojected(tmp_path):
    a = _parcels(tmp_path / "rpg2022.gpkg", ["BTH", "MIS", "MIS"], column="CODE_CULTU")
    b = _parcels(tmp_path / "rpg2023.gpkg", ["MIS", "TRN"], column="CODE_CULTU", crs="EPSG:2154")  # Lambert-93
    request = _request([a, b])
    assert request.mapping == "rpg_code_cultu_to_oso23" and request.reference_years == (2022, 2023)
    first, second = _reference(request, 2022), _reference(request, 2023)
    assert first.frame.class_code.tolist() == [6, 10, 10] and second.frame.class_code.tolist() == [10, 9]
    assert second.frame.crs == "EPSG:3035"
    assert second.frame.total_bounds == pytest.approx([X0, Y0, X0 + 190, Y0 + 90], abs=0.01)
    with pytest.raises(LandCoverInputError, match="2 reference files for 3 training year"):
        _request([a, b], years=(2021, 2022, 2023))


def test_files_with_a_year_column_are_read_together(tmp_path):
    a = _parcels(tmp_path / "a.gpkg", [5, 6], year=[2022, 2023])
    b = _parcels(tmp_path / "b.gpkg", [10, 23], year=[2022, 2022])
    request = _request([a, b], year_column="year")
    assert request.mapping == "oso23_codes" and request.reference_years == ()
    ref = _reference(request, 2022)
    assert sorted(ref.frame.class_code) == [5, 10, 23] and sorted(ref.frame.polygon_id) == [1, 2, 3]


def test_a_missing_column_or_an_empty_geometry_is_refused_with_its_name(tmp_path):
    parcels = _parcels(tmp_path / "parcels.gpkg", ["BTH", "MIS"], column="CODE_CULTU")
    with pytest.raises(LandCoverInputError, match="parcels.gpkg has no class column 'code' for mapping 'oso23_codes'"):
        _request(parcels, mapping="oso23_codes")
    with pytest.raises(LandCoverInputError, match="parcels.gpkg has no year column 'annee'"):
        _request(parcels, year_column="annee")
    holes = gpd.GeoDataFrame({"code": [5, 6]}, geometry=[box(X0, Y0, X0 + 90, Y0 + 90), Polygon()], crs="EPSG:3035")
    holes.to_file(tmp_path / "holes.gpkg")
    with pytest.raises(LandCoverInputError, match=r"holes.gpkg: 1 polygon\(s\) with an empty geometry \(rows 1\)"):
        _request(str(tmp_path / "holes.gpkg"))


def test_the_december_key_date_is_the_yearly_training_where_its_labels_are_the_same():
    from flows.pipelines.landcover.train import same_as_yearly, serves_key_date

    assert same_as_yearly("december", "oso23_codes") and same_as_yearly("december", "rpg_code_cultu_to_oso23")
    assert not same_as_yearly("july", "oso23_codes") and not same_as_yearly("december", "oso23_to_oso17")
    yearly = {"snowland:key_date": "yearly", "snowland:nomenclature": "oso23"}
    assert serves_key_date(yearly, "december") and not serves_key_date(yearly, "july")
    assert not serves_key_date({**yearly, "snowland:nomenclature": "oso17"}, "december")


def test_a_resolution_other_than_10_or_20_m_is_refused_before_anything_starts(tmp_path):
    parcels = _parcels(tmp_path / "parcels.gpkg", [5, 6])
    assert _request(parcels).resolution_m == 10.0 and _request(parcels, resolution_m=20).resolution_m == 20.0
    with pytest.raises(BadInputError, match="resolution_m: 15 m is not a land-cover resolution; use one of 10, 20"):
        _request(parcels, resolution_m=15)
