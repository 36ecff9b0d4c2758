"""Widgets shared by the pages: the sidebar, the data-status notice and the map component."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import folium
import streamlit as st
from streamlit_folium import st_folium

from qjgeo.mapview import localize_map
from qjgeo.mapview.build import BASEMAPS
from qjgeo.ui import cache, keys, state
from qjgeo.ui.i18n import LANGS, status_label, t

LANG_NAMES = {"zh": "中文", "en": "English"}
#: Session key of a scenario the URL asked for but the scenario directory lacks.
MISSING_SCENARIO = keys.MISSING_SCENARIO


def sidebar() -> None:
    """Language, scenario and basemap choices (drawn on every page)."""
    with st.sidebar:
        lang = state.bound(
            st.radio,
            t("language", state.get("lang")),
            "lang",
            LANGS,
            format_func=LANG_NAMES.get,
            horizontal=True,
        )
        stems = ["", *scenario_stems()]
        wanted = state.get("scenario")
        if wanted and wanted not in stems:  # kept until a page has shown it (see nav)
            st.session_state[MISSING_SCENARIO] = wanted
        if missing := st.session_state.get(MISSING_SCENARIO):
            st.error(t("scenario_error", lang, name=missing, error=t("file_not_found", lang)))
        state.bound(
            st.selectbox,
            t("scenario", lang),
            "scenario",
            stems,
            format_func=lambda s: s or t("baseline", lang),
        )
        basemaps = [b for b in BASEMAPS if b != "tianditu" or cache.tianditu_key()]
        state.bound(
            st.selectbox,
            t("basemap", lang),
            "basemap",
            basemaps,
            format_func=lambda b: t(f"basemap_{b}", lang),
            help=t("basemap_help", lang),
        )


def scenario_stems() -> list[str]:
    """File stems of the scenario files (readable or not) in the scenario directory."""
    directory = cache.scenarios_dir()
    if not directory.is_dir():
        return []
    return sorted(
        p.stem for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
    )


def data_notice(ctx: state.Ctx, layer_ids: Iterable[str]) -> None:
    """A visible warning naming the shown layers that rest on estimated or sample data."""
    if ctx.scenario_error:
        st.error(ctx.scenario_error)
    if ctx.graph_error:  # the dataset has a network file, but it cannot be used
        st.warning(ctx.t("network_error", error=ctx.graph_error), icon="⚠️")
    shown = list(layer_ids)
    if any("osm" in ctx.dataset.provenance_of(lid) for lid in shown if ctx.dataset.has(lid)):
        st.caption(ctx.t("osm_attribution"))  # ODbL: OSM-derived data is credited where shown
    weak = ctx.dataset.weak_layers(shown)
    if not weak:
        return
    parts = [
        f"{ctx.title(lid)}（{'、'.join(status_label(s, ctx.lang) for s in sorted(kinds))}）"
        if ctx.lang == "zh"
        else f"{ctx.title(lid)} ({', '.join(status_label(s, ctx.lang) for s in sorted(kinds))})"
        for lid, kinds in weak.items()
    ]
    sep = "；" if ctx.lang == "zh" else "; "
    st.warning(ctx.t("notice_weak", layers=sep.join(parts)), icon="⚠️")


def status_badge(status: str, lang: str) -> str:
    """A short text badge for a value's data status ('' for official data)."""
    if status in ("estimated", "sample"):
        return f"⚠ {status_label(status, lang)}"
    return ""


def show_map(
    m: folium.Map,
    *,
    key: str,
    returned_objects: Sequence[str] = ("last_active_drawing",),
    height: int = 560,
) -> dict[str, Any]:
    """Draw a folium map with the app's own copies of Leaflet & co. (no CDN).

    Only ``returned_objects`` trigger a rerun, so panning and zooming do not.
    """
    localize_map(m)
    out = st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=list(returned_objects),
    )
    return out or {}


def facility_types(ctx: state.Ctx) -> list[str]:
    """Facility layers with access parameters present in the dataset."""
    return [lid for lid in ctx.dataset.params.access if ctx.dataset.has(lid)]


def township_options(ctx: state.Ctx) -> tuple[list[str], dict[str, str]]:
    """Township codes ('' first = none) and code → display name."""
    if not ctx.dataset.has("township"):
        return [""], {"": ctx.t("township_none")}
    tw = ctx.dataset.layer("township")
    col = "name_en" if ctx.lang == "en" and "name_en" in tw.columns else "name"
    names = dict(zip(tw["code9"].astype(str), tw[col].astype(str), strict=True))
    names[""] = ctx.t("township_none")
    return ["", *sorted(k for k in names if k)], names


def prepared_download(
    ctx: state.Ctx, key: str, label: str, make: Callable[[], bytes], file_name: str, mime: str
) -> None:
    """A 'prepare' button that builds the file, then its download button (kept per session)."""
    c1, c2 = st.columns([1, 3])
    if c1.button(ctx.t("exp_prepare", what=label), key=f"exp_prep_{key}"):
        try:
            st.session_state[keys.export_data(key)] = (file_name, make())
        except Exception as exc:  # shown to the planner, who keeps everything else
            st.session_state.pop(keys.export_data(key), None)
            c2.error(ctx.t("exp_failed", error=str(exc)))
    held = st.session_state.get(keys.export_data(key))
    if held and held[0] == file_name:
        c2.download_button(
            ctx.t("exp_download", file=file_name),
            held[1],
            file_name=file_name,
            mime=mime,
            key=f"exp_dl_{key}",
        )


def mode_switch(ctx: state.Ctx) -> str:
    """The travel mode switch (Gaps and Scenarios pages), bound to the session's ``mode``:
    ``""`` walking with service distances in metres, else walk / bike / drive in minutes."""

    def label(mode: str) -> str:
        if not mode:
            return ctx.t("mode_default")
        travel = ctx.base.params.travel(mode)
        title = travel.title_zh if ctx.lang == "zh" else travel.title_en
        return ctx.t("mode_option", title=title, speed=f"{travel.speed_kmh:g}")

    return state.bound(st.selectbox, ctx.t("mode"), "mode", state.MODE_CHOICES, format_func=label)


def mode_caption(ctx: state.Ctx, params_used: Mapping[str, Any]) -> str:
    """One line: the mode, its speed and the urban / rural thresholds in minutes and metres."""
    p = params_used

    def limit(which: str) -> str:
        return ctx.t(
            "minutes_metres",
            minutes=f"{p[f'{which}_threshold_min']:,.0f}",
            metres=f"{p[f'{which}_threshold_m']:,.0f}",
        )

    title = p["mode_title_zh"] if ctx.lang == "zh" else p["mode_title_en"]
    return ctx.t("gap_mode_line", title=title, speed=f"{p['speed_kmh']:g}",
                 urban=limit("urban"), rural=limit("rural"))  # fmt: skip
