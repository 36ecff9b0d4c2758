"""Arguments are checked before any work; scenario files are bounded; base lookup is cheap."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import qjgeo.siting
from qjgeo.cli import app
from qjgeo.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    resolve_chain,
    scenario_from_yaml,
)
from qjgeo.scenario.model import MAX_SCENARIO_BYTES, MAX_SCENARIO_EDITS, name_problem

runner = CliRunner()

NAME_RULE = 'may not start with a space or contain / \\ : * ? " < > |'


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make any site solve fail the test (the argument checks must come first)."""
    calls: list[object] = []

    def solve(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("recommend_sites ran before the arguments were checked")

    monkeypatch.setattr(qjgeo.siting, "recommend_sites", solve)
    return calls


def _site(*extra: str) -> list[str]:
    return ["site", "--type", "childcare", "--k", "1", *extra]


def test_site_bad_name_fails_fast(tmp_path: Path, no_solve: list[object]) -> None:
    out = tmp_path / "rec.yaml"
    res = runner.invoke(app, _site("--out", str(out), "--name", "a:b"))
    assert res.exit_code == 2, res.output
    assert "--name" in res.output and "'a:b'" in res.output and NAME_RULE in res.output
    assert "Traceback" not in res.output and "ValidationError" not in res.output
    assert not out.exists() and no_solve == []
    # the message is the scenario model's own
    problem = name_problem("a:b")
    assert problem is not None and problem in res.output


def test_site_long_name_fails_fast(tmp_path: Path, no_solve: list[object]) -> None:
    out = tmp_path / "rec.yaml"
    res = runner.invoke(app, _site("--out", str(out), "--name", "x" * 121))
    assert res.exit_code == 2, res.output
    assert "--name" in res.output and "at most 120 characters" in res.output
    assert not out.exists() and no_solve == []
    assert name_problem("x" * 120) is None


def test_site_out_with_leading_space_fails_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_solve: list[object]
) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, _site("--out", " x.yaml"))
    assert res.exit_code == 2, res.output
    assert "--out ' x.yaml'" in res.output and "may not start or end with a space" in res.output
    assert list(tmp_path.iterdir()) == [] and no_solve == []


def test_site_out_bad_suffix_or_folder_fails_fast(tmp_path: Path, no_solve: list[object]) -> None:
    res = runner.invoke(app, _site("--out", str(tmp_path / "rec.txt")))
    assert res.exit_code == 2 and ".yaml" in res.output
    res = runner.invoke(app, _site("--out", str(tmp_path / "nowhere" / "rec.yaml")))
    assert res.exit_code == 2 and "does not exist" in res.output
    existing = tmp_path / "old.yaml"
    existing.write_text("name: old\n", encoding="utf-8")
    res = runner.invoke(app, _site("--out", str(existing)))
    assert res.exit_code == 2 and "already exists" in res.output
    assert existing.read_text(encoding="utf-8") == "name: old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.yaml"] and no_solve == []


def test_site_out_stem_is_checked_as_the_name(tmp_path: Path, no_solve: list[object]) -> None:
    out = tmp_path / ("y" * 121 + ".yaml")
    res = runner.invoke(app, _site("--out", str(out)))
    assert res.exit_code == 2 and "at most 120 characters" in res.output
    assert not out.exists() and no_solve == []


def test_indicators_out_checked_before_evaluating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qjgeo.indicators

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("evaluate ran before the arguments were checked")

    monkeypatch.setattr(qjgeo.indicators, "evaluate", boom)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["indicators", "--format", "csv", "--out", " x.csv"])
    assert res.exit_code == 2 and "may not start or end with a space" in res.output
    res = runner.invoke(app, ["indicators", "--out", str(tmp_path / "nowhere" / "x.csv")])
    assert res.exit_code == 2 and "does not exist" in res.output
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# Scenario files are bounded


def test_scenario_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: big\ndescription: " + "a" * MAX_SCENARIO_BYTES + "\n", encoding="utf-8")
    parsed: list[object] = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda *a, **k: parsed.append(a) or real(*a, **k))
    with pytest.raises(ScenarioError, match=r"big\.yaml: .*more than the 1,000,000 bytes"):
        load_scenario(big)
    with pytest.raises(ScenarioError, match=r"<upload>: .*more than the 1,000,000 bytes"):
        scenario_from_yaml(big.read_text(encoding="utf-8"))
    assert parsed == []  # refused before parsing
    res = runner.invoke(app, ["scenario", "validate", str(big)])
    assert res.exit_code == 2 and "big.yaml" in res.output and "1,000,000 bytes" in res.output


def test_scenario_edit_count_limit(tmp_path: Path) -> None:
    items = "".join(f"  - {{type: childcare, id: 'C{i}'}}\n" for i in range(MAX_SCENARIO_EDITS + 1))
    path = tmp_path / "many.yaml"
    path.write_text("name: many\nremove:\n" + items, encoding="utf-8")
    assert path.stat().st_size < MAX_SCENARIO_BYTES
    with pytest.raises(ScenarioError, match=r"many\.yaml: .*too many edits: remove 5,001"):
        load_scenario(path)
    ok = scenario_from_yaml("name: ok\nremove:\n" + items.split("\n", 1)[1])
    assert len(ok.remove) == MAX_SCENARIO_EDITS
    with pytest.raises(ValueError, match="too many edits"):
        ok.with_remove("childcare", "one more")
    with pytest.raises(ValueError, match="more than the 5,000"):
        Scenario(name="x", remove=[{"type": "park", "id": str(i)} for i in range(5001)])


def test_missing_base_does_not_parse_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nbase: missing\n", encoding="utf-8")
    (tmp_path / "huge.yaml").write_text(
        "name: huge\ndescription: " + "b" * (MAX_SCENARIO_BYTES + 10) + "\n", encoding="utf-8"
    )
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n  - : :\n", encoding="utf-8")
    for i in range(20):
        (tmp_path / f"other{i}.yaml").write_text(f"name: other{i}\n", encoding="utf-8")
    scenario = load_scenario(child)
    parsed: list[object] = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda *a, **k: parsed.append(a) or real(*a, **k))
    with pytest.raises(ScenarioError, match=r"base: no scenario 'missing' in .*use 'baseline'"):
        resolve_chain(scenario)
    assert parsed == []


def test_base_found_by_name_parses_only_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "child.yaml").write_text("name: child\nbase: 'the parent'\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text("# parent\nname: the parent  # named\n", encoding="utf-8")
    (tmp_path / "q.yaml").write_text('name: "other"\ndescription: x\n', encoding="utf-8")
    scenario = load_scenario(tmp_path / "child.yaml")
    parsed: list[object] = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda *a, **k: parsed.append(a) or real(*a, **k))
    chain = resolve_chain(scenario)
    assert [s.name for s in chain] == ["the parent", "child"]
    assert len(parsed) == 1  # p.yaml only
