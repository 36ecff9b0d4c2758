"""Safe file writing shared by scenarios, imports and exports.

Every file qjgeo writes for a planner (a scenario, an imported layer, the manifest, an export)
goes through :func:`write_atomic`: a failure part-way leaves the previous file untouched and no
partial file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if not overwrite and target.exists():  # appeared while we were writing
            raise FileExistsError(f"{target}: already exists")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
