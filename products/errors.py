"""The one exception base for everything a user can cause, and its four kinds.

A ``SnowlandError`` is said to a person as one line (its message names the item and the cause) and the command
exits non-zero; any other exception is a bug and keeps its traceback. It lives in ``products`` because the pure
science checks its own inputs (a bad parameter, an unmapped class code) and ``products`` imports nothing from
``flows``.
"""

from __future__ import annotations


class SnowlandError(Exception):
    """Something a user caused or can fix."""

    exit_code = 1


class BadInputError(SnowlandError):
    """An argument, parameter, file or value that cannot be used as given."""

    exit_code = 2


class MissingDataError(SnowlandError):
    """Nothing to work on: no dataset, no valid date, no reference polygon, a band a scene lacks."""

    exit_code = 3


class RefusedItemError(SnowlandError):
    """A source item (STAC item, Theia folder, raster file) that cannot be indexed as it is."""

    exit_code = 4


class UnreachableError(SnowlandError):
    """A database or server that cannot be reached or started."""

    exit_code = 5
