"""Scenarios (情景): edit a what-if scenario on the map, compare it, save it as a file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
import yaml

from qjgeo.crs import gcj02_to_wgs84
from qjgeo.export import export_bytes
from qjgeo.mapview.build import Overlay, build_map
from qjgeo.ui import cache, keys, state
from qjgeo.ui.pages.scenario_form import AUTO_FIELDS, attribute_form
from qjgeo.ui.state import Ctx
from qjgeo.ui.widgets import (
    data_notice,
    facility_types,
    mode_switch,
    prepared_download,
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
                st.error(ctx.t("sc_error", error=str(exc)))
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
            _compare(ctx, draft, scenario_to_yaml(draft.renamed("draft")), applied)
    with tab_files:
        _files(ctx, draft, yaml_text)
    with tab_rec:
        _recommend(ctx, draft, applied)


def error_text(ctx: Ctx, exc: Exception) -> str:
    """Why a change or the draft was refused, in the page's language.

    A point outside the district (the library's :class:`~qjgeo.scenario.PointOutsideError`)
    is said with what to do; other errors keep their own text after "操作失败".
    """
    from qjgeo.scenario import PointOutsideError

    if isinstance(exc, PointOutsideError):
        return ctx.t("sc_point_outside", lon=exc.lon, lat=exc.lat)
    return ctx.t("sc_error", error=str(exc))


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
    """An existing facility: change one attribute, move it to the point clicked, remove it."""
    frame = applied.layer(ftype)
    ids = [str(i) for i in frame["id"]]
    labels = dict(zip(ids, frame["name"].astype(str), strict=True))
    st.markdown(f"**{ctx.t('sc_remove')} / {ctx.t('sc_modify')}**")
    fid = st.selectbox(
        ctx.t("sc_remove"),
        ids,
        format_func=lambda i: f"{labels.get(i, '')} [{i}]",
        key=f"sc_fac_{ftype}",
        label_visibility="collapsed",
    )
    c1, c2, c3 = st.columns([2, 2, 1])
    attrs_avail = [c for c in frame.columns if c not in AUTO_FIELDS and c != frame.geometry.name]
    with c1:
        attr = st.selectbox(ctx.t("sc_attr"), attrs_avail, key="sc_mod_attr")
    with c2:
        raw = st.text_input(ctx.t("sc_attr_value"), key="sc_mod_val")
    with c3:
        if st.button(ctx.t("sc_modify_button"), key="sc_mod_btn") and fid and attr:
            _update_draft(ctx, lambda: draft.with_modify(ftype, fid, {attr: yaml.safe_load(raw)}))
    if st.button(ctx.t("sc_move_button"), key="sc_move_btn") and fid:
        if not point:
            st.warning(ctx.t("sc_no_click"))
        else:
            _update_draft(ctx, lambda: draft.with_move(ftype, fid, point[0], point[1]))
    if st.button(ctx.t("sc_remove_button"), key="sc_rm_btn") and fid:
        _update_draft(ctx, lambda: draft.with_remove(ftype, fid))


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


def _changes(ctx: Ctx, draft: Any) -> None:
    """The draft as YAML, and undoing one of its changes."""
    from qjgeo.scenario import scenario_to_yaml

    st.markdown(f"**{ctx.t('sc_changes')}**")
    items = [
        (key, i, item)
        for key in ("add", "remove", "modify", "move")
        for i, item in enumerate(getattr(draft, key))
    ]
    if _is_empty(draft):
        st.caption(ctx.t("sc_no_changes"))
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


def _status_text(ctx: Ctx, met: Any) -> str:
    if met is True:
        return ctx.t("ind_met")
    if met is False:
        return ctx.t("ind_not_met")
    return ctx.t("ind_na")


def delta_table(ctx: Ctx, indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicator rows that change (value or status), labelled in the session's language."""
    if indicators.empty:
        return pd.DataFrame()
    delta = pd.to_numeric(indicators["delta"], errors="coerce").fillna(0.0)
    changed = indicators[(delta.abs() > 1e-9) | indicators["flipped"].astype(bool)]
    titles = {i: (zh if ctx.lang == "zh" else en) for i, zh, en, _u in cache.indicator_titles()}
    _codes, names = township_options(ctx)
    scope = changed["scope"].astype(str)
    names = {**names, "district": ctx.t("district")}
    return pd.DataFrame(
        {
            ctx.t("col_indicator"): changed["id"].map(titles).fillna(changed["id"]).to_numpy(),
            ctx.t("col_scope"): scope.map(names).fillna(changed["scope_name"]).to_numpy(),
            ctx.t("col_baseline"): changed["value_a"].round(2).to_numpy(),
            ctx.t("col_scenario"): changed["value_b"].round(2).to_numpy(),
            ctx.t("col_delta"): pd.to_numeric(changed["delta"], errors="coerce")
            .round(2)
            .to_numpy(),
            ctx.t("col_status_before"): [_status_text(ctx, m) for m in changed["met_a"]],
            ctx.t("col_status_after"): [_status_text(ctx, m) for m in changed["met_b"]],
        }
    )


def _compare(ctx: Ctx, draft: Any, yaml_text: str, applied: Any) -> None:
    """The Compare tab: what the draft changes against its base, and the Excel report."""
    try:
        cmp = cache.compare(ctx.data_dir, yaml_text, ctx.scenarios_dir, state.current_mode())
    except Exception as exc:
        st.error(ctx.t("sc_error", error=str(exc)))
        return
    st.subheader(ctx.t("sc_deltas"))
    deltas = delta_table(ctx, cmp.indicators)
    if deltas.empty:
        st.caption(ctx.t("sc_no_deltas"))
    else:
        st.dataframe(deltas, hide_index=True, width="stretch")
    _coverage_change(ctx, cmp.coverage)
    _flipped_villages(ctx, cmp.villages_flipped, applied)
    for note in cmp.notes:
        st.caption(note)
    scenario_ds = cache.with_mode(
        cache.scenario_dataset(ctx.data_dir, yaml_text, ctx.scenarios_dir), state.current_mode()
    )
    from qjgeo.scenario import file_stem

    stem = file_stem(draft.name)
    prepared_download(
        ctx, "sc_report", ctx.t("sc_report"),
        lambda: export_bytes("report", scenario_ds, ".xlsx", base=ctx.base, graph=ctx.graph),
        f"qjgeo-report-{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip


def _coverage_change(ctx: Ctx, cov: pd.DataFrame) -> None:
    """Children covered before and after, per facility type."""
    st.subheader(ctx.t("sc_coverage"))
    if not len(cov):
        return
    st.dataframe(
        pd.DataFrame(
            {
                ctx.t("facility_type"): cov["facility_type"].map(ctx.title).to_numpy(),
                ctx.t("col_children"): cov["children"].round(0).to_numpy(),
                ctx.t("col_covered_before"): cov["covered_a"].round(0).to_numpy(),
                ctx.t("col_covered_after"): cov["covered_b"].round(0).to_numpy(),
                ctx.t("sc_flip_gain"): cov["newly_covered"].round(0).to_numpy(),
                ctx.t("sc_flip_loss"): cov["newly_uncovered"].round(0).to_numpy(),
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _flipped_villages(ctx: Ctx, flips: pd.DataFrame, applied: Any) -> None:
    """Villages that gain or lose walking access: a table and a map."""
    st.subheader(ctx.t("sc_flipped"))
    if not len(flips):
        return
    _codes, names = township_options(ctx)
    st.dataframe(
        pd.DataFrame(
            {
                ctx.t("col_village"): flips["name"].to_numpy(),
                ctx.t("col_township"): flips["township_code"].astype(str).map(names).to_numpy(),
                ctx.t("facility_type"): flips["facility_type"].map(ctx.title).to_numpy(),
                ctx.t("col_children"): flips["children"].round(0).to_numpy(),
                ctx.t("col_change"): [
                    ctx.t("sc_flip_gain") if b else ctx.t("sc_flip_loss")
                    for b in flips["covered_b"].astype(bool)
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if applied.has("village"):
        _flips_map(ctx, flips, applied)


def _flips_map(ctx: Ctx, flips: pd.DataFrame, applied: Any) -> None:
    """The villages that gain (green) or lose (red) walking access, on the townships."""
    v = applied.layer("village")
    merged = v[["code12", "geometry"]].merge(flips, on="code12")
    merged["change"] = np.where(merged["covered_b"].astype(bool), "gain", "loss")
    ov = Overlay(
        "flips",
        ctx.t("sc_flipped"),
        merged[["code12", "name", "facility_type", "children", "change", "geometry"]],
        "change",
        {"gain": "#1a9850", "loss": "#d73027"},
        labels={"gain": ctx.t("sc_flip_gain"), "loss": ctx.t("sc_flip_loss")},
    )
    m = build_map(
        applied,
        layers=["township"],
        basemap=state.get("basemap"),
        lang=ctx.lang,
        overlays=[ov],
        tianditu_key=cache.tianditu_key(),
    )
    show_map(m, key="sc_diff_map", returned_objects=[], height=420)


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
                st.error(ctx.t("sc_error", error=str(exc)))
    if st.session_state.get(keys.SC_CONFIRM_OVERWRITE) == str(path):
        st.warning(ctx.t("sc_exists", path=str(path)))
        if st.button(ctx.t("sc_overwrite"), key="sc_overwrite_btn"):
            try:
                save_scenario(draft, path, overwrite=True)
                st.session_state.pop(keys.SC_CONFIRM_OVERWRITE, None)
                st.session_state[keys.SC_SAVED] = str(path)
                st.rerun()
            except Exception as exc:
                st.error(ctx.t("sc_error", error=str(exc)))
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
            st.rerun()
        except Exception as exc:
            st.error(ctx.t("sc_error", error=str(exc)))
    with c2:
        new = st.text_input(ctx.t("sc_rename"), key="sc_rename_to")
        if st.button(ctx.t("sc_rename_button"), key="sc_rename_btn") and new:
            try:
                rename_scenario(sc_dir, pick, new)
                st.rerun()
            except Exception as exc:
                st.error(ctx.t("sc_error", error=str(exc)))
    with c3:
        sure = st.checkbox(ctx.t("sc_delete_confirm", name=pick), key="sc_del_sure")
        if st.button(ctx.t("sc_delete"), key="sc_del_btn", disabled=not sure):
            try:
                delete_scenario(sc_dir, pick)
                if state.get("scenario") == pick:
                    state.put("scenario", "")
                st.success(ctx.t("sc_deleted", name=pick))
            except Exception as exc:
                st.error(ctx.t("sc_error", error=str(exc)))


def recommendation_table(ctx: Ctx, sites: pd.DataFrame) -> pd.DataFrame:
    """Recommended sites in rank order, labelled in the session's language."""
    _codes, names = township_options(ctx)
    unit = "townships" if "marginal_townships" in sites.columns else "children"
    return pd.DataFrame(
        {
            ctx.t("sc_rec_rank"): sites["rank"].to_numpy(),
            ctx.t("sc_rec_site"): sites["name"].astype(str).to_numpy(),
            ctx.t("col_township"): sites["township_code"]
            .astype(str)
            .map(names)
            .fillna(sites["township_code"])
            .to_numpy(),
            ctx.t(f"sc_rec_gain_{unit}"): sites["marginal_gain"].round(0).to_numpy(),
            ctx.t("sc_rec_cumulative"): sites["cumulative_covered"].round(0).to_numpy(),
            ctx.t("gap_metric_share"): sites["share_after_site"]
            .map(lambda s: "–" if pd.isna(s) else f"{s:.0%}")
            .to_numpy(),
            ctx.t("col_lon"): sites["lon"].to_numpy(),
            ctx.t("col_lat"): sites["lat"].to_numpy(),
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
            st.error(ctx.t("sc_error", error=str(exc)))
    held = st.session_state.get(keys.SC_REC)
    if held:
        _recommend_result(ctx, draft, held[1])


def _recommend_result(ctx: Ctx, draft: Any, rec: Any) -> None:
    """The ranked sites, their notes, editable places, and adding them to the draft."""
    from qjgeo.siting import recommendation_to_scenario

    st.dataframe(recommendation_table(ctx, rec.sites), hide_index=True, width="stretch")
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
            st.error(ctx.t("sc_error", error=str(exc)))
