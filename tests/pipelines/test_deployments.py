"""prefect.yaml: every deployment loads, validates and schedules as documented; one runs end to end on a
local Prefect server and process worker (infra/localprefect.py) against the session's index."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from cronsim import CronSim
from helpers import free_port, purge

from odc_config.settings import PROJECT_ROOT
from products.errors import BadInputError

PREFECT_FILE = PROJECT_ROOT / "prefect.yaml"
PARIS = ZoneInfo("Europe/Paris")
LOCAL_POOL, K8S_POOL = "snowland-local", "snowland-kubernetes"


def _doc() -> dict:
    return yaml.safe_load(PREFECT_FILE.read_text())


def _deployments(pool: str | None = None) -> list[dict]:
    return [d for d in _doc()["deployments"] if pool is None or d["work_pool"]["name"] == pool]


def _by_entrypoint(pool: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for d in _deployments(pool):
        found.setdefault(d["entrypoint"], []).append(d)
    return found


def _next_runs(schedule: dict, count: int, start: dt.datetime) -> list[dt.datetime]:
    runs = CronSim(schedule["cron"], start.astimezone(ZoneInfo(schedule["timezone"])))
    return [next(runs) for _ in range(count)]


def test_prefect_yaml_is_a_valid_prefect_project_file():
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(_doc())
    assert len(model.deployments) == len(_deployments()) >= 12
    names = [d["name"] for d in _deployments()]
    assert len(names) == len(set(names)), "deployment names must be unique to be picked by name"


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_every_deployment_loads_and_its_parameters_fit_the_flow(deployment, monkeypatch):
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron
    from prefect.utilities.callables import parameter_schema

    monkeypatch.chdir(PROJECT_ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    schedules = [Cron(s["cron"], timezone=s["timezone"], parameters=s.get("parameters") or {})
                 for s in deployment["schedules"]]
    runner = flow.to_deployment(name=deployment["name"], parameters=deployment["parameters"], schedules=schedules,
                                tags=deployment.get("tags"), description=deployment.get("description"),
                                work_pool_name=deployment["work_pool"]["name"],
                                job_variables=deployment["work_pool"].get("job_variables") or {},
                                concurrency_limit=ConcurrencyLimitConfig(**deployment["concurrency_limit"]))
    assert runner.entrypoint == deployment["entrypoint"]
    assert runner.concurrency_limit == 1, "a schedule must never overlap itself"
    assert runner.concurrency_options.collision_strategy in ("CANCEL_NEW", "ENQUEUE")
    assert set(deployment["parameters"]) <= set(parameter_schema(flow).properties)
    for schedule in deployment["schedules"]:  # what each scheduled run receives must satisfy the signature
        flow.validate_parameters({**deployment["parameters"], **(schedule.get("parameters") or {})})
        assert schedule["timezone"] == "Europe/Paris"


def test_a_parameter_the_flow_does_not_take_is_refused():
    from prefect.exceptions import ParameterTypeError, SignatureMismatchError
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(str(PROJECT_ROOT / "flows/pipelines/snow_season.py") + ":snow_season")
    with pytest.raises((ParameterTypeError, SignatureMismatchError, TypeError)):
        flow.validate_parameters({"year": "not a year"})


def test_schedules_fire_when_the_issue_says():
    start = dt.datetime(2025, 12, 31, 23, 30, tzinfo=PARIS)  # runs strictly after it
    entry = _by_entrypoint(LOCAL_POOL)
    index = entry["flows/pipelines/index.py:index_scenes"][0]["schedules"][0]
    index_runs = _next_runs(index, 8, start)
    assert [r.hour for r in index_runs[:4]] == [0, 6, 12, 18] and index_runs[4].day == 2  # every 6 hours
    for snow in entry["flows/pipelines/snow_cover.py:snow_cover"]:
        snow_runs = _next_runs(snow["schedules"][0], 8, start)
        assert [s - i for s, i in zip(snow_runs, index_runs)] == [dt.timedelta(hours=1)] * 8
    daily = _next_runs(entry["flows/pipelines/snow_daily.py:snow_daily"][0]["schedules"][0], 2, start)
    assert [r - s for r, s in zip(daily, snow_runs[3::4], strict=True)] == [dt.timedelta(hours=1)] * 2, \
        "the daily map an hour after each day's last snow run"
    season = _next_runs(entry["flows/pipelines/snow_season.py:snow_season"][0]["schedules"][0], 2, start)
    assert [(r.year, r.month, r.day) for r in season] == [(2026, 9, 1), (2027, 9, 1)]
    key_dates = entry["flows/pipelines/landcover/maps.py:land_cover_key_date"][0]["schedules"]
    fired = {s["parameters"]["key_date"]: _next_runs(s, 1, start)[0] for s in key_dates}
    assert {k: (r.month, r.day) for k, r in fired.items()} == {"march": (3, 31), "july": (7, 31),
                                                                "december": (12, 31)}
    yearly = entry["flows/pipelines/landcover/maps.py:land_cover"][0]
    assert _next_runs(yearly["schedules"][0], 1, start)[0].month == 1


def test_every_local_deployment_has_a_kubernetes_twin_with_the_same_flow_and_schedule():
    local = {d["name"]: d for d in _deployments(LOCAL_POOL)}
    k8s = {d["name"].removesuffix("-k8s"): d for d in _deployments(K8S_POOL)}
    assert local.keys() == k8s.keys()
    for name, d in local.items():
        twin = k8s[name]
        assert (twin["entrypoint"], twin["parameters"], twin["schedules"]) == (
            d["entrypoint"], d["parameters"], d["schedules"])
        assert twin["pull"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == "/opt/snowland"


def test_kubernetes_job_variables_fit_the_kubernetes_work_pool_template():
    """Against the variables of the pool's base job template (infra/k8s), as the server would check them."""
    import jsonschema

    template = json.loads((PROJECT_ROOT / "infra/k8s/prefect/kubernetes-job-template.json").read_text())
    for d in _deployments(K8S_POOL):
        variables = d["work_pool"]["job_variables"]
        assert {"image", "cpu_request", "memory_request", "memory_limit"} <= variables.keys()
        jsonschema.validate(variables, template["variables"])


# --- end to end: a local server and worker run the snow deployment --------------------------------------


@pytest.fixture(scope="module")
def local_prefect(tmp_path_factory):
    from infra.localprefect import LocalPrefect

    prefect = LocalPrefect(home=tmp_path_factory.mktemp("prefect-server"), port=free_port(),
                           worker_poll_seconds=2)
    try:
        prefect.up(wait=False)  # the server boots while the other fixtures set up; the test waits for it
        yield prefect
    finally:
        prefect.down(grace=3)  # a throw-away server: no need to wait out its 20 s of graceful shutdown


def test_a_started_local_prefect_process_is_known_at_once_and_until_it_stops(tmp_path, monkeypatch):
    """A second ``up`` right after the first must find the process the first started, even while it execs (its
    command line still empty), and not start another on the same port and database; a pid given to a later process
    is not it."""
    import infra.localprefect as localprefect

    monkeypatch.setattr(localprefect, "_prefect_bin", lambda: "sleep")
    prefect = localprefect.LocalPrefect(home=tmp_path, port=free_port())
    prefect._start("server", ["600"])
    started = prefect._running("server")
    assert started is not None and started.is_running()
    pid_file = (tmp_path / "server.pid").read_text()
    (tmp_path / "server.pid").write_text(f"{started.pid} {started.create_time() - 1}")
    assert prefect._running("server") is None, "another process under the same pid"
    (tmp_path / "server.pid").write_text(pid_file)
    prefect._stop("server")
    assert not started.is_running() and prefect._running("server") is None and not (tmp_path / "server.pid").exists()


@pytest.mark.slow
def test_the_snow_deployment_runs_on_the_local_worker_and_indexes_its_products(local_prefect, simulated, dc,
                                                                                  monkeypatch, capsys):
    from flows.cli import main
    from flows.pipelines.snow_cover import find_snow_jobs
    from flows.storage.eo3 import dataset_id
    from infra.localprefect import LocalPrefect

    monkeypatch.setattr(LocalPrefect, "from_settings", classmethod(lambda cls, *args, **kwargs: local_prefect))
    runs = []  # what `snowland prefect run` triggered, to look at below
    trigger = LocalPrefect.run
    monkeypatch.setattr(LocalPrefect, "run", lambda self, *args, **kwargs: runs.append(trigger(self, *args, **kwargs))
                        or runs[-1])
    status = local_prefect.up(timeout=240)  # the server started by the fixture, given the time a busy machine needs
    assert status.server and status.worker, status.describe()
    assert main(["prefect", "up"]) == 0 and main(["prefect", "status"]) == 0
    assert capsys.readouterr().out.count(f"Prefect server running at {local_prefect.url}") == 2
    assert main(["prefect", "deploy", "alps-after-indexing"]) == 0
    assert capsys.readouterr().out.startswith(f"deployed on {local_prefect.url}: alps-after-indexing")

    days = sorted({j.day for j in find_snow_jobs(time=("2024-01-01", "2024-03-31"), dc=dc)})
    missing = [d for d in days if not any(dc.index.datasets.has(dataset_id("snow_cover", j.key))
                                          for j in find_snow_jobs(time=(d, d), dc=dc))]
    assert missing, "every simulated day already has snow products: nothing left for the deployment to make"
    cloud = {d["date"]: d["cloud_fraction"] for d in json.loads(Path(simulated.truth).read_text())["dates"]}
    day = min(missing, key=lambda d: cloud.get(d, 1.0))  # the clearest: each of its units gives a product
    assert cloud.get(day, 1.0) < 0.9, f"no clear simulated day left among {missing}"
    jobs = find_snow_jobs(time=(day, day), dc=dc)

    code = main(["prefect", "run", "snow-cover/alps-after-indexing", "--param", f"start={day}", "--param", f"end={day}"])
    made = [dataset_id("snow_cover", job.key) for job in jobs]
    try:
        run = runs[0]
        assert code == 0 and run.state is not None and run.state.is_completed(), (
            f"{run.state}\n--- worker log ---\n{local_prefect.logs('worker')}")
        assert f"flow run {run.name} ({run.id}): Completed" in capsys.readouterr().out
        area = next(d for d in _deployments() if d["name"] == "alps-after-indexing")["parameters"]["bbox"]
        assert run.parameters["bbox"] == area  # the deployment's own area, with the window given by hand
        for job, id_ in zip(jobs, made):
            dataset = dc.index.datasets.get(id_)
            assert dataset is not None, f"{job.key} was not indexed by the deployment's run"
            assert dataset.metadata_doc["properties"].get("snowland:simulated") is True
            assert all(Path(uri.removeprefix("file://")).exists() for uri in dataset.uris)
    finally:
        purge(dc, made)  # the snow-flow tests expect to make the session's snow products themselves


def test_the_kubernetes_deploy_job_picks_exactly_the_kubernetes_deployments():
    from prefect.cli.deploy._config import _parse_name_from_pattern

    job = yaml.safe_load((PROJECT_ROOT / "infra/k8s/prefect/deploy-job.yaml").read_text())
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    pattern = command[command.index("--name") + 1]
    picked = _parse_name_from_pattern(_deployments(), pattern)
    assert sorted(picked) == sorted(d["name"] for d in _deployments(K8S_POOL))


def test_snowland_prefect_deploy_picks_the_local_pool_by_default():
    from infra.localprefect import LOCAL_POOL as POOL
    from infra.localprefect import deployment_names, parse_params

    assert POOL == LOCAL_POOL
    assert deployment_names(PREFECT_FILE, pool=POOL) == [d["name"] for d in _deployments(LOCAL_POOL)]
    assert parse_params(["year=2023", "start=2024-01-01", 'cells=["100kmE40N24"]']) == {
        "year": 2023, "start": "2024-01-01", "cells": ["100kmE40N24"]}
    with pytest.raises(BadInputError, match="KEY=VALUE"):
        parse_params(["2023"])
