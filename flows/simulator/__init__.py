"""A simulated world to test snowland on: SIMULATED data only, never presented as observations.

Pure model (numpy/scipy, shapely/pyproj for geometry; no files, no database):

- ``geometry``: the world grid (EEA reference grid, EPSG:3035, 20 m), Sentinel-2 MGRS tiles and their pixel
  lattice, Landsat C2 UTM grids, WRS-2 names.
- ``terrain``: a mountain range with a main valley (elevation, slope, aspect, sun incidence).
- ``landcover``: Voronoi parcels with OSO 23-class codes, crop rotations, class phenology -> reflectance.
- ``snow``: snowline by date (season + each year's weather) and snow cover from elevation and exposure.
- ``atmosphere``: clouds (soft edges, dark parts), their shadows, cirrus.
- ``spectra``: the materials' reflectance in the ten 10/20 m Sentinel-2 bands, the one table of spectra.
- ``sensors``: how Sentinel-2 L2A and Landsat-8 C2 L2 encode and name what they see.
- ``world``: ``build_world(seed, size_km, centre)`` and ``World.state(day)``, everything a sensor sees on a day,
  with the truth (snow, clouds) and the SCL / QA_PIXEL a perfect classifier would write.

``flows/simulator/scenes.py`` writes it all to disk as COGs with STAC items (``simulate_scenes``), through the one
writer (``flows.storage.writer``). ``landcover_series`` makes, without a world, a small yearly series over parcels of
known OSO 23 class for the land-cover tests and benchmark, from the same spectra and the same parcel geometry.
"""

from flows.simulator.geometry import DEFAULT_CENTRE, WorldGrid
from flows.simulator.world import SceneState, World, build_world

__all__ = ["DEFAULT_CENTRE", "SceneState", "World", "WorldGrid", "build_world"]
