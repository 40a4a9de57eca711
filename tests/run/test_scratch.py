"""flows/run/scratch.py: a unit's inputs kept on disk between passes, each block computed once."""

import tempfile
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import xarray as xr
from distributed import Client, LocalCluster

from flows.run.scratch import spill, unit_scratch


def _counted(array: da.Array, calls: list[int]) -> da.Array:
    def f(block):
        calls.append(1)
        return block * 2

    return array.map_blocks(f, dtype=array.dtype)


def test_spilled_arrays_equal_their_sources_and_are_computed_once(tmp_path):
    calls: list[int] = []
    source = np.arange(7 * 5, dtype="float32").reshape(7, 5)
    red = xr.DataArray(_counted(da.from_array(source, chunks=(3, 2)), calls), dims=("y", "x"))
    ds = xr.Dataset({"red": red, "mask": red > 10, "numpy": (("y", "x"), source)})
    calls.clear()  # dask calls it once on an empty block for its metadata
    with dask.config.set(scheduler="threads"):
        spilled_red, spilled_ds = spill([red, ds], tmp_path)
        assert len(calls) == 3 * 3  # once per block, though red, ds.red and ds.mask all use it
        for _ in range(2):  # later passes read the files, they do not recompute
            np.testing.assert_array_equal(spilled_red.values, source * 2)
            np.testing.assert_array_equal(spilled_ds.mask.values, source * 2 > 10)
    assert len(calls) == 9
    assert spilled_ds.mask.dtype == bool and spilled_ds.red.chunks == red.chunks
    assert spilled_ds.numpy.data is ds.numpy.data  # not a dask array: left as it is
    assert len(list(tmp_path.glob("*.npy"))) == 3 * 9


def _scratch_on_worker() -> tuple[str, str, bool]:
    from distributed import get_worker

    with unit_scratch() as folder:
        return str(folder), get_worker().local_directory, folder.is_dir()


def test_a_units_scratch_lies_in_its_workers_directory_and_goes_with_the_unit():
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        folder, worker_directory, existed = client.submit(_scratch_on_worker, pure=False).result()
        assert existed and Path(folder).parent == Path(worker_directory)
        assert not Path(folder).exists()
    with unit_scratch() as here:  # not on a worker
        assert here.is_dir() and here.parent == Path(tempfile.gettempdir())
    assert not here.exists()
