"""Guards for files that come from outside: size limits, archive checks, safe names and text.

Everything a planner uploads (or passes on the command line) goes through these checks before
any parser sees it:

* :data:`MAX_UPLOAD_BYTES` caps an upload; archives are also capped on their *unpacked* size,
  their compression ratio and their member count, so a zip bomb is refused before it is
  inflated.
* Archive members with absolute paths, drive letters or ``..`` parts ("zip slip") are refused;
  members are extracted by name into a fresh directory, never by the archive's own path.
* XML (KML, OSM) declaring entities is refused (billion-laughs guard; Python's expat does not
  fetch external entities).
* :func:`check_upload_name` reduces a browser-supplied name to a bare file name with a known
  extension: no path from a browser reaches the file system.
* Names are stored as the text the planner typed (``<script>`` included); every renderer must
  escape them with :func:`escape_html`; CSV/Excel exports pass cells through
  :func:`neutralise_formula` (both in :mod:`qjgeo.textsafety`, re-exported here).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Final
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from qjgeo.textsafety import escape_html as escape_html
from qjgeo.textsafety import neutralise_formula as neutralise_formula

#: Largest upload accepted, in bytes (50 MB).
MAX_UPLOAD_BYTES: Final[int] = 50 * 1024 * 1024
#: Largest total unpacked size of an archive (zip, KMZ, XLSX), in bytes (200 MB).
MAX_UNPACKED_BYTES: Final[int] = 200 * 1024 * 1024
#: Largest compression ratio (unpacked / packed) of any archive member.
MAX_COMPRESSION_RATIO: Final[float] = 100.0
#: Largest number of members in an archive.
MAX_ARCHIVE_MEMBERS: Final[int] = 2000
#: File name extensions the importer reads.
ALLOWED_EXTENSIONS: Final[tuple[str, ...]] = (
    ".csv",
    ".txt",
    ".tsv",
    ".xlsx",
    ".xlsm",
    ".geojson",
    ".json",
    ".kml",
    ".kmz",
    ".zip",
    ".gpkg",
    ".osm",
    ".xml",
)


class IngestError(ValueError):
    """A file cannot be imported at all; the message names the file and the problem.

    This is the only exception the importer raises for bad input. Row-level problems are not
    errors: they are rejections in the :class:`~qjgeo.ingest.report.ImportReport`.
    """


def check_upload_name(name: str) -> str:
    """Reduce a browser- or user-supplied file name to a safe bare name with a known extension.

    Parameters
    ----------
    name
        The name as given (may contain a path, backslashes, NUL bytes…).

    Returns
    -------
    str
        The last path component, e.g. ``"台账.xlsx"``; never a path.

    Raises
    ------
    IngestError
        If nothing usable is left or the extension is not one the importer reads.
    """
    if not isinstance(name, str) or "\x00" in name:
        raise IngestError(f"file name {name!r} is not usable")
    base = PureWindowsPath(PurePosixPath(name.strip()).name).name.strip()
    if base in {"", ".", ".."} or base.startswith("."):
        raise IngestError(f"file name {name!r} is not usable")
    suffix = Path(base).suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        raise IngestError(
            f"{base}: files of type {suffix or '(none)'!r} cannot be imported; "
            f"expected one of {', '.join(ALLOWED_EXTENSIONS)}"
        )
    return base


def check_size(data: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse data larger than ``max_bytes`` (or empty).

    Raises
    ------
    IngestError
        Naming the file, its size and the limit.
    """
    if len(data) > max_bytes:
        raise IngestError(
            f"{filename}: {len(data) / 1e6:.1f} MB is larger than the "
            f"{max_bytes / 1e6:.1f} MB upload limit"
        )
    if len(data) == 0:
        raise IngestError(f"{filename}: the file is empty")


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an archive member may not be extracted, or ``None`` if it is fine."""
    name = info.filename
    if "\x00" in name:
        return "contains a NUL byte"
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(name).drive or name.startswith(("/", "\\")):
        return "is an absolute path"
    if ".." in posix.parts:
        return "climbs out of the archive (..)"
    mode = (info.external_attr >> 16) & 0o170000
    if mode == 0o120000:
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def check_zip(
    archive: zipfile.ZipFile,
    filename: str,
    *,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
    max_members: int = MAX_ARCHIVE_MEMBERS,
) -> list[zipfile.ZipInfo]:
    """Check every member of an opened archive before anything is inflated.

    Parameters
    ----------
    archive
        The open archive.
    filename
        The archive's name, for messages.
    max_unpacked_bytes, max_ratio, max_members
        Limits on the total declared unpacked size, the per-member compression ratio and the
        member count.

    Returns
    -------
    list of zipfile.ZipInfo
        The file members (directories left out).

    Raises
    ------
    IngestError
        Naming the archive and the offending member.
    """
    infos = archive.infolist()
    if len(infos) > max_members:
        raise IngestError(f"{filename}: archive has {len(infos)} members (limit {max_members})")
    total = 0
    files = []
    for info in infos:
        problem = _member_problem(info)
        if problem:
            raise IngestError(f"{filename}: archive member {info.filename!r} {problem}; refused")
        if info.is_dir():
            continue
        total += info.file_size
        packed = max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and info.file_size / packed > max_ratio:
            raise IngestError(
                f"{filename}: archive member {info.filename!r} expands {info.file_size / packed:.0f}"
                f"-fold (limit {max_ratio:.0f}); refused as a possible zip bomb"
            )
        files.append(info)
    if total > max_unpacked_bytes:
        raise IngestError(
            f"{filename}: archive unpacks to {total / 1e6:.0f} MB "
            f"(limit {max_unpacked_bytes / 1e6:.0f} MB); refused"
        )
    return files


def open_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    """Open bytes as a zip archive, turning a corrupt archive into :class:`IngestError`."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(f"{filename}: not a readable zip archive ({exc})") from exc


def read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    filename: str,
    *,
    max_bytes: int = MAX_UNPACKED_BYTES,
) -> bytes:
    """Read one checked member, stopping if it inflates past its declared size or ``max_bytes``.

    Raises
    ------
    IngestError
        If the member is corrupt or larger than declared.
    """
    limit = min(info.file_size, max_bytes)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise IngestError(
            f"{filename}: archive member {info.filename!r} unreadable: {exc}"
        ) from exc
    if len(data) > limit:
        raise IngestError(
            f"{filename}: archive member {info.filename!r} is larger than declared; refused"
        )
    return data


def safe_extract_zip(
    data: bytes,
    dest_dir: Path,
    filename: str,
    *,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> list[Path]:
    """Extract a zip archive into ``dest_dir`` after checking every member.

    Members are written flat, under their base name only (a shapefile's parts sit side by side;
    folders inside the archive are dropped), so nothing can land outside ``dest_dir``.

    Parameters
    ----------
    data
        The archive bytes.
    dest_dir
        An existing, empty directory (e.g. a fresh temporary directory).
    filename
        The archive's name, for messages.
    max_unpacked_bytes, max_ratio
        See :func:`check_zip`.

    Returns
    -------
    list of pathlib.Path
        The extracted files.

    Raises
    ------
    IngestError
        For a corrupt archive, a member climbing out of the archive, an absolute path, a zip
        bomb, or two members with the same base name.
    """
    archive = open_zip(data, filename)
    with archive:
        infos = check_zip(
            archive, filename, max_unpacked_bytes=max_unpacked_bytes, max_ratio=max_ratio
        )
        dest = Path(dest_dir).resolve()
        written: list[Path] = []
        seen: set[str] = set()
        for info in infos:
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if not base or base.startswith(".") or "__MACOSX" in info.filename:
                continue
            if base.lower() in seen:
                raise IngestError(
                    f"{filename}: two archive members are named {base!r}; keep one data set "
                    "per archive"
                )
            seen.add(base.lower())
            target = (dest / base).resolve()
            if target.parent != dest:
                raise IngestError(f"{filename}: archive member {info.filename!r} refused")
            target.write_bytes(read_member(archive, info, filename))
            written.append(target)
    return written


def refuse_xml_entities(data: bytes, filename: str) -> None:
    """Refuse XML that declares a DTD or entities (billion laughs, external entities).

    The document is read with ``defusedxml`` up to its root element -- a DTD can only come
    before it -- so the check costs nothing on a large file and sees through any encoding
    (UTF-16 included).

    Raises
    ------
    IngestError
        If the document declares a DOCTYPE or entities, or is not XML at all.
    """
    try:
        for _ in DefusedET.iterparse(io.BytesIO(data), events=("start",), forbid_dtd=True):
            return  # the root element: no DTD before it
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise IngestError(
            f"{filename}: XML declaring entities or a DTD (<!DOCTYPE …>) is refused; "
            "含实体或 DTD 声明的 XML 文件不予导入"
        ) from exc
    except ParseError as exc:
        raise IngestError(f"{filename}: not well-formed XML ({exc}); 不是格式正确的 XML") from exc


def parse_xml(data: bytes, filename: str) -> Element:
    """Parse an XML document with ``defusedxml`` (no DTD, no entities), naming the file on error.

    Raises
    ------
    IngestError
        If the document declares a DTD or entities, or is not well-formed.
    """
    refuse_xml_entities(data, filename)
    try:
        root: Element = DefusedET.fromstring(data, forbid_dtd=True)
    except ParseError as exc:
        raise IngestError(f"{filename}: not well-formed XML ({exc}); 不是格式正确的 XML") from exc
    return root


#: Leading bytes of binary formats, and what to call them in a message.
_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"PK\x03\x04", "a ZIP archive (Excel .xlsx, KMZ or zipped shapefile)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls / Office 97 file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "a SQLite database or GeoPackage"),
)
#: Formats that are ZIP archives, and formats that are text.
_ZIP_FORMATS: Final[frozenset[str]] = frozenset({"xlsx", "kmz", "shapefile"})
_TEXT_FORMATS: Final[frozenset[str]] = frozenset({"csv", "geojson", "kml", "osm"})


def check_content_kind(data: bytes, filename: str, fmt: str) -> None:
    """Refuse a file whose content is plainly not what its extension says.

    Raises
    ------
    IngestError
        E.g. an Excel workbook renamed ``.csv``, or a text file named ``.xlsx``.
    """
    found = next((what for magic, what in _MAGIC if data.startswith(magic)), None)
    if fmt in _TEXT_FORMATS and found is not None:
        raise IngestError(
            f"{filename}: the extension says {fmt}, but the file is {found}; "
            f"save or rename it with the right extension（文件扩展名与内容不符）"
        )
    if fmt in _ZIP_FORMATS and not data.startswith(b"PK"):
        what = found or "not a ZIP archive"
        raise IngestError(
            f"{filename}: the extension says {fmt}, but the file is {what}; "
            "it may be truncated or renamed（文件扩展名与内容不符或文件已损坏）"
        )
    if fmt == "gpkg" and not data.startswith(b"SQLite format 3"):
        raise IngestError(
            f"{filename}: not a GeoPackage (no SQLite header); it may be truncated or renamed"
            "（不是有效的 GeoPackage 文件）"
        )
