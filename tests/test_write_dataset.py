"""Writing a product: what a writer that died mid-write left behind is cleared by the next writer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from pathlib import Path

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox

from flows.cube import ABANDONED_AFTER_S, sweep_abandoned, write_dataset


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hidden(final: Path, kind: str, *, host: str, pid: int, age_s: float = 0) -> Path:
    folder = final.parent / f".{final.name}.{kind}-{host}-{pid}-0123abcd"
    folder.mkdir(parents=True)
    (folder / "band.tif").write_bytes(b"half written")
    if age_s:
        past = folder.stat().st_mtime - age_s
        os.utime(folder, (past, past))
    return folder


def test_the_folders_of_dead_writers_go_and_those_of_live_or_recent_ones_stay(tmp_path):
    final = tmp_path / "snow_cover" / "100kmE40N24" / "2024-01-15" / "s2"
    here = socket.gethostname()
    dead = _hidden(final, "partial", host=here, pid=_dead_pid())
    alive = _hidden(final, "partial", host=here, pid=os.getpid())
    elsewhere_recent = _hidden(final, "partial", host="worker-7f9c-x", pid=12, age_s=60)
    elsewhere_old = _hidden(final, "partial", host="worker-7f9c-y", pid=12, age_s=ABANDONED_AFTER_S + 60)
    other_day = _hidden(final.parent.parent / "2024-01-16" / "s2", "partial", host=here, pid=_dead_pid())

    assert sorted(sweep_abandoned(final)) == sorted([dead, elsewhere_old])
    assert not dead.exists() and not elsewhere_old.exists()
    assert alive.exists() and elsewhere_recent.exists() and other_day.exists()


def test_a_replaced_product_whose_writer_died_before_the_swap_is_put_back(tmp_path):
    final = tmp_path / "snow_cover" / "100kmE40N24" / "2024-01-15" / "s2"
    old = _hidden(final, "old", host=socket.gethostname(), pid=_dead_pid())
    sweep_abandoned(final)
    assert not old.exists() and (final / "band.tif").read_bytes() == b"half written"

    leftover = _hidden(final, "old", host=socket.gethostname(), pid=_dead_pid())
    sweep_abandoned(final)  # the product is in place: its old copy only goes
    assert not leftover.exists() and final.exists()


def test_writing_a_product_clears_a_dead_writers_partial_folder_of_it(dc, tmp_path):
    from odc_config.settings import load_settings

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_002_000, 2_402_000), "EPSG:3035", resolution=20)
    key = "100kmE40N24/2031-01-15"
    final = load_settings().data_dir / "land_cover" / key
    dead = _hidden(final, "partial", host=socket.gethostname(), pid=_dead_pid())
    bands = xr.Dataset({name: (("y", "x"), np.full(gbox.shape, value, "uint8"))
                        for name, value in (("classification", 13), ("confidence", 90), ("n_clear", 20))})
    written = write_dataset(bands, geobox=gbox, product="land_cover", key=key, region="100kmE40N24",
                            when="2031-01-01T00:00:00Z", sources={}, overwrite=True, dc=dc,
                            properties={"snowland:nomenclature": "oso23", "snowland:simulated": True})
    try:
        assert written.path == final and (final / "odc-metadata.yaml").exists()
        assert not dead.exists()
        assert not [p for p in final.parent.iterdir() if p.name.startswith(".")]
    finally:
        dc.index.datasets.archive([written.id])
        dc.index.datasets.purge([written.id])
