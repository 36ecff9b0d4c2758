"""Crash-safe changes to several files of one folder: all of them land, or none does.

A :class:`Transaction` first writes every new file beside its target under a hidden
``.<name>.<random>.staged`` name, flushed to disk. :meth:`Transaction.commit` then writes
the *intent* -- the list of renames and deletions -- to ``<folder>/.qjgeo-commit.json``
(atomically: that write is the commit point), carries it out, and removes the intent. A
process killed at any instant therefore leaves either

* no intent: the old files, untouched, plus staged leftovers that :func:`recover` removes; or
* an intent: :func:`recover` finishes it (every step is idempotent), giving the new files.

So a history record written in the same transaction names only changes that landed. The
caller holds the folder's lock (:func:`qjgeo.locking.folder_lock`) around a transaction and
around :func:`recover`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from qjgeo.fileio import fsync_dir, fsync_file, temporary_path, write_atomic
from qjgeo.locking import try_folder_lock

__all__ = ["INTENT_NAME", "Transaction", "leftovers", "recover", "recover_if_idle"]

#: The intent of a transaction being carried out (present only between commit point and end).
INTENT_NAME: Final[str] = ".qjgeo-commit.json"
#: Hidden files a killed writer may leave: staged files, ``write_atomic`` temporaries, and the
#: ``.<layer>.tmp.geojson`` of earlier versions.
_LEFTOVER: Final = re.compile(
    r"^\..+\.(?:[0-9a-f]{12}\.(?:staged|tmp)|[0-9a-z_]{8}\.tmp|tmp\.geojson|undo)$"
)
#: Sub-folders searched for leftovers besides the folder itself.
_SUBFOLDERS: Final[tuple[str, ...]] = (".history", ".history/undone")


@dataclass
class Transaction:
    """Staged changes to files of ``folder``, applied together by :meth:`commit`.

    Paths given to the methods may be absolute or relative to ``folder``; they must lie in it.
    """

    folder: Path
    _steps: list[dict[str, str]] = field(default_factory=list)

    def write_bytes(self, target: str | Path, payload: bytes) -> None:
        """Stage ``payload`` as the new content of ``target``."""
        self.write_with(target, lambda path: path.write_bytes(payload))

    def write_with(self, target: str | Path, writer: Callable[[Path], object]) -> None:
        """Stage a file that ``writer(path)`` writes (e.g. a GeoJSON through GDAL)."""
        dest = self._inside(target)
        staged = temporary_path(dest, "staged")
        try:
            writer(staged)
            fsync_file(staged)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        self._steps.append({"move": self._rel(staged), "to": self._rel(dest)})

    def copy(self, source: str | Path, target: str | Path) -> None:
        """Stage a copy of ``source`` (e.g. the previous version kept for undo) as ``target``."""
        self.write_with(target, lambda path: shutil.copyfile(self._inside(source), path))

    def move(self, source: str | Path, target: str | Path) -> None:
        """Rename an existing file as part of the commit."""
        self._steps.append({"move": self._rel(self._inside(source)), "to": self._rel(target)})

    def delete(self, path: str | Path) -> None:
        """Delete a file as part of the commit."""
        self._steps.append({"delete": self._rel(self._inside(path))})

    def commit(self) -> None:
        """Record the intent (the commit point), carry it out, and forget it."""
        intent = self.folder / INTENT_NAME
        write_atomic(intent, json.dumps({"steps": self._steps}, ensure_ascii=False, indent=1))
        _carry_out(self.folder, self._steps)
        intent.unlink()
        fsync_dir(self.folder)
        self._steps = []

    def abort(self) -> None:
        """Drop the staged files; the folder is as before."""
        for step in self._steps:
            if "move" in step and _LEFTOVER.match(Path(step["move"]).name):
                (self.folder / step["move"]).unlink(missing_ok=True)
        self._steps = []

    def _inside(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.folder / p

    def _rel(self, path: str | Path) -> str:
        return Path(os.path.relpath(self._inside(path), self.folder)).as_posix()


def recover(folder: str | Path) -> list[str]:
    """Finish a transaction a killed writer committed, and remove what it left half-done.

    The caller holds the folder's lock.

    Returns
    -------
    list of str
        What was done, one line per file (empty when the folder was clean).
    """
    root = Path(folder)
    done: list[str] = []
    intent = root / INTENT_NAME
    if intent.is_file():
        try:
            steps = json.loads(intent.read_text(encoding="utf-8"))["steps"]
        except (OSError, ValueError, KeyError, TypeError):
            steps = None  # written atomically, so unreadable means not ours: leave it named
        if steps is not None:
            _carry_out(root, steps)
            intent.unlink()
            done.append(f"finished an interrupted change ({len(steps)} files)")
    for path in leftovers(root):
        path.unlink(missing_ok=True)
        done.append(f"removed {path.relative_to(root).as_posix()} (left by an interrupted write)")
    return done


def recover_if_idle(folder: str | Path) -> list[str]:
    """:func:`recover` when there is something to recover and no writer is at work."""
    root = Path(folder)
    if not (root / INTENT_NAME).exists() and not leftovers(root):
        return []
    with try_folder_lock(root) as held:
        return recover(root) if held else []


def leftovers(folder: str | Path) -> list[Path]:
    """Hidden temporary files of interrupted writes in ``folder`` and its history."""
    root = Path(folder)
    found: list[Path] = []
    for sub in (root, *(root / s for s in _SUBFOLDERS)):
        try:
            entries = list(os.scandir(sub))
        except OSError:
            continue
        found += [Path(e.path) for e in entries if _LEFTOVER.match(e.name) and e.is_file()]
    return sorted(found)


def _carry_out(root: Path, steps: list[dict[str, str]]) -> None:
    """Apply the steps in order; a step already done is skipped (so recovery can repeat it)."""
    touched: set[Path] = set()
    for step in steps:
        if "delete" in step:
            target = root / step["delete"]
            target.unlink(missing_ok=True)
        else:
            source, target = root / step["move"], root / step["to"]
            if source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        touched.add(target.parent)
    for parent in touched:
        fsync_dir(parent)
