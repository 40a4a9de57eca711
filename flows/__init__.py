"""snowland's flows and the I/O they share, by role along the road of the data:

- ``storage``: every byte that crosses the boundary (the ODC index, sources -> eo3, loading on the EEA grid, the one
  product writer, model files, reference vectors);
- ``run``: how work is spread (the dask cluster, fan-out, retries, scratch space, typed outcomes);
- ``pipelines``: the Prefect flows, one per job;
- ``ask``: queries, catalogue search, pictures and the web server;
- ``simulator``: the simulated world and the scenes it writes;
- ``cli``: the ``snowland`` command, a thin shell over pipelines and ask.
"""
