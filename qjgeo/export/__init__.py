"""Exports: static gap maps (PNG/PDF), interactive HTML, GIS data, the Excel report, briefs.

Every exporter is a pure function returning the file's bytes (or text for HTML), so the app
can offer them as download buttons and the command line can write them:

=========================================  ===============================================
:func:`~qjgeo.export.staticmap.gap_map_png`  gap map, PNG (300 dpi), A4/A3
:func:`~qjgeo.export.staticmap.gap_map_pdf`  gap map, PDF (vector, CJK font embedded)
:func:`~qjgeo.export.html.gap_map_html`      interactive map, one self-contained HTML file
:func:`~qjgeo.export.gis.gis_package`        GeoPackage / GeoJSON / Shapefile zip / CSV
:func:`~qjgeo.export.excel.excel_report`     Excel workbook (summary, matrix, gaps, ...)
:func:`~qjgeo.export.brief.township_brief_pdf`  one-page A4 brief of a township
=========================================  ===============================================

:func:`export_to_path` picks the exporter from ``what`` and the format from the file
extension, and writes the file atomically (the CLI's ``qjgeo export``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Final, Literal

from qjgeo import fileio
from qjgeo.catalog import Dataset
from qjgeo.export.errors import ExportError

__all__ = [
    "EXTENSIONS",
    "ExportError",
    "export_bytes",
    "export_files",
    "export_to_path",
    "resolve_township",
]

What = Literal["map", "html", "data", "report", "brief"]

#: File extensions each kind of export accepts (the format follows the extension).
EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "map": (".png", ".pdf"),
    "html": (".html", ".htm"),
    "data": (".gpkg", ".geojson", ".zip", ".csv"),
    "report": (".xlsx",),
    "brief": (".pdf", ".zip"),
}

_GIS_FMT: Final[dict[str, str]] = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".zip": "shp.zip",
    ".csv": "csv",
}


def _extension(what: str, out: str | Path) -> str:
    if what not in EXTENSIONS:
        raise ExportError(f"--what must be one of {', '.join(EXTENSIONS)}, got {what!r}")
    name = Path(out).name.lower()
    ext = Path(name).suffix
    if ext not in EXTENSIONS[what]:
        raise ExportError(
            f"{out}: cannot tell the format of a {what} export from the extension "
            f"{ext or '(none)'!r}; use one of {', '.join(EXTENSIONS[what])}"
        )
    return ext


def resolve_township(dataset: Dataset, township: str) -> str:
    """A township's 9-digit code from its code or its Chinese name.

    Raises
    ------
    ExportError
        Naming the known townships when ``township`` matches none.
    """
    if not dataset.has("township"):
        raise ExportError(f"dataset {dataset.info.id!r} has no township layer: not available")
    towns = dataset.layer("township")
    codes = towns["code9"].astype(str)
    if str(township) in set(codes):
        return str(township)
    by_name = towns[towns["name"].astype(str) == str(township)]
    if len(by_name) == 1:
        return str(by_name["code9"].iloc[0])
    known = ", ".join(f"{c} {n}" for c, n in zip(codes, towns["name"], strict=True))
    raise ExportError(f"no township {township!r}; known: {known}")


def export_bytes(what: What | str, dataset: Dataset, ext: str, **options: Any) -> bytes:
    """Produce one export in memory (the main file of :func:`export_files`)."""
    return export_files(what, dataset, ext, **options)[ext.lower()]


def export_files(
    what: What | str,
    dataset: Dataset,
    ext: str,
    *,
    facility_type: str = "childcare",
    township: str | None = None,
    base: Dataset | None = None,
    paper: str = "A4",
    orientation: str = "landscape",
    dpi: float = 300,
    layer: str = "villages_access",
    crs: str = "cgcs2000",
    graph: Any = None,
    lang: str = "zh",
    title: str | None = None,
    figure_no: str | None = None,
    catchments: Any = None,
) -> dict[str, bytes]:
    """Produce one export in memory: its file, and a PNG map's world file and ``.prj``.

    Parameters
    ----------
    what
        ``"map"``, ``"html"``, ``"data"``, ``"report"`` or ``"brief"``.
    dataset
        The dataset (a scenario applied, if any).
    ext
        The file extension choosing the format (see :data:`EXTENSIONS`).
    facility_type
        Facility layer id of the map, data or brief.
    township
        9-digit code or name: zooms nothing on the maps, selects the brief's township
        (``None`` with ``.zip``: one brief per township).
    base
        Baseline for the report's scenario-versus-base sheet.
    paper, orientation, dpi
        Page of the static map.
    layer
        Layer of the single-layer data formats (GeoJSON, CSV).
    crs
        CRS of the data export: ``"cgcs2000"`` (EPSG:4490, default), ``"cgcs2000-gk"``
        (EPSG:4547) or ``"wgs84"`` (:data:`qjgeo.export.gis.EXPORT_CRS`).
    graph
        Walking network for the distances (straight line × detour factor when ``None``).
    lang
        ``"zh"`` or ``"en"``: layer names and popup labels of the HTML map.
    title, figure_no
        Title and figure number of a map or brief (default titles when ``None``).
    catchments
        Isochrones (:func:`qjgeo.isochrones.isochrones`, optionally with a ``place`` column)
        drawn on the HTML map and written as the ``isochrones`` layer of a data export;
        refused for the other kinds.

    Returns
    -------
    dict
        ``{extension: content}``: the file (HTML encoded as UTF-8) under ``ext``; a PNG map
        also ``.pgw`` and ``.prj`` (:func:`~qjgeo.export.staticmap.gap_map_png_files`).

    Raises
    ------
    ExportError
        For an unknown ``what``, extension, township or a missing layer.
    """
    ext = ext.lower()
    _check_format(what, ext)
    if catchments is not None and what not in ("html", "data"):
        raise ExportError(
            f"等时圈只能导出到 html 或 data；catchments go into html and data exports, not {what}"
        )
    if what == "report":
        from qjgeo.export.excel import excel_report

        return {ext: excel_report(dataset, base=base, graph=graph)}
    if what == "brief":
        return {ext: _brief_bytes(dataset, ext, township, facility_type, graph=graph,
                                  title=title, figure_no=figure_no)}  # fmt: skip

    from qjgeo.export.staticmap import prepare_gap_results

    gaps, surface = prepare_gap_results(dataset, facility_type, graph=graph)
    if what == "map":
        kw = {"title": title, "figure_no": figure_no, "gaps": gaps, "surface": surface}
        return _map_bytes(dataset, facility_type, ext, paper, orientation, dpi, **kw)
    if what == "html":
        from qjgeo.export.html import gap_map_html

        html = gap_map_html(dataset, facility_type, gaps=gaps, surface=surface, lang=lang,
                            catchments=catchments)  # fmt: skip
        return {ext: html.encode("utf-8")}
    from qjgeo.export.gis import gis_package

    fmt = _GIS_FMT[ext]
    data = gis_package(dataset, facility_type, fmt=fmt, layer=layer, crs=crs, gaps=gaps,  # type: ignore[arg-type]
                       surface=surface, catchments=catchments)  # fmt: skip
    return {ext: data}


def _check_format(what: str, ext: str) -> None:
    """Refuse an unknown kind of export, or an extension the kind cannot be written as."""
    if what not in EXTENSIONS:
        raise ExportError(f"--what must be one of {', '.join(EXTENSIONS)}, got {what!r}")
    if ext not in EXTENSIONS[what]:
        raise ExportError(
            f"a {what} export cannot be {ext!r}; use one of {', '.join(EXTENSIONS[what])}"
        )


def _brief_bytes(
    dataset: Dataset,
    ext: str,
    township: str | None,
    facility_type: str,
    *,
    graph: Any,
    title: str | None = None,
    figure_no: str | None = None,
) -> bytes:
    """One township's brief (.pdf), or a zip of briefs (all townships, or the one given)."""
    from qjgeo.export.brief import township_brief_pdf
    from qjgeo.export.staticmap import default_facility_types, gaps_by_facility_type
    from qjgeo.indicators import evaluate

    if not dataset.has("township") or not len(dataset.layer("township")):
        raise ExportError(
            f"a brief is per township, and dataset {dataset.info.id!r} has no township layer"
        )
    if ext == ".pdf":
        if township is None:
            raise ExportError("a brief is per township: give --township CODE (or --out *.zip)")
        return township_brief_pdf(
            dataset, resolve_township(dataset, township), facility_type, graph=graph,
            title=title, figure_no=figure_no,
        )  # fmt: skip
    indicators = evaluate(dataset)
    gaps = gaps_by_facility_type(dataset, default_facility_types(dataset), graph=graph)
    codes = (
        [resolve_township(dataset, township)]
        if township is not None
        else [str(c) for c in dataset.layer("township")["code9"]]
    )
    names = dict(
        zip(
            dataset.layer("township")["code9"].astype(str),
            dataset.layer("township")["name"].astype(str),
            strict=True,
        )
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for code in codes:
            pdf = township_brief_pdf(
                dataset, code, facility_type, indicators=indicators, graph=graph,
                figure_no=figure_no, gaps=gaps,
            )  # fmt: skip
            zf.writestr(f"{code}_{names.get(code, code)}.pdf", pdf)
    return buf.getvalue()


def _map_bytes(
    dataset: Dataset,
    facility_type: str,
    ext: str,
    paper: str,
    orientation: str,
    dpi: float,
    **kw: Any,
) -> dict[str, bytes]:
    """The static gap map as PNG (with its world file and .prj) or PDF, by extension."""
    from qjgeo.export.staticmap import gap_map_pdf, gap_map_png_files

    if paper not in ("A4", "A3") or orientation not in ("landscape", "portrait"):
        raise ExportError(
            f"paper must be A4 or A3 and orientation landscape or portrait, got "
            f"{paper!r} / {orientation!r}"
        )
    kw.update(paper=paper, orientation=orientation)
    if ext == ".png":
        return gap_map_png_files(dataset, facility_type, dpi=dpi, **kw)
    return {ext: gap_map_pdf(dataset, facility_type, **kw)}


def _check_folder(out: str | Path) -> None:
    """Refuse an output file whose folder does not exist (before any work is done)."""
    folder = Path(out).parent
    if not folder.is_dir():
        raise ExportError(f"{out}: folder {folder} does not exist")


def write_atomic(out: str | Path, data: bytes) -> Path:
    """Write bytes to ``out`` through a temporary file in the same folder, then rename.

    A failure part-way leaves any existing file untouched and no partial file behind
    (:func:`qjgeo.fileio.write_atomic`).

    Raises
    ------
    ExportError
        If the folder of ``out`` does not exist.
    """
    _check_folder(out)
    return fileio.write_atomic(out, data)


def export_to_path(
    what: What | str,
    dataset: Dataset,
    out: str | Path,
    **options: Any,
) -> Path:
    """Write one export to a file, the format following the file's extension.

    Parameters
    ----------
    what
        ``"map"`` (.png/.pdf), ``"html"`` (.html), ``"data"`` (.gpkg/.geojson/.zip/.csv),
        ``"report"`` (.xlsx) or ``"brief"`` (.pdf, or .zip for every township).
    dataset
        The dataset (a scenario applied, if any).
    out
        The file to write (atomically: through a temporary file, then renamed).
    **options
        Passed to :func:`export_bytes` (``facility_type``, ``township``, ``base``, ``paper``,
        ``orientation``, ``dpi``, ``layer``, ``crs``, ``graph``, ``lang``, ``title``,
        ``figure_no``, ``catchments``). A PNG map gets its world file (``.pgw``) and ``.prj`` beside it.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ExportError
        For an unknown ``what`` or extension (listing the allowed ones), an unknown township
        or a missing layer.
    """
    ext = _extension(str(what), out)
    _check_folder(out)
    files = export_files(what, dataset, ext, **options)
    path = Path(out)
    for suffix, data in files.items():  # sidecars (a PNG's .pgw / .prj) first, the file last
        if suffix != ext:
            write_atomic(path.with_suffix(suffix), data)
    return write_atomic(out, files[ext])
