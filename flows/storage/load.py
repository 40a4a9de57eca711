"""Load analysis-ready data on the EEA reference grid (EPSG:3035).

Sentinel-2 tiles from different UTM zones are reprojected and fused per solar day, so a day appears once whatever
the number of tiles that cover it. Reflectance comes out as float32 reflectance (NaN where nodata); masks keep their
integer codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import datacube
import numpy as np
import xarray as xr
from datacube.model import Dataset, Product
from odc.geo import Geometry
from odc.geo.geobox import GeoBox

from flows.storage import properties as prop
from flows.storage.grid import EEA_CRS, Cell, aligned_geobox
from flows.storage.index import CubeError, connect
from products.errors import BadInputError, MissingDataError

MASK_RESAMPLING = "nearest"
DEFAULT_RESAMPLING = "bilinear"
LOADER = "rio"  # odc-loader's rasterio reader: several times faster than datacube's legacy loader


def load(
    product: str,
    *,
    cell: Cell | str | None = None,
    geometry: Geometry | None = None,
    geobox: GeoBox | None = None,
    time: str | tuple[str, str] | None = None,
    measurements: Sequence[str] | None = None,
    resolution: float = 20.0,
    chunks: int | None = 1024,
    scale: bool = True,
    resampling: str | Mapping[str, str] | None = None,
    group_by: str = "solar_day",
    where: Mapping[str, Any] | None = None,
    datasets: Sequence[Dataset] | None = None,
    dc: datacube.Datacube | None = None,
) -> xr.Dataset:
    """Load ``product`` on the EEA grid for a cell, a geometry or an explicit geobox, as dask arrays (numpy ones
    with ``chunks=None``: read at once, for a small read that a graph would cost more than).

    Time steps are solar days: datasets of the same day (neighbouring tiles, in any UTM zone) are fused
    (``group_by="time"`` keeps every acquisition apart, e.g. Sentinel-2 and Landsat of one day).
    ``where`` adds search fields to the query, e.g. ``{"platform": "landsat-8"}``; ``datasets`` skips the search
    and loads those (already found by the caller, e.g. for lineage).
    With ``scale`` reflectance is float32 with NaN for nodata, from each dataset's scale and offset;
    bands with a ``flags_definition`` keep their codes.
    """
    dc = dc or connect()
    target = _target_geobox(cell=cell, geometry=geometry, geobox=geobox, resolution=resolution)
    prod = _product(dc, product)
    names = list(measurements) if measurements else [m for m in prod.measurements]
    unknown = sorted(set(names) - set(prod.measurements) - _aliases(prod))
    if unknown:
        raise CubeError(f"{product} has no measurement {unknown}; it has {sorted(prod.measurements)}")
    if datasets is None:
        query: dict[str, Any] = {**(where or {}), "product": product, "geopolygon": target.extent}
        if time is not None:
            query["time"] = time
        found = dc.find_datasets(**query)
    else:
        found = list(datasets)
    if not found:
        return xr.Dataset(coords={"time": np.array([], dtype="datetime64[ns]")}, attrs={"crs": str(EEA_CRS)})
    _check_carried(prod, names, found)
    data = dc.load(
        datasets=found,
        like=target,
        measurements=names,
        group_by=group_by,
        dask_chunks=None if chunks is None else {"time": 1, "y": chunks, "x": chunks},
        resampling=_resampling(prod, names, resampling),
        driver=_loader(found),
    )
    data = data.assign_coords(platform=("time", _per_step(dc, found, group_by, "platform")))
    if scale:
        data = _to_reflectance(data, prod, _boa_offsets(dc, found, prod, group_by))
    data.attrs.update(product=product, crs=str(EEA_CRS))
    if cell is not None:
        data.attrs["cell"] = str(cell)
    return data


def _loader(datasets: Sequence[Dataset]) -> str:
    """odc-loader, except for multi-band files, which datacube 1.9 only reads with its legacy loader."""
    multiband = any(m.get("band", 1) != 1 for d in datasets for m in d.measurements.values())
    return "legacy" if multiband else LOADER


def _target_geobox(
    *, cell: Cell | str | None, geometry: Geometry | None, geobox: GeoBox | None, resolution: float
) -> GeoBox:
    given = [x is not None for x in (cell, geometry, geobox)]
    if sum(given) != 1:
        raise CubeError("give exactly one of cell=, geometry= or geobox=")
    if geobox is not None:
        if geobox.crs != EEA_CRS:
            raise CubeError(f"snowland loads on the EEA grid (EPSG:3035), not {geobox.crs}")
        return geobox
    if cell is not None:
        return (Cell.parse(cell) if isinstance(cell, str) else cell).geobox(resolution)
    return aligned_geobox(geometry, resolution=resolution)


def _product(dc: datacube.Datacube, name: str) -> Product:
    product = dc.index.products.get_by_name(name)
    if product is None:
        known = sorted(p.name for p in dc.index.products.get_all())
        raise CubeError(f"no product {name!r} in the index; known: {known}")
    return product


def _aliases(product: Product) -> set[str]:
    return {a for m in product.measurements.values() for a in m.get("aliases", [])}


def lacking(names: Sequence[str], datasets: Sequence[Dataset]) -> list[tuple[Dataset, list[str]]]:
    """The datasets that do not carry every measurement of ``names`` (aliases allowed), each with the ones it
    lacks: items are indexed with the bands they have, so a flow asks this per scene before it loads."""
    out = []
    for dataset in datasets:
        measurements = dataset.product.lookup_measurements(list(names))
        absent = [name for name, m in measurements.items() if m.canonical_name not in dataset.measurements]
        if absent:
            out.append((dataset, absent))
    return out


def lacks_message(found: Sequence[tuple[Dataset, Sequence[str]]]) -> str:
    """``label lacks [bands]; ...`` for what :func:`lacking` found."""
    return "; ".join(f"{d.metadata_doc.get('label') or d.id} lacks {list(absent)}" for d, absent in found)


def _check_carried(product: Product, names: Sequence[str], datasets: Sequence[Dataset]) -> None:
    """Refuse a load of bands some datasets lack, naming them (datacube would stop at the first: "No such band")."""
    found = sorted(lacking(names, datasets), key=lambda f: str(f[0].metadata_doc.get("label") or f[0].id))
    if found:
        raise MissingDataError(f"{product.name}: {len(found)} of {len(datasets)} dataset(s) lack bands asked for: "
                               f"{lacks_message(found)}")


def _is_flags(product: Product, name: str) -> bool:
    return "flags_definition" in product.lookup_measurements([name])[name]


def _resampling(product: Product, names: Sequence[str], given: str | Mapping[str, str] | None) -> dict[str, str]:
    if isinstance(given, str):
        given = {n: given for n in names}
    chosen = {n: MASK_RESAMPLING if _is_flags(product, n) else DEFAULT_RESAMPLING for n in names}
    chosen.update(given or {})
    return chosen


def _groups(dc: datacube.Datacube, datasets: Sequence[Dataset], group_by: str) -> xr.DataArray:
    return dc.group_datasets(list(datasets), group_by)


def _per_step(dc: datacube.Datacube, datasets: Sequence[Dataset], group_by: str, key: str) -> list[str]:
    groups = _groups(dc, datasets, group_by)
    return [",".join(sorted({str(getattr(d.metadata, key, None) or "") for d in g})) for g in groups.values]


def _boa_offsets(dc: datacube.Datacube, datasets: Sequence[Dataset], product: Product, group_by: str) -> np.ndarray:
    """Per time step, the DN offset to add before scaling (Sentinel-2 processing baseline >= 04.00)."""
    days = _groups(dc, datasets, group_by)
    offsets = []
    for day, group in zip(days.time.values, days.values):
        values = {float(d.metadata_doc["properties"].get(prop.BOA_ADD_OFFSET, 0)) for d in group}
        if len(values) > 1:
            raise CubeError(
                f"{product.name} on {np.datetime_as_string(day, unit='D')}: datasets of one day have different "
                f"BOA offsets {sorted(values)}; load them separately with a narrower time range"
            )
        offsets.append(values.pop())
    return np.asarray(offsets, dtype="float32")


def _to_reflectance(data: xr.Dataset, product: Product, boa_offsets: np.ndarray) -> xr.Dataset:
    offsets = xr.DataArray(boa_offsets, dims=["time"], coords={"time": data.time})
    if data.chunks:  # chunked as the bands are: a single-chunk array would be rechunked in every graph that uses it,
        offsets = offsets.chunk({"time": data.chunks["time"]})  # and the rechunk's keys clash between two graphs
    scaled = {}
    for name, band in data.data_vars.items():
        spec = product.lookup_measurements([name])[name]
        if "flags_definition" in spec:
            continue
        nodata = band.attrs.get("nodata", spec.get("nodata"))
        valid = band != nodata if nodata is not None and not np.isnan(nodata) else np.isfinite(band)
        factor = float(spec.get("scale_factor", 1.0))
        add = float(spec.get("add_offset", 0.0))
        dn_offset = offsets if spec.get("units") == "1" else 0.0
        value = ((band.astype("float32") + dn_offset) * factor + add).where(valid).astype("float32")
        value.attrs = {k: v for k, v in band.attrs.items() if k not in ("nodata", "scale_factor", "add_offset")}
        value.attrs["nodata"] = np.nan
        scaled[name] = value
    return data.assign(scaled)




class UnreadableInputError(BadInputError):
    """A file of an indexed dataset that cannot be read (corrupt, truncated, no longer a raster): the unit fails with
    the dataset, the file and GDAL's reason; once the file is repaired, the next run reads it."""


@contextmanager
def reading(datasets: Sequence[Dataset], *, unit: str) -> Iterator[None]:
    """The block's read errors (rasterio and GDAL raise ``OSError`` or ``RuntimeError`` subclasses) as one line
    naming the dataset and file they concern, raised where ``datasets`` are known: on the worker that reads them.

    A read that may succeed when tried again (a remote file over a network) is left to the task's retries; a local
    file that cannot be read stays unreadable: the unit fails at once, and the run goes on with the others.
    """
    from flows.run.retry import is_transient

    try:
        yield
    except (OSError, RuntimeError) as err:
        files = _files(datasets)
        if is_transient(err) and not all(path.startswith("/") for path in files):
            raise
        said = " ".join(str(err).split()) or type(err).__name__
        named = ([p for p in files if p in said] or [p for p in files if p.rsplit("/", 1)[-1] in said]
                 or list(files))
        named = _unopenable(named) or named  # GDAL often names the file by its base name alone
        what = ", ".join(f"{_name(files[p])} file {p}" for p in named[:2]) + (" ..." if len(named) > 2 else "")
        raise UnreadableInputError(f"{unit}: cannot read {what}: {said}") from err


def _unopenable(paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` whose first pixel cannot be read: which of the files a read error names is the bad one."""
    import rasterio
    from rasterio.windows import Window

    bad = []
    for path in paths:
        try:
            with rasterio.open(path) as src:
                src.read(1, window=Window(0, 0, 1, 1))
        except (OSError, RuntimeError):
            bad.append(path)
    return bad


def _files(datasets: Sequence[Dataset]) -> dict[str, Dataset]:
    """Each dataset's band files (local paths, or URLs), to the dataset."""
    out = {}
    for ds in datasets:
        base = ds.uris[0] if ds.uris else ""
        for band in ds.measurements.values():
            url = urljoin(base, band["path"])
            out[unquote(urlparse(url).path) if url.startswith("file:") else url] = ds
    return out


def _name(dataset: Dataset) -> str:
    return f"{dataset.product.name} dataset {dataset.metadata_doc.get('label') or dataset.id}"
