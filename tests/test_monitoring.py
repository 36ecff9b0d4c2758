"""Annual monitoring and early warning (qjgeo.monitoring, qjgeo monitor)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.cli import app
from qjgeo.monitoring import (
    COLUMNS,
    MonitoringError,
    early_warnings,
    load_series,
    record_year,
    recorded_years,
)


def _write(directory: Path, year: int, rows: list[tuple[str, float, str, float]]) -> None:
    """A yearly file by hand: (id, value, op, target) rows for the district."""
    frame = pd.DataFrame(
        [
            {
                "year": year,
                "id": i,
                "scope": "district",
                "scope_name": "区",
                "title_zh": i,
                "title_en": i,
                "unit": "%",
                "value": v,
                "op": op,
                "target": t,
                "met": "",
                "data_status": "official",
                "dataset": "d",
                "scenario": "",
                "recorded_at": "",
            }
            for i, v, op, t in rows
        ],
        columns=list(COLUMNS),
    )
    directory.mkdir(parents=True, exist_ok=True)
    frame.to_csv(directory / f"indicators-{year}.csv", index=False)


def test_record_and_read_back_the_bundled_indicators(tmp_path: Path) -> None:
    ds = load_dataset()
    path = record_year(ds, 2024, tmp_path)
    assert path.name == "indicators-2024.csv" and recorded_years(tmp_path) == [2024]
    series = load_series(tmp_path)
    from qjgeo.indicators import evaluate

    expected = evaluate(ds)
    assert len(series) == len(expected)
    district = series[series["scope"] == "district"].set_index("id")["value"]
    want = expected[expected["scope"] == "district"].set_index("id")["value"]
    pd.testing.assert_series_equal(district, want.loc[district.index], check_names=False)
    assert set(series["data_status"]) <= {"sample", "estimated"}
    with pytest.raises(MonitoringError, match="already recorded"):
        record_year(ds, 2024, tmp_path)
    record_year(ds, 2024, tmp_path, overwrite=True)
    with pytest.raises(MonitoringError, match="between 2000 and 2100"):
        record_year(ds, 1999, tmp_path)
    # one year: no trend yet, except for what is already met
    table = early_warnings(series)
    assert set(table["status"]) <= {"one year only", "met", "not computable"}
    assert table["weak_data"].all()


def test_statuses_from_the_trend(tmp_path: Path) -> None:
    # rising 8 points a year from 40 in 2022 (64 in 2025): 2030 projects 104 ≥ 70 → on track
    # flat at 40 → at risk; up and down → volatile; already 80 ≥ 70 → met;
    # "≤" indicator falling towards its target → on track
    for k, year in enumerate(range(2022, 2026)):
        _write(
            tmp_path,
            year,
            [
                ("rising", 40 + 8 * k, ">=", 70),
                ("flat", 40, ">=", 70),
                ("swinging", [40, 60, 35, 62][k], ">=", 90),
                ("done", 80, ">=", 70),
                ("falling", 20 - 2 * k, "<=", 5),
                ("gone", float("nan"), ">=", 70),
            ],
        )
    table = early_warnings(load_series(tmp_path)).set_index("id")
    assert table.loc["rising", "status"] == "on track"
    assert table.loc["rising", "projected"] == pytest.approx(104.0)
    assert table.loc["flat", "status"] == "at risk" and table.loc["flat", "warning"]
    assert table.loc["swinging", "status"] == "volatile" and table.loc["swinging", "warning"]
    assert table.loc["done", "status"] == "met" and not table.loc["done", "warning"]
    assert table.loc["falling", "status"] == "on track"  # 20 − 2/yr reaches ≤ 5 by 2030
    assert table.loc["gone", "status"] == "not computable"
    assert table.loc["rising", "years"] == "2022, 2023, 2024, 2025"
    assert table.loc["flat", "status_zh"] == "预计难以达标"
    # warnings come first
    assert list(table["warning"])[:2] == [True, True]
    # the projection year matters: in 2025 itself the rising indicator (64) is short of 70
    near = early_warnings(load_series(tmp_path), final_year=2025).set_index("id")
    assert near.loc["rising", "status"] == "at risk"
    assert near.loc["rising", "projected"] == pytest.approx(64.0)


def test_malformed_files_are_named(tmp_path: Path) -> None:
    _write(tmp_path, 2024, [("a", 1.0, ">=", 2.0)])
    path = tmp_path / "indicators-2024.csv"
    text = path.read_text(encoding="utf-8").replace(",1.0,", ",abc,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MonitoringError, match=r"indicators-2024\.csv, line 2: value 'abc'"):
        load_series(tmp_path)
    path.write_text("year,id\n2024,a\n", encoding="utf-8")
    with pytest.raises(MonitoringError, match=r"indicators-2024\.csv: missing column"):
        load_series(tmp_path)
    _write(tmp_path, 2025, [("a", 1.0, ">=", 2.0)])
    other = tmp_path / "indicators-2025.csv"
    other.write_text(other.read_text(encoding="utf-8").replace("\n2025,", "\n2023,"), "utf-8")
    path.unlink()
    with pytest.raises(MonitoringError, match=r"'year' column must be 2025"):
        load_series(tmp_path)
    assert load_series(tmp_path / "nothing").empty


def test_cli_record_show_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    mon = tmp_path / "mon"
    res = runner.invoke(app, ["monitor", "show", "--dir", str(mon)])
    assert res.exit_code == 2 and "no year recorded" in res.stderr
    res = runner.invoke(app, ["monitor", "record", "--year", "2025", "--dir", str(mon)])
    assert res.exit_code == 0, res.output
    assert "indicators-2025.csv" in res.stdout and "样例或估算" in res.stderr
    res = runner.invoke(app, ["monitor", "record", "--year", "2025", "--dir", str(mon)])
    assert res.exit_code == 2 and "already recorded" in res.stderr
    res = runner.invoke(app, ["monitor", "show", "--dir", str(mon), "--format", "json"])
    records = json.loads(res.stdout)
    assert {r["status"] for r in records} <= {"one year only", "met", "not computable"}
    res = runner.invoke(app, ["monitor", "show", "--dir", str(mon), "--township", "440205109"])
    assert res.exit_code == 0 and "预警" in res.stdout
    res = runner.invoke(app, ["monitor", "show", "--dir", str(mon), "--township", "1"])
    assert res.exit_code == 2 and "no rows" in res.stderr
