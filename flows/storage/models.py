"""Save and load a `TrainedModel` as one folder: ``model.joblib`` (the whole record) and ``model.json`` (its
metadata, for people and catalogues), published together with one rename, so that no reader sees one without the
other or the new model beside the old metadata."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import joblib

from flows.storage.atomic import staged
from products.landcover.classify import TrainedModel, library_versions

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"


class ModelFileError(ValueError):
    """A model folder lacks one of its two files, or the two do not belong together."""


def save_model(model: TrainedModel, folder: str | Path, *, compress: int = 3) -> Path:
    """Write the model folder ``folder`` (replacing a model there) atomically; returns it."""
    folder = Path(folder)
    with staged(folder) as partial:
        joblib.dump(model, partial / MODEL_FILE, compress=compress)
        (partial / METADATA_FILE).write_text(json.dumps(model.metadata(), indent=2, ensure_ascii=False), encoding="utf-8")
    return folder


def model_file(folder: str | Path) -> Path:
    """The file of a model folder that holds the model itself (what a checksum covers)."""
    return Path(folder) / MODEL_FILE


def read_metadata(folder: str | Path) -> dict:
    """The metadata of a saved model, without loading the model."""
    path = Path(folder) / METADATA_FILE
    if not path.exists():
        raise ModelFileError(f"model {Path(folder).name} has no {METADATA_FILE}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_model(folder: str | Path) -> TrainedModel:
    """Load a saved model; its metadata must match it. Warns if library versions differ from now."""
    folder = Path(folder)
    if not model_file(folder).exists():
        raise FileNotFoundError(f"model {folder} does not exist (no {MODEL_FILE})")
    meta = read_metadata(folder)
    model = joblib.load(model_file(folder))
    if not isinstance(model, TrainedModel):
        raise ModelFileError(f"{folder.name} does not hold a TrainedModel but a {type(model).__name__}")
    if meta.get("model_id") != model.model_id:
        raise ModelFileError(f"{METADATA_FILE} of {folder.name} describes model {meta.get('model_id')}, "
                             f"{MODEL_FILE} holds {model.model_id}")
    now = library_versions()
    changed = {k: (v, now.get(k)) for k, v in model.library_versions.items() if now.get(k) != v}
    if changed:
        listed = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changed.items())
        warnings.warn(f"model {folder.name} was trained with other library versions ({listed})", stacklevel=2)
    return model
