"""Children where they live: demand units estimated from OSM buildings or population grids.

See :mod:`qjgeo.demand.estimate` for the method. The package imports nothing heavy at import
time, so :mod:`qjgeo.osm_import` can use :mod:`qjgeo.demand.osm_layers` without a circle.
"""
