"""One-page PDF brief per township: its indicators, its gaps, a small map, the data status.

The brief is meant to be printed and handed to a township (镇街) office: A4 portrait, the
township's name as title, a small gap map of the township for one facility type, a table of
children covered for every facility type with walking distances, the township's plan
indicators (met / not met, with the target), and the same footer as the maps (scenario, date,
distances used, data status, sources and licences).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qjgeo.catalog import Dataset
from qjgeo.export.fonts import cjk_font_family, pdf_rc
from qjgeo.export.staticmap import (
    BADGE_STATUSES,
    CRS_LABEL,
    ExportError,
    MapPage,
    attribution_line,
    check_facility_type,
    crs_date_line,
    data_status_line,
    default_facility_types,
    district_name,
    draw_badge,
    draw_gap_axes,
    draw_legend,
    facility_titles,
    figure_bytes,
    gaps_by_facility_type,
    method_line,
    scenario_line,
    status_badge_lines,
    text_lines,
    title_block,
)
from qjgeo.export.staticmap.inset import Inset
from qjgeo.export.staticmap.placement import place_furniture

_MET = "#1a9850"
_NOT_MET = "#d73027"
_NA = "#7f7f7f"
#: The indicator table ends above the footer (figure fraction); its rows are at least this high.
_TABLE_BOTTOM = 0.104
_MIN_ROW = 0.0100


def _township_row(dataset: Dataset, code9: str) -> pd.Series:
    if not dataset.has("township"):
        raise ExportError(f"dataset {dataset.info.id!r} has no township layer: brief not available")
    towns = dataset.layer("township")
    match = towns[towns["code9"].astype(str) == str(code9)]
    if match.empty:
        known = ", ".join(f"{c} {n}" for c, n in zip(towns["code9"], towns["name"], strict=True))
        raise ExportError(f"no township with code {code9!r}; known: {known}")
    return match.iloc[0]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_value(value: Any, unit: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    unit_s = "" if unit is None or (isinstance(unit, float) and pd.isna(unit)) else str(unit)
    v = float(value)
    text = f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.1f}"
    return f"{text}{unit_s}" if unit_s in ("%", "‰") else f"{text} {unit_s}".strip()


def township_gap_rows(code9: str, gaps: dict[str, Any], dataset: Dataset) -> pd.DataFrame:
    """Children covered in one township for each facility type (one row per type)."""
    rows = []
    for ft, g in gaps.items():
        t = g.townships[g.townships["code9"].astype(str) == str(code9)]
        if t.empty:
            continue
        r = t.iloc[0]
        v = g.villages[g.villages["township_code"].astype(str) == str(code9)]
        rows.append(
            {
                "facility": facility_titles(dataset, ft)[0],
                "facility_type": ft,
                "age_label": g.age_label,
                "children": float(r["children"]),
                "children_uncovered": float(r["children_uncovered"]),
                "share_covered": float(r["share_covered"]),
                "villages_uncovered": int((~v["covered"].astype(bool)).sum()),
                "villages": len(v),
                "data_status": g.data_status,
            }
        )
    return pd.DataFrame(rows)


def township_brief_figure(
    dataset: Dataset,
    code9: str,
    facility_type: str = "childcare",
    **options: Any,
) -> Figure:
    """Lay out the one-page township brief (A4 portrait) as a matplotlib figure.

    Parameters are those of :func:`township_brief_page`.
    """
    return township_brief_page(dataset, code9, facility_type, **options).figure


def township_brief_page(
    dataset: Dataset,
    code9: str,
    facility_type: str = "childcare",
    *,
    facility_types: Iterable[str] | None = None,
    indicators: pd.DataFrame | None = None,
    date: dt.date | None = None,
    graph: Any = None,
    title: str | None = None,
    figure_no: str | None = None,
    gaps: dict[str, Any] | None = None,
) -> MapPage:
    """Lay out the one-page township brief (A4 portrait) and say where its map and legend went.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    code9
        The township's 9-digit code, e.g. ``"440205100"`` (马坝镇).
    facility_type
        The facility type of the small gap map.
    facility_types
        Types listed in the coverage table (default: every type with walking distances).
    indicators
        Precomputed :func:`qjgeo.indicators.evaluate` frame (computed when ``None``).
    date
        Date printed in the footer (today by default).
    graph
        Walking network for the distances (straight line × detour factor when ``None``).
    title, figure_no
        The brief's title (default ``"<township> 儿童友好设施简报"``) and a figure number
        printed before it.
    gaps
        Precomputed gap results by facility type (:func:`gaps_by_facility_type`): briefs of
        several townships share one computation.

    Returns
    -------
    MapPage
        The page (``figure``), its map axes, legend layout, township labels and furniture.

    Raises
    ------
    ExportError
        If the township code is unknown or a needed layer is missing.
    """
    town = _township_row(dataset, code9)
    check_facility_type(dataset, facility_type)
    family = cjk_font_family()
    types = list(facility_types if facility_types is not None else default_facility_types(dataset))
    if facility_type not in types:
        types.insert(0, facility_type)
    if gaps is None or any(t not in gaps for t in types):
        gaps = gaps_by_facility_type(dataset, types, graph=graph)
    gaps = {t: gaps[t] for t in types if t in gaps}
    if indicators is None:
        from qjgeo.indicators import evaluate

        indicators = evaluate(dataset)
    from qjgeo.indicators import township_view

    mine = township_view(indicators, str(code9))

    with matplotlib.rc_context({**pdf_rc(), "font.family": family}):
        fig = Figure(figsize=(8.27, 11.69))
        FigureCanvasAgg(fig)
        heading = title_block(title or f"{town['name']} 儿童友好设施简报", figure_no)
        _draw_heading(fig, dataset, heading, code9, gaps, facility_type, family=family)
        page = _draw_township_map(fig, dataset, code9, facility_type, gaps, family=family)
        y = _draw_coverage_table(fig, township_gap_rows(str(code9), gaps, dataset))
        _draw_indicator_table(fig, mine, y)
        _draw_footer(fig, dataset, facility_type, gaps, date)
    page.title = heading
    return page


def _draw_heading(
    fig: Figure,
    dataset: Dataset,
    name: str,
    code9: str,
    gaps: dict[str, Any],
    facility_type: str,
    *,
    family: str,
) -> None:
    """The title (the township's name), the district and code below, and the warning badge."""
    dzh, den = district_name(dataset)
    fig.text(0.06, 0.965, name, fontsize=20, fontweight="bold", va="top")
    fig.text(
        0.06,
        0.928,
        f"{dzh} · 镇街代码 {code9} · Township brief: {den}, child-friendly facilities",
        fontsize=9.5,
        va="top",
        color="#333333",
    )
    status = gaps[facility_type].data_status if facility_type in gaps else "sample"
    if status in BADGE_STATUSES:
        draw_badge(fig, 0.926, 0.965, status_badge_lines(status), fontsize=8, family=family)


def _draw_township_map(
    fig: Figure,
    dataset: Dataset,
    code9: str,
    facility_type: str,
    gaps: dict[str, Any],
    *,
    family: str,
) -> MapPage:
    """A small gap map zoomed to the township, for the chosen facility type, and its legend."""
    zh, en = facility_titles(dataset, facility_type)
    ax = fig.add_axes((0.06, 0.56, 0.5, 0.325))
    g = gaps[facility_type]
    drawn = draw_gap_axes(
        ax, dataset, facility_type, g, family=family, township=str(code9),
        label_size=8, marker_scale=1.1,
    )  # fmt: skip
    towns = dataset.metric("township")
    focus = towns[towns["code9"].astype(str) == str(code9)]
    inset = Inset(towns, focus, "区位图 Location: 曲江区 Qujiang", 0.3)
    corners = place_furniture(ax, drawn, family=family, fs=0.9, inset=inset, arrow_size=0.09)
    subtitle = f"{zh}步行可达 / walking access to {en.lower()} (儿童 {g.age_label} 岁)"
    ax.set_title(subtitle, fontsize=8.5, loc="left")
    legend = draw_legend(
        fig, (0.585, 0.56, 0.36, 0.325), drawn["legend"], family=family, fs=0.95, frame=False
    )
    return MapPage(fig, ax, legend, "", subtitle, list(drawn["labels_drawn"]),
                   {k: str(v) for k, v in corners.items()}, drawn["legend"])  # fmt: skip


def _draw_coverage_table(fig: Figure, rows: pd.DataFrame) -> float:
    """Children covered for every facility type (:func:`township_gap_rows`).

    Returns
    -------
    float
        The height (figure fraction) below the table's last row.
    """
    top = 0.53
    fig.text(0.06, top, "步行距离内的儿童 Children within walking distance", fontsize=10.5,
             fontweight="bold", va="top")  # fmt: skip
    cols = (0.06, 0.28, 0.38, 0.50, 0.63, 0.80)
    heads = ("设施 Facility", "年龄 Age", "儿童 Children", "覆盖率 Covered",
             "未覆盖儿童 Not covered", "未覆盖村 Villages out")  # fmt: skip
    y = top - 0.027
    for x, h in zip(cols, heads, strict=True):
        fig.text(x, y, h, fontsize=7.2, fontweight="bold", va="top")
    y -= 0.004
    fig.add_artist(matplotlib.lines.Line2D([0.06, 0.94], [y - 0.012, y - 0.012], lw=0.6,
                                           color="#444444"))  # fmt: skip
    y -= 0.016
    for _, r in rows.iterrows():
        share = r["share_covered"]
        colour = _NA if pd.isna(share) else (_MET if share >= 0.999 else "#222222")
        cells = (
            str(r["facility"]),
            str(r["age_label"]),
            f"{r['children']:,.0f}",
            "—" if pd.isna(share) else f"{share:.0%}",
            f"{r['children_uncovered']:,.0f}",
            f"{r['villages_uncovered']}/{r['villages']}",
        )
        for x, c in zip(cols, cells, strict=True):
            fig.text(x, y, c, fontsize=7.5, va="top", color=colour)
        y -= 0.015
    return y


def _draw_indicator_table(fig: Figure, mine: pd.DataFrame, y: float) -> None:
    """The township's plan indicators (value, target, met), from ``y`` down to the footer."""
    y -= 0.012
    fig.text(0.06, y, "规划指标（本镇街）Plan indicators for this township", fontsize=10.5,
             fontweight="bold", va="top")  # fmt: skip
    y -= 0.027
    icols = (0.06, 0.55, 0.70, 0.85)
    for x, h in zip(icols, ("指标 Indicator", "现状 Value", "目标 Target", "达标 Met"),
                    strict=True):  # fmt: skip
        fig.text(x, y, h, fontsize=7.2, fontweight="bold", va="top")
    fig.add_artist(matplotlib.lines.Line2D([0.06, 0.94], [y - 0.016, y - 0.016], lw=0.6,
                                           color="#444444"))  # fmt: skip
    y -= 0.02
    # every row down to just above the footer; when they cannot all fit, a line says so
    row_h = min(0.0165, (y - _TABLE_BOTTOM) / max(len(mine), 1))
    shown = len(mine)
    if row_h < _MIN_ROW:
        row_h = _MIN_ROW
        shown = int((y - _TABLE_BOTTOM - _MIN_ROW) / row_h)
    if mine.empty:
        fig.text(0.06, y, "本镇街无可评估的规划指标 / no township-level indicators available",
                 fontsize=7.5, va="top", color=_NA)  # fmt: skip
    for _, r in mine.iloc[:shown].iterrows():
        label, colour = _met_label(r.get("met"))
        target = f"{r.get('op', '')} {_fmt_value(r.get('target'), r.get('unit'))}"
        title = ("[全区] " if str(r["scope"]) == "district" else "") + str(r["title_zh"])
        fig.text(icols[0], y, _shorten(title, 38), fontsize=7.2, va="top")
        fig.text(icols[1], y, _fmt_value(r.get("value"), r.get("unit")), fontsize=7.2,
                 va="top")  # fmt: skip
        fig.text(icols[2], y, target.replace(">=", "≥").replace("<=", "≤"), fontsize=7.2,
                 va="top")  # fmt: skip
        fig.text(icols[3], y, label, fontsize=7.2, va="top", color=colour, fontweight="bold")
        y -= row_h
    if shown < len(mine):
        fig.text(0.06, y, f"…（共 {len(mine)} 项，此处列出 {shown} 项，其余见 Excel 报告 / "
                 f"{shown} of {len(mine)} shown, the rest in the Excel report）", fontsize=7,
                 va="top", color=_NA)  # fmt: skip


def _met_label(met: Any) -> tuple[str, str]:
    """The met / not met / n/a label of an indicator and its colour."""
    if met is None or (isinstance(met, float) and pd.isna(met)):
        return "无法判断 n/a", _NA
    if bool(met):
        return "达标 met", _MET
    return "未达标 not met", _NOT_MET


def _draw_footer(
    fig: Figure, dataset: Dataset, facility_type: str, gaps: dict[str, Any], date: dt.date | None
) -> None:
    """The same footer as the maps: scenario and date, method, data status, sources."""
    layers = ["district", "township", "village", *gaps]
    footer = [
        scenario_line(dataset, date),
        method_line(dataset, facility_type, gaps[facility_type]),
        data_status_line(dataset, layers),
        crs_date_line(dataset, ["district", "township", "village", facility_type], CRS_LABEL),
        attribution_line(dataset, ["district", "township", "village", facility_type]),
    ]
    text_lines(fig, 0.06, 0.095, footer, fontsize=5.9, linespacing=1.5, max_width=0.88,
               color="#222222")  # fmt: skip


def township_brief_pdf(
    dataset: Dataset,
    code9: str,
    facility_type: str = "childcare",
    *,
    facility_types: Iterable[str] | None = None,
    indicators: pd.DataFrame | None = None,
    date: dt.date | None = None,
    graph: Any = None,
    title: str | None = None,
    figure_no: str | None = None,
    gaps: dict[str, Any] | None = None,
) -> bytes:
    """A one-page A4 PDF brief of a township (fonts embedded, title and subject metadata).

    Parameters are those of :func:`township_brief_figure`.

    Returns
    -------
    bytes
        The PDF file.
    """
    fig = township_brief_page(
        dataset, code9, facility_type, facility_types=facility_types, indicators=indicators,
        date=date, graph=graph, title=title, figure_no=figure_no, gaps=gaps,
    ).figure  # fmt: skip
    name = str(_township_row(dataset, code9)["name"])
    meta = {"Title": title_block(title or f"{name} 儿童友好设施简报", figure_no),
            "Subject": f"{name} ({code9}): township brief, child-friendly facilities",
            "Keywords": "qjgeo; 儿童友好; township brief"}  # fmt: skip
    return figure_bytes(fig, "pdf", metadata=meta)
