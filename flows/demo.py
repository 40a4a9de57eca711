"""The main job on the embedded default: simulate, index, load on the EEA grid, look at it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from odc.geo import geom

from flows.cli import describe_cube, ensure_index
from flows.cluster import dask_client
from flows.cube import connect, load
from flows.grid import EEA_CRS, cells_covering
from flows.index import index_scenes
from flows.quicklook import cube_quicklook
from flows.simulate import simulate_scenes
from odc_config.settings import load_settings


def _step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def run_demo(*, out: Path, size_km: float = 20, seed: int = 42) -> dict:
    """Every step prints what it did; the summary is also written to ``out/demo.json``."""
    out.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    summary: dict = {}

    _step("index: embedded PostgreSQL + PostGIS, ODC schema, EPSG:3035 spatial index, products")
    print(f"products: {', '.join(ensure_index())}")

    _step(f"simulate: SIMULATED Sentinel-2 L2A and Landsat-8 C2 L2 scenes, {size_km:g} km around 6°E 45°N")
    started = time.perf_counter()
    sim = simulate_scenes(settings.state_dir / "simulated", seed=seed, size_km=size_km, progress=None)
    print(sim)
    summary["simulate_s"] = round(time.perf_counter() - started, 1)

    _step("index-scenes flow: the simulated static STAC catalog")
    report = index_scenes(static=[str(sim.catalog)])
    summary["indexed"] = {"added": len(report.added), "already_there": len(report.already_there),
                          "failed": len(report.failed)}

    truth = json.loads(Path(sim.truth).read_text())
    x0, y0, x1, y1 = truth["area"]["bounds"]
    area = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    cells = [c.name for c in cells_covering(area, size_m=10_000)]
    _step(f"load: s2_l2a on the EEA grid at 20 m over {len(cells)} 10 km cells ({cells[0]} .. {cells[-1]})")
    with dask_client() as client:
        print(f"dask: {len(client.scheduler_info()['workers'])} local workers")
        cube = load("s2_l2a", geometry=area, measurements=["blue", "green", "red", "swir16", "scl"],
                    resolution=20, dc=connect()).persist()
        print(describe_cube(cube))
        picture = cube_quicklook(cube, out / "quicklook_s2_l2a.png",
                                 title="SIMULATED Sentinel-2 L2A, fused across UTM 31N/32N, EPSG:3035 20 m")
    print(f"quick-look: {picture}")
    summary.update(cube_shape={k: int(v) for k, v in cube.sizes.items()}, quicklook=str(picture))
    (out / "demo.json").write_text(json.dumps(summary, indent=2))
    _step(f"done: summary in {out / 'demo.json'}")
    return summary
