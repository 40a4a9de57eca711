"""The raster reader of every load: odc-loader's rasterio driver, reading a file's overview when the output is as
coarse as it within ``OVERVIEW_SCALE_TOLERANCE``.

odc-loader reads an overview only when the output pixel is at least the overview's factor times the file's pixel,
within 0.1 % (``odc.geo.overlap._pick_read_scale``). A Sentinel-2 10 m band loaded on the EEA grid at 20 m falls
just short of it: the two projections' scales differ by ~0.1-0.3 % over the Alps (a 20 m EPSG:3035 pixel is
1.998 UTM 10 m pixels), so the whole 10 m band was read and warped, four times the pixels of its 20 m overview
(Earth Search's COGs have one). Within 1 % the overview is read: its pixel is at most 1 % finer than the output's.

odc-loader takes the tolerance from that module-level function, with no setting for it; it is set here, when this
module is imported, and the driver below carries this module to every dask worker that reads (its reader objects
are pickled into the load's graph).
"""

from __future__ import annotations

import functools

import odc.geo.overlap
from odc.loader import RioDriver

OVERVIEW_SCALE_TOLERANCE = 0.01


def _set_tolerance() -> None:
    pick = odc.geo.overlap._pick_read_scale
    if not isinstance(pick, functools.partial):
        odc.geo.overlap._pick_read_scale = functools.partial(pick, tol=OVERVIEW_SCALE_TOLERANCE)


_set_tolerance()


class OverviewRioDriver(RioDriver):
    """odc-loader's rasterio driver; importing its module sets the overview tolerance where it reads."""
