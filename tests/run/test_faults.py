"""Faults: transient errors are retried, bad input is not; a lost dask worker or a lost database loses nothing.

These tests use their own PostGIS cluster and state folder (the session index is shared by every test and is
never stopped here), a SIMULATED area centred on a corner of the EEA 100 km grid (four cells), and a real
``distributed.LocalCluster`` of two worker processes.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from distributed.diagnostics.plugin import SchedulerPlugin
from helpers import StepFaults, free_port, full_disk, kill_this_process

CORNER = (4_000_000.0, 2_400_000.0)  # 100kmE39N23, 100kmE39N24, 100kmE40N23, 100kmE40N24 meet here
PERIOD = ("2024-01-10", "2024-01-31")
KILL_PERIOD = ("2024-01-10", "2024-01-17")
DB_PERIOD = ("2024-01-18", "2024-01-25")
OVERLAP_PERIOD = ("2024-01-26", "2024-01-31")


@pytest.fixture(scope="module")
def own_index(prefect_harness, tmp_path_factory):
    """A private index with the SIMULATED corner area indexed; the session's settings come back afterwards."""
    from infra.localdb import LocalPostgis

    state = tmp_path_factory.mktemp("faults")
    saved = {k: os.environ.get(k) for k in ("SNOWLAND_HOME", "SNOWLAND_DB_PORT", "SNOWLAND_DASK_ADDRESS")}
    os.environ.update(SNOWLAND_HOME=str(state), SNOWLAND_DB_PORT=str(free_port()))
    db = LocalPostgis(root=state / "pg", port=int(os.environ["SNOWLAND_DB_PORT"]), fast_unsafe=True)
    try:
        db.up()
        from flows.pipelines.index import index_scenes
        from flows.simulator.scenes import simulate_scenes
        from flows.storage.index import init_index

        init_index()
        sim = simulate_scenes(state / "sim", seed=3, size_km=8, centre=CORNER, start=PERIOD[0], end=PERIOD[1],
                              s2_every_days=5)
        report = index_scenes(static=[str(sim.catalog)])
        assert not report.failed, report.summary()
        from flows.run.cluster import dask_client

        with dask_client(workers=1):  # workers that see this index, not the session's
            yield db
    finally:
        db.destroy()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from odc_config.settings import apply_odc_environ, load_settings

        apply_odc_environ(load_settings())


def _products_dir() -> Path:
    from odc_config.settings import load_settings

    return load_settings().data_dir / "snow_cover"


def _indexed_keys(period: tuple[str, str]) -> Counter:
    """Active snow_cover datasets per unit key (cell/day/sensor) in the period."""
    from flows.storage.index import connect

    found = connect().find_datasets(product="snow_cover", time=(period[0], f"{period[1]}T23:59:59"))
    return Counter(f"{d.metadata_doc['properties']['odc:region_code']}/{str(d.center_time)[:10]}/"
                   f"{d.metadata_doc['properties']['snowland:sensor']}" for d in found)


def _folders(period: tuple[str, str]) -> tuple[set[str], list[Path]]:
    """Product folders on disk (cell/day/sensor) in the period, and any hidden (partial or old) folder."""
    root = _products_dir()
    if not root.exists():
        return set(), []
    done = {"/".join(p.relative_to(root).parts) for p in root.glob("*/*/*") if not p.name.startswith(".")}
    hidden = [p for p in root.rglob(".*") if p.is_dir()]
    return {k for k in done if period[0] <= k.split("/")[1] <= period[1]}, hidden


class KillWorkerOnceBusy(SchedulerPlugin):
    """Kills a worker's process on the scheduler's first transition after which a product is on disk and that
    worker holds a unit: a deterministic moment of the flow, whatever the machine's speed."""

    name = "kill-worker-once-busy"

    def __init__(self, scheduler, *, address: str, pid: int) -> None:
        self.scheduler, self.address, self.pid = scheduler, address, pid
        self.product_written = self.killed = False

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if self.killed:
            return
        if finish == "memory":  # a unit ended: once one has written its product, the worker may go
            self.product_written = self.product_written or bool(_folders(KILL_PERIOD)[0])
        worker = self.scheduler.workers.get(self.address)
        if self.product_written and worker is not None and worker.processing:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True


class StopDatabaseOnceIndexed(SchedulerPlugin):
    """Stops the index's database when a unit ends and a product of the period is indexed; the scheduler hands
    out no other unit meanwhile (the plugin runs on its event loop)."""

    name = "stop-database-once-indexed"

    def __init__(self, database, *, restart: bool = False) -> None:
        self.database, self.restart, self.stopped = database, restart, False

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if not self.stopped and finish == "memory" and _indexed_keys(DB_PERIOD):
            self.database.down()
            if self.restart:  # at once: the units in flight meet a server that went away and came back
                self.database.up()
            self.stopped = True


def _assert_each_product_once(period: tuple[str, str], expected: set[str]) -> None:
    counts = _indexed_keys(period)
    assert set(counts) == expected
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}
    folders, hidden = _folders(period)
    assert folders == expected
    root = _products_dir()
    assert all((root / key / "odc-metadata.yaml").exists() for key in folders)  # no half product in view
    # a worker killed while writing leaves a hidden ``.<day>.partial-*`` folder; the unit's next writer clears it
    assert hidden == []


def _units(outcomes) -> set[str]:
    return {o.unit for o in outcomes}


def _statuses(report) -> dict[str, str]:
    """Each unit's status in a run, to say in a failed assertion."""
    return {o.unit: o.status for o in report}


def _assert_the_rerun_completes_exactly_what_is_missing(first, again, jobs) -> None:
    assert not again.failed, again.summary()
    done_first = _units(first.written + first.exists)
    assert _units(again.exists) == done_first  # nothing computed twice
    assert _units(again.written) <= _units(first.failed)
    assert _units(again.written) == _units(first.failed) - _units(again.skipped)
    assert done_first | _units(again.written) | _units(again.skipped) == {j.key for j in jobs}
    assert first.written


def test_retry_policy_tells_transient_errors_from_bad_input():
    import psycopg2
    from rasterio.errors import RasterioIOError
    from sqlalchemy.exc import OperationalError

    from flows.pipelines.snow_cover import SnowInputError
    from flows.run.retry import is_transient
    from flows.storage.eo3 import BadSourceError
    from flows.storage.index import CubeError, IndexUnreachableError

    lost = OperationalError("SELECT 1", {}, psycopg2.OperationalError("server closed the connection unexpectedly"))
    try:
        raise IndexUnreachableError("cannot open the ODC index") from lost
    except IndexUnreachableError as err:
        cannot_connect = err
    try:
        raise SnowInputError("cannot read the inputs") from RasterioIOError("HTTP response code: 503")
    except SnowInputError as err:
        unreadable = err

    assert is_transient(lost) and is_transient(cannot_connect)
    assert is_transient(RasterioIOError("Read failed. HTTP response code: 503"))
    assert is_transient(ConnectionResetError(104, "Connection reset by peer"))
    assert not is_transient(RasterioIOError("'/x/B03.tif' not recognized as a supported file format."))
    assert not is_transient(FileNotFoundError(2, "No such file", "/x/B03.tif"))
    assert not is_transient(BadSourceError("item has no proj:epsg"))
    assert not is_transient(unreadable)  # the flow's own verdict on an input stands
    assert not is_transient(KeyError("red"))
    assert not is_transient(CubeError("no product 'snow' in the index"))  # a user's error, however it was reached


def test_tasks_retry_transient_errors_with_backoff_and_fail_bad_input_at_once(prefect_harness):
    import psycopg2
    from prefect import flow, task
    from sqlalchemy.exc import OperationalError

    from flows.pipelines.index import index_files, index_items
    from flows.pipelines.snow_cover import SnowInputError, snow_cover_task
    from flows.pipelines.snow_season import snow_season_task
    from flows.run.retry import TRANSIENT_RETRIES, retry_on_transient

    for t in (snow_cover_task, snow_season_task, index_items, index_files):
        assert t.retries >= 2 and t.retry_condition_fn is retry_on_transient, t.name
        assert list(t.retry_delay_seconds) == sorted(t.retry_delay_seconds) and t.retry_delay_seconds[0] > 0

    calls: Counter = Counter()

    @task(**{**TRANSIENT_RETRIES, "retry_delay_seconds": [0.01] * TRANSIENT_RETRIES["retries"]})
    def flaky(kind: str) -> str:
        calls[kind] += 1
        if kind == "database" and calls[kind] <= 2:
            raise OperationalError("SELECT 1", {}, psycopg2.OperationalError("server closed the connection"))
        if kind == "bad input":
            raise SnowInputError("no clear pixel (every valid pixel is cloud or nodata); nothing to map")
        return kind

    @flow
    def run(kind: str) -> str:
        return flaky(kind)

    assert run("database") == "database" and calls["database"] == 3
    with pytest.raises(SnowInputError, match="no clear pixel"):
        run("bad input")
    assert calls["bad input"] == 1


def test_a_worker_killed_mid_flow_loses_and_duplicates_no_product(own_index, monkeypatch):
    from distributed import Client, LocalCluster, get_task_stream

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover

    _forget(KILL_PERIOD)
    jobs = find_snow_jobs(time=KILL_PERIOD)
    assert len({j.cell for j in jobs}) == 4 and len(jobs) >= 8
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        monkeypatch.setenv("SNOWLAND_DASK_ADDRESS", cluster.scheduler_address)
        victim_address, victim_pid = sorted(client.run(os.getpid).items())[0]
        killer = KillWorkerOnceBusy(cluster.scheduler, address=victim_address, pid=victim_pid)
        cluster.scheduler.add_plugin(killer)
        try:
            with get_task_stream(client) as stream:
                first = snow_cover(start=KILL_PERIOD[0], end=KILL_PERIOD[1])
        finally:
            cluster.scheduler.remove_plugin(name=killer.name)
        assert killer.killed, "no unit was on the worker once a product was written"
        # the units ran on the cluster (the victim's unit never finished there: it ran again elsewhere)
        assert {t["worker"] for t in stream.data} - {victim_address}
        again = snow_cover(start=KILL_PERIOD[0], end=KILL_PERIOD[1])

    _assert_the_rerun_completes_exactly_what_is_missing(first, again, jobs)
    _assert_each_product_once(KILL_PERIOD, _units(first.written + first.exists + again.written))


def test_database_lost_gives_a_clear_error_and_the_next_run_resumes(own_index, monkeypatch):
    from distributed import default_client

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover, snow_cover_task
    from flows.storage.index import IndexUnreachableError

    monkeypatch.setattr(snow_cover_task, "retry_delay_seconds", [0.05, 0.1, 0.2])
    _forget(DB_PERIOD)
    jobs = find_snow_jobs(time=DB_PERIOD)

    own_index.down()
    try:
        with pytest.raises(IndexUnreachableError, match="cannot open the ODC index") as lost:
            snow_cover(start=DB_PERIOD[0], end=DB_PERIOD[1])
    finally:
        own_index.up()
    said = str(lost.value)
    assert said.startswith("cannot open the ODC index") and "Connection refused" in said
    assert said.endswith("`snowland db up` starts the embedded one.") and "Traceback" not in said
    assert not _folders(DB_PERIOD)[0]

    scheduler = default_client().cluster.scheduler
    stopper = StopDatabaseOnceIndexed(own_index)
    scheduler.add_plugin(stopper)
    try:
        first = snow_cover(start=DB_PERIOD[0], end=DB_PERIOD[1])
    finally:
        scheduler.remove_plugin(name=stopper.name)
        own_index.up()
    assert stopper.stopped, "no product was indexed"
    assert first.failed, "no unit was left when the database stopped"
    for failure in first.failed:
        reason = failure.reason
        assert "Traceback" not in reason and any(w in reason for w in ("ODC index", "connection", "server")), reason

    again = snow_cover(start=DB_PERIOD[0], end=DB_PERIOD[1])
    _assert_the_rerun_completes_exactly_what_is_missing(first, again, jobs)
    _assert_each_product_once(DB_PERIOD, _units(first.written + first.exists + again.written))


def test_a_process_keeps_one_connection_pool_and_reopens_it_after_a_restart(own_index):
    from flows.storage.index import connect

    opened = connect()
    opened.index.datasets.count(product="snow_cover")
    before = _count_backends(own_index)
    for _ in range(20):  # as a worker's units do, each opening the index
        connect().index.datasets.has("00000000-0000-0000-0000-000000000001")
    assert connect() is opened
    assert _count_backends(own_index) == before, "each connect() left a connection behind"

    own_index.down()
    own_index.up()
    again = connect()  # each of its pooled connections, all made before the restart, is tested and replaced
    for _ in range(3):
        assert again.index.datasets.count(product="snow_cover") >= 0
    assert connect() is again


def _count_backends(db) -> int:
    """Client connections to the index database, counted from a connection of its own (not included)."""
    return int(db.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'", database=db.db_name))


def test_two_snow_runs_at_once_compute_each_unit_once_between_them(own_index, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client, LocalCluster

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover

    _forget(OVERLAP_PERIOD)
    jobs = {j.key for j in find_snow_jobs(time=OVERLAP_PERIOD)}
    assert len(jobs) >= 4
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster), ThreadPoolExecutor(max_workers=2) as pool:
        monkeypatch.setenv("SNOWLAND_DASK_ADDRESS", cluster.scheduler_address)
        runs = [pool.submit(snow_cover, start=OVERLAP_PERIOD[0], end=OVERLAP_PERIOD[1]) for _ in range(2)]
        one, other = (run.result() for run in runs)

    for report in (one, other):
        assert not report.failed, report.summary()
        assert _units(report) == jobs
    assert not _units(one.written) & _units(other.written), "a unit was computed by both runs"
    written = _units(one.written) | _units(other.written)
    assert written == jobs - _units(one.skipped) - _units(other.skipped)
    for report, peer in ((one, other), (other, one)):  # what a run left to the other, the other wrote or skipped
        assert _units(report.exists) | _units(report.elsewhere) <= _units(peer.written) | _units(peer.skipped)
    _assert_each_product_once(OVERLAP_PERIOD, written)


# --- the fault table (README): a worker killed at each step of a unit, a full disk, a corrupt input, the flow's own
# process killed, the database restarted; each ends with every product once, none half-written, the reason said -----

UNIT_STEPS = {  # a unit's steps, by the function the worker calls there (looked up by name at call time)
    "load": ("flows.pipelines.snow_cover", "load"),
    "compute": ("flows.pipelines.snow_cover", "detect_snow"),
    "write": ("flows.storage.writer", "_write_cogs"),
    "index": ("flows.storage.writer", "add_dataset"),
}


def _forget(period: tuple[str, str]) -> None:
    """Remove the period's snow products, from the index and from disk, so that a case starts from none."""
    import shutil

    from flows.storage.index import connect

    dc = connect()
    found = [str(d.id) for d in dc.find_datasets(product="snow_cover", time=(period[0], f"{period[1]}T23:59:59"))]
    if found:
        dc.index.datasets.archive(found)
        dc.index.datasets.purge(found)
    root = _products_dir()
    for folder in root.glob("*/*") if root.exists() else []:
        if period[0] <= folder.name.lstrip(".").split(".")[0] <= period[1]:
            shutil.rmtree(folder)


def test_a_worker_killed_at_each_step_of_a_snow_unit_loses_and_duplicates_nothing(own_index, monkeypatch, tmp_path):
    """One run on two workers meets a kill at each step of a unit (load, compute, write, index), each step killed
    once by whichever worker reaches it first; the re-run completes exactly what is missing."""
    from distributed import Client, LocalCluster

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover

    _forget(KILL_PERIOD)
    jobs = find_snow_jobs(time=KILL_PERIOD)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        monkeypatch.setenv("SNOWLAND_DASK_ADDRESS", cluster.scheduler_address)
        with StepFaults.armed(client, steps=UNIT_STEPS, action=kill_this_process, marks=tmp_path) as faults:
            first = snow_cover(start=KILL_PERIOD[0], end=f"{KILL_PERIOD[1]}T23:59:59")
        assert faults.met == set(UNIT_STEPS), f"the run never reached {set(UNIT_STEPS) - faults.met}"
        again = snow_cover(start=KILL_PERIOD[0], end=f"{KILL_PERIOD[1]}T23:59:59")
    assert not again.failed, again.summary()
    for failure in first.failed:  # a unit whose workers all died is reported, with the cause
        assert "KilledWorker" in failure.reason or "worker" in failure.reason.lower(), failure.reason
    done = _units(first.written) | _units(again.written)
    assert not _units(first.written) & _units(again.written), "a unit was written twice"
    said = f"first: {_statuses(first)}\nagain: {_statuses(again)}"
    assert done | _units(again.skipped) == {j.key for j in jobs}, said
    _assert_each_product_once(KILL_PERIOD, done | (_units(again.exists) - _units(again.skipped)))


def test_a_full_disk_while_writing_fails_the_unit_with_its_reason_and_leaves_nothing_half_written(own_index,
                                                                                                   tmp_path):
    from distributed import default_client

    from flows.pipelines.snow_cover import snow_cover

    _forget(DB_PERIOD)
    write = {"write": UNIT_STEPS["write"]}
    with StepFaults.armed(default_client(), steps=write, action=full_disk, marks=tmp_path) as faults:
        first = snow_cover(start=DB_PERIOD[0], end=f"{DB_PERIOD[1]}T23:59:59")
    assert faults.met == set(write)
    assert len(first.failed) == 1 and "No space left on device" in first.failed[0].reason, first.summary()
    again = snow_cover(start=DB_PERIOD[0], end=f"{DB_PERIOD[1]}T23:59:59")
    assert not again.failed, again.summary()
    assert _units(again.written) == _units(first.failed)
    _assert_each_product_once(DB_PERIOD, _units(first.written) | _units(again.written))


def test_a_corrupt_input_cog_between_indexing_and_loading_is_reported_and_a_repaired_one_is_used(own_index,
                                                                                               monkeypatch):
    import shutil
    from urllib.parse import urljoin, urlparse

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover
    from flows.storage.index import connect

    _forget(OVERLAP_PERIOD)
    job = next(j for j in find_snow_jobs(time=OVERLAP_PERIOD) if j.product == "s2_l2a")
    scene = next(d for d in connect().find_datasets(product="s2_l2a", time=(job.day, f"{job.day}T23:59:59")))
    band = Path(urlparse(urljoin(scene.uris[0], scene.metadata_doc["measurements"]["red"]["path"])).path)
    saved = band.with_name(f".{band.name}.saved")
    shutil.copy2(band, saved)
    try:
        band.write_bytes(b"II*\x00 not a GeoTIFF any more")
        first = snow_cover(start=job.day, end=f"{job.day}T23:59:59", cells=[job.cell], products=["s2_l2a"])
    finally:
        shutil.move(saved, band)
    (said,) = [o for o in first if o.unit == job.key]
    assert said.status == "failed", said  # bad input: said at once, not retried as a network read
    assert said.reason.startswith(f"{job.key}: cannot read s2_l2a dataset ") and str(band) in said.reason, said
    assert "Exception" not in said.reason and "Traceback" not in said.reason and "\n" not in said.reason, said
    assert job.key not in _folders(OVERLAP_PERIOD)[0] and job.key not in _indexed_keys(OVERLAP_PERIOD)
    again = snow_cover(start=job.day, end=f"{job.day}T23:59:59", cells=[job.cell], products=["s2_l2a"])
    assert job.key in _units(again.written)


def test_the_flow_process_killed_mid_run_and_run_again_loses_and_duplicates_nothing(own_index, monkeypatch):
    import subprocess
    import sys
    import time

    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover

    _forget(KILL_PERIOD)
    jobs = find_snow_jobs(time=KILL_PERIOD)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        monkeypatch.setenv("SNOWLAND_DASK_ADDRESS", cluster.scheduler_address)
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        run = subprocess.Popen([sys.executable, "-m", "flows.cli", "snow", "--start", KILL_PERIOD[0], "--end",
                                KILL_PERIOD[1]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        while not _folders(KILL_PERIOD)[0] and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        run.kill()  # SIGKILL: no clean-up of its own
        run.wait()
        assert _folders(KILL_PERIOD)[0], "the run was killed before it wrote a product"
        written = set()
        while True:  # a unit the killed run had sent to a worker goes on there, under its claim, to its end
            again = snow_cover(start=KILL_PERIOD[0], end=KILL_PERIOD[1])
            assert not again.failed, again.summary()
            written |= _units(again.written)
            if not again.elsewhere or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert not again.elsewhere
    assert _units(again.written) | _units(again.exists) | _units(again.skipped) == {j.key for j in jobs}
    assert _units(again.exists) - written, "what the killed run finished is kept, not computed again"
    _assert_each_product_once(KILL_PERIOD, _units(again.written) | _units(again.exists))


def test_the_database_restarted_mid_run_costs_retries_only(own_index, monkeypatch):
    from distributed import default_client

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover, snow_cover_task

    monkeypatch.setattr(snow_cover_task, "retry_delay_seconds", [0.5, 1, 2])
    _forget(DB_PERIOD)
    jobs = find_snow_jobs(time=DB_PERIOD)
    scheduler = default_client().cluster.scheduler
    restarter = StopDatabaseOnceIndexed(own_index, restart=True)
    scheduler.add_plugin(restarter)
    try:
        first = snow_cover(start=DB_PERIOD[0], end=DB_PERIOD[1])
    finally:
        scheduler.remove_plugin(name=restarter.name)
    assert restarter.stopped, "no product was indexed"
    for failure in first.failed:
        assert "Traceback" not in failure.reason, failure.reason
    again = snow_cover(start=DB_PERIOD[0], end=DB_PERIOD[1])
    assert not again.failed, again.summary()
    assert _units(again.written) <= _units(first.failed)
    _assert_each_product_once(DB_PERIOD, _units(first.written) | _units(again.written) | _units(again.exists))
    assert _units(first.written) | _units(again.written) | _units(again.skipped) | _units(first.skipped) >= \
        {j.key for j in jobs} - _units(first.exists)
