"""A dataset's quick-look thumbnail for the search page: its first measurement read from the COG's overviews at a
few dozen pixels (GDAL picks the overview; nothing is read whole), stretched to grey, no data transparent."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

SIDE = 72


def thumbnail_png(path: Path, *, side: int = SIDE) -> bytes:
    import rasterio
    from PIL import Image

    with rasterio.open(path) as src:
        scale = side / max(src.width, src.height)
        shape = (max(1, round(src.height * scale)), max(1, round(src.width * scale)))
        band = src.read(1, out_shape=shape, masked=True)
    values = band.astype("float64").filled(np.nan)
    valid = np.isfinite(values)
    low, high = (np.nanpercentile(values, (2, 98)) if valid.any() else (0.0, 1.0))
    grey = np.clip((np.nan_to_num(values, nan=low) - low) / ((high - low) or 1.0) * 255, 0, 255).astype("uint8")
    rgba = np.dstack([grey, grey, grey, np.where(valid, 255, 0).astype("uint8")])
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return out.getvalue()
