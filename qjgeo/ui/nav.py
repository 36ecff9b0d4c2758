"""Navigation: the pages of the app, their titles in the session's language, and the URL."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import streamlit as st

from qjgeo.ui import keys, state, widgets
from qjgeo.ui.state import Ctx

#: page id (URL path) → (module under qjgeo.ui.pages, title key, icon)
PAGES: dict[str, tuple[str, str, str]] = {
    "map": ("map_page", "nav_map", ":material/map:"),
    "indicators": ("indicators", "nav_indicators", ":material/checklist:"),
    "gaps": ("gaps", "nav_gaps", ":material/crisis_alert:"),
    "scenarios": ("scenarios", "nav_scenarios", ":material/alt_route:"),
    "import": ("import_page", "nav_import", ":material/upload_file:"),
    "export": ("export_page", "nav_export", ":material/download:"),
    "guide": ("guide", "nav_guide", ":material/menu_book:"),
}


def start() -> Ctx:
    """Read the URL into the session (first run), draw the sidebar, load the data."""
    state.init_state()
    widgets.sidebar()
    return state.build_ctx()


def _root(routes: dict[str, st.Page]) -> Callable[[], None]:
    """The hidden page at ``/``: opens the page the ``page`` query parameter names (or the map)."""

    def run() -> None:
        requested = st.query_params.get("page", "map")
        target = routes[requested if requested in routes else "map"]
        st.switch_page(target, query_params=dict(st.query_params))

    run.__name__ = "page_root"
    return run


def _runner(page_id: str, ctx: Ctx) -> Callable[[], None]:
    def run() -> None:
        module = importlib.import_module(f"qjgeo.ui.pages.{PAGES[page_id][0]}")
        try:
            module.render(ctx)
        finally:  # after the page's widgets have updated the choices (also on st.rerun)
            state.write_query_params(page_id)
            st.session_state.pop(keys.MISSING_SCENARIO, None)

    run.__name__ = f"page_{page_id}"
    return run


def pages(ctx: Ctx) -> list[st.Page]:
    """The ``st.Page`` list: every page at ``/<page id>``, and a hidden router at ``/``.

    Each page keeps its own path, so a copied URL such as ``/gaps?page=gaps&lang=en`` reopens
    it (the default page lives at ``/``, and its own path would be reported as not found).
    """
    routes = {
        pid: st.Page(_runner(pid, ctx), title=ctx.t(title_key), icon=icon, url_path=pid)
        for pid, (_module, title_key, icon) in PAGES.items()
    }
    root = st.Page(_root(routes), title=ctx.t("app_title"), default=True, visibility="hidden")
    return [root, *routes.values()]
