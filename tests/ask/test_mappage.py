"""The map page's files: only GET and HEAD, nothing outside its folder."""

from __future__ import annotations

import pytest
from werkzeug.test import Client


@pytest.fixture(scope="module")
def client() -> Client:
    from flows.ask.mappage import map_app

    return Client(map_app())


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and b"vendor/leaflet/leaflet.js" in page.data
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("").status_code == 302, "the page's folder URL ends with / so that its links resolve"


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f__init__.py",
                                  "/vendor/../../__init__.py", "/no_such_file.js"])
def test_paths_that_climb_out_or_do_not_exist_are_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_other_than_get_and_head_are_refused(client, method):
    assert client.open("/map.js", method=method).status_code == 405
    assert client.open("/map.js", method="HEAD").status_code == 200
