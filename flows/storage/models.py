"""Save and load a `TrainedModel`: joblib for the whole record, a JSON sidecar for people and catalogues."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import joblib

from products.errors import BadInputError
from products.landcover.classify import TrainedModel, library_versions


class ModelFileError(BadInputError):
    """A model file is missing its sidecar, or the two do not belong together."""


def sidecar_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def save_model(model: TrainedModel, path: str | Path, *, compress: int = 3) -> Path:
    """Write `path` (.joblib) and its `.json` sidecar; returns the model path."""
    path = Path(path)
    if path.suffix != ".joblib":
        path = path.with_suffix(".joblib")
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=compress)
    sidecar_path(path).write_text(json.dumps(model.metadata(), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_metadata(path: str | Path) -> dict:
    """The JSON sidecar of a saved model, without loading the model."""
    side = sidecar_path(path)
    if not side.exists():
        raise ModelFileError(f"model {Path(path).name} has no sidecar {side.name}")
    return json.loads(side.read_text(encoding="utf-8"))


def load_model(path: str | Path) -> TrainedModel:
    """Load a saved model; its sidecar must match it. Warns if library versions differ from now."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    meta = read_metadata(path)
    model = joblib.load(path)
    if not isinstance(model, TrainedModel):
        raise ModelFileError(f"{path.name} does not hold a TrainedModel but a {type(model).__name__}")
    if meta.get("model_id") != model.model_id:
        raise ModelFileError(f"sidecar of {path.name} describes model {meta.get('model_id')}, the file holds {model.model_id}")
    now = library_versions()
    changed = {k: (v, now.get(k)) for k, v in model.library_versions.items() if now.get(k) != v}
    if changed:
        listed = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changed.items())
        warnings.warn(f"model {path.name} was trained with other library versions ({listed})", stacklevel=2)
    return model
