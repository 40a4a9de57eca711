"""Every command on data, end to end through ``flows.cli.main``: the demo at its small size first, then each command
on what the demo made, in an index of this module's own (other modules never see its worlds, nor it theirs)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.cli import main

pytestmark = pytest.mark.slow
SNOW_CELL, LAND_COVER_CELL = "100kmE40N24", "100kmE41N24"  # the demo's worlds (flows/simulator defaults)
WORLD_BOX = ["--bbox", "6.04", "44.98", "6.08", "45.01"]  # the small demo's snow world, in degrees


@dataclass(frozen=True)
class Demo:
    state: Path
    out: Path
    said: str  # what the demo printed
    summary: dict  # its demo.json

    @property
    def snow_sim(self) -> Path:
        return self.state / "simulated_small"

    @property
    def land_cover_reference(self) -> Path:
        return self.state / "simulated_landcover_small" / "truth" / "landcover.gpkg"


@pytest.fixture(scope="module")
def demo(prefect_harness):
    """``snowland demo --size small`` in a private state folder and index, with a dask client that sees them.

    The folder is not one of pytest's: a pytest session started meanwhile on the machine removes the oldest of
    those, and with it the data of a database still running."""
    from helpers import environ_restored, free_port
    from infra.localdb import LocalPostgis

    state = Path(tempfile.mkdtemp(prefix="snowland-cli-demo-"))
    restored = contextlib.ExitStack()
    restored.enter_context(environ_restored())  # `main` exports the private index's settings
    os.environ.update(SNOWLAND_HOME=str(state), SNOWLAND_DB_PORT=str(free_port()))
    db = LocalPostgis(root=state / "pg", port=int(os.environ["SNOWLAND_DB_PORT"]), fast_unsafe=True)
    try:
        db.up()
        from flows.run.cluster import dask_client

        with dask_client(workers=1):  # the flows' default client: its worker sees this index, not the session's
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                code = main(["demo", "--size", "small", "--out", str(state / "out"),
                             "--no-map-screenshot"])  # its code: tests/ask/test_ows.py, on a server it starts anyway
            assert code == 0, printed.getvalue()
            yield Demo(state=state, out=state / "out", said=printed.getvalue(),
                       summary=json.loads((state / "out" / "demo.json").read_text()))
    finally:
        db.destroy()
        shutil.rmtree(state, ignore_errors=True)
        restored.close()


def test_the_demo_runs_every_step_and_prints_its_figures(demo):
    steps = [line.removeprefix("== ").split(":")[0] for line in demo.said.splitlines() if line.startswith("== ")]
    assert steps[:3] == ["index", "simulate", "index-scenes flow"]
    for step in ("load", "snow-cover flow", "snow-season flow", "snow-daily flow", "validation against the simulated truth (pixels clear in "
                 "the truth)", "land cover", "land-cover-key-date flow", "land-cover flow"):
        assert step in steps, steps
    assert steps[-1].startswith("done in")
    figures = demo.summary
    assert 0.9 < figures["accuracy"] <= 1 and 0.8 < figures["kappa"] <= 1
    assert figures["snow_cover"]["written"] > 0 and not figures["snow_cover"]["failed"]
    daily = figures["snow_daily"]
    assert daily["days"] == 31 and daily["written"] == 31 and set(daily["accuracy_by_age"]) == {"0", "1-3", "4-7"}
    assert 0 <= daily["no_observation_share"] <= 1 and 0 <= daily["scene_cloud_share"] <= 1
    assert set(figures["land_cover"]["key_dates"]) == {"march", "july", "december"}
    assert all(0 < f["crops"]["kappa"] <= 1 for f in figures["land_cover"]["key_dates"].values())  # beside all pixels
    assert "crops alone: OA" in demo.said and figures["land_cover"]["resolution_m"] == 20  # the world's
    assert 0.5 < figures["land_cover"]["overall_accuracy"] <= 1
    assert all(Path(p).stat().st_size > 10_000 for p in figures["pictures"])
    assert figures["map_page"] is None and "map page" not in steps
    assert "INFO" not in demo.said and "Traceback" not in demo.said


def _snow_products(demo) -> list[dict]:
    from flows.pipelines.snow_cover import snow_cover_table

    return snow_cover_table(cells=[SNOW_CELL]).to_dict("records")


def test_snow_on_one_day_prints_its_table_and_no_info_line(demo, capfd):
    day = str(_snow_products(demo)[0]["date"].date())
    assert main(["snow", "--cell", SNOW_CELL, "--start", day, "--end", day, "--overwrite"]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["unit", "outcome", "dataset", "id", "path", "or", "reason"]
    units = [line.split() for line in lines[1:] if line.startswith(f"{SNOW_CELL}/{day}/")]
    assert units and all(u[1] == "replaced" and len(u[2]) == 36 and Path(u[3]).exists() for u in units)
    assert any(line.endswith(f": 0 written, {len(units)} replaced, 0 already there, 0 skipped, 0 failed")
               for line in lines)
    assert "INFO" not in out + err and "Traceback" not in out + err and "CommClosedError" not in out + err


def test_season_and_validate_snow_on_the_demo_world(demo, capsys):
    assert main(["season", "2023", "--cell", SNOW_CELL]) == 0
    assert ": 0 written, 0 replaced, 1 already there, 0 skipped, 0 failed" in capsys.readouterr().out
    assert main(["validate-snow", str(demo.snow_sim)]) == 0
    said, daily = capsys.readouterr().out.split("daily map (snow_daily)")
    assert "4-7" in daily and "without observation in the window" in daily
    scores = said.splitlines()
    assert scores[0].split()[:4] == ["date", "sensor", "pixels", "accuracy"] and scores[-2].startswith("all")


def test_simulate_then_index_and_init(demo, tmp_path, capsys):
    assert main(["init"]) == 0
    assert "products: dem_cop30" in capsys.readouterr().out
    assert main(["simulate", "--out", str(tmp_path / "sim"), "--size-km", "1", "--start", "2024-01-10",
                 "--end", "2024-01-16"]) == 0
    assert "SIMULATED scenes in" in capsys.readouterr().out and (tmp_path / "sim" / "catalog.json").exists()
    assert main(["index", "--static", str(demo.snow_sim / "catalog.json")]) == 0  # the demo indexed them all
    out = capsys.readouterr().out
    assert "already there" in out and "0 written" in out


def test_load_info_lineage_and_search(demo, tmp_path, capsys):
    product = _snow_products(demo)[0]
    day = str(product["date"].date())
    assert main(["load", "s2_l2a", *WORLD_BOX, "--time", "2024-01-01", "2024-03-31", "--measurements",
                 "red", "green", "blue", "scl", "--png", str(tmp_path / "look.png")]) == 0
    assert "quick-look:" in capsys.readouterr().out and (tmp_path / "look.png").stat().st_size > 1000
    assert main(["info", "snow_cover", "--cell", "10kmE400N243", "--time", day, day]) == 0
    assert "snow" in capsys.readouterr().out
    assert main(["lineage", product["id"]]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith(f"{product['id']}  snow_cover") and any("<- " in line for line in said[1:])
    assert main(["search", "snow", "2024"]) == 0
    assert "dataset(s) in snow_cover" in capsys.readouterr().out


def test_queries_on_the_demo_worlds(demo, tmp_path, capsys):
    box = WORLD_BOX
    assert main(["query", "snow-area", *box, "--time", "2024-01-01", "2024-03-31", "--csv", str(tmp_path / "a.csv")]) == 0
    assert f"wrote {tmp_path / 'a.csv'}" in capsys.readouterr().out
    assert main(["query", "snow-season", *box, "--year", "2023", "--png", str(tmp_path / "s.png")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["query", "land-cover", "--bbox", "7.43", "45.02", "7.47", "45.06", "--year", "2024"]) == 0
    capsys.readouterr()


def test_land_cover_commands_find_what_the_demo_made(demo, tmp_path, capsys):
    model = demo.summary["land_cover"]["model"]
    common = ["--reference", str(demo.land_cover_reference), "--mapping", "oso23_codes", "--year-column", "year",
              "--max-samples-per-class", "500", "--resolution", "20"]  # the demo's, its SIMULATED world's pixel
    assert main(["train-land-cover", *common, "--years", "2022", "2023", "--key-date", "december", "--runs", "2",
                 "--report-dir", str(tmp_path)]) == 0
    assert model in capsys.readouterr().out
    assert main(["land-cover-key-date", "--year", "2024", "--key-date", "december", "--model", model]) == 0
    assert "already there" in capsys.readouterr().out
    assert main(["land-cover", "--year", "2024", "--model", model, "--mmu", "1200", "--cell", LAND_COVER_CELL]) == 0
    out = capsys.readouterr().out
    assert "already there" in out and "dataset(s) under" in out and "validation: OA" in out


def test_score_land_cover_writes_its_page_or_names_the_unknown_class_and_writes_nothing(demo, tmp_path, capsys):
    import geopandas as gpd

    dataset = demo.summary["land_cover"]["dataset"]
    truth = gpd.read_file(demo.land_cover_reference)
    truth = truth[truth.year == 2024]
    truth.to_crs("EPSG:4326").rename(columns={"code": "oso23"}).to_file(tmp_path / "oso.gpkg")
    assert main(["score-land-cover", dataset, "--reference", str(tmp_path / "oso.gpkg"), "--out",
                 str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "through oso23_codes" in said and "crop classes: OA" in said
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"score.json", "score.html", "score_crops.html"}
    truth.assign(code=lambda f: f.code.where(f.index != f.index[0], 99)).to_file(tmp_path / "bad.gpkg")
    assert main(["score-land-cover", dataset, "--reference", str(tmp_path / "bad.gpkg"), "--out",
                 str(tmp_path / "bad")]) != 0
    assert "does not know code(s): 99" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_serve_serves_the_index_until_its_server_stops(demo, capsys, monkeypatch):
    import urllib.request

    from flows.ask import serve as serving
    from helpers import free_port

    answered = []

    def start_then_stop(**kwargs):
        server = real_start(**kwargs)
        with urllib.request.urlopen(f"{server.url}/stac", timeout=30) as answer:
            answered.append(answer.status)
        server.process.terminate()
        return server

    real_start = serving.start
    monkeypatch.setattr(serving, "start", start_then_stop)
    port = free_port()
    main(["serve", "--port", str(port)])
    assert answered == [200]
    assert f"serving the catalogue read-only on http://127.0.0.1:{port}" in capsys.readouterr().out
