"""``snowland query``, ``search`` and ``serve``: ad-hoc tables, the free-text catalogue, the web catalogue."""

from __future__ import annotations

import argparse
import contextlib
import sys

from flows.cli import args as types
from products.errors import BadInputError

LARGE_AREA_KM2 = 2_000.0  # above this a query runs on a dask cluster (flows.run.cluster) rather than in-process
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _query_area(args: argparse.Namespace):
    given = types.one_of(args, ("place", "bbox", "file"), say="area: --place NAME, --bbox W S E N (degrees) or "
                         "--file GEOJSON")
    return getattr(args, given)


def _check_query(args: argparse.Namespace) -> None:
    """What each kind of query needs, before any area is read or cluster started."""
    if args.what == "snow-area":
        if not args.time:
            raise BadInputError("snow-area needs --time START END")
        types.period(*args.time, what="--time")
    elif args.year is None:
        raise BadInputError(f"{args.what} needs --year YEAR")
    if args.what == "snow-area" and args.by and args.product != "snow_daily":
        raise BadInputError("--by with snow-area reads the gap-free daily map: add --product snow_daily")
    wanted = {"snow-area": ("snow_cover", "snow_daily"), "land-cover": ("land_cover", "land_cover_nrt")}
    if args.product and args.product not in wanted.get(args.what, ()):
        raise BadInputError(f"--product {args.product} does not apply to {args.what}")


def cmd_query(args: argparse.Namespace) -> int:
    """A table (and on request a PNG) for snow-area, snow-season or land-cover over an area."""
    from flows.ask import queries

    _check_query(args)
    area = _query_area(args)
    km2 = queries.resolve_area(area).to_crs("EPSG:3035").area / 1e6
    runner = contextlib.nullcontext()
    if args.dask or km2 > LARGE_AREA_KM2:
        from flows.run.cluster import dask_client

        runner = dask_client()
    common = {"resolution": args.resolution, "png": args.png, "progress": True}
    with runner:
        if args.what == "snow-area" and args.by:
            table = queries.snow_by_massif(area, by=args.by, time=tuple(args.time), **common)
        elif args.what == "snow-area":
            table = queries.snow_area(area, time=tuple(args.time), sensors=args.sensor,
                                      product=args.product or "snow_cover", **common)
        elif args.what == "snow-season":
            table = queries.snow_season_figures(area, year=args.year, **common)
        else:
            table = queries.land_cover_areas(area, year=args.year, product=args.product or "land_cover", by=args.by,
                                             **common)
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.json:
        table.to_json(args.json, orient="records", date_format="iso", indent=1)
    print(table.drop(columns=["datasets"], errors="ignore").to_string(index=False) if len(table)
          else "no product matches this area and period (empty table)")
    if len(table) and {"area_km2", "no_data_km2"} <= set(table.columns):
        box, covered = float(table.area_km2.iloc[0]), queries.covered_km2(table)
        print(f"data over {covered:.1f} km² of the {box:.1f} km² area ({100 * covered / box:.1f} %)")
    for written in (args.csv, args.json, args.png if len(table) else None):
        if written:
            print(f"wrote {written}")
    return 0


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
        print(f"wrote {write_metalink(result, args.meta4, hashes=args.hash, link=_served(args.base_url))}")
    return 0 if result.query.understood else 3


def _served(base_url: str | None):
    """Signed links to the distribution site at ``base_url`` (the site's key of this machine), else None."""
    if not base_url:
        return None
    from flows.ask.site.files import signed_link
    from flows.ask.site.signing import Signer, site_key
    from odc_config.settings import load_settings

    return signed_link(base=base_url, signer=Signer(key=site_key(load_settings().state_dir / "site")))


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.ask.serve import serve
    from flows.storage.index import ensure_index

    ensure_index()
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    return serve(host=args.host, port=args.port, refresh=not args.no_refresh)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("query", help="ad-hoc tables over an area: snow-area, snow-season, land-cover (CSV/JSON/PNG)",
                       epilog='example: snowland query snow-area --place "Écrins" --time 2024-01-01 2024-03-31 '
                       "--csv snow.csv --png snow.png")
    p.add_argument("what", choices=["snow-area", "snow-season", "land-cover"])
    p.add_argument("--place", help="a massif, catchment or town by name")
    types.add_bbox(p)
    p.add_argument("--file", type=types.existing_file,
                   help="a GeoJSON (or other vector) file; land-cover gives one table per polygon")
    p.add_argument("--time", nargs=2, type=types.day, metavar=("START", "END"), help="snow-area period")
    p.add_argument("--year", type=types.year,
                   help="snow-season: the year the season starts; land-cover: the map's year")
    p.add_argument("--sensor", action="append", choices=["s2", "l8"], help="snow-area: keep these sensors")
    p.add_argument("--product", choices=["snow_cover", "snow_daily", "land_cover", "land_cover_nrt"],
                   help="snow-area: snow_cover (default, a row per acquisition) or snow_daily (a row per day); "
                   "land-cover: land_cover (default) or land_cover_nrt")
    p.add_argument("--by", help="land-cover, and snow-area with --product snow_daily (one row and one curve per "
                   "massif and day, with its snow line): the file's column that names each polygon")
    p.add_argument("--resolution", type=types.positive_float, default=20)
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
    p.add_argument("--base-url", help="the Metalink links to this `snowland serve` (e.g. http://127.0.0.1:8080), "
                   "signed to expire (SNOWLAND_LINK_HOURS), instead of file:// paths")
    p.add_argument("--limit", type=types.positive_int)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("serve", help="web pages and a STAC API over the index (datacube-explorer), read-only")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-refresh", action="store_true", help="serve the summaries as they are (skip cubedash-gen)")
    p.set_defaults(func=cmd_serve)
