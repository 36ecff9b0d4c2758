"""Priority groups of children: 留守儿童, 困境儿童, 流动儿童, 残疾儿童, counted per village.

The plan singles these children out for priority services. A village layer may carry their
counts (optional columns, importable from a village ledger: ``qjgeo import --layer
village``); the bundled data carries none, and every view says so. The column
``priority_source`` gives each village's counts a provenance (``official``, ``user``,
``estimated``, ``sample``); a view built on ``sample`` or ``estimated`` counts labels them so.

Demand weighting: a village's children of a facility type's age band count ×
``1 + (w − 1) × s``, ``s`` the priority share of its children (the groups' counts summed,
÷ children 0–14, at most 1): children of the groups count ``w`` times, others once. Counts
from several groups are summed, so a child listed in two groups counts twice in ``s`` (up
to the cap) — the ledger's own convention decides.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: Column → (Chinese name, English name).
PRIORITY_GROUPS: Final[dict[str, tuple[str, str]]] = {
    "left_behind_children": ("留守儿童", "left-behind children"),
    "children_in_difficulty": ("困境儿童", "children in difficulty"),
    "migrant_children": ("流动儿童", "migrant children"),
    "disabled_children": ("残疾儿童", "children with disabilities"),
}
#: Per-village provenance of the priority counts.
PRIORITY_SOURCE: Final[str] = "priority_source"
_WEAK: Final[frozenset[str]] = frozenset({"sample", "estimated"})


def priority_columns(villages: pd.DataFrame) -> list[str]:
    """The priority-group columns present with at least one count."""
    return [
        c
        for c in PRIORITY_GROUPS
        if c in villages.columns and pd.to_numeric(villages[c], errors="coerce").notna().any()
    ]


def priority_counts(villages: pd.DataFrame, groups: list[str] | None = None) -> NDArray[np.float64]:
    """Children of the priority groups per village (missing counts as 0)."""
    cols = priority_columns(villages) if groups is None else groups
    total = np.zeros(len(villages), dtype=np.float64)
    for col in cols:
        total += pd.to_numeric(villages[col], errors="coerce").fillna(0).to_numpy(dtype=float)
    return total


def priority_share(villages: pd.DataFrame) -> NDArray[np.float64]:
    """Share of each village's children (0–14) in a priority group, in [0, 1]."""
    counts = priority_counts(villages)
    children = villages["pop_0_14"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(children > 0, counts / children, np.where(counts > 0, 1.0, 0.0))
    return np.clip(share, 0.0, 1.0)


def weighted_children(
    children: NDArray[np.float64], villages: pd.DataFrame, weight: float
) -> NDArray[np.float64]:
    """Children with the priority groups' share counted ``weight`` times (see module doc)."""
    if weight < 1 or not np.isfinite(weight):
        raise ValueError(f"priority weight must be a number ≥ 1, got {weight!r}")
    if weight == 1:
        return children
    return children * (1.0 + (weight - 1.0) * priority_share(villages))


def priority_status(villages: pd.DataFrame) -> tuple[str, str, str]:
    """What the priority counts rest on: ``(status, note, note_zh)``.

    ``status`` is ``"none"`` (no counts: the layer says so), or the weakest provenance of
    the villages with counts (``sample``/``estimated`` flagged in the notes).
    """
    cols = priority_columns(villages)
    if not cols:
        return (
            "none",
            "no counts of left-behind, in-difficulty, migrant or disabled children in this "
            "village layer (the bundled data has none): import them from a village ledger",
            "本村（社区）图层没有留守儿童、困境儿童、流动儿童、残疾儿童数据（内置数据不含此项）："
            "请从村级台账导入",
        )
    has = priority_counts(villages, cols) > 0
    sources = (
        villages.loc[has, PRIORITY_SOURCE].fillna("user").astype(str)
        if PRIORITY_SOURCE in villages.columns
        else pd.Series(["user"] * int(has.sum()))
    )
    weak = sorted(set(sources) & _WEAK)
    status = weak[0] if weak else (sorted(set(sources))[0] if len(sources) else "user")
    names = ", ".join(PRIORITY_GROUPS[c][1] for c in cols)
    names_zh = "、".join(PRIORITY_GROUPS[c][0] for c in cols)
    if weak:
        label_zh = "样例" if status == "sample" else "估算"
        return (
            status,
            f"priority-group counts ({names}) are {status} figures, not facts: replace them "
            "with the ledger's",
            f"重点群体人数（{names_zh}）为{label_zh}数据，并非实际：请以台账数据替换",
        )
    return status, f"priority-group counts: {names} ({status})", f"重点群体人数：{names_zh}"
