"""The main job on the embedded default: simulate, index, load on the EEA grid, snow products, pictures."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from odc.geo import geom

from flows.ask.quicklook import cube_quicklook, describe_cube, raster_map, season_plot, snow_map
from flows.pipelines.index import index_scenes
from flows.pipelines.snow_cover import snow_cover, snow_cover_table
from flows.pipelines.snow_daily import snow_daily
from flows.pipelines.snow_season import snow_season
from flows.pipelines.validate_snow import format_daily, format_scores, summed, validate_daily, validate_snow
from flows.run.cluster import dask_client
from flows.simulator.scenes import TCD_FILE, simulate_scenes
from flows.storage import properties as prop
from flows.storage.atomic import write_text
from flows.storage.grid import EEA_CRS, cells_covering
from flows.storage.index import connect, ensure_index
from flows.storage.load import load
from odc_config.settings import load_settings
from products.landcover.features import DEFAULT_RESOLUTION_M
from products.sensors import S2_L2A, needs

HYDROLOGICAL_YEAR = 2023


@dataclass(frozen=True, kw_only=True)
class DemoSize:
    """How much the demo simulates: every step runs and prints the same figures at any size."""

    name: str
    snow_km: float  # side of the snow world
    s2_every_days: int  # a multiple of 5
    l8_every_days: int  # a multiple of 16
    landcover_km: float  # side of the land-cover world
    landcover_s2_every_days: int
    landcover_resolution_m: float = DEFAULT_RESOLUTION_M  # the land-cover world's pixel, and its maps': OSO's 10 m

    def folder(self, name: str) -> str:
        """A simulation's folder name: each size has its own world, so one never refuses the other's."""
        return name if self.name == "full" else f"{name}_{self.name}"


SIZES = {
    "full": DemoSize(name="full", snow_km=20, s2_every_days=20, l8_every_days=16, landcover_km=5,
                     landcover_s2_every_days=10),
    # a check that every step runs, in a fraction of the time (its land cover at 20 m: a quarter of the pixels)
    "small": DemoSize(name="small", snow_km=3, s2_every_days=60, l8_every_days=96, landcover_km=2,
                      landcover_s2_every_days=40, landcover_resolution_m=20),
}


def _step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def run_demo(*, out: Path, size_km: float | None = None, seed: int = 42, size: str = "full",
             map_screenshot: bool = True) -> dict:
    """Every step prints what it did; the summary is also written to ``out/demo.json``.

    ``size`` names one of ``SIZES``; ``size_km`` overrides the side of its snow world; ``map_screenshot=False``
    leaves out the map page's screenshot (a server start and a browser: ~40 s).
    """
    preset = SIZES[size]
    size_km = size_km or preset.snow_km
    out.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    summary: dict = {}
    started = time.perf_counter()

    _step("index: embedded PostgreSQL + PostGIS, ODC schema, EPSG:3035 spatial index, products")
    print(f"products: {', '.join(ensure_index())}")

    _step(f"simulate: SIMULATED Sentinel-2 L2A and Landsat-8 C2 L2 scenes, {size_km:g} km across 6°E near 45°N, "
          f"hydrological year {HYDROLOGICAL_YEAR}-{HYDROLOGICAL_YEAR + 1}")
    sim_dir = settings.state_dir / preset.folder("simulated")
    sim = simulate_scenes(sim_dir, seed=seed, size_km=size_km, start=f"{HYDROLOGICAL_YEAR}-09-01",
                          end=f"{HYDROLOGICAL_YEAR + 1}-08-31", s2_every_days=preset.s2_every_days,
                          l8_every_days=preset.l8_every_days)
    print(sim)

    _step("index-scenes flow: the simulated static STAC catalog (scenes, DEM) and tree cover density")
    report = index_scenes(static=[str(sim.catalog)], tcd=[str(sim.out_dir / TCD_FILE)])
    print(report.summary())
    summary["indexed"] = {"added": len(report.written), "already_there": len(report.exists),
                          "failed": len(report.failed)}

    x0, y0, x1, y1 = json.loads(Path(sim.truth).read_text())["world"]["bounds"]
    area = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    cells = [c.name for c in cells_covering(area, size_m=100_000)]
    with dask_client() as client:  # one cluster for every flow: each would otherwise start and stop its own
        _step(f"load: s2_l2a on the EEA grid, 20 m, over the area (cell {', '.join(cells)}), "
              f"{len(client.scheduler_info()['workers'])} dask workers")
        cube = load("s2_l2a", geometry=area, measurements=["blue", *needs("snow", S2_L2A)],
                    time=(f"{HYDROLOGICAL_YEAR + 1}-01-01", f"{HYDROLOGICAL_YEAR + 1}-03-31"), dc=connect()).persist()
        print(describe_cube(cube))
        pictures = [cube_quicklook(cube, out / "quicklook_s2_l2a.png",
                                   title="SIMULATED Sentinel-2 L2A fused across UTM 31N/32N, EPSG:3035 20 m")]
        summary["cube_shape"] = {k: int(v) for k, v in cube.sizes.items()}

        _step("snow-cover flow: Let-It-Snow per cell, day and sensor")
        snow = snow_cover(cells=cells)
        print(snow.summary())
        _step(f"snow-season flow: syntheses of {HYDROLOGICAL_YEAR}-{HYDROLOGICAL_YEAR + 1}")
        season = snow_season(year=HYDROLOGICAL_YEAR, cells=cells)
        print(season.summary())

        daily_period = (f"{HYDROLOGICAL_YEAR + 1}-01-01", f"{HYDROLOGICAL_YEAR + 1}-01-31")
        _step(f"snow-daily flow: the gap-free daily snow map of each day from {daily_period[0]} to {daily_period[1]}")
        daily = snow_daily(start=daily_period[0], end=daily_period[1], cells=cells)
        print(daily.summary())

        table = snow_cover_table(cells=cells)
        s2 = table[table.sensor == "s2"]
        clearest = s2.loc[(s2.snow_percent * (100 - s2.cloud_percent)).idxmax()]  # snowy and clear
        day = str(clearest.date.date())
        rgb = load("s2_l2a", geometry=area, measurements=["blue", "green", "red"], time=(day, day), dc=connect())
        seb = load("snow_cover", geometry=area, measurements=["snow"], time=(day, day), group_by="time", dc=connect())
        seb = seb.isel(time=[p.startswith("sentinel-2") for p in seb.platform.values]).snow.isel(time=0)
        pictures.append(snow_map(reflectance=rgb, snow=seb.compute(), path=out / "snow_map.png",
                                 title=f"SIMULATED: Let-It-Snow on Sentinel-2, {day} (zs {clearest.zs:.0f} m)"))
        pictures.append(season_plot(table=table, path=out / "snow_season_plot.png",
                                    title=f"SIMULATED: snow through {HYDROLOGICAL_YEAR}-{HYDROLOGICAL_YEAR + 1}, {cells[0]}"))
        scd = load("snow_season", geometry=area, measurements=["scd"], dc=connect()).scd.isel(time=0).compute()
        pictures.append(raster_map(scd, path=out / "snow_cover_duration.png", label="days", cmap="Blues",
                                   title=f"SIMULATED: snow cover duration {HYDROLOGICAL_YEAR}-{HYDROLOGICAL_YEAR + 1}"))

        _step("validation against the simulated truth (pixels clear in the truth)")
        scores = validate_snow(sim_dir)
        print(format_scores(scores))
        total = summed(scores)
        daily_scores = validate_daily(sim_dir)
        if daily_scores:
            print(format_daily(daily_scores))
            summary["snow_daily"] = {
                "days": daily_scores.days, "written": len(daily.written), "already_there": len(daily.exists),
                "accuracy_by_age": {k: round(v.accuracy, 4) for k, v in daily_scores.by_age.items()},
                "no_observation_share": round(daily_scores.no_observation_share, 4),
                "scene_cloud_share": round(daily_scores.scene_cloud_share, 4)}
        december = [s for s in scores if s.day[5:7] == "12" and s.shaded.n]
        if december:
            shaded, without = summed(december, "shaded"), summed(december, "shaded_without")
            print(f"December scenes: {shaded.n} truth-snow pixels in the relief's cast shadow; found with shaded-snow "
                  f"detection {shaded.accuracy:.3f}, without {without.accuracy:.3f}")
            summary["shaded_snow_december"] = {"pixels": shaded.n, "with": round(shaded.accuracy, 4),
                                               "without": round(without.accuracy, 4)}
        summary["land_cover"] = land_cover_step(out=out, pictures=pictures, size=preset)  # issue 4
    summary["map_page"] = map_page_step(out=out, pictures=pictures, day=day) if map_screenshot else None
    summary.update(
        snow_cover={"written": len(snow.written), "already_there": len(snow.exists), "skipped": len(snow.skipped),
                    "failed": len(snow.failed)},
        snow_season={"written": len(season.written), "already_there": len(season.exists)},
        accuracy=round(total.accuracy, 4), kappa=round(total.kappa, 4),
        pictures=[str(p) for p in pictures], elapsed_s=round(time.perf_counter() - started, 1),
    )
    write_text(out / "demo.json", json.dumps(summary, indent=2))
    _step(f"done in {summary['elapsed_s']:.0f} s: pictures {', '.join(p.name for p in pictures)} in {out}")
    return summary


def map_page_step(*, out: Path, pictures: list[Path], day: str) -> str | None:
    """`snowland serve`'s map page on the snow layer at ``day``, saved as ``out/map.png``; where Chromium is
    missing it says so in one line and draws nothing."""
    from flows.ask.mappage.browser import missing_browser, screenshot
    from flows.ask.serve import running
    from infra.ports import free_port

    _step(f"map page: `snowland serve` read-only on loopback, its /map/ in headless Chromium on snow_cover {day}")
    if missing := missing_browser():
        print(f"no map screenshot: {missing}")
        return None
    started = time.perf_counter()
    with running(port=free_port()) as server:
        pictures.append(screenshot(url=server.url, path=out / "map.png", layer="snow_cover", time=day))
    print(f"{pictures[-1]} in {time.perf_counter() - started:.0f} s (server started and stopped)")
    return str(pictures[-1])


# --- land cover (issue 4): past years train, the current year is mapped at key dates and for the year ---
LAND_COVER_PAST, LAND_COVER_YEAR = (2022, 2023), 2024


def land_cover_step(*, out: Path, pictures: list[Path], size: DemoSize = SIZES["full"]) -> dict:
    """Train on SIMULATED past years, map the current year at each key date and for the year, score, draw."""
    from flows.pipelines.landcover import (
        land_cover,
        land_cover_key_date,
        score_map,
        train_land_cover,
    )
    from flows.pipelines.landcover.report import plot_land_cover
    from flows.pipelines.landcover.score import score_land_cover
    from flows.pipelines.landcover.train import TrainingOptions, trained_model
    from flows.simulator.scenes import simulate_landcover_years
    from products.landcover.nomenclature import load_nomenclature

    started = time.perf_counter()
    years = (*LAND_COVER_PAST, LAND_COVER_YEAR)
    _step(f"land cover: SIMULATED {size.landcover_km:g} km world, Sentinel-2 every {size.landcover_s2_every_days} days, "
          f"calendar years {', '.join(map(str, years))}")
    sim = simulate_landcover_years(load_settings().state_dir / size.folder("simulated_landcover"), years=years,
                                   size_km=size.landcover_km, s2_every_days=size.landcover_s2_every_days,
                                   resolution=size.landcover_resolution_m)
    print(sim)
    print(index_scenes(static=[str(sim.catalog)]).summary())
    reference = str(Path(sim.truth).parent / "landcover.gpkg")
    folder = out / "land_cover"
    options = TrainingOptions(year_column="year", max_samples_per_class=500, report_dir=str(folder),
                              resolution_m=size.landcover_resolution_m)  # mapping: found from the reference's columns

    _step(f"land-cover-key-date flow: {LAND_COVER_YEAR} at the end of March, July and December, each with a model "
          f"trained here on {LAND_COVER_PAST[0]}-{LAND_COVER_PAST[-1]} only (validation by polygon)")
    result: dict = {"key_dates": {}}
    for key_date in ("march", "july", "december"):
        report = land_cover_key_date(year=LAND_COVER_YEAR, key_date=key_date, train_years=list(LAND_COVER_PAST),
                                     reference=reference,
                                     options=replace(options, runs=2 if key_date == "december" else 1))
        score = score_map(report.ids[0], reference=reference, year_column="year")
        result["key_dates"][key_date] = _figures(score)
        print(f"{report.summary()}\n  {key_date}: {_said(score)} against the truth")
    training = train_land_cover(reference=reference, years=list(LAND_COVER_PAST), key_date="december",
                                options=replace(options, runs=2))  # the December (yearly) model: already there
    print(training.summary())
    trained = trained_model(training.ids[0])
    result.update(model=trained.model, validation_page=trained.report_html,
                  validation={"overall_accuracy": trained.overall_accuracy, "kappa": trained.kappa})

    _step(f"land-cover flow: yearly map {LAND_COVER_YEAR} at {size.landcover_resolution_m:g} m with "
          "the December (yearly) model (sieved to 0.12 ha), "
          "against the truth")
    report = land_cover(year=LAND_COVER_YEAR, model=trained.model, min_mapping_unit_m2=1200)
    print(report.summary())
    scored = score_land_cover(report.ids[0], reference=reference, year_column="year", out=folder)
    score = scored.score
    print(f"yearly land cover {LAND_COVER_YEAR}: {_said(score)} over {score.accuracy.n} pixels; validation page "
          f"of the map {scored.html}")
    pictures.append(plot_land_cover(score.classes, folder / "land_cover_map.png", extent=score.extent,
                                    nomenclature=load_nomenclature(score.nomenclature),
                                    title=f"SIMULATED: land cover {LAND_COVER_YEAR} (OSO 23), model of "
                                          f"{LAND_COVER_PAST[0]}-{LAND_COVER_PAST[-1]}, OA {score.accuracy.overall_accuracy:.3f}"))
    resolution_m = connect().index.datasets.get(report.ids[0]).metadata_doc["properties"][prop.PARAMETERS]["resolution_m"]
    result.update(**_figures(score), dataset=report.ids[0], resolution_m=resolution_m, map=str(pictures[-1]),
                  elapsed_s=round(time.perf_counter() - started, 1))
    print(f"validation page {result['validation_page']}; map {pictures[-1]} ({result['elapsed_s']:.0f} s for land cover)")
    return result


def _figures(score) -> dict:
    """OA and kappa of a map over every reference pixel, and over the crop pixels alone."""
    crops = score.crops
    return {"overall_accuracy": round(score.accuracy.overall_accuracy, 4), "kappa": round(score.accuracy.kappa, 4),
            "crops": None if crops is None else {"overall_accuracy": round(crops.overall_accuracy, 4),
                                                 "kappa": round(crops.kappa, 4)}}


def _said(score) -> str:
    crops = score.crops
    return (f"OA {score.accuracy.overall_accuracy:.3f}, kappa {score.accuracy.kappa:.3f}"
            + ("" if crops is None else f" (crops alone: OA {crops.overall_accuracy:.3f}, kappa {crops.kappa:.3f})"))
# --- end land cover ---
