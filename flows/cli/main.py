"""``snowland``: the parser of every command group and ``main()``, which runs one command.

A user's error (a ``products.errors.SnowlandError``, or an argument a type refuses) is said on stderr in one
line, ``snowland <command>: <reason>``, and the command exits with the error's code; any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from typing import NoReturn

from flows.cli import ask, data, db, demo, landcover, snow
from flows.cli.logs import log_level
from flows.cli.show import progress_bars
from products.errors import SnowlandError

GROUPS = (demo, db, data, snow, ask, landcover)  # the order of `snowland --help`
UNTIMED = ("db", "env", "lineage", "prefect")  # answers at once: no elapsed time after them


class Parser(argparse.ArgumentParser):
    """An argument parser that refuses a bad argument in one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> Parser:
    parser = Parser(
        prog="snowland",
        description="Snow-cover and land-cover products from Sentinel-2 and Landsat-8 on an Open Data Cube "
        "(EPSG:3035, EEA reference grid). Start with `snowland demo`.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the libraries' INFO logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    for command in sub.choices.values():
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show the libraries' INFO logs")
    return parser


def _quiet_third_party_warnings() -> None:
    """Warnings that third-party libraries print on every dataset and that say nothing to a user."""
    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    warnings.filterwarnings("ignore", message="Dataset has no geotransform")


def _label(args: argparse.Namespace) -> str:
    """The command as the user typed it, with its action (``prefect up``, ``query snow-area``)."""
    action = getattr(args, "action", None) or getattr(args, "what", None)
    return f"snowland {args.command}" + (f" {action}" if action else "")


def _one_line(err: SnowlandError, *, verbose: bool) -> str:
    """The error's first line; the rest (a log's tail) with ``-v`` only."""
    first, *rest = str(err).strip().splitlines() or [type(err).__name__]
    if rest and not verbose:
        return f"{first} ({len(rest)} more line(s): -v shows them)"
    return "\n".join([first, *rest])


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or an argument refused in one line
        return done.code if isinstance(done.code, int) else 2
    started = time.perf_counter()
    with log_level(verbose=args.verbose):
        _quiet_third_party_warnings()
        try:
            from odc_config.settings import apply_environ

            apply_environ()
            with progress_bars():
                code = args.func(args)
        except SnowlandError as err:
            print(f"{_label(args)}: {_one_line(err, verbose=args.verbose)}", file=sys.stderr)
            return err.exit_code
    if args.command not in UNTIMED:
        print(f"({time.perf_counter() - started:.1f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
