"""Serve every asset a folium map needs from the app itself.

folium, its plugins and branca point ``<script>``/``<link>`` tags at public
CDNs (jsDelivr, cdnjs, code.jquery.com, netdna).  On an offline government
intranet those never load and the map stays blank.  This module

* maps each CDN URL folium 0.20.0 uses to a vendored copy under
  ``static/vendor`` (built by ``tools/vendor_map_assets.py``),
* rewrites a map's resource lists to point at those copies
  (:func:`localize_map`), for Streamlit's static file serving,
* produces a single self-contained HTML document with every script,
  stylesheet, font and image inlined (:func:`standalone_html`), and
* lists the remote references left in an HTML string (:func:`external_urls`),
  for tests and guards.

Streamlit serves ``<app dir>/static/`` at ``<server>/app/static/`` when
``server.enableStaticServing = true``.  streamlit-folium (``st_folium``) runs
the map inside a component iframe whose document lives at
``<server>/component/streamlit_folium.st_folium/index.html`` and loads the
map's ``default_js``/``default_css`` URLs from there, so the base URL that
works both at the server root and under ``server.baseUrlPath`` is
:data:`STREAMLIT_STATIC_BASE_URL` (``"../../app/static/"``).

This module must not import streamlit (only ``qjgeo.ui`` may).
"""

from __future__ import annotations

import base64
import html as html_lib
import posixpath
import re
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import folium
from branca.colormap import ColorMap
from branca.element import Element, Figure, Link, MacroElement
from branca.utilities import legend_scaler
from folium.elements import JSCSSMixin
from jinja2 import Template

from qjgeo.places import bundled_path

__all__ = [
    "CDN_ASSETS",
    "STREAMLIT_STATIC_BASE_URL",
    "VENDOR_DIR",
    "OfflineAssetError",
    "OfflineColormap",
    "asset_urls",
    "external_urls",
    "localize_map",
    "standalone_html",
    "vendor_path",
]

#: Vendored assets: the checkout's ``static/vendor``, or its copy in an installed wheel
#: (``qjgeo/_bundled/static/vendor``, beside the bundled ``app.py`` whose ``static/`` folder
#: Streamlit serves).
VENDOR_DIR: Final[Path] = bundled_path("static/vendor")

#: Base URL of Streamlit's static folder as seen from streamlit-folium's
#: component iframe (``<server>/component/streamlit_folium.st_folium/``).
#: Relative, so it also works when the app runs under ``server.baseUrlPath``.
STREAMLIT_STATIC_BASE_URL: Final = "../../app/static/"

#: Every CDN URL referenced by folium 0.20.0 (``folium.Map``, ``MarkerCluster``,
#: ``Fullscreen``) and branca 0.8 (``ColorMap``) -> path under :data:`VENDOR_DIR`.
CDN_ASSETS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # folium.Map default_js
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": ("leaflet@1.9.3/leaflet.js"),
        "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/jquery.min.js",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
            "bootstrap@5.2.2/js/bootstrap.bundle.min.js"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
            "leaflet.awesome-markers@2.0.5/leaflet.awesome-markers.js"
        ),
        # folium.Map default_css
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": (
            "leaflet@1.9.3/leaflet.css"
        ),
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
            "bootstrap@5.2.2/css/bootstrap.min.css"
        ),
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
            "bootstrap@3.4.1/css/bootstrap-glyphicons.css"
        ),
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
            "fontawesome-free@6.2.0/css/all.min.css"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
            "leaflet.awesome-markers@2.0.5/leaflet.awesome-markers.css"
        ),
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
            "folium@0.20.0/leaflet.awesome.rotate.min.css"
        ),
        # folium.plugins.MarkerCluster
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
            "leaflet.markercluster@1.1.0/leaflet.markercluster.js"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
            "leaflet.markercluster@1.1.0/MarkerCluster.css"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
            "leaflet.markercluster@1.1.0/MarkerCluster.Default.css"
        ),
        # folium.plugins.Fullscreen (jsDelivr minifies on the fly; npm has only the source)
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
            "leaflet.fullscreen@3.0.0/Control.FullScreen.js"
        ),
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
            "leaflet.fullscreen@3.0.0/Control.FullScreen.css"
        ),
        # branca.colormap.ColorMap legend
        "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3@3.5.5/d3.min.js",
    }
)

_D3 = "d3@3.5.5/d3.min.js"
_LEAFLET_JS = "leaflet@1.9.3/leaflet.js"
_LEAFLET_IMAGES = "leaflet@1.9.3/images/"
_ICON_PATH_NAME = "qjgeo_leaflet_icon_path"

_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_HTTP = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_JS_SOURCE_MAP = re.compile(r"^[ \t]*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_CSS_SOURCE_MAP = re.compile(r"/\*[#@] sourceMappingURL=.*?\*/", re.DOTALL)
_URL_ATTRS: Final = frozenset(
    {"src", "href", "srcset", "imagesrcset", "data", "poster", "background", "xlink:href"}
)
_MIME: Final[Mapping[str, str]] = MappingProxyType(
    {
        ".css": "text/css",
        ".gif": "image/gif",
        ".jpg": "image/jpeg",
        ".js": "text/javascript",
        ".png": "image/png",
        ".svg": "image/svg+xml",
        ".ttf": "font/ttf",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
    }
)


class OfflineAssetError(RuntimeError):
    """A map references a remote asset that has no vendored copy."""


# --------------------------------------------------------------------------- URL helpers


def _is_external(url: str) -> bool:
    return bool(_EXTERNAL.match(url))


def _vendor_file(rel: str) -> Path | None:
    """Return the vendored file at ``rel`` (POSIX, relative), or None."""
    rel = posixpath.normpath(rel.split("#", 1)[0].split("?", 1)[0])
    if rel.startswith(("../", "/")) or rel in {".", ".."}:
        return None
    path = VENDOR_DIR.joinpath(*rel.split("/"))
    return path if path.is_file() else None


def _vendor_rel(url: str) -> str | None:
    """Return the path under :data:`VENDOR_DIR` that ``url`` refers to, if any."""
    url = url.strip()
    if url in CDN_ASSETS:
        return CDN_ASSETS[url]
    if _is_external(url):
        return None
    # A URL already localized with some base: ".../vendor/<package>@<version>/<file>".
    path = url.split("#", 1)[0].split("?", 1)[0]
    start = len(path)
    while (start := path.rfind("vendor/", 0, start)) >= 0:
        if start == 0 or path[start - 1] == "/":
            rel = posixpath.normpath(path[start + len("vendor/") :])
            if _vendor_file(rel) is not None:
                return rel
        if start == 0:
            break
    return None


def vendor_path(url: str) -> Path | None:
    """Return the vendored file a URL stands for.

    Parameters
    ----------
    url : str
        A CDN URL listed in :data:`CDN_ASSETS`, or a URL produced by
        :func:`localize_map` (``<base_url>vendor/<package>@<version>/<file>``).

    Returns
    -------
    pathlib.Path or None
        The file under :data:`VENDOR_DIR`, or ``None`` if the URL is not a
        vendored asset (or the file is missing).
    """
    rel = _vendor_rel(url)
    return None if rel is None else _vendor_file(rel)


def _localize_url(url: str, base_url: str, unknown: list[str]) -> str:
    rel = _vendor_rel(url)
    if rel is not None:
        return f"{base_url}vendor/{rel}"
    if _is_external(url):
        unknown.append(url)
    return url


# --------------------------------------------------------------------------- localize_map


def _walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and all its descendants (including a Figure's parts)."""
    stack = [element]
    seen: set[int] = set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        children = list(el._children.values())
        if isinstance(el, Figure):
            children = [el.header, el.html, el.script, *children]
        stack.extend(reversed(children))


def _localize_links(header: Element, base_url: str, unknown: list[str]) -> None:
    for child in header._children.values():
        if isinstance(child, Link):
            child.url = _localize_url(child.url, base_url, unknown)


def _raise_unknown(unknown: list[str]) -> None:
    if unknown:
        urls = ", ".join(sorted(set(unknown)))
        raise OfflineAssetError(
            f"no vendored copy of {urls}; add it to tools/vendor_map_assets.py "
            "and qjgeo.mapview.offline.CDN_ASSETS"
        )


class OfflineColormap(JSCSSMixin):
    """A branca colormap legend that loads d3 from the vendored copy.

    branca's :class:`~branca.colormap.ColorMap` hard-codes d3's CDN URL when
    rendered, and streamlit-folium adds two more d3 CDN URLs for every
    ``ColorMap`` it finds in the map (a failing script aborts its map
    loading).  This element renders the same legend with branca's own
    template, but is not a ``ColorMap`` and declares d3 through
    ``default_js``, so both paths load the local file.
    :func:`localize_map` swaps it in for every ``ColorMap`` in the map.

    Parameters
    ----------
    colormap : branca.colormap.ColorMap
        The colormap to draw (left unchanged; keep using it for styling).
    d3_url : str
        URL of d3 3.5.5.
    """

    _template = ColorMap._template

    def __init__(self, colormap: ColorMap, d3_url: str) -> None:
        super().__init__()
        self._name = "ColorMap"
        self.colormap = colormap
        self.default_js = [("d3", d3_url)]
        self._sync()

    def _sync(self) -> None:
        """Copy the values branca's template reads (mirrors ``ColorMap.render``)."""
        cm = self.colormap
        self.vmin = cm.vmin
        self.vmax = cm.vmax
        self.caption = cm.caption
        self.text_color = cm.text_color
        self.width = cm.width
        self.height = cm.height
        self.color_domain = [float(cm.vmin + (cm.vmax - cm.vmin) * k / 499.0) for k in range(500)]
        self.color_range = [cm(x) for x in self.color_domain]
        index = [float(i) for i in cm.index]
        self.tick_labels = (
            list(cm.tick_labels)
            if cm.tick_labels is not None
            else legend_scaler(index, cm.max_labels)
        )

    def render(self, **kwargs: Any) -> str:
        """Render the legend script and register d3 (see branca's ``ColorMap.render``).

        Parameters
        ----------
        **kwargs : Any
            Passed on to the template.

        Returns
        -------
        str
            Always empty: like every ``MacroElement``, the output goes into
            the figure's header and script sections.
        """
        self._sync()
        super().render(**kwargs)
        return ""


class _HeaderLocalizer(Element):
    """Last child of the Figure: localizes links added to the header at render time."""

    NAME: Final = "qjgeo_offline_header_localizer"

    def __init__(self, base_url: str, strict: bool) -> None:
        super().__init__()
        self._name = "QjgeoHeaderLocalizer"
        self.base_url = base_url
        self.strict = strict

    def render(self, **kwargs: Any) -> str:
        """Localize the figure's header links; renders nothing itself.

        Parameters
        ----------
        **kwargs : Any
            Ignored.

        Returns
        -------
        str
            Always empty.
        """
        figure = self.get_root()
        if isinstance(figure, Figure):
            unknown: list[str] = []
            _localize_links(figure.header, self.base_url, unknown)
            if self.strict:
                _raise_unknown(unknown)
        return ""


class _LeafletIconPath(MacroElement):
    """Tell Leaflet where its default marker images are.

    Leaflet guesses the folder from ``leaflet.css``; inside streamlit-folium
    the stylesheet is not applied yet when markers are created and the guess
    (``.../distmarker-icon.png``) is wrong.  Added as the map's first child,
    so its script runs right after the map is created, before any marker.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.Icon.Default.imagePath = {{ this.image_path|tojson }};"
        "{% endmacro %}"
    )

    def __init__(self, image_path: str) -> None:
        super().__init__()
        self._name = "LeafletIconPath"
        self.image_path = image_path


def _replace_colormaps(root: Element, d3_url: str) -> None:
    for parent in list(_walk(root)):
        for key, child in list(parent._children.items()):
            if isinstance(child, OfflineColormap):
                child.default_js = [("d3", d3_url)]
            elif isinstance(child, ColorMap):
                proxy = OfflineColormap(child, d3_url)
                parent._children[key] = proxy
                # A Choropleth keeps its legend in .color_scale and re-parents it
                # to the map at render time; the legend must be added to a Map.
                if getattr(parent, "color_scale", None) is child:
                    setattr(parent, "color_scale", proxy)  # noqa: B010
                proxy._parent = child._parent if child._parent is not None else parent


def localize_map(
    m: folium.Map,
    base_url: str = STREAMLIT_STATIC_BASE_URL,
    *,
    strict: bool = True,
) -> folium.Map:
    """Point every script and stylesheet of a map at the vendored copies.

    Rewrites, in place, the ``default_js``/``default_css`` lists of the map and
    of every plugin in it (as instance attributes; folium's class-level lists
    are left alone), the links already in the figure's header, and replaces
    each branca ``ColorMap`` with an :class:`OfflineColormap`.  A last element
    added to the figure also localizes links that elements add to the header
    while rendering.  Calling it again (e.g. with another ``base_url``) is safe.

    Parameters
    ----------
    m : folium.Map
        The map to localize.
    base_url : str, default :data:`STREAMLIT_STATIC_BASE_URL`
        URL of the folder holding ``vendor/`` as seen from the page that loads
        the map; ``"../../app/static/"`` inside streamlit-folium's iframe.
        A missing trailing ``/`` is added.
    strict : bool, default True
        Raise :class:`OfflineAssetError` for any remote script or stylesheet
        without a vendored copy (otherwise it is left as is).

    Returns
    -------
    folium.Map
        ``m`` itself.

    Raises
    ------
    OfflineAssetError
        If ``strict`` and the map needs an asset that is not vendored.
    """
    if not base_url.endswith("/"):
        base_url += "/"
    root = m.get_root()
    if not isinstance(root, Figure):
        root = Figure()
        root.add_child(m)
    unknown: list[str] = []
    _replace_colormaps(root, f"{base_url}vendor/{_D3}")
    for el in _walk(root):
        if isinstance(el, JSCSSMixin) or hasattr(el, "default_js"):
            for attr in ("default_js", "default_css"):
                links = [
                    (name, _localize_url(url, base_url, unknown))
                    for name, url in getattr(el, attr, [])
                ]
                # An instance attribute: folium's class-level lists stay untouched.
                setattr(el, attr, links)
    _localize_links(root.header, base_url, unknown)
    if strict:
        _raise_unknown(unknown)
    m.add_child(_LeafletIconPath(f"{base_url}vendor/{_LEAFLET_IMAGES}"), _ICON_PATH_NAME, index=0)
    root._children.pop(_HeaderLocalizer.NAME, None)
    root.add_child(_HeaderLocalizer(base_url, strict), name=_HeaderLocalizer.NAME)
    return m


# --------------------------------------------------------------------------- HTML scanning


_CSS_REF = re.compile(f"{_CSS_URL.pattern}|{_CSS_IMPORT.pattern}", re.IGNORECASE)


def _css_refs(css: str) -> list[str]:
    """Return the ``url()`` and ``@import`` references of a stylesheet, in order."""
    refs = [next((g for g in groups if g), "") for groups in _CSS_REF.findall(css)]
    return [r.strip() for r in refs if r.strip()]


class _RefCollector(HTMLParser):
    """Collect src/href/url() references and the spans of asset tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.refs: list[str] = []
        #: (start, end, kind, url, attrs) for <script src> and <link rel=stylesheet>
        self.assets: list[tuple[int, int, str, str, dict[str, str | None]]] = []
        self._html = html
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(html) if ch == "\n"]
        self._in_style = False
        self._open_script: tuple[int, str, dict[str, str | None]] | None = None
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        amap = {k.lower(): v for k, v in attrs}
        for name, value in attrs:
            if value is None:
                continue
            if name in {"srcset", "imagesrcset"}:
                self.refs += [part.split()[0] for part in value.split(",") if part.split()]
            elif name in _URL_ATTRS:
                self.refs.append(value.strip())
            elif name == "style":
                self.refs += _css_refs(value)
        start = self._offset()
        text = self.get_starttag_text() or ""
        if tag == "style":
            self._in_style = True
        elif tag == "script" and amap.get("src"):
            self._open_script = (start, amap["src"] or "", amap)
        elif tag == "link" and amap.get("href"):
            rels = (amap.get("rel") or "").lower().split()
            if "stylesheet" in rels:
                self.assets.append((start, start + len(text), "css", amap["href"] or "", amap))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag == "script" and self._open_script is not None:
            start, url, amap = self._open_script
            end = self._html.index(">", self._offset()) + 1
            self.assets.append((start, end, "js", url, amap))
            self._open_script = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs += _css_refs(data)


def asset_urls(html: str) -> list[str]:
    """List every src/href/url() reference in an HTML document.

    Scans the attributes ``src``, ``href``, ``srcset``, ``data``, ``poster``,
    ``background`` and ``xlink:href`` of every tag, and ``url()``/``@import``
    in ``<style>`` blocks and ``style`` attributes.  Script bodies are not
    scanned (URLs in JavaScript strings, e.g. tile templates or attribution
    links, are not references of the document).

    Parameters
    ----------
    html : str
        The document.

    Returns
    -------
    list of str
        References in document order, without duplicates; ``data:`` URIs and
        in-page fragments (``#...``) are left out.
    """
    refs = _RefCollector(html).refs
    keep = [r for r in refs if r and not r.lower().startswith(("data:", "#", "about:"))]
    return list(dict.fromkeys(keep))


def external_urls(html: str) -> list[str]:
    """List the remote (``http(s)://`` or ``//``) references of an HTML document.

    Parameters
    ----------
    html : str
        The document.

    Returns
    -------
    list of str
        The references found by :func:`asset_urls` that point to another
        host, in document order.
    """
    return [u for u in asset_urls(html) if _HTTP.match(u)]


# --------------------------------------------------------------------------- standalone


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(rel: str, unknown: list[str]) -> str:
    path = _vendor_file(rel)
    assert path is not None
    css = _CSS_SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    folder = posixpath.dirname(rel)

    def repl(match: re.Match[str]) -> str:
        ref = next(g for g in match.groups() if g is not None).strip()
        if not ref or ref.lower().startswith(("data:", "#", "about:")):
            return match.group(0)
        target = _vendor_rel(ref) if _is_external(ref) else posixpath.join(folder, ref)
        file = None if target is None else _vendor_file(target)
        if file is None:
            unknown.append(ref)
            return match.group(0)
        return f'url("{_data_uri(file)}")'

    css = _CSS_URL.sub(repl, css)
    if _CSS_IMPORT.search(css):
        raise OfflineAssetError(f"@import in {rel} is not supported")
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _inline_js(rel: str) -> str:
    path = _vendor_file(rel)
    assert path is not None
    js = _JS_SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    # "</script" would end the element early; "<\/script" is the same string in JS.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def _leaflet_icon_fix() -> str:
    """Give Leaflet's default marker data-URI images, whatever ``imagePath`` says.

    Leaflet derives the images' folder from ``leaflet.css``'s URL, which an
    inlined stylesheet does not have; ``L.Icon.Default`` is switched to the
    plain ``L.Icon`` lookup (``iconUrl``/``iconRetinaUrl``/``shadowUrl``).
    """
    images = {
        "iconUrl": "marker-icon.png",
        "iconRetinaUrl": "marker-icon-2x.png",
        "shadowUrl": "marker-shadow.png",
    }
    opts = ", ".join(
        f'{key}: "{_data_uri(VENDOR_DIR / (_LEAFLET_IMAGES + name))}"'
        for key, name in images.items()
    )
    return (
        "<script>L.Icon.Default.prototype._getIconUrl = L.Icon.prototype._getIconUrl; "
        f"L.Icon.Default.mergeOptions({{{opts}}});</script>"
    )


def standalone_html(m: folium.Map, *, strict: bool = True) -> str:
    """Render a map as one self-contained HTML document.

    Every script and stylesheet the map loads (whether still pointing at the
    CDN or already localized with :func:`localize_map`) is replaced by an
    inline ``<script>``/``<style>`` with the vendored file's content, and every
    font or image those stylesheets reference becomes a ``data:`` URI, so the
    file works from a USB stick or an intranet mail attachment with no
    network.  Tile layers, if the map has any, still fetch tiles (their URLs
    and attribution links live in the map's JavaScript).

    Parameters
    ----------
    m : folium.Map
        The map (rendered via its root figure; not localized in place).
    strict : bool, default True
        Raise if a remote reference would remain in the document.

    Returns
    -------
    str
        The HTML document (write it with UTF-8 encoding).

    Raises
    ------
    OfflineAssetError
        If ``strict`` and a script, stylesheet or other reference has no
        vendored copy.
    """
    html = m.get_root().render()
    parser = _RefCollector(html)
    unknown: list[str] = []
    pieces: list[str] = []
    pos = 0
    for start, end, kind, url, attrs in sorted(parser.assets, key=lambda a: a[0]):
        rel = _vendor_rel(url)
        if rel is None:  # remote, or a local file that would not travel with the HTML
            unknown.append(url)
            continue
        pieces.append(html[pos:start])
        if kind == "js":
            pieces.append(f"<script>{_inline_js(rel)}</script>")
            if rel == _LEAFLET_JS:
                pieces.append(_leaflet_icon_fix())
        else:
            media = attrs.get("media")
            media_attr = f' media="{html_lib.escape(media)}"' if media else ""
            pieces.append(f"<style{media_attr}>{_inline_css(rel, unknown)}</style>")
        pos = end
    pieces.append(html[pos:])
    out = "".join(pieces)
    if strict:
        unknown += external_urls(out)
        _raise_unknown(unknown)
    return out
