"""Source formats turned into eo3 documents: STAC items, Theia folders, raster files on disk, eo-learn patches."""
