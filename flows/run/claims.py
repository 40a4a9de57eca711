"""Claims on units of work: a run computes a unit only while it holds the unit's claim, so that runs that overlap (a
schedule still going when the next fires, a re-run started by hand beside it) never compute a unit twice.

A claim is a PostgreSQL session-level advisory lock (``pg_try_advisory_lock``) on the index's database, held by a
connection of its own for as long as the unit runs. A lock rather than a row with a heartbeat and an expiry, because it
dies with its holder: a killed worker's connection is closed by its kernel and the server drops the lock at once (a
host that vanishes: by TCP keepalive, in under a minute), so a dead run's claim never blocks a unit, with no clock,
no expiry to tune and no row to clean up. What it costs: one connection per unit in flight (one per worker thread).
The keys are the two-32-bit-key form, a space of its own (``flows.storage.index.INIT_LOCK_KEY`` is a 64-bit key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from odc_config.settings import load_settings

CLAIM_SPACE = int.from_bytes(b"unit", "big")
"""The first key of every claim; the second is a 32-bit hash of the unit's name."""

KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def claim_key(name: str) -> int:
    """The unit's 32-bit key: a hash of its name (two names that collide only make one of them wait a run)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


@contextmanager
def claim(name: str, *, db_url: str | None = None) -> Iterator[bool]:
    """Try to claim the unit ``name`` (e.g. ``snow_cover/100kmE40N24/2024-01-15/s2``) for the block: True when this
    process holds it, False when another holds it now. Never waits. ``db_url``: the index's (SQLAlchemy) URL."""
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(db_url or load_settings().db_url).set(drivername="postgresql")
    conn = psycopg2.connect(url.render_as_string(hide_password=False), application_name="snowland claim",
                            **KEEPALIVE)
    held = False
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s, %s)", (CLAIM_SPACE, claim_key(name)))
            held = bool(cur.fetchone()[0])
        yield held
    finally:
        try:
            if held and not conn.closed:  # at once: a closed session's backend drops its locks only once it has exited
                with conn.cursor() as cur:
                    cur.execute("select pg_advisory_unlock(%s, %s)", (CLAIM_SPACE, claim_key(name)))
        except psycopg2.Error:
            pass  # the connection was lost (a database restart): its session, and the lock, went with it
        finally:
            conn.close()
