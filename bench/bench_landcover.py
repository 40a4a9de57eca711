"""Which classifier is the default: accuracy and single-core throughput against iota2's forest.

The project's goal for a faster model (issue 21): at least 10x (floor 8x) the pixels classified
per second of RF(100 trees, depth 25) for a kappa at most 0.01 lower, on the real eo-learn series
and on the simulated year, and training at least 3x faster than the adaptive forest. Runs are
paired (same polygon split and seed for every model); the kappa difference is given with its 95 %
t interval. Throughput is measured on one core (BLAS/OpenMP and ONNX Runtime on one thread, as a
dask worker thread runs a block), through `classify.predict` on >= 200 000 pixels (the scene's
pixels tiled), each model in turn, best of `repeats`.

Issue 21, fourth round, a machine of its own (load about 1), 3 paired runs each: the early stop on the leader's
lead over the runner-up (2 x sqrt(trees so far) at 5, 10, 20, 40 trees), now `rf_iota2_adaptive`, against the
8-of-10 rule before it (`AGREEMENT_VOTING` on the same forest), after `predict` stopped copying gap-free features:

    real eo-learn series        kappa  dkappa [95 %]            px/s/core  speed
    rf_iota2                    0.602                             322 255   1.0x
    8 of 10 (before)            0.602  +0.000 [-0.001, +0.001]  1 055 556   3.3x
    lead over runner-up (now)   0.602  +0.000 [-0.002, +0.003]  1 608 154   5.0x

    simulated year
    rf_iota2                    0.926                              80 494   1.0x
    8 of 10 (before)            0.926  +0.000 [-0.001, +0.001]    359 216   4.5x
    lead over runner-up (now)   0.926  +0.000 [-0.000, +0.000]    472 237   5.9x

The rule alone (with the copy) gave 4.7x on both, against 3.2x and 4.7x. scikit-learn's `apply` is now 70 % of the
default's time on the simulated year; the rest is the votes' bookkeeping. Capping undecided pixels at 20-40 trees
would reach 8-15 trees a pixel but costs 0.002-0.006 kappa (not done).

Issue 21 (ONNX Runtime 1.32, scikit-learn 1.9.1; load average 22-32 on these 2 cores, from other
jobs, so every rf_iota2 timing is 2-5x slower than below, and ratios are of best-of timings under
that load). Candidates through `compare_classifiers` with these specs (et_compiled is
"extra_comp_ms0.5"; `compiled_ms*` are rf_iota2_compiled on `max_samples` bootstraps):

real eo-learn series, 3 runs:

    model               kappa  dkappa [95 %]           OA     px/s/core  speed  train/run
    rf_iota2            0.602                          0.831     27 528   1.0x   45.3 s
    compiled_ms0.5      0.603  +0.001 [-0.009,+0.011]  0.831    123 351   4.5x   28.3 s
    extra_compiled      0.592  -0.010 [-0.068,+0.049]  0.827    120 063   4.4x    8.2 s
    et_compiled         0.602  +0.001 [-0.063,+0.065]  0.834    159 276   5.8x    4.9 s

simulated year (150x150 px, 481 features), 2 runs:

    rf_iota2            0.926                          0.929      6 594   1.0x  155.5 s
    compiled_ms0.5      0.922  -0.003 [-0.038,+0.032]  0.926     38 648   5.9x   93.1 s
    extra_compiled      0.929  +0.003 [-0.077,+0.084]  0.932     39 628   6.0x   30.8 s
    et_compiled         0.925  -0.001 [-0.116,+0.115]  0.928     44 963   6.8x   17.4 s

real eo-learn series, 2 runs, another moment: rf_iota2 62 427 px/s; rf_iota2_adaptive 5.7x
(train 22.1 s); rf_iota2_compiled 5.8x (20.1 s); the same two on `max_samples=0.3` bootstraps
4.9x and 10.4x (8.1 s, 6.9 s) at dkappa -0.014 [-0.053,+0.024].

The script itself, models timed in turn (`bench/bench_landcover.py --eolearn
../shared/data/real/eolearn/example_data/TestEOPatch --runs 3 --no-simulated --models
rf_iota2,rf_iota2_adaptive,et_compiled`, load average 26-32):

    rf_iota2            0.602                          0.831     27 951   1.0x   73.0 s
    rf_iota2_adaptive   0.601  -0.000 [-0.008,+0.008]  0.830    282 441  10.1x   71.0 s
    et_compiled         0.602  +0.001 [-0.063,+0.065]  0.834    192 554   6.9x    5.6 s

and on the simulated year (`--runs 2 --models rf_iota2,rf_iota2_adaptive,et_compiled`, load 30-32):

    rf_iota2            0.926                          0.929     23 027   1.0x  231.5 s
    rf_iota2_adaptive   0.921  -0.004 [-0.013,+0.004]  0.925    135 268   5.9x  194.7 s
    et_compiled         0.925  -0.001 [-0.116,+0.115]  0.928    145 337   6.3x   15.1 s

Timed again on a quieter machine (load 5-8) with the stop at 8 of 10 trees (`--runs 3 --no-simulated --models
rf_iota2,rf_iota2_adaptive`): rf_iota2 188 569 px/s, rf_iota2_adaptive 604 573 px/s, 3.2x at dkappa +0.000: the 10.1x
below was the load's (it slowed rf_iota2 6.7x, the adaptive forest 2.1x).

The adaptive forest stays the default: within 0.01 kappa on both, 10.1x on the real series and
5.9x on the simulated year (the 10x goal and 8x floor met on the real series only). These speeds are at 0.7
agreement of 5 trees; since issue 18 it stops at 0.8 of 10 trees (0.96x that speed on the real series in one timing,
bench/README.md).
`et_compiled` meets the training goal (13x faster than the adaptive forest on both, paired kappa
+0.001 / -0.001) but predicts at 6.3-6.9x (6.8x in the candidate run): faster than the adaptive
forest on the simulated year, slower on the real series, where its larger trees agree later. ONNX Runtime runs a forest of trees of 3 400 nodes hardly faster than
scikit-learn's `apply` (1.0-1.2x in a probe of 100 such trees, ONNX graphs of 1, 2 or 5 trees; with
100 trees in one graph 3x slower: a row walks every tree before the next row, out of cache);
`rf_iota2_compiled` gives the adaptive forest's votes exactly at about its speed (5.8x against
5.7x). It is 2x faster than scikit-learn only on smaller trees (the `max_samples=0.3` pair above,
10.4x, training 3.5x faster), which lost 0.014 kappa on the real series in 2 runs. Not done: a
quiet machine to measure on, more paired runs of the `max_samples` forests, and a compiled
if-else forest (treelite + tl2cgen install from PyPI here but need a C compiler at training time).

Earlier, with the adaptive forest as default (`python bench/bench_landcover.py [--eolearn DIR]`, this 2-core machine,
scikit-learn 1.9.1, paired runs, speed = px/s/core relative to rf_iota2 on >= 100 000 pixels):

real eo-learn series (Slovenia, 68 S2 dates 2015-2017, NDVI only -> 90 features on the 10-day
grid, 5 land-use classes, 84 polygons, 9 945 pixels), 10 runs:

    model               kappa  dkappa [95 %]           OA     px/s/core  speed  train/run
    rf_iota2            0.559                          0.803     99 060   1.0x    6.8 s
    rf_iota2_adaptive   0.555  -0.005 [-0.008,-0.001]  0.800    581 967   5.9x    7.5 s
    rf_small (20)       0.547  -0.012 [-0.025,+0.001]  0.796    682 111   6.9x    1.0 s
    hist_gradient_b.    0.382  -0.180 [-0.319,-0.042]  0.730     14 342   0.1x    5.6 s

simulated S2-like year (23 OSO classes, 300 parcels, 150x150 px, 37 dates x 13 = 481 features),
4 runs:

    rf_iota2            0.933                          0.937     35 066   1.0x   27.5 s
    rf_iota2_adaptive   0.929  -0.005 [-0.007,-0.003]  0.932    199 091   5.7x   28.8 s
    rf_small (20)       0.925  -0.009 [-0.011,-0.006]  0.929     73 410   2.1x*   7.3 s

(*) timings on this shared machine vary by up to 2x between runs; a separate timing of the same
models on 112 500 simulated pixels gave rf_iota2 43 000, rf_small 233 000 (5.4x), adaptive
327 000 px/s (7.6x). The adaptive forest meets the goal (>= 5x, kappa within 0.01) on both data
sets; the 20-tree forest loses about 0.01 kappa (goal not met on the real data). Histogram
gradient boosting predicts one tree per class and iteration and is slower than the forest here.
Linear models (LDA, logistic regression) win on the simulated data, whose noise is Gaussian
and mixing linear, but lose 0.15 kappa on the real series.

Per-class sample cap (`--caps 300,1000,0 --runs 2`, the default forest, simulated year of
300x300 px, 600 parcels, 90 000 reference pixels, about 2 000 training pixels per class; machine
loaded by other jobs, so the times are relative):

    cap    kappa [95 %]           OA     train/run
    300    0.933 [0.841,1.026]   0.937    32.9 s
    1000   0.938 [0.834,1.041]   0.941   116.3 s
    all    0.936 [0.841,1.031]   0.939   241.3 s

Kappa is flat from 300 pixels per class on here, training time grows with the pixels. On the demo's
world, whose natural classes vary with relief and snow, the paired run against every pixel
(`bench_landcover_keydates.py --world demo --caps 3000,10000`, bench/README.md) lost 0.012 OA at
3 000 per class and 0.006 at 10 000: the default cap (`products.landcover.samples.MAX_SAMPLES_PER_CLASS`)
is 10 000.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from products.landcover.classify import CLASSIFIERS, DEFAULT_CLASSIFIER, ClassifierSpec, predict, train
from products.landcover.samples import Samples, split_runs
from products.landcover.validation import Interval, accuracy, interval


@dataclass(frozen=True)
class BenchmarkResult:
    name: str
    kappa: Interval
    overall_accuracy: Interval
    kappa_delta: Interval
    train_seconds: float
    pixels_per_second: float
    speedup: float

    def row(self) -> str:
        d = self.kappa_delta
        delta = f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]" if d.runs > 1 else f"{d.mean:+.3f}"
        return (
            f"{self.name:<24} {self.kappa.mean:6.3f}  {delta:<26} {self.overall_accuracy.mean:6.3f} "
            f"{self.pixels_per_second:11.0f} {self.speedup:5.1f}x {self.train_seconds:8.1f}s"
        )


HEADER = f"{'model':<24} {'kappa':>6}  {'dkappa (95 %)':<26} {'OA':>6} {'px/s/core':>11} {'speed':>6} {'train':>9}"


def compare_classifiers(
    samples: Samples,
    pixels: np.ndarray,
    *,
    specs: Mapping[str, ClassifierSpec] | Sequence[str] = ("rf_iota2", "rf_iota2_adaptive", "et_compiled"),
    reference: str = "rf_iota2",
    runs: int = 5,
    seed: int = 0,
    repeats: int = 5,
    min_pixels: int = 200_000,
    **split_kwargs: object,
) -> tuple[BenchmarkResult, ...]:
    """Paired comparison of `specs` against `reference` over `runs` polygon splits of `samples`; each model of the
    last split is timed on `pixels` (tiled to `min_pixels`), the models in turn `repeats` times, best kept, so
    that a change of the machine's load between models weighs on all of them."""
    specs = dict(specs) if isinstance(specs, Mapping) else {n: CLASSIFIERS[n] for n in specs}
    if reference not in specs:
        raise KeyError(f"reference model {reference!r} is not among the compared ones")
    splits = split_runs(samples, runs=runs, seed=seed, **split_kwargs)
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    if len(pixels) < min_pixels:
        pixels = np.tile(pixels, (int(np.ceil(min_pixels / len(pixels))), 1))
    kappas: dict[str, list[float]] = {}
    oas: dict[str, list[float]] = {}
    train_s: dict[str, float] = {}
    models: dict[str, object] = {}
    with threadpool_limits(1):
        for name, spec in specs.items():
            kappas[name], oas[name], elapsed = [], [], 0.0
            for sp in splits:
                start = time.perf_counter()
                model = train(sp.train, nomenclature="benchmark", spec=spec, seed=sp.split.seed, n_jobs=1)
                elapsed += time.perf_counter() - start
                predicted, _ = predict(model, sp.validation.features)
                acc = accuracy(sp.validation.labels, predicted)
                kappas[name].append(acc.kappa)
                oas[name].append(acc.overall_accuracy)
            train_s[name] = elapsed / len(splits)
            models[name] = model
        best = dict.fromkeys(specs, np.inf)
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                predict(model, pixels)
                best[name] = min(best[name], time.perf_counter() - start)
        speed = {name: len(pixels) / seconds for name, seconds in best.items()}
    ref_k = np.asarray(kappas[reference])
    return tuple(
        BenchmarkResult(
            name=name,
            kappa=interval(kappas[name]),
            overall_accuracy=interval(oas[name]),
            kappa_delta=interval(list(np.asarray(kappas[name]) - ref_k)),
            train_seconds=train_s[name],
            pixels_per_second=speed[name],
            speedup=speed[name] / speed[reference],
        )
        for name in specs
    )


def compare_caps(samples: Samples, *, caps: Sequence[int | None], spec: str = DEFAULT_CLASSIFIER, runs: int = 3,
                 seed: int = 0, **split_kwargs: object) -> list[tuple[str, Interval, Interval, float]]:
    """Paired runs of one classifier trained on at most ``cap`` training pixels per class (None: every pixel):
    per cap, its kappa, OA and training seconds per run (what ``--max-samples-per-class`` costs and gives)."""
    from products.landcover.samples import cap_per_class

    splits = split_runs(samples, runs=runs, seed=seed, **split_kwargs)
    rows = []
    for cap in caps:
        kappas, oas, elapsed = [], [], 0.0
        for sp in splits:
            train_set = sp.train if cap is None else cap_per_class(sp.train, cap, seed=sp.split.seed)
            start = time.perf_counter()
            model = train(train_set, nomenclature="benchmark", spec=CLASSIFIERS[spec], seed=sp.split.seed, n_jobs=2)
            elapsed += time.perf_counter() - start
            acc = accuracy(sp.validation.labels, predict(model, sp.validation.features)[0])
            kappas.append(acc.kappa)
            oas.append(acc.overall_accuracy)
        rows.append(("all" if cap is None else str(cap), interval(kappas), interval(oas), elapsed / len(splits)))
    return rows


def meets_goal(result: BenchmarkResult, *, min_speedup: float = 10.0, max_kappa_loss: float = 0.01) -> bool:
    """The project's goal for a faster model (issue 21: 10x, floor 8x), on the mean paired kappa difference."""
    return result.speedup >= min_speedup and result.kappa_delta.mean >= -max_kappa_loss


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    from flows.simulator import landcover_series as simulate
    from flows.storage.sources.eolearn import load_eolearn_patch
    from products.landcover import features, gapfill
    from products.landcover.samples import extract_samples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eolearn", type=Path, help="eo-learn TestEOPatch folder (real data)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-simulated", action="store_true", help="skip the simulated OSO 23 scene")
    parser.add_argument("--models", default="rf_iota2,rf_iota2_adaptive,rf_iota2_compiled,et_compiled", help="comma-separated names from classify.CLASSIFIERS")
    parser.add_argument("--caps", help="instead: the default classifier at these per-class sample caps "
                                       "(comma-separated, 0 = every pixel), on a 300x300 px simulated year")
    args = parser.parse_args(argv)
    if args.caps:
        scene = simulate.simulate_scene(years=(2021,), shape=(300, 300), n_parcels=600, seed=1)
        feats = features.features(gapfill.gapfill(scene.series, scene.valid))
        samples = extract_samples(feats, scene.polygon_ids, scene.classes_by_year[2021])
        print(f"simulated S2 OSO 23, {len(samples)} samples, {feats.sizes['feature']} features, {args.runs} runs\n"
              "    cap      kappa [95 %]            OA      train/run")
        caps = [int(c) or None for c in args.caps.split(",")]
        for cap, kappa, oa, seconds in compare_caps(samples, caps=caps, runs=args.runs, rare="drop"):
            print(f"    {cap:>6}  {kappa.mean:.3f} [{kappa.low:.3f},{kappa.high:.3f}]  {oa.mean:.3f}  {seconds:6.1f} s",
                  flush=True)
        return
    models = tuple(args.models.split(","))
    cases = []
    if args.eolearn:
        patch = load_eolearn_patch(args.eolearn)
        feats = features.features(gapfill.gapfill(patch.series, patch.valid), roles=None)
        cases.append(("real eo-learn NDVI", feats, extract_samples(feats, patch.polygon_ids, patch.polygon_classes)))
    if not args.no_simulated:
        scene = simulate.simulate_scene(years=(2021,), shape=(150, 150), n_parcels=300, seed=1)
        feats = features.features(gapfill.gapfill(scene.series, scene.valid))
        cases.append(("simulated S2 OSO 23", feats, extract_samples(feats, scene.polygon_ids, scene.classes_by_year[2021])))
    for title, feats, samples in cases:
        pixels = feats.values.reshape(-1, feats.sizes["feature"])
        print(f"\n{title}: {len(samples)} samples, {feats.sizes['feature']} features, {len(pixels)} pixels, {args.runs} runs")
        print(HEADER)
        for result in compare_classifiers(samples, pixels, specs=models, runs=args.runs, rare="drop"):
            goal = "  goal met" if result.name != "rf_iota2" and meets_goal(result) else ""
            print(result.row() + goal, flush=True)


if __name__ == "__main__":
    main()
