"""Property test: 1,200 ledgers full of extreme numbers never crash the importer and never store
a value outside its field's plausible range.

Numbers come as ±inf, NaN, 1e308, −0, huge integers, text with units (``80个``, ``1,000 人``),
full-width digits, exponent forms and signs. Facility ledgers (childcare places, health-centre
doctors and beds, park area) and village updates (population and children by age) are both
tried; every accepted value must lie in :data:`~qjgeo.ingest.fields.FIELD_RANGES`, integer
columns must hold exact integers (no wrap-around), and no numpy warning may escape (the test
suite turns warnings into errors).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qjgeo import Dataset, load_dataset
from qjgeo.ingest.fields import FIELD_RANGES
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import IngestError

_EXTREME = [
    "inf", "-inf", "Infinity", "NaN", "nan", "1e308", "-1e308", "1.7976931348623157e308",
    "1e309", "-0", "-0.0", "0", "99999999999999999999999", "-99999999999999999999999",
    "9223372036854775808", "4294967296", "5000", "5001", "5000.4", "5000.6", "-0.4", "1e-320",
]  # fmt: skip
_FULL_WIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")


def _number_text() -> st.SearchStrategy[str]:
    plain = st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-100, 10_000).map(str),
        st.sampled_from(_EXTREME),
    )
    dressed = st.tuples(plain, st.sampled_from(["", "个", " 人", "张", "名", " ha", "万"])).map(
        "".join
    )
    return st.one_of(
        plain,
        dressed,
        plain.map(lambda t: t.translate(_FULL_WIDTH)),
        st.integers(0, 10**9).map(lambda v: f"{v:,}"),
    )


NUMBER = _number_text()
#: layer → the numeric fields it takes, with their Chinese headers.
FACILITY_FIELDS = {
    "childcare": {"places": "托位"},
    "kindergarten": {"places": "学位数", "nursery_places": "托班托位"},
    "health_centre": {
        "gp_or_paediatrician": "全科或儿科医生",
        "child_health_doctors": "儿童保健医生",
        "paediatric_doctors": "儿科医生",
        "paediatric_beds": "儿科床位",
    },
    "park": {"area_ha": "面积"},
}
VILLAGE_FIELDS = {
    "population": "人口",
    "pop_0_2": "0-2岁",
    "pop_3_5": "3-5岁",
    "pop_6_11": "6-11岁",
    "pop_12_14": "12-14岁",
}


@functools.cache
def _dataset() -> Dataset:
    return load_dataset()


def _check_ranges(frame: Any, fields: list[str]) -> None:
    for name in fields:
        if name not in frame.columns:
            continue
        values = frame[name].to_numpy()
        low, high = FIELD_RANGES[name]
        assert np.isfinite(values.astype(float)).all(), (name, values)
        assert ((values >= low) & (values <= high)).all(), (name, values)
        if values.dtype.kind == "i":
            assert (values.astype(float) == values).all()


@st.composite
def facility_ledgers(draw: Any) -> tuple[str, str, int]:
    layer = draw(st.sampled_from(sorted(FACILITY_FIELDS)))
    headers = FACILITY_FIELDS[layer]
    n = draw(st.integers(1, 6))
    lines = ["名称,经度,纬度," + ",".join(headers.values())]
    for i in range(n):
        cells = [f"点{i}", f"{113.55 + i * 0.01:.4f}", "24.68"]
        cells += [draw(NUMBER).replace(",", "") for _ in headers]
        lines.append(",".join(cells))
    return layer, "\n".join(lines) + "\n", n


@settings(
    max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(facility_ledgers())
def test_extreme_numbers_in_facility_ledgers(case: tuple[str, str, int]) -> None:
    layer, text, n = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or cast warning may reach a user
        raw = read_table(text.encode("utf-8"), "n.csv")
        result = validate(raw, _dataset(), layer)
    report = result.report
    assert report.rows_read == n == report.accepted + len(report.rejected)
    for rejected in report.rejected:
        assert rejected["reason"] and rejected["reason_zh"]
    _check_ranges(result.features, list(FACILITY_FIELDS[layer]))


@st.composite
def village_ledgers(draw: Any) -> tuple[str, int]:
    names = _dataset().layer("village")["name"].astype(str).tolist()
    picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    fields = draw(
        st.lists(st.sampled_from(sorted(VILLAGE_FIELDS)), min_size=1, max_size=5, unique=True)
    )
    lines = ["村名称," + ",".join(VILLAGE_FIELDS[f] for f in fields)]
    for name in picked:
        lines.append(",".join([name, *(draw(NUMBER).replace(",", "") for _ in fields)]))
    return "\n".join(lines) + "\n", len(picked)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(village_ledgers())
def test_extreme_numbers_in_village_updates(case: tuple[str, int]) -> None:
    text, n = case
    dataset = _dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = read_table(text.encode("utf-8"), "v.csv")
        try:
            result = validate(raw, dataset, "village")
        except IngestError:  # e.g. no column left that the village update can use
            return
    report = result.report
    assert report.rows_read == n == report.accepted + len(report.rejected)
    assert len(result.features) == len(dataset.layer("village"))  # every village kept
    _check_ranges(result.features, list(VILLAGE_FIELDS))
