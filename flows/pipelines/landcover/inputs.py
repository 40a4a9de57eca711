"""What the land-cover flows share: the input sources (Sentinel-2, Landsat), their series on a cell's grid, areas and windows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import xarray as xr
from odc.geo import Geometry, geom
from odc.geo.geobox import GeoBox

from flows.run.outcomes import Skipped
from flows.storage import properties as prop
from flows.storage.atomic import replacing
from flows.storage.grid import EEA_CRS, Cell
from flows.storage.load import lacking, load
from odc_config.settings import load_settings
from products.errors import BadInputError
from products.landcover import nrt
from products.landcover.features import BandRoles
from products.landcover.gapfill import LANDSAT_STEP_DAYS, S2_STEP_DAYS
from products.landcover.nomenclature import load_nomenclature
from products.landcover.validity import NoValidDateError, validity
from products.sensors import LANDSAT_C2L2, S2_L2A, THEIA_L8_N2A, Sensor

METHOD = "iota2-oso"


METHOD_VERSION = "1.0"


CELL_SIZE_M = 100_000


YEARLY = "december"  # a yearly map is the series of the whole calendar year, the last key date's grid


class LandCoverInputError(BadInputError):
    """Inputs that cannot give a land-cover model or map; the message says why and what to do."""


@dataclass(frozen=True)
class Source:
    """How one reflectance product becomes land-cover features."""

    product: str
    roles: BandRoles
    masks: tuple[str, ...]
    step_days: int
    resolution: float

    @classmethod
    def of(cls, sensor: Sensor, *, step_days: int) -> Source:
        """A sensor's bands, validity masks and load grid from the sensor table, gap-filled every ``step_days``."""
        return cls(sensor.product, BandRoles.of(sensor), sensor.validity, step_days, sensor.resolution)

    @property
    def measurements(self) -> list[str]:
        return [*self.roles.reflectance, *self.masks]

    def settings(self, season: nrt.Season | None = None) -> nrt.FeatureSettings:
        """Feature settings: each key date's season (``key_dates.yaml``), or ``season`` (a model's) for all."""
        return nrt.FeatureSettings(step_days=self.step_days, roles=self.roles, season=season)


SOURCES: Mapping[str, Source] = {
    source.product: source
    for source in (Source.of(S2_L2A, step_days=S2_STEP_DAYS), Source.of(LANDSAT_C2L2, step_days=LANDSAT_STEP_DAYS),
                   Source.of(THEIA_L8_N2A, step_days=LANDSAT_STEP_DAYS))
}


def source_for(product: str) -> Source:
    """How ``product`` becomes land-cover features; refused when it cannot."""
    if product not in SOURCES:
        raise LandCoverInputError(f"no land-cover features for product {product!r}; use one of {sorted(SOURCES)}")
    return SOURCES[product]


# ------------------------------------------------------------------------------------------------ the area
def requested_area(cells: Sequence[str] | None, bbox: Sequence[float] | None) -> Geometry | None:
    """The area of the cells, else of the lon/lat box (both checked by the flow), in EPSG:3035; None for neither."""
    if cells:
        return geom.unary_union([Cell.parse(c).geometry for c in cells])
    if bbox:
        return geom.box(*bbox, crs="EPSG:4326").to_crs(EEA_CRS)
    return None


def acquisition_window(year: int, when: str, settings: nrt.FeatureSettings) -> tuple[str, str]:
    """Acquisitions a key date may use: from the season start less the margin to the end of its day."""
    first = settings.season_of(when).start(year) - pd.Timedelta(days=settings.margin_days)
    last = nrt.key_date(when).end(year)
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%dT%H:%M:%S")


def training_window(year: int, settings: nrt.FeatureSettings) -> tuple[str, str]:
    """What a training year's series holds: from the earliest key date's acquisitions (March's, from the autumn
    before) to the end of the year, so that every key date cuts its own from one read."""
    return nrt.first_observation_day(year, settings=settings).strftime("%Y-%m-%d"), acquisition_window(year, YEARLY, settings)[1]


def model_season(properties: Mapping) -> nrt.Season:
    """The season a ``land_cover_model`` was trained with (1 January for a model that did not record it)."""
    return nrt.Season.of(properties.get(prop.PARAMETERS, {}).get("season", {}))


def find_acquisitions(dc, source: Source, area: Geometry, window: tuple[str, str]) -> list:
    """The source's datasets over ``area`` acquired in ``window`` (its end is a date-time, included) that carry
    every band land cover reads (:func:`scenes_without_bands` says which do not)."""
    found = _acquired(dc, source, area, window)
    without = {id(d) for d, _ in lacking(source.measurements, found)}
    return [d for d in found if id(d) not in without]


def scenes_without_bands(dc, source: Source, area: Geometry, window: tuple[str, str]) -> list[Skipped]:
    """The scenes of ``window`` over ``area`` that land cover leaves out, each with the bands it lacks (items are
    indexed with the bands they carry: a mirror of the snow bands only, say)."""
    return [Skipped(unit=f"scene {d.metadata_doc.get('label') or d.id}",
                    reason=f"lacks {bands}, which land cover reads: not used")
            for d, bands in lacking(source.measurements, _acquired(dc, source, area, window))]


def _acquired(dc, source: Source, area: Geometry, window: tuple[str, str]) -> list:
    found = dc.find_datasets(product=source.product, geopolygon=area, time=window)
    last = pd.Timestamp(window[1])
    return [d for d in found if pd.Timestamp(d.center_time.replace(tzinfo=None)) <= last]


# ------------------------------------------------------------------------------------------------ series
def reflectance_series(dc, source: Source, gbox: GeoBox, window: tuple[str, str]) -> tuple[xr.Dataset, xr.DataArray, dict[str, str]]:
    """Reflectance series, per-date validity (lazy) and the datasets read (id -> acquisition time), on ``gbox``."""
    found = find_acquisitions(dc, source, gbox.extent, window)
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition between {window[0]} and {window[1][:10]} over the area")
    data = load(source.product, geobox=gbox, measurements=source.measurements, datasets=found, chunks=512, dc=dc)
    last = np.datetime64(pd.Timestamp(window[1]))
    data = data.isel(time=np.flatnonzero(data.time.values <= last))
    masks = {m: data[m] for m in source.masks}
    if source.product == "s2_l2a":
        valid = validity(scl=masks["scl"])
    elif source.product == "landsat_c2l2":
        valid = validity(qa_pixel=masks["qa_pixel"])
    else:
        valid = validity(flags=[masks["cloud"], masks["saturation"]], valid=masks["valid"] == 1)
    series = data[list(source.roles.reflectance)].drop_vars("platform", errors="ignore")
    valid = (valid & series[source.roles.red].notnull()).drop_vars("platform", errors="ignore")
    return series, valid, {str(d.id): str(d.center_time)[:19] for d in found}


def training_series(dc, source: Source, gbox: GeoBox, year: int) -> tuple[xr.Dataset, xr.DataArray, dict[str, str]]:
    """A training year's whole series on ``gbox``, read once and kept in the work folder.

    Every key date of the year cuts it (``nrt.series_until``), so the models of a year's key dates read the
    images once. The file is named by the grid and the dataset ids, so new acquisitions make a new one.
    """
    window = training_window(year, source.settings())
    found = sorted(str(d.id) for d in find_acquisitions(dc, source, gbox.extent, window))
    digest = hashlib.sha256(json.dumps([source.product, list(gbox.affine)[:6], list(gbox.shape), found]).encode())
    path = work_dir("series", source.product) / f"{year}-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            coords = {"time": f["time"], "y": f["y"], "x": f["x"]}
            series = xr.Dataset({v: (("time", "y", "x"), f[f"band_{v}"]) for v in source.roles.reflectance}, coords=coords)
            valid = xr.DataArray(f["valid"], dims=("time", "y", "x"), coords=coords)
            return series, valid, dict(zip(f["ids"].tolist(), f["id_times"].tolist()))
    series, valid, ids = reflectance_series(dc, source, gbox, window)
    series, valid = dask.compute(series, valid)
    with replacing(path) as partial:
        np.savez(partial, time=series.time.values, y=series.y.values, x=series.x.values, valid=valid.values,
                 ids=np.array(list(ids)), id_times=np.array(list(ids.values())),
                 **{f"band_{v}": series[v].values for v in source.roles.reflectance})
    return series, valid, ids


def ids_until(ids: Mapping[str, str], year: int, when: str) -> list[str]:
    """The ids (of id -> acquisition time) acquired by the end of the key date ``when`` of ``year``."""
    last = nrt.key_date(when).end(year)
    return sorted(i for i, t in ids.items() if pd.Timestamp(t) <= last)


def clear_counts(n_clear: xr.DataArray, what: str) -> np.ndarray:
    """The computed clear-observation counts, refused when no pixel has one."""
    n_clear = np.asarray(n_clear.values)
    if not n_clear.any():
        raise no_valid_date(what)
    return n_clear


def no_valid_date(what: str) -> NoValidDateError:
    """The refusal of ``what`` (a training year, a map) where no pixel has a clear observation."""
    return NoValidDateError(f"no valid date for {what}: every acquisition is cloud, shadow or nodata everywhere")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wkt_shape(text: str):
    """A shapely geometry from WKT (as a task receives an area)."""
    import shapely

    return shapely.from_wkt(text)


def work_dir(kind: str, key: str) -> Path:
    """The land-cover flows' working folder for ``kind`` (samples, series, reports) and ``key``, made if missing."""
    folder = load_settings().data_dir / "land_cover_work" / kind / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wkt_geometry(text: str) -> Geometry:
    """An EPSG:3035 geometry from WKT."""
    return Geometry(wkt_shape(text), crs=EEA_CRS)


def nomenclature_properties(nomenclature: str) -> dict:
    """What a land-cover dataset records of its nomenclature: the base (OSO 23) codes each class groups, so that a
    reader translates its codes with no table of its own; nothing for a nomenclature snowland does not ship."""
    try:
        nom = load_nomenclature(nomenclature)
    except BadInputError:
        return {}
    return {prop.BASE_NOMENCLATURE: nom.base,
            prop.CLASS_MEMBERS: {str(c): list(ms) for c, ms in nom.class_members().items()}}


def simulated_inputs(dc, ids: Sequence[str]) -> bool:
    """Whether the datasets of ``ids`` are SIMULATED (the first few tell: a run does not mix real and simulated)."""
    return prop.any_simulated(d for d in (dc.index.datasets.get(i) for i in ids[:5]) if d is not None)
