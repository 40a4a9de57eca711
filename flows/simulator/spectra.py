"""Surface reflectance spectra of the simulated materials, in the 10 Sentinel-2 bands the world carries: the one
table of the simulator (the world and the yearly land-cover series read it).

The world carries the ten 10/20 m Sentinel-2 bands; the Landsat-8 OLI bands are taken from them
(coastal from blue, nir08 from B8A, swir16 from B11, swir22 from B12). Values are typical published
surface reflectances (green leaves, soil, straw, conifer needles, rock, sand, asphalt, water, snow, ice, clouds);
they make physical sense for the snow method: snow NDSI = (B03 - B11) / (B03 + B11) is ~0.7-0.9 with
red above 0.5, clouds are bright in the SWIR too (NDSI < 0.15), water is dark with a high NDSI but a red
far below 0.04 ... 0.2.
"""

from __future__ import annotations

import numpy as np

from products.sensors import MSI, OLI, S2_L2A, Band

BANDS = tuple(S2_L2A.measurement(b.name).aliases[0] for b in MSI)  # ESA's band ids, B02 ... B12, in MSI order
BAND_INDEX = {b: i for i, b in enumerate(BANDS)}
GREEN, RED, NIR, SWIR16 = (next(i for i, b in enumerate(MSI) if b.role == r) for r in ("green", "red", "nir", "swir16"))

_S = {
    #                B02    B03    B04    B05    B06    B07    B08    B8A    B11    B12
    "soil":        (0.070, 0.100, 0.130, 0.160, 0.190, 0.210, 0.230, 0.240, 0.310, 0.250),
    "litter":      (0.045, 0.065, 0.080, 0.110, 0.150, 0.175, 0.190, 0.200, 0.250, 0.180),
    "leaf":        (0.025, 0.065, 0.030, 0.110, 0.310, 0.410, 0.440, 0.450, 0.210, 0.100),
    "dry":         (0.080, 0.110, 0.140, 0.190, 0.230, 0.260, 0.280, 0.290, 0.380, 0.290),
    "conifer":     (0.020, 0.040, 0.022, 0.070, 0.180, 0.240, 0.260, 0.270, 0.120, 0.050),
    "shrub":       (0.030, 0.055, 0.045, 0.100, 0.220, 0.280, 0.300, 0.310, 0.220, 0.120),
    "flower":      (0.050, 0.160, 0.140, 0.220, 0.330, 0.400, 0.430, 0.440, 0.240, 0.120),
    "rock":        (0.130, 0.160, 0.190, 0.210, 0.220, 0.230, 0.240, 0.240, 0.290, 0.230),
    "urban":       (0.090, 0.110, 0.120, 0.140, 0.160, 0.170, 0.180, 0.190, 0.210, 0.180),
    "asphalt":     (0.070, 0.080, 0.090, 0.100, 0.100, 0.110, 0.110, 0.110, 0.120, 0.110),
    "sand":        (0.150, 0.200, 0.250, 0.280, 0.300, 0.310, 0.320, 0.330, 0.380, 0.320),
    "water":       (0.055, 0.050, 0.030, 0.022, 0.015, 0.012, 0.010, 0.009, 0.005, 0.003),
    "snow_fresh":  (0.920, 0.900, 0.870, 0.850, 0.830, 0.800, 0.770, 0.750, 0.140, 0.110),
    "snow_old":    (0.780, 0.770, 0.740, 0.700, 0.660, 0.610, 0.570, 0.550, 0.060, 0.045),
    "ice":         (0.420, 0.400, 0.350, 0.310, 0.270, 0.230, 0.200, 0.190, 0.030, 0.020),
    "cloud":       (0.620, 0.600, 0.600, 0.610, 0.620, 0.620, 0.630, 0.630, 0.500, 0.380),
    "cirrus":      (0.300, 0.290, 0.280, 0.280, 0.280, 0.280, 0.280, 0.280, 0.150, 0.100),
}
SPECTRA: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.float32) for k, v in _S.items()}

# share of direct light a cloud shadow removes, per band (diffuse sky light is bluer)
SHADOW_DEPTH = np.asarray((0.55, 0.60, 0.63, 0.64, 0.65, 0.65, 0.66, 0.66, 0.67, 0.67), dtype=np.float32)

# share of the light a pixel in a relief's cast shadow still gets, per band, as an L2A product that corrects slopes
# but not cast shadows records it: diffuse sky light only, strongly blue (Rayleigh), little in the NIR and SWIR.
# Shaded snow then has red below LIS's pass-2 0.04 while its blue stays well above its NIR (science.md A.3 step 5).
CAST_SHADOW_LIGHT = np.asarray((0.085, 0.055, 0.038, 0.030, 0.027, 0.025, 0.023, 0.022, 0.018, 0.017),
                               dtype=np.float32)



def _nearest_msi(band: Band) -> str:
    """The world's band nearest in wavelength to an OLI band."""
    return BANDS[min(range(len(MSI)), key=lambda i: abs(MSI[i].wavelength - band.wavelength))]


_OLI_GAIN = {"coastal": (0.92, 0.008)}  # the world has no 443 nm band: coastal is a darkened blue

# Landsat-8 OLI bands from the world's bands: (name, source band, gain, offset)
OLI_FROM_MSI = {b.name: (_nearest_msi(b), *_OLI_GAIN.get(b.name, (1.0, 0.0))) for b in OLI}


def ndsi(green: np.ndarray, swir: np.ndarray) -> np.ndarray:
    return (green - swir) / np.maximum(green + swir, 1e-6)
