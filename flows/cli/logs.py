"""How loud the command line is: warnings only by default, INFO with ``-v``.

Prefect configures the root logger when it is imported, and ``distributed`` then leaves its own loggers
propagating to it at INFO: a local cluster's scheduler says ~36 lines per run, among them a ``CommClosedError``
traceback that ``distributed.batched`` logs at INFO when a worker's connection closes first while the cluster
shuts down (harmless). Setting the levels here keeps those lines out; workers started by a local cluster keep
their own WARNING level (``LocalCluster(silence_logs=...)``). On a busy machine a nanny also warns that it kills
a worker still closing when the cluster closes after a finished run; that one warning is dropped too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

LOUD_LOGGERS = ("distributed", "prefect", "flows", "products", "infra", "datacube")
CLOSING_WORKER = "Worker process still alive after"  # distributed.nanny, as the cluster closes


def _not_a_closing_worker(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(CLOSING_WORKER)


@contextmanager
def log_level(*, verbose: bool) -> Iterator[None]:
    """Set the levels of the libraries' and snowland's loggers while the block runs, then put them back."""
    level = logging.INFO if verbose else logging.WARNING
    prefect_before = os.environ.get("PREFECT_LOGGING_LEVEL")
    if verbose or prefect_before is None:
        os.environ["PREFECT_LOGGING_LEVEL"] = logging.getLevelName(level)  # read when Prefect is imported
    import distributed  # noqa: F401  its import sets the level of its loggers: ours come after

    loggers = [logging.getLogger(name) for name in LOUD_LOGGERS]
    before = [logger.level for logger in loggers]
    root_handler = None
    if verbose and not logging.getLogger().handlers:  # Prefect not imported yet: INFO needs a handler
        root_handler = logging.StreamHandler()
        root_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(root_handler)
    for logger in loggers:
        logger.setLevel(level)
    nanny = logging.getLogger("distributed.nanny")
    nanny.addFilter(_not_a_closing_worker)
    try:
        yield
    finally:
        nanny.removeFilter(_not_a_closing_worker)
        for logger, old in zip(loggers, before):
            logger.setLevel(old)
        if root_handler is not None:
            logging.getLogger().removeHandler(root_handler)
        if prefect_before is None:
            os.environ.pop("PREFECT_LOGGING_LEVEL", None)
        else:
            os.environ["PREFECT_LOGGING_LEVEL"] = prefect_before
