"""The Scenarios page's Compare tab: what flipped first, coverage, and the difference map."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from qjgeo.export import export_bytes
from qjgeo.mapview.build import Overlay, build_map
from qjgeo.ui import cache, state
from qjgeo.ui.names import place_name
from qjgeo.ui.pages.scenario_errors import error_text
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import format_count, format_delta, format_value, indicator_label, show_table
from qjgeo.ui.widgets import one_click_download, show_map, township_options

#: Colours of the difference map: villages gaining / losing access, facilities changed.
FLIP_COLOURS = {"gain": "#1a9850", "loss": "#d73027"}
CHANGE_COLOURS = {
    "added": "#e6007e",
    "removed": "#4d4d4d",
    "moved": "#f28e2b",
    "modified": "#9467bd",
}


def _status_text(ctx: Ctx, met: Any) -> str:
    if met is True:
        return ctx.t("ind_met")
    if met is False:
        return ctx.t("ind_not_met")
    return ctx.t("ind_na")


def _flip_order(indicators: pd.DataFrame) -> pd.Series:
    """0: not met → met; 1: met → not met; 2: other flips; 3: a value change only."""
    flipped = indicators["flipped"].astype(bool)
    now_met = indicators["met_b"].map(lambda m: m is True)
    was_met = indicators["met_a"].map(lambda m: m is True)
    order = pd.Series(3, index=indicators.index)
    order[flipped] = 2
    order[flipped & now_met & ~was_met] = 0
    order[flipped & was_met & ~now_met] = 1
    return order


def delta_table(ctx: Ctx, indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicator rows that change, what flipped first (未达标 → 达标, then 达标 → 未达标),
    then the largest changes; values formatted as a planner reads them."""
    if indicators.empty:
        return pd.DataFrame()
    delta = pd.to_numeric(indicators["delta"], errors="coerce").fillna(0.0)
    changed = indicators[(delta.abs() > 1e-9) | indicators["flipped"].astype(bool)]
    order = _flip_order(changed)
    size = -pd.to_numeric(changed["delta"], errors="coerce").abs().fillna(0.0)
    changed = changed.assign(_order=order, _size=size).sort_values(
        ["_order", "_size"], kind="stable"
    )
    listed = {i: (zh if ctx.lang == "zh" else en, u) for i, zh, en, u in cache.indicator_titles()}
    units = changed["id"].map(lambda i: listed.get(i, ("", ""))[1])
    titles = [
        indicator_label(listed.get(i, (i, ""))[0], u, ctx.lang)
        for i, u in zip(changed["id"], units, strict=True)
    ]
    _codes, names = township_options(ctx)
    names = {**names, "district": ctx.t("district")}
    flips = {0: ctx.t("sc_flip_up"), 1: ctx.t("sc_flip_down"), 2: ctx.t("sc_flip_other"), 3: ""}
    return pd.DataFrame(
        {
            ctx.t("col_flip"): changed["_order"].map(flips).to_numpy(),
            ctx.t("col_indicator"): titles,
            ctx.t("col_scope"): changed["scope"]
            .astype(str)
            .map(names)
            .fillna(changed["scope_name"])
            .to_numpy(),
            ctx.t("col_baseline"): [
                format_value(v, u) for v, u in zip(changed["value_a"], units, strict=True)
            ],
            ctx.t("col_scenario"): [
                format_value(v, u) for v, u in zip(changed["value_b"], units, strict=True)
            ],
            ctx.t("col_delta"): [
                format_delta(v, u, points=ctx.t("points"))
                for v, u in zip(changed["delta"], units, strict=True)
            ],
            ctx.t("col_status_before"): [_status_text(ctx, m) for m in changed["met_a"]],
            ctx.t("col_status_after"): [_status_text(ctx, m) for m in changed["met_b"]],
        }
    )


def compare_section(ctx: Ctx, draft: Any, yaml_text: str, applied: Any) -> None:
    """The Compare tab: what the draft changes against the baseline, and the Excel report."""
    try:
        cmp = cache.compare(ctx.data_dir, yaml_text, ctx.scenarios_dir, state.current_mode())
    except Exception as exc:
        st.error(error_text(ctx, exc))
        return
    st.subheader(ctx.t("sc_deltas"))
    deltas = delta_table(ctx, cmp.indicators)
    if deltas.empty:
        st.caption(ctx.t("sc_no_deltas"))
    else:
        show_table(deltas)
    _coverage_change(ctx, cmp.coverage)
    _flipped_villages(ctx, cmp.villages_flipped)
    _diff_map(ctx, cmp.villages_flipped, applied, yaml_text)
    for note in cmp.notes:
        st.caption(note)
    scenario_ds = cache.with_mode(
        cache.scenario_dataset(ctx.data_dir, yaml_text, ctx.scenarios_dir), state.current_mode()
    )
    from qjgeo.scenario import file_stem

    stem = file_stem(draft.name)
    one_click_download(
        ctx, "sc_report", ctx.t("sc_report"),
        lambda: export_bytes("report", scenario_ds, ".xlsx", base=ctx.base, graph=ctx.graph),
        f"qjgeo-report-{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip


def _coverage_change(ctx: Ctx, cov: pd.DataFrame) -> None:
    """Children covered before and after, per facility type (counts of children)."""
    st.subheader(ctx.t("sc_coverage"))
    if not len(cov):
        return
    show_table(
        pd.DataFrame(
            {
                ctx.t("facility_type"): cov["facility_type"].map(ctx.title).to_numpy(),
                ctx.t("col_children"): cov["children"].map(format_count).to_numpy(),
                ctx.t("col_covered_before"): cov["covered_a"].map(format_count).to_numpy(),
                ctx.t("col_covered_after"): cov["covered_b"].map(format_count).to_numpy(),
                ctx.t("sc_flip_gain"): cov["newly_covered"].map(format_count).to_numpy(),
                ctx.t("sc_flip_loss"): cov["newly_uncovered"].map(format_count).to_numpy(),
            }
        )
    )


def _flipped_villages(ctx: Ctx, flips: pd.DataFrame) -> None:
    """Villages that gain or lose walking access, as a table."""
    st.subheader(ctx.t("sc_flipped"))
    if not len(flips):
        st.caption(ctx.t("sc_no_flips"))
        return
    _codes, names = township_options(ctx)
    show_table(
        pd.DataFrame(
            {
                ctx.t("col_change"): [
                    ctx.t("sc_flip_gain") if b else ctx.t("sc_flip_loss")
                    for b in flips["covered_b"].astype(bool)
                ],
                ctx.t("col_village"): [place_name(n, ctx.lang) for n in flips["name"]],
                ctx.t("col_township"): flips["township_code"].astype(str).map(names).to_numpy(),
                ctx.t("facility_type"): flips["facility_type"].map(ctx.title).to_numpy(),
                ctx.t("col_children"): flips["children"].map(format_count).to_numpy(),
            }
        )
    )


def difference_overlays(
    ctx: Ctx, flips: pd.DataFrame, applied: Any, yaml_text: str
) -> list[Overlay]:
    """The difference map's layers: villages gaining / losing access, facilities changed.

    Columns carry the planner's labels (their popups show them as they are) and the colour
    categories are the legend's words.
    """
    from qjgeo.scenario.changes import CHANGE_KINDS

    overlays = []
    change, ftype = ctx.t("col_change"), ctx.t("facility_type")
    if len(flips) and applied.has("village"):
        v = applied.layer("village")
        merged = v[["code12", "geometry"]].merge(flips, on="code12")
        merged[change] = np.where(
            merged["covered_b"].astype(bool), ctx.t("sc_flip_gain"), ctx.t("sc_flip_loss")
        )
        merged[ftype] = merged["facility_type"].map(ctx.title)
        colours = {ctx.t(f"sc_flip_{k}"): c for k, c in FLIP_COLOURS.items()}
        overlays.append(
            Overlay(
                "flips",
                ctx.t("sc_flipped"),
                merged[["name", ftype, change, "geometry"]],
                change,
                colours,
            )
        )
    changed = cache.facility_changes(
        ctx.data_dir, yaml_text, ctx.scenarios_dir, state.current_mode()
    )
    if len(changed):
        words = {k: ctx.t(f"sc_fac_{k}") for k in CHANGE_KINDS}
        frame = changed.assign(
            **{change: changed["change"].map(words), ftype: changed["facility_type"].map(ctx.title)}
        )
        colours = {words[k]: CHANGE_COLOURS[k] for k in CHANGE_KINDS if k in set(changed["change"])}
        overlays.append(
            Overlay(
                "facility_changes",
                ctx.t("sc_fac_changes"),
                frame[["name", ftype, change, "geometry"]],
                change,
                colours,
            )
        )
    return overlays


def _diff_map(ctx: Ctx, flips: pd.DataFrame, applied: Any, yaml_text: str) -> None:
    """The difference map on the townships, with its legend (drawn inside the map)."""
    overlays = difference_overlays(ctx, flips, applied, yaml_text)
    if not overlays:
        return
    st.subheader(ctx.t("sc_diff_map"))
    m = build_map(
        applied,
        layers=["township"],
        basemap=state.get("basemap"),
        lang=ctx.lang,
        overlays=overlays,
        tianditu_key=cache.tianditu_key(),
    )
    show_map(m, key="sc_diff_map", returned_objects=[], height=460)
