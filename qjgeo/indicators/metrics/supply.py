"""Supply–demand metrics: childcare places per 1,000 children within reach (2SFCA).

:func:`supply_demand_share` reads the 2SFCA value of every village
(:func:`qjgeo.gaps.childcare_accessibility`) against the plan's ratio of childcare places
(6 per 1,000 residents, 二(四) 主要目标5) and reports the share of children aged 0–2 who
live in villages below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qjgeo.indicators.metrics.base import (
    MetricCache,
    MetricResult,
    _codes,
    _failing,
    _guard,
    _population,
    _require,
    _share_rows,
)
from qjgeo.indicators.targets import SupplyDemandParams
from qjgeo.measure import NotAvailableError, unit_names

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph


def _supply_layers(params: SupplyDemandParams) -> tuple[str, ...]:
    nursery = ("kindergarten",) if params.include_kindergarten_nursery else ()
    return ("village", "childcare", *nursery, "district")


def children_ratio(
    dataset: Dataset, places_per_1000_residents: float, age_bands: Sequence[str]
) -> float:
    """The plan's ratio per 1,000 residents as places per 1,000 children of ``age_bands``.

    ``ratio × residents ÷ children`` of the district layer (else of the townships, else of
    the villages): 6 places per 1,000 residents with 3.65 % of residents aged 0–2 is about
    164 places per 1,000 children aged 0–2.

    Parameters
    ----------
    dataset
        Gives the residents and children.
    places_per_1000_residents
        The plan's ratio.
    age_bands
        The children counted (e.g. ``("pop_0_2",)``).

    Raises
    ------
    NotAvailableError
        If no admin layer gives residents and children.
    """
    for layer_id in ("district", "township", "village"):
        if dataset.has(layer_id) and len(dataset.layer(layer_id)):
            frame = dataset.layer(layer_id)
            residents = float(_population(frame, ["population"], layer_id).sum())
            children = float(_population(frame, list(age_bands), layer_id).sum())
            if residents > 0 and children > 0:
                return places_per_1000_residents * residents / children
    raise NotAvailableError("not available: no residents or children to convert the plan's ratio")


@_guard(_supply_layers)
def supply_demand_share(
    dataset: Dataset,
    *,
    params: SupplyDemandParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Share (%) of children aged 0–2 living in villages below the plan's childcare ratio.

    Each village's childcare places per 1,000 children within reach (classic 2SFCA, step
    catchment: childcare places + kindergarten nursery places as supply, children of the
    childcare age bands as demand) is compared with the plan's ratio converted by
    :func:`children_ratio`; a village strictly below it counts all its children.

    Parameters
    ----------
    dataset
        The dataset (``village``, ``childcare``; kindergartens when nursery places count).
    params
        The plan's ratio, the catchment and whether nursery places count.
    per_township
        Also one row per township (its children; NaN without children).
    graph
        Walking network; ``None`` = straight line × the detour factor.
    cache
        Unused.

    Returns
    -------
    MetricResult
        numerator = children in villages below the ratio, denominator = children, value
        in %; failing units = those villages with their 2SFCA value ("二村 0"), most
        children first; ``extra``: the threshold per 1,000 children and the 2SFCA method.
    """
    del cache
    from qjgeo.gaps.inputs import GapsUnavailable
    from qjgeo.gaps.supply_demand import childcare_accessibility

    _require(dataset, "village", "childcare")
    try:
        result = childcare_accessibility(
            dataset,
            threshold_m=params.catchment_m,
            graph=graph,
            include_kindergarten_nursery=params.include_kindergarten_nursery,
        )
    except GapsUnavailable as exc:
        raise NotAvailableError(f"not available: {exc}") from exc
    bands = tuple(result.params_used["age_bands"])
    threshold = children_ratio(dataset, params.plan_places_per_1000_residents, bands)
    villages = result.villages
    children = villages["children"].to_numpy(dtype=float)
    ratio = villages["places_per_1000_children"].to_numpy(dtype=float)
    below = ratio < threshold * (1 - 1e-9)
    codes = _codes(villages["township_code"])
    labels = np.array(
        [f"{n} {r:.0f}" for n, r in zip(unit_names(villages), ratio, strict=True)], dtype=object
    )
    order = np.argsort(-children, kind="stable")
    failing = _failing(
        codes.to_numpy(dtype=object)[order], labels[order], (below & (children > 0))[order]
    )
    rows = _share_rows(
        dataset,
        per_township=per_township,
        township_codes=codes,
        weight=children,
        meets=below,
        failing=failing,
        empty_note="not applicable: no children of this age here",
        method=str(result.params_used["distance_method"]),
    )
    said = (
        f"2SFCA below {threshold:.0f} places per 1,000 children aged 0–2 "
        f"(= {params.plan_places_per_1000_residents:g} per 1,000 residents) "
        f"低于每千名婴幼儿{threshold:.0f}个托位"
    )
    rows["note"] = [f"{n}; {said}" if n else said for n in rows["note"]]
    supply = (s.split(".")[0] for s in result.params_used["supply"])
    used = ["village", "township", "district", *supply]
    return MetricResult(
        rows=rows,
        layers_used=tuple(dict.fromkeys(lid for lid in used if dataset.has(lid))),
        extra={"threshold_per_1000_children": threshold, "sfca": result.method},
    )
