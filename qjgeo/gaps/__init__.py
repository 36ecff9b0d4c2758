"""Coverage gaps: which villages' children live beyond walking distance of a facility.

For one facility type (``childcare``, ``kindergarten``, ``primary_school``, ``science_venue``,
``park``...), :func:`compute_gaps` measures, for every village / community, the walking
distance to the nearest facility of that type and compares it with the service distance of
the village's class (城乡分类 1xx urban, 2xx rural). The children counted are the age band
the facility serves (:class:`qjgeo.params.FacilityAccess`, e.g. childcare 0–2, kindergarten
3–5, primary school 6–11, science venue 6–14, park 0–14). Results are given per village, per
township and for the whole district, with the distances used (``params_used``) and the data
status of the layers they rest on (``data_status``, ``weak_layers``).

:func:`gap_surface` paints the same distances on a hexagonal grid over the settled area;
:func:`childcare_accessibility` gives 2SFCA / enhanced 2SFCA childcare places per 1,000
children aged 0–2 per village and township.

Rules
-----
- Coverage is inclusive: a village whose nearest facility is *exactly* the service distance
  away is covered (``distance_m <= threshold_m``, with a relative tolerance of 1e-9 for
  floating-point sums of edge lengths).
- Distances come from :func:`qjgeo.access.nearest_facility`: walking distance on a network
  when one is given, otherwise the straight line × the dataset's detour factor, and the
  ``method`` column says which. A village that cannot reach any facility (empty facility
  layer, off the network, another network component) gets ``distance_m = inf``, is not
  covered, and its ``method`` starts with ``"unreachable"``; it is never given a distance
  of zero.
- With a travel mode, ``distance_m`` and ``threshold_m`` are the search's costs (travel time
  as metres at the mode's reference speed, :mod:`qjgeo.modes`) and decide coverage;
  ``time_min`` is the travel time and ``route_m`` the route's length in metres, what tables
  show as the distance. For walking, cycling and the straight-line estimate ``route_m`` equals
  ``distance_m``; on a drive network it is the fastest route's real length.
- A facility layer *absent* from the dataset is not the same as an empty one: it raises
  :class:`GapsUnavailable` ("not available"), while an empty layer gives the stated result
  "no facilities" (every child uncovered, distance ``inf``).

Modules
-------
- :mod:`qjgeo.gaps.compute`: :func:`compute_gaps`, :func:`compute_all_gaps`, :class:`GapResult`;
- :mod:`qjgeo.gaps.surface`: :func:`gap_surface`, :func:`hex_grid`, :func:`outline_cell_size`;
- :mod:`qjgeo.gaps.supply_demand`: :func:`childcare_accessibility` (2SFCA);
- :mod:`qjgeo.gaps.bands`: distance bands; :mod:`qjgeo.gaps.inputs`: what is read from a
  dataset (:func:`work_crs`, :func:`gap_types`, :class:`GapsUnavailable`);
- :mod:`qjgeo.gaps.report`: :func:`gaps_report`, one request of ``qjgeo gaps`` (options in,
  :class:`GapsReport` out), writing files with :mod:`qjgeo.gaps.files`.

Everything is imported from :mod:`qjgeo.gaps` itself.
"""

from __future__ import annotations

from qjgeo.gaps.bands import (
    DEFAULT_BAND_MARKS_M,
    UNREACHABLE_BAND,
    band_edges,
    band_labels,
    classify_distance,
)
from qjgeo.gaps.compute import GapResult, compute_all_gaps, compute_gaps, surface_only_result
from qjgeo.gaps.files import write_gap_surface, write_gap_villages
from qjgeo.gaps.inputs import GapsOptionError, GapsUnavailable, gap_types, work_crs
from qjgeo.gaps.report import GapsReport, gaps_report
from qjgeo.gaps.supply_demand import AccessibilityResult, childcare_accessibility
from qjgeo.gaps.surface import (
    DEFAULT_CELL_SIZE_M,
    DEFAULT_SETTLED_RADIUS_M,
    gap_surface,
    hex_grid,
    outline_cell_size,
)

__all__ = [
    "DEFAULT_BAND_MARKS_M",
    "DEFAULT_CELL_SIZE_M",
    "DEFAULT_SETTLED_RADIUS_M",
    "UNREACHABLE_BAND",
    "AccessibilityResult",
    "GapResult",
    "GapsOptionError",
    "GapsReport",
    "GapsUnavailable",
    "band_edges",
    "band_labels",
    "childcare_accessibility",
    "classify_distance",
    "compute_all_gaps",
    "compute_gaps",
    "gap_surface",
    "gap_types",
    "gaps_report",
    "hex_grid",
    "outline_cell_size",
    "surface_only_result",
    "work_crs",
    "write_gap_surface",
    "write_gap_villages",
]
