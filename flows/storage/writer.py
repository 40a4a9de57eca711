"""The one writer of COGs: products ((y, x) bands on the EEA grid -> COGs + eo3 document, atomic, metadata last,
indexed) and single arrays on any grid (``write_cog``, for the simulator), with the same options and final copy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import datacube
import numpy as np
import xarray as xr
import yaml
from odc.geo.geobox import GeoBox

from flows.run.claims import claim
from flows.run.fanout import local_threads
from flows.run.outcomes import Elsewhere, Exists, Written
from flows.storage.atomic import replacing, staged, sweep_abandoned
from flows.storage.eo3 import add_dataset, dataset_id, eo3_document, read_grid
from flows.storage.index import CubeError, connect
from odc_config.settings import load_settings


def product_folder(product: str, key: str) -> Path:
    """Where the product ``key`` (e.g. ``100kmE40N24/2024-01-15/s2``) of ``product`` is written."""
    return load_settings().data_dir / product / key


@contextmanager
def unit_claim(product: str, key: str, *, overwrite: bool, dc: datacube.Datacube) -> Iterator[Elsewhere | Exists | None]:
    """Claim the unit ``key`` of ``product`` for the block. Yields None when it is this run's to compute, else the
    outcome that ends it here: ``Elsewhere`` (another run holds it) or ``Exists`` (a run finished it since this one
    looked, and ``overwrite`` is off). Runs that overlap thus compute each unit once between them."""
    with claim(f"{product}/{key}") as mine:
        ds_id = dataset_id(product, key)
        if not mine:
            yield Elsewhere(unit=key)
        elif not overwrite and dc.index.datasets.has(ds_id):
            yield Exists(unit=key, id=ds_id, path=product_folder(product, key))
        else:
            yield None


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
) -> Written | Exists:
    """Write (y, x) bands on ``geobox`` (EEA grid) as COGs with an eo3 document, then index them, atomically.

    The files are written into a hidden folder that is renamed into place once complete, with the
    eo3 document last; only then is the dataset indexed. The id depends only on ``product`` and ``key``,
    so a re-run finds it and skips it, or with ``overwrite`` replaces it, never duplicating. The outcome's unit is
    ``key``.
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
        return Exists(unit=key, id=ds_id, path=final)

    with staged(final) as partial:
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
    if exists:
        index.datasets.archive([ds_id])
        index.datasets.purge([ds_id])
    add_dataset(index, doc, uri=(final / "odc-metadata.yaml").as_uri())
    return Written(unit=key, id=ds_id, path=final, replaced=exists)


COG_BLOCK = 512
COG_OPTIONS = {"driver": "COG", "blocksize": COG_BLOCK, "overview_resampling": "NEAREST", "bigtiff": "IF_SAFER"}
PRODUCT_COMPRESSION = {"compress": "ZSTD", "level": 1}
"""The products' compression: ZSTD encodes a snow unit's six COGs in 0.7x DEFLATE's CPU time (overviews included),
the same size, the same pixels; every reader here is GDAL >= 2.3 (rasterio's, hence odc-loader's and datacube-ows')."""
SOURCE_COMPRESSION = {"compress": "DEFLATE", "level": 1}  # level 6: +0.5 % smaller, 1.7x slower on snow bands
"""The simulator's scenes (``write_cog``): DEFLATE, as the Earth Search COGs they stand for, so that loads read
what they would read from the real ones."""
GDAL_CACHE_MB = 128  # GDAL's block cache while the COG driver builds overviews; bounds the writer's memory


def write_cog(
    path: str | PathLike,
    array: np.ndarray,
    *,
    geobox: GeoBox,
    nodata: float | int | None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write one (y, x) array on ``geobox`` as a cloud-optimised GeoTIFF with the products' options but DEFLATE
    (``SOURCE_COMPRESSION``: it writes the simulated scenes), atomically.

    Overviews are nearest-neighbour, as the products': they keep every value a real pixel has (no mixing of valid
    pixels with nodata at footprint edges, so decimated reads see the same value distribution) and cost ten times
    less than GDAL's nodata-aware averaging. They halve from 2x until the coarsest level fits in one block, as in
    Earth Search's Sentinel-2 COGs. (odc-loader reads a 2x overview only for an output within 0.1 % of its pixel:
    not the EEA grid's 20 m from a UTM 10 m band, so loads still read the full band; bench/README.md.)
    """
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile

    if array.shape != geobox.shape:
        raise ValueError(f"{path}: array shape {array.shape} is not the grid's {tuple(geobox.shape)}")
    height, width = array.shape
    profile = {"driver": "MEM", "width": width, "height": height, "count": 1, "dtype": array.dtype.name,
               "crs": str(geobox.crs), "transform": geobox.transform, "nodata": nodata}
    factors = _overview_factors(array.shape)
    with MemoryFile() as mem, mem.open(**profile) as ds, replacing(Path(path)) as partial:
        ds.write(array, 1)
        if tags:
            ds.update_tags(**tags)
        if factors:
            ds.build_overviews(factors, Resampling.nearest)
        _copy_as_cog(ds, partial, dtype=array.dtype, overviews="FORCE_USE_EXISTING" if factors else "NONE",
                     **SOURCE_COMPRESSION)
    return Path(path)


def _overview_factors(shape: tuple[int, int]) -> list[int]:
    """Decimation factors from 2 until the coarsest level fits in one block."""
    factors, f = [], 2
    while max(shape) / (f // 2) > COG_BLOCK:
        factors.append(f)
        f *= 2
    return factors


def _copy_as_cog(source: Any, path: Path, *, dtype: np.dtype | str, **options: Any) -> None:
    """GDAL's COG copy of ``source`` (a dataset or a file) with the one set of options, a product's compression
    unless ``options`` say otherwise; the final step of every COG."""
    import rasterio.shutil

    predictor = 3 if np.dtype(dtype).kind == "f" else 2
    rasterio.shutil.copy(source, str(path), predictor=predictor, **{**COG_OPTIONS, **PRODUCT_COMPRESSION, **options})


def _write_cogs(
    bands: xr.Dataset, geobox: GeoBox, paths: Mapping[str, Path]
) -> tuple[dict[str, Path], dict[str, np.ndarray]]:
    """Write (y, x) bands on ``geobox`` as COGs (tiled, ZSTD, nearest overviews), streaming block by block;
    return the paths and the value counts of the uint8 bands.

    Blocks of every band are computed together (they share their inputs) and written into an uncompressed
    tiled GeoTIFF as they arrive; GDAL's COG driver then compresses it and builds the overviews, reading it
    by blocks. Neither step holds a whole band in memory, so memory follows the chunk size, not the area.
    numpy-backed bands, already whole in memory, go to the COG driver from memory (the same files, without
    writing and reading back an uncompressed copy).
    """
    import rasterio

    for name, band in bands.data_vars.items():
        if band.shape != geobox.shape:
            raise CubeError(f"{name}: band shape {band.shape} is not the grid's {tuple(geobox.shape)}")
    bands = bands.unify_chunks()  # bands computed apart may have been chunked apart
    if not bands.chunks:
        return _write_cogs_from_memory(bands, geobox, paths)
    staging = {name: path.with_name(f".{path.name}.tiles") for name, path in paths.items()}
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        counts = _write_tiles(bands, geobox, staging)

        def to_cog(name: str) -> Path:
            _copy_as_cog(staging[name], paths[name], dtype=bands[name].dtype)
            staging[name].unlink()
            return paths[name]

        threads = min(len(paths), local_threads())
        with ThreadPoolExecutor(max_workers=threads) as pool:  # GDAL compresses without the GIL
            return dict(zip(paths, pool.map(to_cog, paths))), counts


def _write_tiles(bands: xr.Dataset, geobox: GeoBox, paths: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """Each band into an uncompressed tiled GeoTIFF at ``paths``, block by block as computed; the value counts of
    the uint8 bands."""
    import rasterio

    profiles = {name: _raster_profile(band, geobox, driver="GTiff", tiled=True, blockxsize=COG_BLOCK,
                                      blockysize=COG_BLOCK, compress="NONE", bigtiff="IF_SAFER")
                for name, band in bands.data_vars.items()}
    counts = {name: np.zeros(256, dtype=np.int64) for name, p in profiles.items() if p["dtype"] == "uint8"}
    files = {name: rasterio.open(paths[name], "w", **profile) for name, profile in profiles.items()}
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
    return counts


def _write_cogs_from_memory(
    bands: xr.Dataset, geobox: GeoBox, paths: Mapping[str, Path]
) -> tuple[dict[str, Path], dict[str, np.ndarray]]:
    """:func:`_write_cogs` of numpy-backed bands: each band through an in-memory raster into GDAL's COG driver."""
    import rasterio
    from rasterio.io import MemoryFile

    def to_cog(name: str) -> Path:
        array = np.asarray(bands[name].values)
        with MemoryFile() as mem, mem.open(**_raster_profile(bands[name], geobox, driver="MEM")) as ds:
            ds.write(array, 1)
            _copy_as_cog(ds, paths[name], dtype=array.dtype)
        return paths[name]

    counts = {name: value_counts(np.asarray(band.values), minlength=256)
              for name, band in bands.data_vars.items() if band.dtype == np.uint8}
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), ThreadPoolExecutor(
            max_workers=min(len(paths), local_threads())) as pool:  # GDAL compresses without the GIL
        return dict(zip(paths, pool.map(to_cog, paths))), counts


def _raster_profile(band: xr.DataArray, geobox: GeoBox, **creation: Any) -> dict[str, Any]:
    """rasterio's profile of a one-band raster of ``band`` on ``geobox``, with the driver's creation options."""
    return {"width": geobox.width, "height": geobox.height, "count": 1, "dtype": band.dtype.name,
            "crs": str(geobox.crs), "transform": geobox.transform, "nodata": band.attrs.get("nodata"), **creation}


def value_counts(array: np.ndarray, *, minlength: int, rows: int = COG_BLOCK) -> np.ndarray:
    """``np.bincount`` of a non-negative integer array, ``rows`` rows at a time: bincount counts in 64-bit
    integers, so a whole band at once would take eight times its size (a cell's uint8 band: 200 MB)."""
    counts = np.zeros(minlength, dtype=np.int64)
    for start in range(0, array.shape[0], rows):
        counts += np.bincount(array[start:start + rows].ravel(), minlength=minlength)
    return counts


def _computed_blocks(bands: xr.Dataset, *, in_flight: int | None = None):
    """((row slice, column slice), {band: numpy block}) over the bands' common chunks, as they are computed.

    The graph is optimised once, as the windows' blocks, and sent once (optimising the bands' arrays together
    fused a shared input into each band's tasks, computing it once per band); on a dask.distributed client the
    blocks stream back as they finish and each is released once written; otherwise they are computed ``in_flight`` windows at a time, by
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
    chunks = [bands[n].data.to_delayed(optimize_graph=False) for n in names]
    windows, blocks = [], []
    for i, (y0, ny) in enumerate(zip(starts["y"], bands.chunks["y"])):
        for j, (x0, nx) in enumerate(zip(starts["x"], bands.chunks["x"])):
            windows.append((slice(y0, y0 + ny), slice(x0, x0 + nx)))
            blocks.append(dask.delayed(list)([c[i, j] for c in chunks]))
    blocks = list(dask.optimize(*blocks))  # the windows together: the bands' shared inputs stay one task each
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
