// The map page: every layer, style and date comes from the WMS GetCapabilities of the server's /ows.
"use strict";
const OWS = new URL("../ows/", window.location.href).toString();
const WMS_NS = "http://www.opengis.net/wms";
const BASE_LAYER = "dem_cop30";
const state = { layers: {}, overlay: null, layer: null };
const map = L.map("map", { zoomControl: true });
const $ = (id) => document.getElementById(id);

function child(node, name) {
  return Array.from(node.children).find((c) => c.localName === name);
}

function parseCapabilities(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const layers = {};
  for (const node of doc.getElementsByTagNameNS(WMS_NS, "Layer")) {
    const name = child(node, "Name");
    if (!name || child(node, "Layer")) continue;
    const box = child(node, "EX_GeographicBoundingBox");
    const value = (tag) => parseFloat(child(box, tag).textContent);
    const dim = Array.from(node.children).find((c) => c.localName === "Dimension" && c.getAttribute("name") === "time");
    layers[name.textContent] = {
      title: child(node, "Title").textContent,
      styles: Array.from(node.children).filter((c) => c.localName === "Style").map((s) => ({
        name: child(s, "Name").textContent, title: child(s, "Title").textContent })),
      times: dim ? dim.textContent.trim().split(",") : [],
      bounds: [[value("southBoundLatitude"), value("westBoundLongitude")],
               [value("northBoundLatitude"), value("eastBoundLongitude")]],
    };
  }
  return layers;
}

function wms(name, style, time, opacity) {
  const params = { layers: name, styles: style, format: "image/png", transparent: true, version: "1.3.0",
                   tileSize: 256, opacity: opacity };
  if (time) params.time = time;
  return L.tileLayer.wms(OWS, params);
}

function selected() {
  const layer = state.layers[$("layer").value];
  const time = layer.times.length ? layer.times[parseInt($("time").value, 10)] : "";
  return { name: $("layer").value, layer: layer, style: $("style").value, time: time };
}

function redraw() {
  const s = selected();
  $("date").textContent = s.time || "(one date)";
  if (state.overlay) map.removeLayer(state.overlay);
  state.overlay = wms(s.name, s.style, s.time, parseInt($("opacity").value, 10) / 100).addTo(map);
  $("legend").innerHTML = "";
  const legend = new URL(OWS);
  Object.entries({ service: "WMS", version: "1.3.0", request: "GetLegendGraphic", layer: s.name,
                   style: s.style, format: "image/png" }).forEach(([k, v]) => legend.searchParams.set(k, v));
  const img = document.createElement("img");
  img.alt = "legend of " + s.name + " " + s.style;
  img.onerror = () => { img.remove(); };
  img.src = legend.toString();
  $("legend").appendChild(img);
  $("title").textContent = s.layer.title + (s.time ? " - " + s.time : "");
  document.body.dataset.layer = s.name;
  document.body.dataset.time = s.time;
}

function chooseLayer(fit) {
  const layer = state.layers[$("layer").value];
  $("style").innerHTML = "";
  for (const style of layer.styles) $("style").add(new Option(style.title, style.name));
  $("time").max = Math.max(layer.times.length - 1, 0);
  $("time").value = $("time").max;
  if (fit) map.fitBounds(layer.bounds);
  redraw();
}

async function pixel(event) {
  const s = selected();
  const size = map.getSize();
  const bounds = map.getBounds();
  const sw = L.CRS.EPSG3857.project(bounds.getSouthWest());
  const ne = L.CRS.EPSG3857.project(bounds.getNorthEast());
  const point = map.latLngToContainerPoint(event.latlng);
  const url = new URL(OWS);
  Object.entries({ service: "WMS", version: "1.3.0", request: "GetFeatureInfo", layers: s.name,
                   query_layers: s.name, styles: "", crs: "EPSG:3857", info_format: "application/json",
                   bbox: [sw.x, sw.y, ne.x, ne.y].join(","), width: size.x, height: size.y,
                   i: Math.round(point.x), j: Math.round(point.y) }).forEach(([k, v]) => url.searchParams.set(k, v));
  if (s.time) url.searchParams.set("time", s.time);
  const answer = await (await fetch(url)).json();
  const data = (answer.features[0] || { properties: { data: [] } }).properties.data;
  $("info").textContent = data.length ? JSON.stringify(data[0].bands, null, 1) : "no data here";
  const lon = event.latlng.lng, lat = event.latlng.lat;
  const stac = new URL("../stac/search", window.location.href);
  stac.searchParams.set("collections", s.name);
  stac.searchParams.set("bbox", [lon, lat, lon, lat].join(","));
  if (s.time) stac.searchParams.set("datetime", s.time + "T00:00:00Z/" + s.time + "T23:59:59Z");
  const found = await (await fetch(stac)).json();
  for (const item of found.features || []) {
    const link = document.createElement("a");
    link.href = "../dataset/" + item.id;
    link.textContent = "\ndataset " + item.id;
    link.className = "dataset";
    $("info").appendChild(link);
  }
}

async function start() {
  const url = OWS + "?service=WMS&version=1.3.0&request=GetCapabilities";
  state.layers = parseCapabilities(await (await fetch(url)).text());
  if (state.layers[BASE_LAYER]) wms(BASE_LAYER, "hillshade", "", 1).addTo(map);
  for (const [name, layer] of Object.entries(state.layers)) $("layer").add(new Option(layer.title, name));
  if (state.layers.snow_cover) $("layer").value = "snow_cover";
  $("layer").onchange = () => chooseLayer(true);
  $("style").onchange = redraw;
  $("time").oninput = redraw;
  $("opacity").oninput = () => state.overlay.setOpacity(parseInt($("opacity").value, 10) / 100);
  map.on("click", pixel);
  chooseLayer(true);
  document.body.dataset.ready = "yes";
}

start();
