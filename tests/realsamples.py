"""The real samples of ../shared/data/real, prepared the way a user would index local copies."""

from __future__ import annotations

import json
from pathlib import Path

S2_DIR = "riotilerpds/tests/fixtures/sentinel-cogs/sentinel-s2-l2a-cogs/29/R/KH/2020/2/S2A_29RKH_20200219_0_L2A"
LS_DIR = ("riotilerpds/tests/fixtures/usgs-landsat/collection02/level-2/standard/oli-tirs/2020/001/062/"
          "LC08_L2SP_001062_20201031_20201106_02_T2")
THEIA_L8 = "iota2/data/L8_50x50"


def localised_item(real: Path, folder: str, item_name: str, out: Path, **changes) -> Path:
    """Copy a real item JSON with its asset hrefs pointed at the files beside it (they are decimated copies)."""
    src = real / folder
    doc = json.loads((src / item_name).read_text())
    for asset in doc["assets"].values():
        asset["href"] = str(src / Path(asset["href"]).name)
    doc["links"] = []
    doc.update(changes)
    out.mkdir(parents=True, exist_ok=True)
    path = out / item_name
    path.write_text(json.dumps(doc))
    return path


def s2_item(real: Path, out: Path) -> Path:
    return localised_item(real, S2_DIR, "S2A_29RKH_20200219_0_L2A.json", out)


def landsat_item(real: Path, out: Path) -> Path:
    """The USGS item is STAC 0.7 with no projection extension; give it the schema pystac reads."""
    return localised_item(real, LS_DIR, "LC08_L2SP_001062_20201031_20201106_02_T2_SR_stac.json", out,
                          stac_version="1.0.0", stac_extensions=[])
