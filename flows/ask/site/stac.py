"""Explorer's STAC answers with the served URLs of the files instead of the server's ``file://`` paths, each with
its size and SHA-256 (the STAC ``file`` extension: ``file:size``, ``file:checksum`` as a multihash)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.ask.site.files import FileFacts, file_url, local_path

FILE_EXTENSION = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
SHA256_MULTIHASH = "1220"


def rewrite(document: Any, *, base: str, facts: Callable[..., FileFacts]) -> Any:
    """Rewrite every Item of an Item, ItemCollection or page of them (in place; also returned); a catalogue's
    search link advertises POST too (explorer answers it, but says GET only, and clients warn)."""
    if isinstance(document, dict):
        _advertise_post(document)
        if document.get("type") == "Feature" and isinstance(document.get("assets"), dict):
            _rewrite_item(document, base=base, facts=facts)
        for feature in document.get("features") or ():
            if isinstance(feature, dict):
                rewrite(feature, base=base, facts=facts)
    return document


def _rewrite_item(item: dict, *, base: str, facts: Callable[..., FileFacts]) -> None:
    changed = False
    for asset in item["assets"].values():
        path = local_path(str(asset.get("href", "")))
        if path is None or not path.is_file():
            continue
        known = facts(path)
        asset["href"] = file_url(base=base, dataset_id=str(item["id"]), name=path.name)
        asset["file:size"] = known.size
        asset["file:checksum"] = SHA256_MULTIHASH + known.sha256
        changed = True
    if changed:
        extensions = item.setdefault("stac_extensions", [])
        if FILE_EXTENSION not in extensions:
            extensions.append(FILE_EXTENSION)


def _advertise_post(document: dict) -> None:
    links = document.get("links")
    if not isinstance(links, list):
        return
    searches = [link for link in links if isinstance(link, dict) and link.get("rel") == "search"]
    if searches and not any(link.get("method") == "POST" for link in searches):
        links.append({**searches[0], "method": "POST"})
