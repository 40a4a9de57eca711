"""The STAC-API path of the indexing flow, against a real STAC API server (rustac) on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import free_port
from itemfactory import write_tiny_s2_item

from flows.pipelines.index import index_scenes


@pytest.fixture(scope="module")
def stac_api(tmp_path_factory):
    rustac = shutil.which("rustac") or str(Path(sys.executable).parent / "rustac")
    folder = tmp_path_factory.mktemp("stac-api")
    days = ["20240105", "20240115", "20240125", "20240204"]
    features = [
        json.loads(write_tiny_s2_item(folder / d, item_id=f"S2B_31TGL_{d}_0_L2A", x0=720_000 + 5_000 * i,
                                      datetime=f"{d[:4]}-{d[4:6]}-{d[6:]}T10:30:00Z").read_text())
        for i, d in enumerate(days)
    ]
    items = folder / "items.json"
    items.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    port = free_port()
    server = subprocess.Popen([rustac, "serve", "--create-collections", str(items), "--addr", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{url}/collections"):
            if server.poll() is not None:
                pytest.fail(f"rustac did not start: {server.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"rustac did not answer on {url} within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except OSError:
        return False


def test_stac_api_search_by_collection_and_datetime_indexes_only_the_matches(dc, prefect_harness, stac_api):
    report = index_scenes(stac_api=stac_api, collections=["sentinel-2-l2a"], datetime="2024-01-10/2024-01-31")
    assert len(report.written) == 2 and not report.failed
    again = index_scenes(stac_api=stac_api, collections=["sentinel-2-l2a"], datetime="2024-01-01/2024-02-28")
    assert len(again.exists) == 2 and len(again.written) == 2
    labels = sorted(d.metadata_doc["label"] for d in dc.find_datasets(product="s2_l2a", time=("2024-01-01", "2024-02-28"))
                    if d.metadata_doc["label"].startswith("S2B_31TGL_2024"))
    assert "S2B_31TGL_20240105_0_L2A" in labels and "S2B_31TGL_20240204_0_L2A" in labels
