"""Terrain facts derived from a DEM on a regular grid (pure numpy): the sun's hillshade and relief shadows."""

from products.terrain.shadow import (
    CAST,
    LOW_HILLSHADE,
    cast_shadow,
    hillshade,
    relief_shadow,
)

__all__ = ["CAST", "LOW_HILLSHADE", "cast_shadow", "hillshade", "relief_shadow"]
