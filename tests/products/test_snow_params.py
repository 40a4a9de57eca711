"""SnowParams / SynthesisParams: published defaults, validation, and reading parameter files."""

import json

import numpy as np
import pytest

from products.errors import BadInputError
from products.snow.params import FSC_LINEAR, FSC_TANH, SnowParams, SynthesisParams


def test_defaults_are_the_published_lis_values_as_reflectance():
    params = SnowParams()
    assert (params.ndsi_pass1, params.red_pass1, params.ndsi_pass2, params.red_pass2) == (0.40, 0.20, 0.15, 0.04)
    assert (params.dz, params.fsnow_lim, params.fclear_lim, params.fsnow_total_lim) == (100.0, 0.10, 0.10, 0.001)
    assert (params.rf, params.red_darkcloud, params.red_backtocloud) == (12, 0.30, 0.10)
    assert params.strict_cloud_mask is False
    assert params.fscToc_Eq == FSC_TANH


def test_unknown_keys_raise_a_bad_input_error_naming_them():
    with pytest.raises(BadInputError, match=r"ndsi_pass3.*red_pas1|red_pas1.*ndsi_pass3"):
        SnowParams.from_mapping({"ndsi_pass1": 0.4, "ndsi_pass3": 0.1, "red_pas1": 0.2})


def test_a_lis_config_value_in_reflectance_x_1000_is_refused_with_its_conversion():
    with pytest.raises(BadInputError, match=r"red_pass1=200.*0\.2"):
        SnowParams(red_pass1=200)


@pytest.mark.parametrize(("changes", "said"), [
    ({"fsnow_lim": 1.5}, "fsnow_lim=1.5 must be a fraction"), ({"dz": 0}, "dz=0.0 must be a positive height"),
    ({"rf": 0}, "rf=0 must be at least 1"), ({"rf": 2.5}, "rf=2.5 must be a whole number"),
    ({"ndsi_pass1": 2}, r"ndsi_pass1=2.0 must be an NDSI in \[-1, 1\]"),
])
def test_out_of_range_values_are_refused(changes, said):
    with pytest.raises(BadInputError, match=said):
        SnowParams(**changes)


def test_strict_cloud_mask_must_be_a_real_boolean():
    with pytest.raises(BadInputError, match="strict_cloud_mask"):
        SnowParams(strict_cloud_mask="false")


def test_numpy_numbers_become_python_numbers_so_thresholds_stay_weakly_typed():
    params = SnowParams(red_pass1=np.float64(0.2), rf=np.int64(8))
    assert type(params.red_pass1) is float and type(params.rf) is int


def test_an_fsc_formula_outside_plain_arithmetic_is_refused():
    with pytest.raises(BadInputError, match="not allowed"):
        SnowParams(fscToc_Eq="__import__('os').getcwd() + ndsi")
    with pytest.raises(BadInputError, match="ndsi"):
        SnowParams(fscToc_Eq="0.5")


def test_from_yaml_file(tmp_path):
    path = tmp_path / "snow.yaml"
    path.write_text(f"ndsi_pass1: 0.45\nrf: 8\nstrict_cloud_mask: true\nfscToc_Eq: '{FSC_LINEAR}'\n")
    params = SnowParams.from_file(path)
    assert (params.ndsi_pass1, params.rf, params.strict_cloud_mask, params.fscToc_Eq) == (0.45, 8, True, FSC_LINEAR)


def test_from_json_file_round_trips_to_dict(tmp_path):
    original = SnowParams(dz=50, water_mask_raster_values=(1, 2))
    path = tmp_path / "snow.json"
    path.write_text(json.dumps(original.to_dict()))
    assert SnowParams.from_file(path) == original


def test_from_file_refuses_other_suffixes(tmp_path):
    path = tmp_path / "snow.toml"
    path.write_text("rf = 8")
    with pytest.raises(BadInputError, match="yaml"):
        SnowParams.from_file(path)


def test_from_file_names_the_file_it_cannot_parse(tmp_path):
    path = tmp_path / "snow.yaml"
    path.write_text("ndsi_pass1: [0.4\n")
    with pytest.raises(BadInputError, match="snow.yaml: not a readable YAML file"):
        SnowParams.from_file(path)


def test_rf_per_sensor_and_per_pixel_size_reach_240_m():
    assert SnowParams.for_sensor("sentinel-2").rf == 12
    assert SnowParams.for_sensor("Landsat-8").rf == 8
    assert SnowParams.for_pixel_size(20).rf == 12
    assert SnowParams.for_pixel_size(30, dz=50).rf == 8
    with pytest.raises(BadInputError, match="sensor"):
        SnowParams.for_sensor("modis")


def test_synthesis_defaults_and_unknown_keys():
    assert SynthesisParams() == SynthesisParams(min_snow_days=10, margin_days=15)
    with pytest.raises(BadInputError, match="min_days"):
        SynthesisParams.from_mapping({"min_days": 3})
