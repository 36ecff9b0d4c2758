"""OSM extract → dataset directory (qjgeo.osm_import) and the ``osm-import`` command.

Feature counts are checked against an independent recount of the XML with xml.etree.
"""

from __future__ import annotations

import bz2
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qjgeo import Dataset, load_dataset
from qjgeo.cli import app
from qjgeo.gaps import compute_gaps
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.safety import IngestError
from qjgeo.network import load_walk_graph
from qjgeo.osm_import import (
    LAYER_TAGS,
    NETWORK_FILE,
    NO_OSM_TAG_LAYERS,
    OSM_TAGS,
    OsmImportError,
    classify_features,
    import_osm,
    select_layer,
    union_tags,
)
from qjgeo.schema import FACILITY_LAYERS, HAZARD_LAYERS, REQUIRED_COLUMNS

runner = CliRunner()

# the importer's tag mapping, written out again independently (None: any value)
RULES: dict[str, list[tuple[str, set[str] | None]]] = {
    "park": [("leisure", {"park", "playground"})],
    "kindergarten": [("amenity", {"kindergarten"})],
    "childcare": [("amenity", {"childcare"})],
    "primary_school": [("amenity", {"school"})],
    "science_venue": [("amenity", {"library"}), ("tourism", {"museum"})],
    "health_centre": [("amenity", {"hospital", "clinic", "doctors"}), ("healthcare", None)],
    "internet_cafe": [("amenity", {"internet_cafe"}), ("leisure", {"amusement_arcade"})],
    "water_hazard": [
        ("natural", {"water"}),
        ("water", {"reservoir", "pond"}),
        ("waterway", {"river", "stream", "canal"}),
        ("landuse", {"reservoir"}),
    ],
}


def recount(path: Path) -> dict[str, int]:
    """Count elements per layer whose geometry is complete in the file."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rb") as handle:
        root = ET.parse(handle).getroot()
    nodes = {n.get("id") for n in root.iter("node")}
    ways = {w.get("id"): [nd.get("ref") for nd in w.iter("nd")] for w in root.iter("way")}
    complete_ways = {w for w, refs in ways.items() if refs and all(r in nodes for r in refs)}
    counts = dict.fromkeys(RULES, 0)
    for elem in root:
        if elem.tag not in ("node", "way", "relation"):
            continue
        tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
        if elem.tag == "way" and elem.get("id") not in complete_ways:
            continue
        if elem.tag == "relation":
            members = [m.get("ref") for m in elem.iter("member") if m.get("type") == "way"]
            if not members or not all(m in complete_ways for m in members):
                continue
        if elem.tag == "node" and not tags:
            continue
        for layer, rules in RULES.items():
            if any(matches(tags.get(k), values) for k, values in rules):
                counts[layer] += 1
    return counts


def matches(value: str | None, values: set[str] | None) -> bool:
    """Whether a tag value is one the rule takes (``values`` None: any value)."""
    return value is not None and (values is None or value in values)


@pytest.fixture(scope="module")
def oakland(osm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_osm(osm_dir / "West-Oakland.osm.bz2", tmp_path_factory.mktemp("o") / "oak")


def test_west_oakland_counts_match_recount(oakland: Path, osm_dir: Path) -> None:
    ds = load_dataset(oakland)
    expected = recount(osm_dir / "West-Oakland.osm.bz2")
    assert {k: len(ds.layer(k)) for k in RULES} == expected
    # and what SOURCES.md says: 1 park, 1 playground, 1 school
    parks = ds.layer("park")
    assert sorted(parks["kind"]) == ["park", "playground"]
    assert len(ds.layer("primary_school")) == 1
    assert ds.layer("primary_school")["name"].iloc[0] == "Prescott School"
    assert parks["has_play_area"].all()  # the playground, and the park holding it
    for layer_id in ds.layer_ids:
        spec = ds.spec(layer_id)
        assert spec.provenance == "osm" and spec.licence == "ODbL 1.0"
        assert "OpenStreetMap contributors" in spec.source
        assert set(ds.layer(layer_id)["provenance"]) <= {"osm"}
    assert "ODbL" in ds.info.attribution
    assert (parks.geom_type == "Point").all()
    # never sample or estimated ("osm" where the catalog reports that status)
    assert ds.data_status(ds.layer_ids) in ("osm", "official")


def test_munich_counts_match_recount(osm_dir: Path, tmp_path: Path) -> None:
    out = import_osm(osm_dir / "munich_small.osm", tmp_path / "munich")
    ds = load_dataset(out)
    assert {k: len(ds.layer(k)) for k in RULES} == recount(osm_dir / "munich_small.osm")
    # the museum is a relation whose member ways are cut off by the extract: left out, said so
    assert "1 tagged element(s) left out" in ds.info.description
    # empty layers are valid and keep their columns
    assert len(ds.layer("water_hazard")) == 0
    assert {"fenced", "protection_known"} <= set(ds.layer("water_hazard").columns)
    assert (out / NETWORK_FILE).is_file()


def test_layers_command_on_import(oakland: Path) -> None:
    result = runner.invoke(app, ["layers", "--data", str(oakland)])
    assert result.exit_code == 0, result.output
    assert "park" in result.output and "OpenStreetMap" in result.output


def test_gaps_run_on_import_with_its_network(oakland: Path) -> None:
    ds = load_dataset(oakland)
    # no village layer: stated, not a crash
    cli = runner.invoke(app, ["gaps", "--type", "park", "--data", str(oakland)])
    assert cli.exit_code == 2 and "no village layer" in cli.output
    # a planner adds demand points (user data) and runs the gaps on the OSM walking network
    graph = load_walk_graph(oakland / NETWORK_FILE)
    assert graph.crs == "EPSG:32610"  # local UTM: the extract is outside EPSG:4547's area
    node_pts = gpd.GeoSeries(shapely.points(graph.xy[[0, 10, 20]]), crs=graph.crs).to_crs(4326)
    villages = gpd.GeoDataFrame(
        {
            "code12": ["1", "2", "3"],
            "name": ["a", "b", "c"],
            "township_code": ["t", "t", "t"],
            "ur_code": ["111"] * 3,
            "urban": [True] * 3,
            "tap_water": [True] * 3,
            "provenance": ["user"] * 3,
            "population": [100] * 3,
            "pop_0_2": [5] * 3,
            "pop_3_5": [5] * 3,
            "pop_6_11": [10] * 3,
            "pop_12_14": [5] * 3,
            "pop_0_14": [25] * 3,
        },
        geometry=node_pts.to_numpy(),
        crs=4326,
    )
    spec = ds.spec("park").model_copy(update={"id": "village", "kind": "admin"})
    r = compute_gaps(ds.with_layer("village", villages, spec), "park", graph=graph)
    assert r.method == "network"
    dist = r.villages["distance_m"].to_numpy()
    assert np.isfinite(dist).all()
    straight = (
        villages.to_crs(graph.crs)
        .geometry.distance(ds.layer("park").to_crs(graph.crs).geometry.union_all())
        .to_numpy()
    )
    assert (dist >= straight - 1e-6).all()  # walking is never shorter than the straight line
    assert set(r.villages["method"]) == {"network"}


SYNTHETIC = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" timestamp="2024-05-01T00:00:00Z">
  <bounds minlon="113.590" minlat="24.680" maxlon="113.610" maxlat="24.700"/>
  <node id="1" lat="24.681" lon="113.591"/>
  <node id="2" lat="24.681" lon="113.599"/>
  <node id="3" lat="24.689" lon="113.599"/>
  <node id="4" lat="24.689" lon="113.591"/>
  <node id="5" lat="24.685" lon="113.595"><tag k="leisure" v="playground"/></node>
  <node id="6" lat="24.690" lon="113.600"><tag k="amenity" v="kindergarten"/><tag k="name" v="一幼"/><tag k="capacity" v="120"/></node>
  <node id="7" lat="24.691" lon="113.601"><tag k="amenity" v="childcare"/></node>
  <node id="8" lat="24.692" lon="113.602"><tag k="amenity" v="library"/></node>
  <node id="9" lat="24.693" lon="113.603"><tag k="amenity" v="school"/><tag k="isced:level" v="1"/></node>
  <node id="10" lat="24.694" lon="113.604"/>
  <node id="11" lat="24.695" lon="113.605"/>
  <node id="12" lat="24.696" lon="113.606"/>
  <node id="13" lat="24.696" lon="113.607"/>
  <node id="14" lat="24.697" lon="113.607"/>
  <node id="15" lat="24.699" lon="113.609"><tag k="natural" v="water"/><tag k="water" v="pond"/></node>
  <node id="16" lat="24.682" lon="113.592"><tag k="amenity" v="hospital"/><tag k="healthcare" v="hospital"/><tag k="name" v="区人民医院"/><tag k="beds" v="300"/></node>
  <node id="17" lat="24.683" lon="113.593"><tag k="amenity" v="pharmacy"/><tag k="healthcare" v="pharmacy"/></node>
  <node id="18" lat="24.684" lon="113.594"><tag k="amenity" v="internet_cafe"/><tag k="name" v="星空网吧"/></node>
  <node id="19" lat="24.686" lon="113.596"><tag k="leisure" v="amusement_arcade"/></node>
  <node id="20" lat="24.687" lon="113.597"><tag k="amenity" v="community_centre"/><tag k="name" v="社区服务中心"/></node>
  <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="leisure" v="park"/><tag k="name" v="河滨公园"/></way>
  <way id="101"><nd ref="10"/><nd ref="11"/><tag k="waterway" v="stream"/></way>
  <way id="102"><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="12"/><tag k="landuse" v="reservoir"/></way>
  <way id="103"><nd ref="1"/><nd ref="10"/><nd ref="11"/><tag k="highway" v="footway"/></way>
</osm>
"""
#: the same with a canal and a footway cut off by the extract's edge (nodes 98, 99 missing)
CLIPPED = SYNTHETIC.replace(
    "</osm>",
    '<way id="104"><nd ref="2"/><nd ref="99"/><tag k="waterway" v="canal"/></way>'
    '<way id="105"><nd ref="11"/><nd ref="12"/><nd ref="98"/><nd ref="13"/><nd ref="14"/>'
    '<tag k="highway" v="footway"/></way></osm>',
)


def test_tag_mapping_on_synthetic_extract(tmp_path: Path) -> None:
    src = tmp_path / "tiny.osm"
    src.write_text(SYNTHETIC, encoding="utf-8")
    ds = load_dataset(import_osm(src, tmp_path / "out"))
    assert {k: len(ds.layer(k)) for k in RULES} == recount(src)
    park = ds.layer("park").set_index("kind")
    assert bool(park.loc["park", "has_play_area"])  # contains the playground node
    assert park.loc["park", "name"] == "河滨公园"
    kg = ds.layer("kindergarten")
    assert kg["places"].iloc[0] == 120 and not kg["puhui_known"].iloc[0]
    assert math.isnan(ds.layer("childcare")["places"].iloc[0])  # untagged: unknown, not 0
    assert ds.layer("primary_school")["school_level"].iloc[0] == "1"
    water = ds.layer("water_hazard").set_index("kind")
    assert set(water.index) == {"stream", "reservoir", "pond"}
    assert not water["protection_known"].any() and not water["fenced"].any()
    # amenity first, else the healthcare value: a pharmacy is kept, and says so
    health = ds.layer("health_centre").set_index("kind")
    assert set(health.index) == {"hospital", "pharmacy"}
    assert health.loc["hospital", "name"] == "区人民医院"
    counts = ["gp_or_paediatrician", "child_health_doctors", "paediatric_doctors"]
    assert health[[*counts, "paediatric_beds"]].isna().all().all()  # unknown, not 0
    assert not health["counts_known"].any()
    assert "counts_known false" in ds.spec("health_centre").notes
    assert sorted(ds.layer("internet_cafe")["kind"]) == ["amusement_arcade", "internet_cafe"]
    # a community centre is not a children's home: no layer takes it
    assert not any((ds.layer(k)["name"] == "社区服务中心").any() for k in RULES)
    for layer_id in RULES:
        assert set(REQUIRED_COLUMNS[layer_id]) <= set(ds.layer(layer_id).columns), layer_id
    assert ds.spec("park").as_of == "2024-05-01"
    district = ds.layer("district").geometry.iloc[0]
    assert district.equals(shapely.box(113.590, 24.680, 113.610, 24.700))
    assert load_walk_graph(tmp_path / "out" / NETWORK_FILE).crs == "EPSG:4547"


def test_clipped_extract_still_imports(tmp_path: Path) -> None:
    src = tmp_path / "clipped.osm"
    src.write_text(CLIPPED, encoding="utf-8")
    ds = load_dataset(import_osm(src, tmp_path / "out"))
    assert {k: len(ds.layer(k)) for k in RULES} == recount(src)
    assert "canal" not in set(ds.layer("water_hazard")["kind"])  # geometry incomplete
    assert "1 tagged element(s) left out" in ds.info.description
    # osmnx refuses ways with missing nodes: the footway is split at node 98, not bridged
    assert "2 way(s) cut by the extract's edge were split" in ds.info.description
    graph = load_walk_graph(tmp_path / "out" / NETWORK_FILE)
    # pieces 1-10-11-12 and 13-14 stay apart (two components), no straight shortcut 12-13
    assert len(set(graph.component_labels.tolist())) == 2


def test_no_bounds_uses_node_box_and_empty_file_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "nobounds.osm"
    src.write_text(
        SYNTHETIC.replace(
            '<bounds minlon="113.590" minlat="24.680" maxlon="113.610" maxlat="24.700"/>', ""
        ),
        encoding="utf-8",
    )
    ds = load_dataset(import_osm(src, tmp_path / "out"))
    bounds = ds.layer("district").total_bounds
    assert bounds == pytest.approx([113.591 - 1e-4, 24.681 - 1e-4, 113.609 + 1e-4, 24.699 + 1e-4])
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version=\"0.6\"></osm>", encoding="utf-8")
    with pytest.raises(OsmImportError, match="no nodes"):
        import_osm(empty, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_refuses_to_overwrite_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    src = tmp_path / "tiny.osm"
    src.write_text(SYNTHETIC, encoding="utf-8")
    out = tmp_path / "out"
    import_osm(src, out)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(OsmImportError, match="not empty"):
        import_osm(src, out)
    assert sorted(p.name for p in out.iterdir()) == before
    import_osm(src, out, overwrite=True)
    assert load_dataset(out).info.id == "osm_tiny"

    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(OsmImportError, match=r"bad\.osm"):
        import_osm(bad, tmp_path / "never")
    assert not (tmp_path / "never").exists()
    with pytest.raises(OsmImportError, match="does not exist"):
        import_osm(tmp_path / "missing.osm", tmp_path / "never")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_osm_import_command(tmp_path: Path) -> None:
    src = tmp_path / "tiny.osm"
    src.write_text(SYNTHETIC, encoding="utf-8")
    result = runner.invoke(app, ["osm-import", str(src), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "OpenStreetMap contributors" in result.output and "park 2" in result.output
    again = runner.invoke(app, ["osm-import", str(src), "--out", str(tmp_path / "d")])
    assert again.exit_code == 2 and "--overwrite" in again.output
    forced = runner.invoke(
        app, ["osm-import", str(src), "--out", str(tmp_path / "d"), "--overwrite"]
    )
    assert forced.exit_code == 0, forced.output


TAG_POOL = [
    ("leisure", "park"),
    ("leisure", "playground"),
    ("leisure", "garden"),  # not imported
    ("amenity", "kindergarten"),
    ("amenity", "childcare"),
    ("amenity", "school"),
    ("amenity", "library"),
    ("amenity", "cafe"),  # not imported
    ("tourism", "museum"),
    ("natural", "water"),
    ("water", "pond"),
    ("waterway", "stream"),
    ("waterway", "ditch"),  # not imported
    ("landuse", "reservoir"),
    ("amenity", "hospital"),
    ("amenity", "pharmacy"),  # not imported (unless it has a healthcare tag)
    ("amenity", "community_centre"),  # not imported: not a children's home
    ("healthcare", "dentist"),  # any healthcare value
    ("amenity", "internet_cafe"),
    ("leisure", "amusement_arcade"),
]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.floats(24.60, 24.70),
            st.floats(113.50, 113.60),
            st.lists(st.sampled_from(TAG_POOL), max_size=2, unique_by=lambda kv: kv[0]),
            st.one_of(st.none(), st.text("公园学校 abc", min_size=1, max_size=6)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_property_counts_match_recount(tmp_path: Path, nodes: list) -> None:  # type: ignore[type-arg]
    """Any set of tagged nodes: every layer holds exactly the nodes its tags select."""
    body = []
    for i, (lat, lon, tags, name) in enumerate(nodes, start=1):
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags)
        if name is not None and tags:
            tag_xml += f'<tag k="name" v="{name}"/>'
        body.append(f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}">{tag_xml}</node>')
    src = tmp_path / f"p{abs(hash(str(nodes)))}.osm"
    src.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">" + "".join(body) + "</osm>",
        encoding="utf-8",
    )
    out = import_osm(src, tmp_path / src.stem, overwrite=True)
    ds = load_dataset(out)
    assert {k: len(ds.layer(k)) for k in RULES} == recount(src)
    for layer_id in RULES:
        frame = ds.layer(layer_id)
        assert frame["id"].is_unique and (frame["provenance"] == "osm").all()


def test_gap_surface_on_import_without_villages(oakland: Path, tmp_path: Path) -> None:
    from qjgeo.gaps import gap_surface, work_crs

    ds = load_dataset(oakland)
    assert work_crs(ds) == "EPSG:32610"  # straight lines in local UTM, not EPSG:4547
    graph = load_walk_graph(oakland / NETWORK_FILE)
    cells = gap_surface(ds, "park", cell_size_m=40, graph=graph)
    assert len(cells) > 10
    # the whole extract outline is covered; classes are unknown without villages
    assert cells["covered"].isna().all() and cells["urban"].isna().all()
    assert (cells["children"] == 0).all()
    net = cells[cells["method"] == "network"]
    assert len(net) >= len(cells) - 3 and np.isfinite(net["distance_m"]).all()
    assert set(cells.loc[cells["method"] != "network", "distance_band"]) <= {"unreachable"}
    # straight line × 1.3 without the network, measured in metres (UTM): same order of size
    rough = gap_surface(ds, "park", cell_size_m=40)
    assert rough["method"].eq("straight_line_x_detour").all()
    assert rough["distance_m"].max() < 1000  # the extract is ≈ 400 m across
    out = tmp_path / "hex.gpkg"
    cli = runner.invoke(
        app, ["gaps", "--type", "park", "--data", str(oakland), "--surface", str(out)]
    )
    assert cli.exit_code == 0, cli.output
    assert "no village layer" in cli.output and "dataset default" in cli.output
    assert len(gpd.read_file(out)) > 0


def test_load_walk_graph_reads_a_clipped_extract_directly(tmp_path: Path) -> None:
    # `--network FILE.osm` goes through load_walk_graph, not the importer: same trimming
    src = tmp_path / "clipped.osm"
    src.write_text(CLIPPED, encoding="utf-8")
    graph = load_walk_graph(src)
    assert graph.n_nodes > 0
    assert len(set(graph.component_labels.tolist())) == 2  # no shortcut across node 98


# ---------------------------------------------------------------------------
# One tag table (LAYER_TAGS) for the importer and the ledger importer's OSM reader


def test_layer_tags_are_the_rules_and_cover_every_canonical_layer() -> None:
    as_rules = {
        layer: {k: set(v) if isinstance(v, list) else None for k, v in table.items()}
        for layer, table in LAYER_TAGS.items()
    }
    assert as_rules == {layer: dict(rules) for layer, rules in RULES.items()}
    # every facility / hazard layer is either read from OSM or refused, never both
    assert not set(LAYER_TAGS) & set(NO_OSM_TAG_LAYERS)
    assert set(LAYER_TAGS) | set(NO_OSM_TAG_LAYERS) == {*FACILITY_LAYERS, *HAZARD_LAYERS}
    for layer_id in NO_OSM_TAG_LAYERS:
        with pytest.raises(KeyError, match=layer_id):
            select_layer(pd.DataFrame({"amenity": ["community_centre"]}), layer_id)


def test_union_tags_by_hand() -> None:
    merged = union_tags([{"a": ["y", "x"]}, {"a": ["x", "z"], "b": ["q"]}, {"b": True}])
    assert merged == {"a": ["x", "y", "z"], "b": True}
    assert union_tags([{"b": True}, {"b": ["q"]}]) == {"b": True}
    assert OSM_TAGS["healthcare"] is True
    assert OSM_TAGS["amenity"] == sorted(
        {"kindergarten", "childcare", "school", "library"}
        | {"hospital", "clinic", "doctors", "internet_cafe"}
    )


#: tags no layer takes (a community centre or social facility is not a 儿童之家 / 工作站)
DECOYS = [
    {"amenity": "cafe"},
    {"amenity": "community_centre"},
    {"amenity": "social_facility"},
    {"amenity": "pharmacy"},
    {"leisure": "garden"},
    {"waterway": "ditch"},
    {"shop": "toys"},
]


def test_every_layer_round_trips_through_its_predicate() -> None:
    """One feature per (layer, key, value) of LAYER_TAGS: each lands in its layer only."""
    rows: list[dict[str, str]] = []
    origin: list[str | None] = []
    for layer_id, table in LAYER_TAGS.items():
        for key, values in table.items():
            for value in values if isinstance(values, list) else ["any-value"]:
                rows.append({key: value, "name": f"{layer_id}:{key}={value}"})
                origin.append(layer_id)
    rows += DECOYS
    origin += [None] * len(DECOYS)
    index = pd.MultiIndex.from_arrays(
        [["node"] * len(rows), list(range(1, len(rows) + 1))], names=["element", "id"]
    )
    points = shapely.points(np.linspace(0, 0.01, len(rows)), np.zeros(len(rows)))
    features = gpd.GeoDataFrame(pd.DataFrame(rows, index=index), geometry=points, crs=4326)
    layers = classify_features(features)
    assert set(layers) == set(LAYER_TAGS)
    for layer_id in LAYER_TAGS:
        expected = [o == layer_id for o in origin]
        assert select_layer(features, layer_id).tolist() == expected, layer_id
        # the independent rules agree
        by_rules = [any(matches(r.get(k), v) for k, v in RULES[layer_id]) for r in rows]
        assert by_rules == expected, layer_id
        frame = layers[layer_id]
        assert list(frame["id"]) == [f"node/{i + 1}" for i, e in enumerate(expected) if e]
        # kind is the tag value that selected the feature
        assert list(frame["kind"]) == [
            next(v for k, v in rows[i].items() if k != "name") for i, e in enumerate(expected) if e
        ]
        assert set(REQUIRED_COLUMNS[layer_id]) <= set(frame.columns)
    # the union (osmnx tags=) keeps every feature some layer takes and none of the decoys
    kept = pd.Series(False, index=features.index)
    for key, wanted in OSM_TAGS.items():
        col = features[key] if key in features else pd.Series(None, index=features.index)
        kept |= (
            col.notna() if wanted is True else col.isin(wanted if isinstance(wanted, list) else [])
        )
    assert kept.tolist() == [o is not None for o in origin]


def assert_reader_picks_what_importer_picks(data: bytes, ds: Dataset) -> int:
    """Per layer, the ingest OSM reader's features are the import's; returns how many."""
    picked = 0
    for layer_id in LAYER_TAGS:
        ids = set(ds.layer(layer_id)["id"])
        try:
            raw = read_table(data, "extract.osm", layer_id=layer_id)
        except IngestError as exc:
            assert f"no {layer_id} features" in str(exc)
            assert ids == set(), layer_id
            continue
        assert len(raw) == len(ids) and set(raw.rows["osm_id"]) == ids, layer_id
        picked += len(ids)
    return picked


def test_reader_and_importer_agree_on_west_oakland(oakland: Path, osm_dir: Path) -> None:
    data = bz2.decompress((osm_dir / "West-Oakland.osm.bz2").read_bytes())
    # 1 park, 1 playground, 1 school (SOURCES.md); nothing else the layers take
    assert assert_reader_picks_what_importer_picks(data, load_dataset(oakland)) == 3


def test_reader_and_importer_agree_on_synthetic_extract(tmp_path: Path) -> None:
    src = tmp_path / "tiny.osm"
    src.write_text(SYNTHETIC, encoding="utf-8")
    ds = load_dataset(import_osm(src, tmp_path / "out"))
    # park 2, kindergarten, childcare, school, library, water 3, health 2, internet 2
    assert assert_reader_picks_what_importer_picks(src.read_bytes(), ds) == 13
