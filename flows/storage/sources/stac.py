"""STAC items (Earth Search, Planetary Computer, USGS, simulated) to eo3 dataset documents.

Only item metadata and raster headers are read, except for one decimated read that settles the
Sentinel-2 BOA offset when the processing baseline says it may apply (the item flag is unreliable).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlparse

import numpy as np
import pystac
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError

from flows.storage import properties as prop
from flows.storage.eo3 import (
    BadSourceError,
    RasterGrid,
    eo3_document,
    read_grid,
)

GridSource = Literal["item", "file"]
S2_BOA_ADD_OFFSET_DN = -1000.0


@dataclass(frozen=True, kw_only=True)
class SourceProfile:
    """How the assets of a family of STAC collections map onto one snowland product."""

    product: str
    collections: tuple[str, ...]
    assets: Mapping[str, tuple[str, ...]]  # measurement -> asset keys to try, in order

    def asset_key(self, item: pystac.Item, measurement: str) -> str | None:
        return next((k for k in self.assets[measurement] if k in item.assets), None)


def _s2(*pairs: tuple[str, str]) -> dict[str, tuple[str, ...]]:
    return {name: (name, band, f"{band}_10m", f"{band}_20m") for name, band in pairs}


PROFILES: tuple[SourceProfile, ...] = (
    SourceProfile(
        product="s2_l2a",
        collections=("sentinel-2-l2a", "sentinel-2-c1-l2a", "sentinel-s2-l2a-cogs"),
        assets={
            **_s2(("blue", "B02"), ("green", "B03"), ("red", "B04"), ("rededge1", "B05"),
                  ("rededge2", "B06"), ("rededge3", "B07"), ("nir", "B08"), ("nir08", "B8A"),
                  ("swir16", "B11"), ("swir22", "B12")),
            "scl": ("scl", "SCL", "SCL_20m"),
        },
    ),
    SourceProfile(
        product="landsat_c2l2",
        collections=("landsat-c2-l2", "landsat-c2l2-sr"),
        assets={
            name: (name, band, f"{band}.TIF", common)
            for name, band, common in [
                ("coastal", "SR_B1", "coastal"), ("blue", "SR_B2", "blue"), ("green", "SR_B3", "green"),
                ("red", "SR_B4", "red"), ("nir08", "SR_B5", "nir08"), ("swir16", "SR_B6", "swir16"),
                ("swir22", "SR_B7", "swir22"), ("qa_pixel", "QA_PIXEL", "qa_pixel"),
            ]
        },
    ),
    SourceProfile(product="dem_cop30", collections=("cop-dem-glo-30", "cop-dem-glo-90"), assets={"elevation": ("data", "elevation", "dem")}),
)


def profile_for(item: pystac.Item, *, product: str | None = None) -> SourceProfile:
    if product:
        match = [p for p in PROFILES if p.product == product]
    else:
        match = [p for p in PROFILES if item.collection_id in p.collections]
    if not match:
        known = sorted(c for p in PROFILES for c in p.collections)
        raise BadSourceError(f"collection {item.collection_id!r} is not one snowland indexes (known: {known})")
    return match[0]


def item_to_eo3(
    item: pystac.Item, *, grid_from: GridSource = "item", verify: bool = True, product: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The eo3 document for ``item`` and the URI it is indexed under.

    ``grid_from="item"`` takes each band's grid from the item's projection extension and, with ``verify``,
    checks it against the file header; ``"file"`` takes it from the header (copies whose item describes the
    original, e.g. decimated test fixtures).
    """
    profile = profile_for(item, product=product)
    hrefs: dict[str, str] = {}
    missing = []
    for name in profile.assets:
        key = profile.asset_key(item, name)
        if key is None:
            missing.append(name)
            continue
        hrefs[name] = _absolute(item, item.assets[key].href)
    if missing:
        raise BadSourceError(f"missing band(s) {missing} (looked for assets {[profile.assets[m] for m in missing]})")

    grids = {name: _grid(item, profile, name, hrefs[name], grid_from=grid_from, verify=verify) for name in hrefs}
    properties = _properties(item, profile)
    if profile.product == "s2_l2a":
        offset, reason = s2_boa_offset(item, hrefs)
        properties[prop.BOA_ADD_OFFSET] = offset
        properties[prop.BOA_OFFSET_REASON] = reason
    doc = eo3_document(product=profile.product, key=f"{item.collection_id}/{item.id}", label=item.id,
                       grids=grids, paths=hrefs, properties=properties)
    self_href = item.get_self_href()
    return doc, _as_uri(self_href) if self_href else _default_uri(hrefs, doc)


def _as_uri(href: str) -> str:
    return href if urlparse(href).scheme else Path(href).resolve().as_uri()


def _default_uri(hrefs: Mapping[str, str], doc: Mapping[str, Any]) -> str:
    """Where an item with no self link lives: the folder of its default-grid files."""
    href = next(h for name, h in hrefs.items() if "grid" not in doc["measurements"][name])
    return href.rsplit("/", 1)[0] + "/"


def _absolute(item: pystac.Item, href: str) -> str:
    if urlparse(href).scheme or Path(href).is_absolute():
        return _as_uri(href)
    base = item.get_self_href()
    if not base:
        raise BadSourceError(f"asset href {href!r} is relative and the item has no self link to resolve it")
    return urljoin(_as_uri(base), href)


def _grid(item: pystac.Item, profile: SourceProfile, name: str, href: str, *, grid_from: GridSource, verify: bool) -> RasterGrid:
    if grid_from == "file":
        return read_grid(href)
    asset = item.assets[profile.asset_key(item, name)]
    declared = _declared_grid(item, asset)
    if declared is None:
        raise BadSourceError(
            f"no projection for band {name!r}: the item lacks proj:epsg/proj:code, proj:shape and proj:transform "
            "(index it with grid_from='file' to take grids from the files)"
        )
    if verify:
        actual = read_grid(href)
        if not declared.matches(actual):
            raise BadSourceError(
                f"band {name!r}: the item's grid {declared.crs} {declared.shape} {declared.transform} does not "
                f"match its file {actual.crs} {actual.shape} {actual.transform}"
            )
    return declared


def _declared_grid(item: pystac.Item, asset: pystac.Asset) -> RasterGrid | None:
    def get(key: str) -> Any:
        return asset.extra_fields.get(key, item.properties.get(key))

    code = get("proj:code") or (f"EPSG:{get('proj:epsg')}" if get("proj:epsg") else None)
    shape, transform = get("proj:shape"), get("proj:transform")
    if not code or not shape or not transform:
        return None
    return RasterGrid(crs=str(code).upper(), shape=(int(shape[0]), int(shape[1])), transform=tuple(float(v) for v in transform[:6]))


def _properties(item: pystac.Item, profile: SourceProfile) -> dict[str, Any]:
    p = item.properties
    when = item.datetime or _parse_time(p.get("start_datetime"))
    if when is None:
        raise BadSourceError("the item has no datetime")
    platform = p.get("platform") or p.get("eo:platform")
    instruments = p.get("instruments") or ([p["eo:instrument"]] if p.get("eo:instrument") else [])
    props: dict[str, Any] = {
        "datetime": _iso(when),
        "odc:processing_datetime": _iso(_parse_time(p.get("updated") or p.get("created")) or when),
        "odc:file_format": "GeoTIFF",
        "odc:product_family": profile.product.split("_")[0],
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


def s2_boa_offset(item: pystac.Item, hrefs: Mapping[str, str]) -> tuple[float, str]:
    """The DN offset to add to Sentinel-2 L2A pixels before scaling, and why.

    Baselines before 04.00 have none. From 04.00 on, Sen2Cor adds 1000 to every DN; Earth Search's
    ``sentinel-2-c1-l2a`` leaves it in the pixels, but ``sentinel-2-l2a`` items are inconsistent about
    whether they removed it (their ``earthsearch:boa_offset_applied`` flag is unreliable). Dark pixels
    settle it: raw DNs of real surfaces are >= 1000, so many valid DNs below 1000 mean it was removed.
    """
    p = item.properties
    baseline = str(p.get("s2:processing_baseline", "")).strip()
    if baseline and _version(baseline) < (4, 0):
        return 0.0, f"processing baseline {baseline} < 04.00: no BOA offset"
    dark = _dark_fraction(hrefs)
    if dark is not None and dark > 0.01:
        return 0.0, f"{dark:.1%} of valid pixels have DN < 1000: offset already removed from the pixels"
    if item.collection_id == "sentinel-2-c1-l2a" or not p.get("earthsearch:boa_offset_applied", False):
        why = "dark-pixel check inconclusive" if dark is None else f"only {dark:.2%} of pixels below DN 1000"
        return S2_BOA_ADD_OFFSET_DN, f"processing baseline {baseline or 'unknown'} >= 04.00 and {why}: offset -1000 applies"
    return 0.0, f"processing baseline {baseline}: item says the offset was applied and no pixel contradicts it"


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split("."))
    except ValueError:
        return (99,)


def _dark_fraction(hrefs: Mapping[str, str], *, size: int = 128) -> float | None:
    """Share of valid pixels whose darkest of blue/red/swir22 is below DN 1000, from a decimated read."""
    bands = [hrefs[b] for b in ("blue", "red", "swir22") if b in hrefs]
    stack = []
    try:
        for href in bands:
            with rasterio.open(href) as src:
                stack.append(src.read(1, out_shape=(size, size), resampling=Resampling.nearest))
    except RasterioIOError as err:
        raise BadSourceError(f"cannot read pixels to check the BOA offset: {err}") from err
    if not stack:
        return None
    darkest = np.min(np.stack(stack), axis=0)
    valid = np.all(np.stack(stack) > 0, axis=0)
    if valid.sum() < 100:
        return None
    return float((darkest[valid] < 1000).mean())
