"""Which dask cluster the flows use: ``odc_config/dask.yaml`` overridden by ``SNOWLAND_DASK_*`` variables.

Data only: ``flows.run.cluster`` turns a :class:`ClusterConfig` into a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from odc_config.settings import PROJECT_ROOT
from products.errors import BadInputError

DEFAULT_FILE = Path(__file__).with_name("dask.yaml")
Kind = Literal["local", "address", "kubernetes"]
KINDS: tuple[Kind, ...] = ("local", "address", "kubernetes")


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    kind: Kind = "local"
    address: str = ""
    workers: int = 0  # 0: one per core (local) / the spec's replicas (kubernetes)
    threads_per_worker: int = 1
    memory_fraction: float = 0.8
    memory_per_worker: str = ""
    k8s_spec: Path = PROJECT_ROOT / "infra" / "k8s" / "dask" / "daskcluster.yaml"
    k8s_namespace: str = "snowland"
    image: str = ""
    pass_environ: bool = True
    worker_env: Mapping[str, str] = field(default_factory=dict)
    worker_allocator: Mapping[str, str] = field(default_factory=dict)  # set before a worker process starts
    profile: bool = False  # dask's statistical profiler in every worker (and scheduler) event loop

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadInputError(f"dask cluster kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "address" and not self.address:
            raise BadInputError("dask cluster kind 'address' needs an address (SNOWLAND_DASK_ADDRESS=tcp://host:8786)")
        if self.workers < 0 or self.threads_per_worker < 1:
            raise BadInputError(f"workers must be >= 0 and threads per worker >= 1, not {self.workers}, "
                             f"{self.threads_per_worker}")
        if not 0 < self.memory_fraction <= 1:
            raise BadInputError(f"memory_fraction must be in (0, 1], not {self.memory_fraction}")


def load_cluster_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> ClusterConfig:
    """The file's values (``SNOWLAND_DASK_CONFIG`` or the packaged default) under the environment's."""
    env = os.environ if environ is None else environ
    path = Path(path or env.get("SNOWLAND_DASK_CONFIG") or DEFAULT_FILE)
    doc: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    local, k8s = doc.get("local") or {}, doc.get("kubernetes") or {}
    address = env.get("SNOWLAND_DASK_ADDRESS", doc.get("address") or "")
    kind = env.get("SNOWLAND_DASK_KIND") or ("address" if env.get("SNOWLAND_DASK_ADDRESS") else doc.get("kind", "local"))
    workers_default = k8s.get("workers", 0) if kind == "kubernetes" else local.get("workers", 0)
    spec = Path(env.get("SNOWLAND_DASK_K8S_SPEC") or k8s.get("spec") or ClusterConfig.k8s_spec)
    return ClusterConfig(
        kind=kind,
        address=address,
        workers=int(env.get("SNOWLAND_DASK_WORKERS", workers_default) or 0),
        threads_per_worker=int(env.get("SNOWLAND_DASK_THREADS", local.get("threads_per_worker", 1))),
        memory_fraction=float(env.get("SNOWLAND_DASK_MEMORY_FRACTION", local.get("memory_fraction", 0.8))),
        memory_per_worker=env.get("SNOWLAND_DASK_MEMORY", local.get("memory_per_worker") or ""),
        k8s_spec=spec if spec.is_absolute() else PROJECT_ROOT / spec,
        k8s_namespace=env.get("SNOWLAND_DASK_K8S_NAMESPACE", k8s.get("namespace", "snowland")),
        image=env.get("SNOWLAND_IMAGE", k8s.get("image") or ""),
        pass_environ=bool(k8s.get("pass_environ", True)),
        worker_env={k: env.get(k, str(v)) for k, v in (doc.get("worker_env") or {}).items()},
        worker_allocator={k: env.get(k, str(v)) for k, v in (doc.get("worker_allocator") or {}).items()},
        profile=_flag(env.get("SNOWLAND_DASK_PROFILE", doc.get("profile", False))),
    )


def _flag(value: Any) -> bool:
    """A yes/no setting from YAML (a bool) or the environment (1/0, true/false, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise BadInputError(f"expected true or false, not {value!r}")
