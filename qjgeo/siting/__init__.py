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
- ``exact``: the model is reduced first (identical demand merged, covered demand dropped,
  dominated candidates left out, and for maximal covering a Lagrangian bound with the
  greedy as incumbent, which rules out candidates and often proves the optimum on its
  own), then solved as a mixed-integer programme by CBC or HiGHS. The whole call keeps to
  its wall-time limit (plus at most :data:`EXACT_OVERHEAD_S`); stopped early it returns the
  best solution found with a proven bound and gap.

A site that adds nothing is never returned: with ``k`` larger than the useful sites, fewer
are returned and the result's message says why.

Array level (benchmarked in ``bench/bench_siting.py``): :func:`max_cover_greedy`,
:func:`max_cover_exact`, :func:`min_sites_for_target`. Dataset level:
:func:`recommend_sites` (villages as demand points weighted by the facility type's age
bands, or townships as demand units) and :func:`recommendation_to_scenario`.

Modules: :mod:`qjgeo.siting.solvers` (results, greedy), :mod:`qjgeo.siting.exact`,
:mod:`qjgeo.siting.reduce` and :mod:`qjgeo.siting.milp` (exact), :mod:`qjgeo.siting.candidates`
(:func:`candidate_sites`), :mod:`qjgeo.siting.coverage` (:func:`coverage_matrix`,
:func:`village_coverage`) and :mod:`qjgeo.siting.recommend` (:func:`recommend_sites`,
:func:`recommendation_to_scenario`); everything is imported from :mod:`qjgeo.siting`.
"""

from __future__ import annotations

from qjgeo.siting.candidates import candidate_sites
from qjgeo.siting.coverage import coverage_matrix, village_coverage
from qjgeo.siting.exact import EXACT_OVERHEAD_S, max_cover_exact, min_sites_for_target
from qjgeo.siting.milp import Solver
from qjgeo.siting.recommend import (
    DEFAULT_NEW_CAPACITY,
    Recommendation,
    recommend_sites,
    recommendation_to_scenario,
)
from qjgeo.siting.solvers import Method, SitingResult, max_cover_greedy

__all__ = [
    "DEFAULT_NEW_CAPACITY",
    "EXACT_OVERHEAD_S",
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
