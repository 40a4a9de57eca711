"""The catalogue searched as people type it: the parser on French and English phrasings, misspellings and wrong
words, then searches against the real index written out as STAC and Metalink 4."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

import pytest

from flows.ask.catalogue import METALINK_NS, parse_query

TODAY = dt.date(2026, 11, 25)
D = dt.date
L8 = ("landsat_c2l2", "theia_l2a", "theia_l8_n2a")  # theia_l2a holds MAJA Landsat products too
S2 = ("s2_l2a", "theia_l2a")
INPUTS = ("s2_l2a", "landsat_c2l2", "theia_l2a", "theia_l8_n2a")

# text -> products, platforms, place, period; every phrase here must be understood completely
PHRASES = [
    ("Toulouse LANDSAT8 2014", L8, ("landsat-8",), "Toulouse", (D(2014, 1, 1), D(2014, 12, 31))),
    ("Pyrénées snow February 2024", ("snow_cover",), (), "Pyrénées", (D(2024, 2, 1), D(2024, 2, 29))),
    ("land cover Carcassonne 2023", ("land_cover",), (), "Carcassonne", (D(2023, 1, 1), D(2023, 12, 31))),
    ("neige dans les Pyrénées de mars à mai 2024", ("snow_cover",), (), "Pyrénées", (D(2024, 3, 1), D(2024, 5, 31))),
    ("from March to May 2024 Sentinel-2 Chamonix", S2, ("sentinel-2",), "Chamonix-Mont-Blanc",
     (D(2024, 3, 1), D(2024, 5, 31))),
    ("2022-2023 Écrins enneigement", ("snow_cover",), (), "Écrins", (D(2022, 1, 1), D(2023, 12, 31))),
    ("hiver 2024 Vanoise neige", ("snow_cover",), (), "Vanoise", (D(2023, 12, 1), D(2024, 2, 29))),
    ("winter 2023-2024 alps snow season", ("snow_season",), (), "Alpes", (D(2023, 12, 1), D(2024, 2, 29))),
    ("winter 2023/24 ALPS snow", ("snow_cover",), (), "Alpes", (D(2023, 12, 1), D(2024, 2, 29))),
    ("durée d'enneigement Ariège 2023", ("snow_season",), (), "Ariège", (D(2023, 1, 1), D(2023, 12, 31))),
    ("OCCUPATION DU SOL carcassonne 2021", ("land_cover",), (), "Carcassonne", (D(2021, 1, 1), D(2021, 12, 31))),
    ("land cover nrt Toulouse 2024", ("land_cover_nrt",), (), "Toulouse", (D(2024, 1, 1), D(2024, 12, 31))),
    ("occupation des sols en temps réel Montpellier 2025", ("land_cover_nrt",), (), "Montpellier",
     (D(2025, 1, 1), D(2025, 12, 31))),
    ("MNT Pyrenees", ("dem_cop30",), (), "Pyrénées", None),
    ("digital elevation model of the Mont-Blanc", ("dem_cop30",), (), "Mont-Blanc", None),
    ("snow between 2024-01-01 and 2024-02-15 Taillefer", ("snow_cover",), (), "Taillefer",
     (D(2024, 1, 1), D(2024, 2, 15))),
    ("neige 15 janvier 2024 Grenoble", ("snow_cover",), (), "Grenoble", (D(2024, 1, 15), D(2024, 1, 15))),
    ("neige le 1er février 2024 à Briançon", ("snow_cover",), (), "Briançon", (D(2024, 2, 1), D(2024, 2, 1))),
    ("images sentinel 2 Briançon 2024-01-15", INPUTS, ("sentinel-2",), "Briançon", (D(2024, 1, 15), D(2024, 1, 15))),
    ("Bagnères-de-Luchon snow 2024-01", ("snow_cover",), (), "Bagnères-de-Luchon", (D(2024, 1, 1), D(2024, 1, 31))),
    ("snow Chamonix december 2023 to february 2024", ("snow_cover",), (), "Chamonix-Mont-Blanc",
     (D(2023, 12, 1), D(2024, 2, 29))),
    ("snow cover from december to february 2024 in the Écrins", ("snow_cover",), (), "Écrins",
     (D(2023, 12, 1), D(2024, 2, 29))),
    ("couverture neigeuse Andorre depuis 2020", ("snow_cover",), (), "Andorre", (D(2020, 1, 1), TODAY)),
    ("snow since 2021 Andorra", ("snow_cover",), (), "Andorre", (D(2021, 1, 1), TODAY)),
    ("Saint-Gaudens neige janvier 2024", ("snow_cover",), (), "Saint-Gaudens", (D(2024, 1, 1), D(2024, 1, 31))),
    ("landsat 9 Pau 2023", ("landsat_c2l2", "theia_l2a"), ("landsat-9",), "Pau", (D(2023, 1, 1), D(2023, 12, 31))),
    ("S2 Annecy juillet 2022", S2, ("sentinel-2",), "Annecy", (D(2022, 7, 1), D(2022, 7, 31))),
    ("L8 snow map Gavarnie mars 2016", ("snow_cover",), ("landsat-8",), "Gavarnie", (D(2016, 3, 1), D(2016, 3, 31))),
    ("printemps 2019 bassin de la Durance neige", ("snow_cover",), (), "Durance", (D(2019, 3, 1), D(2019, 5, 31))),
    ("summer 2022 Mercantour reflectance", INPUTS, (), "Mercantour", (D(2022, 6, 1), D(2022, 8, 31))),
    ("autumn 2021 Isère catchment landsat", L8, ("landsat",), "Isère",
     (D(2021, 9, 1), D(2021, 11, 30))),
    ("Gave de Pau snow 2020-2021", ("snow_cover",), (), "Gave de Pau", (D(2020, 1, 1), D(2021, 12, 31))),
    ("2024-01-05 to 2024-01-20 Vercors", (), (), "Vercors", (D(2024, 1, 5), D(2024, 1, 20))),
    ("Toulouse", (), (), "Toulouse", None),
    ("sentinel-2 neige février 2024 Pyrénées", ("snow_cover",), ("sentinel-2",), "Pyrénées",
     (D(2024, 2, 1), D(2024, 2, 29))),
    ("Sentinel-2 décembre 2023 Vercors", S2, ("sentinel-2",), "Vercors", (D(2023, 12, 1), D(2023, 12, 31))),
    ("landsat 8 mars 2016 Néouvielle", L8, ("landsat-8",), "Néouvielle", (D(2016, 3, 1), D(2016, 3, 31))),
    ("carte d'occupation du sol Perpignan 2022", ("land_cover",), (), "Perpignan", (D(2022, 1, 1), D(2022, 12, 31))),
]


@pytest.mark.parametrize(("text", "products", "platforms", "place", "period"), PHRASES, ids=[p[0] for p in PHRASES])
def test_phrases_in_french_and_english_are_understood(text, products, platforms, place, period):
    parsed = parse_query(text, today=TODAY)
    assert parsed.unknown == () and parsed.understood, parsed.describe()
    assert parsed.readings == (), parsed.describe()
    assert set(parsed.products) == set(products)
    assert parsed.platforms == platforms
    assert (parsed.place.name if parsed.place else None) == place
    assert parsed.time == period


def test_the_parsed_query_is_a_frozen_contract():
    parsed = parse_query("Toulouse LANDSAT8 2014", today=TODAY)
    with pytest.raises(AttributeError):
        parsed.place = None  # type: ignore[misc]
    assert parsed.place.kind == "city" and parsed.place.bbox[0] < 1.44 < parsed.place.bbox[2]
    assert parse_query("Écrins", today=TODAY).place.kind == "massif"
    assert parse_query("Romanche", today=TODAY).place.kind == "catchment"


@pytest.mark.parametrize(("text", "word", "meant", "place"), [
    ("Tolouse landsat 2015", "tolouse", "Toulouse", "Toulouse"),
    ("Carcasone occupation du sol 2021", "carcasone", "Carcassonne", "Carcassonne"),
    ("neige Pyrénés 2024", "pyrenes", "Pyrénées", "Pyrénées"),
    ("Grenobel snow 2023", "grenobel", "Grenoble", "Grenoble"),
    ("Montpelier images 2020", "montpelier", "Montpellier", "Montpellier"),
    ("Chamonix neige fevirer 2024", "fevirer", None, "Chamonix-Mont-Blanc"),
    ("lansat 8 Perpignan 2016", "lansat", "landsat", "Perpignan"),
    ("sentinell 2 Vercors", "sentinell", "sentinel", "Vercors"),
])
def test_misspellings_are_read_as_the_nearest_match_and_said(text, word, meant, place):
    parsed = parse_query(text, today=TODAY)
    if meant is None:  # a misspelled month is not guessed: it is reported
        assert word in parsed.unknown
    else:
        assert (word, meant) in parsed.readings, parsed.describe()
        assert f"read {word!r} as {meant!r}" in parsed.describe()
        assert parsed.unknown == ()
    assert parsed.place.name == place


def test_words_it_cannot_understand_are_reported():
    parsed = parse_query("banana neige 2024 Grenoble xqzzy", today=TODAY)
    assert parsed.unknown == ("banana", "xqzzy") and not parsed.understood
    assert "words not understood: banana, xqzzy" in parsed.describe()
    assert parsed.place.name == "Grenoble" and parsed.products == ("snow_cover",), "the rest is still read"
    month_alone = parse_query("neige février Toulouse", today=TODAY)
    assert month_alone.time is None and any("without a year" in n for n in month_alone.notes)
    backwards = parse_query("snow 2024-03-01 to 2024-01-01", today=TODAY)
    assert backwards.time is None and any("before it starts" in n for n in backwards.notes)


# --- against the index ------------------------------------------------------------------------------------


def test_search_finds_inputs_and_outputs_by_place_sensor_and_period(dc, query_products):
    from flows.ask.catalogue import search

    snow = search("neige Taillefer janvier 2023", dc=dc)
    assert [str(d.id) for d in snow.datasets] == query_products.ids[:2]
    only_l8 = search("Taillefer landsat 8 snow january 2023", dc=dc)
    assert [d.metadata_doc["properties"]["eo:platform"] for d in only_l8.datasets] == ["landsat-8"]
    s2 = search("Taillefer sentinel-2 décembre 2023", dc=dc)
    expected = dc.find_datasets(product="s2_l2a", time=("2023-12-01", "2023-12-31"), geopolygon=s2.query.place.geometry)
    assert s2.datasets and {d.id for d in s2.datasets} == {d.id for d in expected}
    assert all(d.metadata_doc["properties"]["eo:platform"].startswith("sentinel-2") for d in s2.datasets)
    assert all(str(d.center_time).startswith("2023-12") for d in s2.datasets)
    assert search("Toulouse LANDSAT8 2014", dc=dc).datasets == (), "nothing there: an empty answer, not an error"
    assert search("neige Carcassonne janvier 2023", dc=dc).datasets == (), "another place"


def test_search_results_are_written_as_stac_and_metalink(dc, query_products, tmp_path):
    import pystac

    from flows.ask.catalogue import search, write_metalink, write_stac

    result = search("Taillefer snow and snow season 2022-2023", dc=dc)
    assert {d.product.name for d in result.datasets} >= {"snow_cover"}
    items = pystac.ItemCollection.from_file(str(write_stac(result, tmp_path / "found.json")))
    assert [i.id for i in items] == [str(d.id) for d in result.datasets]
    for item in items:
        href = item.assets["snow"].href if "snow" in item.assets else next(iter(item.assets.values())).href
        assert Path(urlparse(href).path).exists(), href
    assert json.loads((tmp_path / "found.json").read_text())["type"] == "FeatureCollection"

    root = ET.parse(write_metalink(result, tmp_path / "found.meta4", hashes=True)).getroot()
    assert root.tag == f"{{{METALINK_NS}}}metalink"
    files = root.findall(f"{{{METALINK_NS}}}file")
    names = [f.get("name") for f in files]
    assert len(names) == len(set(names)) and all(not n.startswith("/") and ".." not in n for n in names)
    for entry in files:
        local = Path(urlparse(entry.findtext(f"{{{METALINK_NS}}}url")).path)
        assert int(entry.findtext(f"{{{METALINK_NS}}}size")) == local.stat().st_size
        assert len(entry.findtext(f"{{{METALINK_NS}}}hash")) == 64
    tifs = [n for n in names if n.endswith(".tif")]
    assert len(tifs) == sum(len(d.measurements) for d in result.datasets)


def test_search_command_reports_words_it_did_not_understand(dc, query_products, tmp_path, capsys):
    from flows.cli import main

    code = main(["search", "neige", "Taillefer", "janvier", "2023", "zorglub", "--stac", str(tmp_path / "s.json"),
                 "--meta4", str(tmp_path / "s.meta4")])
    out = capsys.readouterr().out
    assert code == 3 and "words not understood: zorglub" in out
    assert "2 dataset(s)" in out and (tmp_path / "s.meta4").exists()


def test_search_command_writes_signed_links_to_a_served_site(dc, query_products, tmp_path, capsys):
    from urllib.parse import parse_qs

    from flows.ask.site.signing import Signer, site_key
    from flows.cli import main
    from odc_config.settings import load_settings

    meta4 = tmp_path / "served.meta4"
    assert main(["search", "neige", "Taillefer", "janvier", "2023", "--meta4", str(meta4),
                 "--base-url", "http://127.0.0.1:8080"]) == 0
    capsys.readouterr()
    urls = [u.text for u in ET.parse(meta4).getroot().iter(f"{{{METALINK_NS}}}url")]
    signer = Signer(key=site_key(load_settings().state_dir / "site"))
    assert urls and all(u.startswith("http://127.0.0.1:8080/files/") for u in urls)
    for url in urls:
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        assert signer.link_problem(parsed.path, **query) is None, url
