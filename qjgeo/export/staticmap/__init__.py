"""Static gap maps (PNG at 300 dpi, PDF on A4 / A3) drawn with matplotlib.

A gap map shows, for one facility type, which villages lie beyond the planning walking
distance: the district outline, township boundaries with their Chinese names, villages covered
(green) or not covered (red, larger the farther the nearest facility), the facilities, and (when
available) a hexagon surface of distance bands. Every map carries a title block (Chinese first,
English subtitle, optional figure number), a legend laid out from measured text, a location
inset, a scale bar and a north arrow in the emptiest corners, degree ticks, the scenario name and
date, the distances and method used, a data-status line naming the layers that rest on
estimated or sample data, the CRS and data dates, and source / licence attribution (ODbL when
any layer comes from OpenStreetMap). A PNG comes with a world file and ``.prj``.

The map is drawn in the metric CRS (EPSG:4547, CGCS2000 Gauss-Krüger CM 114°E), so axis units
are metres and the scale bar is exact (grid north differs from true north by < 0.2° here).
No web basemap is needed; ``basemap=True`` adds one only when the optional ``contextily``
package and a network connection are available.

The package is split by what each part draws or computes:

- :mod:`~qjgeo.export.staticmap.texts`: titles, data status, attribution, scenario and method lines
- :mod:`~qjgeo.export.staticmap.data`: gap results, distance bands and colours, layer checks
- :mod:`~qjgeo.export.staticmap.layout`: paper sizes, page boxes, one-line texts, label placement
- :mod:`~qjgeo.export.staticmap.furniture`: scale bar, north arrow, warning badge
- :mod:`~qjgeo.export.staticmap.legend`: legend entries and the legend box (measured, wrapped)
- :mod:`~qjgeo.export.staticmap.symbols`: village symbols, covered or not covered
- :mod:`~qjgeo.export.staticmap.placement`: the emptiest corners for inset, arrow and scale bar
- :mod:`~qjgeo.export.staticmap.inset`: the location inset (区位图)
- :mod:`~qjgeo.export.staticmap.georef`: degree ticks, world file, ``.prj``
- :mod:`~qjgeo.export.staticmap.mapaxes`: the map layers drawn on metric axes
- :mod:`~qjgeo.export.staticmap.panels`: the side panel (legend, township table)
- :mod:`~qjgeo.export.staticmap.figure`: the whole page and its PNG / PDF bytes

Every name is importable from ``qjgeo.export.staticmap`` as before the split.
"""

from __future__ import annotations

from qjgeo.export.staticmap.data import (
    BAND_COLOURS,
    FACILITY_COLOUR,
    UNREACHABLE_COLOUR,
    band_colours,
    band_order,
    band_styles,
    check_facility_type,
    default_facility_types,
    gaps_by_facility_type,
    prepare_gap_results,
)
from qjgeo.export.staticmap.data import (
    _metric as _metric,
)
from qjgeo.export.staticmap.data import (
    _summary_rows as _summary_rows,
)
from qjgeo.export.staticmap.data import (
    _unreachable_bands as _unreachable_bands,
)
from qjgeo.export.staticmap.errors import (
    ExportError,
)
from qjgeo.export.staticmap.figure import (
    MapPage,
    figure_bytes,
    gap_map_figure,
    gap_map_page,
    gap_map_pdf,
    gap_map_png,
    gap_map_png_files,
    page_metadata,
    title_block,
)
from qjgeo.export.staticmap.furniture import (
    ScaleBar,
    draw_badge,
    draw_north_arrow,
    draw_scale_bar,
    nice_length_m,
)
from qjgeo.export.staticmap.georef import (
    CRS_LABEL,
    draw_graticule_ticks,
    map_to_pixel,
    pixel_to_map,
    prj_text,
    world_file,
)
from qjgeo.export.staticmap.layout import (
    PAPER_IN,
    Box,
    Orientation,
    Paper,
    declutter_labels,
    font_scale,
    page_boxes,
    page_scale,
    text_lines,
)
from qjgeo.export.staticmap.layout import (
    _figsize as _figsize,
)
from qjgeo.export.staticmap.layout import (
    _renderer as _renderer,
)
from qjgeo.export.staticmap.layout import (
    _set_extent as _set_extent,
)
from qjgeo.export.staticmap.layout import (
    _split_line as _split_line,
)
from qjgeo.export.staticmap.legend import (
    LegendEntries,
    LegendItem,
    LegendLayout,
    draw_legend,
    wrap_text,
)
from qjgeo.export.staticmap.mapaxes import (
    _add_basemap as _add_basemap,
)
from qjgeo.export.staticmap.mapaxes import (
    _lines as _lines,
)
from qjgeo.export.staticmap.mapaxes import (
    _polygons as _polygons,
)
from qjgeo.export.staticmap.mapaxes import (
    draw_gap_axes,
)
from qjgeo.export.staticmap.panels import (
    _draw_side_panel as _draw_side_panel,
)
from qjgeo.export.staticmap.panels import (
    township_table_cells,
)
from qjgeo.export.staticmap.texts import (
    _STATUS_ZH as _STATUS_ZH,
)
from qjgeo.export.staticmap.texts import (
    BADGE_STATUSES,
    NO_DEMAND_LINES,
    STATUS_ORDER,
    attribution_line,
    crs_date_line,
    data_status_line,
    data_status_texts,
    district_name,
    facility_titles,
    gap_subtitle,
    map_layers,
    method_line,
    scenario_line,
    status_badge_lines,
    township_data_status,
    uses_osm,
    weakest_status,
)
from qjgeo.export.staticmap.texts import (
    _methods as _methods,
)
from qjgeo.export.staticmap.texts import (
    _strip_brackets as _strip_brackets,
)

__all__ = [
    "BADGE_STATUSES",
    "BAND_COLOURS",
    "CRS_LABEL",
    "FACILITY_COLOUR",
    "NO_DEMAND_LINES",
    "PAPER_IN",
    "STATUS_ORDER",
    "UNREACHABLE_COLOUR",
    "Box",
    "ExportError",
    "LegendEntries",
    "LegendItem",
    "LegendLayout",
    "MapPage",
    "Orientation",
    "Paper",
    "ScaleBar",
    "attribution_line",
    "band_colours",
    "band_order",
    "band_styles",
    "check_facility_type",
    "crs_date_line",
    "data_status_line",
    "data_status_texts",
    "declutter_labels",
    "default_facility_types",
    "district_name",
    "draw_badge",
    "draw_gap_axes",
    "draw_graticule_ticks",
    "draw_legend",
    "draw_north_arrow",
    "draw_scale_bar",
    "facility_titles",
    "figure_bytes",
    "font_scale",
    "gap_map_figure",
    "gap_map_page",
    "gap_map_pdf",
    "gap_map_png",
    "gap_map_png_files",
    "gap_subtitle",
    "gaps_by_facility_type",
    "map_layers",
    "map_to_pixel",
    "method_line",
    "nice_length_m",
    "page_boxes",
    "page_metadata",
    "page_scale",
    "pixel_to_map",
    "prepare_gap_results",
    "prj_text",
    "scenario_line",
    "status_badge_lines",
    "text_lines",
    "title_block",
    "township_data_status",
    "township_table_cells",
    "uses_osm",
    "weakest_status",
    "world_file",
    "wrap_text",
]
