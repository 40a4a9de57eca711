"""datacube-ows on snowland's index: its range table made by the administrator at `prepare`, its WSGI app mounted
at ``/ows`` of the read-only server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from products.errors import UnreachableError

CONFIG = "flows.ask.ows.config.OWS_CFG"
PATH = "/ows"


class OwsError(UnreachableError):
    """The OGC services cannot be prepared or started; the message says why."""


def ows_environ(*, base_url: str) -> dict[str, str]:
    """What datacube-ows reads from the environment: its configuration and the URL it advertises."""
    return {"DATACUBE_OWS_CFG": CONFIG, "SNOWLAND_OWS_URL": f"{base_url}{PATH}/"}


def layers_with_data(*, db_url: str) -> list[str]:
    """The configured layers whose product has an active dataset (datacube-ows 1.9.19's range update fails on a
    yearly layer without one)."""
    from sqlalchemy import create_engine, text

    from flows.ask.ows.config import TITLES

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            found = {r[0] for r in conn.execute(text(
                "select distinct p.name from odc.product p join odc.dataset d on d.product_ref = p.id "
                "where d.archived is null"))}
    finally:
        engine.dispose()
    return [name for name in TITLES if name in found]


def prepare_ows(*, env: dict[str, str], db_url: str, quiet: bool = True) -> None:
    """Create datacube-ows' schema (``ows.layer_ranges``) and refresh the dates and extents of every layer that has
    data, as the administrator (``db_url``, the URL of ``env``)."""
    update = str(Path(sys.executable).parent / "datacube-ows-update")
    env = {**env, **ows_environ(base_url="http://127.0.0.1")}
    layers = layers_with_data(db_url=db_url)
    for command in ([update, "--schema"], [update, *layers]):
        done = subprocess.run(command, env=env, capture_output=quiet, text=True)
        if done.returncode != 0:
            raise OwsError(f"{' '.join(command[1:]) or 'datacube-ows-update'} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout or '')[-2000:]}")


def ows_app():
    """datacube-ows' Flask app (reads its configuration and connects to the index when made)."""
    from datacube_ows.startup_utils import create_app

    return create_app()
