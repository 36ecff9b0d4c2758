"""What a gap map draws: the gap results, the distance bands and their colours, the layers.

Everything here is data (frames, band order, colours, checks); nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS
from qjgeo.export.staticmap.errors import ExportError

#: Colours for distance bands, nearest first (green → red); unreachable is grey.
BAND_COLOURS: tuple[str, ...] = ("#1a9850", "#a6d96a", "#fee08b", "#fc8d59", "#d73027", "#a50026")
UNREACHABLE_COLOUR = "#8c8c8c"
FACILITY_COLOUR = "#1f3a93"


def band_order(frame: pd.DataFrame) -> list[str]:
    """Distance bands of a frame, nearest first (categorical order when the column has one).

    Bands are ordered by the ``band_order`` column when present (:mod:`qjgeo.gaps`), else by
    their mean ``distance_m / threshold_m`` (or ``distance_m``) when the
    column is plain text; bands whose distances are all infinite (unreachable) come last.
    """
    column = frame["distance_band"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories]
    bands = [str(b) for b in pd.unique(column.dropna())]
    if "band_order" in frame.columns:
        rank = frame.groupby(column.astype(str).to_numpy())["band_order"].min()
        return sorted(bands, key=lambda b: (float(rank.get(b, np.inf)), b))
    if "distance_m" not in frame.columns:
        return sorted(bands)
    dist = frame["distance_m"].to_numpy(dtype=float)
    if "threshold_m" in frame.columns:
        dist = dist / frame["threshold_m"].to_numpy(dtype=float)
    key = pd.Series(np.where(np.isfinite(dist), dist, np.inf)).groupby(
        column.astype(str).to_numpy()
    )
    finite_mean = key.apply(
        lambda s: float(s[np.isfinite(s)].mean()) if np.isfinite(s).any() else np.inf
    )
    return sorted(bands, key=lambda b: (float(finite_mean.get(b, np.inf)), b))


def band_colours(bands: Sequence[str], unreachable: Sequence[str] = ()) -> dict[str, str]:
    """Colours for ordered bands: green for the nearest, red for the farthest, grey unreachable."""
    reach = [b for b in bands if b not in set(unreachable)]
    n = len(reach)
    if n <= 1:
        picks = [BAND_COLOURS[0]] * n
    else:
        cmap = matplotlib.colormaps["RdYlGn_r"]
        picks = [matplotlib.colors.to_hex(cmap(v)) for v in np.linspace(0.05, 0.95, n)]
    colours = dict(zip(reach, picks, strict=True))
    colours.update({b: UNREACHABLE_COLOUR for b in bands if b in set(unreachable)})
    return colours


def _unreachable_bands(frames: Sequence[pd.DataFrame]) -> list[str]:
    out: list[str] = []
    for frame in frames:
        if "distance_m" not in frame.columns or not len(frame):
            continue
        finite = pd.Series(np.isfinite(frame["distance_m"].to_numpy(dtype=float)))
        any_finite = finite.groupby(frame["distance_band"].astype(str).to_numpy()).any()
        out.extend(str(b) for b, ok in any_finite.items() if not ok)
    return list(dict.fromkeys(out))


def band_styles(frames: Sequence[pd.DataFrame]) -> tuple[list[str], dict[str, str]]:
    """The distance bands of the frames drawn (nearest first) and a colour for each band.

    Bands reached by no finite distance in any frame are grey.
    """
    cols = ["distance_band", "band_order", "distance_m", "threshold_m"]
    both = pd.concat(
        [pd.DataFrame(f)[[c for c in cols if c in f.columns]] for f in frames], ignore_index=True
    )
    bands: list[str] = band_order(both) if len(both) else []
    return bands, band_colours(bands, _unreachable_bands(frames))


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ExportError("a layer has no CRS; cannot place it on the map")
    return frame.to_crs(METRIC_CRS)


def check_facility_type(
    dataset: Dataset, facility_type: str, *, need_villages: bool = True
) -> None:
    """Refuse a facility type the dataset lacks or has no walking distance for (and a
    dataset without villages when ``need_villages``)."""
    if not dataset.has(facility_type):
        raise ExportError(
            f"dataset {dataset.info.id!r} has no layer {facility_type!r}: not available "
            f"(has: {', '.join(dataset.layer_ids)})"
        )
    try:
        dataset.params.facility(facility_type)
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None
    if need_villages and not dataset.has("village"):
        raise ExportError(
            f"dataset {dataset.info.id!r} has no village layer: children beyond reach cannot be "
            f"counted, so there is no gap map or report to export; the distance surface alone is "
            f"on the app's Gaps page, or `qjgeo gaps --type {facility_type} --surface FILE.gpkg`"
        )


def prepare_gap_results(
    dataset: Dataset,
    facility_type: str,
    *,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    graph: Any = None,
) -> tuple[Any, gpd.GeoDataFrame | None]:
    """The gaps and gap hexagons a map or data export shows, computed when not given.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    gaps
        A precomputed :class:`qjgeo.gaps.GapResult`; computed when ``None``.
    surface
        Precomputed gap hexagons; computed with :func:`qjgeo.gaps.gap_surface` when ``None``;
        left out when ``False``.
    graph
        Walking network for what is computed (straight line × detour factor when ``None``).

    Returns
    -------
    tuple
        The :class:`qjgeo.gaps.GapResult` and the hexagons (``None`` when left out).

    Raises
    ------
    ExportError
        If the facility layer is missing (:func:`check_facility_type`). A dataset without
        villages gets the surface alone (always computed) and
        :func:`qjgeo.gaps.surface_only_result`.
    """
    check_facility_type(dataset, facility_type, need_villages=False)
    from qjgeo.gaps import gap_surface

    if not dataset.has("village"):
        # no demand (an OSM import): the distance surface over the outline, no children
        from qjgeo.gaps import outline_cell_size, surface_only_result

        if surface is None or surface is False:
            surface = gap_surface(
                dataset, facility_type, graph=graph, cell_size_m=outline_cell_size(dataset)
            )
        if gaps is None:
            gaps = surface_only_result(dataset, facility_type, surface)
        return gaps, surface
    if gaps is None:
        from qjgeo.gaps import compute_gaps

        gaps = compute_gaps(dataset, facility_type, graph=graph)
    if surface is None:
        surface = gap_surface(dataset, facility_type, graph=graph)
    return gaps, (None if surface is False else surface)


def gaps_by_facility_type(
    dataset: Dataset, facility_types: Iterable[str], *, graph: Any = None
) -> dict[str, Any]:
    """Gap results of several facility types, skipping those whose gaps cannot be computed.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_types
        Facility layer ids, in the order wanted.
    graph
        Walking network for the distances (straight line × detour factor when ``None``).

    Returns
    -------
    dict
        ``{facility_type: GapResult}`` for each type with gaps (no layer or no walking
        distance: left out).
    """
    from qjgeo.gaps import GapsUnavailable, compute_gaps

    out: dict[str, Any] = {}
    for ft in facility_types:
        try:
            out[ft] = compute_gaps(dataset, ft, graph=graph)
        except (GapsUnavailable, KeyError):
            continue
    return out


def default_facility_types(dataset: Dataset) -> tuple[str, ...]:
    """Facility types the dataset holds and has walking distances for."""
    return tuple(ft for ft in dataset.params.access if dataset.has(ft))


def _summary_rows(gaps: Any) -> pd.DataFrame:
    t = pd.DataFrame(gaps.townships).copy()
    t = t.sort_values("share_covered", ascending=True, na_position="last")
    return t
