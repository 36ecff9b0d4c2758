"""Writers of one dataset: concurrent imports lose nothing, a killed import leaves old or new.

Real ``qjgeo import`` processes, not threads: two started together into one data folder, ten
times over; and one killed with SIGKILL at several points of its commit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qjgeo.catalog import MANIFEST_NAME, load_dataset
from qjgeo.ingest.commit import history, undo_last
from qjgeo.locking import FolderBusyError, folder_lock
from qjgeo.transaction import INTENT_NAME, Transaction, leftovers, recover

REPO = Path(__file__).resolve().parents[1]
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and umask are POSIX")

#: Points inside Qujiang (WGS84) for generated ledgers.
_POINTS = [(113.610, 24.680), (113.635, 24.705), (113.702, 24.768), (113.590, 24.660)]


def _ledger(path: Path, tag: str, rows: int) -> Path:
    lines = ["名称,经度,纬度,托位"]
    for i in range(rows):
        lon, lat = _POINTS[i % len(_POINTS)]
        lines.append(f"{tag}托育点{i + 1},{lon + i * 0.001:.4f},{lat:.4f},{10 + i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _qjgeo(*args: str) -> list[str]:
    return [sys.executable, "-m", "qjgeo", *args]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(REPO / "layers", target)
    return target


def _names(data: Path) -> list[str]:
    ds = load_dataset(data)
    return ds.layer("childcare")["name"].astype(str).tolist() if ds.has("childcare") else []


def test_two_imports_at_once_both_land_every_time(data_dir: Path, tmp_path: Path) -> None:
    expected = set(_names(data_dir))
    for attempt in range(10):
        a = _ledger(tmp_path / f"a{attempt}.csv", f"甲{attempt}-", 6)
        b = _ledger(tmp_path / f"b{attempt}.csv", f"乙{attempt}-", 3)
        opts = ("--layer", "childcare", "--data", str(data_dir), "--format", "json")
        procs = [
            subprocess.Popen(
                _qjgeo("import", str(f), *opts),
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for f in (a, b)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outs, strict=True):
            assert proc.returncode == 0, err.decode()
            assert json.loads(out)["committed"] is True
        expected |= {f"甲{attempt}-托育点{i}" for i in range(1, 7)}
        expected |= {f"乙{attempt}-托育点{i}" for i in range(1, 4)}
        names = _names(data_dir)
        assert set(names) == expected, f"attempt {attempt}: rows lost"
        assert len(names) == len(expected)
    assert leftovers(data_dir) == []
    assert len(history(data_dir, "childcare")) == 20


#: (function to kill in, its n-th call counted from the start of the commit, what must remain).
_KILL_POINTS = [
    ("fsync", 1, "old"),  # staging the backup copy
    ("fsync", 3, "old"),  # staging the new layer
    ("fsync", 5, "old"),  # staging the history record
    ("replace", 1, "old"),  # just before the intent (commit point) is renamed into place
    ("replace", 2, "new"),  # intent written, nothing carried out yet
    ("replace", 4, "new"),  # half of the renames done
    ("unlink", 1, "new"),  # everything renamed, intent not yet removed
]

_HARNESS = """
import os, signal, sys
name, n = sys.argv[1], int(sys.argv[2])
sys.argv = ["qjgeo", *sys.argv[3:]]
import qjgeo.ingest.commit
c = sys.modules["qjgeo.ingest.commit"]  # the package exports a function of the same name
armed = [False]
calls = [0]
real = getattr(os, name)
def patched(*args, **kwargs):
    if armed[0]:
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
setattr(os, name, patched)
real_commit = c.commit
def commit(*args, **kwargs):
    armed[0] = True
    return real_commit(*args, **kwargs)
c.commit = commit
from qjgeo.cli import main
main()
"""


@POSIX_ONLY
@pytest.mark.parametrize(("function", "nth", "outcome"), _KILL_POINTS)
def test_killed_import_leaves_old_or_new(
    data_dir: Path, tmp_path: Path, function: str, nth: int, outcome: str
) -> None:
    before = _names(data_dir)
    records_before = len(history(data_dir, "childcare"))
    ledger = _ledger(tmp_path / "k.csv", "丙-", 4)
    harness = tmp_path / "harness.py"
    harness.write_text(_HARNESS, encoding="utf-8")
    args = ["import", str(ledger), "--layer", "childcare", "--data", str(data_dir)]
    proc = subprocess.run(
        [sys.executable, str(harness), function, str(nth), *args],
        env=_env(),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    names = _names(data_dir)  # the next open finishes or clears the interrupted commit
    assert leftovers(data_dir) == []
    assert not (data_dir / INTENT_NAME).exists()
    records = history(data_dir, "childcare")
    if outcome == "old":
        assert names == before
        assert len(records) == records_before
        with pytest.raises(Exception, match="no earlier version"):
            undo_last(data_dir, "childcare")
    else:
        assert names == before + [f"丙-托育点{i}" for i in range(1, 5)]
        assert len(records) == records_before + 1
        undo_last(data_dir, "childcare")
        assert _names(data_dir) == before


def test_second_writer_waits_then_gives_up_with_a_message(data_dir: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with folder_lock(data_dir):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        held.wait(10)
        with pytest.raises(FolderBusyError, match="another qjgeo session") as info:
            with folder_lock(data_dir, timeout_s=0.2):
                pass
        assert "另一个 qjgeo 会话" in info.value.message_zh
    finally:
        release.set()
        thread.join()
    with folder_lock(data_dir, timeout_s=1):  # free again
        pass


def test_transaction_recovery_finishes_a_committed_intent(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("old a", encoding="utf-8")
    (folder / "b.txt").write_text("old b", encoding="utf-8")
    tx = Transaction(folder)
    tx.write_bytes("a.txt", b"new a")
    tx.write_bytes("b.txt", b"new b")
    steps = list(tx._steps)
    # the process dies after the intent and the first rename
    (folder / INTENT_NAME).write_text(json.dumps({"steps": steps}), encoding="utf-8")
    os.replace(folder / steps[0]["move"], folder / steps[0]["to"])
    assert recover(folder)
    assert (folder / "a.txt").read_text(encoding="utf-8") == "new a"
    assert (folder / "b.txt").read_text(encoding="utf-8") == "new b"
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


def test_aborted_transaction_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("old", encoding="utf-8")
    tx = Transaction(folder)
    tx.write_bytes("a.txt", b"new")
    assert len(leftovers(folder)) == 1  # staged beside the old file
    tx.abort()
    assert leftovers(folder) == []
    assert (folder / "a.txt").read_text(encoding="utf-8") == "old"


@POSIX_ONLY
def test_written_files_follow_the_umask(data_dir: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ledger = _ledger(tmp_path / "u.csv", "丁-", 2)
        proc = subprocess.run(
            _qjgeo("import", str(ledger), "--layer", "childcare", "--data", str(data_dir)),
            env=_env(),
            capture_output=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr.decode()
        export = tmp_path / "gaps.csv"
        scenario = tmp_path / "s" / "site.yaml"
        scenario.parent.mkdir()
        for args in (
            ["export", "--what", "data", "--type", "childcare", "--out", str(export)],
            ["site", "--type", "childcare", "--k", "1", "--out", str(scenario)],
        ):
            run = subprocess.run(
                _qjgeo(*args, "--data", str(data_dir)), env=_env(), capture_output=True, timeout=300
            )
            assert run.returncode == 0, run.stderr.decode()
        written = [data_dir / MANIFEST_NAME, data_dir / "childcare.geojson", export, scenario]
        written += sorted((data_dir / ".history").glob("childcare-*"))
        for path in written:
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    finally:
        os.umask(old)
