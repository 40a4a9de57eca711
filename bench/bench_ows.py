"""Map tiles from `snowland serve`: WMS GetMap 256 x 256 PNG tiles of a snow_cover layer in EPSG:3857 (as the map
page asks for them), 20 concurrent clients on a warm server, against the same tiles drawn in this process straight
from the product's COG (rasterio's warp to the tile, nearest, the snow palette, PNG), with the same 20 threads.

Runs on its own throw-away PostGIS cluster with SIMULATED scenes: one snow_cover unit is computed in this process
(no Prefect, no dask cluster), then the server is started on it. Prints tiles per second, p50 / p99 latency and the
errors of each side, their ratio, the server's peak resident memory, and how many pixels the two sides' tiles
have alike; asserts nothing.

    .venv/bin/python bench/bench_ows.py [--clients 20] [--requests 400] [--zoom 14] [--size-km 10]
"""

from __future__ import annotations

import argparse
import io
import math
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import simulated_index

from infra.ports import free_port

TILE = 256
WEB_MERCATOR_HALF = 20037508.3427892  # the GoogleMapsCompatible matrix's origin, datacube-ows' default WMTS set
DAYS = ("2024-01-10", "2024-01-20")


@dataclass(frozen=True, kw_only=True)
class Figures:
    """One side's run: every request's latency, and how many failed."""

    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000


def tiles_over(bounds: tuple[float, float, float, float], *, zoom: int) -> list[tuple[float, float, float, float]]:
    """The EPSG:3857 bounding boxes of the zoom level's tiles that meet ``bounds`` (EPSG:3857)."""
    span = 2 * WEB_MERCATOR_HALF / 2**zoom
    left, bottom, right, top = bounds
    cols = range(math.floor((left + WEB_MERCATOR_HALF) / span), math.ceil((right + WEB_MERCATOR_HALF) / span))
    rows = range(math.floor((WEB_MERCATOR_HALF - top) / span), math.ceil((WEB_MERCATOR_HALF - bottom) / span))
    return [(-WEB_MERCATOR_HALF + c * span, WEB_MERCATOR_HALF - (r + 1) * span,
             -WEB_MERCATOR_HALF + (c + 1) * span, WEB_MERCATOR_HALF - r * span) for r in rows for c in cols]


def _run(clients: int, boxes: list, draw) -> Figures:
    """Every box drawn by ``draw`` from ``clients`` threads; a draw that raises or returns no PNG is an error."""
    def timed(box) -> tuple[float, bool]:
        t = time.perf_counter()
        try:
            ok = draw(box)[:8] == b"\x89PNG\r\n\x1a\n"
        except (OSError, ValueError):
            ok = False
        return time.perf_counter() - t, ok

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(timed, boxes))
    return Figures(seconds=time.perf_counter() - start, latencies=[d for d, _ in done],
                   errors=sum(not ok for _, ok in done))


def _served(url: str, *, day: str):
    def draw(box) -> bytes:
        query = urllib.parse.urlencode({
            "service": "WMS", "version": "1.3.0", "request": "GetMap", "layers": "snow_cover", "styles": "snow",
            "format": "image/png", "transparent": "true", "crs": "EPSG:3857", "width": TILE, "height": TILE,
            "bbox": ",".join(f"{v:f}" for v in box), "time": day})
        with urllib.request.urlopen(f"{url}/ows/?{query}", timeout=300) as answer:
            return answer.read() if answer.headers.get_content_type() == "image/png" else b""
    return draw


def _direct(cog: Path):
    """The baseline: the tile warped from the COG (nearest, as datacube-ows loads it), coloured, PNG-encoded."""
    import rasterio
    from PIL import Image
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import from_bounds
    from rasterio.warp import Resampling, reproject

    from flows.ask.ows.palette import SNOW_CODES

    lut = np.zeros((256, 4), dtype="uint8")
    for code, _, colour in SNOW_CODES:
        lut[code] = [*(int(colour[i:i + 2], 16) for i in (1, 3, 5)), 255]

    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)  # now and then, under threads

    def draw(box) -> bytes:
        codes = np.full((TILE, TILE), 255, dtype="uint8")
        with rasterio.open(cog) as src:
            reproject(rasterio.band(src, 1), codes, dst_transform=from_bounds(*box, TILE, TILE), dst_crs="EPSG:3857",
                      dst_nodata=255, resampling=Resampling.nearest)
        out = io.BytesIO()
        Image.fromarray(lut[codes], "RGBA").save(out, format="PNG")
        return out.getvalue()
    return draw


def _same_pixels(boxes: list, *draws) -> float:
    """The share of pixels that every side draws alike (RGBA; any transparent pixel is alike)."""
    from PIL import Image

    same = total = 0
    for box in boxes:
        first, *others = (np.asarray(Image.open(io.BytesIO(draw(box))).convert("RGBA")) for draw in draws)
        first = np.where(first[..., 3:] == 0, 0, first)
        for other in others:
            other = np.where(other[..., 3:] == 0, 0, other)
            same += int((first == other).all(axis=-1).sum())
            total += first.shape[0] * first.shape[1]
    return same / total


def _peak_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process (VmRSS, VmHWM), in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--zoom", type=int, default=14, help="web-mercator zoom level of the tiles (14: ~7 m pixels)")
    parser.add_argument("--size-km", type=float, default=10)
    args = parser.parse_args()
    with simulated_index(size_km=args.size_km, start=DAYS[0], end=DAYS[1]) as sim:
        run(args, sim)


def snow_product(sim):
    """One snow_cover dataset computed here from the simulated scenes: (dataset, its ``snow`` COG)."""
    from flows.ask.catalogue import dataset_files
    from flows.ask.site.files import local_path
    from flows.pipelines.index import index_files, index_items, read_static_items
    from flows.pipelines.snow_cover import SnowParams, day_datasets, find_snow_jobs, snow_cover_unit
    from flows.simulator.scenes import TCD_FILE
    from flows.storage.grid import Cell
    from flows.storage.index import connect

    index_items.fn(list(read_static_items(sim.catalog)))  # the tasks' bodies: no Prefect server for a benchmark
    index_files.fn([sim.out_dir / TCD_FILE], kind="tcd")
    dc = connect()
    jobs = find_snow_jobs(time=DAYS, products=["s2_l2a"], dc=dc)
    job = max(jobs, key=lambda j: len(day_datasets(dc, j.product, Cell.parse(j.cell), j.day)))
    outcome = snow_cover_unit(job, params=SnowParams.for_pixel_size(20).to_dict(), resolution=20.0, overwrite=False)
    dataset = dc.index.datasets.get(outcome.id) if hasattr(outcome, "id") else None
    if dataset is None:
        raise SystemExit(f"no snow_cover dataset made: {outcome}")
    return dataset, local_path(dataset_files(dataset)["snow"])


def run(args, sim) -> None:
    from flows.ask.serve import running

    dataset, cog = snow_product(sim)
    day = str(dataset.center_time.date())
    left, bottom, right, top = dataset.extent.to_crs("EPSG:3857").boundingbox
    tiles = tiles_over((left, bottom, right, top), zoom=args.zoom)
    boxes = [tiles[n % len(tiles)] for n in range(args.requests)]
    with running(port=free_port()) as server:
        print(f"snow_cover {day} ({dataset.id}), {len(tiles)} tiles of {TILE} x {TILE} px at zoom {args.zoom}, "
              f"{args.requests} requests, {args.clients} concurrent clients")
        draws = {"direct": _direct(cog), "served": _served(server.url, day=day)}
        figures = {}
        for side, draw in draws.items():
            _run(args.clients, tiles, draw)  # warm: every tile once
            figures[side] = _run(args.clients, boxes, draw)
        rss, peak = _peak_mb(server.process.pid)
        same = _same_pixels(tiles, *draws.values())
    for side, f in figures.items():
        print(f"{side:7s} {f.rate:8.1f} tiles/s   p50 {f.percentile(50):7.1f} ms   p99 {f.percentile(99):7.1f} ms   "
              f"errors {f.errors}")
    print(f"served / direct {figures['served'].rate / figures['direct'].rate:.3f} of the rate; server RSS {rss:.0f} MB "
          f"at the end, peak {peak:.0f} MB; the two sides' tiles have {same:.2%} of their pixels alike")


if __name__ == "__main__":
    main()
