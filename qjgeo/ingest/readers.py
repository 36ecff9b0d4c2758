"""Read a planner's ledger (台账) into a :class:`RawTable`: every cell as text, rows numbered.

Formats, chosen by the file name's extension:

=====================  ============================================================
``.csv .txt .tsv``     encoding detected: UTF-8 with BOM, UTF-8, then GB18030 (a
                       superset of GBK and GB2312), then charset-normalizer's guess;
                       delimiter ``, ; tab |`` from the header line
``.xlsx .xlsm``        the first sheet holding data (or the one named); formulas read
                       as their cached values
``.geojson .json``     any GeoJSON; geometry kept
``.kml .kmz``          every folder of the document; geometry kept
``.zip``               a zipped shapefile; text decoded as its ``.cpg`` says, else as
                       the ``.dbf`` language byte says (GBK), else UTF-8 if that
                       decodes, else GB18030
``.gpkg``              a GeoPackage layer (name it when there are several)
``.osm .xml``          OSM XML, through osmnx, filtered by the layer's OSM tags
                       (:data:`qjgeo.osm_import.LAYER_TAGS`, shared with the OSM
                       dataset import); layers no OSM tag identifies (儿童之家,
                       家庭教育指导站, 未成年人保护工作站) are refused
=====================  ============================================================

Row numbers are what a planner sees: for CSV the line number in the file with the header as
line 1 (lines before the header, e.g. a title row, keep their numbers); for spreadsheets the
sheet's row number; for geographic formats the feature's position (1 = first feature).
Wholly empty rows are skipped and counted, never silently lost.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import tempfile
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.crs import WGS84_CRS
from qjgeo.ingest.fields import header_matches
from qjgeo.ingest.safety import (
    MAX_UPLOAD_BYTES,
    IngestError,
    check_content_kind,
    check_size,
    check_upload_name,
    check_zip,
    open_zip,
    parse_xml,
    read_member,
    refuse_xml_entities,
    safe_extract_zip,
)
from qjgeo.osm_tags import LAYER_TAGS, NO_OSM_TAG_LAYERS, describe_tags

#: How many leading rows are searched for the header row.
HEADER_SEARCH_ROWS: Final[int] = 20

_EXT_FORMAT: Final[dict[str, str]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".kmz": "kmz",
    ".zip": "shapefile",
    ".gpkg": "gpkg",
    ".osm": "osm",
    ".xml": "osm",
}
#: DBF language-driver bytes meaning a Chinese code page (936 = GBK).
_DBF_GBK_LDIDS: Final[frozenset[int]] = frozenset({0x4D, 0x7A})

#: A reader's note to the planner: (English, Chinese).
Note = tuple[str, str]


@dataclass(frozen=True, eq=False)
class RawTable:
    """A ledger as read: every cell as text, with the rows' own numbers.

    Attributes
    ----------
    filename
        The file's bare name (as checked by :func:`~qjgeo.ingest.safety.check_upload_name`).
    format
        ``csv``, ``xlsx``, ``geojson``, ``kml``, ``kmz``, ``shapefile``, ``gpkg`` or ``osm``.
    rows
        One row per non-empty data row; columns as in the file (blank headers become
        ``column_3``, repeated headers ``名称_2``); cells are text, ``""`` when blank.
    row_numbers
        For each row, its number in the file (see the module docs).
    encoding
        The text encoding found (``utf-8``, ``utf-8-sig``, ``gb18030``, …), ``None`` where the
        format fixes it.
    geometry
        The features' geometries in lon/lat (index aligned with ``rows``), or ``None`` for
        tables; entries may be ``None``.
    empty_rows
        How many wholly empty rows were skipped.
    sheet
        The sheet or layer read, if the file had several.
    notes, notes_zh
        What the reader decided on the planner's behalf (header line, encoding guesses…), in
        English and, one for one, in Chinese.
    """

    filename: str
    format: str
    rows: pd.DataFrame
    row_numbers: np.ndarray
    encoding: str | None = None
    geometry: gpd.GeoSeries | None = None
    empty_rows: int = 0
    sheet: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    notes_zh: tuple[str, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in file order."""
        return tuple(str(c) for c in self.rows.columns)

    def __len__(self) -> int:
        return len(self.rows)


def read_table(
    source: bytes | Path,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    sheet: str | None = None,
    layer_id: str | None = None,
) -> RawTable:
    """Read a ledger file (CSV, Excel, GeoJSON, KML/KMZ, zipped shapefile, GeoPackage, OSM).

    Parameters
    ----------
    source
        The file's bytes (an upload) or a path (the command line).
    filename
        The name the planner gave the file; its extension picks the reader. Defaults to the
        path's name. Only its last component is used; it never becomes a path.
    max_bytes
        Upload size limit in bytes.
    sheet
        The sheet (Excel) or layer (GeoPackage, shapefile archive with several) to read.
    layer_id
        The qjgeo layer being imported; needed only for OSM XML (to pick features by tag).

    Returns
    -------
    RawTable
        The rows as text, with their numbers in the file.

    Raises
    ------
    IngestError
        If the file is too big, of an unknown type, unreadable, unsafe, or holds no header.
    """
    if isinstance(source, bytes | bytearray):
        name = check_upload_name(filename or "upload.csv")
        data = bytes(source)
    else:
        path = Path(source)
        name = check_upload_name(filename or path.name)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise IngestError(f"{path}: cannot read the file ({exc.strerror})") from exc
        if size > max_bytes:
            raise IngestError(
                f"{name}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.1f} MB limit"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"{path}: cannot read the file ({exc.strerror})") from exc
    check_size(data, name, max_bytes)
    fmt = _EXT_FORMAT[Path(name).suffix.lower()]
    check_content_kind(data, name, fmt)
    try:
        if fmt == "csv":
            return _read_csv(data, name)
        if fmt == "xlsx":
            return _read_xlsx(data, name, sheet)
        if fmt == "osm":
            return _read_osm(data, name, layer_id)
        return _read_geo(data, name, fmt, sheet)
    except IngestError:
        raise
    except Exception as exc:  # a reader library failing in a way not foreseen: name the file
        raise IngestError(
            f"{name}: cannot be read as {fmt} ({type(exc).__name__}: {exc}); 文件无法读取"
        ) from exc


# --- text tables -----------------------------------------------------------------------------


def decode_text(data: bytes, filename: str) -> tuple[str, str]:
    """Decode a text file, trying UTF-8 (with or without BOM), then GB18030, then a guess.

    Parameters
    ----------
    data
        The raw bytes.
    filename
        For messages.

    Returns
    -------
    tuple of str
        The text and the encoding used (``utf-8-sig``, ``utf-8``, ``utf-16``, ``gb18030`` or
        charset-normalizer's name).

    Raises
    ------
    IngestError
        If no encoding decodes the bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:2_000_000]).best()
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise IngestError(f"{filename}: cannot tell the text encoding (tried UTF-8, GBK/GB18030)")


def _pick_delimiter(text: str, filename: str) -> str:
    if filename.lower().endswith(".tsv"):
        return "\t"
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
    return ","


def _read_csv(data: bytes, filename: str) -> RawTable:
    text, encoding = decode_text(data, filename)
    text = text.replace("\x00", "")
    delimiter = _pick_delimiter(text, filename)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records: list[list[str]] = []
    numbers: list[int] = []
    last_line = 0
    try:
        for record in reader:
            records.append(record)
            numbers.append(last_line + 1)
            last_line = reader.line_num
    except csv.Error as exc:
        raise IngestError(f"{filename}: line {last_line + 1}: not readable as CSV ({exc})") from exc
    table = _table_from_records(records, numbers, filename, "csv", "line")
    return RawTable(
        filename=filename,
        format="csv",
        rows=table.rows,
        row_numbers=table.row_numbers,
        encoding=encoding,
        empty_rows=table.empty_rows,
        notes=table.notes,
        notes_zh=table.notes_zh,
    )


def _table_from_records(
    records: list[list[str]], numbers: list[int], filename: str, fmt: str, unit: str
) -> RawTable:
    """Find the header among the first rows and build the rows (numbers kept)."""
    cleaned = [[cell.strip() for cell in rec] for rec in records]

    header_at = None
    first_nonempty = None
    for i, rec in enumerate(cleaned[: HEADER_SEARCH_ROWS * 5]):
        filled = sum(1 for c in rec if c)
        if filled and first_nonempty is None:
            first_nonempty = i
        if filled >= 2 and header_at is None:
            header_at = i
            if header_matches(rec) > 0:
                break
        elif filled >= 2 and header_matches(rec) >= 2:
            header_at = i  # a title block above: this row names known columns
            break
        if first_nonempty is not None and i - first_nonempty >= HEADER_SEARCH_ROWS:
            break
    if header_at is None:
        header_at = first_nonempty
    if header_at is None:
        raise IngestError(f"{filename}: no header row found (the file holds no data)")
    notes: list[Note] = []
    if header_at != 0 and any(any(c for c in rec) for rec in cleaned[:header_at]):
        notes.append(
            (
                f"header read from {unit} {numbers[header_at]}; rows above it skipped",
                f"表头取自第 {numbers[header_at]} 行，其上各行已跳过",
            )
        )
    header = _unique_headers(cleaned[header_at])
    body = cleaned[header_at + 1 :]
    body_numbers = numbers[header_at + 1 :]
    width = max([len(header), *(len(r) for r in body)]) if body else len(header)
    if width > len(header):
        header = _unique_headers([*header, *([""] * (width - len(header)))])
        notes.append(
            (
                f"some rows have more cells than the header; extra cells kept as {header[-1]}…",
                f"部分行的单元格多于表头，多出的单元格保存为 {header[-1]}…",
            )
        )
    keep = [i for i, r in enumerate(body) if any(r)]
    empty = len(body) - len(keep)
    padded = [body[i] + [""] * (width - len(body[i])) for i in keep]
    rows = pd.DataFrame(padded, columns=header, dtype=object) if padded else _empty(header)
    return RawTable(
        filename=filename,
        format=fmt,
        rows=rows,
        row_numbers=np.asarray([body_numbers[i] for i in keep], dtype=np.int64),
        empty_rows=empty,
        notes=tuple(en for en, _ in notes),
        notes_zh=tuple(zh for _, zh in notes),
    )


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _unique_headers(header: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = " ".join(str(raw).split()) or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
            while name in seen:
                name = f"{name}_"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def cell_text(value: Any) -> str:
    """One cell as text: blanks as ``""``, whole floats without ``.0``, dates as ISO text.

    Parameters
    ----------
    value
        A value as a reader returned it.

    Returns
    -------
    str
        The text a planner would see in the cell.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes, filename: str, sheet: str | None) -> RawTable:
    import openpyxl

    _check_workbook_parts(data, filename)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise IngestError(f"{filename}: not a readable Excel workbook ({exc})") from exc
    try:
        return _read_sheets(book, filename, sheet)
    except IngestError:
        raise
    except Exception as exc:  # a sheet is parsed only now (read-only mode): broken XML, zlib …
        raise IngestError(
            f"{filename}: not a readable Excel workbook ({type(exc).__name__}: {exc}); "
            "Excel 文件已损坏或格式不正确"
        ) from exc
    finally:
        book.close()


def _check_workbook_parts(data: bytes, filename: str) -> None:
    """Check the archive and every XML part of a workbook (no DTD or entities) before openpyxl."""
    with open_zip(data, filename) as archive:
        for info in check_zip(archive, filename):
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                part = read_member(archive, info, filename)
                refuse_xml_entities(part, f"{filename} ({info.filename})")


def _read_sheets(book: Any, filename: str, sheet: str | None) -> RawTable:
    """The first sheet with data (or the sheet asked for) as a table."""
    names = list(book.sheetnames)
    if sheet is not None and sheet not in names:
        raise IngestError(f"{filename}: no sheet {sheet!r} (sheets: {', '.join(names) or 'none'})")
    candidates = [sheet] if sheet is not None else names
    for sheet_name in candidates:
        ws = book[sheet_name]
        records: list[list[str]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for values in ws.iter_rows(min_row=1, values_only=True):
                records.append([cell_text(v) for v in values])
        if not any(any(r) for r in records):
            continue
        numbers = list(range(1, len(records) + 1))
        table = _table_from_records(records, numbers, filename, "xlsx", "sheet row")
        notes, notes_zh = table.notes, table.notes_zh
        if len(names) > 1:
            notes = (f"sheet {sheet_name!r} read (of {', '.join(names)})", *notes)
            notes_zh = (f"读取工作表“{sheet_name}”（共有：{'、'.join(names)}）", *notes_zh)
        return RawTable(
            filename=filename,
            format="xlsx",
            rows=table.rows,
            row_numbers=table.row_numbers,
            empty_rows=table.empty_rows,
            sheet=sheet_name,
            notes=notes,
            notes_zh=notes_zh,
        )
    raise IngestError(f"{filename}: the workbook holds no data")


# --- geographic formats ----------------------------------------------------------------------


def _frame_to_table(
    frame: pd.DataFrame, filename: str, fmt: str, notes: list[Note], sheet: str | None = None
) -> RawTable:
    """Turn a (Geo)DataFrame read by pyogrio/osmnx into a RawTable (attributes as text)."""
    geometry: gpd.GeoSeries | None = None
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = frame.geometry
        if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
            try:
                geoms = geoms.to_crs(WGS84_CRS)
            except Exception as exc:  # pyproj raises several types
                raise IngestError(
                    f"{filename}: cannot convert from {geoms.crs.to_string()} to lon/lat ({exc})"
                ) from exc
            source = frame.crs.to_string()
            notes.append(
                (
                    f"geometry converted from {source} to WGS84 lon/lat",
                    f"几何已从 {source} 转换为 WGS84 经纬度",
                )
            )
        geometry = gpd.GeoSeries(np.asarray(geoms.array), crs=WGS84_CRS).reset_index(drop=True)
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    else:
        attrs = pd.DataFrame(frame)
    header = _unique_headers([str(c) for c in attrs.columns])
    cells = {
        new: pd.Series(
            [cell_text(v) for v in attrs.iloc[:, i].astype(object).tolist()], dtype=object
        )
        for i, new in enumerate(header)
    }
    rows = pd.DataFrame(cells) if header else pd.DataFrame(index=range(len(attrs)))
    rows = rows.reset_index(drop=True)
    numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
    has_geom = (
        ~(geometry.isna() | geometry.is_empty).to_numpy()
        if geometry is not None
        else np.zeros(len(rows), dtype=bool)
    )
    has_attr = (
        (rows != "").any(axis=1).to_numpy() if len(rows.columns) else np.zeros(len(rows), bool)
    )
    keep = has_geom | has_attr
    empty = int((~keep).sum())
    if empty:
        rows = rows.loc[keep].reset_index(drop=True)
        numbers = numbers[keep]
        if geometry is not None:
            geometry = geometry.loc[keep].reset_index(drop=True)
    return RawTable(
        filename=filename,
        format=fmt,
        rows=rows,
        row_numbers=numbers,
        geometry=geometry,
        empty_rows=empty,
        sheet=sheet,
        notes=tuple(en for en, _ in notes),
        notes_zh=tuple(zh for _, zh in notes),
    )


def _read_ogr(path: Path, filename: str, layer: str | None, encoding: str | None) -> Any:
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ValueError…
        raise IngestError(f"{filename}: not readable ({exc})") from exc


def _list_layers(path: Path, filename: str) -> list[str]:
    import pyogrio

    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises several error types
        raise IngestError(f"{filename}: not readable ({exc})") from exc


def _read_geo(data: bytes, filename: str, fmt: str, sheet: str | None) -> RawTable:
    notes: list[Note] = []
    with tempfile.TemporaryDirectory(prefix="qjgeo-import-") as tmp:
        tmp_dir = Path(tmp)
        if fmt == "shapefile":
            return _read_shapefile_zip(data, filename, tmp_dir, sheet)
        if fmt == "kmz":
            data = _kml_from_kmz(data, filename)
            fmt_ext = ".kml"
        else:
            fmt_ext = {"geojson": ".geojson", "kml": ".kml", "gpkg": ".gpkg"}[fmt]
        if fmt in {"kml", "kmz"}:
            refuse_xml_entities(data, filename)
            return _frame_to_table(parse_kml(data, filename), filename, fmt, notes)
        # The upload is written under a fixed name: the planner's file name never becomes a path.
        path = tmp_dir / f"upload{fmt_ext}"
        path.write_bytes(data)
        layers = _list_layers(path, filename)
        if not layers:
            raise IngestError(f"{filename}: holds no layers")
        chosen = _choose_layer(layers, sheet, filename)
        frame = _read_ogr(path, filename, chosen, None)
        return _frame_to_table(frame, filename, fmt, notes, chosen if len(layers) > 1 else None)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kml_coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for chunk in (text or "").split():
        parts = chunk.split(",")
        if len(parts) >= 2:
            try:
                out.append((float(parts[0]), float(parts[1])))
            except ValueError:
                continue
    return out


def _kml_geometry(element: ET.Element) -> shapely.Geometry | None:
    """Shapely geometry of a KML geometry element (Point, LineString, Polygon, MultiGeometry)."""
    kind = _local(element.tag)
    if kind == "Point":
        coords = _kml_coords(
            next((e.text for e in element.iter() if _local(e.tag) == "coordinates"), "")
        )
        return shapely.Point(coords[0]) if coords else None
    if kind in {"LineString", "LinearRing"}:
        coords = _kml_coords(
            next((e.text for e in element.iter() if _local(e.tag) == "coordinates"), "")
        )
        return shapely.LineString(coords) if len(coords) >= 2 else None
    if kind == "Polygon":
        rings: dict[str, list[list[tuple[float, float]]]] = {"outer": [], "inner": []}
        for boundary in element:
            which = "outer" if _local(boundary.tag) == "outerBoundaryIs" else "inner"
            for e in boundary.iter():
                if _local(e.tag) == "coordinates":
                    coords = _kml_coords(e.text)
                    if len(coords) >= 3:
                        rings[which].append(coords)
        if not rings["outer"]:
            return None
        return shapely.Polygon(rings["outer"][0], rings["inner"])
    if kind == "MultiGeometry":
        parts = [g for g in (_kml_geometry(child) for child in element) if g is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else shapely.GeometryCollection(parts)
    return None


_KML_GEOMETRIES: Final[frozenset[str]] = frozenset(
    {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}
)


def parse_kml(data: bytes, filename: str) -> gpd.GeoDataFrame:
    """Read the placemarks of a KML document: name, description, ExtendedData, geometry.

    Parsed with the standard library (no entity expansion; entity declarations are refused
    beforehand), because GDAL's LIBKML driver mangles Chinese ExtendedData field names.

    Parameters
    ----------
    data
        The KML bytes.
    filename
        For messages.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per placemark (``name``, ``description``, ``folder``, extended data fields),
        WGS84.

    Raises
    ------
    IngestError
        If the document is not XML or holds no placemark.
    """
    root = parse_xml(data, filename)
    records: list[dict[str, str]] = []
    geoms: list[shapely.Geometry | None] = []

    def walk(node: ET.Element, folder: str) -> None:
        for child in node:
            kind = _local(child.tag)
            if kind in {"Folder", "Document"}:
                name = next((c.text or "" for c in child if _local(c.tag) == "name"), "")
                walk(child, name if kind == "Folder" else folder)
            elif kind == "Placemark":
                record = {"name": "", "description": "", "folder": folder}
                geom = None
                for part in child:
                    tag = _local(part.tag)
                    if tag in {"name", "description"}:
                        record[tag] = (part.text or "").strip()
                    elif tag == "ExtendedData":
                        for item in part.iter():
                            itag = _local(item.tag)
                            if itag == "Data" and item.get("name"):
                                value = next(
                                    (v.text or "" for v in item if _local(v.tag) == "value"), ""
                                )
                                record[str(item.get("name"))] = value.strip()
                            elif itag == "SimpleData" and item.get("name"):
                                record[str(item.get("name"))] = (item.text or "").strip()
                    elif tag in _KML_GEOMETRIES:
                        geom = _kml_geometry(part)
                records.append(record)
                geoms.append(geom)

    walk(root, "")
    if not records:
        raise IngestError(f"{filename}: the KML document holds no placemarks")
    frame = pd.DataFrame.from_records(records).fillna("")
    if not (frame["folder"] != "").any():
        frame = frame.drop(columns="folder")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84_CRS), crs=WGS84_CRS)


def _choose_layer(layers: list[str], wanted: str | None, filename: str) -> str:
    if wanted is not None:
        if wanted not in layers:
            raise IngestError(f"{filename}: no layer {wanted!r} (layers: {', '.join(layers)})")
        return wanted
    if len(layers) > 1:
        raise IngestError(
            f"{filename}: holds {len(layers)} layers ({', '.join(layers)}); choose one"
        )
    return layers[0]


def list_sublayers(source: bytes | Path, filename: str | None = None) -> list[str]:
    """The sheets or layers in a workbook, GeoPackage or shapefile archive (to let a planner pick).

    Parameters
    ----------
    source
        The file's bytes or path.
    filename
        Its name (picks the format).

    Returns
    -------
    list of str
        Sheet or layer names; ``[]`` for single-table formats.

    Raises
    ------
    IngestError
        If the file is unreadable or unsafe.
    """
    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    name = check_upload_name(filename or (Path(source).name if isinstance(source, Path) else ""))
    check_size(data, name)
    fmt = _EXT_FORMAT[Path(name).suffix.lower()]
    if fmt == "xlsx":
        import openpyxl

        with open_zip(data, name) as archive:
            check_zip(archive, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        except Exception as exc:  # openpyxl raises many types
            raise IngestError(f"{name}: not a readable Excel workbook ({exc})") from exc
        names = list(book.sheetnames)
        book.close()
        return names
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory(prefix="qjgeo-import-") as tmp:
            path = Path(tmp) / "upload.gpkg"
            path.write_bytes(data)
            return _list_layers(path, name)
    if fmt == "shapefile":
        with tempfile.TemporaryDirectory(prefix="qjgeo-import-") as tmp:
            files = safe_extract_zip(data, Path(tmp), name)
            return sorted(p.stem for p in files if p.suffix.lower() == ".shp")
    return []


def _kml_from_kmz(data: bytes, filename: str) -> bytes:
    with open_zip(data, filename) as archive:
        infos = check_zip(archive, filename)
        kmls = [i for i in infos if i.filename.lower().endswith(".kml")]
        if not kmls:
            raise IngestError(f"{filename}: the KMZ archive holds no .kml document")
        doc = next((i for i in kmls if i.filename.lower().endswith("doc.kml")), kmls[0])
        return read_member(archive, doc, filename)


def _dbf_encoding(dbf: Path) -> tuple[str, Note]:
    """Guess a DBF's text encoding when there is no .cpg: language byte, UTF-8, GB18030."""
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] in _DBF_GBK_LDIDS:
        return "gb18030", ("the .dbf language byte says GBK", ".dbf 的语言标记为 GBK")
    try:
        raw[32:].decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030", (
            "no .cpg and not UTF-8: read as GBK/GB18030",
            "无 .cpg 文件且不是 UTF-8：按 GBK/GB18030 读取",
        )
    return "utf-8", ("no .cpg: read as UTF-8", "无 .cpg 文件：按 UTF-8 读取")


_CPG_CODECS: Final[dict[str, str]] = {
    "936": "gb18030",
    "cp936": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "65001": "utf-8",
    "utf8": "utf-8",
    "utf-8": "utf-8",
}


def _read_shapefile_zip(data: bytes, filename: str, tmp_dir: Path, wanted: str | None) -> RawTable:
    files = safe_extract_zip(data, tmp_dir, filename)
    shps = sorted(p for p in files if p.suffix.lower() == ".shp")
    if not shps:
        raise IngestError(f"{filename}: the archive holds no .shp file")
    stems = [p.stem for p in shps]
    chosen = _choose_layer(stems, wanted, filename)
    shp = shps[stems.index(chosen)]
    siblings = {p.suffix.lower(): p for p in files if p.stem == shp.stem}
    for part, what in ((".dbf", "attribute"), (".shx", "index")):
        if part not in siblings:
            raise IngestError(
                f"{filename}: {shp.name} has no {part} ({what}) file beside it; zip all the "
                "shapefile's parts (.shp .shx .dbf .prj .cpg)"
            )
    notes: list[Note] = []
    if ".cpg" in siblings:
        declared = siblings[".cpg"].read_bytes().decode("ascii", "replace").strip()
        encoding = _CPG_CODECS.get(declared.lower().replace(" ", ""), declared)
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding, (why, why_zh) = _dbf_encoding(siblings[".dbf"])
            notes.append(
                (
                    f".cpg names an unknown encoding {declared!r}; {why}",
                    f".cpg 文件给出的编码“{declared}”无法识别；{why_zh}",
                )
            )
        else:
            notes.append(
                (
                    f"text read as {encoding} (from the .cpg file)",
                    f"文字按 {encoding} 读取（依据 .cpg 文件）",
                )
            )
    else:
        encoding, why_note = _dbf_encoding(siblings[".dbf"])
        notes.append(why_note)
    frame = _read_ogr(shp, filename, None, encoding)
    table = _frame_to_table(frame, filename, "shapefile", notes, chosen if len(stems) > 1 else None)
    return RawTable(
        filename=table.filename,
        format=table.format,
        rows=table.rows,
        row_numbers=table.row_numbers,
        encoding=encoding,
        geometry=table.geometry,
        empty_rows=table.empty_rows,
        sheet=table.sheet,
        notes=table.notes,
        notes_zh=table.notes_zh,
    )


def _read_osm(data: bytes, filename: str, layer_id: str | None) -> RawTable:
    refuse_xml_entities(data, filename)
    import osmnx

    if layer_id in NO_OSM_TAG_LAYERS:
        raise IngestError(f"{filename}: OSM has no tag for {layer_id}; import a ledger instead")
    if layer_id not in LAYER_TAGS:
        known = ", ".join(LAYER_TAGS)
        raise IngestError(
            f"{filename}: OSM XML needs the target layer to pick features (one of {known})"
        )
    tags: dict[str, bool | str | list[str]] = {
        key: list(values) if isinstance(values, list) else values
        for key, values in LAYER_TAGS[layer_id].items()
    }
    with tempfile.TemporaryDirectory(prefix="qjgeo-import-") as tmp:
        path = Path(tmp) / "upload.osm"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = osmnx.features_from_xml(path, tags=tags)
        except Exception as exc:  # osmnx raises InsufficientResponseError, ParseError…
            message = str(exc) or type(exc).__name__
            if "no matching features" in message.lower() or "insufficient" in message.lower():
                raise IngestError(
                    f"{filename}: no {layer_id} features found in the OSM file"
                ) from exc
            raise IngestError(f"{filename}: not readable as OSM XML ({message})") from exc
    frame = frame.reset_index()
    if {"element", "id"} <= set(frame.columns):
        frame["osm_id"] = frame["element"].astype(str) + "/" + frame["id"].astype(str)
        frame = frame.drop(columns=["element", "id"])
    keep = [c for c in frame.columns if c in {"name", "osm_id", "geometry", "capacity"}]
    keep += [c for c in frame.columns if c not in keep and not str(c).startswith("nodes")]
    frame = gpd.GeoDataFrame(frame[keep], geometry="geometry", crs=frame.crs)
    tags_text = describe_tags(layer_id)
    note = (f"OSM features tagged {tags_text}", f"OSM 中带有标签 {tags_text} 的要素")
    return _frame_to_table(frame, filename, "osm", [note])
