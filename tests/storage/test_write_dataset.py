"""Writing a product or a file atomically: a reader sees the old or the new, and what a writer that died mid-write
left behind is cleared by the next writer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from odc.geo.geobox import GeoBox

from flows.run.outcomes import Exists
from flows.storage.atomic import (
    _start_centis,
    replacing,
    sweep_abandoned,
    sweep_folder,
    write_text,
)
from flows.storage.writer import write_dataset

HERE = socket.gethostname()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hidden(final: Path, kind: str, *, host: str = HERE, pid: int, start: int | None = None) -> Path:
    """A hidden folder as a writer makes it: ``.<name>.<kind>-<host>-<pid>-<start>-<8 hex>``."""
    start = _start_centis(pid) if start is None else start
    folder = final.parent / f".{final.name}.{kind}-{host}-{pid}-{start}-0123abcd"
    folder.mkdir(parents=True)
    (folder / "band.tif").write_bytes(b"half written")
    return folder


def test_a_file_is_replaced_whole_and_a_failed_write_leaves_the_previous_one(tmp_path):
    path = tmp_path / "exports" / "found.json"
    write_text(path, "first")
    write_text(path, "second")
    with pytest.raises(RuntimeError, match="died"), replacing(path) as partial:
        partial.write_text("half of a third")
        raise RuntimeError("died")
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["found.json"]


def test_the_hidden_name_keeps_the_extension_for_writers_that_choose_a_format_by_it(tmp_path):
    path = tmp_path / "samples.npz"
    with replacing(path) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".samples.npz.partial-")
        np.savez(partial, values=np.arange(3))  # numpy adds .npz to a name without it
    with np.load(path) as f:
        assert f["values"].tolist() == [0, 1, 2]


def test_the_hidden_files_of_dead_writers_go_whatever_their_name_and_those_of_live_ones_stay(tmp_path):
    dead = [tmp_path / f".{name}.partial-{HERE}-{_dead_pid()}-1-0123abcd{Path(name).suffix}"
            for name in ("B02.tif", "truth.json", "README")]
    alive = tmp_path / f".catalog.json.partial-{HERE}-{os.getpid()}-{_start_centis(os.getpid())}-0123abcd.json"
    for path in (*dead, alive):
        path.write_bytes(b"half written")
    assert sorted(sweep_folder(tmp_path)) == sorted(dead)
    assert [p.name for p in tmp_path.iterdir()] == [alive.name]


def test_the_folders_of_dead_writers_go_and_those_of_live_or_recent_ones_stay(tmp_path):
    final = tmp_path / "snow_cover" / "100kmE40N24" / "2024-01-15" / "s2"
    dead = _hidden(final, "partial", pid=_dead_pid(), start=12345)
    reused_pid = _hidden(final, "partial", pid=os.getpid(), start=_start_centis(os.getpid()) - 500)
    alive = _hidden(final, "partial", pid=os.getpid())
    elsewhere = _hidden(final, "partial", host="worker-7f9c-x", pid=12, start=99)
    other_day = _hidden(final.parent.parent / "2024-01-16" / "s2", "partial", pid=_dead_pid(), start=1)

    assert sorted(sweep_abandoned(final)) == sorted([dead, reused_pid])
    assert alive.exists() and elsewhere.exists() and other_day.exists()


def test_an_untouched_folder_goes_after_the_age_limit_whoever_wrote_it(tmp_path, monkeypatch):
    import flows.storage.atomic

    final = tmp_path / "land_cover" / "100kmE40N24" / "2031"
    alive = _hidden(final, "partial", pid=os.getpid())
    elsewhere = _hidden(final, "old", host="worker-7f9c-y", pid=12, start=99)
    final.mkdir()
    assert sweep_abandoned(final) == []
    monkeypatch.setattr(flows.storage.atomic, "ABANDONED_AFTER_S", -1)  # as if the age limit had passed
    assert sorted(sweep_abandoned(final)) == sorted([alive, elsewhere])


def test_a_replaced_product_whose_writer_died_before_the_swap_is_put_back(tmp_path):
    final = tmp_path / "snow_cover" / "100kmE40N24" / "2024-01-15" / "s2"
    old = _hidden(final, "old", pid=_dead_pid(), start=1)
    sweep_abandoned(final)
    assert not old.exists() and (final / "band.tif").read_bytes() == b"half written"

    leftover = _hidden(final, "old", pid=_dead_pid(), start=1)
    sweep_abandoned(final)  # the product is in place: its old copy only goes
    assert not leftover.exists() and final.exists()


def test_writing_a_product_clears_a_dead_writers_folders_and_puts_back_a_product_moved_aside(dc):
    from odc_config.settings import load_settings

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_002_000, 2_402_000), "EPSG:3035", resolution=20)
    key = "100kmE40N24/2031-01-15"
    final = load_settings().data_dir / "land_cover" / key
    dead = _hidden(final, "partial", pid=_dead_pid(), start=1)
    bands = xr.Dataset({name: (("y", "x"), np.full(gbox.shape, value, "uint8"))
                        for name, value in (("classification", 13), ("confidence", 90), ("n_clear", 20))})
    def write(overwrite: bool):
        return write_dataset(bands, geobox=gbox, product="land_cover", key=key, region="100kmE40N24",
                             when="2031-01-01T00:00:00Z", sources={}, overwrite=overwrite, dc=dc,
                             properties={"snowland:nomenclature": "oso23", "snowland:simulated": True})

    written = write(overwrite=True)
    try:
        assert written.path == final and (final / "odc-metadata.yaml").exists()
        assert not dead.exists()
        assert not [p for p in final.parent.iterdir() if p.name.startswith(".")]

        moved_aside = final.parent / f".{final.name}.old-{HERE}-{_dead_pid()}-1-0123abcd"
        final.rename(moved_aside)  # a replacement that died between its two renames
        assert isinstance(write(overwrite=False), Exists)
        assert (final / "odc-metadata.yaml").exists() and not moved_aside.exists()
    finally:
        dc.index.datasets.archive([written.id])
        dc.index.datasets.purge([written.id])
        shutil.rmtree(final, ignore_errors=True)



def test_the_writer_computes_an_input_its_bands_share_once_per_block(tmp_path):
    """Two bands of one graph (a classification and its confidence, say): the shared step runs once per block, not
    once per band, and both files hold its values."""
    import dask
    import dask.array as da
    import rasterio

    from flows.storage.writer import _write_cogs

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_014_000, 2_412_000), "EPSG:3035", resolution=20)
    codes = np.random.default_rng(1).integers(0, 200, size=gbox.shape, dtype=np.uint8)
    computed = []

    def counted(block: np.ndarray) -> np.ndarray:
        computed.append(block.shape)
        return block

    shared = da.from_array(codes, chunks=300).map_blocks(counted, dtype=np.uint8, meta=np.empty((0, 0), np.uint8))
    bands = xr.Dataset({"classes": (("y", "x"), shared), "count": (("y", "x"), shared.astype(np.uint16) + 1)})
    with dask.config.set(scheduler="threads"):  # here, whatever client an earlier test left as the default
        paths, _ = _write_cogs(bands, gbox, {n: tmp_path / f"{n}.tif" for n in bands.data_vars})
    assert len(computed) == shared.npartitions
    with rasterio.open(paths["classes"]) as classes, rasterio.open(paths["count"]) as count:
        assert (classes.read(1) == codes).all() and (count.read(1) == codes + 1).all()


def test_bands_chunked_apart_are_written_on_their_common_chunks(tmp_path):
    """A band computed apart (a sieved classification read back from a spill) beside bands of another chunking."""
    import dask.array as da
    import rasterio

    from flows.storage.writer import _write_cogs

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_014_000, 2_412_000), "EPSG:3035", resolution=20)
    codes = np.random.default_rng(2).integers(0, 200, size=gbox.shape, dtype=np.uint8)
    bands = xr.Dataset({"classes": (("y", "x"), da.from_array(codes, chunks=300)),
                        "count": (("y", "x"), da.from_array(codes.astype(np.uint16), chunks=512))})
    paths, counts = _write_cogs(bands, gbox, {n: tmp_path / f"{n}.tif" for n in bands.data_vars})
    assert (counts["classes"] == np.bincount(codes.ravel(), minlength=256)).all()
    with rasterio.open(paths["count"]) as count:
        assert (count.read(1) == codes).all()


def test_products_are_zstd_cogs_with_the_pixels_of_deflate_ones_and_simulated_scenes_stay_deflate(tmp_path,
                                                                                                    monkeypatch):
    """ZSTD changes a product's bytes, not its pixels: the same values at every overview level as the DEFLATE COGs
    the products were before, from memory and streamed; the simulator's scenes keep the DEFLATE of the real COGs
    they stand for."""
    import rasterio

    from flows.storage import writer

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_022_340, 2_421_580), "EPSG:3035", resolution=20)
    rng = np.random.default_rng(3)
    bands = xr.Dataset({"codes": (("y", "x"), rng.integers(0, 200, size=gbox.shape, dtype=np.uint8)),
                        "ndsi": (("y", "x"), rng.integers(-1000, 1000, size=gbox.shape, dtype=np.int16))})

    def written(kind: str, data: xr.Dataset) -> dict[str, list[np.ndarray]]:
        paths, _ = writer._write_cogs(data, gbox, {n: tmp_path / f"{n}_{kind}.tif" for n in data.data_vars})
        out = {}
        for name, path in paths.items():
            with rasterio.open(path) as src:
                assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
                assert src.compression.name == ("deflate" if kind == "deflate" else "zstd")
                out[name], levels = [src.read(1)], len(src.overviews(1))
            for level in range(levels):
                with rasterio.open(path, OVERVIEW_LEVEL=level) as src:
                    out[name].append(src.read(1))
        return out

    memory, streamed = written("memory", bands), written("streamed", bands.chunk(512))
    with monkeypatch.context() as m:
        m.setattr(writer, "PRODUCT_COMPRESSION", writer.SOURCE_COMPRESSION)
        deflate = written("deflate", bands)
    for name in bands.data_vars:
        assert len(deflate[name]) == 3  # the full grid, 2x and 4x
        for got in (memory[name], streamed[name]):
            assert len(got) == len(deflate[name])
            for level, (a, b) in enumerate(zip(got, deflate[name], strict=True)):
                np.testing.assert_array_equal(a, b, err_msg=f"{name} level {level}")
    scene = writer.write_cog(tmp_path / "scene.tif", bands.codes.values, geobox=gbox, nodata=None)
    with rasterio.open(scene) as src:
        assert src.compression.name == "deflate"
