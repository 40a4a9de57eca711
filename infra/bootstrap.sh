#!/usr/bin/env bash
# Install what snowland needs on a fresh Debian machine; fast (a few seconds) when already done.
#   - PostgreSQL 15 + PostGIS 3 from Debian (needs root; otherwise says which packages to install)
#   - a Python 3.12 virtual environment in .venv with the locked dependencies and the project
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
lock="$root/infra/requirements.lock"
stamp="$venv/.snowland-installed"

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- headless Chromium and its WebDriver: the demo's map screenshot (out/map.png) and the browser tests ---
if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  if [ "$(id -u)" = 0 ]; then
    say "installing chromium chromium-driver from Debian (the demo's map screenshot, the browser tests)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    say "the map screenshot and browser tests need Debian's chromium and chromium-driver; as root run:" \
        "apt-get install chromium chromium-driver"
  fi
fi
# --- `--test`: aria2c, Debian's Metalink downloader, fetches an order of the distribution site in its test ---
if [ "${1:-}" = "--test" ] && ! command -v aria2c >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    say "installing aria2 from Debian (Metalink download test of snowland serve)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends aria2 >/dev/null
  else
    say "the Metalink download test needs Debian's aria2; as root run: apt-get install aria2"
  fi
fi
# --- end --test ---

pg_bin=/usr/lib/postgresql/15/bin
if [ ! -x "$pg_bin/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  pkgs="postgresql-15 postgresql-15-postgis-3"
  if [ "$(id -u)" = 0 ]; then
    say "installing $pkgs from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  else
    say "PostgreSQL 15 with PostGIS 3 is missing; as root run: apt-get install $pkgs"
    say "(or point ODC_ENVIRONMENT / ODC_<ENV>_DB_URL at a PostGIS database of your own)"
    exit 1
  fi
fi

# Leaflet for the map page of `snowland serve`, from the npm registry (never a CDN), into a git-ignored folder.
leaflet_version=1.9.4
leaflet_dir="$root/flows/ask/mappage/static/vendor/leaflet"
if [ ! -f "$leaflet_dir/.version-$leaflet_version" ]; then
  if command -v npm >/dev/null; then
    say "installing leaflet $leaflet_version from the npm registry into $leaflet_dir"
    rm -rf "$leaflet_dir" && mkdir -p "$leaflet_dir"
    (cd "$leaflet_dir" && npm pack -q "leaflet@$leaflet_version" >/dev/null 2>&1 \
      && tar -xzf "leaflet-$leaflet_version.tgz" --strip-components=2 package/dist \
      && rm "leaflet-$leaflet_version.tgz" && touch ".version-$leaflet_version")
  else
    say "the map page of snowland serve needs Leaflet: install npm (apt-get install npm) and run this again"
  fi
fi

find_python() {
  local c
  for c in "${SNOWLAND_PYTHON:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      command -v "$c" 2>/dev/null || echo "$c"
      return 0
    fi
  done
  return 1
}

if [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ] && [ "$stamp" -nt "$root/pyproject.toml" ]; then
  exit 0
fi

python=$(find_python) || { say "Python 3.12 not found: install it or set SNOWLAND_PYTHON=/path/to/python3.12"; exit 1; }
# A uv that runs: pyenv puts a `uv` shim on PATH that fails unless its Python version is the active one,
# and pip may put uv beside that Python rather than on PATH; uv's own module knows where.
find_uv() {
  local c
  for c in "$(command -v uv 2>/dev/null)" "$("$python" -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null)"; do
    if [ -n "$c" ] && "$c" --version >/dev/null 2>&1; then echo "$c"; return 0; fi
  done
  return 1
}
if ! uv=$(find_uv); then
  say "installing uv"
  "$python" -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1 || python3 -m pip install -q uv >/dev/null
  uv=$(find_uv) || { say "uv was installed but does not run; install it (pip install uv) and run this again"; exit 1; }
fi
[ -x "$venv/bin/python" ] || { say "creating $venv with $python"; "$uv" venv -q -p "$python" "$venv"; }
say "installing locked dependencies and the project into .venv"
"$uv" pip install -q -p "$venv/bin/python" --compile-bytecode -r "$lock"
"$uv" pip install -q -p "$venv/bin/python" --no-deps --config-settings editable_mode=compat -e "$root"
touch "$stamp"
say "done"
