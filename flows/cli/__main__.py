"""``python -m flows.cli``: the ``snowland`` command."""

import sys

from flows.cli import main

sys.exit(main())
