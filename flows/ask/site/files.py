"""A dataset's files by URL: ``/files/<dataset id>/<file name>``, only the files the index lists for that dataset.

A URL names a dataset and one of its own files, never a path of the server's disk, so nothing outside the
indexed files can be reached ("../" or an absolute path is simply not a file of the dataset). Served by werkzeug
with ranges (206), ``ETag`` and ``Last-Modified``, so GDAL's /vsicurl/, QGIS and odc-stac read a COG piecewise.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse
from urllib.request import url2pathname

PREFIX = "/files/"
_CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class FileFacts:
    """What a download list or a STAC asset says of a file."""

    size: int
    sha256: str


def local_path(url: str) -> Path | None:
    """The local file of a ``file://`` URL, else None."""
    parsed = urlparse(url)
    return Path(url2pathname(parsed.path)) if parsed.scheme == "file" else None


def file_url(*, base: str, dataset_id: str, name: str) -> str:
    """The served URL of one file of a dataset."""
    return f"{base.rstrip('/')}{PREFIX}{dataset_id}/{quote(name)}"


def signed_link(*, base: str, signer):
    """``link(dataset=, path=)`` for `catalogue.metalink`: a file's served URL, signed to expire (no session needed)."""

    def link(*, dataset, path: Path) -> str:
        query = signer.link_query(f"{PREFIX}{dataset.id}/{path.name}")
        return f"{file_url(base=base, dataset_id=str(dataset.id), name=path.name)}?{query}"

    return link


class Checksums:
    """SHA-256 of files, computed once per (path, size, mtime): a file rewritten in place is hashed again."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], FileFacts] = {}
        self._lock = threading.Lock()

    def facts(self, path: Path) -> FileFacts:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
        if known:
            return known
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        facts = FileFacts(size=stat.st_size, sha256=digest.hexdigest())
        with self._lock:
            self._known[key] = facts
        return facts


def dataset_file(dc, *, dataset_id: str, name: str) -> Path | None:
    """The local file ``name`` of dataset ``dataset_id`` if the index lists it (a measurement or its metadata)."""
    from flows.ask.catalogue import dataset_files

    try:
        ds_id = uuid.UUID(dataset_id)
    except ValueError:
        return None
    dataset = dc.index.datasets.get(ds_id)
    if dataset is None:
        return None
    for url in dataset_files(dataset).values():
        path = local_path(url)
        if path is not None and path.name == name and path.is_file():
            return path
    return None
