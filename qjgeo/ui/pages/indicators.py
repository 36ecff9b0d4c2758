"""Indicators (指标): the district table (met / not met / shortfall) and township × indicator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from qjgeo.export.gis import table_csv
from qjgeo.ui import cache, keys
from qjgeo.ui.i18n import section_label, status_label
from qjgeo.ui.names import gloss_names
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import MISSING, fit_height, format_value, indicator_label, show_table
from qjgeo.ui.widgets import data_notice, english_place_names, status_badge, township_options

_COLOURS = {"met": "#c8e6c9", "not_met": "#ffcdd2", "na": "#eeeeee"}


def _status(met: object) -> str:
    if met is True:
        return "met"
    if met is False:
        return "not_met"
    return "na"


def district_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many district indicators are met, not met and not computable (``n`` in all)."""
    district = table[table["scope"] == "district"]
    counts = district["met"].map(_status).value_counts()
    return {"n": len(district)} | {k: int(counts.get(k, 0)) for k in ("met", "not_met", "na")}


_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def _target_text(op: object, target: object, unit: str) -> str:
    """``≥ 70%``, ``≥ 2``; ``—`` without a target."""
    value = format_value(target, unit)
    return value if value == MISSING else f"{_OPS.get(str(op), str(op))} {value}"


def status_table(ctx: Ctx, rows: pd.DataFrame) -> pd.DataFrame:
    """Indicator rows as a display table in the session's language.

    The unit is said once, after the indicator's title (none for shares, which show as
    percentages); counts are whole numbers, a missing value is "—", and on English pages
    the Chinese place names in the shortfall carry their English name or pinyin.
    """
    units = [str(u) if isinstance(u, str) else "" for u in rows["unit"]]
    title = rows["title_zh"] if ctx.lang == "zh" else rows["title_en"]
    english = english_place_names(ctx)
    shortfall = rows["shortfall_zh"] if ctx.lang == "zh" else rows["shortfall_en"]
    status = rows["met"].map(_status)
    return pd.DataFrame(
        {
            ctx.t("col_indicator"): [
                indicator_label(str(ti), u, ctx.lang) for ti, u in zip(title, units, strict=True)
            ],
            ctx.t("col_value"): [
                format_value(v, u) for v, u in zip(rows["value"], units, strict=True)
            ],
            ctx.t("col_target"): [
                _target_text(o, v, u)
                for o, v, u in zip(rows["op"], rows["target"], units, strict=True)
            ],
            ctx.t("col_status"): status.map(
                {"met": ctx.t("ind_met"), "not_met": ctx.t("ind_not_met"), "na": ctx.t("ind_na")}
            ).to_numpy(),
            ctx.t("col_data"): rows["data_status"]
            .map(lambda s: status_badge(s, ctx.lang) or ctx.t("status_official"))
            .to_numpy(),
            ctx.t("col_shortfall"): [
                _shortfall_text(text, st_, ctx.lang, english)
                for text, st_ in zip(shortfall, status, strict=True)
            ],
        }
    )


def _shortfall_text(text: object, status: str, lang: str, english: dict[str, str]) -> str:
    """What is missing to meet the target ("" when met, "—" when not said)."""
    if isinstance(text, str) and text.strip():
        return gloss_names(text, lang, english)
    return "" if status == "met" else MISSING


def show_status_table(ctx: Ctx, rows: pd.DataFrame) -> None:
    """Draw indicator rows in full (long shortfalls wrap), the status cell coloured."""
    shown = status_table(ctx, rows)
    colours = [f"background-color: {_COLOURS[_status(m)]}" for m in rows["met"].tolist()]
    styled = shown.style.apply(lambda col: colours, subset=[ctx.t("col_status")])
    show_table(styled, n_rows=len(shown))
    if (shown == MISSING).to_numpy().any():
        st.caption(ctx.t("ind_missing_note"))


def render(ctx: Ctx) -> None:
    """Draw the Indicators page."""
    st.title(ctx.t("ind_title"))
    st.caption(ctx.t("ind_intro"))
    table = _indicator_table(ctx)
    if table is None:
        return
    table = _section_filter(ctx, table)
    _district_section(ctx, table)
    _township_matrix(ctx, table)
    _downloads(ctx, table)
    _monitoring(ctx)


def _indicator_table(ctx: Ctx) -> pd.DataFrame | None:
    """Every indicator evaluated (cached), with the data notice of the layers they use."""
    try:
        table = cache.indicators(ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir)
    except Exception as exc:
        data_notice(ctx, ctx.dataset.layer_ids)
        st.error(ctx.t("not_available", what=str(exc)))
        return None
    used = sorted({lid for layers in table["layers_used"] for lid in (layers or [])})
    data_notice(ctx, used)
    return table


def _section_filter(ctx: Ctx, table: pd.DataFrame) -> pd.DataFrame:
    """The indicators of the section chosen (all by default)."""
    sections = ["", *list(dict.fromkeys(table["section"].astype(str)))]
    section = st.selectbox(
        ctx.t("ind_filter_section"),
        sections,
        format_func=lambda s: section_label(s, ctx.lang) or ctx.t("ind_all"),
        key="ind_section",
    )
    if section:
        table = table[table["section"].astype(str) == section]
    return table


def _district_section(ctx: Ctx, table: pd.DataFrame) -> None:
    """The district's indicators: how many are met, and the table (optionally missed only)."""
    district = table[table["scope"] == "district"]
    st.subheader(ctx.t("ind_district"))
    st.markdown(ctx.t("ind_count", **district_counts(table)))
    if st.toggle(ctx.t("ind_only_missed"), key="ind_only_missed"):
        district = district[district["met"].map(_status) == "not_met"]
    show_status_table(ctx, district)


def _township_matrix(ctx: Ctx, table: pd.DataFrame) -> None:
    """Townships × indicators: met / not met per cell, * where the data are weak."""
    st.subheader(ctx.t("ind_matrix"))
    st.caption(ctx.t("ind_legend"))
    towns = table[table["scope"] != "district"]
    if towns.empty:
        return
    title_col = "title_zh" if ctx.lang == "zh" else "title_en"
    status = towns.assign(_s=towns["met"].map(_status))
    _codes, names = township_options(ctx)
    town_names = towns["scope"].astype(str).map(names).fillna(towns["scope_name"])
    labels = {
        "met": "✓ " + ctx.t("ind_met"),
        "not_met": "✗ " + ctx.t("ind_not_met"),
        "na": "–",
    }
    weak = towns["data_status"].isin(["estimated", "sample"])
    cell = status["_s"].map(labels) + weak.map({True: " *", False: ""})
    matrix = (
        status.assign(_cell=cell, _town=town_names)
        .pivot_table(index="_town", columns=title_col, values="_cell", aggfunc="first")
        .fillna("")
        .rename_axis(index=ctx.t("col_township"), columns=ctx.t("col_indicator"))
    )
    inverse = {v: k for k, v in labels.items()}

    def colour(v: Any) -> str:
        key = inverse.get(str(v).removesuffix(" *"), "na")
        return f"background-color: {_COLOURS[key]}"

    st.dataframe(matrix.style.map(colour), width="stretch", height=fit_height(len(matrix)))
    statuses = sorted(set(towns.loc[weak, "data_status"]))
    if statuses:
        labels_ = " / ".join(status_label(s, ctx.lang) for s in statuses)
        st.caption(ctx.t("ind_star", status=labels_))


def _downloads(ctx: Ctx, table: pd.DataFrame) -> None:
    """The indicators shown as CSV, and the Excel report."""
    st.download_button(
        ctx.t("download_csv"),
        table_csv(
            table.drop(
                columns=["failing_units", "weak_layers", "layers_used", "failing_townships"],
                errors="ignore",
            )
        ),
        file_name="indicators.csv",
        mime="text/csv",
        key="ind_csv",
    )
    _excel_button(ctx)


def _monitoring(ctx: Ctx) -> None:
    """Annual monitoring (plan 五): keep this year's values, see trends and early warnings."""
    from qjgeo.monitoring import (
        FINAL_YEAR,
        MonitoringError,
        early_warnings,
        load_series,
        recorded_years,
    )

    st.subheader(ctx.t("mon_title"))
    st.caption(ctx.t("mon_intro", final=FINAL_YEAR))
    directory = cache.monitoring_dir(ctx.base.root)
    years = recorded_years(directory)
    st.caption(ctx.t("mon_dir", dir=str(directory), years=", ".join(map(str, years)) or "—"))
    _record_year(ctx, directory, years)
    if not years:
        return
    try:
        series = load_series(directory)
    except MonitoringError as exc:
        st.error(str(exc))
        return
    table = early_warnings(series)
    titles = table["title_zh"] if ctx.lang == "zh" else table["title_en"]
    _warning_table(ctx, table, titles)
    _trend_chart(ctx, series, table, titles)


def _record_year(ctx: Ctx, directory: Path, years: list[int]) -> None:
    """Record this year's values of the baseline (asking before recording a year again)."""
    import datetime as dt

    from qjgeo.monitoring import MonitoringError, record_year

    c1, c2 = st.columns([1, 2])
    year = int(c1.number_input(ctx.t("mon_year"), 2000, 2100, dt.date.today().year, key="mon_y"))
    again = year in years
    sure = c2.checkbox(ctx.t("mon_overwrite", year=year), key=f"mon_over_{year}") if again else True
    if ctx.scenario_name:  # a what-if is not a monitoring value
        c2.caption(ctx.t("mon_scenario"))
    elif c2.button(ctx.t("mon_record", year=year), key="mon_rec", disabled=not sure):
        try:
            target = cache.monitoring_dir(ctx.base.root, write=True)  # never the bundled data
            record_year(ctx.base, year, target, graph=ctx.graph, overwrite=again)
        except MonitoringError as exc:
            st.error(str(exc))
        else:
            st.session_state[keys.MON_DONE] = year
            st.rerun()  # the new year shows in the list, and recording it again asks first
    done = st.session_state.pop(keys.MON_DONE, None)
    if done is not None:
        st.success(ctx.t("mon_recorded", year=done))


def _warning_table(ctx: Ctx, table: pd.DataFrame, titles: pd.Series) -> None:
    """Each indicator's latest value, its projection to the final year and early warnings."""
    from qjgeo.monitoring import FINAL_YEAR

    n_warn = int(table["warning"].sum())
    st.markdown(ctx.t("mon_summary", warn=n_warn, n=len(table), final=FINAL_YEAR))
    if table["weak_data"].any():
        st.warning(ctx.t("mon_weak"), icon="⚠️")
    status = table["status_zh"] if ctx.lang == "zh" else table["status"]
    units = [str(u) if isinstance(u, str) else "" for u in table["unit"]]
    shown = pd.DataFrame(
        {
            ctx.t("col_indicator"): [
                indicator_label(str(ti), u, ctx.lang) for ti, u in zip(titles, units, strict=True)
            ],
            ctx.t("mon_years"): table["years"].astype(str).to_numpy(),
            ctx.t("mon_latest"): [
                format_value(v, u) for v, u in zip(table["latest"], units, strict=True)
            ],
            ctx.t("col_target"): [
                _target_text(o, v, u)
                for o, v, u in zip(table["op"], table["target"], units, strict=True)
            ],
            ctx.t("mon_projected", final=FINAL_YEAR): [
                format_value(v, u) for v, u in zip(table["projected"], units, strict=True)
            ],
            ctx.t("mon_status"): [
                "⚠ " + s if w else s for s, w in zip(status, table["warning"], strict=True)
            ],
        }
    )
    show_table(shown)
    st.download_button(
        ctx.t("download_csv"),
        table_csv(table),
        file_name=f"monitoring-warnings-{FINAL_YEAR}.csv",
        mime="text/csv",
        key="mon_csv",
    )


def _trend_chart(ctx: Ctx, series: pd.DataFrame, table: pd.DataFrame, titles: pd.Series) -> None:
    """The district's recorded values of one indicator against its target, year by year."""
    pick = st.selectbox(
        ctx.t("mon_trend"),
        list(table["id"]),
        format_func=dict(zip(table["id"], titles.astype(str), strict=True)).__getitem__,
        key="mon_pick",
    )
    trend = series[(series["id"] == pick) & (series["scope"] == "district")]
    value, target = ctx.t("mon_value"), ctx.t("col_target")
    chart = pd.DataFrame(
        {
            ctx.t("mon_year"): trend["year"].astype(int).astype(str),  # no "2,024"
            value: trend["value"].to_numpy(),
            target: trend["target"].to_numpy(),
        }
    )
    st.line_chart(chart, x=ctx.t("mon_year"), y=[value, target])


def _excel_button(ctx: Ctx) -> None:
    from qjgeo.export import export_bytes
    from qjgeo.ui.widgets import one_click_download

    base = ctx.base if ctx.scenario_name else None
    one_click_download(
        ctx,
        "ind_excel",
        ctx.t("exp_excel"),
        lambda: export_bytes("report", ctx.dataset, ".xlsx", base=base, graph=ctx.graph),
        "qjgeo-report.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
