"""Shared fixtures: a real private PostGIS index, Prefect's test harness, the real samples in ../shared."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

_STATE = Path(tempfile.mkdtemp(prefix="snowland-test-"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


os.environ["SNOWLAND_HOME"] = str(_STATE)
os.environ["SNOWLAND_DB_PORT"] = str(_free_port())
os.environ.pop("ODC_ENVIRONMENT", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from odc_config.settings import apply_environ, load_settings  # noqa: E402

apply_environ()

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
for _candidate in (REAL, Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"):
    if _candidate.exists():
        REAL = _candidate
        break


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL.exists():
        pytest.skip(f"real samples not found at {REAL} (they live in ../shared/data/real beside the checkout)")
    return REAL


@pytest.fixture(scope="session")
def database():
    """A throw-away PostgreSQL + PostGIS cluster (fsync off) with the ODC index initialised."""
    from flows.storage.index import init_index
    from infra.localdb import LocalPostgis

    s = load_settings()
    db = LocalPostgis(root=s.pg_dir, port=s.db_port, db_name=s.db_name, fast_unsafe=True)
    db.up()
    init_index()
    yield db
    db.destroy()


@pytest.fixture(scope="session")
def dc(database):
    from flows.storage.index import connect

    return connect()


@pytest.fixture(scope="session")
def dask_cluster():
    """A real distributed cluster of 2 worker processes, the default client the flows fan their units out to."""
    from flows.run.cluster import dask_client

    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="session")
def prefect_harness(dask_cluster):
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


SIM_CENTRE = (4_006_000.0, 2_440_000.0)  # 12 km box x 4 000 000 - 4 012 000: crosses 6 E (x ~4 005 000)
SIM_PERIOD = ("2023-12-01", "2024-03-31")


@pytest.fixture(scope="session")
def simulated(database, prefect_harness, tmp_path_factory):
    """A small SIMULATED world across the UTM 31/32 boundary, indexed through the flow."""
    from flows.pipelines.index import index_scenes
    from flows.simulator.scenes import simulate_scenes

    sim = simulate_scenes(tmp_path_factory.mktemp("sim"), seed=7, size_km=12, centre=SIM_CENTRE,
                          start=SIM_PERIOD[0], end=SIM_PERIOD[1])
    report = index_scenes(static=[str(sim.catalog)])
    assert not report.failed, report.summary()
    return sim
