"""Report-grade map pages: the legend measured against its frame and the page, nothing clipped,
no label over another; degree ticks, world file, PDF metadata, furniture in empty corners."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from pyproj import Transformer

from qjgeo.export.fonts import cjk_font_family
from qjgeo.export.staticmap import (
    FACILITY_COLOUR,
    LegendEntries,
    default_facility_types,
    draw_legend,
    gap_map_page,
    gap_map_pdf,
    gap_map_png_files,
    gaps_by_facility_type,
    map_to_pixel,
    pixel_to_map,
    title_block,
    wrap_text,
)
from qjgeo.export.staticmap.georef import degree_label, graticule_ticks
from qjgeo.export.staticmap.layout import _renderer
from qjgeo.export.staticmap.placement import choose_corners
from qjgeo.gaps import gap_surface

HAS_POPPLER = shutil.which("pdfinfo") is not None
PAGES = [(p, o) for p in ("A4", "A3") for o in ("landscape", "portrait")]
TOL = 1.0  # pixels


@pytest.fixture(scope="module")
def all_gaps(dataset):
    return gaps_by_facility_type(dataset, default_facility_types(dataset))


@pytest.fixture(scope="module")
def surface(dataset):
    return gap_surface(dataset, "childcare")


def _inside(inner, outer) -> bool:
    return (
        inner.x0 >= outer.x0 - TOL
        and inner.y0 >= outer.y0 - TOL
        and inner.x1 <= outer.x1 + TOL
        and inner.y1 <= outer.y1 + TOL
    )


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 - TOL and b.x0 < a.x1 - TOL and a.y0 < b.y1 - TOL and b.y0 < a.y1 - TOL


def _check_page(page) -> None:
    fig = page.figure
    renderer = _renderer(fig)
    frame = page.legend.frame
    assert _inside(frame, fig.bbox), "legend box leaves the page"
    boxes = [t.get_window_extent(renderer) for t in page.legend.texts]
    for text, box in zip(page.legend.texts, boxes, strict=True):
        assert _inside(box, frame), f"legend text outside its box: {text.get_text()!r}"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), "two legend lines overlap"
    # every text on the page (titles, ticks, table, footer, furniture) stays on the page
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.axes is not page.map_ax:
            assert _inside(text.get_window_extent(renderer), fig.bbox), text.get_text()
    labels = [t.get_window_extent(renderer) for t in page.labels]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a, b), "two township labels overlap"
        assert _inside(a, page.map_ax.get_window_extent(renderer)), "label cut at the frame"


def _check_both_languages(page, entries: LegendEntries) -> None:
    joined = "".join(t.get_text() for t in page.legend.texts).replace(" ", "")
    for item in entries.items:
        assert item.zh.replace(" ", "") in joined, item.zh  # Chinese half, whole
        assert item.en.replace(" ", "") in joined, item.en  # English half, whole


@pytest.mark.parametrize(("paper", "orientation"), PAGES)
def test_legend_fits_every_facility_type(dataset, all_gaps, surface, paper, orientation) -> None:
    for ft, gaps in all_gaps.items():
        hexes = surface if ft == "childcare" else False
        page = gap_map_page(dataset, ft, paper=paper, orientation=orientation, gaps=gaps,
                            surface=hexes)  # fmt: skip
        _check_page(page)
        entries = _entries(dataset, ft, gaps, hexes)
        _check_both_languages(page, entries)
        page.figure.clear()


def _entries(dataset, ft, gaps, hexes) -> LegendEntries:
    from qjgeo.export.staticmap import draw_gap_axes

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    surface = None if hexes is False else hexes
    return draw_gap_axes(ax, dataset, ft, gaps, family=cjk_font_family(), surface=surface)["legend"]


def test_legend_symbols_are_drawn_as_on_the_map(dataset, all_gaps, surface) -> None:
    page = gap_map_page(dataset, "childcare", gaps=all_gaps["childcare"], surface=surface)
    entries = _entries(dataset, "childcare", all_gaps["childcare"], surface)
    kinds = {i.zh: i for i in entries.items}
    assert kinds["区界"].kind == "line"
    town = kinds["镇街界（估算）"]
    assert town.style["linestyle"] == (0, (4, 2))  # one dash style, as drawn
    covered = next(i for i in entries.items if i.zh.startswith("已覆盖"))
    assert covered.style["facecolor"] == "#1a9850"
    sizes = [i.style["s"] for i in entries.items if i.kind == "marker" and i.indent]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)  # farther = larger
    swatches = [i for i in entries.items if i.kind == "patch" and i.indent]
    assert {i.zh for i in swatches} == set(surface["distance_band"].astype(str))
    assert len({i.style["facecolor"] for i in swatches}) == len(swatches)  # a colour ramp
    # the map's village colours are exactly the legend's
    faces = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in page.map_ax.collections
             if isinstance(c, PathCollection) and len(c.get_facecolor())}  # fmt: skip
    assert (0.102, 0.596, 0.314) in faces  # covered green
    page.figure.clear()


def test_long_labels_wrap_and_never_clip() -> None:
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    entries = LegendEntries()
    entries.add("line", "村（社区）到最近少儿科普活动场所的距离" * 2,
                "village: distance to nearest children's science venue " * 3,
                color="k", linewidth=1)  # fmt: skip
    for k in range(6):
        entries.add("marker", f"第{k}类", f"class {k}", marker="o", s=40, facecolor="r")
    layout = draw_legend(fig, (0.05, 0.05, 0.5, 0.9), entries, family=cjk_font_family(), fs=1)
    renderer = _renderer(fig)
    for text in layout.texts:
        assert _inside(text.get_window_extent(renderer), layout.frame)
    assert _inside(layout.frame, fig.bbox)
    assert layout.fontsize < 7.2  # shrunk to fit


def test_wrap_text_keeps_every_character() -> None:
    text = "缺口面（六边形）：到最近托育机构的距离 Gap surface: distance to nearest childcare"
    lines = wrap_text(text, 60, lambda s: 6.0 * len(s))
    assert all(6.0 * len(line) <= 60 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_degree_ticks_are_where_the_meridians_cross(dataset, all_gaps) -> None:
    assert degree_label(113.5, "lon") == "113°30′E"
    assert degree_label(24.75, "lat") == "24°45′N"
    assert degree_label(114.0, "lon") == "114°E"
    page = gap_map_page(dataset, "childcare", gaps=all_gaps["childcare"], surface=False)
    (xs, xlab), (ys, ylab) = graticule_ticks(page.map_ax)
    assert 2 <= len(xs) <= 5 and 2 <= len(ys) <= 5
    to_deg = Transformer.from_crs("EPSG:4547", "EPSG:4490", always_xy=True)
    y0 = page.map_ax.get_ylim()[0]
    x0 = page.map_ax.get_xlim()[0]
    for x, label in zip(xs, xlab, strict=True):
        lon, _ = to_deg.transform(x, y0)
        assert degree_label(lon, "lon") == label
    for y, label in zip(ys, ylab, strict=True):
        _, lat = to_deg.transform(x0, y)
        assert degree_label(lat, "lat") == label
    page.figure.clear()


def test_world_file_places_a_known_facility(dataset, all_gaps) -> None:
    files = gap_map_png_files(dataset, "childcare", dpi=100, gaps=all_gaps["childcare"],
                              surface=False)  # fmt: skip
    world = files[".pgw"].decode()
    a, _, _, e, _, _ = (float(v) for v in world.split())
    assert a > 0 and e == pytest.approx(-a)  # square pixels, north up
    assert "Gauss_Kruger" in files[".prj"].decode() and "CGCS2000" in files[".prj"].decode()
    img = np.asarray(Image.open(io.BytesIO(files[".png"])).convert("RGB")).astype(int)
    # the facility farthest from the others: its triangle's colour is where the file says
    pts = dataset.metric("childcare").geometry
    xy = np.column_stack([pts.x, pts.y])
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    x, y = xy[int(np.argmax(dist.min(axis=1)))]
    col, row = map_to_pixel(world, x, y)
    assert pixel_to_map(world, col, row) == pytest.approx((x, y))
    patch = img[int(row) - 3 : int(row) + 4, int(col) - 3 : int(col) + 4].reshape(-1, 3)
    target = np.array([int(FACILITY_COLOUR[i : i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(patch - target).sum(axis=1).min() < 40


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils not installed")
def test_pdf_metadata(dataset, all_gaps, tmp_path) -> None:
    pdf = gap_map_pdf(dataset, "childcare", gaps=all_gaps["childcare"], surface=False,
                      title="测试标题", figure_no="2-1")  # fmt: skip
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    fields = dict((k.strip(), v.strip()) for k, v in
                  (ln.split(":", 1) for ln in info.stdout.splitlines()))  # fmt: skip
    assert fields["Title"] == "图 2-1  测试标题"
    assert "walking-access gaps to childcare" in fields["Subject"]
    assert fields["Author"] == "qjgeo"
    assert fields["Creator"] == "qjgeo"
    assert fields.get("CreationDate")


def test_title_block() -> None:
    assert title_block("曲江区", None) == "曲江区"
    assert title_block("曲江区", "3") == "图 3  曲江区"
    assert title_block("曲江区", "Figure 3") == "Figure 3  曲江区"


def test_furniture_takes_the_emptiest_corners() -> None:
    fig = Figure(figsize=(4, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    data = [shapely.box(0, 0, 100, 60), shapely.box(0, 60, 50, 100)]  # only upper right empty
    corners = choose_corners(ax, {"a": (0.3, 0.3), "b": (0.1, 0.1)}, data)
    assert corners["a"] == "upper right"
    assert corners["b"] != "upper right"


def test_map_furniture_covers_no_data(dataset, all_gaps) -> None:
    page = gap_map_page(dataset, "childcare", gaps=all_gaps["childcare"], surface=False)
    assert set(page.furniture) == {"north_arrow", "scale_bar", "inset"}
    assert len(set(page.furniture.values())) == 3
    page.figure.clear()


def test_labels_step_off_point_symbols() -> None:
    from qjgeo.export.staticmap import declutter_labels

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    label = ax.text(50, 50, "松山街道", fontfamily=cjk_font_family(), ha="center", va="center")
    villages = np.array([[50.0, 50.0], [48.0, 51.0], [53.0, 49.0]])
    assert declutter_labels(ax, [label], obstacles=villages) == 1
    box = label.get_window_extent(_renderer(fig))
    for x, y in ax.transData.transform(villages):
        assert not (box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1)


# --- township briefs: the small map's legend, measured as the full maps' --------------------

#: 枫湾镇 (no village covered), 马坝镇 (the largest), 松山街道 (small, urban), 罗坑镇 (no
#: childcare in its frame).
BRIEF_TOWNS = ("440205102", "440205100", "440205001", "440205109")


@pytest.fixture(scope="module")
def indicators(dataset):
    from qjgeo.indicators import evaluate

    return evaluate(dataset)


def _brief_page(dataset, all_gaps, indicators, code9, facility_type="childcare"):
    from qjgeo.export.brief import township_brief_page

    return township_brief_page(dataset, code9, facility_type, indicators=indicators,
                               gaps=all_gaps)  # fmt: skip


@pytest.mark.parametrize("code9", BRIEF_TOWNS)
def test_brief_legend_fits(dataset, all_gaps, indicators, code9) -> None:
    page = _brief_page(dataset, all_gaps, indicators, code9)
    _check_page(page)
    _check_both_languages(page, page.entries)
    page.figure.clear()


def _in_view(ax, points) -> bool:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in points)


def _drawn_symbols(ax) -> set[tuple]:
    """What the map axes show inside their frame: (kind, rgb, marker area or line width)."""
    view = shapely.box(*ax.get_xlim()[:1], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1])
    out: set[tuple] = set()
    for coll in ax.collections:
        rgb = tuple(np.round(coll.get_facecolor()[0][:3], 3)) if len(coll.get_facecolor()) else None
        if isinstance(coll, PathCollection):
            if _in_view(ax, coll.get_offsets()):
                out.add(("marker", rgb, round(float(coll.get_sizes()[0]), 2)))
        elif isinstance(coll, LineCollection):
            lines = [shapely.LineString(s) for s in coll.get_segments() if len(s) > 1]
            if any(line.intersects(view) for line in lines):
                edge = tuple(np.round(coll.get_edgecolor()[0][:3], 3))
                out.add(("line", edge, round(float(coll.get_linewidth()[0]), 2)))
        elif isinstance(coll, PolyCollection) and any(
            shapely.Polygon(p.vertices).intersects(view) for p in coll.get_paths()
        ):
            out.add(("patch", rgb, None))
    return out


def _listed_symbols(entries: LegendEntries) -> set[tuple]:
    """The legend's symbols in the same terms as :func:`_drawn_symbols`."""
    out: set[tuple] = set()
    for item in entries.items:
        style = item.style
        if item.kind == "marker":
            rgb = tuple(np.round(to_rgba(style["facecolor"])[:3], 3))
            out.add(("marker", rgb, round(float(style["s"]), 2)))
        elif item.kind == "line":
            rgb = tuple(np.round(to_rgba(style["color"])[:3], 3))
            out.add(("line", rgb, round(float(style["linewidth"]), 2)))
        elif item.kind == "patch":
            out.add(("patch", tuple(np.round(to_rgba(style["facecolor"])[:3], 3)), None))
            if "edgecolor" in style:  # the focus township: fill and outline
                rgb = tuple(np.round(to_rgba(style["edgecolor"])[:3], 3))
                out.add(("line", rgb, round(float(style["linewidth"]), 2)))
    return out


@pytest.mark.parametrize("code9", BRIEF_TOWNS)
def test_brief_legend_lists_only_what_is_drawn(dataset, all_gaps, indicators, code9) -> None:
    page = _brief_page(dataset, all_gaps, indicators, code9)
    drawn, listed = _drawn_symbols(page.map_ax), _listed_symbols(page.entries)
    assert listed == drawn, (
        f"listed, not drawn: {listed - drawn}; drawn, not listed: {drawn - listed}"
    )
    # covered / not covered are the township's own villages
    villages = all_gaps["childcare"].villages
    mine = villages[villages["township_code"].astype(str) == code9]
    labels = [i.zh for i in page.entries.items]
    assert any(z.startswith("已覆盖") for z in labels) == bool(mine["covered"].any())
    assert any(z.startswith("未覆盖") for z in labels) == bool((~mine["covered"]).any())
    page.figure.clear()


def test_brief_of_a_township_without_covered_villages(dataset, all_gaps, indicators) -> None:
    villages = all_gaps["childcare"].villages
    mine = villages[villages["township_code"].astype(str) == "440205102"]
    assert len(mine) and not mine["covered"].any()  # 枫湾镇: the case this test is about
    page = _brief_page(dataset, all_gaps, indicators, "440205102")
    texts = "".join(t.get_text() for t in page.legend.texts)
    assert "已覆盖" not in texts and "Covered" not in texts
    page.figure.clear()


@pytest.mark.parametrize("code9", BRIEF_TOWNS)
def test_brief_names_the_neighbours_off_the_township(dataset, all_gaps, indicators, code9) -> None:
    page = _brief_page(dataset, all_gaps, indicators, code9)
    renderer = _renderer(page.figure)
    to_data = page.map_ax.transData.inverted()
    towns = dataset.metric("township")
    focus = shapely.union_all(towns[towns["code9"] == code9].geometry.array)
    names = {t.get_text(): t for t in page.labels}
    assert str(towns.set_index("code9").loc[code9, "name"]) in names
    neighbours = [t for t in page.labels if t.get_fontweight() != "bold"]
    assert neighbours, "no neighbour named"
    for text in neighbours:
        box = shapely.box(*to_data.transform(text.get_window_extent(renderer)).ravel())
        assert not box.intersects(focus), f"{text.get_text()} lies over the township"
    page.figure.clear()
