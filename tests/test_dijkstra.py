"""qjgeo.dijkstra: the nearest-source search, both backends, against scipy per source."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

import qjgeo.dijkstra as qd
from qjgeo.dijkstra import available_backends, nearest_source

BACKENDS = available_backends()


def test_numba_backend_is_installed() -> None:
    # numba is a runtime requirement: the fast backend must be the one that runs
    assert "delta" in BACKENDS


def _csr(n: int, u: list[int], v: list[int], w: list[float]) -> tuple[np.ndarray, ...]:
    """Undirected graph (each edge both ways) as CSR arrays, duplicates kept."""
    rows = np.array(u + v, dtype=np.int64)
    cols = np.array(v + u, dtype=np.int64)
    vals = np.array(w + w, dtype=np.float64)
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.add.at(indptr, rows + 1, 1)
    return (
        np.cumsum(indptr).astype(np.int32),
        cols[order].astype(np.int32),
        vals[order],
    )


def _reference(indptr, indices, weights, src, off, limit):  # type: ignore[no-untyped-def]
    """Distance per node = min over sources of offset + plain single-source Dijkstra."""
    n = indptr.size - 1
    graph = csr_array((weights, indices, indptr), shape=(n, n))
    if src.size == 0:
        return np.full(n, np.inf), np.zeros((0, n))
    per_source = dijkstra(graph, directed=True, indices=src) + off[:, None]
    best = per_source.min(axis=0)
    best[best > limit] = np.inf
    return best, per_source


@st.composite
def instances(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 30))
    m = draw(st.integers(0, 60))
    # weights include 0 and ties (multiples of 0.5) and a few long edges
    weight = st.one_of(
        st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]),
        st.floats(0.0, 50.0, allow_nan=False),
        st.floats(100.0, 5000.0),
    )
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(weight, min_size=m, max_size=m))
    k = draw(st.integers(0, 6))
    src = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    off = draw(
        st.lists(st.sampled_from([0.0, 0.5, 3.0]) | st.floats(0, 500), min_size=k, max_size=k)
    )
    limit = draw(st.sampled_from([np.inf, 0.0, 1.0, 10.0, 250.0]))
    return n, u, v, w, np.array(src, dtype=np.int64), np.array(off, dtype=np.float64), limit


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=300, deadline=None)
@given(case=instances())
def test_equals_per_source_dijkstra(backend: str, case) -> None:  # type: ignore[no-untyped-def]
    n, u, v, w, src, off, limit = case
    indptr, indices, weights = _csr(n, u, v, w)
    dist, label = nearest_source(indptr, indices, weights, src, off, limit=limit, backend=backend)
    expected, per_source = _reference(indptr, indices, weights, src, off, limit)
    np.testing.assert_allclose(dist, expected, rtol=1e-12, atol=1e-9)
    reached = np.isfinite(dist)
    assert np.array_equal(label >= 0, reached)
    # the named source is a nearest one (any of several at an equal distance)
    nodes = np.flatnonzero(reached)
    np.testing.assert_allclose(per_source[label[nodes], nodes], dist[nodes], rtol=1e-12, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(case=instances())
def test_backends_agree(case) -> None:  # type: ignore[no-untyped-def]
    if len(BACKENDS) < 2:
        pytest.skip("numba missing")
    n, u, v, w, src, off, limit = case
    indptr, indices, weights = _csr(n, u, v, w)
    d1, _ = nearest_source(indptr, indices, weights, src, off, limit=limit, backend="delta")
    d2, _ = nearest_source(indptr, indices, weights, src, off, limit=limit, backend="scipy")
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_node_smallest_offset_then_first_wins(backend: str) -> None:
    indptr, indices, weights = _csr(3, [0, 1], [1, 2], [1.0, 1.0])
    src = np.array([1, 1, 1, 1])
    off = np.array([5.0, 2.0, 2.0, 9.0])
    dist, label = nearest_source(indptr, indices, weights, src, off, backend=backend)
    np.testing.assert_array_equal(dist, [3.0, 2.0, 3.0])
    np.testing.assert_array_equal(label, [1, 1, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreached_nodes_are_inf_and_minus_one(backend: str) -> None:
    # nodes 0-1 connected, 2-3 connected, source on 0; limit stops before node 1 on a run
    indptr, indices, weights = _csr(5, [0, 2], [1, 3], [10.0, 1.0])
    dist, label = nearest_source(
        indptr, indices, weights, np.array([0]), np.array([0.0]), backend=backend
    )
    np.testing.assert_array_equal(dist, [0.0, 10.0, np.inf, np.inf, np.inf])
    np.testing.assert_array_equal(label, [0, 0, -1, -1, -1])
    dist, label = nearest_source(
        indptr, indices, weights, np.array([0]), np.array([0.0]), limit=9.99, backend=backend
    )
    np.testing.assert_array_equal(dist, [0.0, np.inf, np.inf, np.inf, np.inf])
    # a source whose own offset is beyond the limit reaches nothing
    dist, label = nearest_source(
        indptr, indices, weights, np.array([0]), np.array([20.0]), limit=10.0, backend=backend
    )
    assert np.isinf(dist).all() and (label == -1).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_sources_and_no_nodes(backend: str) -> None:
    indptr, indices, weights = _csr(3, [0], [1], [1.0])
    dist, label = nearest_source(
        indptr, indices, weights, np.array([], dtype=np.int64), np.array([]), backend=backend
    )
    assert np.isinf(dist).all() and (label == -1).all() and dist.shape == (3,)
    dist, label = nearest_source(
        np.zeros(1, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
        np.array([], dtype=np.int64),
        np.array([]),
        backend=backend,
    )
    assert dist.shape == (0,) and label.shape == (0,)


def test_light_edges_force_more_room_and_the_answer_is_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if "delta" not in BACKENDS:
        pytest.skip("numba missing")
    rng = np.random.default_rng(3)
    n = 400
    u = rng.integers(0, n, 1500).tolist()
    v = rng.integers(0, n, 1500).tolist()
    w = np.where(rng.random(1500) < 0.5, rng.uniform(0, 0.01, 1500), rng.uniform(10, 100, 1500))
    indptr, indices, weights = _csr(n, u, v, w.tolist())
    src = rng.integers(0, n, 7)
    off = rng.uniform(0, 5, 7)
    expected, _ = nearest_source(indptr, indices, weights, src, off, backend="scipy")
    calls: list[int] = []
    real = qd._initial_capacity

    def tiny(n_edges: int, n_sources: int) -> int:
        calls.append(real(n_edges, n_sources))
        return 1  # start with one entry: the search must grow its room several times

    monkeypatch.setattr(qd, "_initial_capacity", tiny)
    dist, _ = nearest_source(indptr, indices, weights, src, off, backend="delta")
    assert calls
    np.testing.assert_allclose(dist, expected, rtol=1e-12, atol=1e-9)


def test_bucket_width_is_a_positive_median() -> None:
    def width(w: np.ndarray) -> float:
        return qd._bucket_width(w, qd._check_weights(w))  # as nearest_source calls it

    assert width(np.array([0.0, 0.0, 2.0, 4.0, 6.0])) == 4.0
    assert width(np.zeros(5)) == 1.0
    assert width(np.array([], dtype=np.float64)) == 1.0
    # one very long edge keeps the ring of buckets bounded
    w = np.r_[np.full(100, 1e-3), 1e9]
    assert width(w) >= 1e9 / qd._MAX_BUCKETS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_node": np.array([5]), "source_offset": np.array([0.0])}, r"source_node must lie"),
        ({"source_node": np.array([0]), "source_offset": np.array([-1.0])}, r"finite and non-neg"),
        (
            {"source_node": np.array([0]), "source_offset": np.array([np.nan])},
            r"finite and non-neg",
        ),
        ({"source_node": np.array([0, 1]), "source_offset": np.array([0.0])}, r"equal length"),
        ({"limit": -1.0}, r"limit must be ≥ 0"),
        ({"backend": "fibonacci"}, r"backend must be"),
        ({"weights": np.array([-1.0, -1.0])}, r"edge weights must be finite and non-neg"),
        ({"weights": np.array([np.nan, 1.0])}, r"edge weights must be finite and non-neg"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    indptr, indices, weights = _csr(3, [0], [1], [1.0])
    args = {"source_node": np.array([0]), "source_offset": np.array([0.0])} | kwargs
    weights = args.pop("weights", weights)
    with pytest.raises(ValueError, match=message):
        nearest_source(indptr, indices, weights, **args)


def test_auto_falls_back_to_scipy_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qd, "_numba_available", lambda: False)
    assert available_backends() == ("scipy",)
    assert qd._resolve("auto") == "scipy"
    with pytest.raises(RuntimeError, match="needs numba"):
        qd._resolve("delta")
    indptr, indices, weights = _csr(3, [0, 1], [1, 2], [1.0, 2.0])
    dist, label = nearest_source(indptr, indices, weights, np.array([2]), np.array([0.5]))
    np.testing.assert_array_equal(dist, [3.5, 2.5, 0.5])
    np.testing.assert_array_equal(label, [0, 0, 0])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=200, deadline=None)
@given(case=instances(), n_targets=st.integers(0, 8), small_room=st.booleans())
def test_pairs_within_equal_dense_dijkstra(  # type: ignore[no-untyped-def]
    backend: str, case, n_targets: int, small_room: bool
) -> None:
    n, u, v, w, src, _off, limit = case
    if not np.isfinite(limit):
        limit = 1e9
    indptr, indices, weights = _csr(n, u, v, w)
    sources = np.unique(src)
    targets = np.arange(min(n_targets, n))
    with pytest.MonkeyPatch.context() as mp:
        if small_room:  # the compiled searches resume after running out of room
            mp.setattr(qd, "_initial_pairs_capacity", lambda n_sources: 1)
        s_pos, node, dist = qd.pairs_within(
            indptr, indices, weights, sources, targets, limit, backend=backend
        )
    got = np.full((sources.size, n), np.inf)
    got[s_pos, node] = dist
    assert np.all(np.diff(s_pos) >= 0)  # sorted by source
    assert len(set(zip(s_pos.tolist(), node.tolist(), strict=True))) == s_pos.size  # no repeats
    expected = np.full((sources.size, n), np.inf)
    if sources.size:
        graph = csr_array((weights, indices, indptr), shape=(n, n))
        full = dijkstra(graph, directed=True, indices=sources)
        full[full > limit] = np.inf
        expected[:, targets] = full[:, targets]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_pairs_within_bad_arguments() -> None:
    indptr, indices, weights = _csr(3, [0], [1], [1.0])
    with pytest.raises(ValueError, match="sources must be"):
        qd.pairs_within(indptr, indices, weights, np.array([3]), np.array([0]), 1.0)
    with pytest.raises(ValueError, match="targets must be"):
        qd.pairs_within(indptr, indices, weights, np.array([0]), np.array([-1]), 1.0)
    with pytest.raises(ValueError, match="limit must be finite"):
        qd.pairs_within(indptr, indices, weights, np.array([0]), np.array([0]), np.inf)
    with pytest.raises(ValueError, match="edge weights"):
        qd.pairs_within(indptr, indices, -weights, np.array([0]), np.array([0]), 1.0)


def test_pairs_within_split_over_threads_equals_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if "delta" not in BACKENDS:
        pytest.skip("numba missing")
    rng = np.random.default_rng(5)
    n = 600
    u = rng.integers(0, n, 2400).tolist()
    v = rng.integers(0, n, 2400).tolist()
    w = rng.uniform(0, 50, 2400).tolist()
    indptr, indices, weights = _csr(n, u, v, w)
    sources = rng.choice(n, 200, replace=False)
    targets = rng.choice(n, 300, replace=False)
    monkeypatch.setattr(qd.os, "cpu_count", lambda: 4)  # 4 threads of 50 sources
    threaded = qd.pairs_within(indptr, indices, weights, sources, targets, 60.0, backend="delta")
    monkeypatch.setattr(qd.os, "cpu_count", lambda: 1)
    single = qd.pairs_within(indptr, indices, weights, sources, targets, 60.0, backend="delta")
    reference = qd.pairs_within(indptr, indices, weights, sources, targets, 60.0, backend="scipy")
    assert threaded[0].size > 1000
    for got in (threaded, single):
        np.testing.assert_array_equal(got[0], single[0])
        order_got = np.lexsort((got[1], got[0]))
        order_ref = np.lexsort((reference[1], reference[0]))
        np.testing.assert_array_equal(got[0][order_got], reference[0][order_ref])
        np.testing.assert_array_equal(got[1][order_got], reference[1][order_ref])
        np.testing.assert_allclose(got[2][order_got], reference[2][order_ref], rtol=1e-12)


def test_warm_up_compiles_both_kernels() -> None:
    qd.warm_up()  # must not raise; afterwards the kernels answer at once
    indptr, indices, weights = _csr(2, [0], [1], [2.0])
    dist, _ = nearest_source(indptr, indices, weights, np.array([0]), np.array([0.0]))
    np.testing.assert_array_equal(dist, [0.0, 2.0])


def test_tiny_weights_with_spread_offsets_keep_the_bucket_ring_small() -> None:
    """Found by hypothesis: edges of 1e-265 m and sources 4 m apart once asked for 4e9 buckets."""
    indptr = np.array([0, 1], dtype=np.int64)
    indices = np.array([0], dtype=np.int64)
    weights = np.array([9.240626980832214e-266])
    src = np.array([0, 0], dtype=np.int64)
    off = np.array([0.0, 4.0])
    for backend in available_backends():
        dist, label = nearest_source(indptr, indices, weights, src, off, backend=backend)
        assert dist.tolist() == [0.0] and label.tolist() == [0]
