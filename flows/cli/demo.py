"""``snowland demo``: the main job end to end on simulated scenes (``flows.pipelines.demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.cli import args as types

DEMO_SIZES = ("full", "small")  # flows.pipelines.demo.SIZES, named here so that --help imports no flow


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.pipelines.demo import run_demo
    from odc_config.settings import PROJECT_ROOT

    run_demo(out=Path(args.out) if args.out else PROJECT_ROOT / "out", size_km=args.size_km, seed=args.seed,
             size=args.size, map_screenshot=not args.no_map_screenshot)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job end to end on simulated scenes: simulate, index, load, pictures")
    p.add_argument("--out", help="where pictures and summaries go (default: out/ in the project)")
    p.add_argument("--size", choices=DEMO_SIZES, default="full",
                   help="full (default): a 20 km snow world and a 5 km land-cover world drawn and mapped at 10 m; "
                   "small: 3 km and 2 km (land cover at 20 m), imaged every 60 and 40 days, to check that every "
                   "step runs")
    p.add_argument("--size-km", type=types.positive_float, help="side of the simulated snow world (default: the size's)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-map-screenshot", action="store_true",
                   help="do not start the server to save the map page as out/map.png (saves ~40 s)")
    p.set_defaults(func=cmd_demo)
