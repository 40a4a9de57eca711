"""``snowland simulate``, ``index``, ``load`` (``info``) and ``lineage``: data into the cube and back out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flows.cli import args as types
from flows.cli import show
from products.errors import BadInputError

DEFAULT_SIM_DIR = "simulated"  # below SNOWLAND_HOME


def simulation_dir(given: str | None) -> Path:
    """The folder of simulated scenes: the one given, else ``simulated`` in snowland's state folder."""
    from odc_config.settings import load_settings

    return Path(given) if given else load_settings().state_dir / DEFAULT_SIM_DIR


def cmd_simulate(args: argparse.Namespace) -> int:
    from flows.simulator.scenes import simulate_scenes

    types.period(args.start, args.end)
    summary = simulate_scenes(simulation_dir(args.out), seed=args.seed, size_km=args.size_km, start=args.start,
                              end=args.end, progress=print)
    print(summary)
    return 0


def _geojson(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise BadInputError(f"{path} is not GeoJSON: {err}") from None


def cmd_index(args: argparse.Namespace) -> int:
    from flows.pipelines.index import index_scenes
    from flows.storage.index import ensure_index

    if not (args.stac_api or args.static or args.theia or args.dem or args.tcd):
        raise BadInputError("nothing to index: give --stac-api URL, --static PATH, --theia PATH, --dem PATH or "
                            "--tcd PATH")
    intersects = _geojson(args.geojson) if args.geojson else None
    ensure_index()
    report = index_scenes(
        stac_api=args.stac_api,
        collections=args.collection or ("sentinel-2-l2a", "landsat-c2-l2"),
        bbox=args.bbox,
        intersects=intersects,
        datetime=args.datetime,
        since_days=args.since_days,
        max_items=args.max_items,
        static=args.static or (),
        theia=args.theia or (),
        dem=args.dem or (),
        tcd=args.tcd or (),
        grid_from=args.grid_from,
        check_headers="all" if args.check_all_headers else "sample",
    )
    show.report(report)
    return 1 if report.failed else 0


def _area(args: argparse.Namespace) -> dict:
    from odc.geo import geom

    given = types.one_of(args, ("cell", "bbox", "geojson"), say="area: --cell NAME, --bbox W S E N (degrees) or "
                         "--geojson FILE")
    if given == "cell":
        return {"cell": args.cell}
    if given == "bbox":
        return {"geometry": geom.box(*args.bbox, crs="EPSG:4326")}
    doc = _geojson(args.geojson)
    shape = doc["features"][0]["geometry"] if doc.get("type") == "FeatureCollection" and doc.get("features") else doc
    return {"geometry": geom.Geometry(shape.get("geometry", shape), crs="EPSG:4326")}


def cmd_load(args: argparse.Namespace) -> int:
    from flows.ask.quicklook import cube_quicklook, describe_cube
    from flows.storage.load import load

    area = _area(args)
    if args.time:
        types.period(*args.time, what="--time")
    data = load(args.product, **area, time=tuple(args.time) if args.time else None,
                measurements=args.measurements, resolution=args.resolution)
    print(describe_cube(data))
    if args.png and data.sizes.get("time", 0):
        print(f"quick-look: {cube_quicklook(data, Path(args.png))}")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    """A dataset and the datasets it was made from (``datacube dataset info --show-sources`` cannot show
    the postgis driver's lineage in datacube 1.9)."""
    from flows.storage.index import CubeError, connect, sources_of

    dc = connect()
    dataset = dc.index.datasets.get(args.id)
    if dataset is None:
        raise CubeError(f"no dataset {args.id} in the index")
    print(f"{dataset.id}  {dataset.product.name}  {dataset.metadata_doc.get('label', '')}")
    for classifier, sources in sorted(sources_of(args.id, dc=dc).items()):
        for source in sources:
            print(f"  <- {classifier}: {source.id}  {source.product.name}  {source.metadata_doc.get('label', '')}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lineage", help="show a dataset and the source datasets it was made from")
    p.add_argument("id", type=types.dataset_id, help="dataset id")
    p.set_defaults(func=cmd_lineage)

    p = sub.add_parser("simulate", help="write SIMULATED Sentinel-2 / Landsat-8 scenes with STAC items and truth")
    p.add_argument("--out", help=f"folder of the scenes (default: {DEFAULT_SIM_DIR}/ in SNOWLAND_HOME)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--size-km", type=types.positive_float, default=20)
    p.add_argument("--start", type=types.day, default="2023-09-01")
    p.add_argument("--end", type=types.day, default="2024-08-31")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("index", help="index scenes from a STAC API, static STAC files or Theia folders",
                       epilog="example: snowland index --stac-api https://earth-search.aws.element84.com/v1 "
                       "--collection sentinel-2-l2a --bbox 5.5 44.8 6.5 45.3 --datetime 2024-01/2024-02")
    p.add_argument("--stac-api", help="STAC API root URL")
    p.add_argument("--collection", action="append", help="collection to search (repeatable)")
    types.add_bbox(p, help="search box in degrees")
    p.add_argument("--geojson", type=types.existing_file, help="search area as a GeoJSON geometry file")
    p.add_argument("--datetime", help="RFC 3339 date or range, e.g. 2024-01-01/2024-03-31")
    p.add_argument("--since-days", type=types.positive_float,
                   help="scenes acquired in the last N days (instead of --datetime)")
    p.add_argument("--max-items", type=types.positive_int)
    p.add_argument("--static", action="append", type=types.existing_path,
                   help="static catalog, ItemCollection, item JSON or folder (repeatable)")
    p.add_argument("--theia", action="append", type=types.existing_folder,
                   help="folder holding Theia L2A product folders (repeatable)")
    p.add_argument("--dem", action="append", type=types.existing_path,
                   help="DEM GeoTIFF, or folder of them, indexed as dem_cop30 (repeatable)")
    p.add_argument("--tcd", action="append", type=types.existing_path,
                   help="Copernicus HRL Tree Cover Density GeoTIFF, or folder of them, indexed as tcd (repeatable)")
    p.add_argument("--grid-from", choices=["item", "file"], default="item",
                   help="take band grids from the item's proj extension (checked against the files) or from the files")
    p.add_argument("--check-all-headers", action="store_true",
                   help="check every band file's header against its item (default: a sample, the rest trusted and "
                        "counted in the report)")
    p.set_defaults(func=cmd_index)

    for name, helptext in (("load", "load a product on the EEA grid and describe it"), ("info", "same as load")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("product")
        p.add_argument("--cell", type=types.cell, help="EEA grid cell, e.g. 100kmE40N24 or 10kmE399N243")
        types.add_bbox(p)
        p.add_argument("--geojson", type=types.existing_file, help="a GeoJSON geometry or feature collection "
                       "(its first feature)")
        p.add_argument("--time", nargs=2, type=types.day, metavar=("START", "END"))
        p.add_argument("--measurements", nargs="+")
        p.add_argument("--resolution", type=types.positive_float, default=20)
        p.add_argument("--png", help="write a quick-look PNG of the clearest day")
        p.set_defaults(func=cmd_load)
