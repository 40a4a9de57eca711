"""Web pages and a STAC API over the cube: datacube-explorer (``cubedash``) on snowland's index, read-only.

Explorer 3.2 runs on datacube 1.9's ``postgis`` index; it answers from summary tables of its own (schema
``cubedash``), which `prepare` creates and refreshes (``cubedash-gen --init --all``) before serving, as the
database's administrator (explorer hands its objects to datacube's ``odc_*`` roles, which takes a superuser). The server itself then runs in a child process that connects as a read-only role
(``snowland_reader``: SELECT only, ``default_transaction_read_only`` on, made by ``infra/localdb.py`` with its roles) on
the embedded index, or with
``SNOWLAND_SERVE_DB_URL`` for an index of your own; every server session also starts read-only (PGOPTIONS),
so nothing served can change the index. Every product is served, inputs and outputs; a dataset's page links
to its files (the COGs of the outputs) and to its source datasets (lineage). Around explorer's app, the child mounts
the distribution site (``flows.ask.site``): files over HTTP, STAC hrefs to them, accounts, cart and orders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows.ask.mappage import map_app
from flows.ask.ows.service import ows_app, ows_environ, prepare_ows
from odc_config.settings import ROLES, Settings, load_settings
from products.errors import UnreachableError

READER_ROLE = ROLES["reader"]
ODC_ROLES = ("odc_user", "odc_manage", "odc_admin")  # explorer refuses to start without datacube's roles
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"
EXPLORER_CONFIG = {
    "CUBEDASH_INSTANCE_TITLE": "snowland",
    "STAC_ENDPOINT_ID": "snowland",
    "STAC_ENDPOINT_TITLE": "snowland: snow and land cover on the EEA grid",
    "STAC_ENDPOINT_DESCRIPTION": "Snow-cover, snow-season and land-cover products and their Sentinel-2 / Landsat inputs",
    "CUBEDASH_DEFAULT_LICENSE": "CC-BY-4.0",
    "CACHE_TYPE": "NullCache",
}


class ServeError(UnreachableError):
    """The catalogue cannot be served; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Server:
    """A running explorer child process."""

    url: str
    process: subprocess.Popen

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _psql_engine(settings: Settings):
    """As the database's administrator: explorer's schema belongs to datacube's roles, not to the index's owner."""
    from sqlalchemy import create_engine

    return create_engine(_admin_url(settings), isolation_level="AUTOCOMMIT")


def _admin_url(settings: Settings) -> str:
    return settings.role_url("superuser")


def ensure_roles(settings: Settings | None = None) -> None:
    """datacube's roles (without PostgreSQL 16-only syntax) on an index of your own; the embedded index has them,
    and the read-only role, from ``infra/localdb.py``."""
    from sqlalchemy import text

    settings = settings or load_settings()
    if not settings.external_index:
        return
    engine = _psql_engine(settings)
    with engine.connect() as conn:
        existing = {r[0] for r in conn.execute(text("select rolname from pg_roles"))}
        parent = None
        for role in ODC_ROLES:
            if role not in existing:
                conn.execute(text(f"create role {role} nologin" + (f" in role {parent}" if parent else "")))
            parent = role
    engine.dispose()


def grant_reader(settings: Settings | None = None) -> None:
    """SELECT on the ODC and explorer schemas for the read-only role, and nothing else."""
    from sqlalchemy import text

    settings = settings or load_settings()
    if settings.external_index:
        return
    engine = _psql_engine(settings)
    with engine.connect() as conn:
        for schema in ("odc", "cubedash", "ows"):
            conn.execute(text(f"grant usage on schema {schema} to {READER_ROLE}"))
            conn.execute(text(f"grant select on all tables in schema {schema} to {READER_ROLE}"))
    engine.dispose()


def _odc_environ(settings: Settings, *, read_only: bool) -> dict[str, str]:
    """The server's environment (the reader's URL) with ``read_only``, else the administrator's (explorer's
    summaries)."""
    env = {**os.environ, **settings.odc_environ()}
    env[f"ODC_{settings.env_name.upper()}_DB_URL"] = _admin_url(settings)
    if read_only:
        key = f"ODC_{settings.env_name.upper()}_DB_URL"
        env[key] = os.environ.get("SNOWLAND_SERVE_DB_URL") or _reader_url(settings)
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {READ_ONLY_OPTIONS}".strip()
    return env


def _reader_url(settings: Settings) -> str:
    return settings.role_url("reader")


def prepare(settings: Settings | None = None, *, quiet: bool = True) -> None:
    """Create or refresh explorer's summaries of every product (incremental after the first run)."""
    settings = settings or load_settings()
    ensure_roles(settings)
    command = [str(Path(sys.executable).parent / "cubedash-gen"), "--init", "--all"]
    done = subprocess.run(command, env=_odc_environ(settings, read_only=False), capture_output=quiet, text=True)
    if done.returncode != 0:
        raise ServeError(f"cubedash-gen failed ({done.returncode}): {(done.stderr or '')[-2000:]}")
    prepare_ows(env=_odc_environ(settings, read_only=False), db_url=_admin_url(settings), quiet=quiet)
    grant_reader(settings)


@contextmanager
def running(*, host: str = "127.0.0.1", port: int = 8080, refresh: bool = True, timeout: float = 120,
            log: Path | None = None) -> Iterator[Server]:
    """Explorer serving the index on ``host:port`` until the block ends."""
    server = start(host=host, port=port, refresh=refresh, timeout=timeout, log=log)
    try:
        yield server
    finally:
        server.stop()


def start(*, host: str = "127.0.0.1", port: int = 8080, refresh: bool = True, timeout: float = 120,
          log: Path | None = None) -> Server:
    """Refresh the summaries (unless ``refresh=False``), start the read-only server, wait until it answers."""
    settings = load_settings()
    if refresh:
        prepare(settings)
    out = open(log, "ab") if log else subprocess.DEVNULL
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    process = subprocess.Popen([sys.executable, "-m", "flows.ask.serve", host, str(port)],
                               env={**_odc_environ(settings, read_only=True), **ows_environ(base_url=url)},
                               stdout=out, stderr=subprocess.STDOUT)
    server = Server(url=url, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(f"the explorer server stopped at start (exit {process.returncode})"
                             + (f"; see {log}" if log else ""))
        try:
            with urllib.request.urlopen(f"{url}/stac", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise ServeError(f"the explorer server did not answer on {url} within {timeout:.0f} s")


def serve(*, host: str = "127.0.0.1", port: int = 8080, refresh: bool = True) -> int:
    """Serve until interrupted (``snowland serve``)."""
    server = start(host=host, port=port, refresh=refresh)
    print(f"serving the catalogue read-only on {server.url}  (STAC API: {server.url}/stac; map: {server.url}/map/; "
          f"WMS/WMTS/WCS: {server.url}/ows/; search, cart and orders: {server.url}/site/; Ctrl-C stops)")
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def _run_child(host: str, port: int) -> None:
    """The server process: explorer's Flask app on werkzeug (its index connection is made at import), datacube-ows
    at ``/ows``, the map page at ``/map``."""
    from cubedash.startup_utils import create_app
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import run_simple

    from flows.ask.site.app import mount

    app = mount(DispatcherMiddleware(create_app(EXPLORER_CONFIG), {"/ows": ows_app(), "/map": map_app()}))
    run_simple(host, port, app, threaded=True)


if __name__ == "__main__":
    _run_child(sys.argv[1], int(sys.argv[2]))
