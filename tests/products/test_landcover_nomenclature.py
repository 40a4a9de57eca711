import numpy as np
import pytest
import xarray as xr

from products.errors import BadInputError
from products.landcover.nomenclature import (
    UnknownClassError,
    UnmappedCodeError,
    available,
    level1,
    level_mapping,
    load_mapping,
    load_nomenclature,
    members_mapping,
    merge,
    remap,
    to_level,
)

OSO23 = tuple(range(1, 24))
OSO17 = (11, 12, 31, 32, 34, 36, 41, 42, 43, 44, 45, 46, 51, 53, 211, 221, 222)


def test_oso_nomenclatures_have_the_published_codes_and_groups():
    oso23, oso17 = load_nomenclature("oso23"), load_nomenclature("oso17")
    assert oso23.codes == OSO23 and tuple(sorted(oso17.codes)) == OSO17
    assert oso23.name_of(10) == "maize" and oso17.name_of(222) == "vineyards"
    assert all(c.startswith("#") and len(c) == 7 for c in oso23.colours)
    assert {oso23.group_of(c) for c in (1, 2, 3, 4)} == {100} and oso23.group_of(13) == 120 and oso23.group_of(23) == 170
    assert set(oso23.groups) == {100, 110, 120, 130, 140, 150, 160, 170}


def test_level1_groups_cover_every_class_once():
    groups = level1("oso23")
    assert groups.codes == (100, 110, 120, 130, 140, 150, 160, 170) and groups.name_of(130) == "forest"
    assert sorted(m for ms in groups.members for m in ms) == list(OSO23)
    np.testing.assert_array_equal(to_level(np.array([5, 16, 23]), groups), [110, 130, 170])


@pytest.mark.parametrize("level", ["nrt_march", "nrt_july"])
def test_key_date_levels_merge_every_oso23_class_exactly_once(level):
    nom = load_nomenclature(level)
    members = [m for ms in nom.members for m in ms]
    assert sorted(members) == list(OSO23) and nom.parent == "oso23"


def test_march_is_coarser_than_july_which_is_coarser_than_december():
    sizes = [len(load_nomenclature(n)) for n in ("nrt_march", "nrt_july", "oso23")]
    assert sizes[0] < sizes[1] < sizes[2] == 23
    labels = np.array([[5, 6, 7], [8, 10, 1]])
    np.testing.assert_array_equal(to_level(labels, "nrt_march"), [[111, 111, 111], [112, 112, 100]])
    np.testing.assert_array_equal(to_level(labels, "nrt_july"), [[5, 6, 7], [112, 10, 1]])


@pytest.mark.parametrize("level", ["nrt_march", "nrt_july", "oso23"])
def test_a_key_date_class_of_one_oso23_class_keeps_its_oso23_code_and_its_members_translate_a_reference(level):
    nom = load_nomenclature(level)
    members = nom.class_members()
    assert nom.base == "oso23" and sorted(m for ms in members.values() for m in ms) == list(OSO23)
    assert all(code == ms[0] for code, ms in members.items() if len(ms) == 1)
    assert all(code not in OSO23 for code, ms in members.items() if len(ms) > 1)  # a group never reads as a class
    recorded = {str(c): list(ms) for c, ms in members.items()}  # as a dataset's metadata keeps them
    table = members_mapping(recorded, base="oso23", target=level)
    np.testing.assert_array_equal(remap(np.array(OSO23), table), to_level(np.array(OSO23), level)
                                  if level != "oso23" else OSO23)


def test_july_keeps_maize_apart_from_the_rarer_summer_crops():
    july = load_nomenclature("nrt_july")
    assert july.class_members()[10] == (10,) and july.name_of(10) == "maize"
    assert july.class_members()[112] == (8, 9, 11, 12)


def test_merge_builds_a_level_with_dropped_classes_going_to_nodata():
    oso23 = load_nomenclature("oso23")
    merged = merge(oso23, {14: [14, 15], 19: [18, 19]}, drop=[4], names={14: "perennial woody crops"})
    assert 15 not in merged.codes and 4 not in merged.codes and merged.name_of(14) == "perennial woody crops"
    assert merged.name_of(19) == "grassland+woody moorland" and len(merged) == 23 - 3
    np.testing.assert_array_equal(to_level(np.array([15, 18, 4, 0, 9]), merged), [14, 19, 0, 0, 9])
    with pytest.raises(UnknownClassError, match="not in nomenclature"):
        merge(oso23, {99: [98]})


def test_reference_mappings_merge_moors_orchards_water_and_drop_mixed_forest():
    clc = load_mapping("clc_to_oso23")
    assert clc.lookup(322) == clc.lookup(324) == 19
    assert clc.lookup(222) == clc.lookup(223) == 14
    assert clc.lookup(512) == clc.lookup(523) == 23
    assert clc.lookup(313) is None and clc.knows("313")
    rpg_groups = load_mapping("rpg_code_group_to_oso23")
    assert {rpg_groups.lookup(g) for g in ("20", "22", "23", "27")} == {14}
    assert load_mapping("bdtopo_vegetation_to_oso23").lookup("Forêt fermée mixte") is None


def test_oso17_and_oso23_correspond():
    up, down = load_mapping("oso17_to_oso23"), load_mapping("oso23_to_oso17")
    assert sorted(int(k) for k in up.table) == sorted(OSO17)
    assert sorted(int(k) for k in down.table) == list(OSO23)
    for code17, code23 in up.as_dict().items():
        if code23 is not None:
            assert down.lookup(code23) == code17
    assert up.lookup(11) is None and up.lookup(12) is None
    np.testing.assert_array_equal(remap(np.array([10, 6, 16]), down), [11, 12, 31])


def test_remap_raises_on_unknown_codes_or_sends_them_to_nodata():
    mapping = load_mapping("oso23_to_oso17")
    with pytest.raises(UnmappedCodeError, match="99"):
        remap(np.array([1, 99]), mapping)
    np.testing.assert_array_equal(remap(np.array([1, 99, 0]), mapping, unmapped="nodata"), [41, 0, 0])


def test_remap_on_a_dask_dataarray_stays_lazy():
    labels = xr.DataArray(np.array([[5, 6], [8, 23]]), dims=("y", "x")).chunk({"y": 1})
    out = remap(labels, level_mapping("nrt_march"))
    assert out.chunks is not None
    np.testing.assert_array_equal(out.values, [[111, 111], [112, 23]])


def test_unknown_names_list_what_is_shipped():
    assert {"oso17", "oso23", "nrt_march", "nrt_july"} <= set(available())
    with pytest.raises(BadInputError, match="shipped: .*oso23"):
        load_nomenclature("oso99")
