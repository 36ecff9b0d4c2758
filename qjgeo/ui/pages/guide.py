"""User guide (使用指南): the planners' guide from docs/, in the session's language."""

from __future__ import annotations

import streamlit as st

from qjgeo.ui.cache import REPO_DIR
from qjgeo.ui.state import Ctx


def render(ctx: Ctx) -> None:
    """Show docs/user-guide.<lang>.md."""
    path = REPO_DIR / "docs" / f"user-guide.{ctx.lang}.md"
    if not path.is_file():
        st.title(ctx.t("guide_title"))
        st.error(ctx.t("guide_missing", path=str(path)))
        return
    st.markdown(path.read_text(encoding="utf-8"))
