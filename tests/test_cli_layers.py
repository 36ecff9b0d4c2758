"""``qjgeo layers`` answers as ``qjgeo`` and as ``python -m qjgeo``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def _run(*args: str, module: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "qjgeo", *args] if module else ["qjgeo", *args]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")


def test_layers_json_lists_every_layer():
    result = _run("layers", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ids = [row["id"] for row in rows]
    assert ids[:3] == ["district", "township", "village"]
    assert {"id", "title_zh", "title_en", "features", "provenance", "crs", "source"} <= set(rows[0])
    village = next(row for row in rows if row["id"] == "village")
    assert village["features"] == 110


def test_layers_console_script():
    if shutil.which("qjgeo") is None:
        pytest.skip("qjgeo console script not installed (run `make install`)")
    result = _run("layers", module=False)
    assert result.returncode == 0, result.stderr
    assert "science_venue" in result.stdout


def test_layers_bad_data_dir_is_a_clear_error(tmp_path):
    result = _run("layers", "--data", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
