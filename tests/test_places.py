"""Where qjgeo finds its bundled files and keeps the planner's own: one rule for a checkout and
an installed wheel; nothing is ever written into the bundled data."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from typer.testing import CliRunner

from qjgeo import load_dataset, places
from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.cli import app
from qjgeo.console import configure_console, stream_settings
from qjgeo.mapview.offline import VENDOR_DIR

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
runner = CliRunner()


def test_a_checkout_finds_the_bundled_files_at_its_top_level() -> None:
    assert places.bundled_path("layers") == REPO / "layers" == DEFAULT_DATA_DIR
    assert places.bundled_path("static/vendor") == REPO / "static" / "vendor" == VENDOR_DIR
    assert places.bundled_path("app.py").is_file()


def test_setup_bundles_every_file_the_package_looks_up() -> None:
    """setup.py's BUNDLED list covers each name the package asks bundled_path for."""
    text = (REPO / "setup.py").read_text(encoding="utf-8")
    for name in ("layers", "scenarios", "static/vendor", "app.py", ".streamlit/config.toml",
                 "docs/user-guide.zh.md", "docs/user-guide.en.md"):  # fmt: skip
        assert f'"{name}"' in text, name
        assert (REPO / name).exists(), name


def test_the_pins_satisfy_the_declared_ranges() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name.lower()] = next(iter(req.specifier)).version
    declared = [Requirement(r) for r in project["dependencies"]]
    assert {r.name.lower() for r in declared} == set(pins)  # every pin declared, and no more
    for req in declared:
        assert req.specifier.contains(pins[req.name.lower()]), (req, pins[req.name.lower()])
    assert set(project["optional-dependencies"]) == {"test", "bench"}


def test_the_user_data_folder_follows_qjgeo_home(user_data_home: Path) -> None:
    assert places.user_data_dir() == user_data_home.resolve()
    assert places.working_dataset_dir(create=False) == DEFAULT_DATA_DIR  # no copy yet
    copy = places.working_dataset_dir()
    assert copy == user_data_home.resolve() / "layers"
    assert sorted(p.name for p in copy.iterdir()) == sorted(
        p.name for p in DEFAULT_DATA_DIR.iterdir() if not p.name.startswith(".")
    )
    assert places.working_dataset_dir(create=False) == copy  # reads now see the copy
    assert places.working_dataset_dir() == copy  # made once
    assert (places.working_scenarios_dir() / "growth_2030.yaml").is_file()


def test_the_platform_folder_is_used_without_qjgeo_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(places.HOME_ENV)
    import platformdirs

    assert places.user_data_dir() == Path(platformdirs.user_data_dir("qjgeo", appauthor=False))


def test_an_import_without_data_goes_to_the_working_copy(user_data_home: Path) -> None:
    before = (DEFAULT_DATA_DIR / "childcare.geojson").read_bytes()
    res = runner.invoke(
        app,
        ["import", str(FIXTURES / "childcare_wgs84_utf8.csv"), "--layer", "childcare",
         "--mode", "replace"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (DEFAULT_DATA_DIR / "childcare.geojson").read_bytes() == before
    assert load_dataset().root == (user_data_home / "layers").resolve()
    assert len(load_dataset().layer("childcare")) == 3
    res = runner.invoke(app, ["import-undo", "--layer", "childcare"])
    assert res.exit_code == 0, res.output


def test_the_bundled_dataset_is_never_written() -> None:
    res = runner.invoke(
        app,
        ["import", str(FIXTURES / "childcare_wgs84_utf8.csv"), "--layer", "childcare",
         "--data", str(DEFAULT_DATA_DIR)],
    )  # fmt: skip
    assert res.exit_code == 2 and "read-only" in res.output
    assert places.is_bundled(DEFAULT_DATA_DIR) and not places.is_bundled(REPO)


def test_chinese_file_and_folder_names(tmp_path: Path) -> None:
    folder = tmp_path / "曲江区" / "台账"
    folder.mkdir(parents=True)
    ledger = folder / "托育机构台账.csv"
    ledger.write_bytes((FIXTURES / "childcare_gcj02_gbk.csv").read_bytes())
    res = runner.invoke(
        app, ["import", str(ledger), "--layer", "childcare", "--crs", "gcj02", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    out = folder / "指标.csv"
    res = runner.invoke(app, ["indicators", "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_console_output_survives_a_gbk_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows with output redirected: the console's code page (GBK) is kept, and a character
    GBK lacks becomes '?' instead of stopping the command."""
    assert stream_settings("win32", "gbk") == ("gbk", "replace")
    assert stream_settings("linux", "ascii") == ("utf-8", "replace")
    monkeypatch.setattr("sys.platform", "win32")
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="gbk")
    configure_console(stream)
    stream.write("托育缺口 ≥ 1 km²  🧒 done\n")
    stream.flush()
    assert raw.getvalue().decode("gbk") == "托育缺口 ≥ 1 km?  ? done\n"


def test_qjgeo_app_takes_the_settings_of_make_run(user_data_home: Path) -> None:
    from qjgeo.ui.launch import app_urls, plan_launch

    launch = plan_launch(None, None, 8600, "0.0.0.0")
    assert launch.script == REPO / "app.py"
    assert launch.options["server.enableStaticServing"] == "true"  # the offline map assets
    assert launch.options["server.maxUploadSize"] == "50"
    assert (launch.options["server.port"], launch.options["server.address"]) == ("8600", "0.0.0.0")
    # no --data: the app reads the working copy once one exists, else the bundled data, and
    # makes the copy only when it first writes (so bundled updates show until then)
    assert "QJGEO_DATA" not in launch.env
    assert not (user_data_home / "layers").exists()
    assert plan_launch(user_data_home, None, 8600, "localhost").env["QJGEO_DATA"] == str(
        user_data_home.resolve()
    )
    assert launch.urls[0] == "http://localhost:8600" and len(launch.urls) == 2
    assert app_urls("127.0.0.1", 80) == ["http://127.0.0.1:80"]
    res = runner.invoke(app, ["app", "--data", str(user_data_home / "missing")])
    assert res.exit_code == 2 and "no such directory" in res.output


def test_qjgeo_app_prints_where_it_reads_and_writes(
    user_data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qjgeo.ui.launch as launch

    started = []
    monkeypatch.setattr(launch, "run_app", started.append)  # do not serve
    res = runner.invoke(app, ["app", "--port", "8611"])
    assert res.exit_code == 0, res.output
    assert f"数据 / data: {DEFAULT_DATA_DIR}" in res.output  # nothing imported yet
    assert f"导入写入 / imports go to: {user_data_home.resolve() / 'layers'}" in res.output
    assert len(started) == 1 and "QJGEO_DATA" not in started[0].env
    res = runner.invoke(app, ["app", "--data", str(user_data_home)])
    assert f"数据 / data: {user_data_home.resolve()}" in res.output
    assert "imports go to" not in res.output
