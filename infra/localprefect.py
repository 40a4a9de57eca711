"""A local Prefect server and a process worker on one machine, to run the schedules of ``prefect.yaml``.

``up`` is idempotent: it starts the server on loopback if it is not answering, then a worker of the
``snowland-local`` process pool (which the worker creates). Both run in their own session, their pids and
logs in the state folder, so ``down`` stops exactly them and what they started. Flow runs are subprocesses of
the worker and inherit its environment: the datacube index (``ODC_*``), snowland's state folder and the
server's URL.

A server or worker is known by its pid and start time, from the fork on. Known by a command line naming
``prefect``, a server that was still starting (its command line is empty while it execs) passed for dead, so an
``up`` right after another (as the deployment test does) started a second server on the same port and folder:
both migrated the same SQLite database in their start-up, before binding the port (uvicorn binds after the
application has started), the slower one failing in alembic ("Online migration expected to match one row when
updating ... 0 found"), and the one the pid file did not name outlived ``down``. The database is now migrated
once, before the server starts, by one ``prefect server database upgrade`` under a lock of the folder that also
keeps two ``up`` from running at once, and no process started here migrates it on its own
(``PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false``). ``down`` returns once every process is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

from flows.storage.atomic import write_text
from infra.processes import stop, tree
from odc_config.settings import PROJECT_ROOT, Settings, load_settings, prefect_environ
from products.errors import BadInputError, UnreachableError

LOCAL_POOL = "snowland-local"
KUBERNETES_POOL = "snowland-kubernetes"
POOLS = {"local": LOCAL_POOL, "kubernetes": KUBERNETES_POOL}
PREFECT_FILE = PROJECT_ROOT / "prefect.yaml"


class LocalPrefectError(UnreachableError):
    """The local Prefect server or worker cannot be started, reached or used."""


@dataclass(frozen=True, kw_only=True)
class PrefectStatus:
    server: bool
    worker: bool
    url: str
    pool: str
    home: Path

    def describe(self) -> str:
        server = "running" if self.server else "stopped"
        worker = "running" if self.worker else "stopped"
        return (f"Prefect server {server} at {self.url} (UI {self.url.removesuffix('/api')}); worker of pool "
                f"{self.pool!r} {worker}; state and logs in {self.home}")


@dataclass(frozen=True, kw_only=True)
class LocalPrefect:
    """A Prefect server on loopback ``port`` and a worker of ``pool``, with their state under ``home``."""

    home: Path
    port: int
    pool: str = LOCAL_POOL
    project_dir: Path = PROJECT_ROOT
    env: Mapping[str, str] = field(default_factory=dict)  # more variables for the worker and its flow runs
    worker_poll_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> LocalPrefect:
        settings = settings or load_settings()
        return cls(home=settings.state_dir / "prefect-server",
                   port=int(os.environ.get("SNOWLAND_PREFECT_PORT", "54210")), **kwargs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def environ(self) -> dict[str, str]:
        """The environment of the server, the worker and every flow run: this process's, pointed at the server."""
        settings = load_settings()
        return {
            **os.environ,
            **prefect_environ(settings),
            **settings.odc_environ(),
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.url,
            "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false",  # migrated once, before the server starts
            "PREFECT_WORKER_QUERY_SECONDS": str(self.worker_poll_seconds),
            "PREFECT_UI_API_URL": self.url,
            "SNOWLAND_HOME": str(settings.state_dir),
            "SNOWLAND_PROJECT_DIR": str(self.project_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(self.project_dir), os.environ.get("PYTHONPATH")])),
            **self.env,
        }

    def status(self) -> PrefectStatus:
        return PrefectStatus(server=self._healthy(), worker=self._running("worker") is not None, url=self.url,
                             pool=self.pool, home=self.home)

    def up(self, *, timeout: float = 120, wait: bool = True) -> PrefectStatus:
        """Start what is not running; ``wait=False`` only starts the server (it takes a while to answer).

        What this call started is stopped again if it fails."""
        self.home.mkdir(parents=True, exist_ok=True)
        started: list[str] = []
        try:
            with self._lock():  # one ``up`` at a time for this folder: the second finds the first's server
                if not self._healthy() and self._running("server") is None:
                    self._migrate(timeout)
                    self._start("server", ["server", "start", "--host", "127.0.0.1", "--port", str(self.port)])
                    started.append("server")
                if not wait:
                    return self.status()
                self._wait(self._healthy, timeout, "server", f"did not answer at {self.url}")
                if self._running("worker") is None:
                    self._start("worker", ["worker", "start", "--pool", self.pool, "--type", "process",
                                           "--name", f"{self.pool}-worker", "--install-policy", "never"])
                    started.append("worker")
                    self._wait(lambda: self._get(f"/work_pools/{self.pool}") is not None, timeout, "worker",
                               f"did not create the work pool {self.pool!r}")
            return self.status()
        except BaseException:
            for name in reversed(started):
                self._stop(name)
            raise

    def down(self, *, grace: float = 20) -> PrefectStatus:
        """Stop the worker, then the server; what has not ended ``grace`` seconds after SIGTERM is killed."""
        try:
            self._stop("worker", grace=grace)
        finally:
            self._stop("server", grace=grace)
        return self.status()

    def deploy(self, *, target: str = "local", names: Sequence[str] = (),
               prefect_file: Path = PREFECT_FILE) -> list[str]:
        """Deploy the deployments of ``prefect_file`` on the ``target`` pool (or those ``names``); their names."""
        chosen = list(names) or deployment_names(prefect_file, pool=POOLS[target])
        if not chosen:
            raise LocalPrefectError(f"{prefect_file} has no deployment on the {POOLS[target]!r} pool")
        self._require_server()
        args = ["--no-prompt", "deploy", "--prefect-file", str(prefect_file)]
        for name in chosen:
            args += ["--name", name]
        result = self._prefect(args, timeout=600)
        missing = [n for n in chosen if f"/{n}' successfully" not in " ".join(result.stdout.split())]
        if result.returncode != 0 or missing:
            raise LocalPrefectError(f"prefect deploy failed for {', '.join(missing) or 'some deployments'}:\n"
                                    f"{(result.stdout + result.stderr)[-3000:]}")
        return chosen

    def run(self, deployment: str, *, parameters: Mapping[str, Any] | None = None, wait: bool = True,
            timeout: float | None = 3600):
        """Trigger ``flow-name/deployment-name`` by hand; with ``wait``, return its flow run once it is final."""
        self._require_server()
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.url}):
            return run_deployment(deployment, parameters=dict(parameters or {}), timeout=timeout if wait else 0,
                                  as_subflow=False)

    def logs(self, name: str, *, tail: int = 4000) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def _require_server(self) -> None:
        if not self._healthy():
            raise LocalPrefectError(f"no Prefect server answers at {self.url}: `snowland prefect up` starts one")

    def _prefect(self, args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        env = {**self.environ(), "COLUMNS": "300"}  # rich wraps its panels at the terminal's width
        return subprocess.run([_prefect_bin(), *args], cwd=self.project_dir, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.home / "up.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or its process ends
            yield

    def _migrate(self, timeout: float) -> None:
        """The server's database brought to Prefect's schema by one process, before any server uses it."""
        result = self._prefect(["server", "database", "upgrade", "--yes"], timeout=timeout)
        if result.returncode != 0:
            raise LocalPrefectError(f"the Prefect database in {self.home} could not be migrated:\n"
                                    f"{(result.stdout + result.stderr)[-3000:]}")

    def _start(self, name: str, args: Sequence[str]) -> None:
        with (self.home / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([_prefect_bin(), *args], cwd=self.project_dir, env=self.environ(),
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        started = psutil.Process(process.pid).create_time()
        write_text(self.home / f"{name}.pid", f"{process.pid} {started}")  # a reader never sees half of it

    def _stop(self, name: str, *, grace: float = 20) -> None:
        """Stop the process and all it started: its session's group and its descendants (a flow run of the
        worker starts a session of its own)."""
        process = self._running(name)
        if process is not None:
            processes = tree(process.pid)  # before the signal: once the worker ends, its flow runs leave its tree
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            stop(processes, grace=grace)
            try:
                os.killpg(process.pid, signal.SIGKILL)  # what of the group left the tree meanwhile
            except ProcessLookupError:
                pass
        (self.home / f"{name}.pid").unlink(missing_ok=True)

    def _running(self, name: str) -> psutil.Process | None:
        """The process of the pid file while it runs: the same pid started at the same time (not a later process
        given the pid again), not a zombie. Known from the fork on: a process that is still starting, whose
        command line is still empty, is running."""
        path = self.home / f"{name}.pid"
        try:
            pid, started = path.read_text().split()
            process = psutil.Process(int(pid))
            if process.create_time() != float(started) or process.status() == psutil.STATUS_ZOMBIE:
                return None
        except (OSError, ValueError, psutil.Error):
            return None
        return process

    def _wait(self, ready, timeout: float, name: str, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self._running(name) is None:
                break
            time.sleep(0.5)
        raise LocalPrefectError(f"the Prefect {name} {what} (log {self.home / f'{name}.log'}):\n{self.logs(name)}")

    def _healthy(self) -> bool:
        return self._get("/health") is True

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return json.loads(response.read() or b"null")
        except (urllib.error.URLError, OSError, ValueError):
            return None


def deployment_names(prefect_file: Path = PREFECT_FILE, *, pool: str | None = None) -> list[str]:
    """Names of the deployments of a ``prefect.yaml``, optionally only those on ``pool``."""
    doc = yaml.safe_load(Path(prefect_file).read_text())
    return [d["name"] for d in doc.get("deployments", [])
            if pool is None or (d.get("work_pool") or {}).get("name") == pool]


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``k=v`` pairs; a value is read as JSON when it is JSON (numbers, lists, true), else kept as text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInputError(f"a parameter is KEY=VALUE, not {pair!r}")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _prefect_bin() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"
