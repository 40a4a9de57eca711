"""Shared fixtures: a real private PostGIS index, Prefect's test harness, the real samples in ../shared.

A run owns one folder, removed when the interpreter exits: the index's state, and the temporary folder of this
process and of every process the run starts (``TMPDIR``), so that nothing a killed worker leaves stays behind.
After the session's fixtures are torn down, one last check fails the run if a process it started is alive.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from helpers import REAL_DATA, free_port, purge, real_sample

from infra.processes import describe, mark_run, started_by, stop

_STATE = Path(tempfile.mkdtemp(prefix="snowland-test-"))
atexit.register(shutil.rmtree, _STATE, ignore_errors=True)  # registered first, so it runs after Prefect's own
(_STATE / "tmp").mkdir()
tempfile.tempdir = str(_STATE / "tmp")
mark_run(_STATE.name)

os.environ["TMPDIR"] = str(_STATE / "tmp")
os.environ["SNOWLAND_HOME"] = str(_STATE)
os.environ["SNOWLAND_DB_PORT"] = str(free_port())
os.environ.pop("ODC_ENVIRONMENT", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from odc_config.settings import apply_environ, load_settings  # noqa: E402

apply_environ()


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (a CI time-out, ``kill``) tears its fixtures down as after Ctrl-C."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@pytest.fixture(scope="session")
def real_data() -> Path:
    return real_sample(REAL_DATA)


@pytest.fixture(scope="session")
def database():
    """A throw-away PostgreSQL + PostGIS cluster (fsync off) with the ODC index initialised."""
    from flows.storage.index import init_index
    from infra.localdb import LocalPostgis

    s = load_settings()
    db = LocalPostgis(root=s.pg_dir, port=s.db_port, db_name=s.db_name, fast_unsafe=True)
    try:
        db.up()
        init_index()
        yield db
    finally:
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


@pytest.fixture(scope="module")
def query_products(dc, simulated):
    """The SIMULATED products of tests/queryproducts.py in the index while the module that asks for them runs."""
    from queryproducts import write_query_products

    made = write_query_products(dc)
    yield made
    purge(dc, made.ids)


LEFTOVER_CHECK = "the_run_leaves_no_process_behind"


class LeftoverCheck(pytest.Item):
    """Fails when a process the run started outlives it: collected last whatever the order, so that its teardown is
    the one that tears the session's fixtures down, after which it looks (``pytest_runtest_teardown``)."""

    def runtest(self) -> None:
        """Nothing to do while the session's fixtures still run their processes."""

    def reportinfo(self):
        return self.path, None, self.name


def _still_alive_after(*, seconds: float) -> list:
    """The run's processes still alive ``seconds`` from now (those already ending are given the time to)."""
    import psutil

    psutil.wait_procs(started_by(_STATE.name), timeout=seconds)
    return started_by(_STATE.name)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    yield  # after every reordering and deselection
    items.append(LeftoverCheck.from_parent(session, name=LEFTOVER_CHECK, path=Path(__file__),
                                           nodeid=f"tests/conftest.py::{LEFTOVER_CHECK}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield  # for the last item, pytest's own step has torn every fixture down
    if isinstance(item, LeftoverCheck) and (left := _still_alive_after(seconds=30)):
        lines = [describe(p) for p in left]
        stop(left)
        pytest.fail("processes started by this run were still alive after its fixtures were torn down "
                    "(stopped now):\n" + "\n".join(lines), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    """Where the run stopped early (Ctrl-C, ``-x``), the check did not run: stop what is left all the same."""
    result = yield  # after pytest's own step, which tears the session's fixtures down
    if left := _still_alive_after(seconds=30):
        session.config.get_terminal_writer().line(
            "stopping processes this run left behind: " + ", ".join(describe(p) for p in left), red=True)
        stop(left)
    return result
