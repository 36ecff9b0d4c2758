"""write_atomic: all or nothing, never a silent overwrite when asked not to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qjgeo.fileio import write_atomic


def test_writes_text_and_bytes(tmp_path: Path) -> None:
    assert write_atomic(tmp_path / "a.txt", "曲江").read_text(encoding="utf-8") == "曲江"
    assert write_atomic(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"


def test_refuses_to_overwrite_when_asked(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(FileExistsError, match=r"a\.txt"):
        write_atomic(path, "new", overwrite=False)
    assert path.read_text(encoding="utf-8") == "old"
    write_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "new"


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_failure_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    path = write_atomic(tmp_path / "a.txt", "old")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
