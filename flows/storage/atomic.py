"""Product folders that appear whole or not at all, and what a writer that died mid-write leaves behind.

A product is written into a hidden sibling ``.<name>.partial-<writer>`` and renamed into place once complete;
a product being replaced is first moved aside to ``.<name>.old-<writer>``. ``<writer>`` names the host, the
process id and the process's start time, so that a later writer can tell a folder whose writer died (a killed
worker) from one still being written, even when a restarted container reuses the pid.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import socket
import uuid
from pathlib import Path

ABANDONED_AFTER_S = 6 * 3600  # no unit writes this long: an older hidden folder's writer is gone, wherever it ran
_TAG = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}")


def staging_folder(final: Path) -> Path:
    """A new hidden folder beside ``final`` to write the product into, after clearing abandoned ones."""
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(final)
    partial = final.parent / f".{final.name}.partial-{_writer_tag()}"
    partial.mkdir()
    return partial


def publish(partial: Path, final: Path) -> None:
    """Put the complete ``partial`` folder in the place of ``final``, replacing what is there."""
    if not final.exists():
        partial.rename(final)
        return
    old = final.parent / f".{final.name}.old-{_writer_tag()}"
    final.rename(old)
    partial.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def sweep_abandoned(final: Path) -> list[Path]:
    """Clear what writers of ``final`` left when they died mid-write; return what was cleared.

    A ``.partial-`` folder (never renamed into place, never indexed) is removed. An ``.old-`` folder (a product
    being replaced) is removed, or put back where ``final`` is missing because its writer died between the
    two renames. A folder is abandoned when its writer was a process of this host that no longer runs, or
    when it has not changed for ``ABANDONED_AFTER_S`` (a writer on another host cannot be asked).
    """
    cleared = []
    for hidden in sorted(final.parent.glob(f".{glob.escape(final.name)}.*-*")):
        kind, _, tag = hidden.name[len(final.name) + 2:].partition("-")
        try:
            if kind not in ("partial", "old") or not hidden.is_dir() or not _abandoned(hidden, tag):
                continue
            if kind == "old" and not final.exists():
                hidden.rename(final)
            else:
                shutil.rmtree(hidden)
        except OSError:  # another writer cleared it or put the product back first
            continue
        cleared.append(hidden)
    return cleared


def _writer_tag() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{_start_centis(os.getpid())}-{uuid.uuid4().hex[:8]}"


def _abandoned(folder: Path, tag: str) -> bool:
    stat = folder.stat()
    changed = max(stat.st_mtime, stat.st_ctime)  # a rename moves ctime, not mtime
    if dt.datetime.now().timestamp() - changed > ABANDONED_AFTER_S:
        return True
    writer = _TAG.fullmatch(tag)
    if writer is None or writer["host"] != socket.gethostname():
        return False
    return _start_centis(int(writer["pid"])) != int(writer["start"])


def _start_centis(pid: int) -> int:
    """The start time of a running process in 1/100 s, or -1 when no such process runs (a zombie is dead)."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return -1
        return round(process.create_time() * 100)
    except psutil.NoSuchProcess:
        return -1
