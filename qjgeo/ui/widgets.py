"""Widgets shared by the pages: the sidebar, the data-status notice and the map component."""

from __future__ import annotations

import threading
import time
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


def file_uploader(
    ctx: state.Ctx, label: str, types: Sequence[str], *, key: str, limit_mb: int
) -> Any:
    """Streamlit's file uploader with its own words in the page's language.

    The uploader's button ("Upload") and its note ("50MB per file • CSV, …") are English and
    have no argument to change them: a style scoped to this uploader (its ``st-key-`` class)
    hides that text and shows ours in its place. Its messages about a refused file type stay
    English (Streamlit writes them); the page says the accepted types in the label.
    """
    button = _css_text(ctx.t("upl_button"))
    note = _css_text(ctx.t("upl_note", mb=limit_mb))
    scope = f'[class*="st-key-{key}"] [data-testid="stFileUploaderDropzone"]'
    st.html(
        "<style>"
        f"{scope} button p{{font-size:0}}"
        f'{scope} button p::after{{content:"{button}";font-size:0.875rem}}'
        f'{scope} [data-testid="stFileUploaderDropzoneInstructions"] span{{font-size:0}}'
        f'{scope} [data-testid="stFileUploaderDropzoneInstructions"] span::after'
        f'{{content:"{note}";font-size:0.875rem}}'
        "</style>"
    )
    return st.file_uploader(label, type=list(types), key=key, help=ctx.t("upl_help", mb=limit_mb))


def _css_text(text: str) -> str:
    """Text safe inside a CSS string (quotes, backslashes and angle brackets escaped)."""
    return "".join(
        c if c.isalnum() or c in " ，。、：；（）,.;:()–-" else f"\\{ord(c):x} " for c in text
    )


def facility_types(ctx: state.Ctx) -> list[str]:
    """Facility layers with access parameters present in the dataset."""
    return [lid for lid in ctx.dataset.params.access if ctx.dataset.has(lid)]


def english_place_names(ctx: state.Ctx) -> dict[str, str]:
    """Township name → its English name (``罗坑镇`` → ``Luokeng``), from the township layer."""
    if not ctx.dataset.has("township") or "name_en" not in ctx.dataset.layer("township"):
        return {}
    tw = ctx.dataset.layer("township")
    return {
        str(zh): str(en)
        for zh, en in zip(tw["name"], tw["name_en"], strict=True)
        if isinstance(en, str) and en.strip()
    }


def township_options(ctx: state.Ctx) -> tuple[list[str], dict[str, str]]:
    """Township codes ('' first = none) and code → display name."""
    if not ctx.dataset.has("township"):
        return [""], {"": ctx.t("township_none")}
    tw = ctx.dataset.layer("township")
    col = "name_en" if ctx.lang == "en" and "name_en" in tw.columns else "name"
    names = dict(zip(tw["code9"].astype(str), tw[col].astype(str), strict=True))
    names[""] = ctx.t("township_none")
    return ["", *sorted(k for k in names if k)], names


def one_click_download(
    ctx: state.Ctx, key: str, label: str, make: Callable[[], bytes], file_name: str, mime: str
) -> None:
    """One download button: the file is built when it is clicked (Streamlit's deferred data).

    A failure is kept for the session and said in the page's language under the button after
    the rerun the click starts (the rerun waits for the file, so it can say so at once).
    Streamlit's own short note under the button ("Failed to generate file for download",
    English, with no argument to change it) is hidden: ours says it instead.
    """
    jobs = st.session_state.setdefault(keys.EXPORT_JOBS, {})
    failures = st.session_state.setdefault(keys.EXPORT_FAILURES, {})

    def build() -> bytes:
        done = threading.Event()
        jobs[key] = done
        try:
            data = make()
        except Exception as exc:
            failures[key] = str(exc) or type(exc).__name__
            raise
        else:
            failures.pop(key, None)
            return data
        finally:
            done.set()

    st.html('<style>[data-testid="stDownloadButtonError"]{display:none}</style>')
    st.download_button(
        ctx.t("exp_download", what=label),
        build,
        file_name=file_name,
        mime=mime,
        key=f"exp_dl_{key}",
        help=ctx.t("exp_file", file=file_name),
        icon=":material/download:",
        on_click=_await_build,
        args=(jobs, key),
    )
    if key in failures:
        st.error(ctx.t("exp_failed", what=label, error=failures[key]))


def _await_build(jobs: dict[str, threading.Event], key: str) -> None:
    """Wait (briefly for its start, then for its end) for the file a click asked for."""
    for _ in range(20):  # the browser asks for the file along with the click's rerun
        if key in jobs:
            jobs[key].wait(timeout=600)
            jobs.pop(key, None)
            return
        time.sleep(0.05)


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
