"""The embedded ODC index: a private PostgreSQL 15 + PostGIS cluster in the project's state folder.

``up`` is idempotent: it creates the cluster on first use, starts it if stopped and creates the
database; processes that call it at once take turns (a file lock in the cluster's folder). PostgreSQL refuses to run
as root, so as root the cluster is owned and run by ``postgres``.

Nobody gets in without a password: every line of ``pg_hba.conf`` asks for scram-sha-256, local socket and TCP alike.
The passwords are generated on first use, one per role of ``odc_config.settings.ROLES``, each in a libpq password file
of its own (``secrets/<role>.pgpass``, mode 0600, in a folder of mode 0700): a URL names its file, never the password.
The owner owns the database (it creates the ODC schema and registers products), the writer gets rows only (select,
insert, update, delete on what the owner creates, by default privileges), the reader SELECT only, read-only sessions.
A cluster made before this (``trust``) is secured the same way the next time it is brought up.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from odc_config.settings import ROLES, passfile
from products.errors import UnreachableError

PG_BIN = Path(os.environ.get("SNOWLAND_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
FAST_UNSAFE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
HBA = """# snowland: every connection gives its role's password (infra/localdb.py); no trust line.
local   all          all                  scram-sha-256
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
local   replication  all                  scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
"""
ODC_ROLES = (("odc_user", None), ("odc_manage", "odc_user"), ("odc_admin", "odc_manage"))  # explorer wants them


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
        migrating = not self.passfile("superuser").exists()  # a cluster of the time of trust
        self._write_passwords()  # and the password of a role added since
        if not self.status().running:
            options = ["-p", str(self.port), "-k", str(self.root), "-c", "listen_addresses=127.0.0.1"]
            if self.fast_unsafe:
                options += FAST_UNSAFE
            result = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log), "-o", " ".join(options), check=False)
            if result.returncode != 0:
                tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else result.stderr
                raise LocalDbError(f"PostgreSQL did not start on port {self.port}:\n{tail}")
        if migrating:
            self.psql(f"alter role postgres password '{self._password('superuser')}'")
        self._require_passwords()
        self._create_roles()
        self._create_database()
        self._grant()
        return self.status()

    def passfile(self, role: str) -> Path:
        """The libpq password file of a ``ROLES`` role."""
        return passfile(self.root, role)

    def url(self, role: str = "writer") -> str:
        """A SQLAlchemy URL of the database for ``role``, naming its password file."""
        return (f"postgresql+psycopg2://{ROLES[role]}@127.0.0.1:{self.port}/{self.db_name}"
                f"?passfile={self.passfile(role)}")

    def down(self) -> DbStatus:
        if self.status().running:
            self._pg_ctl("stop", "-m", "fast", "-w")
        return self.status()

    def destroy(self) -> None:
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser; the statements go through stdin, so no password shows in a process list."""
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLES["superuser"], "-d", database,
             "-v", "ON_ERROR_STOP=1", "-tA", "-f", "-"],
            input=sql, capture_output=True, text=True, check=False,
            env={**os.environ, "PGPASSFILE": str(self.passfile("superuser"))},
        )
        if result.returncode != 0:
            raise LocalDbError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _create_database(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.db_name}'")
        if not exists:
            self.psql(f'CREATE DATABASE "{self.db_name}" OWNER {ROLES["owner"]}')

    def _create_roles(self) -> None:
        """The roles and their passwords; idempotent (each ``up`` says them again)."""
        logins = ("owner", "writer", "reader", "site")
        made = set(self.psql("select rolname from pg_roles").split())
        sql = [f"create role {name} nologin" + (f" in role {parent}" if parent else "")
               for name, parent in ODC_ROLES if name not in made]
        sql += [f"create role {ROLES[role]} login" for role in logins if ROLES[role] not in made]
        sql += [f"alter role {ROLES[role]} password '{self._password(role)}'" for role in logins]
        reader = ROLES["reader"]
        sql += [f"alter role {reader} set default_transaction_read_only = on"]
        self.psql(";\n".join(sql) + ";")

    def _grant(self) -> None:
        """The database is the owner's; what the owner creates, the writer may change rows of and the reader read.
        The site's schema is its role's alone."""
        owner, writer, reader, site = ROLES["owner"], ROLES["writer"], ROLES["reader"], ROLES["site"]
        self.psql(f"""
            alter database "{self.db_name}" owner to {owner};
            create schema if not exists site authorization {site};
            create extension if not exists postgis;
            alter default privileges for role {owner} grant usage on schemas to {writer}, {reader};
            alter default privileges for role {owner} grant select, insert, update, delete on tables to {writer};
            alter default privileges for role {owner} grant usage, select, update on sequences to {writer};
            alter default privileges for role {owner} grant select on tables to {reader};
            do $$ declare s text; begin
              foreach s in array array['odc', 'cubedash'] loop  -- made by the superuser before roles existed
                if exists (select 1 from pg_namespace where nspname = s
                           and nspowner <> (select oid from pg_roles where rolname = '{owner}')) then
                  execute format('grant usage on schema %I to {writer}, {reader}', s);
                  execute format('grant select, insert, update, delete on all tables in schema %I to {writer}', s);
                  execute format('grant usage, select, update on all sequences in schema %I to {writer}', s);
                  execute format('grant select on all tables in schema %I to {reader}', s);
                  execute format('grant all on schema %I to {owner}', s);
                  execute format('grant all on all tables in schema %I to {owner}', s);
                  execute format('grant all on all sequences in schema %I to {owner}', s);
                end if;
              end loop;
            end $$;
        """, database=self.db_name)

    def _password(self, role: str) -> str:
        return self.passfile(role).read_text().strip().rsplit(":", 1)[1]

    def _write_passwords(self) -> None:
        """One generated password per role, each in its own libpq password file readable by its owner only."""
        folder = self.passfile("superuser").parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        for role, name in ROLES.items():
            path = self.passfile(role)
            if path.exists():
                continue
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"127.0.0.1:*:*:{name}:{secrets.token_urlsafe(24)}\n")

    def _require_passwords(self) -> None:
        """Every line of pg_hba.conf asks for a password (a cluster of the time of trust gets them now)."""
        hba = self.data_dir / "pg_hba.conf"
        if hba.read_text() != HBA:
            hba.write_text(HBA)
            _give_to_postgres(hba)
            self._pg_ctl("reload")

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _give_to_postgres(self.root)
        self._write_passwords()
        pwfile = self.root / ".initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._password("superuser") + "\n")
        _give_to_postgres(pwfile)
        try:
            result = self._run(
                [str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", ROLES["superuser"], "--auth=scram-sha-256",
                 f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"],
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise LocalDbError(f"initdb failed: {result.stderr.strip()}")
        (self.data_dir / "pg_hba.conf").write_text(HBA)
        _give_to_postgres(self.data_dir / "pg_hba.conf")

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
    """As root the server runs as ``postgres``, which must own its folder (or file) and reach it."""
    if os.geteuid() != 0:
        return
    pg = pwd.getpwnam("postgres")
    os.chown(path, pg.pw_uid, pg.pw_gid)
    if path.is_file():
        return
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
