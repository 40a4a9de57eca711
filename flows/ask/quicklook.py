"""Quick-look pictures of loaded cubes: what a person wants to see before reading numbers."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from flows.storage.atomic import replacing  # noqa: E402
from products.sensors import SCL  # noqa: E402


def save_figure(fig, path: str | Path) -> Path:
    """Lay ``fig`` out, write it as a 110 dpi PNG atomically (making the folder) and close it: every picture ends here."""
    path = Path(path)
    fig.tight_layout()
    with replacing(path) as partial:
        fig.savefig(partial, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


_SCL_PALETTE = ("#000000", "#ff0000", "#2f2f2f", "#643200", "#00a000", "#ffe65a", "#0000ff", "#808080", "#c0c0c0",
                "#ffffff", "#64c8ff", "#ff96ff")  # by SCL code, 0 to 11
SCL_COLOURS = {code: (str(name).replace("_", " "), _SCL_PALETTE[code]) for code, name in SCL.flag("scl").values.items()}
"""Sen2Cor's SCL classes (codes and names from the sensor table) with the colours of its own quick-looks."""


def clearest_time(data: xr.Dataset, *, band: str = "red") -> int:
    """Index of the time step with the most valid pixels (and, with SCL, the fewest clouds)."""
    valid = data[band].notnull()
    if "scl" in data:
        valid = valid & ~data.scl.isin([*SCL.codes("nodata"), *SCL.codes("all_cloud")])
    return int(valid.sum(dim=("y", "x")).argmax(dim="time").compute())


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
    return save_figure(fig, path)


SNOW_COLOURS = ListedColormap(["#6b8e23", "#ffffff", "#7f7f7f", "#000000"])


def snow_map(*, reflectance: xr.Dataset, snow: xr.DataArray, path: Path, title: str) -> Path:
    """True colour beside the snow codes (0 no snow, 100 snow, 205 cloud, 255 nodata) of the same day."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    extent = [float(snow.x.min()), float(snow.x.max()), float(snow.y.min()), float(snow.y.max())]
    axes[0].imshow(true_colour(reflectance, 0), extent=extent)
    axes[0].set_title("true colour")
    classes = np.select([snow == 0, snow == 100, snow == 205], [0, 1, 2], 3)
    axes[1].imshow(classes, cmap=SNOW_COLOURS, vmin=-0.5, vmax=3.5, extent=extent, interpolation="nearest")
    axes[1].set_title("snow (white), no snow (green), cloud (grey), no data (black)")
    for ax in axes:
        ax.ticklabel_format(style="plain")
        ax.tick_params(labelsize=7)
    fig.suptitle(title)
    return save_figure(fig, path)


def season_plot(*, table, path: Path, title: str) -> Path:
    """Snow-covered share of clear pixels and snow line elevation zs through a season, by sensor.

    ``table``: a pandas DataFrame with columns date, sensor, snow_percent, cloud_percent, zs (m; < 0 = none).
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for sensor, marker in (("s2", "o"), ("l8", "s")):
        rows = table[table.sensor == sensor].sort_values("date")
        if rows.empty:
            continue
        clear_share = (100 - rows.cloud_percent).clip(lower=1e-9)
        top.plot(rows.date, 100 * rows.snow_percent / clear_share, marker=marker, label=f"{sensor} snow / clear pixels")
        found = rows[rows.zs > -1000]
        bottom.plot(found.date, found.zs, marker=marker, linestyle="-", label=f"{sensor} zs")
    top.set_ylabel("snow-covered share of clear pixels (%)")
    bottom.set_ylabel("snow line elevation zs (m)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.autofmt_xdate()
    return save_figure(fig, path)


def raster_map(data: xr.DataArray, *, path: Path, title: str, label: str, cmap: str = "viridis") -> Path:
    fig, ax = plt.subplots(figsize=(7, 6))
    extent = [float(data.x.min()), float(data.x.max()), float(data.y.min()), float(data.y.max())]
    im = ax.imshow(data.values, extent=extent, cmap=cmap, interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label, fraction=0.046)
    ax.set_title(title)
    ax.ticklabel_format(style="plain")
    ax.tick_params(labelsize=7)
    return save_figure(fig, path)


def describe_cube(data) -> str:
    """A few lines on a loaded cube: grid, time steps, and per band the valid share and mean."""
    if not data.sizes.get("time", 0):
        return "no datasets match this query"
    lines = [
        f"{data.attrs.get('product')}: {data.sizes['time']} time step(s) x {data.sizes['y']} x {data.sizes['x']} "
        f"pixels on {data.attrs.get('crs')} ({abs(float(data.x[1] - data.x[0])):g} m)",
        "  days: " + ", ".join(str(t)[:10] for t in data.time.values[:8]) + (" ..." if data.sizes["time"] > 8 else ""),
    ]
    for name, band in data.data_vars.items():
        if band.dtype.kind == "f":
            valid = float(band.notnull().mean())
            lines.append(f"  {name:9s} valid {valid:6.1%}  mean {float(band.mean()):.4f}")
        else:
            values, counts = (x.tolist() for x in np.unique(band.values, return_counts=True))
            top = sorted(zip(counts, values), reverse=True)[:6]
            lines.append(f"  {name:9s} codes " + ", ".join(f"{v}:{c}" for c, v in top))
    return "\n".join(lines)
