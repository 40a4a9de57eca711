"""The one retry policy of the flows' tasks: retry what is transient, fail bad input at once.

Transient: a network read that failed (GDAL/rasterio I/O on a remote file, HTTP 5xx, a reset or refused
connection, a timeout), the database connection lost (SQLAlchemy/psycopg2 ``OperationalError``), a dask
worker lost mid-task. Everything else fails at once with its reason: a user's error (a ``SnowlandError``
other than ``UnreachableError``: a bad source, an input that cannot give a product) or a ``ValueError``; a missing
or unreadable local file; a bug. Retries wait with exponential backoff and jitter, so a database or a store that restarts is
not hammered by every task at the same second.

    @task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)

``SNOWLAND_TASK_RETRIES`` and ``SNOWLAND_RETRY_BACKOFF_S`` override the defaults (read at import).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prefect.tasks import exponential_backoff

from products.errors import SnowlandError, UnreachableError

NETWORK_ERRNOS = frozenset({
    errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EHOSTUNREACH,
    errno.ENETUNREACH, errno.ENETDOWN, errno.EPIPE, errno.EIO, errno.EAGAIN,
})
LOCAL_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
# GDAL says these of a file that is missing or not a raster: trying again will not help.
PERMANENT_GDAL_MESSAGES = ("no such file", "does not exist", "not recognized as", "not a supported file format",
                           "permission denied", "http response code: 404", "http response code: 403")


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_transient_one(err: BaseException) -> bool:
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError
    from rasterio.errors import RasterioIOError
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    if isinstance(err, (OperationalError, InterfaceError, DisconnectionError, KilledWorker, CommClosedError,
                        TimeoutError, ConnectionError)):
        return True
    if type(err).__module__.startswith("psycopg") and type(err).__name__ in ("OperationalError", "InterfaceError"):
        return True
    if isinstance(err, LOCAL_FILE_ERRORS):
        return False
    if isinstance(err, RasterioIOError) or type(err).__name__ in ("CPLE_HttpResponseError", "CPLE_FileIOError"):
        message = str(err).lower()
        return not any(m in message for m in PERMANENT_GDAL_MESSAGES)
    if isinstance(err, OSError):  # a socket error
        return err.errno in NETWORK_ERRNOS
    return False


def _is_verdict(err: BaseException) -> bool:
    """An error that says the input is wrong: trying again cannot help, whatever caused it."""
    return isinstance(err, ValueError) or (isinstance(err, SnowlandError) and not isinstance(err, UnreachableError))


def is_transient(err: BaseException) -> bool:
    """True when trying again later may succeed; False for bad input (a user's error or a ``ValueError`` in the
    chain) and bugs.

    Looks through the exception's causes: ``IndexUnreachableError("cannot open the ODC index ...")`` raised from
    an ``OperationalError`` is transient, ``SnowInputError`` raised from a read error is not (its reason stands).
    """
    chain = list(_chain(err))
    if any(_is_verdict(e) for e in chain):
        return False
    return any(_is_transient_one(e) for e in chain)


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry the failed task run only if its exception is transient."""
    try:
        state.result()
    except BaseException as err:  # the task's own exception, re-raised by the failed state
        return is_transient(err)
    return False


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How many times, and how long apart, a task that failed on a transient error is run again."""

    retries: int = 3
    backoff_s: float = 2.0  # delays backoff_s * 1, 2, 4, ... seconds
    jitter: float = 0.5  # each delay drawn up to 50 % longer, so tasks do not retry in lockstep

    @classmethod
    def from_environ(cls) -> RetryPolicy:
        return cls(retries=int(os.environ.get("SNOWLAND_TASK_RETRIES", cls.retries)),
                   backoff_s=float(os.environ.get("SNOWLAND_RETRY_BACKOFF_S", cls.backoff_s)))

    def delays(self) -> list[float]:
        return exponential_backoff(self.backoff_s)(self.retries)

    def task_options(self) -> dict[str, Any]:
        """Keyword arguments for ``@task``."""
        return {"retries": self.retries, "retry_delay_seconds": self.delays(),
                "retry_jitter_factor": self.jitter, "retry_condition_fn": retry_on_transient}


TRANSIENT_RETRIES = RetryPolicy.from_environ().task_options()
