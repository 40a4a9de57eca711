"""infra/k8s renders, passes strict Kubernetes validation, its DaskCluster fits the operator's real CRD, its
pieces name each other consistently; and flows/run/cluster.py builds the cluster the configuration asks for."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml

from odc_config.cluster import ClusterConfig, load_cluster_config
from odc_config.settings import PROJECT_ROOT
from products.errors import BadInputError

K8S_DIR = PROJECT_ROOT / "infra" / "k8s"
KUBERNETES_VERSION = "1.32.0"  # the kubectl installed here
CUSTOM_KINDS = {"DaskCluster"}


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render infra/k8s (apt-get install kubectl, or any v1.32 binary on PATH)"
    out = subprocess.run([kubectl, "kustomize", str(K8S_DIR)], capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _strict(schema: dict) -> dict:
    """A CRD's structural schema that refuses unknown fields, as ``kubectl apply --validate=strict`` does."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for key, value in node.items():
                if key == "properties":
                    for sub in value.values():
                        walk(sub)
                elif isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema)
    return schema


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The database Secrets as a user makes them: infra/k8s/secrets/generate.sh into a copy of that folder,
    rendered by kustomize; (the folder, the Secrets)."""
    folder = tmp_path_factory.mktemp("k8s-secrets")
    shutil.copy(K8S_DIR / "secrets" / "kustomization.yaml", folder)
    subprocess.run([K8S_DIR / "secrets" / "generate.sh", folder], capture_output=True, check=True)
    out = subprocess.run([shutil.which("kubectl"), "kustomize", str(folder)], capture_output=True, text=True,
                         check=True).stdout
    return folder, [d for d in yaml.safe_load_all(out) if d]


def _secret(docs: list[dict], name: str) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in _one(docs, "Secret", name)["data"].items()}


@pytest.fixture(scope="module")
def daskcluster_schema() -> dict:
    """The openAPIV3Schema of the DaskCluster CRD shipped in the dask-kubernetes wheel, with the object envelope."""
    import dask_kubernetes

    crd_file = (Path(dask_kubernetes.__file__).parent / "operator" / "deployment" / "helm"
                / "dask-kubernetes-operator" / "crds" / "daskcluster.yaml")
    crd = yaml.load(crd_file.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # 280 kB
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = _strict(version["schema"]["openAPIV3Schema"])
    schema["properties"].update({
        "apiVersion": {"const": f"{crd['spec']['group']}/v1"},
        "kind": {"const": crd["spec"]["names"]["kind"]},
        "metadata": {"type": "object", "required": ["name"]},
    })
    schema["required"] = [*schema.get("required", []), "apiVersion", "kind", "metadata"]
    return schema


def _validation_errors(schema: dict, doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]


def test_every_rendered_manifest_passes_strict_validation(rendered):
    kinds = {d["kind"] for d in rendered}
    assert {"Namespace", "StatefulSet", "Job", "Deployment", "Service", "ConfigMap",
            "PersistentVolumeClaim", "DaskCluster"} <= kinds
    failures = []
    for doc in rendered:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{doc['kind']}/{doc['metadata']['name']}: {str(err).splitlines()[0]}")
    assert not failures, "\n".join(failures)
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"snowland"}


def test_the_rendered_manifests_hold_no_password(secrets):
    text = subprocess.run([shutil.which("kubectl"), "kustomize", str(K8S_DIR)], capture_output=True, text=True,
                          check=True).stdout
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert "Secret" not in {d["kind"] for d in docs}
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "a URL with a password"
    assert not re.search(r"(?i)password\s*[=:]\s*['\"]?[A-Za-z0-9]", text.replace(":'", "")), "a password value"
    assert "change-me" not in text
    passwords = {v for name in ("snowland-postgis",) for k, v in _secret(secrets[1], name).items()}
    assert len(passwords) == 5 and not any(p in text for p in passwords)
    tracked = subprocess.run(["git", "ls-files", "infra/k8s"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert not [f for f in tracked if f.endswith(".env") and f != "infra/k8s/config.env"], "a secret file is committed"


def test_each_component_connects_with_its_own_role(rendered, secrets):
    def secret_refs(doc: dict) -> set[str]:
        found = re.findall(r"'(?:secretRef|secretKeyRef)': \{[^}]*'name': '([^']+)'", str(doc))
        return set(found)

    assert secret_refs(_one(rendered, "Job", "snowland-init")) == {"snowland-db-owner"}
    assert secret_refs(_one(rendered, "DaskCluster", "snowland-dask")) == {"snowland-db-writer"}
    pool = json.loads(_one(rendered, "ConfigMap", "snowland-prefect-pool")["data"]["kubernetes-job-template.json"])
    assert secret_refs(pool) == {"snowland-db-writer"}  # every flow run
    assert secret_refs(_one(rendered, "Deployment", "prefect-server")) == {"snowland-prefect-db"}
    assert secret_refs(_one(rendered, "StatefulSet", "snowland-postgis")) == {"snowland-postgis"}
    assert not secret_refs(_one(rendered, "Deployment", "prefect-worker"))
    users = {name: urlparse(next(iter(_secret(secrets[1], name).values()))).username
             for name in ("snowland-db-owner", "snowland-db-writer", "snowland-db-reader", "snowland-prefect-db")}
    assert users == {"snowland-db-owner": "snowland_owner", "snowland-db-writer": "snowland_writer",
                     "snowland-db-reader": "snowland_reader", "snowland-prefect-db": "prefect"}
    server = _secret(secrets[1], "snowland-postgis")
    for name, key in (("snowland-db-owner", "SNOWLAND_OWNER_PASSWORD"), ("snowland-db-writer", "SNOWLAND_WRITER_PASSWORD"),
                      ("snowland-db-reader", "SNOWLAND_READER_PASSWORD"), ("snowland-prefect-db", "PREFECT_DB_PASSWORD")):
        assert urlparse(next(iter(_secret(secrets[1], name).values()))).password == server[key]
    init = _one(rendered, "ConfigMap", "snowland-postgis-init")["data"]["init-roles.sh"]
    assert all(f":'{role}_password'" in init for role in ("owner", "writer", "reader", "prefect"))


def test_make_k8s_render_refuses_a_placeholder_or_a_missing_secret(secrets, tmp_path):
    def render(folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", "k8s-render", f"K8S_SECRETS={folder}"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, check=False)

    missing = render(tmp_path)
    assert missing.returncode != 0 and "run infra/k8s/secrets/generate.sh" in missing.stderr
    for placeholder in ("change-me", "CHANGE_ME", "<password>", ""):
        for f in secrets[0].glob("*.env"):
            shutil.copy(f, tmp_path / f.name)
        (tmp_path / "writer.env").write_text(
            f"ODC_CLUSTER_DB_URL=postgresql+psycopg2://snowland_writer:{placeholder}@snowland-postgis:5432/odc\n")
        refused = render(tmp_path)
        assert refused.returncode != 0 and "placeholder" in refused.stderr, (placeholder, refused.stderr)
    assert not (PROJECT_ROOT / "out" / "snowland-k8s-secrets.yaml").exists() or \
        placeholder not in (PROJECT_ROOT / "out" / "snowland-k8s-secrets.yaml").read_text()


def test_strict_validation_refuses_a_misspelt_field(rendered):
    job = copy.deepcopy(_one(rendered, "Job", "snowland-init"))
    job["spec"]["template"]["spec"]["containers"][0]["envfrom"] = job["spec"]["template"]["spec"]["containers"][0].pop("envFrom")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)


def test_the_daskcluster_fits_the_operators_crd_schema(rendered, daskcluster_schema):
    cluster = _one(rendered, "DaskCluster", "snowland-dask")
    assert _validation_errors(daskcluster_schema, cluster) == []
    broken = copy.deepcopy(cluster)
    broken["spec"]["worker"]["replicas"] = "two"
    broken["spec"]["worker"]["spec"]["containers"][0]["imagePullPolicy "] = "Always"
    assert len(_validation_errors(daskcluster_schema, broken)) == 2


def test_the_pieces_name_each_other(rendered, secrets):
    names = {(d["kind"], d["metadata"]["name"]) for d in [*rendered, *secrets[1]]}
    config = _one(rendered, "ConfigMap", "snowland-config")["data"]
    secret_keys = set(_secret(secrets[1], "snowland-db-writer")) & set(_secret(secrets[1], "snowland-db-owner"))
    refs = []

    def walk(node):
        if isinstance(node, dict):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret"), ("configMap", "ConfigMap"),
                              ("secretKeyRef", "Secret"), ("persistentVolumeClaim", "PersistentVolumeClaim")):
                if isinstance(node.get(key), dict):
                    refs.append((kind, node[key].get("name") or node[key].get("claimName")))
            if "serviceAccountName" in node and "{{" not in str(node["serviceAccountName"]):
                refs.append(("ServiceAccount", node["serviceAccountName"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rendered)
    assert refs and [r for r in refs if r not in names] == []

    def service_of(url: str) -> str:
        return urlparse(url).hostname

    env = config["ODC_ENVIRONMENT"]
    assert config[f"ODC_{env.upper()}_INDEX_DRIVER"] == "postgis"
    assert f"ODC_{env.upper()}_DB_URL" in secret_keys
    assert ("Service", service_of(config["PREFECT_API_URL"])) in names
    dask = _one(rendered, "DaskCluster", "snowland-dask")
    assert service_of(config["SNOWLAND_DASK_ADDRESS"]) == f"{dask['metadata']['name']}-scheduler"
    assert dask["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] == dask["metadata"]["name"]
    worker = _one(rendered, "Deployment", "prefect-worker")["spec"]["template"]["spec"]["containers"][0]["command"]
    pool = worker[worker.index("--pool") + 1]
    k8s_deployments = [d for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
                       if d["work_pool"]["name"] == pool]
    assert k8s_deployments, f"no deployment of prefect.yaml uses the worker's pool {pool}"
    template = _one(rendered, "ConfigMap", "snowland-prefect-pool")["data"]["kubernetes-job-template.json"]
    assert json.loads(template) == json.loads((K8S_DIR / "prefect" / "kubernetes-job-template.json").read_text())
    dockerfile = (PROJECT_ROOT / "infra" / "Dockerfile").read_text()
    assert f"WORKDIR {config['SNOWLAND_PROJECT_DIR']}" in dockerfile
    assert "prefect-kubernetes" in dockerfile  # the worker's pool type


def test_a_flow_run_job_rendered_from_the_pool_template_is_valid(rendered):
    """What the Kubernetes worker makes of a -k8s deployment: the pool template filled with its job variables."""
    from prefect.utilities.templating import apply_values

    template = json.loads((K8S_DIR / "prefect" / "kubernetes-job-template.json").read_text())
    deployment = next(d for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
                      if d["name"] == "alps-after-indexing-k8s")
    defaults = {k: v["default"] for k, v in template["variables"]["properties"].items() if "default" in v}
    variables = {**defaults, **deployment["work_pool"]["job_variables"], "image": "snowland:0.1.0",
                 "name": "snow-cover-run", "labels": {"prefect.io/flow-run-name": "snow-cover-run"},
                 "command": "prefect flow-run execute"}
    job = apply_values(template["job_configuration"]["job_manifest"], variables)
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": k, "value": str(v)} for k, v in container["env"].items()]
    container["args"] = shlex.split(container["args"])
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    assert container["resources"]["limits"]["memory"] == deployment["work_pool"]["job_variables"]["memory_limit"]
    names = {(d["kind"], d["metadata"]["name"]) for d in rendered}
    assert ("ServiceAccount", job["spec"]["template"]["spec"]["serviceAccountName"]) in names
    assert ("PersistentVolumeClaim", "snowland-data") in names


# --- flows/run/cluster.py: one place that makes the dask cluster ------------------------------------------------


def test_cluster_configuration_follows_the_environment():
    assert load_cluster_config(environ={}).kind == "local"
    config = load_cluster_config(environ={"SNOWLAND_DASK_ADDRESS": "tcp://scheduler:8786"})
    assert (config.kind, config.address) == ("address", "tcp://scheduler:8786")
    config = load_cluster_config(environ={"SNOWLAND_DASK_KIND": "kubernetes", "SNOWLAND_DASK_WORKERS": "6",
                                          "SNOWLAND_IMAGE": "registry/snowland:1", "GDAL_HTTP_MAX_RETRY": "9"})
    assert (config.kind, config.workers, config.image) == ("kubernetes", 6, "registry/snowland:1")
    assert config.worker_env["GDAL_HTTP_MAX_RETRY"] == "9"  # a variable already set keeps its value
    with pytest.raises(BadInputError, match="not one of"):
        load_cluster_config(environ={"SNOWLAND_DASK_KIND": "yarn"})
    with pytest.raises(BadInputError, match="needs an address"):
        load_cluster_config(environ={"SNOWLAND_DASK_KIND": "address"})


def test_a_local_cluster_is_sized_to_the_machine():
    from distributed.system import MEMORY_LIMIT

    from flows.run.cluster import local_cluster_kwargs, local_worker_count

    kwargs = local_cluster_kwargs(ClusterConfig(memory_fraction=0.5))
    assert kwargs["n_workers"] == local_worker_count() == len(os.sched_getaffinity(0))
    assert kwargs["memory_limit"] * kwargs["n_workers"] == pytest.approx(MEMORY_LIMIT * 0.5, rel=1e-3)
    assert local_cluster_kwargs(ClusterConfig(memory_per_worker="3GiB"), workers=3)["memory_limit"] == "3GiB"


def test_local_workers_get_the_datacube_and_gdal_settings_and_keep_their_scratch_in_the_state_folder(database):
    from odc_config.settings import load_settings

    from flows.run.cluster import dask_client

    def settings_seen() -> dict:
        import os

        return {k: v for k, v in os.environ.items() if k.startswith(("ODC_", "GDAL_DISABLE", "AWS_NO_SIGN", "MALLOC_"))}

    def profiling(dask_worker) -> bool:
        from collections import deque

        return not isinstance(dask_worker.io_loop.profile, deque)  # a deque: no profiler thread was started

    def scratch(dask_worker) -> str:
        return dask_worker.local_directory

    config = load_cluster_config()
    with dask_client(workers=1, memory_limit="1GiB") as client:
        (seen,) = client.run(settings_seen).values()
        (profiled,) = client.run(profiling).values()
        (scratch_dir,) = client.run(scratch).values()
        scheduler_dir = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.local_directory)
        assert len(client.scheduler_info()["workers"]) == 1
    assert profiled is config.profile
    for folder in (scratch_dir, scheduler_dir):  # a user's demo leaves nothing in /tmp
        assert Path(folder).is_relative_to(load_settings().state_dir / "dask"), folder
    assert seen["ODC_ENVIRONMENT"] == os.environ["ODC_ENVIRONMENT"]
    assert seen[f"ODC_{seen['ODC_ENVIRONMENT'].upper()}_DB_URL"] == database.url("writer")  # the writer's
    assert seen["GDAL_DISABLE_READDIR_ON_OPEN"] == config.worker_env["GDAL_DISABLE_READDIR_ON_OPEN"]
    assert {k: seen[k] for k in config.worker_allocator} == dict(config.worker_allocator)  # set before start


def test_kubernetes_workers_get_the_same_allocator_and_profiler_settings_as_local_ones():
    import dask.config

    from flows.run.cluster import kube_cluster_spec, worker_process_config

    wanted = worker_process_config()
    static = yaml.safe_load((K8S_DIR / "dask" / "daskcluster.yaml").read_text())
    per_run = kube_cluster_spec(load_cluster_config(environ={"SNOWLAND_DASK_KIND": "kubernetes"}))
    for spec in (static, per_run):
        (worker,) = spec["spec"]["worker"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in worker.get("env", []) if e["name"].startswith("DASK_")}
        seen = dask.config.collect_env(env)  # as dask reads them in the pod
        for key, value in wanted.items():
            assert dask.config.get(key, config=seen) == value, key


def test_the_profiler_setting_reads_true_and_false_and_refuses_anything_else():
    assert load_cluster_config(environ={}).profile is False
    assert load_cluster_config(environ={"SNOWLAND_DASK_PROFILE": "true"}).profile is True
    assert load_cluster_config(environ={"SNOWLAND_DASK_PROFILE": "0"}).profile is False
    with pytest.raises(BadInputError, match="true or false"):
        load_cluster_config(environ={"SNOWLAND_DASK_PROFILE": "sometimes"})


def test_a_per_run_daskcluster_fits_the_crd_and_carries_settings_but_no_secret(daskcluster_schema):
    from flows.run.cluster import kube_cluster_spec

    config = load_cluster_config(environ={"SNOWLAND_DASK_KIND": "kubernetes", "SNOWLAND_IMAGE": "registry/snowland:2"})
    spec = kube_cluster_spec(config, name="snowland-run-1", workers=5)
    assert _validation_errors(daskcluster_schema, spec) == []
    assert spec["metadata"]["name"] == "snowland-run-1"
    assert spec["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] == "snowland-run-1"
    assert spec["spec"]["worker"]["replicas"] == 5
    for part in ("scheduler", "worker"):
        (container,) = spec["spec"][part]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert container["image"] == "registry/snowland:2"
        assert env["ODC_ENVIRONMENT"] == os.environ["ODC_ENVIRONMENT"]
        assert env["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"
        assert not [k for k in env if k.endswith("_DB_URL")], "the database URL comes from the Secret, not the spec"
    assert kube_cluster_spec(config)["metadata"]["name"] != kube_cluster_spec(config)["metadata"]["name"]
