"""Annual monitoring and early warning of the plan's indicators (plan 五、监测评估).

The plan asks for annual monitoring, a mid-term (2025) and a final (2030) evaluation of every
indicator, and early warning for indicators "expected to be hard to reach or moving
erratically" (对预计完成困难、波动较大的监测指标及时预警). This module keeps one file per
year and reads the series back:

- :func:`record_year` evaluates the indicators of a dataset (:func:`qjgeo.indicators.evaluate`)
  and writes ``indicators-<year>.csv`` (district and township rows, with each row's data
  status) into a monitoring directory, atomically; an existing year is only replaced when
  asked.
- :func:`load_series` reads every year back, refusing malformed files with a message naming
  the file and the column.
- :func:`early_warnings` judges each district indicator from its series: ``met`` (the latest
  value meets the target), ``on track`` (not yet, but the straight-line trend of the recorded
  years reaches the target by the final year), ``at risk`` (the trend does not reach it),
  ``volatile`` (the year-to-year changes swing in sign and size: a trend says little),
  ``one year only`` (no trend yet) or ``not computable``. Values resting on sample or
  estimated data are flagged, so a warning on sample data is never read as a fact.

The trend is an ordinary least-squares line through the recorded (year, value) points; the
projection is that line at the final year. "Volatile": at least three years, the changes
change sign at least twice and their standard deviation exceeds the absolute mean change.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from qjgeo import places
from qjgeo.fileio import write_atomic
from qjgeo.locking import FolderBusyError, folder_lock

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph

__all__ = [
    "FINAL_YEAR",
    "MIDTERM_YEAR",
    "MONITORING_FOLDER",
    "MonitoringError",
    "dataset_monitoring_dir",
    "early_warnings",
    "load_series",
    "meets",
    "record_year",
    "recorded_years",
    "volatile",
]

MIDTERM_YEAR: Final = 2025
FINAL_YEAR: Final = 2030
#: Columns of a yearly file (in this order).
COLUMNS: Final[tuple[str, ...]] = (
    "year", "id", "scope", "scope_name", "title_zh", "title_en", "unit", "value", "op",
    "target", "met", "data_status", "dataset", "scenario", "recorded_at", "section",
    "failing_units", "failing_townships",
)  # fmt: skip
#: The monitoring folder inside a dataset folder (years are kept with the data they measure).
MONITORING_FOLDER: Final = "monitoring"
_FILE: Final = re.compile(r"^indicators-(\d{4})\.csv$")
_WEAK: Final = frozenset({"sample", "estimated"})

STATUS_ZH: Final[dict[str, str]] = {
    "met": "已达标",
    "on track": "按趋势可达标",
    "at risk": "预计难以达标",
    "volatile": "波动较大",
    "one year only": "仅一年数据",
    "not computable": "无法计算",
}


class MonitoringError(ValueError):
    """A monitoring file or request that cannot be used; the message names it."""


def dataset_monitoring_dir(dataset: Dataset) -> Path:
    """Where a dataset's years are kept: ``monitoring/`` inside the dataset folder (for the
    bundled dataset, inside its working copy: :func:`qjgeo.places.monitoring_dir`).

    Raises
    ------
    MonitoringError
        For a dataset built in memory (no folder): pass a directory instead.
    """
    if dataset.root is None:
        raise MonitoringError(
            f"dataset {dataset.info.id!r} has no folder: give the monitoring directory"
        )
    return places.monitoring_dir(dataset.root, write=True)


def _joined(values: object) -> str:
    return "; ".join(map(str, values)) if isinstance(values, list) else ""


def _file(directory: Path, year: int) -> Path:
    return directory / f"indicators-{year}.csv"


def recorded_years(directory: str | Path) -> list[int]:
    """The years with a file in ``directory`` (sorted; empty when it does not exist)."""
    d = Path(directory)
    if not d.is_dir():
        return []
    return sorted(int(m.group(1)) for p in d.iterdir() if (m := _FILE.match(p.name)))


def record_year(
    dataset: Dataset,
    year: int,
    directory: str | Path | None = None,
    *,
    graph: WalkGraph | None = None,
    overwrite: bool = False,
) -> Path:
    """Evaluate the indicators and keep them as the values of ``year``.

    Parameters
    ----------
    dataset
        The dataset as it stands for that year (a scenario is not a monitoring value: pass
        the baseline).
    year
        The monitoring year (2000–2100).
    directory
        The monitoring directory (created when missing); default the dataset's own
        (:func:`dataset_monitoring_dir`), never the working directory.
    graph
        Walking network for access indicators (straight line × detour factor when ``None``).
    overwrite
        Replace an existing file of that year.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    MonitoringError
        For a year out of range, or a year already recorded without ``overwrite``.
    """
    if not 2000 <= int(year) <= 2100:
        raise MonitoringError(f"year must be between 2000 and 2100, got {year}")
    from qjgeo.indicators import evaluate

    d = dataset_monitoring_dir(dataset) if directory is None else Path(directory)
    target = _file(d, int(year))
    if target.exists() and not overwrite:
        raise MonitoringError(f"{target}: year {year} is already recorded (overwrite to replace)")
    frame = evaluate(dataset, graph=graph)
    out = pd.DataFrame(
        {
            "year": int(year),
            "id": frame["id"],
            "scope": frame["scope"].astype(str),
            "scope_name": frame["scope_name"],
            "title_zh": frame["title_zh"],
            "title_en": frame["title_en"],
            "unit": frame["unit"],
            "value": frame["value"],
            "op": frame["op"],
            "target": frame["target"],
            "met": frame["met"].map({True: "true", False: "false"}).fillna(""),
            "data_status": frame["data_status"],
            "dataset": dataset.info.id,
            "scenario": dataset.scenario_name or "",
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "section": frame["section"],
            "failing_units": frame["failing_units"].map(_joined),
            "failing_townships": frame["failing_townships"].map(_joined),
        }
    )[list(COLUMNS)]
    d.mkdir(parents=True, exist_ok=True)
    try:
        with folder_lock(d):  # two sessions recording the same year: the second is refused
            if target.exists() and not overwrite:
                raise MonitoringError(
                    f"{target}: year {year} is already recorded (overwrite to replace)"
                )
            write_atomic(target, out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))
    except FolderBusyError as exc:
        raise MonitoringError(f"{exc}\n{exc.message_zh}") from exc
    return target


def load_series(directory: str | Path) -> pd.DataFrame:
    """Every recorded year of ``directory`` as one frame (empty when nothing is recorded).

    Raises
    ------
    MonitoringError
        When a file lacks a column, holds another year than its name says, or has a value
        that is not a number; the message names the file (and the column or row).
    """
    d = Path(directory)
    frames = []
    for year in recorded_years(d):
        path = _file(d, year)
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise MonitoringError(f"{path}: not a readable CSV file ({exc})") from exc
        missing = [c for c in ("year", "id", "scope", "value", "op", "target") if c not in frame]
        if missing:
            raise MonitoringError(f"{path}: missing column(s) {', '.join(missing)}")
        if len(frame) and set(frame["year"]) != {str(year)}:
            raise MonitoringError(f"{path}: the 'year' column must be {year} on every row")
        for col in ("value", "target"):
            values = pd.to_numeric(frame[col].replace("", "nan"), errors="coerce")
            bad = values.isna() & ~frame[col].isin(["", "nan", "NaN"])
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
                raise MonitoringError(
                    f"{path}, line {row}: {col} {frame[col].iloc[row - 2]!r} is not a number"
                )
            frame[col] = values
        frame["year"] = year
        for col in COLUMNS:  # files recorded before a column existed
            if col not in frame:
                frame[col] = ""
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(frames, ignore_index=True)


def meets(value: float, op: str, target: float) -> bool:
    """Whether ``value <op> target`` holds (``False`` for NaN)."""
    from qjgeo.indicators.evaluate import compare

    return bool(compare(value, op, target))


def volatile(values: np.ndarray) -> bool:
    """Whether a series swings: ≥ 3 values, changes flip sign twice, spread > mean change."""
    changes = np.diff(np.asarray(values, dtype=float))
    if len(changes) < 2:
        return False
    flips = int((np.diff(np.sign(changes[changes != 0])) != 0).sum())
    return flips >= 2 and float(np.std(changes)) > abs(float(np.mean(changes)))


def _judge(points: pd.DataFrame, op: str, target: float, final_year: int) -> tuple[str, float]:
    """Status and projected final-year value of one indicator's (year, value) points."""
    pts = points.dropna(subset=["value"]).sort_values("year")
    if pts.empty or not math.isfinite(target):
        return "not computable", math.nan
    latest = float(pts["value"].iloc[-1])
    if meets(latest, op, target):
        return "met", latest
    if len(pts) < 2:
        return "one year only", math.nan
    years = pts["year"].to_numpy(dtype=float)
    values = pts["value"].to_numpy(dtype=float)
    slope, intercept = np.polyfit(years, values, 1)
    projected = float(slope * final_year + intercept)
    if volatile(values):
        return "volatile", projected
    return ("on track" if meets(projected, op, target) else "at risk"), projected


def early_warnings(
    series: pd.DataFrame, *, final_year: int = FINAL_YEAR, scope: str = "district"
) -> pd.DataFrame:
    """One row per indicator: its recorded values, the trend's projection, and a status.

    Parameters
    ----------
    series
        From :func:`load_series`.
    final_year
        The year the projection is made for (the plan's final evaluation, 2030).
    scope
        ``"district"`` (default) or a 9-digit township code.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``title_zh``, ``title_en``, ``unit``, ``op``, ``target``, ``years``
        (recorded, e.g. ``"2024, 2025"``), ``latest_year``, ``latest``, ``projected``
        (at ``final_year``; NaN without a trend), ``status`` and ``status_zh`` (see the
        module notes), ``warning`` (at risk or volatile), ``weak_data`` (the latest value
        rests on sample or estimated data). Warnings first.
    """
    cols = [
        "id", "title_zh", "title_en", "unit", "op", "target", "years", "latest_year", "latest",
        "projected", "status", "status_zh", "warning", "weak_data",
    ]  # fmt: skip
    rows = series[series["scope"].astype(str) == str(scope)] if len(series) else series
    out = []
    for ind_id, group in rows.groupby("id", sort=False):
        group = group.sort_values("year")
        last = group.iloc[-1]
        target = float(last["target"])
        status, projected = _judge(group[["year", "value"]], str(last["op"]), target, final_year)
        out.append(
            {
                "id": ind_id,
                "title_zh": last.get("title_zh", ""),
                "title_en": last.get("title_en", ""),
                "unit": last.get("unit", ""),
                "op": last["op"],
                "target": target,
                "years": ", ".join(str(int(y)) for y in group["year"]),
                "latest_year": int(last["year"]),
                "latest": float(last["value"]),
                "projected": projected,
                "status": status,
                "status_zh": STATUS_ZH[status],
                "warning": status in ("at risk", "volatile"),
                "weak_data": str(last.get("data_status", "")) in _WEAK,
            }
        )
    frame = pd.DataFrame(out, columns=cols)
    if len(frame):
        frame = frame.sort_values("warning", ascending=False, kind="stable").reset_index(drop=True)
    return frame
