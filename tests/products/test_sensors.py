"""The sensor table holds together, and every input product's ODC definition says what the table says."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from products import sensors
from products.errors import BadInputError
from products.sensors import Measurement, PixelSet, Sensor

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = {
    doc["name"]: doc
    for doc in (yaml.safe_load(p.read_text()) for p in sorted(ROOT.glob("products/*/*.odc-product.yaml")))
}
INPUT_PRODUCTS = tuple(dict.fromkeys(s.product for s in sensors.SENSORS))


def declaration(measurement: Measurement) -> dict:
    """The ODC measurement entry the table implies."""
    enc = measurement.encoding
    entry = {"name": measurement.name, "aliases": list(measurement.aliases), "dtype": enc.dtype, "nodata": enc.nodata,
             "units": enc.units}
    if enc.scale_factor is not None:
        entry["scale_factor"] = enc.scale_factor
    if enc.add_offset is not None:
        entry["add_offset"] = enc.add_offset
    if measurement.flags:
        entry["flags_definition"] = {
            f.name: {"bits": f.bits[0] if len(f.bits) == 1 else list(f.bits), "description": f.description,
                     "values": dict(f.values)}
            for f in measurement.flags
        }
    return entry


def disagreements(definition: dict, variants: tuple[Sensor, ...]) -> list[str]:
    """Where an ODC product definition and the table's sensors of that product differ, one line each."""
    primary, *others = variants
    found = []
    declared = {m["name"]: m for m in definition["measurements"]}
    if list(declared) != [m.name for m in primary.measurements]:
        found.append(f"measurements {list(declared)} != table {[m.name for m in primary.measurements]}")
    for sensor in variants:
        for measurement in sensor.measurements:
            entry = declared.get(measurement.name)
            if entry is None:
                found.append(f"{sensor.code}: {measurement.name} is not declared")
                continue
            expected = declaration(measurement)
            for key in sorted(set(entry) | set(expected)):
                if entry.get(key) != expected.get(key):
                    found.append(f"{sensor.code} {measurement.name}.{key}: yaml {entry.get(key)!r} "
                                 f"!= table {expected.get(key)!r}")
    resolution = definition["load"]["resolution"]
    for sensor in variants:
        if (resolution["x"], -resolution["y"]) != (sensor.resolution, sensor.resolution):
            found.append(f"{sensor.code}: load resolution {resolution} != table {sensor.resolution}")
    return found


@pytest.mark.parametrize("product", INPUT_PRODUCTS)
def test_product_definition_declares_what_the_table_says(product):
    assert product in DEFINITIONS, f"no products/*/*.odc-product.yaml defines {product}"
    assert disagreements(DEFINITIONS[product], sensors.variants(product)) == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m[0]["aliases"].append("B2"),
        lambda m: m[1].update(nodata=1),
        lambda m: m[2].update(scale_factor=0.001),
        lambda m: m[-1]["flags_definition"]["scl"]["values"].update({11: "snow"}),
        lambda m: m.pop(3),
    ],
    ids=["alias", "nodata", "scale", "class-name", "missing-band"],
)
def test_a_definition_that_strays_from_the_table_is_caught(edit):
    definition = copy.deepcopy(DEFINITIONS["s2_l2a"])
    edit(definition["measurements"])
    assert disagreements(definition, sensors.variants("s2_l2a"))


def test_theia_variants_fill_one_declaration_from_two_instruments():
    s2, landsat = sensors.variants("theia_l2a")
    assert {s2.instrument, landsat.instrument} == {"msi", "oli"}
    assert set(landsat.reflectance) < set(s2.reflectance)
    assert landsat.role("nir").file == "FRE_B5" and s2.role("nir").file == "FRE_B8"
    assert landsat.measurement("clm").file.endswith("_XS") and s2.measurement("clm").file.endswith("_R2")


def test_snow_and_land_cover_scl_sets_differ_only_by_no_data_and_saturation():
    scl = sensors.SCL
    assert set(scl.codes("invalid")) - set(scl.codes("all_cloud")) == {scl.value("no_data"),
                                                                       scl.value("saturated_or_defective")}
    assert scl.value("snow_ice") not in scl.codes("invalid"), "snow is a land-cover observation"


def test_bit_coded_sets_are_bit_masks_of_their_flags():
    qa = sensors.QA_PIXEL
    assert qa.bitmask("high_cloud") == 1 << qa.flag("cirrus").bits[0]
    assert qa.bitmask("invalid") == qa.bitmask("all_cloud") | qa.bitmask("nodata")
    assert sensors.THEIA_L2A.measurement("clm").bitmask("all_cloud") == 0xFF, "LIS: CLM > 0"


def test_a_pixel_set_naming_an_unknown_class_is_refused():
    with pytest.raises(ValueError, match="snow_ice_cream"):
        replace(sensors.SCL, sets=(PixelSet(name="x", members=("snow_ice_cream",), why="typo"),))


def test_each_job_needs_bands_by_role_and_a_sensor_without_one_is_refused():
    assert sensors.needs("snow", sensors.S2_L2A) == ("green", "red", "swir16", "scl")
    assert sensors.needs("snow", sensors.LANDSAT_C2L2)[-1] == "qa_pixel"
    land_cover = sensors.needs("land_cover", sensors.THEIA_L8_N2A)
    assert land_cover[:7] == sensors.THEIA_L8_N2A.reflectance and "valid" in land_cover
    no_swir = replace(sensors.S2_L2A, measurements=tuple(m for m in sensors.S2_L2A.measurements if m.name != "swir16"))
    with pytest.raises(BadInputError, match="no swir16 band"):
        sensors.needs("snow", no_swir)


def test_lookups_by_product_collection_and_platform_spelling():
    assert sensors.by_collection("sentinel-2-c1-l2a") is sensors.S2_L2A
    assert sensors.platform("SENTINEL2C") == "sentinel-2c" and sensors.platform("LANDSAT_9") == "landsat-9"
    assert [s.product for s in sensors.by_platform("Landsat-9")] == ["landsat_c2l2", "theia_l2a"]
    assert sensors.products("sentinel-2") == ("s2_l2a", "theia_l2a")
    with pytest.raises(BadInputError, match="modis"):
        sensors.by_collection("modis-10a1")
    with pytest.raises(BadInputError, match="spot-5"):
        sensors.platform("spot-5")


def test_asset_aliases_name_each_band_once_per_product():
    for sensor in sensors.SENSORS:
        keys = [k for m in sensor.measurements for k in m.assets]
        assert len(keys) == len(set(keys)), f"{sensor.product}: an asset key names two measurements"
