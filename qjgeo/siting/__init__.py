"""Where to build next: site recommendations that cover the most uncovered children.

Two problems, both on a boolean *coverage* matrix (demand units × candidate sites; ``True``
where the candidate lies within the walking threshold of the demand unit):

- **maximal covering** (MCLP, Church & ReVelle 1974): choose ``k`` new sites maximising the
  weight (children) newly covered;
- **fewest sites to reach a target**: the smallest set of new sites lifting the covered
  share to ``target_share`` (e.g. 70 % of townships with a science venue).

Existing facilities stay: demand they already cover is passed as ``already_covered`` and
counts neither as a gain nor against the objective.

Two methods share each problem:

- ``greedy``: lazy greedy (CELF, Leskovec et al. 2007) with a heap; never below
  (1 − 1/e) ≈ 63 % of the optimum for maximal covering (Nemhauser, Wolsey & Fisher 1978),
  usually within a few per cent;
- ``exact``: a mixed-integer programme (PuLP with HiGHS or CBC), with a time limit; the
  solver's best bound and the optimality gap are reported (``nan`` = unknown).

Array level (benchmarked in ``bench/bench_siting.py``): :func:`max_cover_greedy`,
:func:`max_cover_exact`, :func:`min_sites_for_target`. Dataset level:
:func:`recommend_sites` (villages as demand points weighted by the facility type's age
bands, or townships as demand units) and :func:`recommendation_to_scenario`.

Modules: :mod:`qjgeo.siting.solvers` (array level), :mod:`qjgeo.siting.candidates`
(:func:`candidate_sites`), :mod:`qjgeo.siting.coverage` (:func:`coverage_matrix`,
:func:`village_coverage`) and :mod:`qjgeo.siting.recommend` (:func:`recommend_sites`,
:func:`recommendation_to_scenario`); everything is imported from :mod:`qjgeo.siting`.
"""

from __future__ import annotations

from qjgeo.siting.candidates import candidate_sites
from qjgeo.siting.coverage import coverage_matrix, village_coverage
from qjgeo.siting.recommend import (
    DEFAULT_NEW_CAPACITY,
    Recommendation,
    recommend_sites,
    recommendation_to_scenario,
)
from qjgeo.siting.solvers import (
    Method,
    SitingResult,
    Solver,
    max_cover_exact,
    max_cover_greedy,
    min_sites_for_target,
)

__all__ = [
    "DEFAULT_NEW_CAPACITY",
    "Method",
    "Recommendation",
    "SitingResult",
    "Solver",
    "candidate_sites",
    "coverage_matrix",
    "max_cover_exact",
    "max_cover_greedy",
    "min_sites_for_target",
    "recommend_sites",
    "recommendation_to_scenario",
    "village_coverage",
]
