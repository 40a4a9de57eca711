"""The one module that owns the cube's I/O: connect to the index, prepare it, load analysis-ready data.

Loading always lands on the EEA reference grid (EPSG:3035): Sentinel-2 tiles from different UTM zones are
reprojected and fused per solar day, so a day appears once whatever the number of tiles that cover it.
Reflectance comes out as float32 reflectance (NaN where nodata); masks keep their integer codes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import datacube
import numpy as np
import xarray as xr
import yaml
from datacube.model import Dataset, Product
from odc.geo import CRS, Geometry
from odc.geo.geobox import GeoBox

from flows.atomic import publish, staging_folder, sweep_abandoned
from flows.eo3 import BOA_OFFSET_PROPERTY, add_dataset, dataset_id, eo3_document, read_grid
from flows.fanout import local_threads
from flows.grid import EEA_CRS, Cell, aligned_geobox
from odc_config.settings import Settings, apply_odc_environ, load_settings
from products import product_definition_files

MASK_RESAMPLING = "nearest"
DEFAULT_RESAMPLING = "bilinear"
LOADER = "rio"  # odc-loader's rasterio reader: several times faster than datacube's legacy loader


_CONNECT_LOCK = threading.Lock()
_CONFIG_LOCK = threading.Lock()
_OPEN: dict[tuple[int, str, str, str], datacube.Datacube] = {}
_NO_DATASET = "00000000-0000-0000-0000-000000000000"


class CubeError(RuntimeError):
    """A query the cube cannot answer, said in the user's terms."""


def connect(settings: Settings | None = None, *, app: str = "snowland", validate: bool = True) -> datacube.Datacube:
    """A Datacube on snowland's index (the embedded one unless ``ODC_ENVIRONMENT`` says otherwise).

    One per process and database, shared by its threads (the index is thread-safe, not fork-safe): a worker
    running unit after unit holds one small connection pool instead of one per unit, which PostgreSQL's
    connection limit would not survive. It is checked on each call and reopened after the database restarted.
    ``validate=False`` connects to a database whose ODC schema does not exist yet (to initialise it), unshared.
    """
    settings = settings or load_settings()
    apply_odc_environ(settings)
    if not validate:
        return _open(settings, app=app, validate=False)
    key = (os.getpid(), app, settings.env_name, settings.db_url)
    with _CONNECT_LOCK:
        dc = _OPEN.pop(key, None)
        if dc is not None and not _alive(dc):
            dc.close()
            dc = None
        _OPEN[key] = dc or _open(settings, app=app, validate=True)
        return _OPEN[key]


def _open(settings: Settings, *, app: str, validate: bool) -> datacube.Datacube:
    try:
        with _CONFIG_LOCK:  # datacube's configuration loading is not thread-safe
            return datacube.Datacube(app=app, env=settings.env_name, validate_connection=validate)
    except Exception as err:  # the driver raises several unrelated types for "cannot connect"
        raise CubeError(
            f"cannot open the ODC index {settings.env_name!r} ({_redact(settings.db_url)}): {err}. "
            "Is the database up? `snowland db up` starts the embedded one."
        ) from err


def _alive(dc: datacube.Datacube) -> bool:
    try:
        dc.index.datasets.has(_NO_DATASET)
    except Exception:  # a restarted server, a dropped connection: the pool is stale either way
        return False
    return True


def init_index(dc: datacube.Datacube | None = None, *, extra_products: Sequence[Path] = ()) -> list[str]:
    """Create the schema, an EPSG:3035 spatial index and every snowland product; idempotent."""
    index = (dc or connect(validate=False)).index
    index.init_db(with_default_types=True, with_permissions=False)
    if EEA_CRS not in {CRS(c) for c in index.spatial_indexes(refresh=True)}:
        index.create_spatial_index(EEA_CRS, with_permissions=False)
    names = []
    for path in [*product_definition_files(), *extra_products]:
        names.append(add_product(index, yaml.safe_load(Path(path).read_text())))
    return names


def add_product(index: Any, definition: Mapping[str, Any]) -> str:
    """Add a product definition, or update it in place when it changed compatibly."""
    product = index.products.from_doc(dict(definition))
    existing = index.products.get_by_name(product.name)
    if existing is None:
        index.products.add(product, allow_table_lock=True)
    else:
        _, safe, unsafe = index.products.can_update(product)
        if safe or unsafe:
            added = all(_adds_measurement(change) for change in unsafe)
            index.products.update(product, allow_unsafe_updates=bool(unsafe) and added, allow_table_lock=True)
    return product.name


def _adds_measurement(change: tuple) -> bool:
    """A new measurement at the end of the list (datacube reports the old item as None): datasets indexed
    before simply do not have it."""
    offset, old, new = change
    return len(offset) == 2 and offset[0] == "measurements" and old is None and isinstance(new, dict)


def load(
    product: str,
    *,
    cell: Cell | str | None = None,
    geometry: Geometry | None = None,
    geobox: GeoBox | None = None,
    time: str | tuple[str, str] | None = None,
    measurements: Sequence[str] | None = None,
    resolution: float = 20.0,
    chunks: int = 1024,
    scale: bool = True,
    resampling: str | Mapping[str, str] | None = None,
    group_by: str = "solar_day",
    where: Mapping[str, Any] | None = None,
    datasets: Sequence[Dataset] | None = None,
    dc: datacube.Datacube | None = None,
) -> xr.Dataset:
    """Load ``product`` on the EEA grid for a cell, a geometry or an explicit geobox, as dask arrays.

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
    data = dc.load(
        datasets=found,
        like=target,
        measurements=names,
        group_by=group_by,
        dask_chunks={"time": 1, "y": chunks, "x": chunks},
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
        values = {float(d.metadata_doc["properties"].get(BOA_OFFSET_PROPERTY, 0)) for d in group}
        if len(values) > 1:
            raise CubeError(
                f"{product.name} on {np.datetime_as_string(day, unit='D')}: datasets of one day have different "
                f"BOA offsets {sorted(values)}; load them separately with a narrower time range"
            )
        offsets.append(values.pop())
    return np.asarray(offsets, dtype="float32")


def _to_reflectance(data: xr.Dataset, product: Product, boa_offsets: np.ndarray) -> xr.Dataset:
    offsets = xr.DataArray(boa_offsets, dims=["time"], coords={"time": data.time})
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


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    cred, host = rest.rsplit("@", 1)
    return f"{scheme}://{cred.split(':')[0]}@{host}"


def sources_of(id_: str, *, dc: datacube.Datacube | None = None) -> dict[str, list[Dataset]]:
    """The source datasets of a dataset, by lineage classifier (the postgis index's lineage table)."""
    index = (dc or connect()).index
    tree = index.lineage.get_source_tree(id_, max_depth=1)
    return {
        classifier: [index.datasets.get(child.dataset_id) for child in children]
        for classifier, children in (tree.children or {}).items()
    }


@dataclass(frozen=True, kw_only=True)
class Written:
    """The outcome of writing one output dataset."""

    id: str
    path: Path
    status: Literal["written", "exists", "replaced"]


def product_folder(product: str, key: str) -> Path:
    """Where the product ``key`` (e.g. ``100kmE40N24/2024-01-15/s2``) of ``product`` is written."""
    return load_settings().data_dir / product / key


def write_dataset(
    bands: xr.Dataset,
    *,
    geobox: GeoBox,
    product: str,
    key: str,
    region: str,
    when: str,
    sources: Mapping[str, Sequence[str]],
    properties: Mapping[str, Any],
    counted_properties: Callable[[Mapping[str, np.ndarray]], Mapping[str, Any]] | None = None,
    overwrite: bool = False,
    dc: datacube.Datacube | None = None,
) -> Written:
    """Write (y, x) bands on ``geobox`` (EEA grid) as COGs with an eo3 document, then index them, atomically.

    The files are written into a hidden folder that is renamed into place once complete, with the
    eo3 document last; only then is the dataset indexed. The id depends only on ``product`` and ``key``,
    so a re-run finds it and skips it, or with ``overwrite`` replaces it, never duplicating.
    ``sources`` maps a lineage classifier (e.g. the source product) to source dataset ids.
    ``counted_properties`` adds properties made from the value counts (256 bins) of every uint8 band, counted
    while the bands are written (e.g. the share of a class), so that no second pass over the data is needed.
    """
    index = (dc or connect()).index
    ds_id = dataset_id(product, key)
    final = product_folder(product, key)
    exists = index.datasets.has(ds_id)
    if exists and not overwrite:
        if not final.exists():
            sweep_abandoned(final)  # its replacement died between the two renames: put it back
        return Written(id=ds_id, path=final, status="exists")

    partial = staging_folder(final)
    try:
        stem = f"{product}_{key.replace('/', '_')}"
        paths, counts = _write_cogs(bands, geobox, {str(n): partial / f"{stem}_{n}.tif" for n in bands.data_vars})
        if counted_properties is not None:
            properties = {**properties, **counted_properties(counts)}
        doc = eo3_document(
            product=product, key=key, label=stem,
            grids={name: read_grid(str(path)) for name, path in paths.items()},
            paths={n: p.name for n, p in paths.items()},
            properties={"datetime": when, "odc:processing_datetime": _now_iso(), "odc:file_format": "GeoTIFF",
                        "odc:region_code": region, "odc:product_family": product.split("_")[0], **properties},
            lineage={k: sorted(set(v)) for k, v in sources.items() if v},
        )
        (partial / "odc-metadata.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        publish(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if exists:
        index.datasets.archive([ds_id])
        index.datasets.purge([ds_id])
    add_dataset(index, doc, uri=(final / "odc-metadata.yaml").as_uri())
    return Written(id=ds_id, path=final, status="replaced" if exists else "written")


COG_BLOCK = 512
COG_OPTIONS = {"driver": "COG", "compress": "DEFLATE", "level": 1, "blocksize": COG_BLOCK,  # level 6: +0.5 % smaller,
               "overview_resampling": "NEAREST", "bigtiff": "IF_SAFER"}                   # 1.7x slower on snow bands
GDAL_CACHE_MB = 128  # GDAL's block cache while the COG driver builds overviews; bounds the writer's memory


def _write_cogs(
    bands: xr.Dataset, geobox: GeoBox, paths: Mapping[str, Path]
) -> tuple[dict[str, Path], dict[str, np.ndarray]]:
    """Write (y, x) bands on ``geobox`` as COGs (tiled, deflate, nearest overviews), streaming block by block;
    return the paths and the value counts of the uint8 bands.

    Blocks of every band are computed together (they share their inputs) and written into an uncompressed
    tiled GeoTIFF as they arrive; GDAL's COG driver then compresses it and builds the overviews, reading it
    by blocks. Neither step holds a whole band in memory, so memory follows the chunk size, not the area.
    """
    import rasterio
    import rasterio.shutil

    for name, band in bands.data_vars.items():
        if band.shape != geobox.shape:
            raise CubeError(f"{name}: band shape {band.shape} is not the grid's {tuple(geobox.shape)}")
    staging = {name: path.with_name(f".{path.name}.tiles") for name, path in paths.items()}
    profiles = {name: {"driver": "GTiff", "width": geobox.width, "height": geobox.height, "count": 1,
                       "dtype": band.dtype.name, "crs": str(geobox.crs), "transform": geobox.transform,
                       "nodata": band.attrs.get("nodata"), "tiled": True, "blockxsize": COG_BLOCK,
                       "blockysize": COG_BLOCK, "compress": "NONE", "bigtiff": "IF_SAFER"}
                for name, band in bands.data_vars.items()}
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        counts = {name: np.zeros(256, dtype=np.int64) for name, p in profiles.items() if p["dtype"] == "uint8"}
        files = {name: rasterio.open(staging[name], "w", **profile) for name, profile in profiles.items()}
        try:
            for (rows, cols), blocks in _computed_blocks(bands):
                window = ((rows.start, rows.stop), (cols.start, cols.stop))
                for name, block in blocks.items():
                    files[name].write(block, 1, window=window)
                    if name in counts:
                        counts[name] += np.bincount(block.ravel(), minlength=256)
        finally:
            for f in files.values():
                f.close()

        def to_cog(name: str) -> Path:
            predictor = 3 if np.dtype(profiles[name]["dtype"]).kind == "f" else 2
            rasterio.shutil.copy(staging[name], paths[name], predictor=predictor, **COG_OPTIONS)
            staging[name].unlink()
            return paths[name]

        threads = min(len(paths), local_threads())
        with ThreadPoolExecutor(max_workers=threads) as pool:  # GDAL compresses without the GIL
            return dict(zip(paths, pool.map(to_cog, paths))), counts


def _computed_blocks(bands: xr.Dataset, *, in_flight: int | None = None):
    """((row slice, column slice), {band: numpy block}) over the bands' common chunks, as they are computed.

    The graph is optimised once and sent once; on a dask.distributed client the blocks stream back as they
    finish and each is released once written; otherwise they are computed ``in_flight`` windows at a time, by
    default one per thread of the local scheduler (inside a worker's unit: its threads), so that memory holds
    no more windows than can be worked on.
    numpy-backed bands come as one block.
    """
    import dask

    bands = bands.unify_chunks()
    names = list(bands.data_vars)
    if not bands.chunks:
        yield (slice(0, bands.sizes["y"]), slice(0, bands.sizes["x"])), {n: np.asarray(bands[n].values) for n in names}
        return
    bands = bands.chunk(dict(bands.chunks))  # numpy-backed bands among dask ones take the common chunks
    starts = {dim: np.cumsum((0, *bands.chunks[dim][:-1])).tolist() for dim in ("y", "x")}
    arrays = dask.optimize(*[bands[n].data for n in names])
    chunks = [a.to_delayed(optimize_graph=False) for a in arrays]
    windows, blocks = [], []
    for i, (y0, ny) in enumerate(zip(starts["y"], bands.chunks["y"])):
        for j, (x0, nx) in enumerate(zip(starts["x"], bands.chunks["x"])):
            windows.append((slice(y0, y0 + ny), slice(x0, x0 + nx)))
            blocks.append(dask.delayed(list)([c[i, j] for c in chunks]))
    client = _dask_client()
    if client is None:
        in_flight = in_flight or local_threads()
        for start in range(0, len(blocks), in_flight):
            batch = dask.compute(*blocks[start:start + in_flight], optimize_graph=False)
            for window, computed in zip(windows[start:start + in_flight], batch, strict=True):
                yield window, dict(zip(names, computed))
        return
    from distributed import as_completed

    futures = client.compute(blocks, optimize_graph=False)
    window_of = {future.key: window for future, window in zip(futures, windows, strict=True)}
    queue = as_completed(futures)
    del futures  # a block leaves the workers once its future is dropped
    for future in queue:
        yield window_of[future.key], dict(zip(names, future.result()))


def _dask_client():
    """The distributed client dask would compute on here, or None (threads, e.g. inside a worker's unit)."""
    from dask.base import get_scheduler
    from distributed import Client

    client = getattr(get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
