"""Export (导出): download the gap map (HTML/PNG/PDF), GIS data, the Excel report, briefs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from qjgeo.export import export_bytes
from qjgeo.export.gis import EXPORT_CRS
from qjgeo.ui import state, widgets
from qjgeo.ui.state import Ctx
from qjgeo.ui.widgets import one_click_download

GIS_FORMATS = ("gpkg", "geojson", "shp.zip", "csv")
_MIME = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "shp.zip": "application/zip", "csv": "text/csv"}  # fmt: skip


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

    def make(what: str, ext: str, **kw: Any) -> Callable[[], bytes]:
        return lambda: export_bytes(
            what, ds, ext, facility_type=ftype, base=base, graph=ctx.graph, **kw
        )

    st.subheader(ctx.t("exp_maps"))
    one_click_download(
        ctx, "html", ctx.t("exp_map_html"), make("html", ".html", lang=ctx.lang),
        f"gap-map-{ftype}{suffix}.html", "text/html",
    )  # fmt: skip
    one_click_download(
        ctx, "png", ctx.t("exp_map_png"), make("map", ".png"),
        f"gap-map-{ftype}{suffix}.png", "image/png",
    )  # fmt: skip
    one_click_download(
        ctx, "pdf", ctx.t("exp_map_pdf"), make("map", ".pdf"),
        f"gap-map-{ftype}{suffix}.pdf", "application/pdf",
    )  # fmt: skip

    st.subheader(ctx.t("exp_data"))
    fmt = st.selectbox(ctx.t("exp_gis_fmt"), GIS_FORMATS, key="exp_gis_fmt",
                       format_func=lambda f: ctx.t(f"exp_fmt_{f.replace('.', '_')}"))  # fmt: skip
    crs = st.selectbox(ctx.t("exp_gis_crs"), tuple(EXPORT_CRS), key="exp_gis_crs",
                       format_func=lambda k: ctx.t(f"exp_crs_{k.replace('-', '_')}"))  # fmt: skip
    ext = {"shp.zip": ".zip"}.get(fmt, f".{fmt}")
    one_click_download(
        ctx, "gis", ctx.t("exp_gis"), make("data", ext, crs=crs),
        f"qjgeo-{ftype}{suffix}-{crs}{ext}", _MIME[fmt],
    )  # fmt: skip
    one_click_download(
        ctx, "excel", ctx.t("exp_excel"), make("report", ".xlsx"),
        f"qjgeo-report{suffix}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip

    st.subheader(ctx.t("exp_brief"))
    codes, names = widgets.township_options(ctx)
    code = state.bound(st.selectbox, ctx.t("township"), "township", codes, format_func=names.get)
    if code:
        one_click_download(
            ctx, "brief", ctx.t("exp_brief"), make("brief", ".pdf", township=code),
            f"brief-{code}{suffix}.pdf", "application/pdf",
        )  # fmt: skip
