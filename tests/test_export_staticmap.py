"""Static gap maps: scale bar, legend, texts, PNG at 300 dpi, PDF pages and fonts."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from qjgeo.export.fonts import cjk_font_family
from qjgeo.export.staticmap import (
    UNREACHABLE_COLOUR,
    ExportError,
    attribution_line,
    band_colours,
    band_order,
    data_status_line,
    data_status_texts,
    declutter_labels,
    draw_gap_axes,
    draw_scale_bar,
    gap_map_figure,
    gap_map_pdf,
    gap_map_png,
    method_line,
    nice_length_m,
    prepare_gap_results,
    scenario_line,
    township_data_status,
    weakest_status,
)
from qjgeo.gaps import compute_gaps, gap_surface

HAS_POPPLER = shutil.which("pdfinfo") is not None and shutil.which("pdftotext") is not None


@pytest.fixture(scope="module")
def gaps(dataset):
    return compute_gaps(dataset, "childcare")


@pytest.fixture(scope="module")
def surface(dataset):
    return gap_surface(dataset, "childcare")


@pytest.mark.parametrize(
    ("span_m", "expected_m"),
    [(50_000, 10_000), (3_000, 500), (40_000, 10_000), (8_000, 2_000), (1_000, 200), (4, 1)],
)
def test_nice_length(span_m: float, expected_m: float) -> None:
    # a quarter of the span, rounded down to 1, 2 or 5 × 10^n
    assert nice_length_m(span_m) == expected_m


def test_nice_length_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="span_m"):
        nice_length_m(0)


def test_scale_bar_is_exact_in_metres() -> None:
    family = cjk_font_family()
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(500_000, 540_000)  # 40 km wide, EPSG:4547 metres
    ax.set_ylim(2_700_000, 2_730_000)
    bar = draw_scale_bar(ax, family=family)
    assert bar.length_m == 10_000
    assert bar.label == "10 km"
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(rects) == 2  # black and white halves
    assert sum(r.get_width() for r in rects) == pytest.approx(10_000)
    assert min(r.get_x() for r in rects) == pytest.approx(bar.x0_m)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0", "5", "10 km"]


def test_scale_bar_in_metres_for_small_maps() -> None:
    fig = Figure(figsize=(4, 4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 3_000)
    ax.set_ylim(0, 3_000)
    bar = draw_scale_bar(ax, family=cjk_font_family())
    assert (bar.length_m, bar.label) == (500, "500 m")


def test_bands_follow_band_order_and_unreachable_is_grey() -> None:
    frame = pd.DataFrame(
        {
            "distance_band": ["1–2 km", "≤300 m", "unreachable", "300–1000 m", "≤300 m"],
            "band_order": [2, 0, 9, 1, 0],
            "distance_m": [1500, 100, np.inf, 500, 50],
        }
    )
    order = band_order(frame)
    assert order == ["≤300 m", "300–1000 m", "1–2 km", "unreachable"]
    colours = band_colours(order, ["unreachable"])
    assert colours["unreachable"] == UNREACHABLE_COLOUR
    assert len({colours[b] for b in order[:3]}) == 3


def test_data_status_line_names_weak_layers(dataset) -> None:
    line = data_status_line(dataset, ["district", "township", "village", "childcare"])
    zh, en = line.split(" / ", 1)
    assert "托育机构为示例数据" in zh
    assert "镇、村为估算" in zh
    assert "childcare = sample" in en and "estimated" in en
    official = data_status_line(dataset, ["district"])
    assert "official" in official and "sample" not in official


def test_data_status_texts_are_the_line_in_each_language(dataset) -> None:
    layers = ["district", "township", "village", "childcare"]
    zh, en = data_status_texts(dataset, layers)
    assert data_status_line(dataset, layers) == f"{zh} / {en}"
    assert zh.startswith("数据状态：") and "托育机构为示例数据" in zh and "Data" not in zh
    assert en.startswith("Data status: ") and "childcare = sample" in en and "数据" not in en


def test_prepare_gap_results_reuses_what_is_given(dataset, gaps) -> None:
    got, surface = prepare_gap_results(dataset, "childcare", gaps=gaps, surface=False)
    assert got is gaps and surface is None
    with pytest.raises(ExportError, match="nosuch"):
        prepare_gap_results(dataset, "nosuch", gaps=gaps, surface=False)


def test_weakest_status_follows_the_catalog_order() -> None:
    assert weakest_status(["official", "estimated", "sample"]) == "sample"
    assert weakest_status(["official", "osm"]) == "osm"
    assert weakest_status(["user", "estimated", "official"]) == "estimated"
    assert weakest_status(["official", "unknown"]) == "official"
    assert weakest_status([]) == "official"


def test_township_data_status_defaults_for_townships_without_indicators() -> None:
    indicators = pd.DataFrame(
        {
            "scope": ["district", "440205100", "440205100", "440205101"],
            "data_status": ["sample", "official", "estimated", "official"],
        }
    )
    status = township_data_status(
        indicators, ["440205101", "440205100", "440205102"], default="estimated"
    )
    assert status.to_dict() == {
        "440205101": "official",
        "440205100": "estimated",
        "440205102": "estimated",
    }


def test_attribution_adds_odbl_only_with_osm(dataset) -> None:
    layers = ["district", "township", "village", "childcare"]
    assert "ODbL" not in attribution_line(dataset, layers)
    osm = dataset.layer("childcare").copy()
    osm["provenance"] = "osm"
    with_osm = dataset.with_layer("childcare", osm)
    text = attribution_line(with_osm, layers)
    assert "© OpenStreetMap contributors" in text and "ODbL" in text


def test_declutter_separates_overlapping_labels() -> None:
    family = cjk_font_family()
    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    a = ax.text(50, 50, "松山街道", fontfamily=family, ha="center", va="center")
    b = ax.text(52, 50, "马坝镇", fontfamily=family, ha="center", va="center")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    assert a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer))
    assert declutter_labels(ax, [a, b]) == 1
    assert not a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer))
    assert a.get_position() == (50, 50)  # the first label keeps its place


def test_map_draws_every_band_township_and_facility(dataset, gaps, surface) -> None:
    fig = Figure(figsize=(8, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    drawn = draw_gap_axes(ax, dataset, "childcare", gaps, family=cjk_font_family(), surface=surface)
    bands = set(gaps.villages["distance_band"]) | set(surface["distance_band"])
    assert set(drawn["bands"]) == bands
    for band in set(surface["distance_band"]):  # the hexagons' stepped ramp
        assert any(label.strip() == band for label in drawn["labels"])
    assert any("托育机构" in label for label in drawn["labels"])
    assert any(label.startswith("已覆盖") for label in drawn["labels"])
    names = {t.get_text() for t in ax.texts}
    assert set(dataset.layer("township")["name"]) <= names
    # the extent holds the whole district, in metres
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bx0, by0, bx1, by1 = dataset.metric("district").total_bounds
    assert x0 <= bx0 and bx1 <= x1 and y0 <= by0 and by1 <= y1


def test_png_300_dpi_a4_landscape(dataset, gaps, surface) -> None:
    png = gap_map_png(dataset, "childcare", gaps=gaps, surface=surface, dpi=300)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert img.size == (round(11.69 * 300), round(8.27 * 300))
    dpi = img.info["dpi"]
    assert dpi[0] == pytest.approx(300, abs=0.5) and dpi[1] == pytest.approx(300, abs=0.5)


def test_png_portrait_low_dpi(dataset, gaps) -> None:
    png = gap_map_png(dataset, "childcare", gaps=gaps, surface=False, dpi=100,
                      orientation="portrait")  # fmt: skip
    img = Image.open(io.BytesIO(png))
    assert img.size == (827, 1169)


def _pdf_info(tmp_path: Path, data: bytes) -> tuple[dict[str, str], str]:
    path = tmp_path / "map.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    fields = dict(
        (k.strip(), v.strip()) for k, v in (ln.split(":", 1) for ln in info.stdout.splitlines())
    )
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    return fields, text


def test_pdf_a3_landscape_holds_its_texts(dataset, gaps, tmp_path) -> None:
    pdf = gap_map_pdf(dataset, "childcare", gaps=gaps, surface=False, paper="A3")
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    if not HAS_POPPLER:
        pytest.skip("poppler-utils not installed: page size and text not checked")
    fields, text = _pdf_info(tmp_path, pdf)
    assert fields["Pages"] == "1"
    assert "(A3)" in fields["Page size"]
    for needed in ("曲江区", "托育机构", "步行可达缺口", "图例", "数据状态", "Data status",
                   "马坝镇", "罗坑镇", "情景 Scenario", "km"):  # fmt: skip
        assert needed in text, needed


def test_missing_facility_layer_is_a_clear_error(dataset) -> None:
    specs = {k: v for k, v in dataset.specs.items() if k != "childcare"}
    frames = {k: v for k, v in dataset.frames.items() if k != "childcare"}
    smaller = dataclasses.replace(dataset, specs=specs, frames=frames, _metric_cache={})
    with pytest.raises(ExportError, match="no layer 'childcare'"):
        gap_map_figure(smaller, "childcare")


def test_bad_paper_is_refused(dataset, gaps) -> None:
    with pytest.raises(ExportError, match="paper"):
        gap_map_figure(dataset, "childcare", gaps=gaps, surface=False, paper="A5")  # type: ignore[arg-type]


def test_empty_facility_layer_maps_unreachable(dataset) -> None:
    empty = dataset.layer("childcare").iloc[0:0]
    ds = dataset.with_layer("childcare", gpd.GeoDataFrame(empty, crs=empty.crs))
    g = compute_gaps(ds, "childcare")
    png = gap_map_png(ds, "childcare", gaps=g, surface=False, dpi=30)
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_scenario_line_names_scenario_and_date(dataset) -> None:
    import datetime as dt

    assert "基线 baseline" in scenario_line(dataset, dt.date(2026, 1, 2))
    named = dataclasses.replace(dataset, scenario_name="growth_2030")
    line = scenario_line(named, dt.date(2026, 1, 2))
    assert "growth_2030" in line and "2026-01-02" in line


def test_method_line_says_network_or_straight_line(dataset) -> None:
    def fake(methods: list[str]) -> SimpleNamespace:
        return SimpleNamespace(
            villages=pd.DataFrame({"method": methods}), params_used={}, age_label="0–2"
        )

    net = method_line(dataset, "childcare", fake(["network", "network"]))
    assert "walking-network distance" in net and "urban 300 m, rural 2,000 m" in net
    straight = method_line(dataset, "childcare", fake(["straight_line_x_detour"]))
    assert "straight line × 1.3" in straight and "no network" in straight
    mixed = method_line(dataset, "childcare", fake(["network", "straight_line_x_detour"]))
    assert "some straight line" in mixed


def test_long_footer_lines_are_split_not_cut() -> None:
    from qjgeo.export.staticmap import _split_line, text_lines

    assert _split_line("中文 / English words") == ("中文 /", "English words")
    assert _split_line("a; b; c; d") == ("a; b;", "c; d")
    assert _split_line("nothing to split here") is None
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    long_line = (
        "数据状态：托育机构为示例数据 / Data status: childcare = sample; villages = estimated"
    )
    texts = text_lines(fig, 0.0, 1.0, [long_line], fontsize=8, max_width=0.9,
                       fontfamily=cjk_font_family())  # fmt: skip
    assert len(texts) >= 2
    assert all("\n" not in t.get_text() for t in texts)  # single-line texts keep their shaping
    joined = " ".join(t.get_text().strip() for t in texts)
    for word in long_line.split():
        assert word in joined


def test_web_basemap_is_optional_and_fails_clearly(dataset, gaps) -> None:
    try:
        import contextily  # noqa: F401
    except ImportError:
        with pytest.raises(ExportError, match="contextily"):
            gap_map_figure(dataset, "childcare", gaps=gaps, surface=False, basemap=True)
    else:  # pragma: no cover - contextily is not a dependency
        pytest.skip("contextily installed: the basemap would need the network")
