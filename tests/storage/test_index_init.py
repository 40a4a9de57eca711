"""Initialising the index is safe when several first runs start at once: a cluster that does not exist yet, ``RUNS``
``snowland index`` processes on it, each exits 0 and every item is indexed once.

Ten runs, five times the cores of the machine the suite is sized for, so that they overlap on the init lock (56 s
on a quiet 2-core machine, against 24 s for four)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
RUNS = 10


@pytest.fixture
def new_index_home(prefect_harness):
    """A state folder with no cluster in it yet (removed with its cluster afterwards) and a small SIMULATED catalog."""
    from flows.simulator.scenes import simulate_scenes
    from infra.localdb import LocalPostgis

    home = Path(tempfile.mkdtemp(prefix="snowland-first-runs-"))
    port = free_port()
    try:
        sim = simulate_scenes(home / "sim", seed=11, size_km=4, start="2024-01-01", end="2024-01-20",
                              s2_every_days=10, l8_every_days=16)
        yield home, port, sim
    finally:
        LocalPostgis(root=home / "pg", port=port).destroy()
        shutil.rmtree(home, ignore_errors=True)


def _environ(home: Path, port: int) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("ODC_")}
    env.update(SNOWLAND_HOME=str(home), SNOWLAND_DB_PORT=str(port), PYTHONPATH=str(ROOT),
               PREFECT_API_URL=str(PREFECT_API_URL.value()))  # the harness's server, not one each
    return env


def test_simultaneous_first_index_runs_all_succeed_and_index_each_item_once(new_index_home):
    home, port, sim = new_index_home
    catalog, items = sim.catalog, dict(sim.items)
    env = _environ(home, port)
    runs = [subprocess.Popen([sys.executable, "-m", "flows.cli", "index", "--static", str(catalog)], env=env,
                             cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(RUNS)]
    said = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, said, strict=True):
        assert run.returncode == 0, f"{out}\n{err}"
        assert "Traceback" not in err, err

    from infra.localdb import LocalPostgis

    db = LocalPostgis(root=home / "pg", port=port)
    per_product = dict(line.split("|") for line in db.psql(
        "select p.name, count(*) from odc.dataset d join odc.product p on p.id = d.product_ref "
        "where d.archived is null group by p.name", database="snowland").splitlines())
    assert {k: int(v) for k, v in per_product.items()} == {_PRODUCT[c]: n for c, n in items.items()}
    written = sum(out.count(" written ") for out, _ in said)
    assert 0 < written  # the runs split the work: some wrote, the others found it there


_PRODUCT = {"sentinel-2-l2a": "s2_l2a", "landsat-c2-l2": "landsat_c2l2", "cop-dem-glo-30": "dem_cop30"}
