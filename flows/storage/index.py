"""The ODC index: connect (one Datacube per process and database), initialise, register products, lineage."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import datacube
import yaml
from datacube.model import Dataset
from odc.geo import CRS

from flows.storage.grid import EEA_CRS
from odc_config.settings import Settings, apply_odc_environ, load_settings
from products import product_definition_files
from products.errors import BadInputError, UnreachableError

_CONNECT_LOCK = threading.Lock()
_CONFIG_LOCK = threading.Lock()
_OPEN: dict[tuple[int, str, str, str], datacube.Datacube] = {}
_NO_DATASET = "00000000-0000-0000-0000-000000000000"
INIT_LOCK_KEY = int.from_bytes(b"snowland", "big")
"""The one PostgreSQL advisory lock key (``pg_advisory_lock``, 64 bits: "snowland" in ASCII) held while the index is
initialised and its products registered: simultaneous first runs take turns, and each after the first finds
everything made. Unit claims (``flows.run.claims``) use the other lock space (two 32-bit keys), never this one."""
ADD_LOCK_KEY = int.from_bytes(b"snowadds", "big")
"""The advisory lock key held while a batch of sources is added (:func:`adding`)."""


class CubeError(BadInputError):
    """A query the cube cannot answer, said in the user's terms."""


class IndexUnreachableError(UnreachableError):
    """The ODC index's database cannot be opened (down, wrong address, refused)."""


def connect(settings: Settings | None = None, *, app: str = "snowland", validate: bool = True) -> datacube.Datacube:
    """A Datacube on snowland's index (the embedded one unless ``ODC_ENVIRONMENT`` says otherwise).

    One per process and database, shared by its threads (the index is thread-safe, not fork-safe): a worker
    running unit after unit holds one small connection pool instead of one per unit, which PostgreSQL's
    connection limit would not survive. It is checked on each call and reopened after the database restarted.
    ``validate=False`` connects to a database whose ODC schema does not exist yet (to initialise it), unshared.
    """
    settings = settings or load_settings()
    apply_odc_environ(settings)
    if not validate:
        return _open(settings, app=app, validate=False)
    key = (os.getpid(), app, settings.env_name, settings.db_url)
    with _CONNECT_LOCK:
        dc = _OPEN.pop(key, None)
        if dc is not None and not _alive(dc):
            dc.close()
            dc = None
        _OPEN[key] = dc or _pinging(_open(settings, app=app, validate=True))
        return _OPEN[key]


def _pinging(dc: datacube.Datacube) -> datacube.Datacube:
    """``dc`` with its pool testing each connection as it hands it out: after a database restart, a pool can hold
    connections made before it (dead) beside new ones, and `_alive` only tries one of them. datacube makes its
    engine without SQLAlchemy's ``pool_pre_ping``, so it is switched on here (one round trip per checkout)."""
    engine = getattr(getattr(dc.index, "_db", None), "_engine", None)
    if engine is not None:
        engine.pool._pre_ping = True
    return dc


def _open(settings: Settings, *, app: str, validate: bool, url: str | None = None) -> datacube.Datacube:
    """The index of ``settings`` (its ``ODC_*`` environment), or at ``url`` (another role's, e.g. the owner's)."""
    config = {"env": settings.env_name}
    if url:
        config["raw_config"] = {settings.env_name: {"index_driver": "postgis", "db_url": url}}
    try:
        with _CONFIG_LOCK:  # datacube's configuration loading is not thread-safe
            return datacube.Datacube(app=app, validate_connection=validate, **config)
    except Exception as err:  # the driver raises several unrelated types for "cannot connect"
        raise IndexUnreachableError(
            f"cannot open the ODC index {settings.env_name!r} ({_redact(url or settings.db_url)}): {err}. "
            "Is the database up? `snowland db up` starts the embedded one."
        ) from err


def _alive(dc: datacube.Datacube) -> bool:
    try:
        dc.index.datasets.has(_NO_DATASET)
    except Exception:  # a restarted server, a dropped connection: the pool is stale either way
        return False
    return True


def init_index(dc: datacube.Datacube | None = None, *, extra_products: Sequence[Path] = ()) -> list[str]:
    """Create the schema, an EPSG:3035 spatial index and every snowland product, as the index's owner; idempotent, and
    safe when several processes do it at once (they take turns under ``INIT_LOCK_KEY``)."""
    settings = load_settings()
    apply_odc_environ(settings)
    with initialising(settings.owner_url):
        owner = dc or _open(settings, app="snowland-init", validate=False, url=settings.owner_url)
        try:
            index = owner.index
            index.init_db(with_default_types=True, with_permissions=False)
            if EEA_CRS not in {CRS(c) for c in index.spatial_indexes(refresh=True)}:
                index.create_spatial_index(EEA_CRS, with_permissions=False)
            names = [add_product(index, yaml.safe_load(Path(path).read_text()))
                     for path in [*product_definition_files(), *extra_products]]
        finally:
            if dc is None:
                owner.close()
    return names


def initialising(db_url: str) -> AbstractContextManager[None]:
    """Hold the index's initialisation lock for the block. ``create extension if not exists`` and datacube's schema
    creation are not safe to race."""
    return _holding(db_url, key=INIT_LOCK_KEY, purpose="to initialise it")


def adding(settings: Settings | None = None) -> AbstractContextManager[None]:
    """Hold the lock under which sources are added in batches (``flows.storage.eo3.add_datasets``): indexers of
    the same items take turns, so that each finds exactly those the others added."""
    return _holding((settings or load_settings()).db_url, key=ADD_LOCK_KEY, purpose="to add datasets")


@contextmanager
def _holding(db_url: str, *, key: int, purpose: str) -> Iterator[None]:
    """Hold the advisory lock ``key`` on a connection of its own for the block (PostgreSQL releases it if the
    process dies)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        try:
            conn = engine.connect()
        except OperationalError as err:
            raise IndexUnreachableError(f"cannot open the ODC index ({_redact(db_url)}) {purpose}: "
                                        f"{str(err.orig).strip().splitlines()[0]}") from err
        with conn:
            conn.execute(text("select pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("select pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
    finally:
        engine.dispose()


def add_product(index: Any, definition: Mapping[str, Any]) -> str:
    """Add a product definition, or update it in place when it changed compatibly."""
    product = index.products.from_doc(dict(definition))
    existing = index.products.get_by_name(product.name)
    if existing is None:
        index.products.add(product, allow_table_lock=True)
    else:
        _, safe, unsafe = index.products.can_update(product)
        refused = [change for change in unsafe if not (_adds_measurement(change) or _load_hint(change))]
        if refused:
            raise BadInputError(f"product {product.name}: the definition changes what indexed datasets may hold "
                                f"({', '.join('.'.join(map(str, offset)) for offset, _, _ in refused)}); only new "
                                "measurements at the end of the list and load defaults can change in place")
        if safe or unsafe:
            index.products.update(product, allow_unsafe_updates=bool(unsafe), allow_table_lock=True)
    return product.name


def _adds_measurement(change: tuple) -> bool:
    """A new measurement at the end of the list (datacube reports the old item as None): datasets indexed
    before simply do not have it."""
    offset, old, new = change
    return len(offset) == 2 and offset[0] == "measurements" and old is None and isinstance(new, dict)


def _load_hint(change: tuple) -> bool:
    """A change of the ``load`` section: the grid a plain load defaults to, nothing indexed datasets hold."""
    return change[0][:1] == ("load",)


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    cred, host = rest.rsplit("@", 1)
    return f"{scheme}://{cred.split(':')[0]}@{host}"


def sources_of(id_: str, *, dc: datacube.Datacube | None = None) -> dict[str, list[Dataset]]:
    """The source datasets of a dataset, by lineage classifier (the postgis index's lineage table)."""
    index = (dc or connect()).index
    tree = index.lineage.get_source_tree(id_, max_depth=1)
    return {
        classifier: [index.datasets.get(child.dataset_id) for child in children]
        for classifier, children in (tree.children or {}).items()
    }


def ensure_index() -> list[str]:
    """Start the embedded database when it is the one in use, then create the ODC index and products."""
    if not load_settings().external_index:
        from infra.localdb import LocalPostgis

        s = load_settings()
        LocalPostgis(root=s.pg_dir, port=s.db_port, db_name=s.db_name).up()
    return init_index()
