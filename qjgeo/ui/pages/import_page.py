"""Import (导入): upload a ledger, map its columns, check it, then commit it to the dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from qjgeo.ingest.columns import ColumnMapping, guess_layer, layer_fields, suggest_mapping
from qjgeo.ingest.commit import commit, history, preview_dataset, undo_last
from qjgeo.ingest.fields import field_name_zh
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import MAX_UPLOAD_BYTES
from qjgeo.mapview.build import build_map
from qjgeo.mapview.labels import field_label as map_field_label
from qjgeo.schema import WEAK_PROVENANCES
from qjgeo.ui import cache, keys, state
from qjgeo.ui.i18n import status_label
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import MISSING, show_table
from qjgeo.ui.widgets import data_notice, file_uploader, show_map

CRS_CHOICES = ("wgs84", "cgcs2000", "gcj02", "bd09")


def field_label(field: str, lang: str) -> str:
    """A ledger field as the planner knows it: ``托位（places）`` in Chinese, ``Places`` in
    English (the popups' label; the field's own name only where none is known)."""
    if lang != "zh":
        return map_field_label(field, lang) or field
    zh = field_name_zh(field)
    return f"{zh}（{field}）" if zh != field else field


def report_table(items: list[dict[str, Any]], text: str, ctx: Ctx) -> pd.DataFrame:
    """Rejections (``text="reason"``) or warnings (``"message"``) as the planner reads them.

    Parameters
    ----------
    items
        ``ImportReport.rejected`` or ``ImportReport.warnings``.
    text
        The English text's key; its Chinese twin is ``text + "_zh"``.
    ctx
        The session: its language picks the text and labels the columns and warning kinds.

    Returns
    -------
    pandas.DataFrame
        Row, kind (warnings only) and the text in the session's language, columns labelled.
    """
    frame = pd.DataFrame(items)
    rows = frame["row"]
    if rows.isna().any():  # a note about the whole file: "–", not "None"
        rows = rows.map(lambda r: MISSING if r is None or r != r else str(int(r)))
    shown = pd.DataFrame({ctx.t("col_row"): rows})
    if "kind" in frame.columns:
        shown[ctx.t("col_kind")] = [ctx.t(f"imp_kind_{kind}") for kind in frame["kind"]]
    shown[ctx.t(f"col_{text}")] = frame[f"{text}_zh" if ctx.lang == "zh" else text]
    return shown


def render(ctx: Ctx) -> None:
    """Draw the Import page: target layer, upload, column mapping, options, report, commit."""
    st.title(ctx.t("imp_title"))
    st.caption(ctx.t("imp_intro"))
    base = ctx.base  # imports go into the data as loaded, not into a scenario
    st.caption(ctx.t("imp_target_dir", dir=str(cache.write_data_dir(create=False))))
    layers = _importable_layers(base)
    layer = _layer_section(ctx, layers)
    nonce = st.session_state.get(keys.IMP_NONCE, 0)
    raw = _upload_section(ctx, layer, nonce)
    if raw is None or layer is None:
        if raw is not None:
            _layer_fits(ctx, raw, layer, layers)
        return
    _layer_fits(ctx, raw, layer, layers)
    mapping = _mapping_section(ctx, raw, layer, nonce)
    crs, mode, allow_outside = _options_section(ctx, base, layer)
    try:
        result = validate(
            raw, base, layer, mapping=mapping, crs=crs, mode=mode, allow_outside=allow_outside
        )
    except Exception as exc:
        st.error(ctx.t("imp_error", error=str(exc)))
        return
    _report_section(ctx, result.report)
    if len(result.features):
        _preview_section(ctx, base, layer, result, mode)
    confirmed = _replace_section(ctx, base, layer, mode)
    _commit_section(ctx, layer, result, mode, nonce, confirmed)


def _importable_layers(base: Any) -> list[str]:
    """Facility and hazard layers, then the village / township updates the dataset allows."""
    layers = [lid for lid in base.layer_ids if base.spec(lid).kind in ("facility", "hazard")]
    # a ledger updates the villages' points and populations; a GIS file the townships' boundaries
    layers += [lid for lid in ("village", "township") if base.has(lid) and len(base.layer(lid))]
    return layers


def _layer_section(ctx: Ctx, layers: list[str]) -> str | None:
    """The layer to fill: chosen by the planner, never taken from elsewhere in the app."""
    layer = st.selectbox(
        ctx.t("imp_layer"),
        layers,
        index=None,
        placeholder=ctx.t("imp_layer_pick"),
        format_func=ctx.title,
        key="imp_layer",
    )
    if layer is not None:
        data_notice(ctx, [layer])
    elif any("osm" in ctx.dataset.provenance_of(lid) for lid in layers):
        st.caption(ctx.t("osm_attribution"))  # ODbL: the dataset's OSM layers are credited
    return None if layer is None else str(layer)


def _layer_fits(ctx: Ctx, raw: Any, layer: str | None, layers: list[str]) -> None:
    """Say which layer the ledger looks like: a guess before one is chosen, a warning after."""
    guess = guess_layer(raw, layers)
    if layer is None:
        if guess is not None:
            st.info(ctx.t("imp_layer_guess", layer=ctx.title(guess)))
        st.warning(ctx.t("imp_layer_needed"))
    elif guess is not None and guess != layer:
        st.warning(ctx.t("imp_layer_mismatch", guess=ctx.title(guess), layer=ctx.title(layer)))


def _upload_section(ctx: Ctx, layer: str | None, nonce: int) -> Any:
    """The uploaded ledger read as a table (``None`` when there is none or it is unusable)."""
    limit_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    upload = file_uploader(
        ctx,
        ctx.t("imp_upload"),
        ["csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip", "kml", "kmz", "osm"],
        key=f"imp_file_{nonce}",
        limit_mb=limit_mb,
    )
    _undo(ctx, layer)
    if upload is None:
        return None
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(ctx.t("imp_too_big", mb=len(data) / 2**20, limit=limit_mb))
        return None
    try:
        return read_table(data, upload.name, layer_id=layer)
    except Exception as exc:
        st.error(ctx.t("imp_error", error=str(exc)))
        return None


def _mapping_section(ctx: Ctx, raw: Any, layer: str, nonce: int) -> ColumnMapping:
    """Which file column feeds each field: suggested, changeable per field."""
    st.subheader(ctx.t("imp_mapping"))
    suggested = suggest_mapping(raw, layer)
    columns = [""] + [str(c) for c in raw.rows.columns]
    chosen: dict[str, str] = {}
    cols = st.columns(3)
    for i, fld in enumerate(layer_fields(layer)):
        guess = suggested.columns.get(fld, "")
        with cols[i % 3]:
            pick = st.selectbox(
                field_label(fld, ctx.lang),
                columns,
                index=columns.index(guess) if guess in columns else 0,
                format_func=lambda c: c or ctx.t("imp_unmapped"),
                key=f"imp_map_{layer}_{fld}_{nonce}",
            )
        if pick:
            chosen[fld] = pick
    used = set(chosen.values())
    return ColumnMapping(columns=chosen, unmapped=tuple(c for c in columns[1:] if c not in used))


def _options_section(ctx: Ctx, base: Any, layer: str) -> tuple[str, str, bool]:
    """Coordinate system, append/replace, and whether points far outside the district stay."""
    c1, c2 = st.columns(2)
    crs = c1.selectbox(
        ctx.t("imp_crs"),
        CRS_CHOICES,
        format_func=lambda c: ctx.t(f"imp_crs_{c}"),
        help=ctx.t("imp_crs_help"),
        key="imp_crs",
    )
    found = base.provenance_of(layer)
    sample_only = bool(found) and found <= WEAK_PROVENANCES  # a real ledger replaces samples
    if layer in ("village", "township"):  # matched unit by unit: nothing appended or dropped
        c2.caption(ctx.t(f"imp_{layer}_update"))
        return str(crs), "replace", False
    mode = _mode(ctx, c2, sample_only)
    allow = c1.checkbox(
        ctx.t("imp_allow_outside"), key="imp_allow_outside", help=ctx.t("imp_allow_outside_help")
    )
    return str(crs), mode, bool(allow)


def _report_section(ctx: Ctx, rep: Any) -> None:
    """Rows read, accepted and rejected, with reasons and warnings."""
    st.subheader(ctx.t("imp_report"))
    st.markdown(
        ctx.t("imp_rows", read=rep.rows_read, accepted=rep.accepted, rejected=len(rep.rejected))
    )
    if rep.rejected:
        show_table(report_table(rep.rejected, "reason", ctx))
    if rep.warnings:
        show_table(report_table(rep.warnings, "message", ctx))


def _preview_section(ctx: Ctx, base: Any, layer: str, result: Any, mode: str) -> None:
    """The layer as it would be after the import, on a map."""
    st.subheader(ctx.t("imp_preview"))
    try:
        preview = preview_dataset(base, result, mode=mode)
    except Exception:
        preview = base.with_layer(layer, result.features)
    m = build_map(
        preview,
        layers=["township", layer],
        basemap=state.get("basemap"),
        lang=ctx.lang,
        tianditu_key=cache.tianditu_key(),
    )
    show_map(m, key="imp_map", returned_objects=[], height=380)


def _replace_section(ctx: Ctx, base: Any, layer: str, mode: str) -> bool:
    """Replacing: say what goes (how many features, of which provenance) and ask to confirm."""
    if mode != "replace" or layer in ("village", "township") or not base.has(layer):
        return True
    existing = base.layer(layer)
    if not len(existing):
        return True
    counts = existing["provenance"].astype(str).value_counts()
    kinds = ctx.t("imp_list_sep").join(
        f"{status_label(str(p), ctx.lang)} {n}" for p, n in counts.items()
    )
    st.warning(ctx.t("imp_replace_removes", n=len(existing), kinds=kinds, layer=ctx.title(layer)))
    return bool(st.checkbox(ctx.t("imp_replace_confirm"), key="imp_confirm_replace"))


def _commit_section(
    ctx: Ctx, layer: str, result: Any, mode: str, nonce: int, confirmed: bool
) -> None:
    """Write the import (or cancel it); a replacement waits for its confirmation."""
    c1, c2 = st.columns(2)
    blocked = result.report.accepted == 0 or not confirmed
    if c1.button(ctx.t("imp_commit"), key="imp_commit", disabled=blocked, type="primary"):
        try:
            commit(cache.write_data_dir(), layer, result, mode=mode)
        except Exception as exc:
            st.error(ctx.t("imp_error", error=str(exc)))
        else:
            st.session_state[keys.IMP_NONCE] = nonce + 1
            written = cache.write_data_dir()
            st.session_state[keys.IMP_DONE] = ctx.t("imp_committed", dir=str(written))
            st.rerun()
    if c2.button(ctx.t("imp_cancel"), key="imp_cancel"):
        st.session_state[keys.IMP_NONCE] = nonce + 1
        st.rerun()


def _mode(ctx: Ctx, where: Any, sample_only: bool) -> str:
    """Append to the layer or replace it (replace first when the layer holds only samples)."""
    mode = where.radio(
        ctx.t("imp_mode"),
        ["append", "replace"],
        index=1 if sample_only else 0,
        format_func=lambda m: ctx.t(f"imp_mode_{m}"),
        horizontal=True,
        key="imp_mode",
    )
    if sample_only:
        where.caption(ctx.t("imp_sample_only"))
    return str(mode)


def _undo(ctx: Ctx, layer: str | None) -> None:
    done = st.session_state.pop(keys.IMP_DONE, None)
    if done:
        st.success(done)
    if layer is None:
        return
    try:
        past = history(ctx.data_dir, layer)
    except Exception:
        past = []
    if past and st.button(ctx.t("imp_undo"), key="imp_undo"):
        try:
            undo_last(ctx.data_dir, layer)
            st.success(ctx.t("imp_undone"))
        except Exception as exc:
            st.error(ctx.t("imp_error", error=str(exc)))
