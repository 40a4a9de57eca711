"""Pixel codes and bit values of the LIS snow products.

Two numbering conventions are published and both are kept here as *values*:

- The LIS_SNOW_ALL layer (``snow_bits``) numbers its bits from 1, as in the LIS README:
  "bit 1" is the value 1, "bit 2" the value 2, "bit 3" the value 4, and so on.
- The FSC QCFLAGS layer numbers its bits from 0, as in LIS ``qc_flags.py``:
  "bit 0" is the value 1, "bit 1" the value 2, and so on.
"""

from enum import IntFlag

NO_SNOW = 0
SNOW = 100
CLOUD = 205
NODATA_LEGACY = 254
NODATA = 255
NO_OBSERVATION = 205
"""snow_daily: no clear observation in the window (cloud throughout it), the value snow_cover gives cloud."""

LIS_NO_ZS = -1000.0
"""What LIS 1.11 writes as ZS in its metadata when no snowline was found (this package uses NaN)."""


class SnowBit(IntFlag):
    """Values of the ``snow_bits`` layer (LIS_SNOW_ALL); published bit n has the value 2**(n-1)."""

    PASS1_SNOW = 1
    PASS2_SNOW = 2
    CLOUD_PASS1 = 4
    CLOUD_REFINE = 8
    ALL_CLOUD = 16
    BAD_SLOPE = 32
    SHADED_SNOW = 64  # snowland's: snow that only the shaded-snow test (LIS 1.10+) found


class QcFlag(IntFlag):
    """Values of the FSC QCFLAGS layer; published bit n has the value 2**n."""

    SUN_TOO_LOW = 1
    SUN_TANGENT = 2
    WATER = 4
    TCD_ABOVE_90 = 8
    SNOW_UNDER_THIN_CLOUD = 16
    TCD_UNDEFINED = 32
    SHADED_SNOW = 64
