"""Install qjgeo like any Python tool: build the wheel, install it into a fresh virtual
environment outside the checkout, and use it from another folder.

What it does (marked ``wheel``; about a minute and a half on this machine — the wheel builds in
a few seconds, the dependencies come from PyPI, or pip's cache when it has them):

1. copies the files a build needs into a temporary folder and builds the wheel there
   (``pip wheel --no-deps``), so the checkout gets no ``build/`` folder;
2. makes a fresh virtual environment (no system site-packages, no checkout on ``PYTHONPATH``)
   and installs the wheel with its declared dependencies, held to requirements.txt's pins;
3. from a folder with a Chinese name, runs ``qjgeo layers``, ``qjgeo indicators``, an export,
   an ``AppTest`` of the installed app on the bundled data, ``qjgeo app`` serving the vendored
   map assets itself, and an import into the user data folder — which leaves every file of the
   installation as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
#: What a build reads: the package, its metadata and build step, and the bundled files.
BUILD_INPUTS = (
    "pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.txt",
    "requirements-dev.txt", "qjgeo", "layers", "scenarios", "static", "app.py", ".streamlit",
    "docs",
)  # fmt: skip
BIN = "Scripts" if os.name == "nt" else "bin"


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
        errors="replace", timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without the checkout's traces (PYTHONPATH, venv, qjgeo settings)."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("QJGEO_")}
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != here)
    env.update(extra)
    return env


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The wheel built and installed in a fresh venv; its paths and timings."""
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv = root / "src", root / "dist", root / "venv"
    src.mkdir()
    for name in BUILD_INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    env = _clean_env()
    timings: dict[str, float] = {}
    start = time.monotonic()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "-q", "--no-deps", "-w", str(dist), str(src)], cwd=root, env=env)
    timings["build_s"] = time.monotonic() - start
    (wheel,) = dist.glob("qjgeo-*.whl")
    start = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env)
    python = venv / BIN / ("python.exe" if os.name == "nt" else "python")
    _run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--only-binary=:all:", "-c", str(REPO / "requirements.txt"), str(wheel)],
        cwd=root, env=env, timeout=900,
    )  # fmt: skip
    timings["install_s"] = time.monotonic() - start
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB; {timings}")
    site = _run(
        [str(python), "-c", "import qjgeo, pathlib; print(pathlib.Path(qjgeo.__file__).parent)"],
        cwd=root, env=env,
    ).strip()  # fmt: skip
    work = root / "规划科" / "工作"  # a working folder with a Chinese name, outside the checkout
    work.mkdir(parents=True)
    home = root / "home"  # HOME of the planner: platformdirs puts the data folder under it
    home.mkdir()
    yield {
        "wheel": wheel, "python": python, "qjgeo": venv / BIN / "qjgeo", "package": Path(site),
        "work": work, "env": _clean_env(HOME=str(home), USERPROFILE=str(home)),
        "home": home, "before": _tree_digest(Path(site)),
    }  # fmt: skip


def test_the_wheel_carries_the_bundled_files_and_stays_small(installed: dict[str, Any]) -> None:
    package = installed["package"]
    assert package.is_relative_to(installed["python"].parent.parent)  # not the checkout
    bundled = package / "_bundled"
    for name in ("app.py", "layers/manifest.yaml", "scenarios/growth_2030.yaml",
                 "static/vendor/leaflet@1.9.3/leaflet.js", ".streamlit/config.toml",
                 "docs/user-guide.zh.md", "docs/user-guide.en.md"):  # fmt: skip
        assert (bundled / name).is_file(), name
    assert installed["wheel"].stat().st_size < 5_000_000  # a few MB, data and map assets in


def test_layers_and_indicators_from_another_folder(installed: dict[str, Any]) -> None:
    qjgeo, work, env = str(installed["qjgeo"]), installed["work"], installed["env"]
    layers = json.loads(_run([qjgeo, "layers", "--format", "json"], cwd=work, env=env))
    ids = {row["id"] for row in layers}
    assert {"township", "village", "childcare", "water_hazard"} <= ids
    provenance = " ".join(row["provenance"] for row in layers)
    assert all(kind in provenance for kind in ("official", "estimated", "sample"))
    table = json.loads(_run([qjgeo, "indicators", "--format", "json"], cwd=work, env=env))
    assert len(table) > 5 and all("data_status" in row for row in table)


def test_an_export_with_a_chinese_file_name(installed: dict[str, Any]) -> None:
    qjgeo, work, env = str(installed["qjgeo"]), installed["work"], installed["env"]
    out = work / "托育-缺口.csv"
    _run([qjgeo, "export", "--what", "data", "--type", "childcare", "--out", out.name],
         cwd=work, env=env)  # fmt: skip
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel


APP_TEST = """
import json, sys
from streamlit.testing.v1 import AppTest
from qjgeo.places import bundled_path
at = AppTest.from_file(str(bundled_path("app.py")), default_timeout=120)
at.run()
assert not at.exception, [e.message for e in at.exception]
(component,) = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
args = json.loads(component.proto.json_args)
print(json.dumps({"js": args["js_links"], "css": args["css_links"],
                  "text": " ".join(m.value for m in at.markdown)}))
"""


def test_the_installed_app_runs_on_the_bundled_data(installed: dict[str, Any]) -> None:
    work, env = installed["work"], installed["env"]
    found = json.loads(_run([str(installed["python"]), "-c", APP_TEST], cwd=work, env=env))
    links = json.dumps([found["js"], found["css"]])
    assert "vendor/leaflet@1.9.3/leaflet.js" in links and "http" not in links  # no CDN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout_s: float) -> bytes:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return bytes(resp.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_qjgeo_app_serves_the_map_assets_itself(installed: dict[str, Any]) -> None:
    port = _free_port()
    cmd = [str(installed["qjgeo"]), "app", "--port", str(port), "--host", "127.0.0.1"]
    log = installed["work"] / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=installed["work"], env=installed["env"], stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
        try:
            assert _get(f"http://127.0.0.1:{port}/_stcore/health", 90) == b"ok"
            leaflet = _get(f"http://127.0.0.1:{port}/app/static/vendor/leaflet@1.9.3/leaflet.js", 5)
        finally:
            proc.terminate()
            proc.wait(20)
    assert leaflet == (REPO / "static/vendor/leaflet@1.9.3/leaflet.js").read_bytes()
    printed = log.read_text(encoding="utf-8", errors="replace")
    assert f"http://127.0.0.1:{port}" in printed and "数据 / data:" in printed


def test_an_import_writes_to_the_user_data_folder_only(installed: dict[str, Any]) -> None:
    qjgeo, work, env = str(installed["qjgeo"]), installed["work"], installed["env"]
    ledger = work / "托育台账.csv"  # a GBK ledger from a Chinese Windows PC
    shutil.copy2(REPO / "tests/fixtures/ingest/childcare_gcj02_gbk.csv", ledger)
    _run([qjgeo, "import", ledger.name, "--layer", "childcare", "--crs", "gcj02", "--mode",
          "replace"], cwd=work, env=env)  # fmt: skip
    data_home = installed["home"] / ".local" / "share" / "qjgeo"  # platformdirs on Linux
    assert (data_home / "layers" / "manifest.yaml").is_file()
    assert "示范托育中心" in (data_home / "layers" / "childcare.geojson").read_text("utf-8")
    layers = json.loads(_run([qjgeo, "layers", "--format", "json"], cwd=work, env=env))
    (childcare,) = [row for row in layers if row["id"] == "childcare"]
    assert childcare["provenance"] == "user 3" and childcare["features"] == 3
    assert _tree_digest(installed["package"]) == installed["before"]  # installation untouched
