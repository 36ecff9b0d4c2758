"""Map (地图): townships coloured by an indicator, every layer toggleable; a township's panel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qjgeo.mapview.build import build_map
from qjgeo.ui import cache, keys, state, widgets
from qjgeo.ui.i18n import status_label, unit_label
from qjgeo.ui.names import place_name
from qjgeo.ui.pages.indicators import district_counts, show_status_table
from qjgeo.ui.state import Ctx
from qjgeo.ui.tables import format_count, readable, show_table, yes_no


def _choropleth_titles(ctx: Ctx) -> dict[str, str]:
    """Choropleth choice → label: none, children aged 0–14, and every plan indicator."""
    titles = {"": ctx.t("choropleth_none"), "_pop_0_14": ctx.t("choropleth_population")}
    try:
        listed = cache.indicator_titles()
    except Exception:  # no indicators module / targets: the map still works
        return titles
    for ind_id, title_zh, title_en, unit in listed:
        title = title_zh if ctx.lang == "zh" else title_en
        titles[ind_id] = f"{title} ({unit_label(unit, ctx.lang)})" if unit else title
    return titles


def township_indicator_ids(table: pd.DataFrame | None) -> list[str]:
    """Indicators with a value for at least one township (those a choropleth can show)."""
    if table is None:
        return []
    towns = table[(table["scope"] != "district") & table["value"].notna()]
    return list(dict.fromkeys(towns["id"].astype(str)))


def _indicator_table(ctx: Ctx) -> pd.DataFrame | None:
    """All indicators evaluated (cached); ``None`` with a note when that is not possible."""
    try:
        return cache.indicators(ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir)
    except Exception as exc:
        st.caption(ctx.t("not_available", what=str(exc)))
        return None


def render(ctx: Ctx) -> None:
    """Draw the Map page."""
    st.title(ctx.t("map_title"))
    st.caption(ctx.t("map_intro"))
    c1, c2 = st.columns([2, 3])
    with c1:
        # The indicator menu is filled after the map is drawn: listing only indicators with
        # township values needs them evaluated, and the map should not wait for that.
        indicator_slot = st.empty()
        indicator = str(st.session_state.get(keys.widget("indicator"), state.get("indicator")))
        facilities = widgets.facility_types(ctx)
        focus = state.bound(
            st.selectbox,
            ctx.t("focus_layer"),
            "layer",
            facilities or [""],
            format_func=ctx.title,
        )
    with c2:
        shown = _layer_toggles(ctx, focus)
    titles = _choropleth_titles(ctx)
    choropleth, caption = _choropleth(ctx, indicator, titles, shown)
    _main_map(ctx, shown, choropleth, caption)
    table = _indicator_table(ctx)
    if table is not None:
        st.markdown(ctx.t("map_targets", **district_counts(table)))
    options = ["_pop_0_14", "", *township_indicator_ids(table)]
    with indicator_slot.container():
        state.bound(st.selectbox, ctx.t("choropleth"), "indicator", options, format_func=titles.get)
    codes, names = widgets.township_options(ctx)
    township = state.bound(
        st.selectbox, ctx.t("township"), "township", codes, format_func=names.get
    )
    if township:
        township_panel(ctx, township, names.get(township, township), table, focus)


#: Streamlit draws a checkbox label on one line cut with "…" ("家庭教育指导服务站点（家…"); the
#: layer names are long, so their labels wrap.
_WRAP_CHECKBOX_LABELS = (
    "<style>[data-testid=stCheckbox] [data-testid=stMarkdownContainer],"
    "[data-testid=stCheckbox] [data-testid=stMarkdownContainer] p"
    "{white-space:normal;text-overflow:clip;overflow:visible}</style>"
)


def _layer_toggles(ctx: Ctx, focus: str) -> list[str]:
    """A checkbox per layer (townships, villages, facilities, hazards); the layers shown."""
    ds = ctx.dataset
    other = [lid for lid in ds.layer_ids if ds.spec(lid).kind in ("facility", "hazard")]
    all_layers = [lid for lid in ("township", "village") if ds.has(lid)] + [
        lid for lid in other if lid not in ("township", "village")
    ]
    st.markdown(f"**{ctx.t('layers')}**")
    st.html(_WRAP_CHECKBOX_LABELS)  # long layer names wrap instead of ending in "…"
    cols = st.columns(3)
    shown: list[str] = []
    for i, lid in enumerate(all_layers):
        default = lid in ("township", "village") or lid == focus
        with cols[i % 3]:
            if st.checkbox(ctx.title(lid), value=default, key=f"lyr_{lid}_{focus}"):
                shown.append(lid)
    return shown


def _choropleth(
    ctx: Ctx, indicator: str, titles: dict[str, str], shown: list[str]
) -> tuple[pd.Series | None, str]:
    """Township values of the indicator chosen and their caption; the data notice of the view."""
    ds = ctx.dataset
    choropleth = None
    caption = ""
    rests_on = list(shown)  # the layers the view rests on, for the data notice
    if indicator == "_pop_0_14" and ds.has("township"):
        tw = ds.layer("township")
        choropleth = pd.Series(tw["pop_0_14"].to_numpy(), index=tw["code9"].astype(str))
        caption = titles[indicator]
        rests_on.append("township")
    elif indicator and (table := _indicator_table(ctx)) is not None:
        rows = table[(table["id"] == indicator) & (table["scope"] != "district")]
        if rows["value"].notna().any():
            choropleth = pd.Series(rows["value"].to_numpy(), index=rows["scope"].astype(str))
            caption = titles.get(indicator, indicator)
            rests_on += [lid for used in rows["layers_used"] for lid in (used or [])]
        else:
            st.caption(ctx.t("no_township_values"))
    widgets.data_notice(ctx, dict.fromkeys(rests_on))
    return choropleth, caption


def _main_map(ctx: Ctx, shown: list[str], choropleth: pd.Series | None, caption: str) -> None:
    """The map; a click on a township chooses it (once per click)."""
    township = state.get("township")
    m = build_map(
        ctx.dataset,
        choropleth=choropleth,
        choropleth_title=caption,
        layers=shown,
        basemap=state.get("basemap"),
        lang=ctx.lang,
        highlight_township=township or None,
        tianditu_key=cache.tianditu_key(),
    )
    st.caption(ctx.t("click_hint"))
    out = widgets.show_map(m, key="main_map", returned_objects=["last_active_drawing"])
    clicked = (out.get("last_active_drawing") or {}).get("properties") or {}
    code = clicked.get("code9") or ""
    last = st.session_state.get(keys.MAP_LAST_CLICK)
    if code and clicked.get("layer") == "township" and code != last:
        st.session_state[keys.MAP_LAST_CLICK] = code
        if code != township:
            state.put("township", code)
            st.rerun()


def _township_rows(table: pd.DataFrame, code9: str) -> pd.DataFrame:
    """The township's indicators and the district ones naming it failing, marked 全区."""
    from qjgeo.indicators import township_view

    view = township_view(table, code9)
    whole = view["scope"].astype(str) == "district"
    view.loc[whole, "title_zh"] = "[全区] " + view.loc[whole, "title_zh"].astype(str)
    view.loc[whole, "title_en"] = "[district] " + view.loc[whole, "title_en"].astype(str)
    return view


def township_panel(
    ctx: Ctx, code9: str, name: str, table: pd.DataFrame | None, facility_type: str
) -> None:
    """A township's indicators, villages and gaps."""
    st.subheader(ctx.t("township_panel", name=name))
    tab1, tab2, tab3 = st.tabs(
        [
            ctx.t("township_indicators"),
            ctx.t("township_villages"),
            ctx.t("township_gaps", facility=ctx.title(facility_type)),
        ]
    )
    with tab1:
        if table is not None:
            show_status_table(ctx, _township_rows(table, code9))
    with tab2:
        if ctx.dataset.has("village"):
            show_table(village_table(ctx, code9))
    with tab3:
        if facility_type:
            try:
                res = cache.gaps(ctx.data_dir, ctx.scenario_yaml, ctx.scenarios_dir, facility_type)
            except Exception as exc:
                st.info(ctx.t("gap_unavailable", error=str(exc)))
                return
            show_table(village_gap_table(ctx, res.villages, code9))


def _yes_no(ctx: Ctx, value: object) -> str:
    return yes_no(value, ctx.t("yes"), ctx.t("no"))


_UNIT_TYPES_EN = {"村": "village", "社区": "community"}


def village_table(ctx: Ctx, code9: str) -> pd.DataFrame:
    """The township's villages: code, name, kind, urban or not, children, data status."""
    v = ctx.dataset.layer("village")
    v = pd.DataFrame(v[v["township_code"].astype(str) == code9])
    columns: dict[str, object] = {
        ctx.t("col_code"): v["code12"].astype(str).to_numpy(),
        ctx.t("col_village"): [place_name(n, ctx.lang) for n in v["name"]],
    }
    if "unit_type" in v.columns:
        kinds = readable(v[["unit_type"]])["unit_type"]
        if ctx.lang == "en":
            kinds = kinds.map(lambda k: _UNIT_TYPES_EN.get(str(k), k))
        columns[ctx.t("col_unit_type")] = kinds.to_numpy()
    if "urban" in v.columns:
        columns[ctx.t("col_urban")] = [_yes_no(ctx, u) for u in v["urban"]]
    if "pop_0_14" in v.columns:
        columns[ctx.t("choropleth_population")] = v["pop_0_14"].map(format_count).to_numpy()
    if "provenance" in v.columns:
        columns[ctx.t("col_data")] = [status_label(str(p), ctx.lang) for p in v["provenance"]]
    return pd.DataFrame(columns)


def village_gap_table(ctx: Ctx, villages: pd.DataFrame, code9: str) -> pd.DataFrame:
    """The township's villages by children not covered: distance, covered or not."""
    v = villages[villages["township_code"].astype(str) == code9].sort_values(
        "children_uncovered", ascending=False
    )
    return pd.DataFrame(
        {
            ctx.t("col_village"): [place_name(n, ctx.lang) for n in v["name"]],
            ctx.t("col_children"): v["children"].map(format_count).to_numpy(),
            ctx.t("col_distance_m"): v["route_m"].map(format_count).to_numpy(),
            ctx.t("col_covered"): [_yes_no(ctx, c) for c in v["covered"]],
            ctx.t("col_uncovered"): v["children_uncovered"].map(format_count).to_numpy(),
        }
    )
