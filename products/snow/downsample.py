"""The coarse red band of the dark-cloud test: down-sampled by rf, brought back by nearest neighbour."""

import dask
import numpy as np
import xarray as xr


def coarse_red_nearest(*, red: xr.DataArray, rf: int) -> xr.DataArray:
    """Mean of each rf x rf block of a (y, x) band, repeated over the block's pixels (LIS ``red_nn``).

    LIS down-samples with GDAL "bilinear" and returns to full size with nearest neighbour; the block
    mean stands for that down-sampling here. Blocks start at the first row and column of the array;
    the last, partial blocks average the pixels they have. NaN pixels are left out of a block's mean,
    and a block with no valid pixel is NaN.

    On dask the array is rechunked so that chunk edges fall on block edges, each chunk is processed on
    its own, and the result gets the chunks of ``red`` back. Every block is summed in the same order
    whatever the chunking, so numpy and dask give bit-identical results.
    """
    if red.ndim != 2:
        raise ValueError(f"coarse_red_nearest needs a 2-D (y, x) band, got dims {red.dims}")
    if rf == 1:
        return red
    data = red.data
    if dask.is_dask_collection(data):
        aligned = data.rechunk(tuple(_aligned_chunks(chunks, rf) for chunks in data.chunks))
        means = aligned.map_blocks(_block_means, rf=rf, dtype=red.dtype).rechunk(data.chunks)
    else:
        means = _block_means(data, rf=rf)
    return red.copy(data=means)


def _block_means(block: np.ndarray, *, rf: int) -> np.ndarray:
    rows, cols = block.shape
    padded = np.pad(
        block.astype(np.float64), ((0, -rows % rf), (0, -cols % rf)), constant_values=np.nan
    )
    tiles = padded.reshape(padded.shape[0] // rf, rf, padded.shape[1] // rf, rf)
    valid = ~np.isnan(tiles)
    total = np.where(valid, tiles, 0.0).sum(axis=3).sum(axis=1)
    count = valid.sum(axis=3).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    full = np.repeat(np.repeat(mean, rf, axis=0), rf, axis=1)
    return full[:rows, :cols].astype(block.dtype)


def _aligned_chunks(chunks: tuple[int, ...], rf: int) -> tuple[int, ...]:
    """Chunk sizes along one axis with every edge on a multiple of rf, close to the largest chunk given."""
    size = sum(chunks)
    step = max(rf, max(chunks) // rf * rf)
    return tuple(min(step, size - start) for start in range(0, size, step))
