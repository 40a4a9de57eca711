"""Regularisation of a class map: remove patches smaller than a minimum mapping unit.

`sieve` works like GDAL's sieve filter: a connected patch of one class with fewer than `min_size`
pixels takes the class of its largest neighbouring patch; repeated until nothing changes. Pixels
that are nodata or outside `mask` are never changed and never absorb a patch. `regularise` is
iota2's two-stage scheme (science.md B.5): sieve inside each level-1 group (a patch can only merge
into a class of its own group), then sieve the whole map; each stage runs with 8- then 4-connectivity.
`sieve` works on numpy arrays; `sieve_blocks` on a dask-backed map, block by block with a halo.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from scipy import ndimage

from products.landcover.nomenclature import NODATA

_STRUCTURE = {4: ndimage.generate_binary_structure(2, 1), 8: ndimage.generate_binary_structure(2, 2)}
_SHIFTS = {4: ((0, 1), (1, 0)), 8: ((0, 1), (1, 0), (1, 1), (1, -1))}


def min_pixels(area_m2: float, pixel_size_m: float) -> int:
    """Minimum mapping unit in pixels (rounded up), e.g. 0.1 ha at 20 m -> 3 pixels."""
    return int(np.ceil(area_m2 / pixel_size_m**2))


def components(classes: np.ndarray, eligible: np.ndarray, *, connectivity: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Patch id per pixel (0 where not eligible) and each patch's class (index = patch id)."""
    labels = np.zeros(classes.shape, dtype=np.int64)
    patch_class = [0]
    for value in np.unique(classes[eligible]).tolist():
        lab, n = ndimage.label(eligible & (classes == value), structure=_STRUCTURE[connectivity])
        labels[lab > 0] = lab[lab > 0] + len(patch_class) - 1
        patch_class.extend([value] * n)
    return labels, np.asarray(patch_class, dtype=classes.dtype)


def _neighbour_pairs(labels: np.ndarray, connectivity: int) -> tuple[np.ndarray, np.ndarray]:
    """Patch ids of every pair of touching pixels from different patches, both ways."""
    rows, cols = labels.shape
    firsts, seconds = [], []
    for dy, dx in _SHIFTS[connectivity]:
        if dx >= 0:
            a, b = labels[: rows - dy, : cols - dx], labels[dy:, dx:]
        else:
            a, b = labels[: rows - dy, -dx:], labels[dy:, : cols + dx]
        keep = (a > 0) & (b > 0) & (a != b)
        firsts += [a[keep], b[keep]]
        seconds += [b[keep], a[keep]]
    return np.concatenate(firsts), np.concatenate(seconds)


def sieve(
    classes: np.ndarray,
    *,
    min_size: int,
    connectivity: int = 8,
    nodata: int = NODATA,
    mask: np.ndarray | None = None,
    max_iterations: int = 100,
) -> np.ndarray:
    """`classes` with every patch smaller than `min_size` pixels merged into its largest neighbour."""
    if connectivity not in (4, 8):
        raise ValueError("connectivity must be 4 or 8")
    out = np.array(classes, copy=True)
    if out.ndim != 2:
        raise ValueError(f"sieve works on 2-D maps, got shape {out.shape}")
    if min_size <= 1:
        return out
    eligible = out != nodata
    if mask is not None:
        eligible &= np.asarray(mask, dtype=bool)
    for _ in range(max_iterations):
        labels, patch_class = components(out, eligible, connectivity=connectivity)
        sizes = np.bincount(labels.ravel(), minlength=len(patch_class))
        sizes[0] = 0
        small = sizes < min_size
        small[0] = False
        if not small.any():
            break
        a, b = _neighbour_pairs(labels, connectivity)
        # a patch merges into a strictly "greater" neighbour (size, then id): no two patches swap
        take = small[a] & ((sizes[b] > sizes[a]) | ((sizes[b] == sizes[a]) & (b > a)))
        a, b = a[take], b[take]
        if a.size == 0:
            break
        order = np.lexsort((b, sizes[b], a))
        last = np.r_[a[order][1:] != a[order][:-1], True]
        target = np.arange(len(patch_class))
        target[a[order][last]] = b[order][last]
        out = np.where(eligible, patch_class[target[labels]], out)
    return out


def sieve_blocks(classes: xr.DataArray, *, min_size: int, nodata: int = NODATA) -> xr.DataArray:
    """`sieve` (8-connectivity) of a dask-backed (y, x) map, block by block, each block seen with a halo of
    2 x ``min_size`` pixels, so that memory follows the block size, not the map's.

    The patches removed are the whole map's: a patch smaller than ``min_size`` lies within the halo of every block
    it touches, and a neighbour that reaches beyond the halo has at least ``min_size`` pixels inside it. Where a
    small patch has several neighbours that large, the one it joins is the largest as seen inside the halo.
    """
    if min_size <= 1:
        return classes
    if not classes.chunks:
        return classes.copy(data=sieve(classes.values, min_size=min_size, nodata=nodata))
    return classes.copy(data=classes.data.map_overlap(sieve, depth=2 * min_size, boundary=nodata, dtype=classes.dtype,
                                                      min_size=min_size, nodata=nodata))


def regularise(
    classes: np.ndarray,
    *,
    groups: Mapping[int, int],
    umc1: int,
    umc2: int,
    nodata: int = NODATA,
) -> np.ndarray:
    """iota2 regularisation: sieve within each level-1 group at `umc1` pixels, then all at `umc2`.

    `groups` maps class code -> level-1 group code (e.g. from a `Nomenclature`:
    `dict(zip(nom.codes, nom.groups))`).
    """
    out = np.array(classes, copy=True)
    for group in sorted(set(groups.values())):
        members = [c for c, g in groups.items() if g == group]
        in_group = np.isin(out, members)
        if not in_group.any():
            continue
        for connectivity in (8, 4):
            out = sieve(out, min_size=umc1, connectivity=connectivity, nodata=nodata, mask=in_group)
    for connectivity in (8, 4):
        out = sieve(out, min_size=umc2, connectivity=connectivity, nodata=nodata)
    return out
