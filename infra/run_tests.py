"""The test suite as two pytest sessions side by side, one per core (``make test``).

Half of a serial run's time is spent waiting on servers, workers and databases: on 2 cores it keeps the machine
at a load of about 1 (14 min 24 s serially, measured here). Each session is a whole pytest run of its own, with its
own index, Prefect harness, dask cluster and last check that nothing it started outlives it; the split is by
folder, balanced on measured durations (the flows' end-to-end tests against the rest). Arguments go to both
sessions; plain ``pytest`` still runs the whole suite in one process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = {
    "flows": ["tests/pipelines"],
    "rest": ["tests", "--ignore=tests/pipelines"],
}


def _relay(name: str, stream, out) -> None:
    """Copy a session's output line by line, each line marked with the session's name."""
    for line in stream:
        out.write(f"[{name}] {line}")
        out.flush()


def main(args: list[str]) -> int:
    started = time.monotonic()
    sessions = {name: subprocess.Popen([sys.executable, "-m", "pytest", *paths, *args], cwd=ROOT, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
                for name, paths in SESSIONS.items()}
    relays = [threading.Thread(target=_relay, args=(name, run.stdout, sys.stdout), daemon=True)
              for name, run in sessions.items()]
    for relay in relays:
        relay.start()

    def stop(signum, _frame):  # a CI time-out or Ctrl-C: each session tears its fixtures down as after Ctrl-C
        for run in sessions.values():
            if run.poll() is None:
                run.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = {name: run.wait() for name, run in sessions.items()}
    for relay in relays:
        relay.join()
    failed = [name for name, code in codes.items() if code != 0]
    print(f"test sessions: {', '.join(f'{n} exit {c}' for n, c in codes.items())}; "
          f"{time.monotonic() - started:.0f} s in all" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return max(codes.values(), key=lambda code: code != 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
