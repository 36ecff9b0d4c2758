"""One writer at a time per folder: an exclusive, cross-platform lock on a dataset or scenario folder.

Every write to a dataset (an import, its undo, a village or township update, a monitoring
record, an OSM import into an existing folder) and every scenario save runs inside
:func:`folder_lock`. A second writer -- another app session, the CLI, a colleague on the
shared drive -- waits for the first (up to ``timeout_s``) and then reads the folder afresh,
so its change lands on top of the first one instead of overwriting it.

The lock is an operating-system lock held on ``<folder>/.qjgeo.lock`` through the
``filelock`` library (``flock`` on POSIX, ``msvcrt.locking`` on Windows). The kernel drops it
when the holding process dies, so a killed writer never leaves a folder locked; the lock
file itself stays and is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import filelock

from qjgeo.fileio import FILE_MODE, current_umask

__all__ = ["DEFAULT_WAIT_S", "LOCK_NAME", "FolderBusyError", "folder_lock", "try_folder_lock"]

#: The lock file inside a locked folder.
LOCK_NAME: Final[str] = ".qjgeo.lock"
#: How long a writer waits for another one to finish before giving up (seconds).
DEFAULT_WAIT_S: Final[float] = 120.0


class FolderBusyError(RuntimeError):
    """Another writer held the folder for longer than the wait allowed.

    Attributes
    ----------
    message_zh
        The same message in Chinese.
    """

    def __init__(self, folder: Path, waited_s: float) -> None:
        super().__init__(
            f"{folder}: another qjgeo session or command is writing this folder; gave up "
            f"after waiting {waited_s:g} s. Nothing was changed; try again when it has finished."
        )
        self.message_zh = (
            f"{folder}：另一个 qjgeo 会话或命令正在写入该目录，等待 {waited_s:g} 秒后放弃。"
            "未作任何更改，请待其完成后重试。"
        )


def _lock(folder: Path) -> filelock.FileLock:
    # one lock object per path and process: re-entrant within a thread, exclusive between
    # threads (each thread opens its own descriptor) and between processes
    return filelock.FileLock(
        str(folder / LOCK_NAME),
        is_singleton=True,
        mode=FILE_MODE & ~current_umask(),
        thread_local=True,
    )


@contextmanager
def folder_lock(folder: str | Path, *, timeout_s: float = DEFAULT_WAIT_S) -> Iterator[Path]:
    """Hold the exclusive write lock of a folder for the ``with`` block.

    Parameters
    ----------
    folder
        The dataset or scenario folder; it must exist.
    timeout_s
        Longest wait for another writer, in seconds.

    Yields
    ------
    pathlib.Path
        The folder.

    Raises
    ------
    FolderBusyError
        If another writer held the lock for longer than ``timeout_s``.
    """
    path = Path(folder)
    lock = _lock(path)
    try:
        lock.acquire(timeout=timeout_s)
    except filelock.Timeout as exc:
        raise FolderBusyError(path, timeout_s) from exc
    try:
        yield path
    finally:
        lock.release()


@contextmanager
def try_folder_lock(folder: str | Path) -> Iterator[bool]:
    """Take the folder's lock if nobody holds it, without waiting.

    Yields
    ------
    bool
        Whether the lock is held for the ``with`` block (``False``: a writer is at work, so
        its half-written files must not be touched).
    """
    path = Path(folder)
    lock = _lock(path)
    try:
        lock.acquire(timeout=0)
    except (filelock.Timeout, OSError):  # busy, or a read-only folder
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
