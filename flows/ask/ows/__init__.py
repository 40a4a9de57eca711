"""OGC web services (WMS 1.3, WMTS, WCS) over the cube: datacube-ows with a configuration generated from the product
YAMLs and the land-cover nomenclatures."""
