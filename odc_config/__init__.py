"""Configuration as data: the datacube environment, grid and areas, overridable by environment variables."""
