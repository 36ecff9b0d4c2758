#!/usr/bin/env python3
"""Rebuild ``static/vendor`` from the npm registry.

folium 0.20.0, its plugins and branca load Leaflet, jQuery, Bootstrap, Font
Awesome, awesome-markers, MarkerCluster, Fullscreen and d3 from public CDNs.
Planners run the app on offline intranets, so every one of those files is
vendored here, at the exact version folium references, and served by the app
itself (see ``qjgeo/mapview/offline.py``).

The script is deterministic: it runs ``npm pack NAME@VERSION`` into a temporary
directory, checks the tarball against the pinned sha512 integrity, extracts
only the distribution files (no sources, source maps or unused builds) plus the
licences (a leading ``dist/`` is dropped from their paths: the repository's
``.gitignore`` ignores ``dist/`` folders), applies a few documented transformations, and rewrites
``static/vendor`` from scratch together with ``MANIFEST.json`` (sha256 of every
file) and ``README.md``.  Running it twice gives byte-identical output.

Usage::

    python tools/vendor_map_assets.py            # rebuild static/vendor
    python tools/vendor_map_assets.py --check    # verify static/vendor is current

Two upstream versions are not on npm; the closest published equivalent is used
(recorded in ``MANIFEST.json``):

* ``Leaflet.awesome-markers/2.0.2`` (cdnjs, tag of lvoogdt's repository) ->
  ``leaflet.awesome-markers@2.0.5`` on npm, whose ``dist/`` files are the same
  release (``L.AwesomeMarkers.version = '2.0.1'`` in both).
* ``bootstrap/3.0.0/css/bootstrap-glyphicons.css`` (netdna) -> the Glyphicons
  rules extracted from ``bootstrap@3.4.1`` (npm has no 3.0.0; 3.4.1 is the
  last 3.x release and has a superset of the 3.0.0 icon names).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import io
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = REPO_ROOT / "static" / "vendor"

#: folium version whose CDN references the pins below reproduce.
FOLIUM_VERSION = "0.20.0"

Transform = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Package:
    """One npm package to vendor.

    Attributes
    ----------
    name : str
        npm package name.
    version : str
        Exact version.
    integrity : str
        The registry's ``dist.integrity`` (sha512, base64) for the tarball.
    dest : str
        Directory under ``static/vendor``.
    files : dict of str to str
        Map of path inside the package -> path under ``dest``.
    licenses : tuple of str
        Licence files inside the package, copied as-is.
    transforms : dict of str to Transform
        Map of destination path -> function applied to the file's bytes.
    derived : dict of str to tuple of (str, Transform)
        Map of destination path -> (source path inside the package, function
        producing the new file from the source bytes).
    note : str
        Why this version, and what was changed.
    """

    name: str
    version: str
    integrity: str
    dest: str
    files: dict[str, str]
    licenses: tuple[str, ...]
    transforms: dict[str, Transform] = field(default_factory=dict)
    derived: dict[str, tuple[str, Transform]] = field(default_factory=dict)
    note: str = ""


# --------------------------------------------------------------------------- transforms

_SOURCE_MAP_JS = re.compile(rb"\n?//# sourceMappingURL=[^\n]*\s*$")
_SOURCE_MAP_CSS = re.compile(rb"\n?/\*# sourceMappingURL=[^*]*\*/\s*$")


def strip_js_source_map(data: bytes) -> bytes:
    """Drop the trailing ``//# sourceMappingURL`` comment (maps are not vendored)."""
    out, n = _SOURCE_MAP_JS.subn(b"\n", data)
    if n != 1:
        raise RuntimeError("expected exactly one JS sourceMappingURL comment")
    return out


def strip_css_source_map(data: bytes) -> bytes:
    """Drop the trailing ``/*# sourceMappingURL */`` comment (maps are not vendored)."""
    out, n = _SOURCE_MAP_CSS.subn(b"\n", data)
    if n != 1:
        raise RuntimeError("expected exactly one CSS sourceMappingURL comment")
    return out


_FA_TTF_FALLBACK = re.compile(rb',url\(\.\./webfonts/[a-z0-9-]+\.ttf\) format\("truetype"\)')


def drop_fontawesome_ttf(data: bytes) -> bytes:
    """Remove the TrueType fallbacks from Font Awesome's ``@font-face`` rules.

    Every supported browser uses the WOFF2 source listed first; dropping the
    ``.ttf`` fallbacks saves ~650 KB and keeps every ``url()`` resolvable.
    """
    out, n = _FA_TTF_FALLBACK.subn(b"", data)
    if n == 0 or b".ttf" in out:
        raise RuntimeError("unexpected Font Awesome @font-face layout")
    return out


def _top_level_blocks(css: str) -> list[str]:
    """Split a stylesheet into top-level ``selector { ... }`` blocks."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    blocks: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(css):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                blocks.append(css[start : i + 1].strip())
                start = i + 1
    return blocks


_GLYPH_SELECTOR = re.compile(r"^\.glyphicon(-[a-z0-9-]+)?(:before)?$")


def extract_glyphicons(data: bytes) -> bytes:
    """Build a Glyphicons-only stylesheet from Bootstrap 3's ``bootstrap.css``.

    Keeps the ``Glyphicons Halflings`` ``@font-face`` (WOFF2 source only) and
    every rule whose selectors are all ``.glyphicon`` / ``.glyphicon-*:before``.
    """
    out = [
        "/*!",
        " * Glyphicons Halflings rules extracted from Bootstrap v3.4.1",
        " * (dist/css/bootstrap.css) by tools/vendor_map_assets.py, standing in for",
        " * netdna's bootstrap/3.0.0/css/bootstrap-glyphicons.css used by folium.",
        " * Copyright 2011-2019 Twitter, Inc. Licensed under MIT (see ../LICENSE).",
        " */",
        "@font-face {",
        '  font-family: "Glyphicons Halflings";',
        '  src: url("../fonts/glyphicons-halflings-regular.woff2") format("woff2");',
        "}",
    ]
    found_face = False
    n_rules = 0
    for block in _top_level_blocks(data.decode("utf-8")):
        head, _, body = block.partition("{")
        head = head.strip()
        if head == "@font-face":
            found_face = found_face or "Glyphicons Halflings" in body
            continue
        selectors = [s.strip() for s in head.split(",")]
        if selectors and all(_GLYPH_SELECTOR.match(s) for s in selectors):
            out.append(block)
            n_rules += 1
    if not found_face or n_rules < 200:
        raise RuntimeError("unexpected Bootstrap 3 stylesheet layout")
    return ("\n".join(out) + "\n").encode("utf-8")


def awesome_rotate_css() -> bytes:
    """Recreate folium's ``leaflet.awesome.rotate.min.css``.

    folium's ``Icon(angle=N)`` adds the class ``fa-rotate-N``; the upstream file
    (``folium/templates/leaflet.awesome.rotate.css`` in folium's repository,
    MIT) defines ``.fa-rotate-1`` ... ``.fa-rotate-360``.  It is not shipped in
    folium's wheel nor on npm, so it is generated here.
    """
    lines = [
        "/* fa-rotate-N classes used by folium.Icon(angle=N); equivalent of folium's",
        "   templates/leaflet.awesome.rotate.css (MIT, see LICENSE.txt). */",
    ]
    for deg in range(1, 361):
        lines.append(
            f".fa-rotate-{deg}{{-ms-transform:rotate({deg}deg);"
            f"-webkit-transform:rotate({deg}deg);transform:rotate({deg}deg)}}"
        )
    return ("\n".join(lines) + "\n").encode("ascii")


# --------------------------------------------------------------------------- pins

PACKAGES: tuple[Package, ...] = (
    Package(
        name="leaflet",
        version="1.9.3",
        integrity="sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ==",
        dest="leaflet@1.9.3",
        files={
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
        licenses=("LICENSE",),
        transforms={"leaflet.js": strip_js_source_map},
        note="folium.Map default_js/default_css (cdn.jsdelivr.net/npm/leaflet@1.9.3).",
    ),
    Package(
        name="jquery",
        version="3.7.1",
        integrity="sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        dest="jquery@3.7.1",
        files={"dist/jquery.min.js": "jquery.min.js"},
        licenses=("LICENSE.txt",),
        note="folium.Map default_js (code.jquery.com/jquery-3.7.1.min.js).",
    ),
    Package(
        name="bootstrap",
        version="5.2.2",
        integrity="sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ==",
        dest="bootstrap@5.2.2",
        files={
            "dist/js/bootstrap.bundle.min.js": "js/bootstrap.bundle.min.js",
            "dist/css/bootstrap.min.css": "css/bootstrap.min.css",
        },
        licenses=("LICENSE",),
        transforms={
            "js/bootstrap.bundle.min.js": strip_js_source_map,
            "css/bootstrap.min.css": strip_css_source_map,
        },
        note="folium.Map default_js/default_css (cdn.jsdelivr.net/npm/bootstrap@5.2.2).",
    ),
    Package(
        name="bootstrap",
        version="3.4.1",
        integrity="sha512-yN5oZVmRCwe5aKwzRj6736nSmKDX7pLYwsXiCj/EYmo16hODaBiT4En5btW/jhBF/seV+XMx3aYwukYC3A49DA==",
        dest="bootstrap@3.4.1",
        files={
            "dist/fonts/glyphicons-halflings-regular.woff2": "fonts/glyphicons-halflings-regular.woff2",
        },
        licenses=("LICENSE",),
        derived={
            "css/bootstrap-glyphicons.css": ("dist/css/bootstrap.css", extract_glyphicons),
        },
        note=(
            "Glyphicons for awesome-markers (folium.Icon's default prefix); replaces "
            "netdna bootstrap/3.0.0/css/bootstrap-glyphicons.css, which is not on npm. "
            "bootstrap-glyphicons.css is derived (glyphicon rules only, WOFF2 only)."
        ),
    ),
    Package(
        name="@fortawesome/fontawesome-free",
        version="6.2.0",
        integrity="sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ==",
        dest="fontawesome-free@6.2.0",
        files={
            "css/all.min.css": "css/all.min.css",
            "webfonts/fa-brands-400.woff2": "webfonts/fa-brands-400.woff2",
            "webfonts/fa-regular-400.woff2": "webfonts/fa-regular-400.woff2",
            "webfonts/fa-solid-900.woff2": "webfonts/fa-solid-900.woff2",
            "webfonts/fa-v4compatibility.woff2": "webfonts/fa-v4compatibility.woff2",
        },
        licenses=("LICENSE.txt",),
        transforms={"css/all.min.css": drop_fontawesome_ttf},
        note=(
            "folium.Map default_css (awesome_markers_font_css). all.min.css has its "
            ".ttf fallbacks removed (WOFF2 only)."
        ),
    ),
    Package(
        name="leaflet.awesome-markers",
        version="2.0.5",
        integrity="sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA==",
        dest="leaflet.awesome-markers@2.0.5",
        files={
            "dist/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
            "dist/images/markers-soft.png": "images/markers-soft.png",
            "dist/images/markers-soft@2x.png": "images/markers-soft@2x.png",
            "dist/images/markers-shadow.png": "images/markers-shadow.png",
            "dist/images/markers-shadow@2x.png": "images/markers-shadow@2x.png",
        },
        licenses=("LICENSE",),
        note=(
            "folium.Map default_js/default_css (cdnjs Leaflet.awesome-markers/2.0.2, "
            "not on npm); npm's 2.0.5 ships the same dist files."
        ),
    ),
    Package(
        name="leaflet.markercluster",
        version="1.1.0",
        integrity="sha512-eI+XkCiLiHwCC3uZ4/n4+Vq3rXcqEHN2lhHRVG1WVziy/3Q0TTipWkzEa1zO0dKZI2AnI5ppFDWrOjnQ7MJLKQ==",
        dest="leaflet.markercluster@1.1.0",
        files={
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
        },
        licenses=("MIT-LICENCE.txt",),
        note="folium.plugins.MarkerCluster (cdnjs leaflet.markercluster/1.1.0).",
    ),
    Package(
        name="leaflet.fullscreen",
        version="3.0.0",
        integrity="sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        dest="leaflet.fullscreen@3.0.0",
        files={
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
        },
        licenses=("LICENSE",),
        note=(
            "folium.plugins.Fullscreen. folium asks jsDelivr for Control.FullScreen.min.js, "
            "which jsDelivr minifies on the fly; the package only has the unminified file."
        ),
    ),
    Package(
        name="d3",
        version="3.5.5",
        integrity="sha512-JPx0wEFxcYVcCZXgUbsy8NzVzD3zKat1KLtdCeOHPsmrpFlc09nr2/5Ls9ey7mo8SV6cWew0piLrmPVybj9I8w==",
        dest="d3@3.5.5",
        files={"d3.min.js": "d3.min.js"},
        licenses=("LICENSE",),
        note="branca ColorMap legends (cdnjs d3/3.5.5).",
    ),
)

#: Files that come from folium itself rather than npm.
FOLIUM_DEST = f"folium@{FOLIUM_VERSION}"


# --------------------------------------------------------------------------- build


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def npm_pack(pkg: Package, workdir: Path) -> bytes:
    """Fetch ``pkg`` with ``npm pack`` and return the verified tarball bytes.

    Parameters
    ----------
    pkg : Package
        The package to fetch.
    workdir : Path
        Scratch directory for the tarball.

    Returns
    -------
    bytes
        The tarball, whose sha512 matches ``pkg.integrity``.
    """
    out = subprocess.run(
        ["npm", "pack", f"{pkg.name}@{pkg.version}", "--json", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    filename = json.loads(out.stdout)[0]["filename"]
    data = (workdir / filename).read_bytes()
    if _sri(data) != pkg.integrity:
        raise RuntimeError(f"{pkg.name}@{pkg.version}: tarball integrity mismatch")
    return data


def _read_members(tarball: bytes, wanted: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            # npm tarballs put everything under one top-level folder ("package/").
            rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if rel in wanted:
                fh = tar.extractfile(member)
                assert fh is not None
                found[rel] = fh.read()
    missing = wanted - set(found)
    if missing:
        raise RuntimeError(f"missing from tarball: {sorted(missing)}")
    return found


def _folium_license() -> bytes:
    dist = importlib.metadata.distribution("folium")
    if dist.version != FOLIUM_VERSION:
        raise RuntimeError(f"folium {FOLIUM_VERSION} required, found {dist.version}")
    for f in dist.files or ():
        if f.name.upper().startswith("LICENSE"):
            return Path(str(dist.locate_file(f))).read_bytes()
    raise RuntimeError("folium's licence file not found")


def build(out_dir: Path, workdir: Path) -> dict[str, object]:
    """Write every vendored file under ``out_dir`` and return the manifest.

    Parameters
    ----------
    out_dir : Path
        Empty target directory.
    workdir : Path
        Scratch directory for tarballs.

    Returns
    -------
    dict
        The manifest (also written to ``out_dir / "MANIFEST.json"``).
    """
    packages: list[dict[str, object]] = []
    for pkg in PACKAGES:
        tarball = npm_pack(pkg, workdir)
        wanted = set(pkg.files) | set(pkg.licenses) | {src for src, _ in pkg.derived.values()}
        members = _read_members(tarball, wanted)
        outputs: dict[str, bytes] = {}
        for src, dst in pkg.files.items():
            data = members[src]
            transform = pkg.transforms.get(dst)
            outputs[dst] = transform(data) if transform else data
        for dst, (src, make) in pkg.derived.items():
            outputs[dst] = make(members[src])
        for lic in pkg.licenses:
            outputs[lic] = members[lic]
        packages.append(_write_package(out_dir, pkg.dest, outputs, pkg, tarball_sri=pkg.integrity))

    folium_outputs = {
        "leaflet.awesome.rotate.min.css": awesome_rotate_css(),
        "LICENSE.txt": _folium_license(),
    }
    packages.append(
        _write_package(
            out_dir,
            FOLIUM_DEST,
            folium_outputs,
            None,
            tarball_sri=None,
        )
    )
    _check_css_urls(out_dir)
    manifest: dict[str, object] = {
        "generator": "tools/vendor_map_assets.py",
        "folium": FOLIUM_VERSION,
        "packages": packages,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out_dir / "MANIFEST.json").write_text(text, encoding="utf-8")
    (out_dir / "README.md").write_text(_readme(packages), encoding="utf-8")
    return manifest


def _write_package(
    out_dir: Path,
    dest: str,
    outputs: dict[str, bytes],
    pkg: Package | None,
    tarball_sri: str | None,
) -> dict[str, object]:
    files: dict[str, str] = {}
    for rel in sorted(outputs):
        target = out_dir / dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(outputs[rel])
        files[rel] = hashlib.sha256(outputs[rel]).hexdigest()
    if pkg is None:
        return {
            "dir": dest,
            "source": f"folium {FOLIUM_VERSION} (generated; licence from the installed wheel)",
            "note": "fa-rotate-N classes for folium.Icon(angle=N); folium's own CSS, not on npm.",
            "files": files,
        }
    modified = sorted(set(pkg.transforms) | set(pkg.derived))
    return {
        "dir": dest,
        "source": f"npm {pkg.name}@{pkg.version}",
        "integrity": tarball_sri,
        "note": pkg.note,
        "modified": modified,
        "files": files,
    }


_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)")


def _check_css_urls(out_dir: Path) -> None:
    """Fail if any vendored stylesheet points at a file that was not vendored."""
    for css in sorted(out_dir.rglob("*.css")):
        for _, ref in _CSS_URL.findall(css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            if re.match(r"^([a-z]+:)?//", ref, flags=re.IGNORECASE):
                raise RuntimeError(f"{css}: external url({ref})")
            rel = posixpath.normpath(
                posixpath.join(
                    css.parent.relative_to(out_dir).as_posix(), ref.split("?")[0].split("#")[0]
                )
            )
            if not (out_dir / rel).is_file():
                raise RuntimeError(f"{css}: url({ref}) not vendored")


def _readme(packages: list[dict[str, object]]) -> str:
    lines = [
        "# Vendored map assets",
        "",
        "Generated by `python tools/vendor_map_assets.py`; do not edit by hand.",
        "",
        "Everything a folium 0.20.0 map (Leaflet, jQuery, Bootstrap, Font Awesome,",
        "Glyphicons, awesome-markers, MarkerCluster, Fullscreen, branca's d3 legend)",
        "loads from public CDNs by default, pinned to the versions folium references,",
        "so that maps work on offline intranets.  `qjgeo.mapview.offline` rewrites",
        "folium's CDN URLs to these files (served by Streamlit at `app/static/vendor/`)",
        "or inlines them into a self-contained HTML export.",
        "",
        "Each directory keeps its upstream licence file.  `MANIFEST.json` lists the",
        "npm tarball integrity of every package and the sha256 of every file.",
        "",
        "| directory | source | notes |",
        "| --- | --- | --- |",
    ]
    for p in packages:
        lines.append(f"| `{p['dir']}` | {p['source']} | {p['note']} |")
    lines.append("")
    return "\n".join(lines)


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary directory and compare with static/vendor",
    )
    parser.add_argument("--out", type=Path, default=VENDOR_DIR, help="target directory")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="qjgeo-vendor-") as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "vendor"
        work = tmp_path / "npm"
        staging.mkdir()
        work.mkdir()
        build(staging, work)
        if args.check:
            if _tree_digest(staging) != _tree_digest(args.out):
                print(f"{args.out} is out of date; run tools/vendor_map_assets.py", file=sys.stderr)
                return 1
            print(f"{args.out} is up to date")
            return 0
        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
