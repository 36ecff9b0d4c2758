"""The targets file: the bundled one validates, bad ones fail naming file, indicator and key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from qjgeo.indicators.targets import (
    DEFAULT_TARGETS_PATH,
    TargetsError,
    apply_overrides,
    load_targets,
    targets_json_schema,
)

SCHEMA_FILE = Path(__file__).resolve().parent / "fixtures" / "indicators" / "targets.schema.json"


def _raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_TARGETS_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "my-targets.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _find(raw: dict[str, Any], ind_id: str) -> dict[str, Any]:
    return next(i for i in raw["indicators"] if i["id"] == ind_id)


def test_bundled_targets_validate() -> None:
    targets = load_targets()
    assert len(targets.ids) == len(set(targets.ids)) >= 27
    assert targets.get("childcare_places_per_1000").target.value == 6.0
    assert targets.get("rural_tap_water").target.op == ">="
    # frozen: a validated target cannot be changed in place
    with pytest.raises(ValueError):
        targets.get("rural_tap_water").target.value = 1  # type: ignore[misc]


def test_unknown_key_names_file_indicator_and_key(tmp_path: Path) -> None:
    raw = _raw()
    _find(raw, "childcare_places_per_1000")["params"]["sauces"] = []
    path = _write(tmp_path, raw)
    with pytest.raises(TargetsError) as err:
        load_targets(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "'childcare_places_per_1000'" in msg
    assert "params.sauces" in msg and "unknown key" in msg


def test_unknown_top_level_key_of_an_indicator(tmp_path: Path) -> None:
    raw = _raw()
    _find(raw, "rural_tap_water")["colour"] = "blue"
    with pytest.raises(TargetsError, match=r"indicator 'rural_tap_water': colour: unknown key"):
        load_targets(_write(tmp_path, raw))


def test_bad_operator(tmp_path: Path) -> None:
    raw = _raw()
    _find(raw, "preschool_capacity")["target"]["op"] = "=>"
    path = _write(tmp_path, raw)
    with pytest.raises(TargetsError) as err:
        load_targets(path)
    msg = str(err.value)
    assert str(path) in msg and "'preschool_capacity'" in msg
    assert "target.op" in msg and "'=>'" in msg


def test_missing_layer_key(tmp_path: Path) -> None:
    raw = _raw()
    del _find(raw, "youth_science_bases")["params"]["sources"][0]["layer"]
    with pytest.raises(TargetsError) as err:
        load_targets(_write(tmp_path, raw))
    msg = str(err.value)
    assert "'youth_science_bases'" in msg and "params.sources[0].layer" in msg
    assert "Field required" in msg


def test_missing_layer_key_is_one_clear_line(tmp_path: Path) -> None:
    # the empty-looking "sources" is a consequence of its item failing, not a second problem
    raw = _raw()
    del _find(raw, "youth_science_bases")["params"]["sources"][0]["layer"]
    path = _write(tmp_path, raw)
    with pytest.raises(TargetsError) as err:
        load_targets(path)
    assert str(err.value) == (
        f"{path}: indicator 'youth_science_bases': params.sources[0].layer: Field required"
    )
    # a list that really is too short is still reported
    raw = _raw()
    _find(raw, "youth_science_bases")["params"]["sources"] = []
    with pytest.raises(TargetsError, match=r"'youth_science_bases': params.sources: .*at least 1"):
        load_targets(_write(tmp_path, raw))


def test_singular_shortfall_template() -> None:
    text = load_targets().get("science_venue_community_coverage").shortfall
    assert text is not None
    assert text.english(1).format(n=1, units="") == (
        "1 more community needs a science venue in or within reach"
    )
    assert text.english(3).format(n=3, units="") == (
        "3 more communities need a science venue in or within reach"
    )


def test_unknown_layer(tmp_path: Path) -> None:
    raw = _raw()
    _find(raw, "park_play_area_share")["params"]["layer"] = "parks"
    with pytest.raises(TargetsError) as err:
        load_targets(_write(tmp_path, raw))
    msg = str(err.value)
    assert "'park_play_area_share'" in msg and "params.layer" in msg
    assert "unknown layer 'parks'" in msg


def test_unknown_kind_duplicate_id_and_bad_template(tmp_path: Path) -> None:
    raw = _raw()
    _find(raw, "rural_tap_water")["kind"] = "magic"
    with pytest.raises(TargetsError, match=r"'rural_tap_water': kind"):
        load_targets(_write(tmp_path, raw))
    raw = _raw()
    raw["indicators"].append(dict(raw["indicators"][0]))
    with pytest.raises(TargetsError, match="appears twice"):
        load_targets(_write(tmp_path, raw))
    raw = _raw()
    _find(raw, "rural_tap_water")["shortfall"]["en"] = "{count} villages"
    with pytest.raises(TargetsError, match=r"'rural_tap_water': shortfall.en"):
        load_targets(_write(tmp_path, raw))


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(TargetsError, match="does not exist"):
        load_targets(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(TargetsError, match=r"bad\.yaml: not readable YAML"):
        load_targets(bad)


def test_overrides_merge_and_validate() -> None:
    targets = load_targets()
    out = apply_overrides(
        targets,
        {
            "childcare_places_per_1000": {"target": {"value": 4.5}},
            "childcare_access": {"params": {"urban_distance_m": 500}},
        },
    )
    assert out.get("childcare_places_per_1000").target.value == 4.5
    assert out.get("childcare_places_per_1000").target.op == ">="  # untouched keys kept
    assert out.get("childcare_access").params.urban_distance_m == 500  # type: ignore[union-attr]
    assert targets.get("childcare_places_per_1000").target.value == 6.0  # input untouched
    with pytest.raises(TargetsError, match="unknown indicator 'no_such'"):
        apply_overrides(targets, {"no_such": {"target": {"value": 1}}})
    with pytest.raises(TargetsError, match="'rural_tap_water': kind: unknown key"):
        apply_overrides(targets, {"rural_tap_water": {"kind": "feature_count"}})
    with pytest.raises(TargetsError, match=r"'rural_tap_water': target.op"):
        apply_overrides(targets, {"rural_tap_water": {"target": {"op": "about"}}})
    with pytest.raises(TargetsError, match=r"'childcare_access': params.radius_m: unknown key"):
        apply_overrides(targets, {"childcare_access": {"params": {"radius_m": 5}}})


def test_json_schema_has_not_drifted() -> None:
    """The committed schema matches the models (regenerate with the snippet below)."""
    # python -c "import json; from qjgeo.indicators.targets import targets_json_schema as s;
    #   print(json.dumps(s(), ensure_ascii=False, indent=1))" > tests/fixtures/indicators/targets.schema.json
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == targets_json_schema()
