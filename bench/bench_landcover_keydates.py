"""The project's key-date and yearly land-cover models against a plain RF(100 trees, depth 25), paired, per key date.

Both sides see the same features (the series cut at the key date and gap filled as :mod:`products.landcover.nrt`
does, each key date from its own season start in ``key_dates.yaml``) of the same past years; the project trains its
default classifier on at most ``--caps`` pixels per class (default ``MAX_SAMPLES_PER_CLASS``; 0: every pixel), the
plain forest on every reference pixel; ``--classifiers`` adds other project classifiers (``svm_rbf``) at the first
cap. All are scored on every reference pixel of a year none saw: OA and kappa over all classes and over the
annual-crop classes alone (level-1 group 110), at March, July and December (December's nomenclature and series are
the yearly map's: the yearly model). With ``--march-season 01-01``, March again with the season started on that
day of its own year (the former default). Times are training seconds on this process; peak memory is this
process's RSS. The series and demo worlds are SIMULATED (``flows.simulator.landcover_series``, the demo's world);
no database; asserts nothing.

``--world eolearn`` is the real NDVI series of eo-learn's TestEOPatch (2015-07 to 2017-12) with its timeless
land-use polygons: at each key date of 2017 (March from 1 October 2016), every side is scored by 2-fold cross
validation over whole polygons (stratified by class, both ways, ``--runs`` splits); crop figures are those of
cultivated land (LULC 1), see :func:`eolearn_paired`.

    .venv/bin/python bench/bench_landcover_keydates.py [--world series|demo|eolearn] [--caps 3000,10000]
        [--classifiers svm_rbf] [--key-dates march,july,december] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from flows.simulator import landcover_series as simulate
from products.landcover.classify import CLASSIFIERS, DEFAULT_CLASSIFIER, predict_samples, train
from products.landcover.nomenclature import load_nomenclature
from products.landcover.nrt import (
    FeatureSettings,
    Season,
    YearReference,
    key_date,
    key_date_samples,
    key_dates,
    pooled_key_date_samples,
)
from products.landcover.samples import MAX_SAMPLES_PER_CLASS, Samples, cap_per_class, split_polygons
from products.landcover.validation import accuracy

CROP_GROUP = 110
YEARS = (2019, 2020, 2021, 2022)  # 2019 only gives the autumn before 2020; trained on 2020-2021, scored on 2022
EOLEARN = Path(__file__).resolve().parents[1] / "../shared/data/real/eolearn/example_data/TestEOPatch"
EOLEARN_YEAR = 2017  # the series runs 2015-07 to 2017-12; 2017 is the one year with its autumn before and its December
EOLEARN_CROP = 1  # LULC_ID 1, "cultivated land" (LULC_NAME of vector_timeless/LULC.gpkg)
EOLEARN_SETTINGS = FeatureSettings(roles=None)  # NDVI only, as bench_landcover.py


def crop_codes(nomenclature: str) -> list[int]:
    n = load_nomenclature(nomenclature)
    return [c for c, g in zip(n.codes, n.groups) if g == CROP_GROUP]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sides(pool: Samples, *, caps: list[int], classifiers: list[str]) -> dict[str, tuple[Samples, str]]:
    """What each side trains on and with: the project's default classifier at each cap, ``classifiers`` at the first
    cap, and the plain RF(100, 25) on every pixel of ``pool``."""
    capped = {cap: cap_per_class(pool, cap, seed=0) if cap else pool for cap in caps}
    out = {f"project, cap {cap or 'all'}": (capped[cap], DEFAULT_CLASSIFIER) for cap in caps}
    out.update({f"{name}, cap {caps[0] or 'all'}": (capped[caps[0]], name) for name in classifiers})
    out["plain RF(100, 25)"] = (pool, "rf_iota2")
    return out


def fit_predict(samples: Samples, test: Samples, *, spec: str, nomenclature: str, seed: int) -> tuple[np.ndarray, float]:
    """``test``'s classes predicted by ``spec`` trained on ``samples``, and the training seconds."""
    started = time.perf_counter()
    model = train(samples, nomenclature=nomenclature, spec=CLASSIFIERS[spec], seed=seed, n_jobs=2)
    seconds = time.perf_counter() - started
    return predict_samples(model, test)[0], seconds


def paired(references: list[YearReference], scored: YearReference, *, when: str, settings: FeatureSettings,
           caps: list[int], classifiers: list[str]) -> dict[str, tuple]:
    """Per side: (OA, kappa, crop OA, crop kappa, training pixels, training seconds)."""
    kd = key_date(when)
    pool = pooled_key_date_samples(references, when=kd, settings=settings)
    test = key_date_samples(scored, when=kd, settings=settings)
    crops = np.isin(test.labels, crop_codes(kd.nomenclature))
    out = {}
    for name, (samples, spec) in sides(pool, caps=caps, classifiers=classifiers).items():
        predicted, seconds = fit_predict(samples, test, spec=spec, nomenclature=kd.nomenclature, seed=0)
        every, crop = accuracy(test.labels, predicted), accuracy(test.labels[crops], predicted[crops])
        out[name] = (every.overall_accuracy, every.kappa, crop.overall_accuracy, crop.kappa, len(samples), seconds)
    return out


def eolearn_paired(reference: YearReference, *, when: str, caps: list[int], classifiers: list[str],
                   runs: int) -> dict[str, np.ndarray]:
    """Per side, per run (rows), 2-fold cross-validated scores at key date ``when`` of the real series'
    year: whole polygons in two folds stratified by class, each fold predicted by models trained on the other, then
    every reference pixel scored once. Crop OA is over the cultivated-land pixels (its recall); crop kappa is the
    kappa of cultivated land against the rest over every reference pixel, as a kappa over pixels of one reference
    class is 0 by construction. Columns: OA, kappa, crop OA, crop kappa, training pixels and seconds (both folds)."""
    every = key_date_samples(reference, when=when, settings=EOLEARN_SETTINGS, labels_nomenclature=None)
    crop = every.labels == EOLEARN_CROP
    figures: dict[str, list[tuple]] = {}
    for run in range(runs):
        split = split_polygons(every.polygon_classes(), seed=run, rare="drop")
        predicted: dict[str, np.ndarray] = {}
        effort: dict[str, tuple[int, float]] = {}
        for learn, score in ((split.train, split.validation), (split.validation, split.train)):
            test_rows = np.isin(every.polygons, list(score))
            test = every.subset(score)
            for name, (samples, spec) in sides(every.subset(learn), caps=caps, classifiers=classifiers).items():
                fold, seconds = fit_predict(samples, test, spec=spec, nomenclature="eolearn_lulc", seed=run)
                predicted.setdefault(name, np.zeros_like(every.labels))[test_rows] = fold
                n, s = effort.get(name, (0, 0.0))
                effort[name] = (n + len(samples), s + seconds)
        for name, p in predicted.items():
            scored = p > 0
            all_px = accuracy(every.labels[scored], p[scored])
            crop_px = accuracy(every.labels[crop & scored], p[crop & scored])
            binary = accuracy(crop[scored].astype(np.int32), (p[scored] == EOLEARN_CROP).astype(np.int32))
            figures.setdefault(name, []).append((all_px.overall_accuracy, all_px.kappa, crop_px.overall_accuracy,
                                                 binary.kappa, *effort[name]))
    return {name: np.asarray(rows) for name, rows in figures.items()}


def confused(references: list[YearReference], scored: YearReference, *, when: str, settings: FeatureSettings) -> str:
    """The project model's crop confusions at ``when``: reference class -> share predicted as each other class."""
    kd = key_date(when)
    pool = cap_per_class(pooled_key_date_samples(references, when=kd, settings=settings), MAX_SAMPLES_PER_CLASS, seed=0)
    test = key_date_samples(scored, when=kd, settings=settings)
    predicted, _ = predict_samples(train(pool, nomenclature=kd.nomenclature, seed=0, n_jobs=2), test)
    lines = []
    for code in sorted(set(test.labels.tolist())):
        of = test.labels == code
        values, counts = np.unique(predicted[of], return_counts=True)
        shares = ", ".join(f"{v}: {c / of.sum():.0%}" for v, c in sorted(zip(values, counts), key=lambda t: -t[1])[:3])
        lines.append(f"    {code:>4} ({int(of.sum()):6d} px) -> {shares}")
    return "\n".join(lines)


def demo_world_scene(*, every_days: int) -> simulate.SimulatedScene:
    """The demo's land-cover world (seed 11, 5 km, Sentinel-2 every ``every_days``) in memory: its parcels, their
    codes per year, its reflectance and SCL validity (snow is an observation, as the flow takes it)."""
    import datetime as dt

    import pandas as pd
    import xarray as xr

    from flows.simulator.scenes import LANDCOVER_CENTRE
    from flows.simulator.world import build_world
    from products.landcover.validity import valid_from_scl

    world = build_world(seed=11, size_km=5, centre=LANDCOVER_CENTRE)
    days = [dt.date(YEARS[0], 1, 1) + dt.timedelta(days=d)
            for d in range(0, (dt.date(YEARS[-1], 12, 31) - dt.date(YEARS[0], 1, 1)).days + 1, every_days)]
    cube, valid = [], []
    for day in days:
        state = world.state(day)
        cube.append(state.reflectance)
        valid.append(valid_from_scl(xr.DataArray(state.scl)).values)
    cube_a = np.stack(cube)  # (time, band, y, x)
    ny, nx = cube_a.shape[2:]
    coords = {"time": pd.DatetimeIndex(days) + pd.Timedelta(hours=10, minutes=30), "y": np.arange(ny) * -20.0,
              "x": np.arange(nx) * 20.0}
    series = xr.Dataset({b: (("time", "y", "x"), cube_a[:, i]) for i, b in enumerate(simulate.BANDS)}, coords=coords)
    ids = world.parcels.labels + 1
    return simulate.SimulatedScene(
        series=series, valid=xr.DataArray(np.stack(valid), dims=("time", "y", "x"), coords=coords),
        polygon_ids=ids, classes_by_year={y: {i + 1: int(c) for i, c in enumerate(world.parcels.codes(y))}
                                          for y in YEARS})


def eolearn_main(args: argparse.Namespace, *, caps: list[int], classifiers: list[str], started: float) -> None:
    from flows.storage.sources.eolearn import load_eolearn_patch

    patch = load_eolearn_patch(args.eolearn)
    reference = YearReference(year=EOLEARN_YEAR, series=patch.series, valid=patch.valid,
                              polygon_ids=patch.polygon_ids, polygon_classes=patch.polygon_classes)
    pixels = {c: int(np.isin(patch.polygon_ids, [p for p, k in patch.polygon_classes.items() if k == c]).sum())
              for c in sorted(set(patch.polygon_classes.values()))}
    print(f"real eo-learn NDVI: {patch.polygon_ids.shape[0]} x {patch.polygon_ids.shape[1]} px, "
          f"{len(patch.polygon_classes)} polygons, pixels per LULC class {pixels}; key dates of {EOLEARN_YEAR}, "
          f"{args.runs} runs of 2 folds of whole polygons both ways; crop = LULC {EOLEARN_CROP} (cultivated land)")
    print(f"{'key date':<22} {'side':<22} {'OA':>6} {'kappa':>6} {'crop OA':>7} {'crop k':>7} {'train px':>9} "
          f"{'train s':>8}")
    for when in args.key_dates.split(","):
        per_run = eolearn_paired(reference, when=when, caps=caps, classifiers=classifiers, runs=args.runs)
        plain = per_run["plain RF(100, 25)"]
        for side, rows in per_run.items():
            oa, kappa, crop_oa, crop_kappa, n, seconds = rows.mean(axis=0)
            gap = rows[:, :4] - plain[:, :4]
            spread = "" if rows is plain else "  vs plain RF per run: " + ", ".join(
                f"{what} {lo:+.3f}..{hi:+.3f}" for what, lo, hi in zip(("OA", "kappa", "crop k"), gap.min(axis=0)[[0, 1, 3]],
                                                                     gap.max(axis=0)[[0, 1, 3]]))
            print(f"{when:<22} {side:<22} {oa:6.3f} {kappa:6.3f} {crop_oa:7.3f} {crop_kappa:7.3f} {n:9.0f} "
                  f"{seconds:8.1f}{spread}", flush=True)
    print(f"peak RSS {peak_mb():.0f} MB; {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-px", type=int, default=150)
    parser.add_argument("--parcels", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--world", choices=("series", "demo", "eolearn"), default="series",
                        help="series: landcover_series' parcels; demo: the demo's land-cover world (relief, snow); "
                             "eolearn: the real NDVI series and land-use polygons of eo-learn's TestEOPatch")
    parser.add_argument("--eolearn", type=Path, default=EOLEARN, help="eo-learn's TestEOPatch folder")
    parser.add_argument("--runs", type=int, default=3, help="eolearn: 2-fold polygon splits, both ways, per key date")
    parser.add_argument("--key-dates", default="march,july,december", help="comma-separated, of key_dates.yaml, run in this order")
    parser.add_argument("--march-season", help="month-day of March's own year to rerun March from, e.g. 01-01")
    parser.add_argument("--caps", default=str(MAX_SAMPLES_PER_CLASS), help="the project's per-class caps; 0: all")
    parser.add_argument("--classifiers", default="", help="other project classifiers, comma-separated (svm_rbf)")
    parser.add_argument("--confusions", action="store_true", help="March's crop confusions of the project model")
    args = parser.parse_args()
    caps = [int(c) for c in args.caps.split(",")]
    classifiers = [c for c in args.classifiers.split(",") if c]
    started = time.perf_counter()
    if args.world == "eolearn":
        eolearn_main(args, caps=caps, classifiers=classifiers, started=started)
        return
    if args.world == "demo":
        scene = demo_world_scene(every_days=10)
    else:
        scene = simulate.simulate_scene(years=YEARS, shape=(args.size_px, args.size_px), n_parcels=args.parcels,
                                        seed=args.seed)
    refs = {y: YearReference(year=y, series=scene.series, valid=scene.valid, polygon_ids=scene.polygon_ids,
                             polygon_classes=scene.classes_by_year[y]) for y in YEARS}
    past, scored = [refs[2020], refs[2021]], refs[2022]
    shape = scene.polygon_ids.shape
    print(f"simulated {args.world}: {shape[0]} x {shape[1]} px, {int(scene.polygon_ids.max())} parcels, years {YEARS} "
          f"({time.perf_counter() - started:.0f} s); trained on 2020-2021, scored on every reference pixel of 2022")
    print(f"{'key date':<22} {'side':<22} {'OA':>6} {'kappa':>6} {'crop OA':>7} {'crop k':>7} {'train px':>9} "
          f"{'train s':>8}")
    runs = [(name, name, FeatureSettings()) for name in args.key_dates.split(",") if name in key_dates()]
    if args.march_season:
        month, day = (int(v) for v in args.march_season.split("-"))
        runs.append((f"march, season {args.march_season}", "march", FeatureSettings(season=Season(month=month, day=day))))
    for label, when, settings in runs:
        for side, (oa, kappa, crop_oa, crop_kappa, n, seconds) in paired(
                past, scored, when=when, settings=settings, caps=caps, classifiers=classifiers).items():
            print(f"{label:<22} {side:<22} {oa:6.3f} {kappa:6.3f} {crop_oa:7.3f} {crop_kappa:7.3f} {n:9d} "
                  f"{seconds:8.1f}", flush=True)
    if args.confusions:
        for label, _, settings in runs:
            if label.startswith("march"):
                print(f"March crop confusions, project model, {label} (reference -> predicted):")
                print(confused(past, scored, when="march", settings=settings))
    print(f"peak RSS {peak_mb():.0f} MB; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
