"""The names of snowland's own properties (``snowland:*``) in eo3 documents and STAC items.

Every writer and every reader of one of these properties takes its name from here, so that a name is spelled once
and a reader cannot ask for a key no writer writes.
"""

from __future__ import annotations

# any dataset
SIMULATED = "snowland:simulated"  # made from (or by) the simulator, never from real scenes
METHOD = "snowland:method"
METHOD_VERSION = "snowland:method_version"
PARAMETERS = "snowland:parameters"

# indexed sources (and snow_cover: the mean of its sources'); STAC's names, read by the snow flow
SUN_AZIMUTH = "view:sun_azimuth"  # degrees clockwise from north
SUN_ELEVATION = "view:sun_elevation"  # degrees above the horizon
STAC_0_7_SUN = {"eo:sun_azimuth": SUN_AZIMUTH, "eo:sun_elevation": SUN_ELEVATION}  # USGS items of STAC 0.7

# indexed sources
BOA_ADD_OFFSET = "snowland:boa_add_offset"  # DN offset to add before scaling (Sentinel-2 baseline >= 04.00)
BOA_OFFSET_REASON = "snowland:boa_offset_reason"
STAC_COLLECTION = "snowland:stac_collection"
STAC_ID = "snowland:stac_id"
SOURCE_FILE = "snowland:source_file"
SOURCE_FOLDER = "snowland:source_folder"
ABSENT_MEASUREMENTS = "snowland:absent_measurements"  # product measurements a partial item lacks (eo3 has the rest)
WORLD = "snowland:world"  # the simulated world's fingerprint
SEED = "snowland:seed"

# snow_cover
SENSOR = "snowland:sensor"
PLATFORMS = "snowland:platforms"
ZS = "snowland:zs"
PASS2_RUN = "snowland:pass2_run"
FSC_VALIDATED = "snowland:fsc_validated"
TCD_USED = "snowland:tcd_used"
SNOW_PERCENT = "snowland:snow_percent"
CLOUD_PERCENT = "snowland:cloud_percent"
SHADED_SNOW = "snowland:shaded_snow"  # whether LIS's shaded-snow test ran on the unit
SHADED_SNOW_REASON = "snowland:shaded_snow_reason"  # why it did not (switched off, no sun angles, no blue/NIR ...)

# snow_season
HYDROLOGICAL_YEAR = "snowland:hydrological_year"
MISSION = "snowland:mission"
INPUTS = "snowland:inputs"

# snow_daily
WINDOW_DAYS = "snowland:window_days"
OBSERVED_PERCENT = "snowland:observed_percent"  # of the data pixels, with a clear observation in the window
NO_SCENE_REASON = "snowland:no_scene_reason"  # why no pixel has an observation (no snow_cover in the window)
REFUSED = "snowland:refused"  # snow_cover ids left out, with the reason (a grid that differs from the cell's)

# land_cover, land_cover_nrt
NOMENCLATURE = "snowland:nomenclature"
BASE_NOMENCLATURE = "snowland:base_nomenclature"  # the nomenclature the classes group (oso23)
CLASS_MEMBERS = "snowland:class_members"  # {class code: [its codes in BASE_NOMENCLATURE]}
YEAR = "snowland:year"
KEY_DATE = "snowland:key_date"
LEVEL = "snowland:level"
MODEL_ID = "snowland:model_id"
MODEL_YEARS = "snowland:model_years"
CLASSIFIER = "snowland:classifier"
SOURCE_PRODUCT = "snowland:source_product"
ACQUISITIONS = "snowland:acquisitions"
MAPPED_PERCENT = "snowland:mapped_percent"

# land_cover_model (also NOMENCLATURE, BASE_NOMENCLATURE, CLASS_MEMBERS, KEY_DATE, SOURCE_PRODUCT; METHOD is its
# classifier)
MODEL_FOLDER = "snowland:model_folder"  # model.joblib + model.json, published as one
MODEL_SHA256 = "snowland:model_sha256"
YEARS = "snowland:years"
REFERENCE = "snowland:reference"
REFERENCE_SHA256 = "snowland:reference_sha256"
MAPPING = "snowland:mapping"
CLASSES = "snowland:classes"
CLASS_COUNTS = "snowland:class_counts"
DROPPED_CLASSES = "snowland:dropped_classes"
N_FEATURES = "snowland:n_features"
LIBRARY_VERSIONS = "snowland:library_versions"
CELLS = "snowland:cells"
VALIDATION = "snowland:validation"

# catalogue exports (a STAC ItemCollection's own field)
QUERY = "snowland:query"


def any_simulated(datasets) -> bool:
    """Whether any of the datasets (datacube ``Dataset``) is SIMULATED: what a product made from them must say."""
    return any(d.metadata_doc["properties"].get(SIMULATED) for d in datasets)
