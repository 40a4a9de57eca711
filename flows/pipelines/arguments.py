"""Checks of a flow's arguments, made at the top of the flow before anything starts (index, cluster, tasks).

Each returns the argument as the flow uses it, or raises a ``BadInputError`` that names the argument and the
cause, so that ``snowland snow --cell NOTACELL`` is one line, not a traceback after a cluster started.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TypeVar

from flows.storage.grid import Cell
from products.errors import BadInputError, SnowlandError

T = TypeVar("T")


def _cause(err: Exception) -> str:
    return str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)


def checked(argument: str, check: Callable[[], T]) -> T:
    """``check()``, its ``ValueError``/``KeyError``/``SnowlandError`` said as a ``BadInputError`` naming ``argument``:
    for the checks that the science already makes of its own inputs (parameters, key dates)."""
    try:
        return check()
    except (ValueError, KeyError, SnowlandError) as err:
        raise BadInputError(f"{argument}: {_cause(err)}") from err


def cells(names: Sequence[str] | None, *, argument: str = "cells") -> list[str] | None:
    """EEA grid cell names, each parsed (``100kmE40N24``); None when no cell is given."""
    if not names:
        return None
    if isinstance(names, str):
        names = [names]
    return [checked(argument, lambda name=name: Cell.parse(name)).name for name in names]


def bbox(values: Sequence[float] | None, *, argument: str = "bbox") -> list[float] | None:
    """West, south, east, north in degrees, with west < east and south < north."""
    if values is None:
        return None
    try:
        west, south, east, north = (float(v) for v in values)
    except (TypeError, ValueError):
        raise BadInputError(f"{argument}: give 4 numbers (west south east north, degrees), not {values!r}") from None
    if not all(map(math.isfinite, (west, south, east, north))):
        raise BadInputError(f"{argument}: {list(values)} holds a value that is not a number")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BadInputError(f"{argument}: {list(values)} is not west < east within ±180° and south < north "
                            "within ±90°")
    return [west, south, east, north]


def instant(text: str | None, *, argument: str) -> str | None:
    """An ISO 8601 date or date-time (``2024-01-31``, ``2024-01-31T10:00:00Z``), as given."""
    if text is None:
        return None
    try:
        dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise BadInputError(f"{argument}: {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    return str(text)


def year(value: int | None, *, argument: str = "year") -> int | None:
    """A calendar year of four digits."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 9999:
        raise BadInputError(f"{argument}: {value!r} is not a year (e.g. 2024)")
    return value


def years(values: Sequence[int] | None, *, argument: str = "years") -> list[int]:
    """One year or more."""
    if not values:
        raise BadInputError(f"{argument}: give at least one year")
    return [year(v, argument=argument) for v in values]  # type: ignore[misc]


def number(value: float | None, *, argument: str, minimum: float = 0.0, strict: bool = False) -> float | None:
    """A number at least ``minimum`` (above it with ``strict``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            value < minimum or (strict and value == minimum):
        bound = f"above {minimum:g}" if strict else f"{minimum:g} or more"
        raise BadInputError(f"{argument}: {value!r} must be a number {bound}")
    return value


def one_of(value: str, known: Collection[str], *, argument: str) -> str:
    """``value``, one of ``known``."""
    if value not in known:
        raise BadInputError(f"{argument}: unknown {value!r}; use one of {', '.join(sorted(known))}")
    return value


def existing(path: str | Path | None, *, argument: str) -> Path | None:
    """A file or folder that exists."""
    if path is None:
        return None
    if not Path(path).exists():
        raise BadInputError(f"{argument}: {path} does not exist")
    return Path(path)


def existing_all(paths: Sequence[str | Path], *, argument: str) -> list[Path]:
    """Files or folders that all exist."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return [existing(p, argument=argument) for p in paths]  # type: ignore[misc]


def days_ago(days: float) -> str:
    """The UTC instant ``days`` before now (ISO 8601): where a scheduled run's window of acquisitions starts."""
    return f"{dt.datetime.now(dt.UTC) - dt.timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"

