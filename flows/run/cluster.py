"""The one place that makes the dask cluster the flows compute on, from ``odc_config.cluster``.

Three kinds, chosen by configuration (``odc_config/dask.yaml``, ``SNOWLAND_DASK_*``):

- ``local``: worker processes on this machine, one single-threaded worker per core, the machine's memory
  split between them, their scratch space in the state folder;
- ``address``: a scheduler that already runs (``SNOWLAND_DASK_ADDRESS``);
- ``kubernetes``: a ``DaskCluster`` made by the dask-kubernetes operator from the spec in
  ``infra/k8s/dask/daskcluster.yaml``, for as long as the client or flow run lasts.

Workers get the datacube (``ODC_*``) and GDAL settings they need: local workers through their nanny's
environment, Kubernetes pods through their spec (secrets stay in the Secret the spec references).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask
import yaml
from distributed import Client, LocalCluster

from odc_config.cluster import ClusterConfig, load_cluster_config
from odc_config.settings import load_settings
from products.errors import BadInputError

SECRET_SUFFIXES = ("_DB_URL", "_PASSWORD", "_SECRET_ACCESS_KEY", "_TOKEN")  # left to the Secret

KEPT_WORKERS = {"distributed": {
    "deploy": {"lost-worker-timeout": "5 minutes"},
    "scheduler": {"no-workers-timeout": "10 minutes"},
}}
"""dask defaults for clusters run from this process. A killed worker's nanny starts it again, but a local cluster
closes the nanny for good when no worker of its name has come back within ``lost-worker-timeout`` (15 s): on a loaded
machine a restarted worker takes longer to import and register, so a run lost its workers one by one and waited
forever with none (tests/run/test_faults.py). Here the nanny gets 5 minutes, and a unit that no worker can take for
10 minutes fails with its reason instead of waiting forever. Defaults only: a user's dask configuration wins."""
dask.config.update_defaults(KEPT_WORKERS)


def local_worker_count() -> int:
    """Cores this process may run on (its CPU affinity)."""
    return max(1, len(os.sched_getaffinity(0)))


def local_memory_limit(config: ClusterConfig, *, workers: int) -> int | str:
    """Bytes per local worker: the configured size, else a share of the machine's (or cgroup's) memory."""
    if config.memory_per_worker:
        return config.memory_per_worker
    from distributed.system import MEMORY_LIMIT

    return int(MEMORY_LIMIT * config.memory_fraction / max(1, workers))


def worker_environ(config: ClusterConfig | None = None, *, secrets: bool = True) -> dict[str, str]:
    """The variables a worker needs: this process's ODC index settings and the configured GDAL settings."""
    config = config or load_cluster_config()
    env = {**load_settings().odc_environ(), **{k: v for k, v in os.environ.items() if k.startswith("ODC_")}}
    if not secrets:
        env = {k: v for k, v in env.items() if not k.endswith(SECRET_SUFFIXES)}
    return {**dict(config.worker_env), **env}


def worker_process_config(config: ClusterConfig | None = None) -> dict[str, Any]:
    """dask configuration a worker process must have before it starts: the allocator settings, which a
    nanny sets in the environment it spawns the worker with (``distributed.nanny.pre-spawn-environ``), and
    whether its event loops run dask's statistical profiler."""
    config = config or load_cluster_config()
    spawn_env = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **config.worker_allocator}
    return {"distributed.nanny.pre-spawn-environ": spawn_env, "distributed.worker.profile.enabled": config.profile}


def dask_settings_environ(config: ClusterConfig | None = None) -> dict[str, str]:
    """:func:`worker_process_config` as the ``DASK_*`` variables a pod's dask reads at start."""
    process = worker_process_config(config)
    return {"DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON": repr(process["distributed.nanny.pre-spawn-environ"]),
            "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": str(process["distributed.worker.profile.enabled"])}


def local_cluster_kwargs(config: ClusterConfig | None = None, *, workers: int | None = None,
                         memory_limit: str | int | None = None) -> dict[str, Any]:
    """Keyword arguments of ``distributed.LocalCluster`` for this configuration."""
    config = config or load_cluster_config()
    n = workers or config.workers or local_worker_count()
    return {
        "n_workers": n,
        "threads_per_worker": config.threads_per_worker,
        "processes": True,
        "memory_limit": memory_limit or local_memory_limit(config, workers=n),
        "dashboard_address": "127.0.0.1:0",  # a free loopback port: several clusters may run at once
        "env": worker_environ(config),
    }


def kube_cluster_spec(config: ClusterConfig | None = None, *, name: str | None = None,
                      workers: int | None = None) -> dict[str, Any]:
    """The ``DaskCluster`` resource for one run: the spec file renamed, scaled, with image and env set."""
    config = config or load_cluster_config()
    spec = yaml.safe_load(config.k8s_spec.read_text())
    name = name or f"snowland-{uuid.uuid4().hex[:8]}"
    spec["metadata"]["name"] = name
    spec["metadata"].pop("namespace", None)
    body = spec["spec"]
    body["scheduler"]["service"].setdefault("selector", {})["dask.org/cluster-name"] = name
    if workers or config.workers:
        body["worker"]["replicas"] = workers or config.workers
    extra = worker_environ(config, secrets=False) if config.pass_environ else {}
    extra.update(dask_settings_environ(config))  # dask reads these values as Python literals
    for part in (body["scheduler"]["spec"], body["worker"]["spec"]):
        for container in part["containers"]:
            if config.image:
                container["image"] = config.image
            kept = [e for e in container.get("env", []) if e["name"] not in extra]
            container["env"] = kept + [{"name": k, "value": v} for k, v in sorted(extra.items())]
    return spec


def make_cluster(config: ClusterConfig | None = None, *, workers: int | None = None,
                 memory_limit: str | int | None = None):
    """A new cluster (local or Kubernetes); the caller closes it. ``address`` has no cluster to make."""
    config = config or load_cluster_config()
    if config.kind == "local":
        scratch = {"temporary-directory": str(load_settings().state_dir / "dask")}  # the scheduler's, nannies', workers'
        with dask.config.set({**worker_process_config(config), **scratch}):  # read by the scheduler and each nanny
            return LocalCluster(**local_cluster_kwargs(config, workers=workers, memory_limit=memory_limit))
    if config.kind == "kubernetes":
        return kube_cluster(config, workers=workers)
    raise BadInputError(f"a dask cluster of kind {config.kind!r} is not made here: connect to {config.address}")


def kube_cluster(config: ClusterConfig | None = None, *, workers: int | None = None):
    """A ``KubeCluster`` under a fresh name, removed when closed (needs the operator's CRDs installed)."""
    from dask_kubernetes.operator import KubeCluster

    config = config or load_cluster_config()
    return KubeCluster(custom_cluster_spec=kube_cluster_spec(config, workers=workers),
                       namespace=config.k8s_namespace, shutdown_on_close=True, quiet=True)


@contextmanager
def dask_client(*, address: str | None = None, workers: int | None = None, memory_limit: str | int | None = None,
                config: ClusterConfig | None = None) -> Iterator[Client]:
    """A client on ``address``, else on the configured cluster (by default local, sized to the machine).

    The client is the default one while the block runs, so ``dask.compute`` inside tasks uses it.
    """
    config = config or load_cluster_config()
    address = address or (config.address if config.kind == "address" else None)
    if address:
        with Client(address) as client:
            yield client
        return
    with make_cluster(config, workers=workers, memory_limit=memory_limit) as cluster, Client(cluster) as client:
        yield client


@contextmanager
def flow_client() -> Iterator[Client]:
    """The client a flow run fans its units out to: the one already open in this process (the CLI's, a
    test's, a notebook's), else one on the configured cluster for as long as the run lasts."""
    from distributed import default_client

    try:
        client = default_client()
    except ValueError:
        client = None
    if client is not None:
        yield client
        return
    with dask_client() as client:
        yield client


def describe(config: ClusterConfig | None = None) -> str:
    """One line on the cluster the configuration gives."""
    config = config or load_cluster_config()
    if config.kind == "address":
        return f"dask scheduler at {config.address}"
    if config.kind == "kubernetes":
        workers = config.workers or "the spec's"
        return f"DaskCluster in namespace {config.k8s_namespace} from {config.k8s_spec.name}, {workers} workers"
    kwargs = local_cluster_kwargs(config)
    memory = kwargs["memory_limit"]
    memory = f"{memory / 2**30:.1f} GiB" if isinstance(memory, int) else memory
    return f"local cluster: {kwargs['n_workers']} worker(s) x {config.threads_per_worker} thread(s), {memory} each"
