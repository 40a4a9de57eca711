"""The indexing flow: STAC API searches, static catalogs / ItemCollections and Theia folders into the cube.

Reads metadata (and raster headers) only. Idempotent: ids are deterministic, a dataset already in the
index is counted as such and left alone. A source that cannot be indexed is reported with its reason
while the rest of the batch goes on; a transient error (the database, a remote header) retries the batch first.
The unit is one item, folder or file; a task indexes a batch of them, as a task per item would cost more than
the item. Within a task, documents are built on a few threads (each reads and checks its files' headers, or a sample
of them: :class:`flows.storage.sources.stac.HeaderChecks`) and added a few hundred per transaction.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pystac
import rasterio
from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE

from flows.pipelines import arguments
from flows.run import progress
from flows.run.outcomes import Exists, Outcome, Report, Written, failed
from flows.run.retry import TRANSIENT_RETRIES, is_transient
from flows.run.say import log, user_errors_in_one_line
from flows.storage.eo3 import add_datasets
from flows.storage.index import adding, connect, init_index
from flows.storage.sources.raster_files import RASTER_FILE_PRODUCTS, find_raster_files
from flows.storage.sources.stac import GridSource, HeaderChecks, item_to_eo3
from flows.storage.sources.theia import find_theia_products, theia_to_eo3
from products.sensors import LANDSAT_C2L2, S2_L2A


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


BUILD_THREADS = 4
"""Documents built at once: building one reads its files' headers (and for Sentinel-2 a few pixels) through GDAL,
which releases the GIL, so threads overlap that I/O; more would only queue on a shared machine's cores."""
ADD_BATCH = 50
"""Sources added to the index per transaction (``add_datasets``); the next batch is built while one is added."""

Built = tuple[dict[str, Any], str | None]
HeaderCheck = Literal["sample", "all", "none"]


def _index_all(units: Sequence[str], builds: Sequence[Callable[[], Built]], *, label: str) -> list[Outcome]:
    """Each source's outcome: documents are built (headers read and checked) on threads and added a batch at a
    time, the next batch building while one is added; a source whose document cannot be built or added is a
    ``Failed`` outcome, the others go on."""
    index = connect().index
    outcomes: list[Outcome] = []
    with progress.units(label, total=len(units)) as done, ThreadPoolExecutor(BUILD_THREADS) as pool:
        for start, built in zip(range(0, len(units), ADD_BATCH), _built_in_batches(pool, builds), strict=True):
            for outcome in _added(index, units[start:start + ADD_BATCH], built):
                outcomes.append(outcome)
                done(outcome.status)
    return outcomes


def _built_in_batches(pool: ThreadPoolExecutor,
                      builds: Sequence[Callable[[], Built]]) -> Iterator[list[Built | Exception]]:
    """The documents of ``builds`` in batches of ``ADD_BATCH``, in order, the next batch submitted to ``pool`` before
    one is handed over. The first is built alone, before the others: it takes the header sample's full check of
    its layout."""
    if not builds:
        return
    first = _built(builds[0])

    def submit(start: int) -> list[Future]:
        return [pool.submit(_built, build) for build in builds[max(start, 1):start + ADD_BATCH]]

    ahead = submit(0)
    try:
        for start in range(0, len(builds), ADD_BATCH):
            current, ahead = ahead, submit(start + ADD_BATCH)
            yield ([first] if start == 0 else []) + [future.result() for future in current]
    finally:
        for future in ahead:  # a transient error stops the batch: its retry builds them again
            future.cancel()


def _built(build: Callable[[], Built]) -> Built | Exception:
    """``build``'s document, or the error that refused it; its file opens share one GDAL environment (rasterio
    otherwise makes one per open: a tenth of a build's CPU)."""
    try:
        with rasterio.Env():
            return build()
    except Exception as err:  # one source's error, said in its outcome
        if is_transient(err):
            raise  # the task's retry policy tries the batch again (what is indexed stays indexed)
        return err


def _added(index: Any, units: Sequence[str], built: Sequence[Built | Exception]) -> list[Outcome]:
    docs = [b for b in built if not isinstance(b, Exception)]
    with adding():
        added = iter(add_datasets(index, docs))
    outcomes: list[Outcome] = []
    for unit, b in zip(units, built, strict=True):
        result = b if isinstance(b, Exception) else next(added)
        if isinstance(result, Exception):
            outcomes.append(failed(unit, result))
        else:
            doc, uri = b
            kind = Written if result else Exists
            outcomes.append(kind(unit=unit, id=doc["id"], path=_local(uri)))
    return outcomes


def _local(uri: str | None) -> Path | None:
    return Path(uri.removeprefix("file://")) if uri and uri.startswith("file://") else None


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def index_items(items: Iterable[pystac.Item], *, grid_from: GridSource = "item",
                check_headers: HeaderCheck = "sample") -> Report:
    """Index STAC items: one outcome each (unit ``collection/item id``); the report says how many band headers were
    read and checked against their items (``check_headers``: ``"all"``, a ``"sample"`` with the rest trusted,
    ``"none"``)."""
    items = list(items)
    checks = HeaderChecks(every=check_headers == "all")
    verify = checks if check_headers != "none" else False
    outcomes = _index_all([f"{item.collection_id}/{item.id}" for item in items],
                          [lambda item=item: item_to_eo3(item, grid_from=grid_from, verify=verify) for item in items],
                          label="index items")
    details = {"band headers": checks.summary()} if grid_from == "item" and check_headers != "none" else {}
    return Report(flow="index items", outcomes=outcomes, details=details)


FILE_SOURCES = {"theia": theia_to_eo3, **{kind: spec.to_eo3 for kind, spec in RASTER_FILE_PRODUCTS.items()}}


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def index_files(paths: Sequence[Path], *, kind: str) -> Report:
    """Index products on disk: Theia L2A folders (``kind="theia"``), DEM (``"dem"``) or tree cover density
    (``"tcd"``) GeoTIFFs; one outcome each (unit: the path)."""
    build = FILE_SOURCES[kind]
    return Report(flow=f"index {kind}", outcomes=_index_all([str(path) for path in paths],
                                                          [lambda path=path: build(path) for path in paths],
                                                          label=f"index {kind}"))


def _batch(source: str, index_task: Any, /, *args: Any, **kwargs: Any) -> Report:
    """A batch's report; a batch that still fails after its retries is one ``Failed`` outcome for its source."""
    try:
        done = index_task(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - recorded with its reason, the other sources go on
        return Report(flow=source, outcomes=[failed(source, err)])
    return Report(flow=source, outcomes=done.outcomes, details={f"{k} ({source})": v for k, v in done.details.items()})


@flow(name="index-scenes", log_prints=True)
@user_errors_in_one_line
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
    check_headers: HeaderCheck = "sample",
) -> Report:
    """Index scenes from a STAC API search, static STAC files, Theia folders, DEM and tree cover density
    GeoTIFFs; one outcome per item, folder or file.

    ``check_headers``: which STAC items' band files have their header read and checked against the item: a
    ``"sample"`` (:class:`flows.storage.sources.stac.HeaderChecks`, the report says how many were trusted),
    ``"all"``, or ``"none"``.

    ``since_days`` searches the API for scenes acquired in the last days (instead of ``datetime``): what a
    schedule asks for, as indexing is idempotent and a provider publishes scenes a day or two late.
    """
    bbox = arguments.bbox(bbox)
    arguments.number(since_days, argument="since_days")
    arguments.number(max_items, argument="max_items", strict=True)
    arguments.one_of(grid_from, ("item", "file"), argument="grid_from")
    arguments.one_of(check_headers, ("sample", "all", "none"), argument="check_headers")
    files = {"static": arguments.existing_all(static, argument="static"),
             "theia": arguments.existing_all(theia, argument="theia"),
             "dem": arguments.existing_all(dem, argument="dem"), "tcd": arguments.existing_all(tcd, argument="tcd")}
    if since_days is not None and datetime is None:
        datetime = f"{arguments.days_ago(since_days)}/.."
    init_index()
    report = Report(flow="index-scenes")
    if stac_api:
        items = list(search_stac_api(stac_api, collections=collections, bbox=bbox, intersects=intersects,
                                     datetime=datetime, max_items=max_items))
        log(f"{stac_api}: {len(items)} item(s) found in {list(collections)}")
        report = report.merge(_batch(stac_api, index_items, items, grid_from=grid_from,
                                     check_headers=check_headers))
    for path in files["static"]:
        items = list(read_static_items(path))
        log(f"{path}: {len(items)} item(s)")
        report = report.merge(_batch(str(path), index_items, items, grid_from=grid_from,
                                     check_headers=check_headers))
    for root in files["theia"]:
        folders = find_theia_products(root)
        log(f"{root}: {len(folders)} Theia product folder(s)")
        report = report.merge(_batch(str(root), index_files, folders, kind="theia"))
    for kind in ("dem", "tcd"):
        for root in files[kind]:
            found = find_raster_files(root)
            log(f"{root}: {len(found)} {RASTER_FILE_PRODUCTS[kind].product} file(s)")
            report = report.merge(_batch(str(root), index_files, found, kind=kind))
    log(report.summary())
    return report
