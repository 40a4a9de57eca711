"""Argument types of the command line: each checks one value before any flow, database or cluster starts.

A type raises ``argparse.ArgumentTypeError`` with the reason; the parser prints it in one line naming the
argument (``snowland snow: argument --cell: not an EEA grid cell name: 'NOTACELL' ...``) and exits with 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from products.errors import BadInputError

FIRST_YEAR, LAST_YEAR = 1972, 2100  # Landsat-1 to a far future: a year outside is a typing mistake


def cell(text: str) -> str:
    """An EEA grid cell name, e.g. 100kmE38N22."""
    from flows.storage.grid import Cell

    try:
        return Cell.parse(text).name
    except BadInputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def day(text: str) -> str:
    """An ISO date, e.g. 2024-01-31 (kept as text: the flows take ISO dates)."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (expected YYYY-MM-DD, e.g. 2024-01-31)") from None


def _parsed(text: str, kind: type, what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a {what}: {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _checked(kind: type, what: str, ok: Any, why: str) -> Any:
    """An argument type: ``text`` read as ``kind``, refused with ``why`` (formatted with the value) unless ``ok``."""

    def parse(text: str) -> Any:
        value = _parsed(text, kind, what)
        if not ok(value):
            raise argparse.ArgumentTypeError(why.format(value=value))
        return value

    parse.__name__ = what.replace(" ", "_")
    return parse


year = _checked(int, "year", lambda v: FIRST_YEAR <= v <= LAST_YEAR, f"year {{value}} is outside {FIRST_YEAR}-{LAST_YEAR}")
positive_int = _checked(int, "whole number", lambda v: v >= 1, "must be at least 1, not {value}")
positive_float = _checked(float, "number", lambda v: v > 0, "must be positive, not {value}")
non_negative_float = _checked(float, "number", lambda v: v >= 0, "must not be negative, not {value}")


def existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no file {text}" + (" (it is a folder)" if Path(text).is_dir() else ""))
    return text


def existing_folder(text: str) -> str:
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"no folder {text}")
    return text


def existing_path(text: str) -> str:
    """A file or a folder that exists."""
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"no file or folder {text}")
    return text


def dataset_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a dataset id: {text!r} (a UUID, as printed by the commands)") from None


class BBox(argparse.Action):
    """``--bbox W S E N`` in degrees: west of east, south of north, on the globe."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        try:
            w, s, e, n = (float(v) for v in values)
        except ValueError:
            parser.error(f"argument {option_string}: W S E N must be numbers (degrees), not {' '.join(values)}")
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            parser.error(f"argument {option_string}: {w:g} {s:g} {e:g} {n:g} is not a box W S E N in degrees "
                         "(west < east in -180..180, south < north in -90..90)")
        setattr(namespace, self.dest, [w, s, e, n])


def add_bbox(parser: argparse.ArgumentParser, *, help: str = "a box W S E N in degrees") -> None:
    parser.add_argument("--bbox", nargs=4, metavar=("W", "S", "E", "N"), action=BBox, help=help)


def period(start: str | None, end: str | None, *, what: str = "--start/--end") -> None:
    """Refuse a period that ends before it starts (both given as ISO dates)."""
    if start and end and end < start:
        raise BadInputError(f"{what}: the period ends ({end}) before it starts ({start})")


def one_of(args: argparse.Namespace, names: Sequence[str], *, say: str) -> str:
    """The one option of ``names`` that was given; refuse none or several."""
    given = [n for n in names if getattr(args, n, None)]
    if len(given) != 1:
        raise BadInputError(f"give one {say}" + (f", not {len(given)}" if given else ""))
    return given[0]
