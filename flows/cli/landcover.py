"""``snowland train-land-cover``, ``land-cover`` and ``land-cover-key-date``: the land-cover flows."""

from __future__ import annotations

import argparse

from flows.cli import args as types
from flows.cli import show

KEY_DATES = ("march", "july", "december")


def _area(args: argparse.Namespace) -> dict:
    return {"cells": args.cell or None, "bbox": args.bbox}


def _training(args: argparse.Namespace) -> dict:
    """The training options; a class mapping snowland does not ship is refused now, before any flow runs."""
    from products.landcover.nomenclature import load_mapping

    if args.reference:
        load_mapping(args.mapping)
    given = {"max_samples_per_class": args.max_samples_per_class} if args.max_samples_per_class else {}
    return {"product": args.product, "mapping": args.mapping, "column": args.column, "year_column": args.year_column,
            "method": args.method, "runs": args.runs, "drop_rare": args.drop_rare, "report_dir": args.report_dir,
            **given}


def _done(report) -> int:
    show.report(report)
    return 1 if getattr(report, "failed", None) else 0


def cmd_train_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import train_land_cover
    from flows.storage.index import ensure_index

    options = _training(args)
    ensure_index()
    return _done(train_land_cover(reference=args.reference, years=args.years, key_date=args.key_date, seed=args.seed,
                                  overwrite=args.overwrite, **_area(args), **options))


def cmd_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import land_cover
    from flows.storage.index import ensure_index

    ensure_index()
    return _done(land_cover(year=args.year, model=args.model, min_mapping_unit_m2=args.mmu, overwrite=args.overwrite,
                            **_area(args)))


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
                                     reference=args.reference, train_years=args.train_years, overwrite=args.overwrite,
                                     **_area(args), **options))


def add_commands(sub: argparse._SubParsersAction) -> None:
    from products.landcover.classify import CLASSIFIERS, DEFAULT_CLASSIFIER

    def area(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cell", action="append", type=types.cell,
                       help="EEA 100 km cell, e.g. 100kmE40N24 (repeatable)")
        types.add_bbox(p)
        p.add_argument("--overwrite", action="store_true", help="replace what exists instead of skipping it")

    def training(p: argparse.ArgumentParser, *, reference_required: bool) -> None:
        p.add_argument("--reference", required=reference_required, type=types.existing_file,
                       help="reference polygons: GeoPackage, Shapefile or GeoParquet")
        p.add_argument("--product", default="s2_l2a", choices=["s2_l2a", "landsat_c2l2", "theia_l8_n2a"],
                       help="the reflectance product the features come from (default s2_l2a)")
        p.add_argument("--mapping", default="rpg_code_cultu_to_oso23",
                       help="class mapping in products/landcover/nomenclatures/mappings (default: RPG crop codes "
                            "to OSO 23; oso17_to_oso23, oso23_codes, clc_to_oso23 ...)")
        p.add_argument("--column", help="the reference's class column (default: the mapping's)")
        p.add_argument("--year-column", help="a column giving each polygon's year (else the polygons serve every year)")
        p.add_argument("--method", default=DEFAULT_CLASSIFIER, choices=sorted(CLASSIFIERS))
        p.add_argument("--runs", type=types.positive_int, default=3,
                       help="validation runs with different by-polygon splits")
        p.add_argument("--max-samples-per-class", type=types.positive_int,
                       help="training pixels drawn per class at most (default 3000)")
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
    area(p)
    p.set_defaults(func=cmd_train_land_cover)

    p = sub.add_parser("land-cover", help="yearly land-cover map (class, confidence, clear observations) per cell",
                       epilog="example: snowland land-cover --year 2024 --model <land_cover_model id> --mmu 1000")
    p.add_argument("--year", type=types.year, required=True)
    p.add_argument("--model", type=types.dataset_id, required=True,
                   help="id of a land_cover_model dataset (printed by train-land-cover)")
    p.add_argument("--mmu", type=types.non_negative_float, default=0.0,
                   help="minimum mapping unit in m² (sieve), e.g. 1000 = 0.1 ha")
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
    area(p)
    p.set_defaults(func=cmd_land_cover_key_date)
