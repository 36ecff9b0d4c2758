"""The plan's mid-term (2025) and final (2030) evaluations from the monitoring records.

The plan (五、监测评估) asks for a mid-term evaluation in 2025 and a final one in 2030 of
every indicator. :func:`evaluate_stage` reads the years recorded by
:func:`qjgeo.monitoring.record_year` and judges each target:

- **baseline**: the value of :data:`BASELINE_YEAR` (2020) when recorded, else of the first
  recorded year (the ``baseline_year`` column says which);
- **path**: the straight line from the baseline to the plan's target in
  :data:`~qjgeo.monitoring.FINAL_YEAR` (2030). Its value at the stage year is the stage's
  milestone (``stage_target``: the 2025 milestone, or the 2030 target itself), its value at
  the latest recorded year is where the indicator should stand now (``path_now``);
- **status**: ``met`` (the latest value meets the 2030 target), ``on track`` (not yet, but
  at or beyond the path), ``behind`` (short of the path, yet the trend of the recorded years
  reaches the target by 2030), ``at risk`` (short of the path and the trend does not reach
  the target), ``baseline only`` (one recorded year: no path to compare with),
  ``not computable`` (no value);
- **trend**: the least-squares slope per year and its projection to 2030 (as in
  :func:`qjgeo.monitoring.early_warnings`);
- **held back by**: the townships missing the target in the latest year, and the failing
  units the latest record names (a district-scope indicator's townships, health centres …).

Every value keeps the data status it was recorded with; ``weak_data`` flags a latest value
resting on sample or estimated data, so an evaluation of sample data is never read as fact.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import numpy as np
import pandas as pd

from qjgeo.monitoring import FINAL_YEAR, MIDTERM_YEAR, MonitoringError, meets, volatile

__all__ = [
    "BASELINE_YEAR",
    "EVALUATION_COLUMNS",
    "STAGES",
    "STAGE_TITLES",
    "STATUS_ZH",
    "Stage",
    "evaluate_stage",
    "stage_counts",
]

Stage = Literal["midterm", "final"]
#: The evaluation year of each stage.
STAGES: Final[dict[str, int]] = {"midterm": MIDTERM_YEAR, "final": FINAL_YEAR}
STAGE_TITLES: Final[dict[str, tuple[str, str]]] = {
    "midterm": ("中期评估", "mid-term evaluation"),
    "final": ("终期评估", "final evaluation"),
}
#: The plan's baseline year (二(二) 主要目标1: 以2020年为基数).
BASELINE_YEAR: Final = 2020

STATUS_ZH: Final[dict[str, str]] = {
    "met": "已达标",
    "on track": "进度符合预期",
    "behind": "进度滞后",
    "at risk": "预计难以达标",
    "baseline only": "仅有基线，无法判断进度",
    "not computable": "无法计算",
}
_WEAK: Final = frozenset({"sample", "estimated"})

EVALUATION_COLUMNS: Final[tuple[str, ...]] = (
    "id", "section", "title_zh", "title_en", "unit", "op", "target", "stage", "stage_year",
    "baseline_year", "baseline", "latest_year", "latest", "stage_target", "path_now",
    "trend_per_year", "projected", "status", "status_zh", "volatile", "held_back_by",
    "failing_units", "years", "data_status", "weak_data",
)  # fmt: skip


def _path(b_year: int, b_value: float, target: float, year: int) -> float:
    """The straight line from the baseline to the final-year target, at ``year``."""
    if FINAL_YEAR == b_year:
        return target
    share = min(1.0, max(0.0, (year - b_year) / (FINAL_YEAR - b_year)))
    return b_value + (target - b_value) * share


def _trend(pts: pd.DataFrame) -> tuple[float, float]:
    """Slope per year and the projection to the final year (NaN with fewer than 2 years)."""
    if len(pts) < 2:
        return math.nan, math.nan
    slope, intercept = np.polyfit(
        pts["year"].to_numpy(dtype=float), pts["value"].to_numpy(dtype=float), 1
    )
    return float(slope), float(slope * FINAL_YEAR + intercept)


def _status(
    latest: float, op: str, target: float, path_now: float, projected: float, n_years: int
) -> str:
    if not (math.isfinite(latest) and math.isfinite(target)):
        return "not computable"
    if meets(latest, op, target):
        return "met"
    if n_years < 2:
        return "baseline only"
    if meets(latest, op, path_now):
        return "on track"
    if math.isfinite(projected) and meets(projected, op, target):
        return "behind"
    return "at risk"


def _split(text: object) -> list[str]:
    """A recorded '; '-joined list back as a list ('' → [])."""
    return [t for t in str(text or "").split("; ") if t and t != "nan"]


def _held_back(series: pd.DataFrame, last: pd.Series, scope: str) -> list[str]:
    """Townships missing the target in the latest year (for the district), else none.

    A district-scope indicator has no township rows: its failing units' townships are
    named instead (罗坑镇 for 罗坑镇卫生院).
    """
    if scope != "district":
        return []
    year = series["year"] == last["year"]
    rows = series[year & (series["id"] == last["id"]) & (series["scope"] != "district")]
    if len(rows):
        return [str(n) for n in rows.loc[rows["met"].astype(str) == "false", "scope_name"]]
    towns = series.loc[year & (series["scope"] != "district"), ["scope", "scope_name"]]
    names = dict(zip(towns["scope"].astype(str), towns["scope_name"].astype(str), strict=True))
    codes = dict.fromkeys(_split(last.get("failing_townships", "")))
    return [names.get(c, c) for c in codes]


def _judge_one(series: pd.DataFrame, group: pd.DataFrame, stage: str, scope: str) -> dict:
    """One indicator's evaluation row (see the module notes)."""
    group = group.sort_values("year")
    pts = group.dropna(subset=["value"])[["year", "value"]]
    last = group.iloc[-1]
    op, target = str(last["op"]), float(last["target"])
    base = pts[pts["year"] == BASELINE_YEAR]
    base = base if len(base) else pts.head(1)
    b_year = int(base["year"].iloc[0]) if len(base) else int(last["year"])
    b_value = float(base["value"].iloc[0]) if len(base) else math.nan
    latest = float(last["value"])
    latest_year = int(last["year"])
    slope, projected = _trend(pts)
    path_now = _path(b_year, b_value, target, latest_year)
    status = _status(latest, op, target, path_now, projected, len(pts))
    units = _split(last.get("failing_units", ""))
    return {
        "id": last["id"],
        "section": str(last.get("section", "") or ""),
        "title_zh": last.get("title_zh", ""),
        "title_en": last.get("title_en", ""),
        "unit": last.get("unit", ""),
        "op": op,
        "target": target,
        "stage": stage,
        "stage_year": STAGES[stage],
        "baseline_year": b_year,
        "baseline": b_value,
        "latest_year": latest_year,
        "latest": latest,
        "stage_target": _path(b_year, b_value, target, STAGES[stage]),
        "path_now": path_now,
        "trend_per_year": slope,
        "projected": projected,
        "status": status,
        "status_zh": STATUS_ZH[status],
        "volatile": volatile(pts["value"].to_numpy(dtype=float)),
        "held_back_by": _held_back(series, last, scope) if status != "met" else [],
        "failing_units": units if status != "met" else [],
        "years": ", ".join(str(int(y)) for y in group["year"]),
        "data_status": str(last.get("data_status", "")),
        "weak_data": str(last.get("data_status", "")) in _WEAK,
    }


def evaluate_stage(
    series: pd.DataFrame, stage: Stage | str = "midterm", *, scope: str = "district"
) -> pd.DataFrame:
    """Evaluate every recorded indicator for the mid-term (2025) or final (2030) review.

    Parameters
    ----------
    series
        From :func:`qjgeo.monitoring.load_series` (one or more recorded years).
    stage
        ``"midterm"`` (2025) or ``"final"`` (2030).
    scope
        ``"district"`` (default) or a township's 9-digit code.

    Returns
    -------
    pandas.DataFrame
        One row per indicator, columns :data:`EVALUATION_COLUMNS`, in recording order:
        baseline, latest value, the stage's milestone on the straight-line path
        (``stage_target``), where the path stands at the latest year (``path_now``), the
        trend and its 2030 projection, ``status`` / ``status_zh`` (module notes),
        ``held_back_by`` (townships missing the target in the latest year),
        ``failing_units`` (named by the latest record), ``data_status`` and ``weak_data``.

    Raises
    ------
    MonitoringError
        For an unknown stage, or when nothing is recorded for the scope.
    """
    if stage not in STAGES:
        raise MonitoringError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    rows = series[series["scope"].astype(str) == str(scope)] if len(series) else series
    if rows.empty:
        raise MonitoringError(f"no recorded values for scope {scope!r}")
    out = [_judge_one(series, g, str(stage), str(scope)) for _, g in rows.groupby("id", sort=False)]
    return pd.DataFrame(out, columns=list(EVALUATION_COLUMNS))


def stage_counts(evaluation: pd.DataFrame) -> dict[str, int]:
    """How many targets are met, on track, behind, at risk … (every status, 0 when none)."""
    counts = evaluation["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUS_ZH}
