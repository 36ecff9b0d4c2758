"""The layer catalog: loading, validation and clear errors on bad datasets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qjgeo import DatasetError, load_dataset
from qjgeo.catalog import DEFAULT_DATA_DIR, layer_table
from qjgeo.crs import METRIC_CRS
from qjgeo.schema import KNOWN_LAYERS, PROVENANCES, REQUIRED_COLUMNS


def test_bundled_catalog_loads_every_canonical_layer(dataset):
    assert set(dataset.layer_ids) == set(KNOWN_LAYERS)
    for layer_id in dataset.layer_ids:
        frame = dataset.layer(layer_id)
        assert frame.crs.to_epsg() == 4326
        assert len(frame) > 0, layer_id
        assert set(REQUIRED_COLUMNS[layer_id]) <= set(frame.columns)
        assert dataset.metric(layer_id).crs.to_string() == METRIC_CRS


def test_every_layer_and_feature_has_provenance(dataset):
    for layer_id in dataset.layer_ids:
        assert dataset.spec(layer_id).provenance in PROVENANCES
        values = dataset.layer(layer_id)["provenance"]
        assert values.notna().all(), layer_id
        assert set(values) <= set(PROVENANCES), layer_id


def test_weak_layers_name_sample_and_estimated(dataset):
    weak = dataset.weak_layers()
    assert "district" not in weak
    assert weak["township"] == {"estimated"}
    assert "sample" in weak["childcare"]
    assert dataset.data_status(["district"]) == "official"
    assert dataset.data_status(["district", "village"]) == "estimated"
    assert dataset.data_status(["village", "childcare"]) == "sample"
    assert dataset.data_status(["no_such_layer"]) == "official"


def test_layer_table_counts(dataset):
    table = layer_table(dataset)
    assert list(table["id"]) == list(dataset.layer_ids)
    row = table.set_index("id").loc["village"]
    assert row["features"] == 110
    assert "estimated 110" in row["provenance"]


def test_with_layer_is_immutable(dataset):
    parks = dataset.layer("park")
    smaller = dataset.with_layer("park", parks.iloc[:3])
    assert len(smaller.layer("park")) == 3
    assert len(dataset.layer("park")) == len(parks)


def test_unknown_layer_names_available_layers(dataset):
    with pytest.raises(KeyError, match=r"no layer 'museum'.*park"):
        dataset.layer("museum")


# --- bad datasets -------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "ds"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _edit_manifest(directory: Path, edit) -> None:
    path = directory / "manifest.yaml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def test_missing_file_names_layer_and_file(data_copy):
    (data_copy / "childcare.geojson").unlink()
    before = _snapshot(data_copy)
    with pytest.raises(DatasetError, match=r"layer 'childcare'.*childcare\.geojson does not exist"):
        load_dataset(data_copy)
    assert _snapshot(data_copy) == before  # nothing written


def test_missing_column_names_layer_file_and_column(data_copy):
    path = data_copy / "childcare.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        del feature["properties"]["places"]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = _snapshot(data_copy)
    with pytest.raises(
        DatasetError, match=r"layer 'childcare'.*childcare\.geojson.*missing column\(s\) places"
    ):
        load_dataset(data_copy)
    assert _snapshot(data_copy) == before


def test_unknown_crs_names_layer(data_copy):
    def edit(manifest):
        for layer in manifest["layers"]:
            if layer["id"] == "park":
                layer["crs"] = "EPSG:999999"

    _edit_manifest(data_copy, edit)
    with pytest.raises(DatasetError, match=r"layer 'park'.*unknown CRS 'EPSG:999999'"):
        load_dataset(data_copy)


def test_wrong_crs_is_caught(data_copy):
    def edit(manifest):
        for layer in manifest["layers"]:
            if layer["id"] == "park":
                layer["crs"] = "EPSG:4547"

    _edit_manifest(data_copy, edit)
    with pytest.raises(
        DatasetError, match=r"layer 'park'.*EPSG:4326.*manifest says crs 'EPSG:4547'"
    ):
        load_dataset(data_copy)


def test_bad_geometry_names_row(data_copy):
    path = data_copy / "township.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][2]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[113.5, 24.6], [113.6, 24.7], [113.6, 24.6], [113.5, 24.7], [113.5, 24.6]]
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"layer 'township'.*invalid geometry in row\(s\) 3"):
        load_dataset(data_copy)


def test_bad_provenance_value_names_row(data_copy):
    path = data_copy / "park.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][1]["properties"]["provenance"] = "rumour"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"layer 'park'.*row 2 column 'provenance' has 'rumour'"):
        load_dataset(data_copy)


def test_manifest_unknown_key_names_layer_and_key(data_copy):
    def edit(manifest):
        manifest["layers"][3]["colour"] = "red"

    _edit_manifest(data_copy, edit)
    with pytest.raises(DatasetError, match=r"manifest\.yaml: layers\[park\]\.colour: Extra inputs"):
        load_dataset(data_copy)


def test_missing_manifest_and_directory(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no manifest"):
        load_dataset(tmp_path)


def test_file_path_escaping_the_dataset_is_refused(data_copy):
    def edit(manifest):
        manifest["layers"][3]["file"] = "../../etc/passwd"

    _edit_manifest(data_copy, edit)
    with pytest.raises(DatasetError, match=r"layers\[park\]\.file"):
        load_dataset(data_copy)


def test_importing_qjgeo_does_not_import_streamlit():
    code = "import sys, qjgeo, qjgeo.catalog, qjgeo.cli; print('streamlit' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_metric_crs_follows_the_data(dataset):
    """Qujiang is measured in EPSG:4547; the same layers moved to Oakland in local UTM, where
    a metric distance equals the geodesic one (EPSG:4547 there would be far off)."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from pyproj import Geod

    assert dataset.metric_crs == METRIC_CRS
    moved = dataset
    for layer_id in ("district", "village"):
        frame = dataset.layer(layer_id).copy()
        frame.geometry = shapely.transform(
            frame.geometry.array, lambda xy: xy + np.array([-122.27 - 113.6, 37.8 - 24.7])
        )
        moved = moved.with_layer(layer_id, gpd.GeoDataFrame(frame, crs=frame.crs))
    assert moved.metric_crs == "EPSG:32610"
    a, b = moved.layer("village").geometry.iloc[:2]
    _, _, geodesic = Geod(ellps="WGS84").inv(a.x, a.y, b.x, b.y)
    pa, pb = moved.metric("village").geometry.iloc[:2]
    assert pa.distance(pb) == pytest.approx(geodesic, rel=2e-3)
    wrong = moved.layer("village").to_crs(METRIC_CRS).geometry.iloc[:2]
    assert abs(wrong.iloc[0].distance(wrong.iloc[1]) / geodesic - 1) > 0.05
