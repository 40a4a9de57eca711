"""Files and folders that appear whole or not at all, and what a writer that died mid-write leaves behind.

The one module that renames anything into place. Whatever is written goes first to a hidden sibling
``.<name>.partial-<writer><suffix>`` (a file: renamed onto ``<name>`` in one step; a folder: several files
published as one unit); a folder being replaced is first moved aside to ``.<name>.old-<writer>``. ``<writer>``
names the host, the process id and the process's start time, so that a later writer can tell what a dead writer
left (a killed worker) from what is still being written, even when a restarted container reuses the pid.
``<suffix>`` repeats the name's own extension, so that writers that choose a format by it (GDAL, numpy,
matplotlib) write the hidden file as they would the final one.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ABANDONED_AFTER_S = 6 * 3600  # no unit writes this long: an older hidden folder's writer is gone, wherever it ran
_TAG = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}")
_HIDDEN = re.compile(r"\.(?P<name>.+?)\.(?:partial|old)-.+-\d+-\d+-[0-9a-f]{8}(?:\.[^.]*)?")


@contextmanager
def replacing(final: Path) -> Iterator[Path]:
    """A hidden path beside ``final`` to write one file into; renamed onto ``final`` when the block ends, removed
    when it fails, so that a reader sees the previous file or the new one, never half of one."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(final)
    partial = _hidden(final, "partial")
    try:
        yield partial
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with replacing(path) as partial:
        partial.write_bytes(data)
    return Path(path)


def write_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns ``path``."""
    return write_bytes(path, text.encode(encoding))


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """A new hidden folder to write the files of ``final`` into, published in its place as one unit when the block
    ends (replacing what is there), removed when it fails."""
    partial = staging_folder(final)
    try:
        yield partial
        publish(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def staging_folder(final: Path) -> Path:
    """A new hidden folder beside ``final`` to write the product into, after clearing abandoned ones."""
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(final)
    partial = _hidden(final, "partial")
    partial.mkdir()
    return partial


def publish(partial: Path, final: Path) -> None:
    """Put the complete ``partial`` folder in the place of ``final``, replacing what is there."""
    if not final.exists():
        partial.rename(final)
        return
    old = _hidden(final, "old")
    final.rename(old)
    partial.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def sweep_abandoned(final: Path) -> list[Path]:
    """Clear what writers of ``final`` left when they died mid-write; return what was cleared.

    A ``.partial-`` file or folder (never renamed into place, never indexed) is removed. An ``.old-`` folder (a
    product being replaced) is removed, or put back where ``final`` is missing because its writer died between
    the two renames. What is hidden is abandoned when its writer was a process of this host that no longer runs,
    or when it has not changed for ``ABANDONED_AFTER_S`` (a writer on another host cannot be asked).
    """
    cleared = []
    for hidden in sorted(final.parent.glob(f".{glob.escape(final.name)}.*-*")):
        kind, _, tag = hidden.name[len(final.name) + 2:].partition("-")
        tag = tag.removesuffix(final.suffix) if final.suffix else tag
        try:
            if kind not in ("partial", "old") or not _abandoned(hidden, tag):
                continue
            if kind == "old" and not final.exists():
                hidden.rename(final)
            elif hidden.is_dir():
                shutil.rmtree(hidden)
            else:
                hidden.unlink()
        except OSError:  # another writer cleared it or put the product back first
            continue
        cleared.append(hidden)
    return cleared


def sweep_folder(folder: Path) -> list[Path]:
    """Clear what dead writers left in ``folder``, whatever the name they were writing; return what was cleared."""
    names = {m["name"] for p in Path(folder).glob(".*") if (m := _HIDDEN.fullmatch(p.name))}
    return [cleared for name in sorted(names) for cleared in sweep_abandoned(Path(folder) / name)]


def _hidden(final: Path, kind: str) -> Path:
    return final.parent / f".{final.name}.{kind}-{_writer_tag()}{final.suffix}"


def _writer_tag() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{_start_centis(os.getpid())}-{uuid.uuid4().hex[:8]}"


def _abandoned(hidden: Path, tag: str) -> bool:
    stat = hidden.stat()
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
