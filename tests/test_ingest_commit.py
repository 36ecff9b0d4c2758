"""commit / undo into a copied dataset, the qjgeo import CLI, and downstream use of an import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qjgeo import Dataset, load_dataset
from qjgeo.catalog import read_manifest
from qjgeo.cli import app
from qjgeo.ingest.commit import commit, history, preview_dataset, undo_last
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import IngestError

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
GBK = FIX / "childcare_gcj02_gbk.csv"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled dataset (tests never write into the repository)."""
    out = tmp_path / "data"
    shutil.copytree(REPO / "layers", out)
    return out


def test_replace_commit_makes_the_layer_user_data_and_undo_restores_it(data_dir: Path) -> None:
    before_bytes = (data_dir / "childcare.geojson").read_bytes()
    before_manifest = read_manifest(data_dir)
    dataset = load_dataset(data_dir)
    assert "childcare" in dataset.weak_layers()
    result = validate(read_table(GBK), dataset, "childcare", crs="gcj02", mode="replace")
    info = commit(data_dir, "childcare", result, mode="replace")
    assert info.features_before == 26 and info.features_after == 3
    assert info.backup is not None and info.backup.read_bytes() == before_bytes

    after = load_dataset(data_dir)
    layer = after.layer("childcare")
    assert len(layer) == 3 and set(layer["provenance"]) == {"user"}
    assert layer["places"].tolist() == [80, 40, 20]
    assert "childcare" not in after.weak_layers()
    assert after.spec("childcare").provenance == "user"
    assert "childcare_gcj02_gbk.csv" in after.spec("childcare").source
    # other layers untouched
    assert (
        after.spec("kindergarten")
        == before_manifest.layers[[s.id for s in before_manifest.layers].index("kindergarten")]
    )

    record = undo_last(data_dir, "childcare")
    assert record["mode"] == "replace"
    assert (data_dir / "childcare.geojson").read_bytes() == before_bytes
    restored = load_dataset(data_dir)
    assert restored.spec("childcare") == dataset.spec("childcare")
    assert "childcare" in restored.weak_layers()
    with pytest.raises(IngestError, match="no earlier version"):
        undo_last(data_dir, "childcare")


def test_append_keeps_existing_features_and_weak_notice(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    result = validate(read_table(GBK), dataset, "childcare", crs="gcj02")
    info = commit(data_dir, "childcare", result, mode="append")
    after = load_dataset(data_dir)
    layer = after.layer("childcare")
    assert len(layer) == 29 and info.features_after == 29
    assert (layer["provenance"] == "user").sum() == 3
    assert layer["id"].is_unique
    assert after.weak_layers()["childcare"] == frozenset({"sample"})  # samples remain
    assert after.spec("childcare").provenance == "sample"


def test_two_imports_undo_step_by_step(data_dir: Path) -> None:
    original = (data_dir / "childcare.geojson").read_bytes()
    dataset = load_dataset(data_dir)
    first = validate(read_table(GBK), dataset, "childcare", crs="gcj02", mode="replace")
    commit(data_dir, "childcare", first, mode="replace")
    after_first = (data_dir / "childcare.geojson").read_bytes()
    second = validate(read_table(GBK), load_dataset(data_dir), "childcare", crs="gcj02")
    commit(data_dir, "childcare", second, mode="append")
    assert len(load_dataset(data_dir).layer("childcare")) == 6
    assert len(history(data_dir, "childcare")) == 2
    undo_last(data_dir, "childcare")
    assert (data_dir / "childcare.geojson").read_bytes() == after_first
    undo_last(data_dir, "childcare")
    assert (data_dir / "childcare.geojson").read_bytes() == original


def test_nothing_written_when_everything_is_rejected(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    raw = read_table("名称,经度,纬度\n,113.6,24.7\n甲,x,y\n".encode(), "a.csv")
    result = validate(raw, dataset, "childcare")
    assert result.report.accepted == 0 and len(result.report.rejected) == 2
    before = (data_dir / "childcare.geojson").read_bytes()
    with pytest.raises(IngestError, match="every row was rejected"):
        commit(data_dir, "childcare", result)
    assert (data_dir / "childcare.geojson").read_bytes() == before
    assert not (data_dir / ".history").exists()


def test_import_into_a_dataset_lacking_the_layer(data_dir: Path) -> None:
    manifest = read_manifest(data_dir)
    from qjgeo.ingest.commit import write_manifest

    write_manifest(
        data_dir,
        manifest.model_copy(
            update={"layers": tuple(s for s in manifest.layers if s.id != "childcare")}
        ),
    )
    (data_dir / "childcare.geojson").unlink()
    dataset = load_dataset(data_dir)
    assert not dataset.has("childcare")
    result = validate(read_table(GBK), dataset, "childcare", crs="gcj02")
    commit(data_dir, "childcare", result)
    after = load_dataset(data_dir)
    assert after.spec("childcare").title_zh == "托育机构（托位）"
    assert after.spec("childcare").provenance == "user"
    undo_last(data_dir, "childcare")
    assert not load_dataset(data_dir).has("childcare")
    assert not (data_dir / "childcare.geojson").exists()


def test_indicators_use_the_imported_ledger(data_dir: Path, dataset: Dataset) -> None:
    from qjgeo.indicators.evaluate import evaluate

    ids = ["childcare_places_per_1000", "childcare_access"]
    before = evaluate(load_dataset(data_dir), indicators=ids).set_index(["id", "scope"])
    result = validate(read_table(GBK), dataset, "childcare", crs="gcj02", mode="replace")
    commit(data_dir, "childcare", result, mode="replace")
    after = evaluate(load_dataset(data_dir), indicators=ids).set_index(["id", "scope"])
    key = ("childcare_places_per_1000", "district")
    old_places = int(dataset.layer("childcare")["places"].sum())
    # numerator = childcare places + nursery places: only the childcare part changed
    assert after.loc[key, "numerator"] - before.loc[key, "numerator"] == 140 - old_places
    access = ("childcare_access", "district")
    assert "childcare" in before.loc[access, "weak_layers"]
    assert "childcare" not in after.loc[access, "weak_layers"]
    # the in-memory preview gives the same layer as the commit
    preview = preview_dataset(dataset, result, mode="replace")
    assert preview.layer("childcare")["name"].tolist() == result.features["name"].tolist()
    assert "childcare" not in preview.weak_layers()


# --- CLI -------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_dry_run_json_writes_nothing(data_dir: Path) -> None:
    before = (data_dir / "childcare.geojson").read_bytes()
    args = ["import", str(FIX / "childcare_wgs84_utf8.csv"), "--layer", "childcare"]
    out = runner.invoke(app, [*args, "--data", str(data_dir), "--dry-run", "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["rows_read"] == 4 and report["accepted"] == 3
    assert report["rejected"] == [
        {
            "row": 7,
            "reason": "longitude 'abc' is not a number",
            "reason_zh": "经度不是数字（'abc'）",
        }
    ]
    assert isinstance(report["warnings"], list) and report["committed"] is False
    assert (data_dir / "childcare.geojson").read_bytes() == before


def test_cli_commits_with_mapping_and_undoes(data_dir: Path) -> None:
    ledger = data_dir.parent / "台账.csv"
    ledger.write_bytes("机构,X,Y,核定\n甲,113.61,24.68,12\n".encode("gbk"))
    out = runner.invoke(
        app,
        ["import", str(ledger), "--layer", "kindergarten", "--data", str(data_dir),
         "--mode", "replace", "--map", "name=机构", "--map", "places=核定"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "accepted: 1" in out.stdout and "wrote" in out.stdout
    layer = load_dataset(data_dir).layer("kindergarten")
    assert layer["name"].tolist() == ["甲"] and layer["places"].tolist() == [12]
    out = runner.invoke(app, ["import-undo", "--layer", "kindergarten", "--data", str(data_dir)])
    assert out.exit_code == 0, out.output
    assert len(load_dataset(data_dir).layer("kindergarten")) == 28


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["nope.csv", "--layer", "childcare"], "nope.csv"),
     (["{fix}", "--layer", "district"], "cannot be imported"),
     (["{fix}", "--layer", "childcare", "--map", "places"], "FIELD=COLUMN"),
     (["{bad}", "--layer", "childcare"], "every row was rejected")],
)  # fmt: skip
def test_cli_bad_input_exits_2_without_traceback(
    data_dir: Path, args: list[str], needle: str
) -> None:
    bad = data_dir.parent / "bad.csv"
    bad.write_text("名称,经度,纬度\n,1,2\n", encoding="utf-8")
    before = (data_dir / "childcare.geojson").read_bytes()
    args = [a.format(fix=FIX / "childcare_wgs84_utf8.csv", bad=bad) for a in args]
    out = runner.invoke(app, ["import", *args, "--data", str(data_dir)])
    assert out.exit_code == 2
    assert needle in out.stderr and "Traceback" not in out.output
    assert (data_dir / "childcare.geojson").read_bytes() == before


def test_map_draws_the_imported_ledger_with_names_as_text(data_dir: Path, dataset: Dataset) -> None:
    from qjgeo.mapview.build import build_map

    name = "<script>alert('x')</script>阳光托育"
    raw = read_table(f'名称,经度,纬度,托位\n"{name}",113.61,24.68,10\n'.encode(), "a.csv")
    commit(data_dir, "childcare", validate(raw, dataset, "childcare"), mode="replace")
    html = build_map(load_dataset(data_dir), layers=["childcare"]).get_root().render()

    def shown(text: str) -> bool:  # folium embeds GeoJSON with non-ASCII as \u escapes
        return text in html or json.dumps(text)[1:-1] in html

    assert shown("阳光托育")  # the imported feature is on the map …
    assert "<script>alert" not in html and not shown("</script>阳光")  # … as text
    assert not shown("托育中心")  # the replaced sample facilities are gone


def test_gaps_and_exports_use_the_imported_ledger(data_dir: Path, dataset: Dataset) -> None:
    from qjgeo.export import export_bytes
    from qjgeo.gaps import compute_gaps

    assert compute_gaps(dataset, "childcare").data_status == "sample"
    result = validate(read_table(GBK), dataset, "childcare", crs="gcj02", mode="replace")
    commit(data_dir, "childcare", result, mode="replace")
    after = load_dataset(data_dir)
    gaps = compute_gaps(after, "childcare")
    # villages and townships are still estimates; the childcare layer no longer rests on samples
    assert gaps.data_status == "estimated" and "childcare" not in gaps.weak_layers
    new_ids = set(result.features["id"])
    reached = set(gaps.villages["facility_id"].dropna().astype(str)) - {""}
    assert reached and reached <= new_ids
    table = export_bytes("data", after, ".csv", layer="villages_access").decode("utf-8-sig")
    assert "CHI-U0001" in table and "CHI001" not in table
