"""Comparing two datasets: indicator deltas, children newly covered, status flips."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.scenario.apply import apply
from qjgeo.scenario.model import BASELINE, Scenario, load_scenario

if TYPE_CHECKING:
    from qjgeo.indicators.targets import TargetsFile
    from qjgeo.network import WalkGraph


# --------------------------------------------------------------------------------------
# Comparing


@dataclass(frozen=True)
class Comparison:
    """What changes between two datasets (usually a baseline and a scenario).

    Attributes
    ----------
    name_a, name_b
        Scenario names (``"baseline"`` for none).
    indicators
        One row per indicator and scope: ``id, scope, value_a, value_b, delta, met_a,
        met_b, flipped, scope_name`` (from :func:`qjgeo.indicators.evaluate`).
    coverage
        One row per facility type: ``facility_type, children, covered_a, covered_b,
        newly_covered, newly_uncovered, share_a, share_b``.
    villages_flipped
        Villages whose covered status changes: ``facility_type, code12, name,
        township_code, children, covered_a, covered_b``.
    townships_flipped
        Townships whose indicator status changes (met → not met or back): ``id, scope,
        met_a, met_b``, plus townships whose uncovered children change.
    data_status
        ``official``/``estimated``/``sample``: the weakest data the comparison rests on.
    notes
        What could not be computed and why.
    """

    name_a: str
    name_b: str
    indicators: pd.DataFrame
    coverage: pd.DataFrame
    villages_flipped: pd.DataFrame
    townships_flipped: pd.DataFrame
    data_status: str
    notes: tuple[str, ...] = ()


_INDICATOR_COLUMNS = ["id", "scope", "value_a", "value_b", "delta", "met_a", "met_b", "flipped"]
_COVERAGE_COLUMNS = [
    "facility_type",
    "children",
    "covered_a",
    "covered_b",
    "newly_covered",
    "newly_uncovered",
    "share_a",
    "share_b",
]
_VILLAGE_COLUMNS = [
    "facility_type",
    "code12",
    "name",
    "township_code",
    "children",
    "covered_a",
    "covered_b",
]


def evaluate_indicators(dataset: Dataset, graph: WalkGraph | None = None) -> pd.DataFrame:
    """The plan indicators of a dataset (:func:`qjgeo.indicators.evaluate`)."""
    from qjgeo.indicators import evaluate

    return evaluate(dataset, graph=graph)


def evaluate(
    dataset: Dataset,
    targets: TargetsFile | str | Path | None = None,
    scenario: Scenario | str | Path | None = None,
    *,
    graph: WalkGraph | None = None,
    indicators: list[str] | None = None,
) -> pd.DataFrame:
    """The plan indicators of a dataset with a scenario applied first.

    :func:`qjgeo.indicators.evaluate` takes a dataset only; this applies the scenario
    (:func:`~qjgeo.scenario.apply`) and then evaluates the result.

    Parameters
    ----------
    dataset
        The baseline data.
    targets
        Targets file (object or path); ``None`` = the bundled ``targets.yaml``.
    scenario
        A :class:`~qjgeo.scenario.Scenario` or a path to a scenario file; ``None`` evaluates
        the dataset as it is.
    graph
        Walking network; ``None`` = straight line × the detour factor.
    indicators
        Only these indicator ids (default: all).

    Returns
    -------
    pandas.DataFrame
        As :func:`qjgeo.indicators.evaluate`.

    Raises
    ------
    ScenarioError
        If the scenario file or the scenario is unusable.
    TargetsError
        If the targets file or an override is invalid.
    """
    from qjgeo.indicators.evaluate import evaluate as evaluate_dataset

    if scenario is not None:
        if isinstance(scenario, str | Path):
            scenario = load_scenario(scenario)
        dataset = apply(dataset, scenario)
    return evaluate_dataset(dataset, targets, graph=graph, indicators=indicators)


def _indicator_deltas(fa: pd.DataFrame, fb: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in ("id", "scope", "scope_name", "value", "met") if c in fa.columns]
    merged = fa[keep].merge(
        fb[[c for c in keep if c != "scope_name"]],
        on=["id", "scope"],
        how="outer",
        suffixes=("_a", "_b"),
        sort=False,
    )
    for col in ("value_a", "value_b", "met_a", "met_b"):
        if col not in merged.columns:
            merged[col] = None
    merged["delta"] = pd.to_numeric(merged["value_b"], errors="coerce") - pd.to_numeric(
        merged["value_a"], errors="coerce"
    )
    met_a = merged["met_a"].astype(object)
    met_b = merged["met_b"].astype(object)
    merged["flipped"] = (met_a.notna() & met_b.notna() & (met_a != met_b)).astype(bool)
    extra = ["scope_name"] if "scope_name" in merged.columns else []
    return merged[_INDICATOR_COLUMNS + extra].reset_index(drop=True)


def _village_coverage(
    dataset: Dataset, facility_type: str, graph: WalkGraph | None
) -> pd.DataFrame | None:
    """Per-village coverage ``code12, name, township_code, children, covered`` (qjgeo.gaps)."""
    from qjgeo.gaps import GapsUnavailable, compute_gaps

    try:
        result = compute_gaps(dataset, facility_type, graph=graph)
    except GapsUnavailable:
        return None
    cols = ["code12", "name", "township_code", "children", "covered"]
    return pd.DataFrame(result.villages[cols])


@dataclass(frozen=True)
class Snapshot:
    """What :func:`compare` needs of one dataset, computed once (cache the baseline's).

    Attributes
    ----------
    name
        Scenario name (``"baseline"`` for none).
    indicators
        :func:`qjgeo.indicators.evaluate` of the dataset.
    coverage
        Facility type → per-village coverage (``code12, name, township_code, children,
        covered``) from :func:`qjgeo.gaps.compute_gaps`; types whose layers are missing are
        left out.
    data_status
        Weakest provenance of the village, township and facility layers used.
    basis
        What the snapshot was computed from (the dataset's layer frames, parameters and
        info, and the graph), kept by reference so a later :func:`snapshot` of an edited
        copy can tell which layers the edit touched and recompute only those.
    """

    name: str
    indicators: pd.DataFrame
    coverage: Mapping[str, pd.DataFrame]
    data_status: str
    basis: _Basis | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class _Basis:
    """The inputs of a snapshot, by reference (identity tells what an edit changed)."""

    frames: Mapping[str, Any]
    params: Any
    info: Any
    graph: Any
    facility_types: tuple[str, ...]

    @classmethod
    def of(cls, dataset: Dataset, graph: Any, types: Iterable[str]) -> _Basis:
        return cls(dict(dataset.frames), dataset.params, dataset.info, graph, tuple(types))

    def changed_layers(self, dataset: Dataset, graph: Any, types: Iterable[str]) -> set[str] | None:
        """Layers whose frames differ from this basis; ``None`` when everything must be redone."""
        if (
            dataset.params is not self.params
            or dataset.info is not self.info
            or graph is not self.graph
            or tuple(types) != self.facility_types
        ):
            return None
        ids = set(self.frames) | set(dataset.frames)
        changed = {i for i in ids if self.frames.get(i) is not dataset.frames.get(i)}
        return None if changed & _ADMIN_LAYERS else changed


#: Layers every indicator and coverage rests on: an edit of one redoes the whole snapshot.
_ADMIN_LAYERS = frozenset({"village", "township", "district"})


def snapshot(
    dataset: Dataset,
    *,
    graph: WalkGraph | None = None,
    facility_types: Iterable[str] | None = None,
    base: Snapshot | None = None,
) -> Snapshot:
    """Evaluate indicators and coverage of one dataset, for :func:`compare`.

    Parameters
    ----------
    dataset
        The baseline or a scenario applied to it.
    graph
        Walking network; straight line × detour factor when ``None``.
    facility_types
        Facility types whose coverage to compute; default: every type with access
        parameters whose layer the dataset holds.
    base
        A snapshot of the dataset this one was derived from (the baseline of a scenario):
        what the edit left untouched is taken from it — coverage of the facility types whose
        layers are the same objects, the indicators whose layers are — and only the rest is
        recomputed. Without it (or when the parameters, the graph or an admin layer
        changed) everything is computed.
    """
    types = (
        [t for t in dataset.params.access if dataset.has(t)]
        if facility_types is None
        else list(facility_types)
    )
    changed = (
        None
        if base is None or base.basis is None
        else base.basis.changed_layers(dataset, graph, types)
    )
    coverage = {}
    for ftype in types:
        if changed is not None and base is not None and ftype not in changed:
            if ftype in base.coverage:
                coverage[ftype] = base.coverage[ftype]
                continue
        frame = _village_coverage(dataset, ftype, graph)
        if frame is not None:
            coverage[ftype] = frame
    layers = [x for x in ("village", "township", *types) if dataset.has(x)]
    indicators = (
        evaluate_indicators(dataset, graph)
        if changed is None or base is None
        else _indicators_after_edit(dataset, graph, base.indicators, changed)
    )
    return Snapshot(
        name=dataset.scenario_name or BASELINE,
        indicators=indicators,
        coverage=coverage,
        data_status=dataset.data_status(layers),
        basis=_Basis.of(dataset, graph, types),
    )


def _indicators_after_edit(
    dataset: Dataset, graph: WalkGraph | None, before: pd.DataFrame, changed: set[str]
) -> pd.DataFrame:
    """The indicators of an edited dataset: rows whose layers the edit left alone are kept.

    An indicator is recomputed when any layer it used changed or when it could not be
    measured before (a layer it needs may be the one the edit touched).
    """
    from qjgeo.indicators.evaluate import evaluate as evaluate_dataset

    if before.empty:
        return evaluate_indicators(dataset, graph)
    touched = before["layers_used"].map(lambda used: bool(changed.intersection(used)))
    redo_mask = touched | before["data_status"].eq("not available")
    redo = list(dict.fromkeys(before.loc[redo_mask, "id"]))
    if not redo:
        return before.assign(scenario=dataset.scenario_name)
    fresh = evaluate_dataset(dataset, graph=graph, indicators=redo)
    kept = before[~before["id"].isin(redo)].assign(scenario=dataset.scenario_name)
    order = {ind: i for i, ind in enumerate(dict.fromkeys(before["id"]))}
    merged = pd.concat([kept, fresh], ignore_index=True)
    merged["_order"] = merged["id"].map(order)
    merged = merged.sort_values("_order", kind="stable").drop(columns="_order")
    merged["met"] = merged["met"].astype(object)
    return merged.reset_index(drop=True)


@dataclass(frozen=True)
class _TypeDelta:
    """How the coverage of one facility type changes (one step of :func:`compare`)."""

    coverage: dict[str, Any]
    villages: pd.DataFrame | None
    townships: list[dict[str, Any]]


def _coverage_delta(ftype: str, va: pd.DataFrame, vb: pd.DataFrame) -> _TypeDelta:
    """Children covered before and after, the villages that flip and the townships that change."""
    if va is vb:  # a layer the edit left alone: same frame, nothing flips
        kids = va["children"].fillna(0).to_numpy(dtype=np.float64)
        covered = float(kids[va["covered"].fillna(False).astype(bool).to_numpy()].sum())
        total = float(kids.sum())
        share = covered / total if total else np.nan
        row = dict(
            zip(
                _COVERAGE_COLUMNS,
                (ftype, total, covered, covered, 0.0, 0.0, share, share),
                strict=True,
            )
        )
        return _TypeDelta(row, None, [])
    m = va.merge(
        vb[["code12", "children", "covered"]], on="code12", how="outer", suffixes=("_a", "_b")
    )
    ca = m["covered_a"].fillna(False).astype(bool).to_numpy()
    cb = m["covered_b"].fillna(False).astype(bool).to_numpy()
    kids_a = m["children_a"].fillna(0).to_numpy(dtype=np.float64)
    kids_b = m["children_b"].fillna(0).to_numpy(dtype=np.float64)
    total = float(kids_b.sum())
    coverage = {
        "facility_type": ftype,
        "children": total,
        "covered_a": float(kids_a[ca].sum()),
        "covered_b": float(kids_b[cb].sum()),
        "newly_covered": float(kids_b[cb & ~ca].sum()),
        "newly_uncovered": float(kids_a[ca & ~cb].sum()),
        "share_a": float(kids_a[ca].sum() / kids_a.sum()) if kids_a.sum() else np.nan,
        "share_b": float(kids_b[cb].sum() / total) if total else np.nan,
    }
    flip = ca != cb
    villages = None
    if flip.any():
        villages = pd.DataFrame(
            {
                "facility_type": ftype,
                "code12": m.loc[flip, "code12"].to_numpy(),
                "name": m.loc[flip, "name"].to_numpy(),
                "township_code": m.loc[flip, "township_code"].to_numpy(),
                "children": kids_b[flip],
                "covered_a": ca[flip],
                "covered_b": cb[flip],
            }
        )
    towns = m["township_code"].astype(str).to_numpy()
    unc_a = pd.Series(kids_a * ~ca).groupby(towns).sum()
    unc_b = pd.Series(kids_b * ~cb).groupby(towns).sum()
    changed = unc_a.index[(unc_a != unc_b.reindex(unc_a.index)).to_numpy()]
    townships = [
        {
            "id": f"{ftype}_uncovered_children",
            "scope": str(code),
            "value_a": float(unc_a[code]),
            "value_b": float(unc_b[code]),
        }
        for code in changed
    ]
    return _TypeDelta(coverage, villages, townships)


def _townships_flipped(indicators: pd.DataFrame, town_rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Township indicators whose status flips, then townships whose uncovered children change."""
    columns = ["id", "scope", "value_a", "value_b", "met_a", "met_b"]
    town_ind = indicators[indicators["flipped"] & (indicators["scope"].astype(str) != "district")][
        columns
    ]
    town_cov = pd.DataFrame(town_rows, columns=["id", "scope", "value_a", "value_b"]).assign(
        met_a=None, met_b=None
    )
    if not (len(town_ind) or len(town_cov)):
        return pd.DataFrame(columns=columns)
    return pd.concat([f for f in (town_ind, town_cov) if len(f)], ignore_index=True)


def compare(
    a: Dataset | Snapshot,
    b: Dataset | Snapshot,
    *,
    graph: WalkGraph | None = None,
    facility_types: Iterable[str] | None = None,
) -> Comparison:
    """Compare two datasets: indicator deltas, children newly covered, status flips.

    Parameters
    ----------
    a, b
        Usually the baseline and a scenario applied to it (:func:`apply`), as datasets or
        as :func:`snapshot` results (pass the baseline's cached snapshot to halve the time).
    graph
        Walking network for coverage; straight line × detour factor when ``None``.
    facility_types
        Facility types whose coverage to compare; default: those with access parameters
        present in both.

    Returns
    -------
    Comparison
        Frames of deltas; ``data_status`` says whether they rest on estimated/sample data.
    """
    types = None if facility_types is None else list(facility_types)
    sa = a if isinstance(a, Snapshot) else snapshot(a, graph=graph, facility_types=types)
    sb = b if isinstance(b, Snapshot) else snapshot(b, graph=graph, facility_types=types, base=sa)
    notes: list[str] = []
    indicators = _indicator_deltas(sa.indicators, sb.indicators)
    if types is None:
        types = [t for t in sb.coverage if t in sa.coverage]
    deltas: list[_TypeDelta] = []
    for ftype in types:
        va, vb = sa.coverage.get(ftype), sb.coverage.get(ftype)
        if va is None or vb is None:
            notes.append(f"coverage of {ftype}: layer not available")
            continue
        deltas.append(_coverage_delta(ftype, va, vb))
    village_rows = [d.villages for d in deltas if d.villages is not None]
    villages_flipped = (
        pd.concat(village_rows, ignore_index=True)
        if village_rows
        else pd.DataFrame(columns=_VILLAGE_COLUMNS)
    )
    order = ["official", "estimated", "sample"]
    return Comparison(
        name_a=sa.name,
        name_b=sb.name,
        indicators=indicators,
        coverage=pd.DataFrame([d.coverage for d in deltas], columns=_COVERAGE_COLUMNS),
        villages_flipped=villages_flipped,
        townships_flipped=_townships_flipped(
            indicators, [row for d in deltas for row in d.townships]
        ),
        data_status=max(sa.data_status, sb.data_status, key=order.index),
        notes=tuple(notes),
    )
