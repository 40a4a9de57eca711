"""One writer: only flows/storage/writer.py writes a COG, only flows/storage/atomic.py renames a file into place.

The source of flows/, products/, infra/ and bench/ is read with ``ast`` (never imported), so a new module that writes
its own COG or its own "temporary name, then rename" is found however it spells it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("flows", "products", "infra", "bench")
RENAMER = "flows/storage/atomic.py"
COG_WRITER = "flows/storage/writer.py"
_MOVES = {"os": {"replace", "rename", "renames"}, "shutil": {"move"}}


def renames(tree: ast.AST) -> Iterator[int]:
    """Lines that move a file: ``os.replace``/``os.rename``, ``shutil.move``, ``Path.rename``/``Path.replace``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name in _MOVES.get(node.module or "", ()) for a in node.names):
            yield node.lineno
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, name = node.func.value, node.func.attr
        if isinstance(owner, ast.Name) and owner.id in _MOVES:
            if name in _MOVES[owner.id]:
                yield node.lineno
        elif name in ("rename", "replace") and _one_path_argument(node):
            yield node.lineno


def _one_path_argument(call: ast.Call) -> bool:
    """``x.rename(target)``: one positional argument that is neither a literal (``str.replace("a", "b")``,
    ``DataArray.rename("valid")``, ``Dataset.rename({...})``) nor a keyword (``datetime.replace(tzinfo=...)``)."""
    if call.keywords or len(call.args) != 1:
        return False
    return not isinstance(call.args[0], (ast.Constant, ast.Dict, ast.DictComp, ast.JoinedStr))


def cog_writes(tree: ast.AST) -> Iterator[int]:
    """Lines that write a COG: ``driver="COG"`` as an argument or in a dict, any use of ``rasterio.shutil``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "driver" and _is_cog(node.value):
            yield node.value.lineno
        elif isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "driver" and _is_cog(v) for k, v in zip(node.keys, node.values)
        ):
            yield node.lineno
        elif isinstance(node, ast.Import) and any(a.name == "rasterio.shutil" for a in node.names):
            yield node.lineno
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "rasterio.shutil" or (node.module == "rasterio" and any(a.name == "shutil" for a in node.names))
        ):
            yield node.lineno


def _is_cog(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.upper() == "COG"


def found(root: Path, finder, *, allowed: str) -> list[str]:
    """``path:line`` of every hit of ``finder`` in the scanned source under ``root``, outside ``allowed``."""
    hits = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name != allowed:
                hits += [f"{name}:{line}" for line in finder(ast.parse(path.read_text(), filename=name))]
    return hits


def test_only_the_atomic_module_renames_files_into_place():
    assert found(ROOT, renames, allowed=RENAMER) == []


def test_only_the_writer_writes_a_cog():
    assert found(ROOT, cog_writes, allowed=COG_WRITER) == []


def test_the_allowed_modules_are_where_the_renames_and_the_cog_copy_are():
    assert list(renames(ast.parse((ROOT / RENAMER).read_text())))
    assert list(cog_writes(ast.parse((ROOT / COG_WRITER).read_text())))


def test_every_spelling_of_a_rename_or_a_cog_write_is_found_and_lookalikes_are_not():
    moves = """
import os, shutil
from os import replace
os.replace(tmp, path)
os.rename(tmp, path)
shutil.move(tmp, path)
partial.rename(final)
partial.replace(cached)
"""
    cogs = """
import rasterio.shutil
from rasterio import shutil
rasterio.open(path, "w", driver="COG")
OPTIONS = {"driver": "cog", "compress": "DEFLATE"}
"""
    lookalikes = """
import shutil
shutil.rmtree(folder)
text.replace("_", " ")
when.replace(tzinfo=None)
band.rename("valid")
series.rename({"core": "time"})
cube.rename({old: new for old, new in names})
frame.rename(columns={"a": "b"})
name.replace(f"{old}", "")
rasterio.open(path, "w", driver="GTiff")
"""
    assert len(list(renames(ast.parse(moves)))) == 6
    assert len(list(cog_writes(ast.parse(cogs)))) == 4
    assert list(renames(ast.parse(lookalikes))) == [] and list(cog_writes(ast.parse(lookalikes))) == []
