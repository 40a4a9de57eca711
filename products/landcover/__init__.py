"""Land cover, iota2 / OSO style (yearly maps) and at key dates in near real time (science.md part B).

Pure functions on numpy / xarray (dask-friendly per pixel); the flows do the I/O.

- `nomenclature`: OSO 17 / 23 classes, levels and class mappings, read from `nomenclatures/`
- `validity`: per-date clear mask from CLM / SCL / QA_PIXEL; clear-observation count
- `gapfill`: linear temporal gap filling onto a regular date grid
- `features`: bands, NDVI, NDWI, brightness per grid date -> (y, x, feature)
- `samples`: sample pixels from polygon rasters, stratified split by polygon, runs
- `classify`: random forests (iota2 and faster), training, class + confidence maps
- `validation`: OA, kappa, per-class F1, confusion, t intervals (written by `flows.pipelines.landcover.report`)
- `nrt`: key-date features, models and maps
- `sieve`: minimum mapping unit regularisation


Models are saved by `flows.storage.models`; the model choice is measured by `bench/bench_landcover.py`.
"""
