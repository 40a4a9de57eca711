"""``snowland train-land-cover``, ``land-cover``, ``land-cover-key-date`` and ``score-land-cover``: the land-cover
flows and the scoring of their maps."""

from __future__ import annotations

import argparse

from flows.cli import args as types
from flows.cli import show

KEY_DATES = ("march", "july", "december")


def _area(args: argparse.Namespace) -> dict:
    return {"cells": args.cell or None, "bbox": args.bbox}


def _training(args: argparse.Namespace):
    """The training options; a class mapping snowland does not ship is refused now, before any flow runs."""
    from flows.pipelines.landcover.train import TrainingOptions
    from products.landcover.nomenclature import load_mapping

    if args.reference and args.mapping:
        load_mapping(args.mapping)
    return TrainingOptions(product=args.product, mapping=args.mapping, column=args.column,
                           year_column=args.year_column, method=args.method, runs=args.runs,
                           max_samples_per_class=args.max_samples_per_class, drop_rare=args.drop_rare,
                           report_dir=args.report_dir, **({"seed": args.seed} if "seed" in args else {}),
                           **({"resolution_m": args.resolution} if args.resolution else {}))


def _done(report) -> int:
    show.report(report)
    return 1 if getattr(report, "failed", None) else 0


def cmd_train_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import train_land_cover
    from flows.storage.index import ensure_index

    options = _training(args)
    ensure_index()
    return _done(train_land_cover(reference=args.reference, years=args.years, key_date=args.key_date, options=options,
                                  overwrite=args.overwrite, **_area(args)))


def cmd_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import land_cover
    from flows.storage.index import ensure_index

    ensure_index()
    return _done(land_cover(year=args.year, model=args.model, min_mapping_unit_m2=args.mmu, overwrite=args.overwrite,
                            resolution_m=args.resolution, **_area(args)))


def cmd_land_cover_key_date(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import land_cover_key_date
    from flows.storage.index import ensure_index
    from products.errors import BadInputError

    if not (args.model or args.reference):
        raise BadInputError("give --model ID (a key-date land_cover_model) or --reference FILE to train one")
    if args.train_years and max(args.train_years) >= args.year:
        raise BadInputError(f"--train-years must be before --year {args.year}, not {max(args.train_years)}")
    options = _training(args)
    ensure_index()
    return _done(land_cover_key_date(year=args.year, key_date=args.key_date, model=args.model,
                                     reference=args.reference, train_years=args.train_years, options=options,
                                     resolution_m=args.resolution, overwrite=args.overwrite, **_area(args)))


def cmd_score_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover.score import score_land_cover
    from flows.storage.index import ensure_index

    ensure_index()
    print(score_land_cover(args.dataset, reference=args.reference, out=args.out, mapping=args.mapping,
                           column=args.column, year_column=args.year_column).summary())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from products.landcover.classify import CLASSIFIERS, DEFAULT_CLASSIFIER
    from products.landcover.features import RESOLUTIONS_M
    from products.landcover.samples import MAX_SAMPLES_PER_CLASS

    def area(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cell", action="append", type=types.cell,
                       help="EEA 100 km cell, e.g. 100kmE40N24 (repeatable)")
        types.add_bbox(p)
        p.add_argument("--overwrite", action="store_true", help="replace what exists instead of skipping it")

    def resolution(p: argparse.ArgumentParser, *, default: str) -> None:
        p.add_argument("--resolution", type=int, choices=[int(r) for r in RESOLUTIONS_M],
                       help=f"pixel size in m: 10 (10 m bands at 10 m, the others resampled) or 20 (default: {default})")

    def training(p: argparse.ArgumentParser, *, reference_required: bool) -> None:
        p.add_argument("--reference", required=reference_required, type=types.existing_file, action="append",
                       help="reference polygons: GeoPackage, Shapefile or GeoParquet, any CRS; repeat it for one "
                            "file per training year (in the order of the years), or give files with --year-column")
        p.add_argument("--product", default="s2_l2a", choices=["s2_l2a", "landsat_c2l2", "theia_l8_n2a"],
                       help="the reflectance product the features come from (default s2_l2a)")
        p.add_argument("--mapping",
                       help="class mapping in products/landcover/nomenclatures/mappings (rpg_code_cultu_to_oso23, "
                            "oso23_codes, clc_to_oso23, oso17_to_oso23 ...); default: the one whose column the "
                            "reference has (code_cultu, oso23 / code, code_18 ...)")
        p.add_argument("--column", help="the reference's class column (default: the mapping's)")
        p.add_argument("--year-column", help="a column giving each polygon's year (else the polygons serve every year)")
        p.add_argument("--method", default=DEFAULT_CLASSIFIER, choices=sorted(CLASSIFIERS),
                       help=f"classifier (default {DEFAULT_CLASSIFIER}, iota2's forest with early-stopped voting); "
                            "svm_rbf: the near-real-time chain's SVM, standardised features, RBF kernel, C and gamma "
                            "cross-validated on the past years, at most 600 pixels per class")
        p.add_argument("--runs", type=types.positive_int, default=3,
                       help="validation runs with different by-polygon splits")
        p.add_argument("--max-samples-per-class", type=types.positive_int, default=MAX_SAMPLES_PER_CLASS,
                       help=f"training pixels drawn per class at most (default {MAX_SAMPLES_PER_CLASS})")
        p.add_argument("--drop-rare", action="store_true",
                       help="leave out classes with fewer than 2 polygons instead of stopping")
        p.add_argument("--report-dir", help="where the validation JSON + HTML page go")

    p = sub.add_parser("train-land-cover", help="train a land-cover model on reference polygons and images of some years",
                       epilog="example: snowland train-land-cover --reference rpg2023.gpkg --years 2023 "
                              "--cell 100kmE38N23 --report-dir out/")
    training(p, reference_required=True)
    p.add_argument("--years", type=types.year, nargs="+", required=True, help="training years")
    p.add_argument("--key-date", choices=KEY_DATES,
                   help="train a near-real-time model for this key date (default: a yearly model)")
    p.add_argument("--seed", type=int, default=0)
    resolution(p, default="10")
    area(p)
    p.set_defaults(func=cmd_train_land_cover)

    p = sub.add_parser("land-cover", help="yearly land-cover map (class, confidence, clear observations) per cell",
                       epilog="example: snowland land-cover --year 2024 --model <land_cover_model id> --mmu 1000")
    p.add_argument("--year", type=types.year, required=True)
    p.add_argument("--model", type=types.dataset_id, required=True,
                   help="id of a land_cover_model dataset (printed by train-land-cover)")
    p.add_argument("--mmu", type=types.non_negative_float, default=0.0,
                   help="minimum mapping unit in m² (sieve), e.g. 1000 = 0.1 ha")
    resolution(p, default="the model's")
    area(p)
    p.set_defaults(func=cmd_land_cover)

    p = sub.add_parser("land-cover-key-date",
                       help="near-real-time land cover at a key date from a model of previous years",
                       epilog="example: snowland land-cover-key-date --year 2024 --key-date july --reference "
                              "parcels.gpkg --year-column year --train-years 2022 2023")
    p.add_argument("--year", type=types.year, required=True)
    p.add_argument("--key-date", required=True, choices=KEY_DATES)
    p.add_argument("--model", type=types.dataset_id, help="a key-date land_cover_model id; else one is trained on --reference")
    p.add_argument("--train-years", type=types.year, nargs="+",
                   help="years before --year to train on (default: the two before)")
    training(p, reference_required=False)
    resolution(p, default="the model's; 10 for a model trained here")
    area(p)
    p.set_defaults(func=cmd_land_cover_key_date)

    p = sub.add_parser("score-land-cover",
                       help="score a land-cover map against a reference in any nomenclature: OA, kappa, F1, confusion, "
                            "all classes and crop classes alone (JSON + validation page)",
                       epilog="example: snowland score-land-cover <land_cover dataset id> --reference rpg2024.gpkg "
                              "--out scores/")
    p.add_argument("dataset", type=types.dataset_id, help="id of a land_cover or land_cover_nrt dataset")
    p.add_argument("--reference", required=True, type=types.existing_file,
                   help="reference polygons (GeoPackage, Shapefile, GeoParquet; any CRS) or raster (GeoTIFF, VRT)")
    p.add_argument("--mapping", help="class mapping of the reference (default: the one its columns call for; "
                                     "oso23_codes for a raster)")
    p.add_argument("--column", help="the reference's class column (default: the mapping's)")
    p.add_argument("--year-column", help="a column giving each polygon's year: only the map's year counts")
    p.add_argument("--out", required=True, help="folder of score.json / .html and score_crops.json / .html")
    p.set_defaults(func=cmd_score_land_cover)
