"""The map page of `snowland serve`: a static Leaflet page over the OGC services at ``/ows`` (layer switcher, time
slider over the layer's dates, legend, opacity, pixel values with a link to the dataset's page)."""

from __future__ import annotations

from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from products.errors import UnreachableError

STATIC = Path(__file__).parent / "static"
LEAFLET = STATIC / "vendor" / "leaflet" / "leaflet.js"
PATH = "/map"


class MapPageError(UnreachableError):
    """The map page cannot be served; the message says why."""


def _page(environ, start_response):
    """``/map/`` is the page; every other path that the static files do not have is a 404."""
    request = Request(environ)
    if not environ.get("PATH_INFO"):
        return redirect(f"{request.script_root}/")(environ, start_response)
    if request.path in ("/", "/index.html"):
        return Response((STATIC / "index.html").read_bytes(), mimetype="text/html")(environ, start_response)
    return NotFound()(environ, start_response)


def map_app():
    """The page and its files (Leaflet installed by ``infra/bootstrap.sh``); werkzeug refuses paths that climb out."""
    if not LEAFLET.exists():
        raise MapPageError(f"Leaflet is missing ({LEAFLET}): run infra/bootstrap.sh")
    files = SharedDataMiddleware(_page, {"/": str(STATIC)}, cache=False)

    def get_only(environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return MethodNotAllowed(valid_methods=["GET", "HEAD"])(environ, start_response)
        return files(environ, start_response)

    return get_only
