"""What each recommended site serves, and the capacity that follows from it.

A site *serves* the villages it newly covers, taken in rank order: a village reached by
several new sites counts for the first (the best-ranked) one, as the marginal gains do. A
capacity-bearing facility (childcare places, kindergarten places) gets the plan's ratio ×
the demand it serves (:data:`qjgeo.params.NEW_SITE_CAPACITY`), rounded, at least 1; the
figure is an assumption written beside it, to be edited once the site is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csc_array, csr_array

from qjgeo.catalog import Dataset
from qjgeo.params import NEW_SITE_CAPACITY


def served_villages(
    cov: csr_array, selected: NDArray[np.int64], done: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """The rank (0-based) of the new site serving each village, −1 when none does.

    Parameters
    ----------
    cov
        Villages × candidates coverage.
    selected
        Chosen candidate columns in rank order.
    done
        Villages already covered by existing facilities (served by none of the new sites).
    """
    owner = np.full(cov.shape[0], -1, dtype=np.int64)
    csc = csc_array(cov)
    for rank, j in enumerate(selected.tolist()):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        free = rows[(owner[rows] < 0) & ~done[rows]]
        owner[free] = rank
    return owner


def site_capacities(
    dataset: Dataset,
    facility_type: str,
    owner: NDArray[np.int64],
    n_sites: int,
    share: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    """Residents and children each new site serves, and the places that follows.

    Parameters
    ----------
    dataset
        Supplies the village layer (population columns).
    facility_type
        Facility layer id; a capacity is set only for types in ``NEW_SITE_CAPACITY``.
    owner
        From :func:`served_villages`.
    n_sites
        Number of new sites.
    share
        Share of each village's demand still unmet (1 where a village had no facility in
        reach; less where 2SFCA finds places in reach but too few). Default all 1.

    Returns
    -------
    pandas.DataFrame
        One row per site: ``served_villages``, ``served_population``, ``served_children``
        (of the type's age bands) and, for capacity-bearing types, ``places`` and
        ``places_basis`` / ``places_basis_zh`` (the assumption, in English and Chinese).
    """
    villages = dataset.layer("village")
    access = dataset.params.facility(facility_type)
    unmet = np.ones(len(villages)) if share is None else np.asarray(share, dtype=float)
    children = sum(villages[b].to_numpy(dtype=np.float64) for b in access.age_bands)
    frame = pd.DataFrame(
        {
            "served_villages": _per_site(owner, np.ones(len(villages)), n_sites),
            "served_population": _per_site(
                owner, villages["population"].to_numpy(dtype=np.float64) * unmet, n_sites
            ),
            "served_children": _per_site(owner, np.asarray(children) * unmet, n_sites),
        }
    )
    frame["served_villages"] = frame["served_villages"].astype(int)
    rule = NEW_SITE_CAPACITY.get(facility_type)
    if rule is not None:
        base = _per_site(owner, villages[rule.base].to_numpy(dtype=np.float64) * unmet, n_sites)
        frame["places"] = np.maximum(1, np.round(base * rule.ratio)).astype(int)
        frame["places_basis"] = [
            f"assumed: {rule.basis_en}, {b:,.0f} → {p} places; edit once the site is known"
            for b, p in zip(base, frame["places"], strict=True)
        ]
        frame["places_basis_zh"] = [
            f"假设：{rule.basis_zh}，{b:,.0f} → {p} 个；确定选址后请修改"
            for b, p in zip(base, frame["places"], strict=True)
        ]
    return frame


def _per_site(owner: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Sum of ``values`` over the villages each site serves."""
    served = owner >= 0
    return np.bincount(owner[served], weights=values[served], minlength=n)[:n].astype(np.float64)
