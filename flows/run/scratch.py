"""Keep a unit's inputs on local disk between passes, block by block, instead of in memory.

Let-It-Snow reads a unit twice: once for the snow-line elevation ``zs`` over the whole unit, once for the
final codes. Reading and reprojecting the inputs twice would double the dearest step; holding them in memory
makes a worker's memory follow the unit's size. Spilled here, each block is computed once, saved as a
``.npy`` file and loaded back only when a later pass needs it, so memory follows the chunk size and the
second pass costs a local file read. The files live in a folder the caller owns (and removes): a unit's own,
from ``unit_scratch``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dask
import dask.array as da
import numpy as np
import xarray as xr
from dask.delayed import Delayed

from flows.run.fanout import local_threads

X = TypeVar("X", xr.DataArray, xr.Dataset)


@contextmanager
def unit_scratch() -> Iterator[Path]:
    """A folder for one unit's spilled blocks, removed when the unit ends.

    On a dask worker it lies in the worker's own directory, which dask removes when the worker closes or, when
    the worker was killed mid-unit, as soon as another worker starts in the same place: a unit cut short does
    not leave its blocks behind. Elsewhere it lies in the temporary folder.
    """
    from distributed import get_worker

    try:
        parent = get_worker().local_directory
    except ValueError:  # not on a worker
        parent = None
    with tempfile.TemporaryDirectory(prefix="snowland-unit-", dir=parent) as folder:
        yield Path(folder)


def spill(objects: Sequence[X], folder: Path) -> list[X]:
    """``objects`` computed once into ``folder`` (one file per block) and returned lazily reading them back.

    Variables that are not dask arrays are returned as they are. The blocks at one place of every variable are
    computed together (blocks sharing inputs are read together), a few places at a time (one per thread here), so
    that memory holds no more places than can be worked on, whatever the area.
    """
    folder.mkdir(parents=True, exist_ok=True)
    saves: dict[tuple[int, ...], list] = {}
    rebuilds = []
    for i, obj in enumerate(objects):
        if isinstance(obj, xr.Dataset):
            obj = obj.unify_chunks()
        arrays = {"": obj} if isinstance(obj, xr.DataArray) else {str(k): v for k, v in obj.data_vars.items()}
        spilled = {}
        for name, array in arrays.items():
            if not isinstance(array.data, da.Array):
                continue
            files, tasks = _save_blocks(array.data, folder / f"{i}{name}")
            for index, task in tasks.items():
                saves.setdefault(index, []).append(task)
            spilled[name] = (array, files)
        rebuilds.append((obj, spilled))
    places = list(saves.values())
    at_once = local_threads()
    for start in range(0, len(places), at_once):
        dask.compute(*[task for place in places[start:start + at_once] for task in place])
    out = []
    for obj, spilled in rebuilds:
        loaded = {name: array.copy(data=_load_blocks(array.data, files)) for name, (array, files) in spilled.items()}
        if isinstance(obj, xr.DataArray):
            out.append(loaded.get("", obj))
        else:
            out.append(obj.assign(loaded))
    return out


def _save_blocks(array: da.Array, stem: Path) -> tuple[np.ndarray, dict[tuple[int, ...], Delayed]]:
    blocks = array.to_delayed(optimize_graph=False)  # one graph for all: shared inputs computed once
    files = np.empty(blocks.shape, dtype=object)
    tasks = {}
    for index in np.ndindex(blocks.shape):
        files[index] = Path(f"{stem}_{'_'.join(map(str, index))}.npy")
        tasks[index] = dask.delayed(np.save)(str(files[index]), blocks[index])
    return files, tasks


def _load_blocks(template: da.Array, files: np.ndarray) -> da.Array:
    blocks = np.empty(files.shape, dtype=object)
    for index in np.ndindex(files.shape):
        shape = tuple(template.chunks[axis][i] for axis, i in enumerate(index))
        blocks[index] = da.from_delayed(dask.delayed(np.load, pure=True)(str(files[index])), shape=shape,
                                        dtype=template.dtype)
    return da.block(blocks.tolist())
