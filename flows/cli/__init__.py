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


from flows.ask.quicklook import describe_cube  # noqa: E402
from flows.storage.index import ensure_index  # noqa: E402


def _db():
    from infra.localdb import LocalPostgis

    s = load_settings()
    return LocalPostgis(root=s.pg_dir, port=s.db_port, db_name=s.db_name)


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


# --- snowland prefect: the schedules of prefect.yaml on one machine (infra/localprefect.py) ---
def cmd_prefect(args: argparse.Namespace) -> int:
    """A local Prefect server and process worker: up, down, status, deploy prefect.yaml, run a deployment."""
    from infra.localprefect import LocalPrefect, LocalPrefectError, parse_params

    local = LocalPrefect.from_settings()
    try:
        if args.action == "up":
            ensure_index()
            print(local.up().describe())
        elif args.action in ("down", "status"):
            print((local.down() if args.action == "down" else local.status()).describe())
        elif args.action == "deploy":
            names = local.deploy(target=args.target, names=args.deployment or ())
            print(f"deployed on {local.url}: {', '.join(names)}")
        else:
            if len(args.deployment or []) != 1:
                print("give one deployment: snowland prefect run FLOW/DEPLOYMENT [--param k=v ...]", file=sys.stderr)
                return 2
            run = local.run(args.deployment[0], parameters=parse_params(args.param or []), wait=not args.no_wait)
            print(f"flow run {run.name} ({run.id}): {run.state.name if run.state else 'submitted'}")
            return 0 if args.no_wait or (run.state and run.state.is_completed()) else 1
    except LocalPrefectError as err:
        print(f"snowland prefect {args.action}: {err}", file=sys.stderr)
        return 1
    return 0
# --- end snowland prefect ---


def cmd_lineage(args: argparse.Namespace) -> int:
    """A dataset and the datasets it was made from (``datacube dataset info --show-sources`` cannot show
    the postgis driver's lineage in datacube 1.9)."""
    from flows.storage.index import connect, sources_of

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
    from flows.simulator.scenes import simulate_scenes

    summary = simulate_scenes(
        Path(args.out), seed=args.seed, size_km=args.size_km, start=args.start, end=args.end, progress=print
    )
    print(summary)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from flows.pipelines.index import index_scenes

    if not (args.stac_api or args.static or args.theia or args.dem or args.tcd):
        print("nothing to index: give --stac-api URL, --static PATH, --theia PATH, --dem PATH or --tcd PATH",
              file=sys.stderr)
        return 2
    ensure_index()
    report = index_scenes(
        stac_api=args.stac_api,
        collections=args.collection or ("sentinel-2-l2a", "landsat-c2-l2"),
        bbox=args.bbox,
        intersects=json.loads(Path(args.geojson).read_text()) if args.geojson else None,
        datetime=args.datetime,
        since_days=args.since_days,
        max_items=args.max_items,
        static=args.static or (),
        theia=args.theia or (),
        dem=args.dem or (),
        tcd=args.tcd or (),
        grid_from=args.grid_from,
    )
    print(report.summary())
    return 1 if report.failed else 0


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
    from flows.storage.load import load

    data = load(args.product, **_area(args), time=tuple(args.time) if args.time else None,
                measurements=args.measurements, resolution=args.resolution)
    print(describe_cube(data))
    if args.png and data.sizes.get("time", 0):
        from flows.ask.quicklook import cube_quicklook

        print(f"quick-look: {cube_quicklook(data, Path(args.png))}")
    return 0


def cmd_snow(args: argparse.Namespace) -> int:
    from flows.pipelines.snow_cover import snow_cover

    report = snow_cover(start=args.start, end=args.end, since_days=args.since_days, cells=args.cell, bbox=args.bbox,
                        products=args.product or ["s2_l2a", "landsat_c2l2"],
                        overwrite=args.overwrite, params_file=args.params, resolution=args.resolution)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_season(args: argparse.Namespace) -> int:
    from flows.pipelines.snow_season import snow_season

    report = snow_season(year=args.year, cells=args.cell, overwrite=args.overwrite)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_validate_snow(args: argparse.Namespace) -> int:
    from flows.pipelines.validate_snow import format_scores, validate_snow

    scores = validate_snow(Path(args.simulation))
    print(format_scores(scores) if scores else "no snow_cover dataset matches a simulated date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.pipelines.demo import run_demo

    run_demo(out=Path(args.out), size_km=args.size_km, seed=args.seed)
    return 0


# --- snowland query / search / serve: ad-hoc tables, the free-text catalogue, the web catalogue (issue 6) ---
LARGE_AREA_KM2 = 2_000.0  # above this a query runs on a dask cluster (flows.run.cluster) rather than in-process


def _query_area(args: argparse.Namespace):
    given = [a for a in (args.place, args.bbox, args.file) if a]
    if len(given) != 1:
        raise SystemExit("give one area: --place NAME, --bbox W S E N (degrees) or --file GEOJSON")
    return args.bbox or args.file or args.place


def cmd_query(args: argparse.Namespace) -> int:
    """A table (and on request a PNG) for snow-area, snow-season or land-cover over an area."""
    import contextlib

    from flows.ask import queries

    area = _query_area(args)
    km2 = queries.resolve_area(area).to_crs("EPSG:3035").area / 1e6
    runner = contextlib.nullcontext()
    if args.dask or km2 > LARGE_AREA_KM2:
        from flows.run.cluster import dask_client

        runner = dask_client()
    common = {"resolution": args.resolution, "png": args.png, "progress": True}
    with runner:
        if args.what == "snow-area":
            if not args.time:
                raise SystemExit("snow-area needs --time START END")
            table = queries.snow_area(area, time=tuple(args.time), sensors=args.sensor, **common)
        elif args.what == "snow-season":
            table = queries.snow_season_figures(area, year=_need_year(args), **common)
        else:
            table = queries.land_cover_areas(area, year=_need_year(args), product=args.product, by=args.by, **common)
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.json:
        table.to_json(args.json, orient="records", date_format="iso", indent=1)
    print(table.drop(columns=["datasets"], errors="ignore").to_string(index=False) if len(table)
          else "no product matches this area and period (empty table)")
    for written in (args.csv, args.json, args.png if len(table) else None):
        if written:
            print(f"wrote {written}")
    return 0


def _need_year(args: argparse.Namespace) -> int:
    if args.year is None:
        raise SystemExit(f"{args.what} needs --year YEAR")
    return args.year


def cmd_search(args: argparse.Namespace) -> int:
    """Search the catalogue as people type it; optionally write STAC and Metalink files."""
    from flows.ask.catalogue import search, write_metalink, write_stac

    result = search(" ".join(args.text), limit=args.limit)
    print(result.query.describe())
    for ds in result.datasets:
        props = ds.metadata_doc.get("properties", {})
        print(f"  {str(ds.center_time)[:19]}  {ds.product.name:13s} {props.get('eo:platform', ''):12s} "
              f"{ds.metadata_doc.get('label', '')}  {ds.id}")
    print(f"{len(result.datasets)} dataset(s) in {', '.join(result.products) or 'no product'}")
    if args.stac:
        print(f"wrote {write_stac(result, args.stac)}")
    if args.meta4:
        print(f"wrote {write_metalink(result, args.meta4, hashes=args.hash)}")
    return 0 if result.query.understood else 3


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.ask.serve import serve

    ensure_index()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    return serve(host=args.host, port=args.port, refresh=not args.no_refresh)


def add_query_commands(sub) -> None:
    p = sub.add_parser("query", help="ad-hoc tables over an area: snow-area, snow-season, land-cover (CSV/JSON/PNG)",
                       epilog='example: snowland query snow-area --place "Écrins" --time 2024-01-01 2024-03-31 '
                       "--csv snow.csv --png snow.png")
    p.add_argument("what", choices=["snow-area", "snow-season", "land-cover"])
    p.add_argument("--place", help="a massif, catchment or town by name")
    p.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"), help="a box in degrees")
    p.add_argument("--file", help="a GeoJSON (or other vector) file; land-cover gives one table per polygon")
    p.add_argument("--time", nargs=2, metavar=("START", "END"), help="snow-area period")
    p.add_argument("--year", type=int, help="snow-season: the year the season starts; land-cover: the map's year")
    p.add_argument("--sensor", action="append", choices=["s2", "l8"], help="snow-area: keep these sensors")
    p.add_argument("--product", default="land_cover", choices=["land_cover", "land_cover_nrt"])
    p.add_argument("--by", help="land-cover: the file's column that names each polygon")
    p.add_argument("--resolution", type=float, default=20)
    p.add_argument("--csv", help="write the table as CSV")
    p.add_argument("--json", help="write the table as JSON records")
    p.add_argument("--png", help="write a plot (snow-area) or a map (snow-season, land-cover)")
    p.add_argument("--dask", action="store_true", help=f"compute on a dask cluster (automatic above {LARGE_AREA_KM2:g} km²)")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("search", help='search the catalogue as you would type it: "Toulouse LANDSAT8 2014"')
    p.add_argument("text", nargs="+", help="free text: place, sensor, product, dates (French or English)")
    p.add_argument("--stac", help="write the matches as a STAC ItemCollection (JSON)")
    p.add_argument("--meta4", help="write the matches' files as a Metalink 4 download list")
    p.add_argument("--hash", action="store_true", help="add SHA-256 hashes of local files to the Metalink")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("serve", help="web pages and a STAC API over the index (datacube-explorer), read-only")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-refresh", action="store_true", help="serve the summaries as they are (skip cubedash-gen)")
    p.set_defaults(func=cmd_serve)
# --- end snowland query / search / serve ---


# --- snowland train-land-cover / land-cover / land-cover-key-date: land-cover flows (issue 4) ---
def _lc_area(args: argparse.Namespace) -> dict:
    return {"cells": args.cell or None, "bbox": args.bbox}


def cmd_train_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import train_land_cover

    ensure_index()
    result = train_land_cover(reference=args.reference, years=args.years, **_lc_area(args), product=args.product,
                              mapping=args.mapping, column=args.column, year_column=args.year_column,
                              key_date=args.key_date, method=args.method, runs=args.runs, seed=args.seed,
                              drop_rare=args.drop_rare, report_dir=args.report_dir, overwrite=args.overwrite)
    print(result.summary())
    return 1 if result.failed else 0


def cmd_land_cover(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import land_cover

    ensure_index()
    report = land_cover(year=args.year, model=args.model, **_lc_area(args), min_mapping_unit_m2=args.mmu,
                        overwrite=args.overwrite)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_land_cover_key_date(args: argparse.Namespace) -> int:
    from flows.pipelines.landcover import land_cover_key_date

    ensure_index()
    report = land_cover_key_date(year=args.year, key_date=args.key_date, model=args.model, reference=args.reference,
                                 train_years=args.train_years, **_lc_area(args), product=args.product,
                                 mapping=args.mapping, column=args.column, year_column=args.year_column,
                                 method=args.method, runs=args.runs, drop_rare=args.drop_rare,
                                 report_dir=args.report_dir, overwrite=args.overwrite)
    print(report.summary())
    return 1 if report.failed else 0


def add_landcover_commands(sub) -> None:
    from products.landcover.classify import CLASSIFIERS, DEFAULT_CLASSIFIER

    def area(p):
        p.add_argument("--cell", action="append", help="EEA 100 km cell, e.g. 100kmE40N24 (repeatable)")
        p.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"), help="a box in degrees")
        p.add_argument("--overwrite", action="store_true", help="replace what exists instead of skipping it")

    def training(p, *, reference_required: bool):
        p.add_argument("--reference", required=reference_required,
                       help="reference polygons: GeoPackage, Shapefile or GeoParquet")
        p.add_argument("--product", default="s2_l2a", choices=["s2_l2a", "landsat_c2l2", "theia_l8_n2a"],
                       help="the reflectance product the features come from (default s2_l2a)")
        p.add_argument("--mapping", default="rpg_code_cultu_to_oso23",
                       help="class mapping in products/landcover/nomenclatures/mappings (default: RPG crop codes "
                            "to OSO 23; oso17_to_oso23, oso23_codes, clc_to_oso23 ...)")
        p.add_argument("--column", help="the reference's class column (default: the mapping's)")
        p.add_argument("--year-column", help="a column giving each polygon's year (else the polygons serve every year)")
        p.add_argument("--method", default=DEFAULT_CLASSIFIER, choices=sorted(CLASSIFIERS))
        p.add_argument("--runs", type=int, default=3, help="validation runs with different by-polygon splits")
        p.add_argument("--drop-rare", action="store_true",
                       help="leave out classes with fewer than 2 polygons instead of stopping")
        p.add_argument("--report-dir", help="where the validation JSON + HTML page go")

    p = sub.add_parser("train-land-cover", help="train a land-cover model on reference polygons and images of some years",
                       epilog="example: snowland train-land-cover --reference rpg2023.gpkg --years 2023 "
                              "--cell 100kmE38N23 --report-dir out/")
    training(p, reference_required=True)
    p.add_argument("--years", type=int, nargs="+", required=True, help="training years")
    p.add_argument("--key-date", choices=["march", "july", "december"],
                   help="train a near-real-time model for this key date (default: a yearly model)")
    p.add_argument("--seed", type=int, default=0)
    area(p)
    p.set_defaults(func=cmd_train_land_cover)

    p = sub.add_parser("land-cover", help="yearly land-cover map (class, confidence, clear observations) per cell",
                       epilog="example: snowland land-cover --year 2024 --model <land_cover_model id> --mmu 1000")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--model", required=True, help="id of a land_cover_model dataset (printed by train-land-cover)")
    p.add_argument("--mmu", type=float, default=0.0, help="minimum mapping unit in m² (sieve), e.g. 1000 = 0.1 ha")
    area(p)
    p.set_defaults(func=cmd_land_cover)

    p = sub.add_parser("land-cover-key-date",
                       help="near-real-time land cover at a key date from a model of previous years",
                       epilog="example: snowland land-cover-key-date --year 2024 --key-date july --reference "
                              "parcels.gpkg --year-column year --train-years 2022 2023")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--key-date", required=True, choices=["march", "july", "december"])
    p.add_argument("--model", help="a key-date land_cover_model id; else one is trained on --reference")
    p.add_argument("--train-years", type=int, nargs="+", help="years before --year to train on (default: the two before)")
    training(p, reference_required=False)
    area(p)
    p.set_defaults(func=cmd_land_cover_key_date)
# --- end snowland land cover ---


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

    # --- snowland prefect ---
    p = sub.add_parser("prefect", help="local Prefect server + worker for the schedules of prefect.yaml: "
                       "up, down, status, deploy, run",
                       epilog="examples: snowland prefect up; snowland prefect deploy; "
                       "snowland prefect run snow-cover/alps-after-indexing --param start=2024-01-01")
    p.add_argument("action", choices=["up", "down", "status", "deploy", "run"])
    p.add_argument("deployment", nargs="*", help="run: FLOW/DEPLOYMENT; deploy: deployment names (default: all "
                   "of the target pool)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="run: a parameter (JSON or text; repeatable)")
    p.add_argument("--target", choices=["local", "kubernetes"], default="local",
                   help="deploy: the deployments of the local process pool (default) or of the Kubernetes pool")
    p.add_argument("--no-wait", action="store_true", help="run: return once the run is created")
    p.set_defaults(func=cmd_prefect)
    # --- end snowland prefect ---

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
    p.add_argument("--since-days", type=float, help="scenes acquired in the last N days (instead of --datetime)")
    p.add_argument("--max-items", type=int)
    p.add_argument("--static", action="append", help="static catalog, ItemCollection, item JSON or folder (repeatable)")
    p.add_argument("--theia", action="append", help="folder holding Theia L2A product folders (repeatable)")
    p.add_argument("--dem", action="append", help="DEM GeoTIFF, or folder of them, indexed as dem_cop30 (repeatable)")
    p.add_argument("--tcd", action="append",
                   help="Copernicus HRL Tree Cover Density GeoTIFF, or folder of them, indexed as tcd (repeatable)")
    p.add_argument("--grid-from", choices=["item", "file"], default="item",
                   help="take band grids from the item's proj extension (checked against the files) or from the files")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("snow", help="snow-cover flow: Let-It-Snow for indexed scenes without a snow product yet")
    p.add_argument("--start", help="first day (default: everything indexed)")
    p.add_argument("--end", help="last day")
    p.add_argument("--since-days", type=float, help="scenes acquired in the last N days (when no --start is given)")
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
    add_query_commands(sub)  # query, search, serve
    add_landcover_commands(sub)  # train-land-cover, land-cover, land-cover-key-date
    return parser


def _quiet_third_party_warnings() -> None:
    """Warnings that third-party libraries print on every dataset and that say nothing to a user."""
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
        from flows.storage.eo3 import BadSourceError
        from flows.storage.index import CubeError
        from infra.localdb import LocalDbError
        from products.errors import SnowlandError

        if isinstance(err, (SnowlandError, CubeError, BadSourceError, LocalDbError, ValueError, FileNotFoundError)):
            print(f"snowland {args.command}: {err}", file=sys.stderr)
            return 1
        raise
    if args.command not in ("db", "env", "lineage"):
        print(f"({time.perf_counter() - started:.1f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
