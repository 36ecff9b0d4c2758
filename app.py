"""Streamlit entry point: page setup and navigation only (run: ``make run``)."""

import streamlit as st

from qjgeo.ui import nav
from qjgeo.ui.i18n import t
from qjgeo.ui.state import get

st.set_page_config(page_title=t("app_title", get("lang")), page_icon="🧒", layout="wide")
ctx = nav.start()
st.navigation(nav.pages(ctx)).run()
