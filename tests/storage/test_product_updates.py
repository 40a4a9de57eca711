"""Product definitions that change between versions: what an existing index takes in place."""

import yaml

from flows.storage.index import add_product
from products import PRODUCTS_DIR


def test_a_land_cover_product_made_at_20_m_takes_the_10_m_load_default_in_place(dc):
    definition = yaml.safe_load((PRODUCTS_DIR / "landcover" / "land_cover.odc-product.yaml").read_text())
    definition["name"] = definition["metadata"]["product"]["name"] = "land_cover_made_at_20m"
    assert definition["load"]["resolution"] == {"y": -10, "x": 10}
    add_product(dc.index, {**definition, "load": {**definition["load"], "resolution": {"y": -20, "x": 20}}})
    add_product(dc.index, definition)
    load = dc.index.products.get_by_name("land_cover_made_at_20m").load_hints()
    assert (load["resolution"].y, load["resolution"].x) == (-10, 10)
