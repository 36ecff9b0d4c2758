"""Per-session state: what the planner has chosen, kept in ``st.session_state`` only.

The chosen language, township, layer (facility type in focus), scenario and basemap live under
``qj_*`` keys; they are read from the URL's query parameters when a session starts and written
back on every run, so a copied URL reopens the same view. Widgets bind to them through
:func:`bound`, which survives page switches (Streamlit drops a widget's own key when the widget
is not drawn). :class:`Ctx` is the read-only bundle a page receives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from qjgeo import Dataset
from qjgeo.ui import cache, keys
from qjgeo.ui.i18n import DEFAULT_LANG, LANGS, t

#: Query parameters mirrored from the session state (besides ``page``).
QP_KEYS = ("lang", "township", "layer", "scenario", "basemap", "mode")
#: The travel modes a session may choose (``""``: walking, service distances in metres).
MODE_CHOICES = ("", "walk", "bike", "drive")
DEFAULTS: dict[str, str] = {
    "mode": "",
    "lang": DEFAULT_LANG,
    "township": "",
    "layer": "kindergarten",
    "scenario": "",
    "basemap": "none",
    "indicator": "_pop_0_14",
}


def init_state() -> None:
    """Seed the session's choices from the URL the first time this session runs."""
    ss = st.session_state
    if ss.get(keys.INIT):
        return
    qp = st.query_params
    for key, default in DEFAULTS.items():
        value = qp.get(key, default)
        ss[keys.choice(key)] = value if isinstance(value, str) else default
    if ss[keys.choice("lang")] not in LANGS:
        ss[keys.choice("lang")] = DEFAULT_LANG
    if ss[keys.choice("mode")] not in MODE_CHOICES:
        ss[keys.choice("mode")] = ""
    ss[keys.INIT] = True


def get(key: str) -> str:
    """A session choice (``lang``, ``township``, ``layer``, ``scenario``, ``basemap``)."""
    return str(st.session_state.get(keys.choice(key), DEFAULTS.get(key, "")))


def put(key: str, value: str) -> None:
    """Set a session choice programmatically (e.g. from a map click) for the next run."""
    st.session_state[keys.choice(key)] = value
    st.session_state.pop(keys.widget(key), None)


def bound(
    widget: Callable[..., Any],
    label: str,
    key: str,
    options: Sequence[str],
    *,
    format_func: Callable[[str], Any] = str,
    **kwargs: Any,
) -> str:
    """Draw a select-like widget bound to the session choice ``key``; return its value."""
    ss = st.session_state
    wkey = keys.widget(key)
    options = list(options)
    current = get(key)
    if current not in options:
        current = options[0] if options else ""
    if wkey not in ss or ss[wkey] not in options:
        ss[wkey] = current
    value = widget(label, options=options, key=wkey, format_func=format_func, **kwargs)
    ss[keys.choice(key)] = value if value is not None else ""
    return str(ss[keys.choice(key)])


def current_mode() -> str:
    """The session's travel mode: the mode switch's value as this run starts (a change is
    seen by the run it triggers), else the choice kept; ``""`` for walking in metres."""
    value = st.session_state.get(keys.widget("mode"), get("mode"))
    return value if value in MODE_CHOICES else ""


def write_query_params(page: str) -> None:
    """Mirror the page and the session's choices into the URL.

    ``page``, ``lang`` and ``layer`` are always written; ``township`` and ``scenario`` when one
    is chosen; ``basemap`` when it is not the default (none).
    """
    wanted = {"page": page, "lang": get("lang"), "layer": get("layer")}
    for key in ("township", "scenario", "mode"):
        if get(key):
            wanted[key] = get(key)
    if get("basemap") != DEFAULTS["basemap"]:
        wanted["basemap"] = get("basemap")
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


@dataclass(frozen=True)
class Ctx:
    """What a page needs: the language, the data it shows and where files live (read-only)."""

    lang: str
    data_dir: Path
    scenarios_dir: Path
    base: Dataset
    dataset: Dataset
    scenario_name: str
    scenario_yaml: str | None
    scenario_error: str | None = None
    #: the graph searches run on, in the session's travel mode (``network/<mode>.npz``, a
    #: drive network reversed); ``None``: straight line × the mode's detour factor
    graph: Any = None
    #: why the dataset's network file could not be read, if it could not
    graph_error: str | None = None

    def t(self, key: str, **fmt: Any) -> str:
        """Text of ``key`` in the session's language."""
        return t(key, self.lang, **fmt)

    def title(self, layer_id: str) -> str:
        """A layer's title in the session's language."""
        if not self.dataset.has(layer_id):
            return layer_id
        spec = self.dataset.spec(layer_id)
        return spec.title_zh if self.lang == "zh" else spec.title_en


def build_ctx() -> Ctx:
    """Load the dataset (cached) and apply the session's scenario, if any."""
    lang = get("lang")
    directory = cache.data_dir()
    sc_dir = cache.scenarios_dir()
    base = cache.dataset(directory)
    name = get("scenario")
    yaml_text: str | None = None
    error: str | None = None
    ds = base
    if name:
        path = _scenario_file(sc_dir, name)
        if path is None:
            error = t("scenario_error", lang, name=name, error="file not found")
        else:
            try:
                yaml_text = path.read_text(encoding="utf-8")
                ds = cache.scenario_dataset(directory, yaml_text, sc_dir)
            except Exception as exc:  # a bad scenario file must not break the app
                error = t("scenario_error", lang, name=name, error=str(exc))
                yaml_text = None
                ds = base
    mode = current_mode()
    base, ds = cache.with_mode(base, mode), cache.with_mode(ds, mode)
    network, graph_error = cache.network(directory, ds.params.mode or "walk")
    graph = None if network is None else network.search_graph
    return Ctx(
        lang,
        directory,
        sc_dir,
        base,
        ds,
        name if yaml_text else "",
        yaml_text,
        error,
        graph=graph,
        graph_error=graph_error,
    )


def _scenario_file(sc_dir: Path, name: str) -> Path | None:
    for suffix in (".yaml", ".yml"):
        p = sc_dir / f"{name}{suffix}"
        if p.is_file():
            return p
    return None
