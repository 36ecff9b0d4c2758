"""Export (导出): download the gap map (HTML/PNG/PDF), GIS data, the Excel report, briefs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from qjgeo.mapview import standalone_html
from qjgeo.mapview.build import Overlay, build_map
from qjgeo.ui import cache, state, widgets
from qjgeo.ui.pages.gaps import band_colours
from qjgeo.ui.state import Ctx

GIS_FORMATS = ("gpkg", "geojson", "shp.zip", "csv")
_MIME = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "shp.zip": "application/zip", "csv": "text/csv"}  # fmt: skip


def _export_fn(name: str) -> Callable[..., bytes] | None:
    """A function of :mod:`qjgeo.export` if this build has it."""
    try:
        module = importlib.import_module("qjgeo.export")
    except ImportError:
        return None
    fn = getattr(module, name, None)
    return fn if callable(fn) else None


def offline_gap_map_html(ctx: Ctx, facility_type: str) -> bytes:
    """The gap map as one self-contained HTML file (every script inlined, no tiles)."""
    res = cache.gaps(ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir, facility_type)
    v = res.villages[
        ["code12", "name", "children", "distance_m", "covered", "children_uncovered",
         "distance_band", "provenance", "geometry"]
    ]  # fmt: skip
    colours = band_colours(res.villages)
    ov = Overlay("gap_villages", ctx.t("gap_villages"), v, "distance_band", colours)
    m = build_map(ctx.dataset, layers=["township", facility_type], lang=ctx.lang, overlays=[ov])
    return standalone_html(m).encode("utf-8")


def prepared_download(
    ctx: Ctx, key: str, label: str, make: Callable[[], bytes], file_name: str, mime: str
) -> None:
    """A 'prepare' button that builds the file, then its download button (kept per session)."""
    c1, c2 = st.columns([1, 3])
    if c1.button(f"{ctx.t('exp_prepare')}: {label}", key=f"exp_prep_{key}"):
        try:
            st.session_state[f"exp_data_{key}"] = (file_name, make())
        except Exception as exc:
            st.session_state.pop(f"exp_data_{key}", None)
            c2.error(ctx.t("exp_failed", error=str(exc)))
    held = st.session_state.get(f"exp_data_{key}")
    if held and held[0] == file_name:
        c2.download_button(
            f"{ctx.t('exp_download')}: {file_name}",
            held[1],
            file_name=file_name,
            mime=mime,
            key=f"exp_dl_{key}",
        )


def _exporter() -> Callable[..., bytes] | None:
    """``qjgeo.export.export_bytes`` if this build has it."""
    return _export_fn("export_bytes")


def render(ctx: Ctx) -> None:
    """Draw the Export page."""
    st.title(ctx.t("exp_title"))
    st.caption(ctx.t("exp_intro"))
    types = widgets.facility_types(ctx)
    if not types:
        st.info(ctx.t("layer_missing", layer="facility"))
        return
    ftype = state.bound(st.selectbox, ctx.t("facility_type"), "layer", types, format_func=ctx.title)
    widgets.data_notice(ctx, ["township", "village", ftype])
    ds = ctx.dataset
    base = ctx.base if ctx.scenario_name else None
    suffix = f"-{ctx.scenario_name}" if ctx.scenario_name else ""
    export = _exporter()

    def make(what: str, ext: str, **kw: Any) -> Callable[[], bytes]:
        assert export is not None
        return lambda: export(what, ds, ext, facility_type=ftype, base=base, **kw)

    st.subheader(ctx.t("exp_maps"))
    if export is not None:
        html_maker = make("html", ".html")
    else:  # the app's own offline map when the export module is absent
        html_maker = lambda: offline_gap_map_html(ctx, ftype)  # noqa: E731
    prepared_download(
        ctx, "html", ctx.t("exp_map_html"), html_maker,
        f"gap-map-{ftype}{suffix}.html", "text/html",
    )  # fmt: skip
    if export is None:
        st.info(ctx.t("not_available", what="qjgeo.export.export_bytes"))
        return
    prepared_download(
        ctx, "png", ctx.t("exp_map_png"), make("map", ".png"),
        f"gap-map-{ftype}{suffix}.png", "image/png",
    )  # fmt: skip
    prepared_download(
        ctx, "pdf", ctx.t("exp_map_pdf"), make("map", ".pdf"),
        f"gap-map-{ftype}{suffix}.pdf", "application/pdf",
    )  # fmt: skip

    st.subheader(ctx.t("exp_data"))
    fmt = st.selectbox(ctx.t("exp_gis_fmt"), GIS_FORMATS, key="exp_gis_fmt")
    ext = {"shp.zip": ".zip"}.get(fmt, f".{fmt}")
    prepared_download(
        ctx, "gis", ctx.t("exp_gis"), make("data", ext),
        f"qjgeo-{ftype}{suffix}{ext}", _MIME[fmt],
    )  # fmt: skip
    prepared_download(
        ctx, "excel", ctx.t("exp_excel"), make("report", ".xlsx"),
        f"qjgeo-report{suffix}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip

    st.subheader(ctx.t("exp_brief"))
    codes, names = widgets.township_options(ctx)
    code = state.bound(st.selectbox, ctx.t("township"), "township", codes, format_func=names.get)
    if code:
        prepared_download(
            ctx, "brief", ctx.t("exp_brief"), make("brief", ".pdf", township=code),
            f"brief-{code}{suffix}.pdf", "application/pdf",
        )  # fmt: skip
