"""The app's session state: URL round trip, language switch, sessions kept apart, strings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.ui.i18n import EN, ZH, t

APP = str(Path(__file__).resolve().parent.parent / "app.py")
UI = Path(__file__).resolve().parent.parent / "qjgeo" / "ui"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("QJGEO_DATA", str(DEFAULT_DATA_DIR))  # read-only use
    monkeypatch.setenv("QJGEO_SCENARIOS", str(tmp_path / "scenarios"))


def _run(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_zh_and_en_have_the_same_keys_and_no_empty_text() -> None:
    assert set(ZH) == set(EN)
    assert all(ZH[k].strip() and EN[k].strip() for k in ZH)
    assert t("nav_gaps", "zh") == "缺口" and t("nav_gaps", "en") == "Gaps"


def test_every_string_key_used_in_the_ui_exists() -> None:
    used: set[str] = set()
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add(node.args[0].value)
    assert used and used <= set(ZH), sorted(used - set(ZH))


def test_url_opens_the_same_view_and_follows_changes() -> None:
    at = _run(page="export", layer="park", lang="en", township="440205100")
    assert at.title[0].value == "Export"
    assert next(s for s in at.selectbox if s.key == "w_layer").value == "park"
    assert at.query_params["page"] == "export"
    assert at.query_params["township"] == "440205100"
    next(s for s in at.selectbox if s.key == "w_layer").set_value("childcare").run()
    assert at.query_params["layer"] == "childcare"
    assert at.query_params["lang"] == "en"


def test_language_switch_changes_labels() -> None:
    at = _run(page="indicators")
    assert at.title[0].value == "指标"
    assert at.query_params["lang"] == "zh"
    at.radio(key="w_lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Indicators"
    assert at.query_params["lang"] == "en"
    assert any("estimated" in w.value or "sample" in w.value for w in at.warning)


def test_two_sessions_do_not_see_each_others_choices() -> None:
    a = _run(page="export")
    b = _run(page="export")
    a.radio(key="w_lang").set_value("en").run()
    next(s for s in a.selectbox if s.key == "w_layer").set_value("park").run()
    b.run()
    assert a.title[0].value == "Export" and b.title[0].value == "导出"
    assert next(s for s in b.selectbox if s.key == "w_layer").value == "kindergarten"
    assert b.query_params["lang"] == "zh" and b.query_params["layer"] == "kindergarten"
    assert b.session_state["qj_layer"] == "kindergarten"


def test_bad_url_values_fall_back_to_defaults() -> None:
    at = _run(page="nonsense", lang="fr", layer="no_such_layer", scenario="missing")
    assert at.title[0].value == "地图"
    assert at.query_params["lang"] == "zh"
    assert at.error  # the missing scenario is reported, not silently ignored


def test_amap_basemap_from_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QJGEO_TIANDITU_KEY", raising=False)
    at = _run(page="map", basemap="amap")
    assert next(s for s in at.selectbox if s.key == "w_basemap").value == "amap"
    assert at.query_params["basemap"] == "amap"
    # Tianditu is offered only when its key is set
    options = next(s for s in at.selectbox if s.key == "w_basemap").options
    assert len(options) == 3 and not any("天地图" in o for o in options)


def test_tianditu_offered_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QJGEO_TIANDITU_KEY", "test-key")
    at = _run(page="map", basemap="tianditu")
    assert next(s for s in at.selectbox if s.key == "w_basemap").value == "tianditu"


def test_every_page_keeps_its_own_path_and_the_root_opens_the_map() -> None:
    from types import SimpleNamespace

    from qjgeo.ui import nav

    # outside a running app st.Page keeps little more than whether it is the default
    listed = nav.pages(SimpleNamespace(t=lambda key: key))  # type: ignore[arg-type]
    # only the hidden router is the default (served at /), so /map, /gaps ... all exist
    assert [p._default for p in listed] == [True] + [False] * len(nav.PAGES)
    assert _run().title[0].value == "地图"
    assert _run(page="gaps", lang="en").title[0].value == "Gaps"
