"""Safe file writing shared by scenarios, imports and exports.

Every file qjgeo writes for a planner (a scenario, an imported layer, the manifest, an export)
goes through :func:`write_atomic`: a failure part-way leaves the previous file untouched and no
partial file behind.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: Mode asked for new files; the user's umask takes its bits off (0644 under the usual 022).
FILE_MODE = 0o666


def write_atomic(path: str | Path, data: bytes | str, *, overwrite: bool = True) -> Path:
    """Write a file through a temporary file in the same folder, flushed to disk, then renamed.

    Parameters
    ----------
    path
        The file to write; its folder must exist.
    data
        The content; text is written as UTF-8.
    overwrite
        Replace an existing file; when false an existing file (even one that appears while
        writing) raises :class:`FileExistsError` and is left as it was.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is false.
    OSError
        If writing fails; the previous file is intact and the temporary file removed.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target}: already exists")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = write_new(temporary_path(target), payload)
    try:
        if not overwrite and target.exists():  # appeared while we were writing
            raise FileExistsError(f"{target}: already exists")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def temporary_path(target: Path, tag: str = "tmp") -> Path:
    """A fresh hidden name beside ``target`` (``.<name>.<random>.<tag>``) for writing it."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.{tag}")


def write_new(path: Path, payload: bytes) -> Path:
    """Create ``path`` (it must not exist) with ``payload``, flushed to disk.

    The file gets :data:`FILE_MODE` less the user's umask, like any file the user creates
    (``tempfile.mkstemp`` would make it private, 0600). A failure removes the partial file.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def fsync_file(path: Path) -> None:
    """Flush a file written by another library (GDAL, openpyxl …) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows: folders cannot be opened; NTFS journals renames itself
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process's file-creation mask (read without changing it where the OS allows)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc (macOS, Windows): read by setting, then restore
    os.umask(mask)
    return mask
