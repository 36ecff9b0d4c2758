"""The app's one cache boundary: every cached computation, keyed on hashable inputs only.

Keys are the dataset directory and a fingerprint of its files (name, size, mtime), the
scenario's YAML text and plain parameters — never a session's state. Datasets are shared
through ``st.cache_resource`` and are read-only by design (``Dataset`` is frozen; derive, never
mutate); everything else goes through ``st.cache_data``, which hands each session its own copy.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from qjgeo import Dataset, load_dataset, places

#: Environment variable naming the dataset directory the app uses (default: the working copy
#: in the user data folder, made from the bundled data on first use).
DATA_ENV = "QJGEO_DATA"
#: Environment variable naming the monitoring directory (default: the user data folder's).
MONITORING_ENV = "QJGEO_MONITORING"
#: Environment variable naming the scenario directory (default: the user data folder's).
SCENARIOS_ENV = "QJGEO_SCENARIOS"
#: Environment variable holding a Tianditu key (the Tianditu basemap is offered only with it).
TIANDITU_ENV = "QJGEO_TIANDITU_KEY"


def _env_dir(variable: str) -> Path | None:
    env = os.environ.get(variable)
    return Path(env).resolve() if env else None


def data_dir() -> Path:
    """The dataset directory the app reads: ``$QJGEO_DATA``, else the working copy in the user
    data folder once something was written there, else the bundled data (so an update of the
    bundled data shows until the planner's own data exists)."""
    return _env_dir(DATA_ENV) or places.working_dataset_dir(create=False)


def write_data_dir(*, create: bool = True) -> Path:
    """The dataset directory the app writes (an import): ``$QJGEO_DATA``, else the working
    copy in the user data folder, made from the bundled data on the first write (``create``;
    without it the folder is only named, e.g. to tell the planner where imports go)."""
    env = _env_dir(DATA_ENV)
    if env is not None:
        return env
    return places.working_dataset_dir() if create else places.working_copy_path()


def scenarios_dir() -> Path:
    """The scenario directory: ``$QJGEO_SCENARIOS``, else the user data folder's
    ``scenarios/`` (copied from the bundled example scenarios on first use)."""
    return _env_dir(SCENARIOS_ENV) or places.working_scenarios_dir()


def monitoring_dir(directory: Path | None = None, *, write: bool = False) -> Path:
    """The monitoring directory: ``$QJGEO_MONITORING``, else ``monitoring/`` inside the
    dataset folder ``directory`` (default :func:`data_dir`), so years stay with their data;
    the bundled dataset's records live in its working copy in the user data folder."""
    return _env_dir(MONITORING_ENV) or places.monitoring_dir(directory or data_dir(), write=write)


def tianditu_key() -> str | None:
    """The Tianditu key from ``$QJGEO_TIANDITU_KEY`` (``None`` when unset)."""
    return os.environ.get(TIANDITU_ENV) or None


def fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file of a directory (a cache key).

    Hidden files are left out: the write lock and a writer's staged files are not data, and
    a write in progress must not make the app reload a half-written folder.
    """
    if not directory.is_dir():
        return ()
    out = []
    networks = directory / "network"  # the networks by travel mode (qjgeo.modes)
    files = [*directory.iterdir(), *(networks.iterdir() if networks.is_dir() else [])]
    for p in sorted(files):
        if p.is_file() and not p.name.startswith("."):
            st_ = p.stat()
            out.append((str(p.relative_to(directory)), st_.st_size, st_.st_mtime_ns))
    return tuple(out)


@st.cache_resource(max_entries=4, show_spinner=False)
def _load(path: str, key: tuple[tuple[str, int, int], ...]) -> Dataset:
    del key  # part of the cache key only
    return load_dataset(path)


def dataset(directory: Path) -> Dataset:
    """The validated dataset of a directory (shared, read-only; reloaded when files change)."""
    return _load(str(directory), fingerprint(directory))


@st.cache_resource(max_entries=4, show_spinner=False)
def _graph(
    path: str, key: tuple[tuple[str, int, int], ...], mode: str = "walk"
) -> tuple[Any, str | None]:
    del key  # part of the cache key only
    from qjgeo.modes import load_network, network_path
    from qjgeo.network import NetworkError

    file = network_path(path, mode)
    if file is None:
        return None, None
    try:
        loaded = load_network(file, mode=mode)
    except NetworkError as exc:
        return None, str(exc)
    from qjgeo.dijkstra import warm_up

    # compile the search kernels while the planner looks at the page
    threading.Thread(target=warm_up, name="qjgeo-warm-up", daemon=True).start()
    return loaded, None


def network(directory: Path, mode: str = "walk") -> tuple[Any, str | None]:
    """The dataset's network of a travel mode (:class:`qjgeo.modes.ModeNetwork`, from
    ``network/<mode>.npz`` as ``qjgeo osm-import`` writes it, or an old ``network.npz`` for
    walking), and why it could not be read.

    ``(None, None)`` without one, ``(None, reason)`` when it cannot be read: distances are then
    straight line × detour factor. Shared, read-only.
    """
    return _graph(str(directory), fingerprint(directory), mode)


@st.cache_resource(max_entries=16, show_spinner=False)
def _scenario_dataset(
    path: str, key: tuple[tuple[str, int, int], ...], yaml_text: str, sc_dir: str
) -> Dataset:
    from qjgeo.scenario import apply, scenario_from_yaml

    base = _load(path, key)
    return apply(base, scenario_from_yaml(yaml_text, source="<app>"), scenarios_dir=sc_dir)


def with_mode(dataset: Dataset, mode: str) -> Dataset:
    """The dataset in a travel mode (``""``: as the data or scenario says), a new object."""
    if not mode:
        return dataset
    from qjgeo.travel import TravelChoice, travel_params

    return dataset.with_params(travel_params(dataset.params, TravelChoice(mode=mode)))


def _applied(path: str, key: Any, yaml_text: str | None, sc_dir: str, mode: str = "") -> Dataset:
    """The cached dataset of ``key`` with the scenario (``None`` → the baseline) and the
    session's travel mode applied."""
    if not yaml_text:
        return with_mode(_load(path, key), mode)
    return with_mode(_scenario_dataset(path, key, yaml_text, sc_dir), mode)


def _search(path: str, key: Any, dataset: Dataset) -> Any:
    """The graph a search to facilities runs on in the dataset's mode (None: straight line)."""
    net = _graph(path, key, dataset.params.mode or "walk")[0]
    return None if net is None else net.search_graph


def scenario_dataset(directory: Path, yaml_text: str | None, sc_dir: Path) -> Dataset:
    """The dataset with a scenario applied (``None`` → the baseline). Shared, read-only."""
    return _applied(str(directory), fingerprint(directory), yaml_text, str(sc_dir))


@st.cache_data(show_spinner=False)
def indicator_titles() -> list[tuple[str, str, str, str]]:
    """``(id, title_zh, title_en, unit)`` of every indicator in the bundled targets file.

    Cheap (no evaluation), so the Map page can list indicators before computing any.
    """
    from qjgeo.indicators.targets import load_targets

    return [(i.id, i.title_zh, i.title_en, i.unit) for i in load_targets().indicators]


@st.cache_data(max_entries=32, show_spinner=False)
def _indicators(path: str, key: Any, yaml_text: str | None, sc_dir: str) -> pd.DataFrame:
    from qjgeo.indicators import evaluate

    ds = _applied(path, key, yaml_text, sc_dir)
    return evaluate(ds, graph=_search(path, key, ds))


def indicators(directory: Path, yaml_text: str | None, sc_dir: Path) -> pd.DataFrame:
    """``qjgeo.indicators.evaluate`` of the dataset (with the scenario applied)."""
    return _indicators(str(directory), fingerprint(directory), yaml_text, str(sc_dir))


@st.cache_data(max_entries=64, show_spinner=False)
def _gaps(
    path: str,
    key: Any,
    yaml_text: str | None,
    sc_dir: str,
    facility_type: str,
    threshold_m: float | None,
    age_bands: tuple[str, ...] | None,
    mode: str = "",
) -> Any:
    from qjgeo.gaps import compute_gaps

    ds = _applied(path, key, yaml_text, sc_dir, mode)
    return compute_gaps(
        ds,
        facility_type,
        graph=_search(path, key, ds),
        threshold_m=threshold_m,
        age_bands=list(age_bands) if age_bands else None,
    )


def gaps(
    directory: Path,
    yaml_text: str | None,
    sc_dir: Path,
    facility_type: str,
    threshold_m: float | None = None,
    age_bands: tuple[str, ...] | None = None,
    mode: str = "",
) -> Any:
    """``qjgeo.gaps.compute_gaps`` for one facility type (a ``GapResult``) in a travel mode
    (``""``: as the data or scenario says)."""
    return _gaps(
        str(directory),
        fingerprint(directory),
        yaml_text,
        str(sc_dir),
        facility_type,
        threshold_m,
        age_bands,
        mode,
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _surface(
    path: str,
    key: Any,
    yaml_text: str | None,
    sc_dir: str,
    facility_type: str,
    threshold_m: Any,
    cell_size_m: float | None,
    mode: str = "",
) -> Any:
    from qjgeo.gaps import DEFAULT_CELL_SIZE_M, gap_surface

    ds = _applied(path, key, yaml_text, sc_dir, mode)
    return gap_surface(
        ds,
        facility_type,
        graph=_search(path, key, ds),
        threshold_m=threshold_m,
        cell_size_m=cell_size_m or DEFAULT_CELL_SIZE_M,
    )


def surface(
    directory: Path,
    yaml_text: str | None,
    sc_dir: Path,
    facility_type: str,
    threshold_m: float | None = None,
    cell_size_m: float | None = None,
    mode: str = "",
) -> Any:
    """``qjgeo.gaps.gap_surface`` hexagons for one facility type (default cell size)."""
    return _surface(
        str(directory),
        fingerprint(directory),
        yaml_text,
        str(sc_dir),
        facility_type,
        threshold_m,
        cell_size_m,
        mode,
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def _baseline_snapshot(path: str, key: tuple[tuple[str, int, int], ...], mode: str = "") -> Any:
    """Indicators and coverage of the baseline, computed once per data version and travel
    mode (read-only)."""
    from qjgeo.scenario import snapshot

    base = with_mode(_load(path, key), mode)
    return snapshot(base, graph=_search(path, key, base))


@st.cache_data(max_entries=16, show_spinner=False)
def _compare(path: str, key: Any, yaml_text: str, sc_dir: str, mode: str = "") -> Any:
    from qjgeo.scenario import compare

    base = _baseline_snapshot(path, key, mode)
    ds = _applied(path, key, yaml_text, sc_dir, mode)
    return compare(base, ds, graph=_search(path, key, ds))


def compare(directory: Path, yaml_text: str, sc_dir: Path, mode: str = "") -> Any:
    """``qjgeo.scenario.compare`` of the baseline and the scenario, both in a travel mode
    (``""``: as the data says)."""
    return _compare(str(directory), fingerprint(directory), yaml_text, str(sc_dir), mode)


@st.cache_data(max_entries=32, show_spinner=False)
def _isochrones(
    path: str,
    key: Any,
    yaml_text: str | None,
    sc_dir: str,
    facility_type: str,
    facility_id: str,
    mode: str,
) -> Any:
    from qjgeo.isochrones import facility_point
    from qjgeo.isochrones import isochrones as catchments

    ds = _applied(path, key, yaml_text, sc_dir, mode)
    chosen = ds.params.mode or "walk"
    point, _ = facility_point(ds, facility_type, facility_id)
    network = _graph(path, key, chosen)[0]
    return catchments(network, point, mode=chosen, params=ds.params)


def isochrones(
    directory: Path,
    yaml_text: str | None,
    sc_dir: Path,
    facility_type: str,
    facility_id: str,
    mode: str = "",
) -> Any:
    """5/10/15-minute catchments of one facility in a travel mode (``qjgeo.isochrones``)."""
    return _isochrones(
        str(directory), fingerprint(directory), yaml_text, str(sc_dir), facility_type,
        facility_id, mode,
    )  # fmt: skip


@st.cache_data(max_entries=16, show_spinner=False)
def _facility_changes(path: str, key: Any, yaml_text: str, sc_dir: str, mode: str) -> Any:
    from qjgeo.scenario.changes import facility_changes

    return facility_changes(_load(path, key), _applied(path, key, yaml_text, sc_dir, mode))


def facility_changes(directory: Path, yaml_text: str, sc_dir: Path, mode: str = "") -> Any:
    """``qjgeo.scenario.changes.facility_changes`` of the baseline and the scenario."""
    return _facility_changes(str(directory), fingerprint(directory), yaml_text, str(sc_dir), mode)
