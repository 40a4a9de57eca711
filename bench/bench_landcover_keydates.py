"""The project's key-date and yearly land-cover models against a plain RF(100 trees, depth 25), paired, per key date.

Both sides see the same features (the series cut at the key date and gap filled as :mod:`products.landcover.nrt`
does, each key date from its own season start in ``key_dates.yaml``) of the same past years; the project trains its
default classifier on at most ``--caps`` pixels per class (default ``MAX_SAMPLES_PER_CLASS``; 0: every pixel), the
plain forest on every reference pixel; ``--classifiers`` adds other project classifiers (``svm_rbf``) at the first
cap. All are scored on every reference pixel of a year none saw: OA and kappa over all classes and over the
annual-crop classes alone (level-1 group 110), at March, July and December (December's nomenclature and series are
the yearly map's: the yearly model). With ``--march-season 01-01``, March again with the season started on that
day of its own year (the former default). Times are training seconds on this process; peak memory is this
process's RSS. SIMULATED series (``flows.simulator.landcover_series`` or the demo's world), no database; asserts
nothing.

    .venv/bin/python bench/bench_landcover_keydates.py [--world series|demo] [--caps 3000,10000] [--classifiers svm_rbf]
"""

from __future__ import annotations

import argparse
import resource
import time

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
from products.landcover.samples import MAX_SAMPLES_PER_CLASS, cap_per_class
from products.landcover.validation import accuracy

CROP_GROUP = 110
YEARS = (2019, 2020, 2021, 2022)  # 2019 only gives the autumn before 2020; trained on 2020-2021, scored on 2022


def crop_codes(nomenclature: str) -> list[int]:
    n = load_nomenclature(nomenclature)
    return [c for c, g in zip(n.codes, n.groups) if g == CROP_GROUP]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def paired(references: list[YearReference], scored: YearReference, *, when: str, settings: FeatureSettings,
           caps: list[int], classifiers: list[str]) -> dict[str, tuple]:
    """Per side: (OA, kappa, crop OA, crop kappa, training pixels, training seconds)."""
    kd = key_date(when)
    pool = pooled_key_date_samples(references, when=kd, settings=settings)
    test = key_date_samples(scored, when=kd, settings=settings)
    crops = np.isin(test.labels, crop_codes(kd.nomenclature))
    capped = {cap: cap_per_class(pool, cap, seed=0) if cap else pool for cap in caps}
    sides = {f"project, cap {cap or 'all'}": (capped[cap], DEFAULT_CLASSIFIER) for cap in caps}
    sides.update({f"{name}, cap {caps[0] or 'all'}": (capped[caps[0]], name) for name in classifiers})
    sides["plain RF(100, 25)"] = (pool, "rf_iota2")
    out = {}
    for name, (samples, spec) in sides.items():
        started = time.perf_counter()
        model = train(samples, nomenclature=kd.nomenclature, spec=CLASSIFIERS[spec], seed=0, n_jobs=2)
        seconds = time.perf_counter() - started
        predicted, _ = predict_samples(model, test)
        every, crop = accuracy(test.labels, predicted), accuracy(test.labels[crops], predicted[crops])
        out[name] = (every.overall_accuracy, every.kappa, crop.overall_accuracy, crop.kappa, len(samples), seconds)
    return out


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-px", type=int, default=150)
    parser.add_argument("--parcels", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--world", choices=("series", "demo"), default="series",
                        help="series: landcover_series' parcels; demo: the demo's land-cover world (relief, snow)")
    parser.add_argument("--key-dates", default="march,july,december", help="comma-separated, of key_dates.yaml")
    parser.add_argument("--march-season", help="month-day of March's own year to rerun March from, e.g. 01-01")
    parser.add_argument("--caps", default=str(MAX_SAMPLES_PER_CLASS), help="the project's per-class caps; 0: all")
    parser.add_argument("--classifiers", default="", help="other project classifiers, comma-separated (svm_rbf)")
    parser.add_argument("--confusions", action="store_true", help="March's crop confusions of the project model")
    args = parser.parse_args()
    caps = [int(c) for c in args.caps.split(",")]
    classifiers = [c for c in args.classifiers.split(",") if c]
    started = time.perf_counter()
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
    runs = [(name, name, FeatureSettings()) for name in key_dates() if name in args.key_dates.split(",")]
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
