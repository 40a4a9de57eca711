"""``snowland snow``, ``snow-daily``, ``season`` and ``validate-snow``: the snow-cover, snow-daily and snow-season
flows, and their scores."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.cli import args as types
from flows.cli import show
from flows.cli.data import DEFAULT_SIM_DIR, simulation_dir
from products.errors import MissingDataError

SNOW_INPUTS = ("s2_l2a", "landsat_c2l2")


def cmd_snow(args: argparse.Namespace) -> int:
    from flows.pipelines.snow_cover import snow_cover
    from products.snow.params import SnowParams

    types.period(args.start, args.end)
    SnowParams.for_pixel_size(args.resolution)  # a resolution or parameter file the flow would refuse, said now
    if args.params:
        SnowParams.from_file(args.params)
    report = snow_cover(start=args.start, end=args.end, since_days=args.since_days, cells=args.cell, bbox=args.bbox,
                        products=args.product or list(SNOW_INPUTS), overwrite=args.overwrite, params_file=args.params,
                        resolution=args.resolution, shaded_snow=args.shaded_snow)
    show.report(report)
    return 1 if report.failed else 0


def cmd_snow_daily(args: argparse.Namespace) -> int:
    from flows.pipelines.snow_daily import snow_daily
    from products.snow.daily import check_window

    if args.start and args.end:
        types.period(args.start, args.end)
    check_window(args.window_days)  # before the flow starts: a user's error is one line, not a flow's ERROR log
    report = snow_daily(start=args.start, end=args.end, cells=args.cell, window_days=args.window_days,
                        resolution=args.resolution, overwrite=args.overwrite)
    show.report(report)
    return 1 if report.failed else 0


def cmd_season(args: argparse.Namespace) -> int:
    from flows.pipelines.snow_season import snow_season

    report = snow_season(year=args.year, cells=args.cell, overwrite=args.overwrite)
    show.report(report)
    return 1 if report.failed else 0


def cmd_validate_snow(args: argparse.Namespace) -> int:
    from flows.pipelines.validate_snow import format_daily, format_scores, validate_daily, validate_snow

    folder = simulation_dir(args.simulation)
    if not (folder / "truth" / "truth.json").is_file():
        raise MissingDataError(f"{folder} holds no simulated truth (truth/truth.json): give the folder of "
                               "`snowland simulate --out`")
    scores = validate_snow(Path(folder))
    print(format_scores(scores) if scores else "no snow_cover dataset matches a simulated date")
    daily = validate_daily(Path(folder))
    print(format_daily(daily) if daily else "no snow_daily map over the simulated world")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snow", help="snow-cover flow: Let-It-Snow for indexed scenes without a snow product yet")
    p.add_argument("--start", type=types.day, help="first day (default: everything indexed)")
    p.add_argument("--end", type=types.day, help="last day")
    p.add_argument("--since-days", type=types.positive_float,
                   help="scenes acquired in the last N days (when no --start is given)")
    p.add_argument("--cell", action="append", type=types.cell, help="100 km EEA cell, e.g. 100kmE40N24 (repeatable)")
    types.add_bbox(p)
    p.add_argument("--product", action="append", choices=SNOW_INPUTS, help="input product (repeatable; default both)")
    p.add_argument("--params", type=types.existing_file,
                   help="YAML/JSON file of LIS parameters (ndsi_pass1, red_pass1, dz, ...) over the defaults")
    p.add_argument("--resolution", type=types.positive_float, default=20, help="pixel size in m (default 20)")
    p.add_argument("--overwrite", action="store_true", help="recompute and replace existing products")
    p.add_argument("--shaded-snow", action=argparse.BooleanOptionalAction, default=None,
                   help="LIS's shaded-snow test in relief shadow (default: on, or detect_shaded_snow of --params)")
    p.set_defaults(func=cmd_snow, product=None)

    p = sub.add_parser("snow-daily", help="snow-daily flow: a gap-free snow map per cell and day from the latest "
                       "clear snow_cover observation of a window of days")
    p.add_argument("--start", type=types.day, help="first day (default: --end)")
    p.add_argument("--end", type=types.day, help="last day (default: today, UTC)")
    p.add_argument("--cell", action="append", type=types.cell,
                   help="100 km EEA cell (repeatable; default: every cell with snow_cover in the period)")
    p.add_argument("--window-days", type=types.positive_int, default=7, help="days an observation lasts (default 7)")
    p.add_argument("--resolution", type=types.positive_float, default=20, help="pixel size in m (default 20)")
    p.add_argument("--overwrite", action="store_true", help="recompute and replace existing maps")
    p.set_defaults(func=cmd_snow_daily)

    p = sub.add_parser("season", help="snow-season flow: SCD, SOD, SMOD, NOBS, NSP of a hydrological year")
    p.add_argument("year", type=types.year, help="the year the season starts (1 September)")
    p.add_argument("--cell", action="append", type=types.cell)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_season)

    p = sub.add_parser("validate-snow", help="accuracy, kappa and zs of snow_cover, and the daily map's "
                       "accuracy by observation age, against a simulation's truth")
    p.add_argument("simulation", nargs="?", help=f"folder of a simulation (default: {DEFAULT_SIM_DIR}/ in "
                   "SNOWLAND_HOME)")
    p.set_defaults(func=cmd_validate_snow)
