"""FSC quality: QCFLAGS bits and the QCTOC / QCOG scores."""

import numpy as np
import pytest
import xarray as xr

from products.snow.codes import CLOUD, NODATA, QcFlag
from products.snow.qc_flags import qc_flags, qc_og, qc_toc


def row(values, dtype):
    return xr.DataArray(np.array([values], dtype=dtype), dims=("y", "x"))


def test_qc_flag_bits():
    fsc = row([50, 50, 0, CLOUD, 50, 50, 50], "u1")
    all_cloud = row([True, False, True, True, False, False, False], bool)
    water = row([False, False, False, False, True, False, False], bool)
    tcd = row([0, 95, 91, 255, 90, np.nan, 100], "f4")
    sun_too_low = row([False, False, False, False, False, True, False], bool)
    sun_tangent = row([False, False, False, False, False, False, True], bool)
    flags = qc_flags(
        fsc_toc=fsc, all_cloud=all_cloud, water=water, tcd=tcd, sun_too_low=sun_too_low, sun_tangent=sun_tangent
    )
    assert flags.dtype == np.uint8
    assert flags.values[0].tolist() == [
        QcFlag.SNOW_UNDER_THIN_CLOUD,
        QcFlag.TCD_ABOVE_90,
        QcFlag.TCD_ABOVE_90,
        QcFlag.TCD_UNDEFINED,
        QcFlag.WATER,
        QcFlag.SUN_TOO_LOW | QcFlag.TCD_UNDEFINED,
        QcFlag.SUN_TANGENT | QcFlag.TCD_ABOVE_90,
    ]
    assert [int(flag) for flag in QcFlag] == [1, 2, 4, 8, 16, 32, 64]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (0, 0),
        (QcFlag.SUN_TANGENT, 1),
        (QcFlag.SNOW_UNDER_THIN_CLOUD, 1),
        (QcFlag.SUN_TOO_LOW, 2),
        (QcFlag.SNOW_UNDER_THIN_CLOUD | QcFlag.WATER, 2),
        (QcFlag.SUN_TANGENT | QcFlag.SUN_TOO_LOW, 3),
        (QcFlag.SHADED_SNOW, 3),
        (QcFlag.TCD_ABOVE_90 | QcFlag.TCD_UNDEFINED, 0),
    ],
)
def test_qctoc_score(flags, expected):
    assert qc_toc(fsc_toc=row([60], "u1"), flags=row([flags], "u1")).values[0, 0] == expected


def test_qc_scores_pass_cloud_and_nodata_through():
    fsc = row([CLOUD, NODATA, 254, 0], "u1")
    flags = row([0, 0, 0, 0], "u1")
    assert qc_toc(fsc_toc=fsc, flags=flags).values[0].tolist() == [CLOUD, NODATA, 254, 0]
    assert qc_og(fsc_og=fsc, flags=flags, tcd=row([0, 0, 0, 0], "u1")).values[0].tolist() == [CLOUD, NODATA, 254, 0]


@pytest.mark.parametrize(
    ("tcd", "flags", "expected"),
    [(0, 0, 0), (50, 0, 1), (100, 0, 3), (255, 0, 0), (50, QcFlag.SHADED_SNOW, 1), (25, QcFlag.SUN_TANGENT, 2)],
)
def test_qcog_uses_tree_cover_in_place_of_shaded_snow(tcd, flags, expected):
    assert qc_og(fsc_og=row([60], "u1"), flags=row([flags], "u1"), tcd=row([tcd], "u1")).values[0, 0] == expected
