"""Offline map assets: vendored files, localized maps and standalone HTML exports."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import branca
import folium
import pytest
from branca.colormap import ColorMap
from branca.element import Figure, JavascriptLink
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MarkerCluster, MeasureControl

from qjgeo.mapview import (
    CDN_ASSETS,
    STREAMLIT_STATIC_BASE_URL,
    VENDOR_DIR,
    OfflineAssetError,
    OfflineColormap,
    asset_urls,
    external_urls,
    localize_map,
    standalone_html,
    vendor_path,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

DISTRICT = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "maba",
            "properties": {"name": "马坝镇", "children": 3.0},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [113.55, 24.65],
                        [113.65, 24.65],
                        [113.65, 24.72],
                        [113.55, 24.72],
                        [113.55, 24.65],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": "dabao",
            "properties": {"name": "大塘镇", "children": 8.0},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [113.66, 24.65],
                        [113.72, 24.65],
                        [113.72, 24.70],
                        [113.66, 24.70],
                        [113.66, 24.65],
                    ]
                ],
            },
        },
    ],
}


def build_map(*, choropleth: bool = False) -> folium.Map:
    """Return a map using every feature the planner uses (no tile layer)."""
    m = folium.Map(location=[24.68, 113.62], zoom_start=12, tiles=None)
    m.options["max_zoom"] = 18  # MarkerCluster needs a maxZoom when there is no tile layer
    cmap = branca.colormap.LinearColormap(
        ["#ffffcc", "#fd8d3c", "#800026"], vmin=0, vmax=10, caption="Children per km²"
    )
    layer = folium.FeatureGroup(name="Towns")
    folium.GeoJson(
        DISTRICT,
        style_function=lambda f: {
            "fillColor": cmap(f["properties"]["children"]),
            "color": "#333333",
            "weight": 2,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(["name"]),
    ).add_to(layer)
    layer.add_to(m)
    folium.Marker(
        [24.68, 113.58], icon=folium.Icon(color="red", icon="info-sign"), popup="glyphicon"
    ).add_to(m)
    folium.Marker(
        [24.70, 113.62], icon=folium.Icon(color="green", icon="child", prefix="fa"), popup="fa"
    ).add_to(m)
    folium.Marker(
        [24.66, 113.63], icon=folium.Icon(color="blue", icon="school", prefix="fa", angle=30)
    ).add_to(m)
    folium.Marker([24.69, 113.57], tooltip="default Leaflet icon").add_to(m)
    cluster = MarkerCluster(name="Kindergartens").add_to(m)
    for i in range(5):
        folium.Marker(
            [24.675 + i * 0.001, 113.60 + i * 0.001],
            icon=folium.Icon(color="purple", icon="home"),
        ).add_to(cluster)
    Fullscreen().add_to(m)
    cmap.add_to(m)
    if choropleth:
        folium.Choropleth(
            DISTRICT,
            data={"maba": 3.0, "dabao": 8.0},
            key_on="feature.id",
            fill_color="YlOrRd",
            bins=3,
            legend_name="Children (choropleth)",
            name="choropleth",
        ).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def _elements(root: object) -> list[object]:
    out = [root]
    for child in getattr(root, "_children", {}).values():
        out += _elements(child)
    return out


def _script_and_css_urls(html: str) -> list[str]:
    tags = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"|<link[^>]*\bhref=\"([^\"]+)\"", html)
    return [a or b for a, b in tags]


# --------------------------------------------------------------------------- vendored files


def test_every_cdn_asset_is_vendored() -> None:
    for url, rel in CDN_ASSETS.items():
        assert url.startswith("https://")
        path = vendor_path(url)
        assert path is not None, url
        assert path == VENDOR_DIR / rel
        assert path.stat().st_size > 0


def test_folium_cdn_urls_are_all_known() -> None:
    """A folium/branca upgrade that changes a CDN URL must fail here, not offline."""
    html = build_map(choropleth=True).get_root().render()
    remote = external_urls(html)
    assert remote, "expected the un-localized map to use CDNs"
    assert sorted(set(remote) - set(CDN_ASSETS)) == []
    for url in _script_and_css_urls(html):
        assert url in CDN_ASSETS, url


def test_vendored_css_urls_resolve() -> None:
    url_re = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
    for css in VENDOR_DIR.rglob("*.css"):
        for ref in url_re.findall(css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            assert not re.match(r"^([a-z]+:)?//", ref), f"{css}: {ref}"
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{css}: url({ref})"
            assert VENDOR_DIR in target.parents


def test_licences_present() -> None:
    packages = [p for p in VENDOR_DIR.iterdir() if p.is_dir()]
    assert len(packages) >= 10
    for pkg in packages:
        assert "@" in pkg.name, pkg
        licences = [p for p in pkg.iterdir() if re.search(r"(?i)licen[cs]e", p.name)]
        assert licences, f"no licence in {pkg}"
        assert all(p.stat().st_size > 200 for p in licences)
    assert (VENDOR_DIR / "README.md").is_file()


def test_manifest_matches_vendored_files() -> None:
    manifest = json.loads((VENDOR_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    listed: set[str] = set()
    for pkg in manifest["packages"]:
        for rel, digest in pkg["files"].items():
            path = VENDOR_DIR / pkg["dir"] / rel
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path
            listed.add(f"{pkg['dir']}/{rel}")
    on_disk = {
        p.relative_to(VENDOR_DIR).as_posix()
        for p in VENDOR_DIR.rglob("*")
        if p.is_file() and p.parent != VENDOR_DIR
    }
    assert on_disk == listed


def test_vendor_dir_is_small_and_has_no_source_maps() -> None:
    files = [p for p in VENDOR_DIR.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix == ".map"]
    assert sum(p.stat().st_size for p in files) < 2 * 1024 * 1024
    for p in files:
        if p.suffix in {".js", ".css"}:
            assert "sourceMappingURL" not in p.read_text(encoding="utf-8"), p


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO_ROOT / ".git").exists(), reason="not a git checkout"
)
def test_vendored_files_are_not_git_ignored() -> None:
    """A vendored file matching a .gitignore pattern (e.g. dist/) would be lost on commit."""
    files = [p.relative_to(REPO_ROOT).as_posix() for p in VENDOR_DIR.rglob("*") if p.is_file()]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(files),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.stdout.split() == []


def _vendor_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_map_assets", REPO_ROOT / "tools" / "vendor_map_assets.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_vendor_tool_pins_cover_cdn_assets() -> None:
    tool = _vendor_tool()
    produced = {f"{p.dest}/{dst}" for p in tool.PACKAGES for dst in [*p.files.values(), *p.derived]}
    produced.add(f"{tool.FOLIUM_DEST}/leaflet.awesome.rotate.min.css")
    assert set(CDN_ASSETS.values()) <= produced
    assert (
        tool.awesome_rotate_css()
        == (VENDOR_DIR / tool.FOLIUM_DEST / "leaflet.awesome.rotate.min.css").read_bytes()
    )


# --------------------------------------------------------------------------- localize_map


@pytest.mark.parametrize("base_url", [STREAMLIT_STATIC_BASE_URL, "/app/static/", "assets"])
def test_localized_map_references_only_vendored_files(base_url: str) -> None:
    m = localize_map(build_map(choropleth=True), base_url)
    html = m.get_root().render()
    assert external_urls(html) == []
    urls = _script_and_css_urls(html)
    assert len(urls) == len(set(CDN_ASSETS.values()))
    prefix = base_url if base_url.endswith("/") else base_url + "/"
    for url in asset_urls(html):
        assert url.startswith(prefix + "vendor/"), url
        path = vendor_path(url)
        assert path is not None and path.is_file(), url
        assert VENDOR_DIR in path.parents
    # Leaflet's default marker images are looked up next to the vendored leaflet.css.
    assert f'L.Icon.Default.imagePath = "{prefix}vendor/leaflet@1.9.3/images/";' in html


def test_localize_map_feeds_streamlit_folium_local_links() -> None:
    """st_folium loads every element's default_js/default_css, plus d3 CDNs per ColorMap."""
    m = localize_map(build_map(choropleth=True))
    elements = _elements(m)
    assert not [e for e in elements if isinstance(e, ColorMap)]
    legends = [e for e in elements if isinstance(e, OfflineColormap)]
    assert len(legends) == 2
    links = [
        url
        for e in elements
        if isinstance(e, JSCSSMixin)
        for _, url in [*e.default_js, *e.default_css]
    ]
    assert links
    for url in links:
        assert url.startswith(STREAMLIT_STATIC_BASE_URL + "vendor/"), url
        assert vendor_path(url) is not None, url


def test_localize_map_leaves_folium_classes_alone() -> None:
    before = (list(folium.Map.default_js), list(MarkerCluster.default_css))
    localize_map(build_map())
    assert (folium.Map.default_js, MarkerCluster.default_css) == before
    html = build_map().get_root().render()
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in html


def test_localize_map_is_repeatable() -> None:
    m = build_map()
    localize_map(m, "/first/")
    localize_map(m, "/second/")
    html = m.get_root().render()
    urls = asset_urls(html)
    assert urls and all(u.startswith("/second/vendor/") for u in urls)
    assert html.count("L.Icon.Default.imagePath") == 1
    figure = m.get_root()
    assert isinstance(figure, Figure)
    assert list(figure._children)[-1] == "qjgeo_offline_header_localizer"


def test_colormap_legend_renders_like_branca() -> None:
    m = build_map(choropleth=True)
    localize_map(m)
    html = m.get_root().render()
    assert html.count("d3.scale.threshold()") == 2
    assert "Children per km" in html and "Children (choropleth)" in html
    # Both legends are attached to the map itself.
    assert html.count(f".legend.addTo({m.get_name()});") == 2
    assert 'src="../../app/static/vendor/d3@3.5.5/d3.min.js"' in html


def test_links_added_while_rendering_are_localized() -> None:
    m = localize_map(build_map())
    # A colormap added after localize_map adds d3's CDN link to the header at render time.
    branca.colormap.linear.YlGn_09.scale(0, 5).add_to(m)
    html = m.get_root().render()
    assert external_urls(html) == []
    assert "../../app/static/vendor/d3@3.5.5/d3.min.js" in html


def test_unvendored_plugin_is_rejected() -> None:
    m = build_map()
    MeasureControl().add_to(m)
    with pytest.raises(OfflineAssetError, match="leaflet-measure"):
        localize_map(m)
    m2 = build_map()
    MeasureControl().add_to(m2)
    localize_map(m2, strict=False)
    remote = external_urls(m2.get_root().render())
    assert remote and all("leaflet-measure" in u for u in remote)


# --------------------------------------------------------------------------- external_urls


def test_external_urls_finds_every_kind_of_reference() -> None:
    html = """<!DOCTYPE html><html><head>
    <script src="https://cdn.example.org/a.js"></script>
    <link rel="stylesheet" href="//cdn.example.org/b.css"/>
    <link rel="stylesheet" href="/app/static/vendor/x.css"/>
    <style>.a{background:url('http://img.example.org/c.png')}
    @import "https://cdn.example.org/d.css";
    .b{background:url(data:image/png;base64,AAAA)} .c{behavior:url(#default#VML)}</style>
    </head><body>
    <img srcset="https://img.example.org/e.png 1x, local.png 2x">
    <div style="background-image: url(&quot;https://img.example.org/f.png&quot;)"></div>
    <a href="https://example.org/g">link</a>
    <script>var tiles = "https://tile.example.org/{z}/{x}/{y}.png";
      var s = '<script src="https://not.a.reference/h.js"><\\/script>';</script>
    </body></html>"""
    assert external_urls(html) == [
        "https://cdn.example.org/a.js",
        "//cdn.example.org/b.css",
        "http://img.example.org/c.png",
        "https://cdn.example.org/d.css",
        "https://img.example.org/e.png",
        "https://img.example.org/f.png",
        "https://example.org/g",
    ]
    assert "/app/static/vendor/x.css" in asset_urls(html)
    assert "local.png" in asset_urls(html)


# --------------------------------------------------------------------------- standalone_html


def _check_standalone(html: str) -> None:
    assert external_urls(html) == []
    assert asset_urls(html) == []
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    assert "Leaflet 1.9.3" in html  # Leaflet's own banner: the library is inlined
    assert 'version="1.9.3"' in html
    assert "L.AwesomeMarkers" in html and "MarkerClusterGroup" in html
    assert "Control.FullScreen" in html or "fullscreenControl" in html
    assert "data:font/woff2;base64," in html  # Font Awesome and Glyphicons fonts
    assert "data:image/png;base64," in html  # awesome-markers sprites, Leaflet images
    assert "data:image/svg+xml;base64," in html  # fullscreen icon
    assert "L.Icon.Default.mergeOptions" in html
    assert "sourceMappingURL" not in html


def test_standalone_html_is_self_contained() -> None:
    m = build_map(choropleth=True)
    html = standalone_html(m)
    _check_standalone(html)


def test_standalone_html_of_localized_map() -> None:
    m = localize_map(build_map(), STREAMLIT_STATIC_BASE_URL)
    html = standalone_html(m)
    _check_standalone(html)


def test_standalone_html_rejects_unknown_assets() -> None:
    m = build_map()
    m.get_root().header.add_child(JavascriptLink("https://example.org/extra.js"), name="extra")
    with pytest.raises(OfflineAssetError, match=re.escape("example.org/extra.js")):
        standalone_html(m)
    assert external_urls(standalone_html(m, strict=False)) == ["https://example.org/extra.js"]


# --------------------------------------------------------------------------- isolation & browser


def test_mapview_does_not_import_streamlit() -> None:
    code = "import sys, qjgeo.mapview; sys.exit('streamlit' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless chromium not installed")
def test_standalone_html_draws_offline_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "map.html"
    page.write_text(standalone_html(build_map()), encoding="utf-8")
    profile = tempfile.mkdtemp(dir=tmp_path)
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no network at all
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dom = result.stdout
    assert dom.count("awesome-marker-icon-") >= 3  # glyphicon + Font Awesome markers
    assert "marker-cluster" in dom
    assert "leaflet-interactive" in dom  # the GeoJSON polygons
    assert 'id="legend"' in dom  # branca/d3 colormap legend
    assert "leaflet-control-layers" in dom and "leaflet-control-zoom-fullscreen" in dom
    assert 'src="data:image/png;base64,' in dom  # default Leaflet marker image
