"""User guide (使用指南): the planners' guide from docs/, in the session's language."""

from __future__ import annotations

import streamlit as st

from qjgeo.places import bundled_path
from qjgeo.ui.state import Ctx


def render(ctx: Ctx) -> None:
    """Show docs/user-guide.<lang>.md."""
    path = bundled_path(f"docs/user-guide.{ctx.lang}.md")
    if not path.is_file():
        st.title(ctx.t("guide_title"))
        st.error(ctx.t("guide_missing", path=str(path)))
        return
    st.markdown(path.read_text(encoding="utf-8"))
