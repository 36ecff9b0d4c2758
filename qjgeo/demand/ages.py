"""Age structure: census age groups → the schema's child age bands, and band totals.

A census gives shares by age group (the 2020 census county tabulation: ``0``, ``1-4``,
``5-9``, ``10-14``; WorldPop: the same 5-year groups). The schema's bands
(:data:`qjgeo.schema.AGE_BANDS`: 0-2, 3-5, 6-11, 12-14) cut through those groups, so each
group's share is spread evenly over its single years of age and summed per band — the rule
the bundled Qujiang data use (``tools/build_qujiang.py``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from qjgeo.demand.allocate import largest_remainder
from qjgeo.schema import AGE_BANDS

__all__ = [
    "CHILD_BANDS",
    "AgeShares",
    "AgeSharesError",
    "band_shares",
    "band_totals",
    "read_age_shares",
]

#: The disjoint child bands (``pop_0_14`` is their sum).
CHILD_BANDS: tuple[str, ...] = tuple(b for b in AGE_BANDS if b != "pop_0_14")

_GROUP = re.compile(r"^(?:AGES?_?|pop_)?(\d+)(?:\s*[-–_]\s*(\d+))?$", re.IGNORECASE)


class AgeSharesError(ValueError):
    """Age shares cannot be read or do not cover ages 0-14; the message says why (zh/en)."""


@dataclass(frozen=True)
class AgeShares:
    """Shares of the residents in each child band, and where they come from.

    ``shares`` maps each band of :data:`CHILD_BANDS` to a share of all residents (0-1).
    """

    shares: Mapping[str, float]
    source: str

    @property
    def children(self) -> float:
        """Share of residents aged 0-14."""
        return float(sum(self.shares.values()))

    @classmethod
    def from_children_share(cls, share: float) -> AgeShares:
        """Spread a 0-14 share evenly over the 15 single years (no census detail known)."""
        if not 0 <= share <= 1:
            raise AgeSharesError(
                f"儿童占比须在 0 到 1 之间 / children share must be 0-1, got {share}"
            )
        groups = {(0, 14): share}
        return cls(band_shares(groups), f"children share {share:g}, spread evenly by year of age")


def band_shares(groups: Mapping[tuple[int, int], float]) -> dict[str, float]:
    """Schema band shares from age-group shares (inclusive ``(first, last)`` years).

    Parameters
    ----------
    groups
        Share of all residents per age group, e.g. ``{(0, 0): 0.0098, (1, 4): 0.0534, …}``.
        Together the groups must cover every year 0-14 once.

    Returns
    -------
    dict
        Share per band of :data:`CHILD_BANDS`.

    Raises
    ------
    AgeSharesError
        If a year 0-14 is covered twice or not at all, or a share is outside 0-1.
    """
    per_year = np.zeros(15)
    seen = np.zeros(15, dtype=int)
    for (lo, hi), share in groups.items():
        if not 0 <= share <= 1 or hi < lo:
            raise AgeSharesError(
                f"年龄组 {lo}-{hi} 的占比无效 / age group {lo}-{hi}: invalid share {share}"
            )
        years = np.arange(max(lo, 0), min(hi, 14) + 1)
        per_year[years] += share / (hi - lo + 1)
        seen[years] += 1
    if (seen != 1).any():
        bad = [int(y) for y in np.flatnonzero(seen != 1)]
        raise AgeSharesError(
            f"年龄组须恰好覆盖 0-14 岁各一次 / the age groups must cover each age 0-14 once; "
            f"ages covered {'twice' if seen.max() > 1 else 'not at all'}: {bad}"
        )
    if per_year.sum() > 1 + 1e-9:
        raise AgeSharesError(
            f"0-14 岁占比之和超过 1 / shares of ages 0-14 add up to {per_year.sum():.4f} > 1"
        )
    return {
        band: float(per_year[AGE_BANDS[band][0] : AGE_BANDS[band][1] + 1].sum())
        for band in CHILD_BANDS
    }


def band_totals(population: int, shares: AgeShares) -> dict[str, int]:
    """Persons per child band for a resident total, rounded so the bands add up exactly.

    The bands and the rest (aged 15+) are rounded together by largest remainder, so each
    band is the nearest whole number its share allows and all of them sum to ``population``.
    """
    weights = [*(shares.shares[b] for b in CHILD_BANDS), max(1.0 - shares.children, 0.0)]
    if population and not sum(weights):
        return {b: 0 for b in CHILD_BANDS}
    counts = largest_remainder(int(population), weights)
    return {b: int(c) for b, c in zip(CHILD_BANDS, counts[:-1], strict=True)}


def _group(label: str) -> tuple[int, int] | None:
    m = _GROUP.match(label.strip())
    if m is None:
        return None
    lo = int(m.group(1))
    return lo, int(m.group(2)) if m.group(2) else lo


def read_age_shares(path: str | Path, row: str | None = None) -> AgeShares:
    """Read age shares from a census-style CSV or a YAML / JSON mapping.

    Parameters
    ----------
    path
        A CSV whose columns name age groups (``AGES_0``, ``AGES_1-4``, ``AGES_5-9``,
        ``AGES_10-14`` as in the 2020 census county tabulation, or ``0``, ``1-4``, …), one
        row per place; or a YAML / JSON mapping of age group → share (``"0-2": 0.0365``).
        Shares may be fractions or percentages (all values > 1 are read as percent).
    row
        For a CSV of several places: the value of its ``CODE`` or ``NAME`` column to use.

    Raises
    ------
    AgeSharesError
        If the file cannot be read, the row is missing or ambiguous, or the groups do not
        cover ages 0-14 (the message names the file).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgeSharesError(f"{p}: 无法读取 / cannot read: {exc}") from exc
    values = _csv_row(p, text, row) if p.suffix.lower() == ".csv" else _mapping(p, text)
    groups = {g: v for k, v in values.items() if (g := _group(k)) is not None and g[0] <= 14}
    groups = {g: v for g, v in groups.items() if not (g[0] == 0 and g[1] == 14)} or groups
    if any(v > 1 for v in groups.values()):
        groups = {g: v / 100 for g, v in groups.items()}
    try:
        shares = band_shares(groups)
    except AgeSharesError as exc:
        raise AgeSharesError(f"{p}: {exc}") from None
    label = f"{p.name}" + (f" ({row})" if row else "")
    return AgeShares(shares, f"age shares from {label}, 5-year groups spread evenly by year")


def _csv_row(path: Path, text: str, row: str | None) -> dict[str, float]:
    rows = list(csv.DictReader(io.StringIO(text)))
    if row is not None:
        rows = [
            r for r in rows if row in (r.get("CODE"), r.get("NAME"), r.get("code"), r.get("name"))
        ]
    if len(rows) != 1:
        raise AgeSharesError(
            f"{path}: 找到 {len(rows)} 行，请用 --age-row 指定地区代码或名称 / "
            f"{len(rows)} matching rows; name one place's CODE or NAME (--age-row)"
        )
    out: dict[str, float] = {}
    for key, value in rows[0].items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _mapping(path: Path, text: str) -> dict[str, float]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AgeSharesError(f"{path}: 不是 YAML/JSON / not YAML or JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise AgeSharesError(
            f"{path}: 应为“年龄组: 占比”映射 / expected a mapping age group → share"
        )
    out: dict[str, float] = {}
    for key, value in raw.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            raise AgeSharesError(
                f"{path}: 年龄组 {key!r} 的占比不是数字 / share of {key!r} is not a number: {value!r}"
            ) from None
    return out
