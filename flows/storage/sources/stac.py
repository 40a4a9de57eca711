"""STAC items (Earth Search, Planetary Computer, USGS, simulated) to eo3 dataset documents.

Which asset is which measurement comes from the sensor table (``products/sensors.py``); odc-stac reads the item
(``odc.stac.parse_item`` with a ``ConversionConfig`` fed from the table: band aliases, dtype and nodata): each
measurement's asset and its grid from the projection extension (``proj:code``/``proj:epsg``, ``proj:shape``,
``proj:transform``, on the asset or the item). What odc-stac does not do stays here:

- choosing among a band's asset keys: a ConversionConfig alias names one asset, but sources name a band
  differently (``blue``, ``B02``, ``SR_B2.TIF``), so the first of the table's keys the item has is the alias;
- items with ``proj:`` fields that do not declare the projection extension (hand-made or older items): odc-stac
  ignores their grids, so the extension is declared on the copy it reads;
- asset hrefs: an absolute path is a local file for snowland, where pystac (and so odc-stac) resolves a "/path" of
  an item served by an API against the API's host; hrefs are made absolute before odc-stac reads them;
- the check of a declared grid against the file header (``verify``: every band's, or a sample's with
  :class:`HeaderChecks`) and ``grid_from="file"``;
- the Sentinel-2 BOA offset decision (:func:`s2_boa_offset`): it needs pixels, the item flag being unreliable;
- Theia folders, which are not STAC (:mod:`flows.storage.sources.theia`).

Only item metadata and raster headers are read, except for the one decimated read of the BOA offset decision.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlparse

import numpy as np
import odc.stac
import pystac
import rasterio
from odc.geo.geobox import GeoBox
from pystac.extensions.projection import ProjectionExtension
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError

from flows.storage import properties as prop
from flows.storage.eo3 import (
    BadSourceError,
    RasterGrid,
    carried_bands,
    eo3_document,
    grid_of,
    open_raster,
)
from products import sensors
from products.errors import BadInputError
from products.sensors import Sensor

GridSource = Literal["item", "file"]


def sensor_for(item: pystac.Item, *, product: str | None = None) -> Sensor:
    """The sensor an item is indexed as: ``product``'s, else its collection's."""
    try:
        return sensors.by_product(product) if product else sensors.by_collection(str(item.collection_id))
    except BadInputError as err:
        raise BadSourceError(str(err)) from err


def asset_keys(item: pystac.Item, sensor: Sensor) -> dict[str, str]:
    """Measurement -> the first of the sensor table's asset keys that the item has (an item may carry only some
    bands: users mirror what they need)."""
    keys = {}
    for measurement in sensor.measurements:
        key = next((k for k in measurement.assets if k in item.assets), None)
        if key is not None:
            keys[measurement.name] = key
    return keys


@dataclass(kw_only=True)
class HeaderChecks:
    """Which band files of a batch of items have their header read and checked against the item, the rest trusted;
    and how many of each.

    Reading every header costs a file open per band (ten per Sentinel-2 item, a request each for remote files),
    most of an item's indexing. Items of one layout (collection, asset keys, pixel sizes, file host) are written by
    one producer, so a sample is checked: every band of the first item of each layout (the batch's first item, built
    before the others; of another layout in the batch, the first one built), then, of each other item, the files
    opened anyway for their pixels (the Sentinel-2 BOA-offset check), else one band in turn.
    An item whose CRS or place disagrees with its files is still caught; a single bad band file of a later item
    is caught when it is loaded (``flows.storage.load.reading`` names the dataset and file). ``every``: check all.
    """

    every: bool = False
    read: int = 0
    trusted: int = 0
    _seen: dict[Hashable, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, layout: Hashable, names: Sequence[str], *, opened: Collection[str]) -> set[str]:
        """The bands of an item of ``layout`` whose headers are checked; ``opened``: those read anyway."""
        with self._lock:
            seen = self._seen.get(layout, 0)
            self._seen[layout] = seen + 1
            chosen = (set(names) if self.every or seen == 0
                      else set(opened) & set(names) or {names[seen % len(names)]})
            self.read += len(chosen)
            self.trusted += len(names) - len(chosen)
        return chosen

    def summary(self) -> str:
        how = ("every band" if self.every else "a sample: every band of each layout's first item, then the files "
               "read anyway or one band per item; --check-all-headers checks them all")
        return f"{self.read} read and checked against their items, {self.trusted} trusted ({how})"


def item_to_eo3(
    item: pystac.Item, *, grid_from: GridSource = "item", verify: bool | HeaderChecks = True,
    product: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The eo3 document for ``item`` and the URI it is indexed under.

    ``grid_from="item"`` takes each band's grid from the item's projection extension and checks it against the
    file header: every band's with ``verify=True``, a sample's with :class:`HeaderChecks`, none with ``False``;
    ``"file"`` takes it from the header (copies whose item describes the original, e.g. decimated test fixtures).
    Each file is opened at most once, for its header and the pixels of the BOA-offset check.
    """
    sensor = sensor_for(item, product=product)
    keys = asset_keys(item, sensor)
    carried = carried_bands(sensor, keys, looked={m.name: f"assets {list(m.assets)}" for m in sensor.measurements})
    parsed = _parse(item, keys, sensor=sensor, projection=grid_from == "item")
    hrefs = {name: parsed[name].uri for name in keys}
    try:
        when = parsed.nominal_datetime
    except ValueError:
        raise BadSourceError("the item has no datetime") from None
    properties = _properties(item, sensor, when=when) | carried
    with _files(hrefs) as files:
        if sensor is sensors.S2_L2A:
            offset, reason = s2_boa_offset(item, hrefs, files=files)
            properties[prop.BOA_ADD_OFFSET] = offset
            properties[prop.BOA_OFFSET_REASON] = reason
        declared = {name: parsed[name].geobox for name in keys}
        checked = (_checked(item, declared, keys=keys, hrefs=hrefs, verify=verify, opened=files.opened)
                   if grid_from == "item" else set())
        grids = {name: _grid(name, declared[name], files, grid_from=grid_from, verify=name in checked)
                 for name in keys}
    doc = eo3_document(product=sensor.product, key=f"{item.collection_id}/{item.id}", label=item.id,
                       grids=grids, paths=hrefs, properties=properties)
    self_href = item.get_self_href()
    return doc, _as_uri(self_href) if self_href else _default_uri(hrefs, doc)


def _parse(item: pystac.Item, keys: Mapping[str, str], *, sensor: Sensor, projection: bool) -> odc.stac.ParsedItem:
    """odc-stac's reading of the assets ``keys`` (measurement -> asset key) of ``item``.

    It reads a copy that holds only those assets, with their hrefs made absolute as snowland reads them, so that
    other assets (thumbnails, JP2 twins, odd media types) cannot stop it, and that declares the projection
    extension exactly when grids are wanted from the item.
    """
    view = _view(item, dict.fromkeys(keys.values()))
    if projection:
        ProjectionExtension.add_to(view)
    raster = {keys[m.name]: {"data_type": m.encoding.dtype, "nodata": m.encoding.nodata, "unit": m.encoding.units}
              for m in sensor.measurements if m.name in keys}
    config: odc.stac.ConversionConfig = {"*": {"aliases": dict(keys), "assets": raster}}
    try:
        return odc.stac.parse_item(view, config)
    except ValueError as err:  # a projection extension without a CRS, shape or transform on some asset
        raise BadSourceError(f"no projection for the item's bands: {err} {_FROM_FILE}") from err


def _view(item: pystac.Item, keys: Iterable[str]) -> pystac.Item:
    """A copy of ``item`` with only the assets ``keys``, their hrefs absolute, and no projection extension, which
    shares what odc-stac only reads (geometry, values of properties and asset fields): pystac's ``clone`` copies
    it all deeply, a fifth of a document's build."""
    kept = {key: item.assets[key] for key in keys}
    view = pystac.Item(id=item.id, geometry=item.geometry, bbox=item.bbox, datetime=item.datetime,
                       properties=dict(item.properties), collection=item.collection_id,
                       stac_extensions=[e for e in item.stac_extensions if "/projection/" not in e],
                       assets={key: pystac.Asset(href=_absolute(item, a.href), title=a.title, description=a.description,
                                                 media_type=a.media_type, roles=a.roles,
                                                 extra_fields=dict(a.extra_fields))
                               for key, a in kept.items()},
                       extra_fields=dict(item.extra_fields))
    view.links = [link.clone() for link in item.links if link.rel == pystac.RelType.SELF]
    for link in view.links:
        link.set_owner(view)
    return view


_FROM_FILE = "(index it with grid_from='file' to take grids from the files)"


def _as_uri(href: str) -> str:
    """``href`` as a URI: a path is a local file, its symbolic links resolved."""
    if urlparse(href).scheme:
        return href
    path = Path(href)
    if not path.is_absolute() or path.name in ("", ".", "..") or path.is_symlink():
        return path.resolve().as_uri()
    return (_resolved_folder(str(path.parent)) / path.name).as_uri()


@lru_cache(maxsize=256)
def _resolved_folder(folder: str) -> Path:
    """A folder's real path, resolved once per process for all the files of its items (each resolve costs a
    ``lstat`` per path component, a tenth of a document's build)."""
    return Path(folder).resolve()


def _absolute(item: pystac.Item, href: str) -> str:
    """An asset href as an absolute URI: a path is a local file (pystac would put a "/path" on an API's host)."""
    if urlparse(href).scheme or Path(href).is_absolute():
        return _as_uri(href)
    base = item.get_self_href()
    if not base:
        raise BadSourceError(f"asset href {href!r} is relative and the item has no self link to resolve it")
    return urljoin(_as_uri(base), href)


def _default_uri(hrefs: Mapping[str, str], doc: Mapping[str, Any]) -> str:
    """Where an item with no self link lives: the folder of its default-grid files."""
    href = next(h for name, h in hrefs.items() if "grid" not in doc["measurements"][name])
    return href.rsplit("/", 1)[0] + "/"


class _Files:
    """An item's band files, each opened at most once (``opened``: the bands opened so far)."""

    def __init__(self, hrefs: Mapping[str, str], stack: ExitStack) -> None:
        self.hrefs, self._stack, self._open = hrefs, stack, {}

    @property
    def opened(self) -> set[str]:
        return set(self._open)

    def __getitem__(self, name: str) -> rasterio.io.DatasetReader:
        if name not in self._open:
            self._open[name] = self._stack.enter_context(open_raster(self.hrefs[name]))
        return self._open[name]


@contextmanager
def _files(hrefs: Mapping[str, str]) -> Iterator[_Files]:
    with ExitStack() as stack:
        yield _Files(hrefs, stack)


def _checked(item: pystac.Item, declared: Mapping[str, GeoBox | None], *, keys: Mapping[str, str],
             hrefs: Mapping[str, str], verify: bool | HeaderChecks, opened: Collection[str]) -> set[str]:
    """The bands whose declared grid is checked against the file header."""
    if not isinstance(verify, HeaderChecks):
        return set(declared) if verify else set()
    host = {urlparse(h).scheme + urlparse(h).netloc for h in hrefs.values()}
    sizes = tuple((name, None if g is None else tuple(g.resolution.xy)) for name, g in declared.items())
    layout = (item.collection_id, tuple(sorted(keys.items())), sizes, tuple(sorted(host)))
    return verify.pick(layout, list(declared), opened=opened)


def _grid(name: str, declared: GeoBox | None, files: _Files, *, grid_from: GridSource, verify: bool) -> RasterGrid:
    if grid_from == "file":
        return grid_of(files[name])
    if declared is None:
        raise BadSourceError(
            f"no projection for band {name!r}: the item lacks proj:epsg/proj:code, proj:shape and proj:transform "
            + _FROM_FILE
        )
    grid = RasterGrid(crs=f"EPSG:{declared.crs.epsg}" if declared.crs.epsg else declared.crs.to_wkt(),
                      shape=(declared.shape.y, declared.shape.x), transform=tuple(declared.transform)[:6])
    if verify:
        actual = grid_of(files[name])
        if not grid.matches(actual):
            raise BadSourceError(
                f"band {name!r}: the item's grid {grid.crs} {grid.shape} {grid.transform} does not "
                f"match its file {actual.crs} {actual.shape} {actual.transform}"
            )
    return grid


def _properties(item: pystac.Item, sensor: Sensor, *, when: dt.datetime) -> dict[str, Any]:
    p = item.properties
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    platform = p.get("platform") or p.get("eo:platform")
    instruments = p.get("instruments") or ([p["eo:instrument"]] if p.get("eo:instrument") else [])
    props: dict[str, Any] = {
        "datetime": _iso(when),
        "odc:processing_datetime": _iso(_parse_time(p.get("updated") or p.get("created")) or when),
        "odc:file_format": "GeoTIFF",
        "odc:product_family": sensor.product.split("_")[0],
        prop.STAC_COLLECTION: item.collection_id,
        prop.STAC_ID: item.id,
    }
    if platform:
        props["eo:platform"] = str(platform).lower().replace("_", "-")
    if instruments:
        props["eo:instrument"] = "_".join(str(i).lower() for i in instruments)
    for key in ("eo:cloud_cover", "view:sun_azimuth", "view:sun_elevation", "s2:processing_baseline",
                "earthsearch:boa_offset_applied", "landsat:wrs_path", "landsat:wrs_row", prop.SIMULATED):
        if key in p:
            props[key] = p[key]
    for old, key in prop.STAC_0_7_SUN.items():
        if old in p and key not in p:
            props[key] = p[old]
    region = p.get("grid:code") or _mgrs(p) or _wrs(p)
    if region:
        props["odc:region_code"] = str(region).removeprefix("MGRS-").removeprefix("WRS2-")
    return props


def _mgrs(p: Mapping[str, Any]) -> str | None:
    if "mgrs:utm_zone" in p:
        return f"{p['mgrs:utm_zone']}{p.get('mgrs:latitude_band', '')}{p.get('mgrs:grid_square', '')}"
    return None


def _wrs(p: Mapping[str, Any]) -> str | None:
    if "landsat:wrs_path" in p:
        return f"{int(p['landsat:wrs_path']):03d}{int(p['landsat:wrs_row']):03d}"
    return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def s2_boa_offset(item: pystac.Item, hrefs: Mapping[str, str], *, files: _Files | None = None) -> tuple[float, str]:
    """The DN offset to add to Sentinel-2 L2A pixels before scaling, and why.

    Baselines before 04.00 have none. From 04.00 on, Sen2Cor adds 1000 to every DN; Earth Search's
    ``sentinel-2-c1-l2a`` leaves it in the pixels, but ``sentinel-2-l2a`` items are inconsistent about
    whether they removed it (their ``earthsearch:boa_offset_applied`` flag is unreliable). Dark pixels
    settle it: raw DNs of real surfaces are >= 1000, so many valid DNs below 1000 mean it was removed.
    ``files``: the item's files, opened once for their headers too.
    """
    p = item.properties
    baseline = str(p.get("s2:processing_baseline", "")).strip()
    if baseline and _version(baseline) < sensors.S2_BOA_FIRST_BASELINE:
        return 0.0, f"processing baseline {baseline} < 04.00: no BOA offset"
    if files is None:
        with _files(hrefs) as files:
            dark = _dark_fraction(files)
    else:
        dark = _dark_fraction(files)
    if dark is not None and dark > 0.01:
        return 0.0, f"{dark:.1%} of valid pixels have DN < 1000: offset already removed from the pixels"
    if item.collection_id == "sentinel-2-c1-l2a" or not p.get("earthsearch:boa_offset_applied", False):
        why = "dark-pixel check inconclusive" if dark is None else f"only {dark:.2%} of pixels below DN 1000"
        return (float(sensors.S2_BOA_ADD_OFFSET_DN),
                f"processing baseline {baseline or 'unknown'} >= 04.00 and {why}: offset -1000 applies")
    return 0.0, f"processing baseline {baseline}: item says the offset was applied and no pixel contradicts it"


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split("."))
    except ValueError:
        return (99,)


def _dark_fraction(files: _Files, *, size: int = 128) -> float | None:
    """Share of valid pixels whose darkest of blue/red/swir22 is below DN 1000, from a decimated read."""
    stack = []
    for name in ("blue", "red", "swir22"):
        if name not in files.hrefs:
            continue
        try:
            stack.append(files[name].read(1, out_shape=(size, size), resampling=Resampling.nearest))
        except RasterioIOError as err:
            raise BadSourceError(f"cannot read pixels of {files.hrefs[name]} to check the BOA offset: {err}") from err
    if not stack:
        return None
    darkest = np.min(np.stack(stack), axis=0)
    valid = np.all(np.stack(stack) > 0, axis=0)
    if valid.sum() < 100:
        return None
    return float((darkest[valid] < 1000).mean())
