"""The embedded ODC index: a private PostgreSQL 15 + PostGIS cluster in the project's state folder.

``up`` is idempotent: it creates the cluster on first use, starts it if stopped and creates the
database; processes that call it at once take turns (a file lock in the cluster's folder). PostgreSQL refuses to run
as root, so as root the cluster is owned and run by ``postgres``.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from products.errors import UnreachableError

PG_BIN = Path(os.environ.get("SNOWLAND_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
FAST_UNSAFE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


class LocalDbError(UnreachableError):
    """The embedded database cannot be set up or reached."""


@dataclass(frozen=True, kw_only=True)
class DbStatus:
    running: bool
    initialised: bool
    port: int
    data_dir: Path
    log: Path

    def describe(self) -> str:
        state = "running" if self.running else ("stopped" if self.initialised else "not created")
        return f"PostgreSQL + PostGIS {state} on 127.0.0.1:{self.port} (data {self.data_dir}, log {self.log})"


@dataclass(frozen=True, kw_only=True)
class LocalPostgis:
    """A private cluster under ``root`` listening on loopback ``port``."""

    root: Path
    port: int
    db_name: str = "snowland"
    fast_unsafe: bool = False  # fsync off: for throw-away test clusters only

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "pg.log"

    def status(self) -> DbStatus:
        initialised = (self.data_dir / "PG_VERSION").exists()
        running = initialised and self._pg_ctl("status", check=False).returncode == 0
        return DbStatus(running=running, initialised=initialised, port=self.port, data_dir=self.data_dir, log=self.log)

    def up(self) -> DbStatus:
        _check_installed()
        with self._turn():
            return self._up()

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One process at a time creates, starts and fills the cluster (the lock goes with the process)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".up.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _up(self) -> DbStatus:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if not self.status().running:
            options = ["-p", str(self.port), "-k", str(self.root), "-c", "listen_addresses=127.0.0.1"]
            if self.fast_unsafe:
                options += FAST_UNSAFE
            result = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log), "-o", " ".join(options), check=False)
            if result.returncode != 0:
                tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else result.stderr
                raise LocalDbError(f"PostgreSQL did not start on port {self.port}:\n{tail}")
        self._create_database()
        return self.status()

    def down(self) -> DbStatus:
        if self.status().running:
            self._pg_ctl("stop", "-m", "fast", "-w")
        return self.status()

    def destroy(self) -> None:
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise LocalDbError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _create_database(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.db_name}'")
        if not exists:
            self.psql(f'CREATE DATABASE "{self.db_name}"')

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _give_to_postgres(self.root)
        result = self._run(
            [str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8"],
            check=False,
        )
        if result.returncode != 0:
            raise LocalDbError(f"initdb failed: {result.stderr.strip()}")

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    @staticmethod
    def _run(cmd: list[str], *, check: bool) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _check_installed() -> None:
    if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
        raise LocalDbError(
            "PostgreSQL 15 with PostGIS 3 is not installed: run infra/bootstrap.sh as root, or "
            "`apt-get install postgresql-15 postgresql-15-postgis-3`; or set ODC_ENVIRONMENT and "
            "ODC_<ENV>_DB_URL to use a PostGIS database of your own."
        )


def _give_to_postgres(path: Path) -> None:
    """As root the server runs as ``postgres``, which must own its folder and reach it."""
    if os.geteuid() != 0:
        return
    pg = pwd.getpwnam("postgres")
    os.chown(path, pg.pw_uid, pg.pw_gid)
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
