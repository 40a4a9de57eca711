"""Land-cover nomenclatures and class mappings, read from the data files in `nomenclatures/`.

A `Nomenclature` is a list of classes (code, name, map colour, level-1 group). A nomenclature
with a `parent` is a *level* of that parent: each of its classes lists the parent codes it merges
(`members`), e.g. the near-real-time March level of OSO 23. A `ClassMapping` translates source
codes (RPG crop codes, Corine codes, another nomenclature's codes) to a target nomenclature;
a code mapped to `None` is known and deliberately excluded, a code absent from the table is
unmapped, and the two are reported apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from products.errors import BadInputError

DATA_DIR = Path(__file__).parent / "nomenclatures"
MAPPINGS_DIR = DATA_DIR / "mappings"
NODATA = 0


class UnmappedCodeError(BadInputError):
    """Codes met in the data that a mapping does not know."""

    def __init__(self, mapping: str, codes: Iterable[object]):
        self.mapping = mapping
        self.codes = tuple(sorted({str(c) for c in codes}))
        super().__init__(f"mapping {mapping!r} does not know code(s): {', '.join(self.codes)}")

    def __str__(self) -> str:
        return self.args[0]


class UnknownClassError(BadInputError):
    """A class code that a nomenclature does not have."""


@dataclass(frozen=True)
class Nomenclature:
    """Classes of a land-cover map; parallel tuples, one entry per class."""

    name: str
    title: str
    codes: tuple[int, ...]
    names: tuple[str, ...]
    colours: tuple[str, ...]
    groups: tuple[int, ...]
    group_names: Mapping[int, str] = field(default_factory=dict)
    group_colours: Mapping[int, str] = field(default_factory=dict)
    parent: str | None = None
    members: tuple[tuple[int, ...], ...] = ()
    dropped: tuple[int, ...] = ()
    nodata: int = NODATA
    undecided: int = 255

    def __post_init__(self) -> None:
        n = len(self.codes)
        if len(set(self.codes)) != n:
            raise ValueError(f"nomenclature {self.name!r} repeats a class code")
        if not (len(self.names) == len(self.colours) == len(self.groups) == n):
            raise ValueError(f"nomenclature {self.name!r}: codes, names, colours, groups differ in length")
        if self.nodata in self.codes:
            raise ValueError(f"nomenclature {self.name!r}: nodata {self.nodata} is also a class code")

    def __len__(self) -> int:
        return len(self.codes)

    def name_of(self, code: int) -> str:
        return self.names[self._index(code)]

    def colour_of(self, code: int) -> str:
        return self.colours[self._index(code)]

    def group_of(self, code: int) -> int:
        return self.groups[self._index(code)]

    def labels(self) -> dict[int, str]:
        return dict(zip(self.codes, self.names))

    @property
    def base(self) -> str:
        """The nomenclature whose classes this one groups: a level's parent, else itself (e.g. oso23)."""
        return self.parent or self.name

    def class_members(self) -> dict[int, tuple[int, ...]]:
        """Each class's codes in `base`; a class of a nomenclature that is no level is its own one member."""
        return dict(zip(self.codes, self.members or tuple((c,) for c in self.codes)))

    def _index(self, code: int) -> int:
        try:
            return self.codes.index(int(code))
        except ValueError:
            raise UnknownClassError(f"class {code} is not in nomenclature {self.name!r}") from None


@dataclass(frozen=True)
class ClassMapping:
    """Source code -> target class code (`None`: deliberately excluded); keys are strings."""

    name: str
    target: str
    table: Mapping[str, int | None]
    source: str = ""
    column: str | None = None
    source_names: Mapping[str, str] = field(default_factory=dict)
    fallback: ClassMapping | None = None
    aliases: tuple[str, ...] = ()  # other names of `column` (e.g. `oso23` for `code`)

    def chain(self) -> tuple[ClassMapping, ...]:
        return (self,) + (self.fallback.chain() if self.fallback else ())

    def column_in(self, columns: Iterable[str]) -> str | None:
        """The name under which `columns` hold this mapping's column (any case, or an alias), else None."""
        by_lower = {str(c).lower(): str(c) for c in columns}
        return next((by_lower[n.lower()] for n in (self.column, *self.aliases) if n and n.lower() in by_lower), None)

    def knows(self, code: object) -> bool:
        return _key(code) in self.table

    def lookup(self, code: object) -> int | None:
        """Target code, `None` if excluded; raises `UnmappedCodeError` if the code is unknown."""
        try:
            return self.table[_key(code)]
        except KeyError:
            raise UnmappedCodeError(self.name, [code]) from None

    def as_dict(self) -> dict[int, int | None]:
        """Integer-keyed table, for label rasters."""
        return {int(k): v for k, v in self.table.items()}


def _key(code: object) -> str:
    if isinstance(code, (float, np.floating)) and float(code).is_integer():
        code = int(code)
    return str(code).strip()


@cache
def load_nomenclature(name: str) -> Nomenclature:
    """Nomenclature `name` from `nomenclatures/<name>.yaml` (`oso17`, `oso23`, `nrt_march`, ...)."""
    doc = _read_yaml(DATA_DIR / f"{name}.yaml", what="nomenclature")
    classes = doc["classes"]
    groups = doc.get("groups")
    if groups is None and doc.get("parent"):
        parent = load_nomenclature(doc["parent"])
        group_names, group_colours = parent.group_names, parent.group_colours
    else:
        group_names = {g["code"]: g["name"] for g in groups or ()}
        group_colours = {g["code"]: g["colour"] for g in groups or ()}
    return Nomenclature(
        name=doc["name"],
        title=doc.get("title", doc["name"]),
        codes=tuple(int(c["code"]) for c in classes),
        names=tuple(c["name"] for c in classes),
        colours=tuple(c["colour"] for c in classes),
        groups=tuple(int(c.get("group") or 0) for c in classes),
        group_names=dict(group_names),
        group_colours=dict(group_colours),
        parent=doc.get("parent"),
        members=tuple(tuple(int(m) for m in c["members"]) for c in classes) if doc.get("parent") else (),
        dropped=tuple(int(c) for c in doc.get("dropped", ())),
        nodata=int(doc.get("nodata", NODATA)),
        undecided=int(doc.get("undecided", 255)),
    )


@cache
def load_mapping(name: str) -> ClassMapping:
    """Class mapping `name` from `nomenclatures/mappings/<name>.yaml`, with its fallback chain."""
    doc = _read_yaml(MAPPINGS_DIR / f"{name}.yaml", what="mapping")
    table: dict[str, int | None] = {}
    names: dict[str, str] = {}
    for code, entry in doc["table"].items():
        entry = entry if isinstance(entry, dict) else {"to": entry}
        table[_key(code)] = None if entry.get("to") is None else int(entry["to"])
        if "name" in entry:
            names[_key(code)] = str(entry["name"])
    target = load_nomenclature(doc["target"])
    wrong = {k: v for k, v in table.items() if v is not None and v not in target.codes}
    if wrong:
        raise ValueError(f"mapping {name!r} maps to codes outside {target.name!r}: {wrong}")
    return ClassMapping(
        name=doc["name"],
        target=doc["target"],
        table=dict(table),
        source=doc.get("source", ""),
        column=doc.get("column"),
        source_names=dict(names),
        fallback=load_mapping(doc["fallback"]) if doc.get("fallback") else None,
        aliases=tuple(doc.get("aliases", ())),
    )


def mapping_for_columns(columns: Iterable[str], *, what: str = "the reference") -> str:
    """The shipped mapping that reads one of `columns`, when exactly one does (a mapping that is only another's
    fallback, as RPG crop groups behind crop codes, does not count apart); refused when none or several do."""
    columns = list(columns)
    found = [m for m in (load_mapping(n) for n in available("mapping")) if m.column_in(columns)]
    fallbacks = {f.name for m in found for f in m.chain()[1:]}
    found = [m for m in found if m.name not in fallbacks]
    if len(found) == 1:
        return found[0].name
    if not found:
        readable = sorted({f"{m.column} ({m.name})" for m in map(load_mapping, available("mapping")) if m.column})
        raise BadInputError(f"{what} has no class column a shipped mapping reads ({', '.join(readable)}); its columns: "
                            f"{', '.join(columns)}; give the mapping and the column")
    raise BadInputError(f"{what} has class columns of several mappings ("
                        + ", ".join(f"{m.column_in(columns)}: {m.name}" for m in found) + "); choose one mapping")


def available(kind: str = "nomenclature") -> tuple[str, ...]:
    """Names of the shipped nomenclatures (`kind="nomenclature"`) or mappings (`"mapping"`)."""
    folder = DATA_DIR if kind == "nomenclature" else MAPPINGS_DIR
    return tuple(sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "key_dates"))


def _read_yaml(path: Path, *, what: str) -> dict:
    if not path.exists():
        names = ", ".join(available("nomenclature" if what == "nomenclature" else "mapping"))
        raise BadInputError(f"no {what} {path.stem!r} (shipped: {names})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def remap(
    labels: np.ndarray | xr.DataArray,
    mapping: ClassMapping | Mapping[int, int | None],
    *,
    nodata: int = NODATA,
    unmapped: str = "raise",
) -> np.ndarray | xr.DataArray:
    """Translate integer class codes through `mapping`; excluded codes and `nodata` become `nodata`.

    `unmapped="raise"` fails on a code the mapping does not know; `"nodata"` sets it to nodata.
    Works on numpy arrays and (dask-backed) DataArrays.
    """
    table = mapping.as_dict() if isinstance(mapping, ClassMapping) else dict(mapping)
    name = mapping.name if isinstance(mapping, ClassMapping) else "mapping"
    if unmapped not in ("raise", "nodata"):
        raise ValueError("unmapped must be 'raise' or 'nodata'")
    if isinstance(labels, xr.DataArray):
        return xr.apply_ufunc(
            _remap_array, labels, kwargs=dict(table=table, nodata=nodata, unmapped=unmapped, name=name),
            dask="parallelized", output_dtypes=[_dtype_for(table, nodata)],
        )
    return _remap_array(np.asarray(labels), table=table, nodata=nodata, unmapped=unmapped, name=name)


def _dtype_for(table: Mapping[int, int | None], nodata: int) -> np.dtype:
    values = [v for v in table.values() if v is not None] + [nodata]
    return np.dtype(np.uint8 if min(values) >= 0 and max(values) <= 255 else np.int32)


def _remap_array(labels: np.ndarray, *, table: Mapping[int, int | None], nodata: int, unmapped: str, name: str) -> np.ndarray:
    values, inverse = np.unique(labels, return_inverse=True)
    out = np.full(values.shape, nodata, dtype=_dtype_for(table, nodata))
    missing = []
    for i, v in enumerate(values.tolist()):
        if v == nodata and v not in table:
            continue
        if v in table:
            out[i] = nodata if table[v] is None else table[v]
        else:
            missing.append(v)
    if missing and unmapped == "raise":
        raise UnmappedCodeError(name, missing)
    return out[inverse].reshape(labels.shape)


def level_mapping(level: Nomenclature | str) -> ClassMapping:
    """Parent code -> level code for a level nomenclature (one with `parent` and `members`)."""
    level = load_nomenclature(level) if isinstance(level, str) else level
    if level.parent is None:
        raise ValueError(f"nomenclature {level.name!r} is not a level of another nomenclature")
    return members_mapping(level.class_members(), base=level.parent, target=level.name, dropped=level.dropped)


def members_mapping(members: Mapping[int | str, Sequence[int]], *, base: str, target: str,
                    dropped: Sequence[int] = ()) -> ClassMapping:
    """Base code -> class code from each class's members (as a level's YAML or a dataset's metadata records them)."""
    table: dict[str, int | None] = {str(m): int(code) for code, ms in members.items() for m in ms}
    table.update({str(m): None for m in dropped})
    return ClassMapping(name=f"{base}_to_{target}", target=target, table=table, source=base)


def to_level(labels: np.ndarray | xr.DataArray, level: Nomenclature | str, *, nodata: int = NODATA) -> np.ndarray | xr.DataArray:
    """Labels of a parent nomenclature expressed in one of its levels (e.g. OSO 23 -> `nrt_march`)."""
    return remap(labels, level_mapping(level), nodata=nodata)


def merge(
    nomenclature: Nomenclature,
    merges: Mapping[int, Sequence[int]],
    *,
    drop: Sequence[int] = (),
    name: str | None = None,
    names: Mapping[int, str] | None = None,
) -> Nomenclature:
    """A level of `nomenclature`: each key of `merges` becomes a class made of the listed codes.

    Codes neither merged nor dropped are kept as they are. The new class takes the name given in
    `names`, or the members' names joined with "+", and the colour and group of its first member.
    """
    merged = {m for ms in merges.values() for m in ms}
    unknown = (merged | set(drop)) - set(nomenclature.codes)
    if unknown:
        raise UnknownClassError(f"codes {sorted(unknown)} are not in nomenclature {nomenclature.name!r}")
    if merged & set(drop):
        raise ValueError(f"codes {sorted(merged & set(drop))} are both merged and dropped")
    entries: list[tuple[int, str, str, int, tuple[int, ...]]] = []
    for code, cname, colour, group in zip(nomenclature.codes, nomenclature.names, nomenclature.colours, nomenclature.groups):
        if code in drop:
            continue
        target = next((k for k, ms in merges.items() if code in ms), None)
        if target is None:
            entries.append((code, cname, colour, group, (code,)))
        elif not any(e[0] == target for e in entries):
            members = tuple(merges[target])
            label = (names or {}).get(target) or "+".join(nomenclature.name_of(m) for m in members)
            entries.append((target, label, nomenclature.colour_of(members[0]), nomenclature.group_of(members[0]), members))
    return Nomenclature(
        name=name or f"{nomenclature.name}_merged",
        title=f"{nomenclature.title}, merged",
        codes=tuple(e[0] for e in entries),
        names=tuple(e[1] for e in entries),
        colours=tuple(e[2] for e in entries),
        groups=tuple(e[3] for e in entries),
        group_names=nomenclature.group_names,
        group_colours=nomenclature.group_colours,
        parent=nomenclature.name,
        members=tuple(e[4] for e in entries),
        dropped=tuple(drop),
        nodata=nomenclature.nodata,
        undecided=nomenclature.undecided,
    )


def level1(nomenclature: Nomenclature | str) -> Nomenclature:
    """The level-1 groups of a nomenclature (urban, annual crops, ... water) as a level of it."""
    nom = load_nomenclature(nomenclature) if isinstance(nomenclature, str) else nomenclature
    group_codes = tuple(dict.fromkeys(g for g in nom.groups if g))
    return Nomenclature(
        name=f"{nom.name}_level1",
        title=f"{nom.title}, level 1",
        codes=group_codes,
        names=tuple(nom.group_names.get(g, str(g)) for g in group_codes),
        colours=tuple(nom.group_colours.get(g, "#808080") for g in group_codes),
        groups=group_codes,
        parent=nom.name,
        members=tuple(tuple(c for c, g in zip(nom.codes, nom.groups) if g == grp) for grp in group_codes),
        nodata=nom.nodata,
        undecided=nom.undecided,
    )
