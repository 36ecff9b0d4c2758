"""Scenarios (情景): edit a what-if scenario on the map, compare it, save it as a file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from qjgeo.crs import gcj02_to_wgs84
from qjgeo.mapview.build import Overlay, build_map
from qjgeo.ui import cache, keys, state
from qjgeo.ui.names import place_name
from qjgeo.ui.pages.scenario_compare import compare_section
from qjgeo.ui.pages.scenario_errors import error_text
from qjgeo.ui.pages.scenario_form import attribute_form, edit_fields, facility_values
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import MISSING, format_count, show_table
from qjgeo.ui.widgets import (
    data_notice,
    facility_types,
    mode_switch,
    scenario_stems,
    show_map,
    township_options,
)


def _draft(ctx: Ctx) -> Any:
    from qjgeo.scenario import Scenario, scenario_from_yaml

    text = st.session_state.get(keys.SC_DRAFT)
    if text:
        try:
            return scenario_from_yaml(text, source="<draft>")
        except Exception:
            pass
    return Scenario(name=ctx.t("sc_new_name"))


def _set_draft(scenario: Any) -> None:
    from qjgeo.scenario import scenario_to_yaml

    st.session_state[keys.SC_DRAFT] = scenario_to_yaml(scenario)


def clicked_wgs84(point: dict[str, float] | None, basemap: str) -> tuple[float, float] | None:
    """The WGS84 lon/lat of a map click (Amap clicks are GCJ-02 and are converted back)."""
    if not point:
        return None
    lon, lat = float(point["lng"]), float(point["lat"])
    if basemap == "amap":
        x, y = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        lon, lat = float(x[0]), float(y[0])
    return lon, lat


def render(ctx: Ctx) -> None:
    """Draw the Scenarios page."""
    from qjgeo.scenario import ScenarioError

    st.title(ctx.t("sc_title"))
    st.caption(ctx.t("sc_intro"))
    draft = _draft(ctx)
    c1, c2 = st.columns(2)
    with c1:
        name = st.text_input(ctx.t("sc_name"), value=draft.name, key="sc_name_in")
        if name and name != draft.name:
            try:
                draft = draft.renamed(name)
                _set_draft(draft)
            except Exception as exc:
                st.error(error_text(ctx, exc))
    with c2:
        bases = ["", *scenario_stems()]
        base = st.selectbox(
            ctx.t("sc_base"),
            bases,
            index=bases.index(draft.base) if draft.base in bases else 0,
            format_func=lambda s: s or ctx.t("baseline"),
            key="sc_base_sel",
        )
        if (base or None) != draft.base:
            draft = type(draft).model_validate({**draft.model_dump(), "base": base or None})
            _set_draft(draft)

    from qjgeo.scenario import scenario_to_yaml

    yaml_text = scenario_to_yaml(draft)
    try:
        applied = cache.with_mode(
            cache.scenario_dataset(ctx.data_dir, yaml_text, ctx.scenarios_dir), state.current_mode()
        )
        apply_error = None
    except (ScenarioError, Exception) as exc:
        applied, apply_error = ctx.base, error_text(ctx, exc)
    data_notice(ctx, ctx.dataset.layer_ids)
    if apply_error:
        st.error(apply_error)

    mode_switch(ctx)
    tab_edit, tab_cmp, tab_files, tab_rec = st.tabs(
        [ctx.t("sc_edit"), ctx.t("sc_compare"), ctx.t("sc_files"), ctx.t("sc_recommend")]
    )
    with tab_edit:
        _edit(ctx, draft, applied)
    with tab_cmp:
        if _is_empty(draft):
            st.caption(ctx.t("sc_no_changes"))
        elif not apply_error:
            # keyed on the changes only: renaming the draft does not recompute the comparison
            compare_section(ctx, draft, scenario_to_yaml(draft.renamed("draft")), applied)
    with tab_files:
        _files(ctx, draft, yaml_text)
    with tab_rec:
        _recommend(ctx, draft, applied)


def _is_empty(draft: Any) -> bool:
    """Whether a scenario changes nothing (no items, parameters or population change)."""
    return (
        not (draft.add or draft.remove or draft.modify or draft.move or draft.parameters)
        and draft.population.is_empty()
        and draft.base is None
    )


def _edit(ctx: Ctx, draft: Any, applied: Any) -> None:
    """The Edit tab: add, change, move or remove facilities, set distances, undo changes."""
    types = facility_types(ctx)
    if not types:
        st.info(ctx.t("layer_missing", layer="facility"))
        return
    ftype = state.bound(st.selectbox, ctx.t("sc_add_type"), "layer", types, format_func=ctx.title)
    point = _pick_point(ctx, applied, ftype)
    _add_facility(ctx, draft, ftype, point)
    _change_facility(ctx, draft, applied, ftype, point)
    _parameters(ctx, draft, applied, ftype)
    _changes(ctx, draft)


def _pick_point(ctx: Ctx, applied: Any, ftype: str) -> tuple[float, float] | None:
    """The editing map; the last point clicked on it inside the district (kept across reruns).

    The map has no popups, so a click on a township or a village reaches the map; the point
    held is drawn as a marker. A click outside the district is not kept, and said so.
    """
    from qjgeo.scenario import inside_district

    basemap = state.get("basemap")
    st.markdown(f"**{ctx.t('sc_add')}**")
    held = st.session_state.get(keys.SC_POINT)
    m = build_map(
        applied,
        layers=["township", "village", ftype],
        basemap=basemap,
        lang=ctx.lang,
        overlays=_pending_overlay(ctx, held),
        tianditu_key=cache.tianditu_key(),
        popups=False,
    )
    out = show_map(m, key="sc_map", returned_objects=["last_clicked"], height=460)
    point = clicked_wgs84(out.get("last_clicked"), basemap)
    if point is not None and point != held:
        if inside_district(applied, *point):
            st.session_state[keys.SC_POINT] = point
            st.rerun()  # drawn as the pending marker
        st.warning(ctx.t("sc_click_outside", lon=point[0], lat=point[1]))
    return held


def _pending_overlay(ctx: Ctx, point: tuple[float, float] | None) -> list[Overlay]:
    """The point clicked (WGS84) as a marker on the editing map; none before a click."""
    if point is None:
        return []
    frame = gpd.GeoDataFrame(
        {"name": [ctx.t("sc_pending")]},
        geometry=[shapely.Point(point[0], point[1])],
        crs="EPSG:4326",
    )
    return [Overlay("pending", ctx.t("sc_pending"), frame, color="#e6007e")]


def _add_facility(ctx: Ctx, draft: Any, ftype: str, point: tuple[float, float] | None) -> None:
    """A new facility at the point clicked: its name and attributes (a form for its type)."""
    from qjgeo.scenario import FacilityAdd

    c1, c2 = st.columns(2)
    with c1:
        new_name = st.text_input(ctx.t("sc_add_name"), key="sc_add_name")
        if point:
            st.caption(ctx.t("sc_clicked", lon=point[0], lat=point[1]))
    with c2:
        st.markdown(f"**{ctx.t('sc_add_attrs')}**")
        attrs = attribute_form(ctx, ftype)
    if st.button(ctx.t("sc_add_button"), key="sc_add_btn"):
        if not point:
            st.warning(ctx.t("sc_no_click"))
        else:
            try:
                item = FacilityAdd(
                    type=ftype, lon=point[0], lat=point[1], name=new_name, attributes=attrs
                )
                _update_draft(ctx, lambda: draft.with_add(item))
            except Exception as exc:
                st.error(error_text(ctx, exc))


def _change_facility(
    ctx: Ctx, draft: Any, applied: Any, ftype: str, point: tuple[float, float] | None
) -> None:
    """An existing facility: edit its attributes (a form), move it to the point clicked,
    or remove it."""
    frame = applied.layer(ftype)
    st.markdown(f"**{ctx.t('sc_existing')}**")
    if not len(frame):
        st.caption(ctx.t("sc_no_facilities"))
        return
    ids = [str(i) for i in frame["id"]]
    labels = dict(zip(ids, frame["name"].astype(str), strict=True))
    fid = st.selectbox(
        ctx.t("sc_pick_facility"),
        ids,
        index=None,
        format_func=lambda i: f"{labels.get(i, '')}（{i}）",
        key=f"sc_fac_{ftype}",
        placeholder=ctx.t("sc_pick_placeholder"),
    )
    if fid is None:
        return
    row = frame[frame["id"].astype(str) == fid].iloc[0]
    fields = edit_fields(ftype, list(frame.columns))
    current = facility_values(row, fields)
    with st.container(border=True):
        changed = _edited_values(ctx, ftype, fid, fields, current)
        c1, c2, c3 = st.columns(3)
        if c1.button(ctx.t("sc_modify_button"), key="sc_mod_btn", disabled=not changed):
            _update_draft(ctx, lambda: draft.with_modify(ftype, fid, changed))
        if c2.button(ctx.t("sc_move_button"), key="sc_move_btn"):
            if not point:
                st.warning(ctx.t("sc_no_click"))
            else:
                _update_draft(ctx, lambda: draft.with_move(ftype, fid, point[0], point[1]))
        if c3.button(ctx.t("sc_remove_button"), key="sc_rm_btn"):
            _update_draft(ctx, lambda: _without_edits_of(draft, ftype, fid).with_remove(ftype, fid))


def _without_edits_of(draft: Any, ftype: str, fid: str) -> Any:
    """The draft without its changes and moves of one facility (before removing it)."""
    for key in ("modify", "move"):
        items = getattr(draft, key)
        for i in reversed(range(len(items))):
            if items[i].type == ftype and str(items[i].id) == fid:
                draft = draft.without(key, i)
    return draft


def _edited_values(
    ctx: Ctx, ftype: str, fid: str, fields: tuple[str, ...], current: dict[str, Any]
) -> dict[str, Any]:
    """The facility's attribute form; the values the planner changed."""
    if not fields:
        st.caption(ctx.t("sc_no_attrs"))
        return {}
    cols = st.columns(min(len(fields), 3))
    values: dict[str, Any] = {}
    for i, field in enumerate(fields):
        with cols[i % len(cols)]:
            values |= attribute_form(
                ctx, ftype, defaults=current, fields=(field,), prefix=f"sc_edit_{fid}"
            )
    return {k: v for k, v in values.items() if current.get(k) != v}


def _update_draft(ctx: Ctx, change: Callable[[], Any]) -> None:
    """Keep the draft ``change()`` returns and rerun; or say why the change was refused.

    The new draft is applied first (cached, so the rerun reuses it): a change the engine
    would refuse — a point outside the district, a bad attribute — is refused here, in the
    page's language, and the draft stays as it was.
    """
    from qjgeo.scenario import scenario_to_yaml

    try:
        changed = change()
        cache.scenario_dataset(ctx.data_dir, scenario_to_yaml(changed), ctx.scenarios_dir)
    except Exception as exc:
        st.error(error_text(ctx, exc))
        return
    _set_draft(changed)
    st.rerun()


def _parameters(ctx: Ctx, draft: Any, applied: Any, ftype: str) -> None:
    """The detour factor and the walking distances of the facility type."""
    st.markdown(f"**{ctx.t('sc_params')}**")
    access = applied.params.facility(ftype)
    c1, c2, c3, c4 = st.columns(4)
    detour = c1.number_input(
        ctx.t("sc_detour"), 1.0, 3.0, float(applied.params.detour_factor), 0.05, key="sc_detour"
    )
    urban = c2.number_input(
        ctx.t("sc_threshold_urban"),
        50,
        20000,
        int(access.urban_threshold_m),
        50,
        key=f"sc_u_{ftype}",
    )
    rural = c3.number_input(
        ctx.t("sc_threshold_rural"),
        50,
        20000,
        int(access.rural_threshold_m),
        50,
        key=f"sc_r_{ftype}",
    )
    if c4.button(ctx.t("sc_params_button"), key="sc_params_btn"):
        change = {
            "detour_factor": float(detour),
            "access": {
                ftype: {"urban_threshold_m": float(urban), "rural_threshold_m": float(rural)}
            },
        }
        _update_draft(ctx, lambda: draft.with_parameters(change))


def _attribute_text(ctx: Ctx, attributes: dict[str, Any]) -> str:
    """``托位 / 学位（个）：40；普惠：是`` — attributes under the planner's labels."""
    from qjgeo.mapview.labels import field_label

    sep, colon = ("；", "：") if ctx.lang == "zh" else ("; ", ": ")
    parts = []
    for key, value in attributes.items():
        shown = (ctx.t("yes") if value else ctx.t("no")) if isinstance(value, bool) else value
        parts.append(f"{field_label(key, ctx.lang) or key}{colon}{shown}")
    return sep.join(parts)


def _change_detail(ctx: Ctx, kind: str, item: Any) -> str:
    """Where an added or moved facility goes, and the attributes given or changed."""
    parts = []
    if kind in ("add", "move"):
        parts.append(ctx.t("sc_at", lon=item.lon, lat=item.lat))
    if kind in ("add", "modify") and item.attributes:
        parts.append(_attribute_text(ctx, dict(item.attributes)))
    return ("；" if ctx.lang == "zh" else "; ").join(parts)


def change_table(ctx: Ctx, draft: Any) -> pd.DataFrame:
    """The draft's facility changes, one row each, in the planner's words (no YAML)."""
    rows = []
    for kind in ("add", "remove", "modify", "move"):
        for item in getattr(draft, kind):
            layer = ctx.base.layer(item.type) if ctx.base.has(item.type) else None
            names = (
                {}
                if layer is None
                else dict(zip(layer["id"].astype(str), layer["name"], strict=True))
            )
            name = getattr(item, "name", "") or names.get(str(getattr(item, "id", "")), "")
            detail = _change_detail(ctx, kind, item)
            rows.append(
                {
                    ctx.t("col_change"): ctx.t(f"sc_change_{kind}"),
                    ctx.t("facility_type"): ctx.title(item.type),
                    ctx.t("col_facility"): place_name(name or getattr(item, "id", ""), ctx.lang),
                    ctx.t("col_detail"): detail or MISSING,
                }
            )
    return pd.DataFrame(rows)


def _changes(ctx: Ctx, draft: Any) -> None:
    """The draft's changes as a table (its file text folded away), and undoing one."""
    from qjgeo.scenario import scenario_to_yaml

    st.markdown(f"**{ctx.t('sc_changes')}**")
    items = [
        (key, i, item)
        for key in ("add", "remove", "modify", "move")
        for i, item in enumerate(getattr(draft, key))
    ]
    if _is_empty(draft):
        st.caption(ctx.t("sc_no_changes"))
    if items:
        show_table(change_table(ctx, draft))
    with st.expander(ctx.t("sc_file_text")):
        st.code(scenario_to_yaml(draft), language="yaml")
    if items:
        labels_ = [
            f"{ctx.t(f'sc_change_{k}')}: {ctx.title(it.type)} "
            f"{getattr(it, 'name', '') or getattr(it, 'id', '')}"
            for k, _i, it in items
        ]
        pick = st.selectbox(
            ctx.t("sc_undo"), range(len(items)), format_func=labels_.__getitem__, key="sc_undo_sel"
        )
        if st.button(ctx.t("sc_undo"), key="sc_undo_btn"):
            key, i, _ = items[pick]
            _set_draft(draft.without(key, i))
            st.rerun()


def _files(ctx: Ctx, draft: Any, yaml_text: str) -> None:
    """The Files tab: save the draft (asking before overwriting); load, rename, delete files."""
    _save_draft(ctx, draft, yaml_text)
    stems = scenario_stems()
    if not stems:
        return
    st.divider()
    _manage_files(ctx, stems)


def _save_draft(ctx: Ctx, draft: Any, yaml_text: str) -> None:
    """Save the draft in the scenario directory, or download it as YAML."""
    from qjgeo.scenario import file_stem, save_scenario

    # the file name follows the scenario's name until the planner types one of their own
    proposed = file_stem(draft.name)
    if st.session_state.get(keys.SC_FILE_STEM) in (
        None,
        st.session_state.get(keys.SC_FILE_PROPOSED),
    ):
        st.session_state[keys.SC_FILE_STEM] = proposed
    st.session_state[keys.SC_FILE_PROPOSED] = proposed
    stem = file_stem(st.text_input(ctx.t("sc_file"), key=keys.SC_FILE_STEM))  # stays in the folder
    path = ctx.scenarios_dir / f"{stem}.yaml"
    c1, c2 = st.columns(2)
    saved = st.session_state.pop(keys.SC_SAVED, None)
    if saved:  # said after the rerun that puts the new file in the sidebar's list too
        st.success(ctx.t("sc_saved", path=saved))
    if c1.button(ctx.t("sc_save"), key="sc_save_btn"):
        if path.exists():
            st.session_state[keys.SC_CONFIRM_OVERWRITE] = str(path)
        else:
            try:
                save_scenario(draft, path)
                st.session_state[keys.SC_SAVED] = str(path)
                st.rerun()
            except Exception as exc:
                st.error(error_text(ctx, exc))
    if st.session_state.get(keys.SC_CONFIRM_OVERWRITE) == str(path):
        st.warning(ctx.t("sc_exists", path=str(path)))
        if st.button(ctx.t("sc_overwrite"), key="sc_overwrite_btn"):
            try:
                save_scenario(draft, path, overwrite=True)
                st.session_state.pop(keys.SC_CONFIRM_OVERWRITE, None)
                st.session_state[keys.SC_SAVED] = str(path)
                st.rerun()
            except Exception as exc:
                st.error(error_text(ctx, exc))
    c2.download_button(
        ctx.t("sc_download_yaml"), yaml_text.encode("utf-8"), file_name=f"{stem}.yaml", key="sc_dl"
    )


def _manage_files(ctx: Ctx, stems: list[str]) -> None:
    """Load, rename or delete one of the scenario files."""
    from qjgeo.scenario import delete_scenario, load_scenario, rename_scenario, scenario_to_yaml

    sc_dir = ctx.scenarios_dir
    pick = st.selectbox(ctx.t("sc_files"), stems, key="sc_file_pick")
    c1, c2, c3 = st.columns(3)
    if c1.button(ctx.t("sc_load"), key="sc_load_btn"):
        try:
            st.session_state[keys.SC_DRAFT] = scenario_to_yaml(
                load_scenario(sc_dir / f"{pick}.yaml")
            )
            st.session_state.pop("sc_name_in", None)  # the name box shows the loaded name
            st.rerun()
        except Exception as exc:
            st.error(error_text(ctx, exc))
    with c2:
        new = st.text_input(ctx.t("sc_rename"), key="sc_rename_to")
        if st.button(ctx.t("sc_rename_button"), key="sc_rename_btn") and new:
            try:
                rename_scenario(sc_dir, pick, new)
                st.rerun()
            except Exception as exc:
                st.error(error_text(ctx, exc))
    with c3:
        sure = st.checkbox(ctx.t("sc_delete_confirm", name=pick), key="sc_del_sure")
        if st.button(ctx.t("sc_delete"), key="sc_del_btn", disabled=not sure):
            try:
                delete_scenario(sc_dir, pick)
                if state.get("scenario") == pick:
                    state.put("scenario", "")
                st.success(ctx.t("sc_deleted", name=pick))
            except Exception as exc:
                st.error(error_text(ctx, exc))


def recommendation_table(ctx: Ctx, sites: pd.DataFrame) -> pd.DataFrame:
    """Recommended sites in rank order, labelled in the session's language."""
    _codes, names = township_options(ctx)
    unit = "townships" if "marginal_townships" in sites.columns else "children"
    return pd.DataFrame(
        {
            ctx.t("sc_rec_rank"): sites["rank"].astype(int).to_numpy(),
            ctx.t("sc_rec_site"): [place_name(n, ctx.lang) for n in sites["name"].astype(str)],
            ctx.t("col_township"): sites["township_code"]
            .astype(str)
            .map(names)
            .fillna(sites["township_code"])
            .to_numpy(),
            ctx.t(f"sc_rec_gain_{unit}"): sites["marginal_gain"].map(format_count).to_numpy(),
            ctx.t("sc_rec_cumulative"): sites["cumulative_covered"].map(format_count).to_numpy(),
            ctx.t("gap_metric_share"): sites["share_after_site"]
            .map(lambda s: MISSING if pd.isna(s) else f"{s:.0%}")
            .to_numpy(),
            ctx.t("col_lon"): sites["lon"].map(lambda v: f"{v:.5f}").to_numpy(),
            ctx.t("col_lat"): sites["lat"].map(lambda v: f"{v:.5f}").to_numpy(),
        }
    )


def _recommend_options(ctx: Ctx) -> dict[str, Any]:
    """The recommendation's settings: type, k, method, demand, priority weight, solver."""
    types = facility_types(ctx)
    c1, c2, c3 = st.columns(3)
    ftype = c1.selectbox(ctx.t("facility_type"), types, format_func=ctx.title, key="sc_rec_type")
    k = c2.number_input(ctx.t("sc_rec_k"), 1, 20, 3, key="sc_rec_k")
    method = c3.selectbox(
        ctx.t("sc_rec_method"),
        ["greedy", "exact"],
        format_func=lambda m: ctx.t(f"sc_rec_method_{m}"),
        key="sc_rec_method",
    )
    d1, d2, d3, d4 = st.columns(4)
    demands = ["children", "priority"] + (["places"] if ftype == "childcare" else [])
    demand = d1.selectbox(
        ctx.t("sc_rec_demand"), demands,
        format_func=lambda d: ctx.t(f"sc_rec_demand_{d}"), key="sc_rec_demand",
    )  # fmt: skip
    weight = d2.number_input(
        ctx.t("sc_rec_priority_weight"), 1.0, 100.0, 1.0, 0.5,
        key="sc_rec_priority_weight", help=ctx.t("sc_rec_priority_help"),
    )  # fmt: skip
    exact = method == "exact"
    solver = d3.selectbox(
        ctx.t("sc_rec_solver"), ["highs", "cbc"], key="sc_rec_solver", disabled=not exact
    )
    limit = d4.number_input(
        ctx.t("sc_rec_time_limit"), 1.0, 300.0, 30.0, 5.0, key="sc_rec_time_limit",
        disabled=not exact,
    )  # fmt: skip
    return {
        "facility_type": ftype, "k": int(k), "method": method, "demand": demand,
        "priority_weight": float(weight), "solver": solver, "time_limit_s": float(limit),
    }  # fmt: skip


def _recommend(ctx: Ctx, draft: Any, applied: Any) -> None:
    try:
        from qjgeo.siting import recommend_sites
    except ImportError as exc:
        st.info(ctx.t("not_available", what=str(exc)))
        return
    options = _recommend_options(ctx)
    if st.button(ctx.t("sc_rec_run"), key="sc_rec_btn"):
        try:
            rec = recommend_sites(applied, graph=ctx.graph, **options)
            st.session_state[keys.SC_REC] = (options["facility_type"], rec)
        except Exception as exc:
            st.error(error_text(ctx, exc))
    held = st.session_state.get(keys.SC_REC)
    if held:
        _recommend_result(ctx, draft, held[1])


def _recommend_result(ctx: Ctx, draft: Any, rec: Any) -> None:
    """The ranked sites, their notes, editable places, and adding them to the draft."""
    from qjgeo.siting import recommendation_to_scenario

    show_table(recommendation_table(ctx, rec.sites))
    for note in rec.notes_zh if ctx.lang == "zh" else rec.notes:
        st.caption(note)
    places = None
    if "places" in rec.sites.columns:
        st.caption(ctx.t("sc_rec_places_note"))
        basis = "places_basis_zh" if ctx.lang == "zh" else "places_basis"
        table = pd.DataFrame(
            {
                ctx.t("sc_rec_rank"): rec.sites["rank"].to_numpy(),
                ctx.t("sc_rec_served"): rec.sites["served_children"].round(0).to_numpy(),
                ctx.t("sc_rec_places"): rec.sites["places"].astype(int).to_numpy(),
                ctx.t("sc_rec_places_basis"): rec.sites[basis].astype(str).to_numpy(),
            }
        )
        edited = st.data_editor(
            table, hide_index=True, width="stretch", key="sc_rec_places_edit",
            disabled=[c for c in table.columns if c != ctx.t("sc_rec_places")],
            column_config={ctx.t("sc_rec_places"): st.column_config.NumberColumn(
                min_value=0, max_value=5000, step=1)},
        )  # fmt: skip
        places = [int(v) for v in edited[ctx.t("sc_rec_places")].fillna(0)]
    if st.button(ctx.t("sc_rec_accept"), key="sc_rec_accept"):
        try:
            extra = recommendation_to_scenario(rec, draft.name, places=places)
            for item in extra.add:
                draft = draft.with_add(item)
            _set_draft(draft)
            st.session_state.pop(keys.SC_REC, None)
            st.rerun()
        except Exception as exc:
            st.error(error_text(ctx, exc))
