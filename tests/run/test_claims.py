"""Unit claims: one holder at a time, gone with a dead holder, and a claimed unit is left to its holder by a flow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_claim_has_one_holder_at_a_time_and_is_free_again_after_it(database):
    from flows.run.claims import claim

    unit, other_unit = "snow_cover/100kmE40N24/2024-01-15/s2", "snow_cover/100kmE40N24/2024-01-20/s2"
    with claim(unit) as first, claim(unit) as second, claim(other_unit) as other:
        assert first and not second and other
    for _ in range(20):  # at once, each time: the holder releases it before its session ends (a unit run again)
        with claim("snow_cover/100kmE40N24/2024-01-15/s2") as again:
            assert again


def test_a_claim_whose_connection_is_lost_ends_without_error_and_frees_its_unit(database):
    from flows.run.claims import claim

    unit = "land_cover/100kmE41N24/2024/oso23"
    with claim(unit) as mine:  # its unit done, the database restarts before the claim ends: the unit stays done
        assert mine
        database.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                      "'snowland claim' AND pid <> pg_backend_pid()", database=database.db_name)
    with claim(unit) as again:
        assert again


def test_a_killed_holder_does_not_block_its_unit(database):
    from flows.run.claims import claim

    script = ("import time\nfrom flows.run.claims import claim\n"
              "with claim('land_cover/100kmE41N24/2024/oso17') as mine:\n"
              "    print(mine, flush=True)\n    time.sleep(600)\n")
    holder = subprocess.Popen([sys.executable, "-c", script],
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with claim("land_cover/100kmE41N24/2024/oso17") as mine:
            assert not mine
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    deadline = time.monotonic() + 30  # the server notices the closed socket at once; a loaded machine may lag
    while True:
        with claim("land_cover/100kmE41N24/2024/oso17") as mine:
            if mine or time.monotonic() > deadline:
                break
        time.sleep(0.2)
    assert mine, "the claim of a killed process still blocks its unit"


def test_units_another_run_holds_are_reported_in_progress_elsewhere(simulated):
    from contextlib import ExitStack

    from conftest import SIM_PERIOD

    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover
    from flows.run.claims import claim
    from flows.run.outcomes import Elsewhere

    last = max(job.day for job in find_snow_jobs(time=SIM_PERIOD))
    day = last, f"{last}T23:59:59"
    jobs = find_snow_jobs(time=day)
    with ExitStack() as held:
        assert all(held.enter_context(claim(f"snow_cover/{job.key}")) for job in jobs)
        report = snow_cover(start=day[0], end=day[1])
    assert not report.written and not report.failed
    assert {o.unit for o in report.elsewhere} | {o.unit for o in report.exists} == {j.key for j in jobs}
    assert report.elsewhere and all(isinstance(o, Elsewhere) for o in report.elsewhere)
    assert ("in progress elsewhere", "another run is computing it") in {(r[1], r[3]) for r in report.rows()}
    assert f"{len(report.elsewhere)} in progress elsewhere" in report.summary()


def test_the_season_and_daily_units_another_run_holds_are_left_to_it(database):
    from flows.pipelines.snow_daily import snow_daily_unit
    from flows.pipelines.snow_season import season_key, snow_season_unit
    from flows.run.claims import claim
    from flows.run.outcomes import Elsewhere

    cell = "100kmE40N24"
    with claim(f"snow_season/{season_key(cell, 2023)}") as season, claim(f"snow_daily/{cell}") as daily:
        assert season and daily
        assert snow_season_unit(cell, year=2023, overwrite=True) == Elsewhere(unit=season_key(cell, 2023))
        assert snow_daily_unit(cell, start="2024-01-14", end="2024-01-16", window_days=3, resolution=20.0,
                               overwrite=True) == [Elsewhere(unit=cell)]  # the cell's chain of days, whole
