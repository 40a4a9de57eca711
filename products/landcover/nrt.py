"""Near-real-time land cover at key dates, with models trained on previous years (mission product 4).

At a key date K of year Y (end of March, end of July, end of year; `nomenclatures/key_dates.yaml`)
only the observations up to K are used: the series is cut at the end of K's day, gap filled
onto the regular grid from K's season start to K, and turned into features named by their day
offset from the season start. Each key date has its season (`key_dates.yaml`): March's starts on
1 October of the year before, to see the autumn sowing of winter crops; July's and December's on
1 January. A model for K is trained on past years' series cut and gap filled
the same way, with that year's reference relabelled to K's nomenclature level (coarse in March,
full OSO 23 in December). Dates up to `margin_days` before the season start are used too, to
interpolate the first grid dates; they are in the past, so nothing from after K is ever read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from functools import cache

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from products.errors import BadInputError, MissingDataError
from products.landcover.classify import (
    DEFAULT_CLASSIFIER,
    ClassifierSpec,
    TrainedModel,
    predict_map,
    predict_samples,
    train,
)
from products.landcover.features import INDICES, SENTINEL2, BandRoles, features
from products.landcover.gapfill import S2_STEP_DAYS, gapfill
from products.landcover.nomenclature import DATA_DIR, level_mapping, load_nomenclature
from products.landcover.samples import Samples, extract_samples
from products.landcover.validation import Accuracy, accuracy
from products.landcover.validity import NoValidDateError

MARGIN_DAYS = 30


@dataclass(frozen=True)
class Season:
    """Where a mapped year's series starts: month-day, in that year or the one before."""

    month: int = 1
    day: int = 1
    previous_year: bool = False

    def start(self, year: int) -> pd.Timestamp:
        return pd.Timestamp(year=year - int(self.previous_year), month=self.month, day=self.day)

    @classmethod
    def of(cls, doc: Mapping) -> Season:
        """From ``season_start`` ("MM-DD") and ``season_starts_previous_year`` of ``doc`` (1 January when absent)."""
        month, day = (int(v) for v in str(doc.get("season_start", "01-01")).split("-"))
        return cls(month=month, day=day, previous_year=bool(doc.get("season_starts_previous_year", False)))

    def record(self) -> dict[str, Any]:
        """As ``key_dates.yaml`` writes it: what a model records of the season it was trained on."""
        return {"season_start": f"{self.month:02d}-{self.day:02d}", "season_starts_previous_year": self.previous_year}


@dataclass(frozen=True)
class KeyDate:
    name: str
    month: int
    day: int
    nomenclature: str
    season: Season = Season()

    def end(self, year: int) -> pd.Timestamp:
        """The last instant of the key date's day in `year`."""
        return pd.Timestamp(year=year, month=self.month, day=self.day) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


@dataclass(frozen=True)
class FeatureSettings:
    """How series become features; must be the same for training and prediction."""

    step_days: int = S2_STEP_DAYS
    roles: BandRoles | None = SENTINEL2
    indices: tuple[str, ...] = INDICES
    margin_days: int = MARGIN_DAYS
    season: Season | None = None  # None: each key date's own (key_dates.yaml)

    def season_of(self, when: str | KeyDate) -> Season:
        """The season a key date's series starts with under these settings."""
        return self.season or key_date(when).season


@dataclass(frozen=True)
class YearReference:
    """One year's series, validity, rasterised reference polygons and their classes."""

    year: int
    series: xr.Dataset
    valid: xr.DataArray
    polygon_ids: np.ndarray
    polygon_classes: Mapping[int, int]


@cache
def _schedule() -> dict:
    return yaml.safe_load((DATA_DIR / "key_dates.yaml").read_text(encoding="utf-8"))


def default_season() -> Season:
    """The season of the key dates that do not set their own."""
    return Season.of(_schedule())


def key_dates() -> dict[str, KeyDate]:
    """The key dates of `key_dates.yaml`, by name (`march`, `july`, `december`), each with its season."""
    return {
        name: KeyDate(name=name, month=int(v["month"]), day=int(v["day"]), nomenclature=str(v["nomenclature"]),
                      season=Season.of(v) if "season_start" in v else default_season())
        for name, v in _schedule()["key_dates"].items()
    }


def key_date(name: str | KeyDate) -> KeyDate:
    if isinstance(name, KeyDate):
        return name
    known = key_dates()
    if name not in known:
        raise BadInputError(f"unknown key date {name!r}; known: {', '.join(known)}")
    return known[name]


def key_date_grid(year: int, when: str | KeyDate, *, settings: FeatureSettings = FeatureSettings()) -> pd.DatetimeIndex:
    """Regular grid from the season start of `year` towards key date `when`.

    Its length is the same every year (the one of a year without 29 February), so that models
    trained on past years and the current year see the same features; it never passes the key date.
    """
    kd = key_date(when)
    season = settings.season_of(kd)
    common = 2023
    span = min(
        (kd.end(year) - season.start(year)).days,
        (kd.end(common) - season.start(common)).days,
    )
    if span < 0:
        raise ValueError(f"key date {kd.name} falls before the season start")
    return pd.date_range(season.start(year), periods=span // settings.step_days + 1, freq=pd.Timedelta(days=settings.step_days), name="time")


def first_observation_day(year: int, *, settings: FeatureSettings = FeatureSettings()) -> pd.Timestamp:
    """The earliest day any key date of `year` reads: its season start (March's in the autumn before) less the
    margin. A training year's series, or a simulated world, starts there."""
    return min(settings.season_of(kd).start(year) for kd in key_dates().values()) - pd.Timedelta(days=settings.margin_days)


def series_until(
    series: xr.Dataset,
    valid: xr.DataArray,
    *,
    year: int,
    when: str | KeyDate,
    settings: FeatureSettings = FeatureSettings(),
    dim: str = "time",
) -> tuple[xr.Dataset, xr.DataArray]:
    """The observations from `margin_days` before the season start to the end of the key date."""
    first = settings.season_of(when).start(year) - pd.Timedelta(days=settings.margin_days)
    last = key_date(when).end(year)
    times = pd.DatetimeIndex(series[dim].values)
    keep = np.flatnonzero((times >= first) & (times <= last))
    if keep.size == 0:
        raise NoValidDateError(f"no acquisition between {first.date()} and {last.date()} for key date {key_date(when).name} {year}")
    return series.isel({dim: keep}), valid.isel({dim: keep})


def key_date_features(
    series: xr.Dataset,
    valid: xr.DataArray,
    *,
    year: int,
    when: str | KeyDate,
    settings: FeatureSettings = FeatureSettings(),
) -> xr.DataArray:
    """(y, x, feature) features of `year` using only observations up to key date `when`."""
    cut, cut_valid = series_until(series, valid, year=year, when=when, settings=settings)
    filled = gapfill(cut, cut_valid, dates=key_date_grid(year, when, settings=settings))
    return features(filled, roles=settings.roles, indices=settings.indices, origin=settings.season_of(when).start(year))


def relabel_for(when: str | KeyDate, polygon_classes: Mapping[int, int], *, labels_nomenclature: str = "oso23") -> dict[int, int]:
    """Polygon classes expressed in the key date's nomenclature level (dropped classes removed)."""
    target = key_date(when).nomenclature
    if target == labels_nomenclature:
        return dict(polygon_classes)
    nomenclature = load_nomenclature(target)
    if nomenclature.parent != labels_nomenclature:
        raise ValueError(f"key date nomenclature {target!r} is not a level of {labels_nomenclature!r}")
    mapping = level_mapping(nomenclature)
    out = {}
    for pid, code in polygon_classes.items():
        new = mapping.lookup(code)
        if new is not None:
            out[pid] = new
    return out


def key_date_samples(
    reference: YearReference,
    *,
    when: str | KeyDate,
    settings: FeatureSettings = FeatureSettings(),
    labels_nomenclature: str | None = "oso23",
) -> Samples:
    """Samples of one reference year at key date `when` (labels relabelled unless `labels_nomenclature` is None)."""
    feats = key_date_features(reference.series, reference.valid, year=reference.year, when=when, settings=settings)
    classes = reference.polygon_classes if labels_nomenclature is None else relabel_for(when, reference.polygon_classes, labels_nomenclature=labels_nomenclature)
    return extract_samples(feats, reference.polygon_ids, classes)


def pooled_key_date_samples(
    references: Sequence[YearReference],
    *,
    when: str | KeyDate,
    settings: FeatureSettings = FeatureSettings(),
    labels_nomenclature: str | None = "oso23",
) -> Samples:
    """Every reference pixel of past years at key date `when`, in one sample set (polygon ids kept apart per
    year): what a key-date model trains on."""
    if not references:
        raise MissingDataError("no reference year to train on")
    kd = key_date(when)
    parts = [key_date_samples(r, when=kd, settings=settings, labels_nomenclature=labels_nomenclature) for r in references]
    names = parts[0].feature_names
    for r, p in zip(references, parts):
        if p.feature_names != names:
            raise ValueError(f"year {r.year} gives other features than year {references[0].year} for key date {kd.name}")
    offset = 0
    polygons = []
    for p in parts:
        polygons.append(p.polygons + offset)
        offset += int(p.polygons.max()) + 1
    return Samples(
        features=np.concatenate([p.features for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        polygons=np.concatenate(polygons),
        feature_names=names,
    )


def train_key_date_model(
    references: Sequence[YearReference],
    *,
    when: str | KeyDate,
    spec: ClassifierSpec | str = DEFAULT_CLASSIFIER,
    settings: FeatureSettings = FeatureSettings(),
    labels_nomenclature: str | None = "oso23",
    seed: int = 0,
    area: str = "",
    n_jobs: int | None = None,
) -> TrainedModel:
    """A model for key date `when` from past years' references, all pixels of their polygons."""
    kd = key_date(when)
    return train(
        pooled_key_date_samples(references, when=kd, settings=settings, labels_nomenclature=labels_nomenclature),
        nomenclature=kd.nomenclature if labels_nomenclature is not None else "",
        spec=spec,
        seed=seed,
        years=tuple(r.year for r in references),
        area=area,
        key_date=kd.name,
        n_jobs=n_jobs,
    )


def classify_key_date(
    model: TrainedModel,
    series: xr.Dataset,
    valid: xr.DataArray,
    *,
    year: int,
    settings: FeatureSettings = FeatureSettings(),
) -> xr.Dataset:
    """Class and confidence maps of `year` at the model's key date, from observations up to it."""
    if model.key_date is None:
        raise BadInputError(f"model {model.model_id} was not trained for a key date (it is a yearly model)")
    feats = key_date_features(series, valid, year=year, when=model.key_date, settings=settings)
    out = predict_map(model, feats)
    out.attrs.update({"key_date": model.key_date, "year": year, "trained_on_years": list(model.years)})
    return out


def validate_key_date(
    model: TrainedModel,
    reference: YearReference,
    *,
    settings: FeatureSettings = FeatureSettings(),
    labels_nomenclature: str | None = "oso23",
) -> Accuracy:
    """Accuracy of the key-date model on a year it never saw, on every reference pixel of that year."""
    samples = key_date_samples(reference, when=model.key_date, settings=settings, labels_nomenclature=labels_nomenclature)
    predicted, _ = predict_samples(model, samples)
    return accuracy(samples.labels, predicted)
