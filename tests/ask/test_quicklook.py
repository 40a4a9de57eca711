"""flows/ask/quicklook.py: the pictures are written where asked, as PNGs of the expected layout."""

import matplotlib.image as mpimg
import numpy as np
import xarray as xr

from flows.ask.quicklook import raster_map, snow_map


def _grid(values: np.ndarray) -> xr.DataArray:
    ny, nx = values.shape
    return xr.DataArray(values, dims=("y", "x"), coords={"y": 2_400_000 - 20.0 * np.arange(ny),
                                                         "x": 4_000_000 + 20.0 * np.arange(nx)})


def test_snow_map_and_raster_map_write_pngs_into_new_folders(tmp_path):
    codes = _grid(np.array([[0, 100, 205, 255]] * 4, dtype="uint8"))
    reflectance = xr.Dataset({b: _grid(np.full((4, 4), 0.3, dtype="float32")) for b in ("red", "green", "blue")})
    reflectance = reflectance.expand_dims(time=[np.datetime64("2024-01-10")])
    snow = snow_map(reflectance=reflectance, snow=codes, path=tmp_path / "a" / "snow.png", title="t")
    scd = raster_map(codes.astype("float32"), path=tmp_path / "b" / "scd.png", title="t", label="days")
    for path, width in ((snow, 12), (scd, None)):
        image = mpimg.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100
        if width:
            assert image.shape[1] == width * 110  # 12 in at 110 dpi: both panels side by side
