"""Land-cover flows: ``train_land_cover`` (its ``TrainingOptions``), ``land_cover`` (yearly) and
``land_cover_key_date`` (near real time); ``score_map`` / ``score_land_cover`` score a written map.

Thin over ``flows.storage`` (load on the EEA grid, write COGs + eo3 + index) and the pure science of
``products.landcover``. Tasks pass dataset ids and file paths, never arrays: samples go through ``.npz``
files, models through ``land_cover_model`` datasets (a saved model file, recorded in the index with
lineage to the reflectance it was trained on), maps through ``land_cover`` / ``land_cover_nrt`` datasets
whose lineage names the reflectance datasets and the model.

Ids are deterministic: a model from its training inputs and parameters, a yearly map from cell, year and
nomenclature, a key-date map from cell, year and key date. A re-run finds them and skips; ``overwrite``
replaces them.
"""

from flows.pipelines.landcover.maps import land_cover, land_cover_key_date
from flows.pipelines.landcover.score import score_land_cover, score_map
from flows.pipelines.landcover.train import TrainingOptions, train_land_cover

__all__ = ["TrainingOptions", "land_cover", "land_cover_key_date", "score_land_cover", "score_map", "train_land_cover"]
