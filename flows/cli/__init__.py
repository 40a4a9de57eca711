"""``snowland``: a thin command line over the flows and the cube functions.

Every command is a function a Python user can import and call; the modules here only parse arguments and
print, one per command group (``db``, ``data``, ``snow``, ``landcover``, ``ask``, ``demo``); ``main`` holds the
parser and runs a command. Settings come from the environment (see ``odc_config.settings``).
"""

from flows.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
