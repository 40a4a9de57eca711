"""The indexing flow: STAC API searches, static catalogs / ItemCollections and Theia folders into the cube.

Reads metadata (and raster headers) only. Idempotent: ids are deterministic, a dataset already in the
index is counted as such and left alone. A source that cannot be indexed is reported with its reason
while the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pystac
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.exceptions import MissingContextError

from flows.run.retry import TRANSIENT_RETRIES
from flows.storage.eo3 import BadSourceError, add_dataset
from flows.storage.index import connect, init_index
from flows.storage.sources.raster_files import RASTER_FILE_PRODUCTS, find_raster_files
from flows.storage.sources.stac import GridSource, item_to_eo3
from flows.storage.sources.theia import find_theia_products, theia_to_eo3
from products.sensors import LANDSAT_C2L2, S2_L2A


@dataclass(frozen=True, kw_only=True)
class Failure:
    source: str
    reason: str


@dataclass(kw_only=True)
class IndexReport:
    """What an indexing run did, by outcome."""

    added: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"indexed: {len(self.added)} added, {len(self.already_there)} already there, {len(self.failed)} failed"]
        lines += [f"  failed {f.source}: {f.reason}" for f in self.failed]
        return "\n".join(lines)

    def merge(self, other: IndexReport) -> IndexReport:
        return IndexReport(
            added=self.added + other.added,
            already_there=self.already_there + other.already_there,
            failed=self.failed + other.failed,
        )


def days_ago(days: float) -> str:
    """The UTC instant ``days`` before now (ISO 8601): where a scheduled run's window of acquisitions starts."""
    return f"{dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"


def log(message: str) -> None:
    try:
        get_run_logger().info(message)
    except MissingContextError:
        print(message)


def search_stac_api(
    url: str,
    *,
    collections: Sequence[str],
    bbox: Sequence[float] | None = None,
    intersects: dict[str, Any] | None = None,
    datetime: str | None = None,
    max_items: int | None = None,
) -> Iterator[pystac.Item]:
    """Items of a STAC API search (pystac-client), page by page."""
    from pystac_client import Client

    client = Client.open(url)
    search = client.search(
        collections=list(collections), bbox=bbox, intersects=intersects, datetime=datetime, max_items=max_items
    )
    yield from search.items()


def read_static_items(path: Path) -> Iterator[pystac.Item]:
    """Items of a static catalog, an ItemCollection, a folder of item JSON files, or one item JSON."""
    path = Path(path)
    if path.is_dir():
        catalog = path / "catalog.json"
        if catalog.exists():
            yield from read_static_items(catalog)
            return
        for item_file in sorted(path.rglob("*.json")):
            yield from read_static_items(item_file)
        return
    doc = json.loads(path.read_text())
    kind = doc.get("type")
    if kind == "FeatureCollection":
        for feature in doc.get("features", []):
            item = pystac.Item.from_dict(feature, preserve_dict=False)
            if not item.get_self_href():
                item.set_self_href(str(path.resolve()))
            yield item
    elif kind == "Feature":
        yield pystac.Item.from_file(str(path))
    elif kind in ("Catalog", "Collection"):
        yield from pystac.read_file(str(path)).get_items(recursive=True)
    # other JSON files (e.g. truth or metadata beside the items) are not STAC items


def _index_one(index: Any, key: str, build: Callable[[], tuple[dict[str, Any], str | None]], report: IndexReport) -> None:
    try:
        doc, uri = build()
        if add_dataset(index, doc, uri=uri):
            report.added.append(doc["id"])
        else:
            report.already_there.append(doc["id"])
    except BadSourceError as err:
        report.failed.append(Failure(source=key, reason=str(err)))
    except Exception as err:  # one broken source must not stop the batch; its reason is reported
        report.failed.append(Failure(source=key, reason=f"{type(err).__name__}: {err}"))


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def index_items(items: Iterable[pystac.Item], *, grid_from: GridSource = "item", verify: bool = True) -> IndexReport:
    """Index STAC items, one report entry each."""
    dc = connect()
    report = IndexReport()
    for item in items:
        _index_one(dc.index, f"{item.collection_id}/{item.id}",
                   lambda item=item: item_to_eo3(item, grid_from=grid_from, verify=verify), report)
    return report


FILE_SOURCES = {"theia": theia_to_eo3, **{kind: spec.to_eo3 for kind, spec in RASTER_FILE_PRODUCTS.items()}}


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def index_files(paths: Sequence[Path], *, kind: str) -> IndexReport:
    """Index products on disk: Theia L2A folders (``kind="theia"``), DEM (``"dem"``) or tree cover density
    (``"tcd"``) GeoTIFFs."""
    build = FILE_SOURCES[kind]
    dc = connect()
    report = IndexReport()
    for path in paths:
        _index_one(dc.index, str(path), lambda path=path: build(path), report)
    return report


@flow(name="index-scenes", log_prints=True)
def index_scenes(
    *,
    stac_api: str | None = None,
    collections: Sequence[str] = (S2_L2A.collections[0], LANDSAT_C2L2.collections[0]),
    bbox: Sequence[float] | None = None,
    intersects: dict[str, Any] | None = None,
    datetime: str | None = None,
    since_days: float | None = None,
    max_items: int | None = None,
    static: Sequence[str] = (),
    theia: Sequence[str] = (),
    dem: Sequence[str] = (),
    tcd: Sequence[str] = (),
    grid_from: GridSource = "item",
    verify: bool = True,
) -> IndexReport:
    """Index scenes from a STAC API search, static STAC files, Theia folders, DEM and tree cover density
    GeoTIFFs; print counts.

    ``since_days`` searches the API for scenes acquired in the last days (instead of ``datetime``): what a
    schedule asks for, as indexing is idempotent and a provider publishes scenes a day or two late.
    """
    if since_days is not None and datetime is None:
        datetime = f"{days_ago(since_days)}/.."
    init_index()
    report = IndexReport()
    if stac_api:
        items = list(search_stac_api(stac_api, collections=collections, bbox=bbox, intersects=intersects,
                                     datetime=datetime, max_items=max_items))
        log(f"{stac_api}: {len(items)} item(s) found in {list(collections)}")
        report = report.merge(index_items(items, grid_from=grid_from, verify=verify))
    for path in static:
        items = list(read_static_items(Path(path)))
        log(f"{path}: {len(items)} item(s)")
        report = report.merge(index_items(items, grid_from=grid_from, verify=verify))
    for root in theia:
        folders = find_theia_products(Path(root))
        log(f"{root}: {len(folders)} Theia product folder(s)")
        report = report.merge(index_files(folders, kind="theia"))
    for kind, roots in (("dem", dem), ("tcd", tcd)):
        for root in roots:
            files = find_raster_files(Path(root))
            log(f"{root}: {len(files)} {RASTER_FILE_PRODUCTS[kind].product} file(s)")
            report = report.merge(index_files(files, kind=kind))
    log(report.summary())
    return report
