import numpy as np
from scipy import ndimage

import xarray as xr

from products.landcover.sieve import min_pixels, regularise, sieve, sieve_blocks


def _smallest_patch(classes, connectivity=8):
    structure = np.ones((3, 3)) if connectivity == 8 else None
    sizes = []
    for value in np.unique(classes):
        lab, _ = ndimage.label(classes == value, structure=structure)
        sizes.append(np.bincount(lab.ravel())[1:].min())
    return min(sizes)


def test_small_patches_take_the_class_of_their_largest_neighbour():
    classes = np.ones((8, 8), dtype=np.uint8)
    classes[:, 5:] = 2
    classes[2, 2] = 3
    classes[6:8, 4:6] = 4
    out = sieve(classes, min_size=5)
    assert out[2, 2] == 1
    assert (out[6:8, 4] == 1).all() and (out[6:8, 5] == 1).all()
    assert (sieve(classes, min_size=4)[6:8, 4:6] == 4).all()


def test_no_patch_below_the_threshold_remains_on_noise():
    noise = np.random.default_rng(0).integers(1, 5, size=(80, 90))
    out = sieve(noise, min_size=12)
    assert _smallest_patch(out) >= 12


def test_nodata_and_masked_pixels_are_never_changed_nor_absorb():
    classes = np.array([[1, 1, 1, 0], [1, 2, 1, 0], [1, 1, 1, 0]])
    out = sieve(classes, min_size=3)
    assert out[1, 1] == 1 and (out[:, 3] == 0).all()
    mask = np.ones_like(classes, dtype=bool)
    mask[1, 1] = False
    assert sieve(classes, min_size=3, mask=mask)[1, 1] == 2


def test_connectivity_changes_what_is_a_patch():
    classes = np.ones((5, 5), dtype=int)
    classes[1, 1] = classes[2, 2] = classes[3, 3] = 2
    assert (sieve(classes, min_size=3, connectivity=8) == classes).all()
    assert (sieve(classes, min_size=3, connectivity=4) == 1).all()


def test_regularise_first_merges_within_level1_groups():
    groups = {1: 100, 2: 100, 16: 130, 17: 130}
    classes = np.full((6, 6), 16)
    classes[:, :3] = 1
    classes[2, 2] = 2
    classes[3, 3] = 17
    out = regularise(classes, groups=groups, umc1=3, umc2=3)
    assert out[2, 2] == 1 and out[3, 3] == 16
    assert min_pixels(1000, 20) == 3


def test_sieving_block_by_block_removes_the_same_patches_as_the_whole_map():
    """Parcels with 5 % speckle, sieved in 100 px blocks with their halo: the same pixels change as when the whole map
    is sieved at once, no patch is left under the unit, and nodata stays; only a few pixels join another of their
    large neighbours."""
    rng = np.random.default_rng(0)
    parcels = np.repeat(np.repeat(rng.integers(1, 6, (15, 15)), 20, 0), 20, 1).astype(np.uint8)
    speckle = rng.random(parcels.shape) < 0.05
    classes = parcels.copy()
    classes[speckle] = rng.integers(1, 6, int(speckle.sum()))
    classes[:12] = 0
    whole = sieve(classes, min_size=6, nodata=0)
    blocks = sieve_blocks(xr.DataArray(classes, dims=("y", "x")).chunk(100), min_size=6, nodata=0).values
    assert ((blocks != classes) == (whole != classes)).all() and (whole != classes).mean() > 0.02
    assert _smallest_patch(blocks[12:]) >= 6 and (blocks[:12] == 0).all()
    assert (blocks == whole).mean() > 0.999
