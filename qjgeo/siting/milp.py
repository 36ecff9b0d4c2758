"""The covering integer programmes as arrays, solved by HiGHS (highspy) or CBC, by a deadline.

The model is built straight from the sparse coverage (no modelling layer: building the
2,000 × 20,000 model through PuLP took longer than solving its reduced form). HiGHS runs in
process with its time limit set to the time left and an interrupt callback watching the
deadline (HiGHS's own limit is not checked inside every phase); CBC runs as a subprocess
on an MPS file written by HiGHS, with ``-sec`` set to the time left and killed if it
overruns.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array

Solver = Literal["highs", "cbc"]
SOLVERS: tuple[str, ...] = ("highs", "cbc")
#: Seconds before the deadline HiGHS is asked to stop (at most a tenth of the time left).
_HIGHS_MARGIN_S = 0.5
#: Seconds a stopped CBC process is given to write its solution before it is killed.
_CBC_GRACE_S = 0.5


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence what a solver writes straight to file descriptor 1."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


@dataclass(frozen=True)
class MilpOutcome:
    """What the solver returned.

    Attributes
    ----------
    selected
        Chosen candidate columns (empty when the solver found no solution).
    status
        ``"optimal"``, ``"time_limit"`` (stopped by the deadline), ``"infeasible"`` or the
        solver's own word.
    bound
        The solver's proven bound on the objective (``nan`` if unknown).
    """

    selected: NDArray[np.int64]
    status: str
    bound: float


@dataclass(frozen=True)
class _Model:
    """A covering model: columns y (candidates) then z (merged rows), rows as CSR."""

    n_y: int
    cost: NDArray[np.float64]
    integer: NDArray[np.bool_]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    matrix: csr_array
    maximise: bool


def _coverage_block(rows: csr_array) -> csr_array:
    """``zᵢ − Σ_{j covers i} yⱼ ≤ 0`` as a CSR block over the columns [y | z]."""
    n = rows.shape[0]
    y_part = -rows.astype(np.float64)
    z_part = csr_array((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, n))
    from scipy.sparse import hstack

    return csr_array(hstack([y_part, z_part], format="csr"))


def max_cover_model(rows: csr_array, weights: NDArray[np.float64], k: int) -> _Model:
    """Maximise Σ wᵢ zᵢ subject to Σ yⱼ ≤ k and zᵢ ≤ Σ_{j covers i} yⱼ."""
    from scipy.sparse import vstack

    n, m = rows.shape
    budget = csr_array(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    matrix = csr_array(vstack([budget, _coverage_block(rows)], format="csr"))
    return _Model(
        n_y=m,
        cost=np.concatenate([np.zeros(m), weights]),
        integer=np.concatenate([np.ones(m, dtype=bool), np.zeros(n, dtype=bool)]),
        row_lower=np.full(n + 1, -np.inf),
        row_upper=np.concatenate([[float(k)], np.zeros(n)]),
        matrix=matrix,
        maximise=True,
    )


def min_sites_model(rows: csr_array, weights: NDArray[np.float64], need: float) -> _Model:
    """Minimise Σ yⱼ subject to Σ wᵢ zᵢ ≥ need and zᵢ ≤ Σ_{j covers i} yⱼ."""
    from scipy.sparse import vstack

    n, m = rows.shape
    target = csr_array(np.concatenate([np.zeros(m), weights])[None, :])
    matrix = csr_array(vstack([target, _coverage_block(rows)], format="csr"))
    return _Model(
        n_y=m,
        cost=np.concatenate([np.ones(m), np.zeros(n)]),
        integer=np.concatenate([np.ones(m, dtype=bool), np.zeros(n, dtype=bool)]),
        row_lower=np.concatenate([[need], np.full(n, -np.inf)]),
        row_upper=np.concatenate([[np.inf], np.zeros(n)]),
        matrix=matrix,
        maximise=False,
    )


def _highs(model: _Model) -> Any:
    """A quiet ``highspy.Highs`` holding the model."""
    import highspy

    with _quiet_stdout():  # the constructor prints a banner once per process
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n_col = model.cost.size
    inf = highspy.kHighsInf
    h.addVars(n_col, np.zeros(n_col), np.ones(n_col))
    h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), model.cost)
    sense = highspy.ObjSense.kMaximize if model.maximise else highspy.ObjSense.kMinimize
    h.changeObjectiveSense(sense)
    ints = np.flatnonzero(model.integer).astype(np.int32)
    h.changeColsIntegrality(ints.size, ints, np.array([highspy.HighsVarType.kInteger] * ints.size))
    a = model.matrix
    h.addRows(
        a.shape[0],
        np.where(np.isfinite(model.row_lower), model.row_lower, -inf),
        np.where(np.isfinite(model.row_upper), model.row_upper, inf),
        a.nnz,
        a.indptr[:-1].astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
    )
    return h


def _start_values(model: _Model, rows: csr_array, start: NDArray[np.int64]) -> NDArray[np.float64]:
    """Column values of a start solution: its sites and the rows they reach."""
    y = np.zeros(model.n_y)
    y[start] = 1.0
    z = (np.asarray(rows.astype(np.float64) @ y).ravel() > 0).astype(np.float64)
    return np.concatenate([y, z])


def solve(
    model: _Model,
    rows: csr_array,
    start: NDArray[np.int64],
    solver: Solver,
    deadline: float,
) -> MilpOutcome:
    """Solve a covering model by ``deadline`` (``time.perf_counter()`` seconds).

    Parameters
    ----------
    model
        From :func:`max_cover_model` or :func:`min_sites_model`.
    rows
        The merged rows the model was built from (for the start solution's z).
    start
        A feasible solution handed to HiGHS as its first incumbent (CBC: not used).
    solver
        ``"highs"`` or ``"cbc"``.
    deadline
        When to stop; the best solution found by then is returned.

    Returns
    -------
    MilpOutcome
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'highs' or 'cbc', got {solver!r}")
    left = deadline - time.perf_counter()
    if left <= 0.05:
        return MilpOutcome(np.zeros(0, dtype=np.int64), "time_limit", math.nan)
    if solver == "highs":
        return _solve_highs(model, rows, start, deadline)
    return _solve_cbc(model, deadline)


def _solve_highs(
    model: _Model, rows: csr_array, start: NDArray[np.int64], deadline: float
) -> MilpOutcome:
    import highspy

    h = _highs(model)
    left = deadline - time.perf_counter()
    # stop a little early: some presolve steps check the clock only now and then
    deadline -= min(_HIGHS_MARGIN_S, 0.1 * left)
    h.setOptionValue("time_limit", max(0.05, deadline - time.perf_counter()))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("presolve_rule_off", 32768)  # probing ignores the time limit
    if start.size:
        sol = highspy.HighsSolution()
        sol.col_value = _start_values(model, rows, start).tolist()
        sol.value_valid = True
        h.setSolution(sol)

    def watch(event: Any) -> None:
        if time.perf_counter() > deadline:
            event.interrupt()

    h.cbSimplexInterrupt += watch
    h.cbIpmInterrupt += watch
    h.cbMipInterrupt += watch
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    stopped = status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
    if status == highspy.HighsModelStatus.kOptimal:
        word = "optimal"
    elif stopped:
        word = "time_limit"
    else:
        word = h.modelStatusToString(status).lower()
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else math.nan
    if word == "optimal" and not math.isfinite(bound):
        bound = float(info.objective_function_value)
    selected = np.zeros(0, dtype=np.int64)
    if info.primal_solution_status == 2:  # a feasible solution is held
        values = np.asarray(h.getSolution().col_value[: model.n_y])
        selected = np.flatnonzero(values > 0.5).astype(np.int64)
    return MilpOutcome(selected, word, bound)


def _cbc_path() -> str:
    """The CBC binary: one on the PATH, else the one bundled with PuLP."""
    import pulp

    if pulp.COIN_CMD().available():
        return str(pulp.COIN_CMD().path)
    with warnings.catch_warnings():  # the bundled CBC is deprecated for PuLP 4, still works
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        cmd = pulp.PULP_CBC_CMD()
        if not cmd.available():
            raise RuntimeError("CBC is not available (neither on the PATH nor bundled with PuLP)")
        return str(cmd.path)


def _solve_cbc(model: _Model, deadline: float) -> MilpOutcome:
    """CBC on an MPS file (written as a minimisation), ``-sec`` the time left."""
    h = _highs(model)
    sign = -1.0 if model.maximise else 1.0
    if model.maximise:  # CBC reads MPS as a minimisation
        import highspy

        n_col = model.cost.size
        h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), -model.cost)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    with tempfile.TemporaryDirectory(prefix="qjgeo-cbc-") as tmp:
        mps, sol = Path(tmp) / "model.mps", Path(tmp) / "solution.txt"
        h.writeModel(str(mps))
        left = max(0.05, deadline - time.perf_counter())
        # CBC checks -sec between nodes, not inside the root: leave it room to write
        cmd = [_cbc_path(), str(mps), "-sec", f"{0.8 * left:.2f}", "-ratio", "0", "-allow", "0"]
        cmd += ["-solve", "-solu", str(sol)]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=left + _CBC_GRACE_S, check=False
            )
        except subprocess.TimeoutExpired:
            return MilpOutcome(np.zeros(0, dtype=np.int64), "time_limit", math.nan)
        text = sol.read_text(encoding="utf-8", errors="replace") if sol.exists() else ""
    return _read_cbc(text, done.stdout, model.n_y, sign)


def _read_cbc(solution: str, log: str, n_y: int, sign: float) -> MilpOutcome:
    """Status, chosen columns and bound from CBC's solution file and log."""
    first = solution.splitlines()[0].lower() if solution else ""
    if first.startswith("optimal"):
        status = "optimal"
    elif "infeasible" in first:
        status = "infeasible"
    elif "stopped" in first or not first:
        status = "time_limit"
    else:
        status = first.split(" - ")[0].strip()
    selected: list[int] = []
    trusted = status != "infeasible"
    for line in solution.splitlines()[1:]:
        if line.lstrip().startswith("**"):  # CBC marks a value breaking a bound or row
            trusted = False
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c"):
            col = int(parts[1][1:]) if parts[1][1:].isdigit() else int(parts[0])
            value = float(parts[2])
            if col < n_y and min(abs(value), abs(value - 1)) > 1e-6:
                trusted = False  # fractional: CBC stopped inside the LP, no integer solution
            if col < n_y and value > 0.5:
                selected.append(col)
    if not trusted:
        selected = []
    found = re.search(r"Lower bound:\s*([-+0-9.eE]+)", log)
    bound = sign * float(found.group(1)) if found else math.nan
    if status == "optimal" and not found:
        bound = math.nan
    return MilpOutcome(np.asarray(sorted(selected), dtype=np.int64), status, bound)
