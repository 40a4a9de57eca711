"""Quick-look pictures of loaded cubes: what a person wants to see before reading numbers."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

SCL_COLOURS = {
    0: ("no data", "#000000"), 1: ("saturated", "#ff0000"), 2: ("dark/shadow", "#2f2f2f"), 3: ("cloud shadow", "#643200"),
    4: ("vegetation", "#00a000"), 5: ("not vegetated", "#ffe65a"), 6: ("water", "#0000ff"), 7: ("unclassified", "#808080"),
    8: ("cloud medium", "#c0c0c0"), 9: ("cloud high", "#ffffff"), 10: ("thin cirrus", "#64c8ff"), 11: ("snow", "#ff96ff"),
}


def clearest_time(data: xr.Dataset, *, band: str = "red") -> int:
    """Index of the time step with the most valid pixels (and, with SCL, the fewest clouds)."""
    valid = data[band].notnull()
    if "scl" in data:
        valid = valid & ~data.scl.isin([0, 3, 8, 9, 10])
    return int(valid.sum(dim=("y", "x")).argmax().compute())


def true_colour(data: xr.Dataset, t: int) -> np.ndarray:
    """An RGB array in [0, 1], stretched between the 2nd and 98th percentiles of the scene."""
    rgb = np.stack([data[b].isel(time=t).values for b in ("red", "green", "blue")], axis=-1).astype("float32")
    finite = rgb[np.isfinite(rgb)]
    lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
    out = np.clip((rgb - lo) / max(hi - lo, 1e-6), 0, 1)
    return np.where(np.isfinite(out), out, 0)


def cube_quicklook(data: xr.Dataset, path: Path, *, title: str = "") -> Path:
    """True colour (and SCL classes when loaded) of the clearest time step, written as PNG."""
    t = clearest_time(data)
    day = np.datetime_as_string(data.time.values[t], unit="D")
    panels = 2 if "scl" in data else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 6), squeeze=False)
    extent = [float(data.x.min()), float(data.x.max()), float(data.y.min()), float(data.y.max())]
    axes[0, 0].imshow(true_colour(data, t), extent=extent)
    axes[0, 0].set_title(f"true colour {day}")
    if "scl" in data:
        cmap = ListedColormap([c for _, c in SCL_COLOURS.values()])
        im = axes[0, 1].imshow(data.scl.isel(time=t).values, cmap=cmap, vmin=-0.5, vmax=11.5, extent=extent, interpolation="nearest")
        bar = fig.colorbar(im, ax=axes[0, 1], ticks=list(SCL_COLOURS), fraction=0.046)
        bar.ax.set_yticklabels([name for name, _ in SCL_COLOURS.values()], fontsize=7)
        axes[0, 1].set_title(f"Sen2Cor SCL {day}")
    for ax in axes[0]:
        ax.set_xlabel("x EPSG:3035 (m)")
        ax.set_ylabel("y EPSG:3035 (m)")
        ax.ticklabel_format(style="plain")
        ax.tick_params(labelsize=7)
    fig.suptitle(title or f"{data.attrs.get('product', '')} on the EEA grid")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
