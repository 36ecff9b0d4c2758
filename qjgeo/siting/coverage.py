"""Dataset-level coverage: which villages reach which sites within their walking distance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_array

from qjgeo.catalog import Dataset
from qjgeo.siting.solvers import _covered_by

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph


def _demand_villages(
    dataset: Dataset, facility_type: str
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64], NDArray[np.float64]]:
    """Villages (metric), children per village and walking threshold per village (m)."""
    access = dataset.params.facility(facility_type)
    villages = dataset.metric("village")
    children = np.zeros(len(villages), dtype=np.float64)
    for band in access.age_bands:
        children += villages[band].to_numpy(dtype=np.float64)
    urban = villages["urban"].fillna(False).astype(bool).to_numpy()
    threshold = np.where(urban, access.urban_threshold_m, access.rural_threshold_m).astype(float)
    return villages, children, threshold


def coverage_matrix(
    dataset: Dataset,
    facility_type: str,
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    graph: WalkGraph | None = None,
) -> csr_array:
    """Which sites each village can reach within its threshold (villages × sites, bool).

    Parameters
    ----------
    dataset
        Supplies the villages (demand points), the thresholds of the facility type
        (urban or rural per village) and the detour factor.
    facility_type
        Facility layer id whose access parameters apply.
    sites
        Points in any CRS (facilities or candidates).
    graph
        Walking network; without one, straight line × the detour factor.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean, shape (villages, sites).
    """
    from qjgeo.access import distance_matrix_within

    villages, _, threshold = _demand_villages(dataset, facility_type)
    if len(villages) == 0 or len(sites) == 0:
        return csr_array((len(villages), len(sites)), dtype=bool)
    dist = csr_array(
        distance_matrix_within(
            graph,
            villages,
            sites,
            max_distance_m=float(threshold.max()),
            detour_factor=dataset.params.detour_factor,
            snap_limit_m=dataset.params.snap_limit_m,
        )
    )
    row = np.repeat(np.arange(dist.shape[0]), np.diff(dist.indptr))
    keep = dist.data <= threshold[row] * (1 + 1e-9)
    return csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (row[keep], dist.indices[keep])),
        shape=dist.shape,
    )


def village_coverage(
    dataset: Dataset, facility_type: str, *, graph: WalkGraph | None = None
) -> pd.DataFrame:
    """Whether each village reaches an existing facility of a type within its threshold.

    Returns
    -------
    pandas.DataFrame
        ``code12, name, township_code, children, covered``, one row per village.
    """
    villages, children, _ = _demand_villages(dataset, facility_type)
    facilities = dataset.layer(facility_type)
    covered = (
        _covered_by(
            coverage_matrix(dataset, facility_type, facilities, graph=graph),
            np.arange(len(facilities)),
        )
        if len(facilities)
        else np.zeros(len(villages), dtype=bool)
    )
    return pd.DataFrame(
        {
            "code12": villages["code12"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "township_code": villages["township_code"].astype(str).to_numpy(),
            "children": children,
            "covered": covered,
        }
    )
