"""``snowland``: a thin command line over the flows and the cube functions.

Every command is a function a Python user can import and call; this module only parses arguments and
prints. Settings come from the environment (see ``odc_config.settings``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from odc_config.settings import PROJECT_ROOT, apply_environ, load_settings

DEFAULT_SIM_DIR = "simulated"


def _db():
    from infra.localdb import LocalPostgis

    s = load_settings()
    return LocalPostgis(root=s.pg_dir, port=s.db_port, db_name=s.db_name)


def ensure_index() -> list[str]:
    """Start the embedded database when it is the one in use, then create the ODC index and products."""
    from flows.cube import init_index

    if not load_settings().external_index:
        _db().up()
    return init_index()


def cmd_db(args: argparse.Namespace) -> int:
    db = _db()
    if load_settings().external_index:
        print("ODC_ENVIRONMENT points at an index of your own; the embedded database is not used.")
    status = {"up": db.up, "down": db.down, "status": db.status}[args.action]()
    print(status.describe())
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Shell exports that point the ``datacube`` command (and any script) at snowland's index."""
    for key, value in sorted(load_settings().odc_environ().items()):
        print(f"export {key}='{value}'")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    """A dataset and the datasets it was made from (``datacube dataset info --show-sources`` cannot show
    the postgis driver's lineage in datacube 1.9)."""
    from flows.cube import connect, sources_of

    dc = connect()
    dataset = dc.index.datasets.get(args.id)
    if dataset is None:
        print(f"no dataset {args.id} in the index", file=sys.stderr)
        return 1
    print(f"{dataset.id}  {dataset.product.name}  {dataset.metadata_doc.get('label', '')}")
    for classifier, sources in sorted(sources_of(args.id, dc=dc).items()):
        for source in sources:
            print(f"  <- {classifier}: {source.id}  {source.product.name}  {source.metadata_doc.get('label', '')}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    products = ensure_index()
    print(f"ODC index ready ({load_settings().env_name}); products: {', '.join(products)}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from flows.simulate import simulate_scenes

    summary = simulate_scenes(
        Path(args.out), seed=args.seed, size_km=args.size_km, start=args.start, end=args.end, progress=print
    )
    print(summary)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from flows.index import index_scenes

    if not (args.stac_api or args.static or args.theia or args.dem):
        print("nothing to index: give --stac-api URL, --static PATH, --theia PATH or --dem PATH", file=sys.stderr)
        return 2
    ensure_index()
    report = index_scenes(
        stac_api=args.stac_api,
        collections=args.collection or ("sentinel-2-l2a", "landsat-c2-l2"),
        bbox=args.bbox,
        intersects=json.loads(Path(args.geojson).read_text()) if args.geojson else None,
        datetime=args.datetime,
        max_items=args.max_items,
        static=args.static or (),
        theia=args.theia or (),
        dem=args.dem or (),
        grid_from=args.grid_from,
    )
    print(report.summary())
    return 1 if report.failed and not (report.added or report.already_there) else 0


def _area(args: argparse.Namespace) -> dict:
    from odc.geo import geom

    if args.cell:
        return {"cell": args.cell}
    if args.bbox:
        return {"geometry": geom.box(*args.bbox, crs="EPSG:4326")}
    if args.geojson:
        return {"geometry": geom.Geometry(json.loads(Path(args.geojson).read_text())["features"][0]["geometry"], crs="EPSG:4326")}
    raise SystemExit("give an area: --cell NAME, --bbox W S E N (degrees) or --geojson FILE")


def cmd_load(args: argparse.Namespace) -> int:
    from flows.cube import load

    data = load(args.product, **_area(args), time=tuple(args.time) if args.time else None,
                measurements=args.measurements, resolution=args.resolution)
    print(describe_cube(data))
    if args.png and data.sizes.get("time", 0):
        from flows.quicklook import cube_quicklook

        print(f"quick-look: {cube_quicklook(data, Path(args.png))}")
    return 0


def describe_cube(data) -> str:
    """A few lines on a loaded cube: grid, time steps, and per band the valid share and mean."""
    import numpy as np

    if not data.sizes.get("time", 0):
        return "no datasets match this query"
    lines = [
        f"{data.attrs.get('product')}: {data.sizes['time']} time step(s) x {data.sizes['y']} x {data.sizes['x']} "
        f"pixels on {data.attrs.get('crs')} ({abs(float(data.x[1] - data.x[0])):g} m)",
        "  days: " + ", ".join(str(t)[:10] for t in data.time.values[:8]) + (" ..." if data.sizes["time"] > 8 else ""),
    ]
    for name, band in data.data_vars.items():
        if band.dtype.kind == "f":
            valid = float(band.notnull().mean())
            lines.append(f"  {name:9s} valid {valid:6.1%}  mean {float(band.mean()):.4f}")
        else:
            values, counts = (x.tolist() for x in np.unique(band.values, return_counts=True))
            top = sorted(zip(counts, values), reverse=True)[:6]
            lines.append(f"  {name:9s} codes " + ", ".join(f"{v}:{c}" for c, v in top))
    return "\n".join(lines)


def cmd_snow(args: argparse.Namespace) -> int:
    from flows.snow import snow_cover

    report = snow_cover(start=args.start, end=args.end, cells=args.cell, bbox=args.bbox,
                        products=args.product or ["s2_l2a", "landsat_c2l2"],
                        overwrite=args.overwrite, params_file=args.params, resolution=args.resolution)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_season(args: argparse.Namespace) -> int:
    from flows.snow import snow_season

    report = snow_season(year=args.year, cells=args.cell, overwrite=args.overwrite)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_validate_snow(args: argparse.Namespace) -> int:
    from flows.validate_snow import format_scores, validate_snow

    scores = validate_snow(Path(args.simulation))
    print(format_scores(scores) if scores else "no snow_cover dataset matches a simulated date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.demo import run_demo

    run_demo(out=Path(args.out), size_km=args.size_km, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snowland",
        description="Snow-cover and land-cover products from Sentinel-2 and Landsat-8 on an Open Data Cube "
        "(EPSG:3035, EEA reference grid). Start with `snowland demo`.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job end to end on simulated scenes: simulate, index, load, pictures")
    p.add_argument("--out", default=str(PROJECT_ROOT / "out"), help="where pictures and summaries go (default: out/)")
    p.add_argument("--size-km", type=float, default=20, help="side of the simulated area (default 20 km)")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("db", help="the embedded PostgreSQL + PostGIS index: up, down, status")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("env", help="print the ODC_* exports for `datacube` commands: eval \"$(snowland env)\"")
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("lineage", help="show a dataset and the source datasets it was made from")
    p.add_argument("id", help="dataset id")
    p.set_defaults(func=cmd_lineage)

    p = sub.add_parser("init", help="create the ODC index (schema, EPSG:3035 spatial index) and add the products")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("simulate", help="write SIMULATED Sentinel-2 / Landsat-8 scenes with STAC items and truth")
    p.add_argument("--out", default=str(load_settings().state_dir / DEFAULT_SIM_DIR))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--size-km", type=float, default=20)
    p.add_argument("--start", default="2023-09-01")
    p.add_argument("--end", default="2024-08-31")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("index", help="index scenes from a STAC API, static STAC files or Theia folders",
                       epilog="example: snowland index --stac-api https://earth-search.aws.element84.com/v1 "
                       "--collection sentinel-2-l2a --bbox 5.5 44.8 6.5 45.3 --datetime 2024-01/2024-02")
    p.add_argument("--stac-api", help="STAC API root URL")
    p.add_argument("--collection", action="append", help="collection to search (repeatable)")
    p.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"), help="search box in degrees")
    p.add_argument("--geojson", help="search area as a GeoJSON geometry file")
    p.add_argument("--datetime", help="RFC 3339 date or range, e.g. 2024-01-01/2024-03-31")
    p.add_argument("--max-items", type=int)
    p.add_argument("--static", action="append", help="static catalog, ItemCollection, item JSON or folder (repeatable)")
    p.add_argument("--theia", action="append", help="folder holding Theia L2A product folders (repeatable)")
    p.add_argument("--dem", action="append", help="DEM GeoTIFF, or folder of them, indexed as dem_cop30 (repeatable)")
    p.add_argument("--grid-from", choices=["item", "file"], default="item",
                   help="take band grids from the item's proj extension (checked against the files) or from the files")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("snow", help="snow-cover flow: Let-It-Snow for indexed scenes without a snow product yet")
    p.add_argument("--start", help="first day (default: everything indexed)")
    p.add_argument("--end", help="last day")
    p.add_argument("--cell", action="append", help="100 km EEA cell, e.g. 100kmE40N24 (repeatable)")
    p.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"))
    p.add_argument("--product", action="append", choices=["s2_l2a", "landsat_c2l2"],
                   help="input product (repeatable; default both)")
    p.add_argument("--params", help="YAML/JSON file of LIS parameters (ndsi_pass1, red_pass1, dz, ...) over the defaults")
    p.add_argument("--resolution", type=float, default=20, help="pixel size in m (default 20)")
    p.add_argument("--overwrite", action="store_true", help="recompute and replace existing products")
    p.set_defaults(func=cmd_snow, product=None)

    p = sub.add_parser("season", help="snow-season flow: SCD, SOD, SMOD, NOBS, NSP of a hydrological year")
    p.add_argument("year", type=int, help="the year the season starts (1 September)")
    p.add_argument("--cell", action="append")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_season)

    p = sub.add_parser("validate-snow", help="accuracy, kappa and zs of snow_cover against a simulation's truth")
    p.add_argument("simulation", nargs="?", default=str(load_settings().state_dir / DEFAULT_SIM_DIR))
    p.set_defaults(func=cmd_validate_snow)

    for name, helptext in (("load", "load a product on the EEA grid and describe it"), ("info", "same as load")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("product")
        p.add_argument("--cell", help="EEA grid cell, e.g. 100kmE40N24 or 10kmE399N243")
        p.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"))
        p.add_argument("--geojson")
        p.add_argument("--time", nargs=2, metavar=("START", "END"))
        p.add_argument("--measurements", nargs="+")
        p.add_argument("--resolution", type=float, default=20)
        p.add_argument("--png", help="write a quick-look PNG of the clearest day")
        p.set_defaults(func=cmd_load)
    return parser


def _quiet_third_party_warnings() -> None:
    """Warnings that third-party libraries print on every dataset and that say nothing to a user."""
    warnings.filterwarnings("ignore", message="The exterior ring of this shape is wound clockwise")
    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    warnings.filterwarnings("ignore", message="Dataset has no geotransform")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_environ()
    _quiet_third_party_warnings()
    started = time.perf_counter()
    try:
        code = args.func(args)
    except Exception as err:  # the CLI answers with the reason, not a traceback
        from flows.cube import CubeError
        from flows.eo3 import BadSourceError
        from infra.localdb import LocalDbError

        if isinstance(err, (CubeError, BadSourceError, LocalDbError, ValueError, FileNotFoundError)):
            print(f"snowland {args.command}: {err}", file=sys.stderr)
            return 1
        raise
    if args.command not in ("db", "env", "lineage"):
        print(f"({time.perf_counter() - started:.1f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
