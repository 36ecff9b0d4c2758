"""Gaps (缺口): children beyond walking distance of a facility type, by village and township."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from qjgeo.export import export_bytes
from qjgeo.export.gis import table_csv
from qjgeo.gaps import outline_cell_size
from qjgeo.isochrones import catchment_colours
from qjgeo.mapview.build import Overlay, build_map
from qjgeo.params import merge_params
from qjgeo.priority import PRIORITY_GROUPS, priority_status
from qjgeo.schema import AGE_BANDS
from qjgeo.ui import cache, state
from qjgeo.ui.names import place_name
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import format_count, readable, show_table, yes_no
from qjgeo.ui.widgets import (
    data_notice,
    facility_types,
    mode_caption,
    mode_switch,
    one_click_download,
    show_map,
    township_options,
)

#: Colours of distance bands, nearest first (green → dark red).
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7f0000", "#400000")


def band_colours(frame: pd.DataFrame) -> dict[str, str]:
    """Distance band label → colour, ordered by ``band_order``."""
    bands = frame[["distance_band", "band_order"]].drop_duplicates().sort_values("band_order")
    return {
        str(b): BAND_COLOURS[min(int(o), len(BAND_COLOURS) - 1)]
        for b, o in zip(bands["distance_band"], bands["band_order"], strict=True)
    }


def render(ctx: Ctx) -> None:
    """Draw the Gaps page."""
    st.title(ctx.t("gap_title"))
    st.caption(ctx.t("gap_intro"))
    types = facility_types(ctx)
    if not types:
        data_notice(ctx, ctx.dataset.layer_ids)
        st.info(ctx.t("layer_missing", layer="facility"))
        return
    if not ctx.dataset.has("village"):
        _surface_only(ctx, types)
        return
    facility, bands, threshold_m = _view_controls(ctx, types)
    data_notice(ctx, ["village", "township", facility])
    res = _gap_results(ctx, facility, threshold_m, bands, state.current_mode())
    if res is None:
        return
    _district_figures(ctx, res)
    _gap_map(ctx, res, facility, threshold_m)
    _township_chart(ctx, res)
    _priority_groups(ctx, res)
    _worst_villages(ctx, res, facility)
    _map_downloads(ctx, facility, threshold_m, bands)


def _view_controls(ctx: Ctx, types: list[str]) -> tuple[str, tuple[str, ...] | None, float | None]:
    """Facility type, age bands, travel mode and service distance of the view (``None``:
    the default)."""
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        facility = state.bound(
            st.selectbox, ctx.t("facility_type"), "layer", types, format_func=ctx.title
        )
    with c4:
        mode_switch(ctx)
    access = ctx.dataset.params.facility(facility)
    with c2:
        bands = st.multiselect(
            ctx.t("age_band"),
            list(AGE_BANDS),
            default=[b for b in access.age_bands if b in AGE_BANDS],
            format_func=lambda b: f"{AGE_BANDS[b][0]}–{AGE_BANDS[b][1]}",
            key=f"gap_bands_{facility}",
            placeholder=ctx.t("gap_bands_pick"),
        )
    with c3:
        threshold = st.number_input(
            ctx.t("threshold"), min_value=0, max_value=20000, value=0, step=100, key="gap_thr"
        )
        st.caption(
            ctx.t(
                "threshold_default",
                urban=f"{access.urban_threshold_m:g}",
                rural=f"{access.rural_threshold_m:g}",
            )
        )
    return facility, tuple(bands) or None, float(threshold) or None


def _gap_results(
    ctx: Ctx,
    facility: str,
    threshold_m: float | None,
    bands: tuple[str, ...] | None,
    mode: str = "",
) -> Any:
    """The gaps of the view (cached), or ``None`` after saying why they are not available."""
    try:
        return cache.gaps(
            ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir, facility, threshold_m, bands, mode
        )
    except Exception as exc:
        st.error(ctx.t("gap_unavailable", error=str(exc)))
        return None


def _district_figures(ctx: Ctx, res: Any) -> None:
    """Children, children not covered, share covered, villages beyond reach; the method."""
    d = res.district
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(ctx.t("gap_metric_children", age=res.age_label), f"{d['children']:,.0f}")
    m2.metric(ctx.t("gap_metric_uncovered"), f"{d['children_uncovered']:,.0f}")
    share = d.get("share_covered")
    m3.metric(ctx.t("gap_metric_share"), "–" if share is None or share != share else f"{share:.0%}")
    m4.metric(ctx.t("gap_metric_villages"), f"{d['villages'] - d['villages_covered']:,}")
    if res.method == "network":
        st.caption(ctx.t("gap_method_network", mode=ctx.t(f"mode_{_mode_of(ctx)}")))
    elif res.method == "no facilities":
        st.caption(ctx.t("gap_method_none"))
    else:
        st.caption(ctx.t("gap_method_straight", detour=res.params_used.get("detour_factor", "")))
    st.caption(mode_caption(ctx, res.params_used))
    if ctx.dataset.has("village"):
        st.caption(ctx.t("gap_demand_source", source=_demand_source(ctx)))


def _demand_source(ctx: Ctx) -> str:
    """The village layer's title, provenance and source, in the page's language."""
    spec = ctx.dataset.spec("village")
    title = spec.title_zh if ctx.lang == "zh" else spec.title_en
    text = f"{title} [{spec.provenance}]: {spec.source}"
    if ctx.lang != "zh" and any("\u4e00" <= ch <= "\u9fff" for ch in spec.source):
        text = f"{title} [{spec.provenance}] (source: see the layer list)"
    return text


def _isochrone_overlay(ctx: Ctx, facility: str) -> Overlay | None:
    """The 5/10/15-minute catchments of a facility the planner picks, in the view's mode."""
    frame = ctx.dataset.layer(facility)
    ids = (frame["id"] if "id" in frame.columns else frame.index).astype(str).tolist()
    names = dict(zip(ids, frame["name"].astype(str) if "name" in frame.columns else ids,
                     strict=True))  # fmt: skip
    chosen = st.selectbox(
        ctx.t("iso_facility"), ["", *ids], key="gap_iso",
        format_func=lambda i: names.get(i, i) if i else ctx.t("iso_none"),
    )  # fmt: skip
    if not chosen:
        return None
    try:
        iso = cache.isochrones(
            ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir, facility, chosen,
            state.current_mode(),
        )  # fmt: skip
    except Exception as exc:
        st.caption(ctx.t("gap_unavailable", error=str(exc)))
        return None
    iso = iso.sort_values("minutes", ascending=False)
    iso["catchment"] = iso["minutes"].map(lambda m: f"{m:g} min")
    colours = dict(zip(iso["catchment"][::-1], catchment_colours(len(iso)), strict=True))
    st.caption(
        ctx.t("iso_caption", method=str(iso["method"].iloc[0]), mode=str(iso["mode"].iloc[0]))
    )
    shown = iso[["catchment", "mode", "method", "area_km2", "geometry"]]
    return Overlay("isochrones", ctx.t("iso_layer"), shown, "catchment", colours)


def _picked_catchments(ctx: Ctx, facility: str) -> Any:
    """The catchments the planner drew on the map (``None``: none), for the GIS download."""
    chosen = st.session_state.get("gap_iso")
    if not chosen:
        return None
    try:
        iso = cache.isochrones(
            ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir, facility, str(chosen),
            state.current_mode(),
        )  # fmt: skip
    except Exception:  # the map says why; the download goes without them
        return None
    return iso.assign(place=f"{facility} {chosen}")


def _minutes(value: Any) -> str:
    """Minutes with one decimal, "—" where there is none."""
    return "—" if pd.isna(value) else f"{float(value):,.1f}"


def _mode_of(ctx: Ctx) -> str:
    """The travel mode of the view's distances (walking unless a mode is chosen)."""
    return ctx.dataset.params.mode or "walk"


def _gap_map(ctx: Ctx, res: Any, facility: str, threshold_m: float | None) -> None:
    """The map: villages coloured by distance band over the (optional) gap surface."""
    villages = res.villages
    colours = band_colours(villages)
    overlays = []
    if st.checkbox(ctx.t("gap_show_surface"), value=True, key="gap_surface_on"):
        try:
            surf = cache.surface(
                ctx.data_dir,
                ctx.scenario_yaml,
                ctx.scenarios_dir,
                facility,
                threshold_m,
                mode=state.current_mode(),
            )
            surf_cols = band_colours(surf)
            overlays.append(
                Overlay(
                    "gap_surface",
                    ctx.t("gap_surface"),
                    surface_by_band(surf),
                    "distance_band",
                    surf_cols,
                )
            )
        except Exception as exc:
            st.caption(ctx.t("gap_unavailable", error=str(exc)))
    catchments = _isochrone_overlay(ctx, facility)
    if catchments is not None:
        overlays.append(catchments)
    shown = villages[
        ["code12", "name", "township_name", "children", "route_m", "covered",
         "children_uncovered", "distance_band", "provenance", "geometry"]
    ]  # fmt: skip
    overlays.append(Overlay("gap_villages", ctx.t("gap_villages"), shown, "distance_band", colours))
    m = build_map(
        ctx.dataset,
        layers=["township", facility],
        basemap=state.get("basemap"),
        lang=ctx.lang,
        overlays=overlays,
        tianditu_key=cache.tianditu_key(),
    )
    show_map(m, key="gap_map", returned_objects=[])


def surface_by_band(surface: Any) -> Any:
    """The gap surface's cells merged by distance band: one shape per band, its children summed.

    The map draws the same colours from far less data (on the bundled data 945 cells become
    5 shapes, and the Gaps page's map HTML shrinks from 540 KB to 180 KB); a cell's own
    distance stays in the exports.
    """
    merged = surface.dissolve("distance_band", aggfunc={"children": "sum"}, sort=False)
    return merged.reset_index()[["distance_band", "children", "geometry"]]


def _township_names(ctx: Ctx) -> dict[str, str]:
    """Township code → display name; a unit without a township (OSM demand) shows "—"."""
    _codes, names = township_options(ctx)
    return {**{k: v for k, v in names.items() if k}, "": "—"}


def _township_chart(ctx: Ctx, res: Any) -> None:
    """Children not covered per township, most first (said instead when there are none)."""
    st.subheader(ctx.t("gap_by_township"))
    if not ctx.dataset.has("township"):
        st.caption(ctx.t("gap_no_townships"))
        return
    _codes, names = township_options(ctx)
    labels = res.townships["code9"].astype(str).map(names).fillna(res.townships["name"])
    towns = (
        res.townships.assign(label=labels)
        .set_index("label")["children_uncovered"]
        .sort_values(ascending=False)
    )
    label = ctx.t("gap_metric_uncovered")
    st.bar_chart(
        towns.rename(label).rename_axis(ctx.t("col_township")).reset_index(),
        x=ctx.t("col_township"),
        y=label,
        horizontal=True,
        sort=f"-{label}",
    )


def _priority_groups(ctx: Ctx, res: Any) -> None:
    """Children of the priority groups not covered, per township (or why there are none)."""
    st.subheader(ctx.t("gap_priority"))
    status, note, note_zh = priority_status(ctx.dataset.layer("village"))
    st.caption(note_zh if ctx.lang == "zh" else note)
    cols = [f"{g}_uncovered" for g in PRIORITY_GROUPS if f"{g}_uncovered" in res.townships]
    if status == "none" or not cols:
        return
    _codes, names = township_options(ctx)
    towns = res.townships
    table = pd.DataFrame(
        {ctx.t("col_township"): towns["code9"].astype(str).map(names).fillna(towns["name"])}
    )
    for col in cols:
        zh, en = PRIORITY_GROUPS[col.removesuffix("_uncovered")]
        table[ctx.t("gap_priority_uncovered", group=zh if ctx.lang == "zh" else en)] = (
            towns[col].map(format_count).to_numpy()
        )
    show_table(table)


def _worst_villages(ctx: Ctx, res: Any, facility: str) -> None:
    """The 15 villages with most children not covered, and every village as CSV."""
    st.subheader(ctx.t("gap_worst"))
    villages = res.villages
    names = _township_names(ctx)
    worst = (
        pd.DataFrame(villages.drop(columns="geometry"))
        .sort_values(["children_uncovered", "distance_m"], ascending=False)
        .head(15)
    )
    table = pd.DataFrame(
        {
            ctx.t("col_village"): [place_name(n, ctx.lang) for n in worst["name"]],
            ctx.t("col_township"): worst["township_code"]
            .astype(str)
            .map(names)
            .fillna(worst["township_name"])
            .to_numpy(),
            ctx.t("col_urban"): [yes_no(u, ctx.t("yes"), ctx.t("no")) for u in worst["urban"]],
            ctx.t("col_mode"): worst["mode"].map(lambda m: ctx.t(f"mode_{m}")).to_numpy(),
            # the route's metres (on a drive network distance_m is a time × 30 km/h)
            ctx.t("col_distance_m"): worst["route_m"].map(format_count).to_numpy(),
            ctx.t("col_time_min"): worst["time_min"].map(_minutes).to_numpy(),
            ctx.t("col_threshold_min"): worst["threshold_min"].map(_minutes).to_numpy(),
            ctx.t("col_band"): readable(worst[["distance_band"]])["distance_band"].to_numpy(),
            ctx.t("col_children"): worst["children"].map(format_count).to_numpy(),
            ctx.t("col_uncovered"): worst["children_uncovered"].map(format_count).to_numpy(),
        }
    )
    show_table(table)
    st.download_button(
        ctx.t("download_csv"),
        table_csv(villages),
        file_name=f"gaps-{facility}.csv",
        mime="text/csv",
        key="gap_csv",
    )


def _surface_only(ctx: Ctx, types: list[str]) -> None:
    """No village layer (e.g. an OSM import): how far every part of the area is from the
    nearest facility, as the hexagonal surface; no children are counted."""
    st.info(ctx.t("gap_no_villages"))
    c1, c2 = st.columns(2)
    with c1:
        facility = state.bound(
            st.selectbox, ctx.t("facility_type"), "layer", types, format_func=ctx.title
        )
    access = ctx.dataset.params.facility(facility)
    with c2:
        threshold = st.number_input(
            ctx.t("threshold_plain"),
            min_value=100,
            max_value=20000,
            value=int(access.urban_threshold_m),
            step=100,
            key=f"gap_thr_surface_{facility}",
        )
    data_notice(ctx, ["district", facility])
    try:
        surf = cache.surface(
            ctx.data_dir,
            ctx.scenario_yaml,
            ctx.scenarios_dir,
            facility,
            float(threshold),
            outline_cell_size(ctx.dataset),
            mode=state.current_mode(),
        )
    except Exception as exc:
        st.error(ctx.t("gap_unavailable", error=str(exc)))
        return
    method = str(surf["method"].iloc[0]) if len(surf) else ""
    if method == "network":
        st.caption(ctx.t("gap_method_network", mode=ctx.t(f"mode_{_mode_of(ctx)}")))
    elif method.startswith("straight"):
        st.caption(ctx.t("gap_method_straight", detour=ctx.dataset.params.detour_factor))
    cells = len(surf)
    beyond = int((~surf["covered"].astype("boolean").fillna(False)).sum()) if cells else 0
    m1, m2 = st.columns(2)
    m1.metric(ctx.t("gap_metric_cells"), f"{cells:,}")
    m2.metric(ctx.t("gap_metric_cells_beyond", m=f"{threshold:,}"), f"{beyond:,}")
    overlay = Overlay(
        "gap_surface",
        ctx.t("gap_surface"),
        surf[["distance_band", "route_m", "geometry"]],
        "distance_band",
        band_colours(surf),
    )
    m = build_map(
        ctx.dataset,
        layers=["district", facility],
        basemap=state.get("basemap"),
        lang=ctx.lang,
        overlays=[overlay],
        tianditu_key=cache.tianditu_key(),
    )
    show_map(m, key="gap_map", returned_objects=[])
    _map_downloads(ctx, facility, float(threshold), None)


def _map_downloads(
    ctx: Ctx, facility: str, threshold_m: float | None, bands: tuple[str, ...] | None
) -> None:
    """The report map (PNG) and GIS data of exactly this view (its distance and age band)."""
    override: dict[str, float | tuple[str, ...]] = {}
    if threshold_m:
        override = {"urban_threshold_m": threshold_m, "rural_threshold_m": threshold_m}
    if bands:
        override["age_bands"] = bands
    ds = ctx.dataset
    if override:
        ds = ds.with_params(merge_params(ds.params, {"access": {facility: override}}))
    suffix = f"-{ctx.scenario_name}" if ctx.scenario_name else ""
    one_click_download(
        ctx, "gap_png", ctx.t("exp_map_png"),
        lambda: export_bytes("map", ds, ".png", facility_type=facility, graph=ctx.graph),
        f"gap-map-{facility}{suffix}.png", "image/png",
    )  # fmt: skip
    iso = _picked_catchments(ctx, facility)
    one_click_download(
        ctx, "gap_gpkg", ctx.t("exp_gis"),
        lambda: export_bytes("data", ds, ".gpkg", facility_type=facility, graph=ctx.graph,
                             catchments=iso),
        f"qjgeo-{facility}{suffix}.gpkg", "application/geopackage+sqlite3",
    )  # fmt: skip
