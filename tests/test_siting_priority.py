"""Priority groups (留守/困境/流动/残疾儿童), capacities from served demand, 'places' demand.

Hand-worked expectations on constructed cases: the bundled data carries no priority counts,
so each test writes its own (labelled ``sample`` where the label is what is tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qjgeo import Dataset, load_dataset
from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.gaps import compute_gaps
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.priority import priority_share, priority_status, weighted_children
from qjgeo.siting import recommend_sites, recommendation_to_scenario
from qjgeo.siting.coverage import coverage_matrix


def _with_priority(dataset: Dataset, counts: dict[int, float], source: str = "user") -> Dataset:
    villages = dataset.layer("village").copy()
    villages["left_behind_children"] = np.nan
    villages["priority_source"] = None
    for pos, n in counts.items():
        villages.loc[villages.index[pos], "left_behind_children"] = n
        villages.loc[villages.index[pos], "priority_source"] = source
    return dataset.with_layer("village", villages)


def test_weighting_by_hand() -> None:
    villages = pd.DataFrame({"pop_0_14": [100.0, 50.0, 0.0], "left_behind_children": [25, 60, 3]})
    # shares 0.25, 1 (capped), 1 (children counted but no 0–14 figure)
    assert priority_share(villages).tolist() == [0.25, 1.0, 1.0]
    children = np.array([10.0, 10.0, 10.0])
    # ×3: 10 × (1 + 2 × 0.25) = 15; 10 × 3 = 30
    assert weighted_children(children, villages, 3).tolist() == [15.0, 30.0, 30.0]
    assert weighted_children(children, villages, 1) is children
    with pytest.raises(ValueError, match="priority weight"):
        weighted_children(children, villages, 0.5)


def test_bundled_data_says_it_has_no_priority_counts(dataset: Dataset) -> None:
    status, note, note_zh = priority_status(dataset.layer("village"))
    assert status == "none" and "bundled data has none" in note and "内置数据不含" in note_zh
    rec = recommend_sites(dataset, "children_home", k=1)
    assert any("bundled data has none" in n for n in rec.notes)
    with pytest.raises(ValueError, match="no counts of left-behind"):
        recommend_sites(dataset, "children_home", k=1, demand="priority")
    with pytest.raises(ValueError, match="priority weight"):
        recommend_sites(dataset, "children_home", k=1, priority_weight=3)


def test_sample_counts_are_labelled_sample(dataset: Dataset) -> None:
    data = _with_priority(dataset, {0: 12, 5: 30}, source="sample")
    status, note, note_zh = priority_status(data.layer("village"))
    assert status == "sample" and "sample figures, not facts" in note and "样例" in note_zh
    rec = recommend_sites(data, "children_home", k=1, priority_weight=2)
    assert any("not facts" in n for n in rec.notes) and any("样例" in n for n in rec.notes_zh)


def _uncovered_village_off_site(dataset: Dataset, rec_site: str) -> int:
    """The village with most children 0–2 that no childcare covers and the site does not."""
    villages = dataset.layer("village")
    cands = villages.assign(candidate_id=villages["code12"])
    cov = coverage_matrix(dataset, "childcare", cands).toarray()
    existing = dataset.layer("childcare")
    done = coverage_matrix(dataset, "childcare", existing).toarray().any(axis=1)
    site = int(np.flatnonzero(villages["code12"].astype(str) == rec_site)[0])
    free = ~done & ~cov[:, site] & (villages["pop_0_2"].to_numpy() > 0)
    return int(np.argmax(np.where(free, villages["pop_0_2"].to_numpy(), -1)))


def test_priority_weight_changes_the_recommendation(dataset: Dataset) -> None:
    """Left-behind children in a village away from the best site pull the site to them."""
    plain = recommend_sites(dataset, "childcare", k=1)
    target = _uncovered_village_off_site(dataset, str(plain.sites["candidate_id"].iloc[0]))
    pop_0_14 = float(dataset.layer("village")["pop_0_14"].iloc[target])
    data = _with_priority(dataset, {target: pop_0_14})  # every child there is left behind
    same = recommend_sites(data, "childcare", k=1)  # weight 1: counts change nothing
    assert same.sites["candidate_id"].tolist() == plain.sites["candidate_id"].tolist()
    weighted = recommend_sites(data, "childcare", k=1, priority_weight=50)
    exact = recommend_sites(data, "childcare", k=1, priority_weight=50, method="exact")
    assert weighted.sites["candidate_id"].tolist() != plain.sites["candidate_id"].tolist()
    assert exact.result.objective >= weighted.result.objective - 1e-9
    only = recommend_sites(data, "childcare", k=1, demand="priority")
    assert only.unit == "priority-group children"
    cands = data.layer("village").assign(candidate_id=data.layer("village")["code12"])
    cov = coverage_matrix(data, "childcare", cands).toarray()
    for rec in (weighted, only):
        pos = int(np.flatnonzero(cands["code12"] == rec.sites["candidate_id"].iloc[0])[0])
        assert cov[target, pos], "the chosen site reaches the village of left-behind children"


def test_gaps_report_uncovered_priority_children_per_township(dataset: Dataset) -> None:
    data = _with_priority(dataset, {0: 7, 1: 5, 2: 9})
    gaps = compute_gaps(data, "children_home")
    v = gaps.villages
    assert "left_behind_children_uncovered" in gaps.townships.columns
    lb = data.layer("village")["left_behind_children"].fillna(0).to_numpy()
    assert v["left_behind_children_uncovered"].tolist() == np.where(v["covered"], 0, lb).tolist()
    assert gaps.townships["left_behind_children_uncovered"].sum() == pytest.approx(
        float(np.where(v["covered"], 0, lb).sum())
    )


def test_capacity_follows_the_demand_served(dataset: Dataset) -> None:
    kg = recommend_sites(dataset, "kindergarten", k=2)
    # one place per child 3–5 of the villages each site newly serves
    assert kg.sites["places"].tolist() == [max(1, round(c)) for c in kg.sites["served_children"]]
    assert kg.sites["served_children"].sum() == pytest.approx(kg.result.objective)
    scen = recommendation_to_scenario(kg, "kg_test")
    assert [a.attributes["places"] for a in scen.add] == kg.sites["places"].tolist()
    assert "3–5" in scen.add[0].assumptions[0] and "3–5" in scen.add[0].assumptions[1]
    edited = recommendation_to_scenario(kg, "kg_test", places=[100, int(kg.sites["places"][1])])
    assert edited.add[0].attributes["places"] == 100
    assert edited.add[0].assumptions[0].startswith("places set by the planner (derived")
    assert edited.add[0].assumptions[1].startswith("由规划人员设定")
    assert "assumed" in edited.add[1].assumptions[0]
    with pytest.raises(ValueError, match="2 sites"):
        recommendation_to_scenario(kg, "kg_test", places=[1])
    with pytest.raises(ValueError, match="site 2"):
        recommendation_to_scenario(kg, "kg_test", places=[1, -3])
    school = recommendation_to_scenario(recommend_sites(dataset, "primary_school", k=1), "s")
    assert "placeholder" in school.add[0].assumptions[0]


def test_places_demand_counts_children_without_a_place(dataset: Dataset) -> None:
    rec = recommend_sites(dataset, "childcare", k=3, demand="places")
    plain = recommend_sites(dataset, "childcare", k=3)
    assert rec.unit == "children without a place"
    assert any("2SFCA" in n for n in rec.notes)
    # a village counts at most its children: the weights never exceed plain demand
    assert rec.result.total_weight <= plain.result.total_weight + 1e-9
    assert np.all(rec.result.gains > 0)
    with pytest.raises(ValueError, match="for childcare"):
        recommend_sites(dataset, "kindergarten", k=1, demand="places")


def test_village_ledger_imports_priority_counts(dataset: Dataset) -> None:
    villages = dataset.layer("village").iloc[:3]
    lines = ["村代码,村（社区）,留守儿童,困境儿童,重点儿童数据来源"]
    for code, name, n in zip(villages["code12"], villages["short_name"], (4, 0, 7), strict=True):
        lines.append(f"{code},{name},{n},1,样例")
    fourth = dataset.layer("village").iloc[3]
    lines.append(f"{fourth['code12']},{fourth['short_name']},abc,1,")
    raw = read_table(("\n".join(lines) + "\n").encode("utf-8"), "村台账.csv")
    result = validate(raw, dataset, "village")
    rep = result.report
    assert rep.accepted == 3 and rep.rows_read == 4 and len(rep.rejected) == 1
    assert rep.rejected[0]["row"] == 5 and "left_behind_children is not a number" in str(
        rep.rejected
    )
    assert "留守儿童人数不是数字" in rep.rejected[0]["reason_zh"]
    out = result.features
    assert out["left_behind_children"].iloc[:3].tolist() == [4, 0, 7]
    assert out["children_in_difficulty"].iloc[:3].tolist() == [1, 1, 1]
    assert out["priority_source"].iloc[:3].tolist() == ["sample"] * 3
    assert out["left_behind_children"].iloc[3:].isna().all()
    assert priority_status(out)[0] == "sample"


def test_bundled_village_layer_notes_say_no_priority_counts() -> None:
    # the bundled folder itself: the session's dataset may be a working copy made earlier
    bundled = load_dataset(DEFAULT_DATA_DIR)
    assert "留守/困境/流动/残疾儿童" in bundled.spec("village").notes
