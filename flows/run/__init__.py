"""How work is spread: the dask cluster, fan-out of units, retries, scratch space, typed outcomes."""
