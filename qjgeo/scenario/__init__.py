"""What-if scenarios: add, remove, modify or move facilities, change parameters and population.

A scenario is a small YAML file in ``scenarios/`` that holds only what differs from its base
(the baseline data, or another scenario of the same directory, resolved recursively). It is
validated by frozen pydantic models with ``extra="forbid"``; every error names the file, the
key path (e.g. ``add[2].lon``) and the bad value. The JSON schema of the format is generated
from the models (:func:`write_schema`) and kept in ``scenarios/scenario.schema.json``.

Flow: :func:`load_scenario` → :func:`apply` (a new :class:`~qjgeo.catalog.Dataset`) →
:func:`compare` (indicator deltas, children newly covered or uncovered, villages and townships
whose status flips). An app computes the baseline's :func:`snapshot` once and compares each
edited scenario against it: on the bundled data ``apply`` takes 5–30 ms and ``compare``
against a cached baseline 0.3–0.7 s (``bench/bench_siting.py``, shared 2-core machine),
almost all of it :func:`qjgeo.indicators.evaluate` of the scenario.

Building a scenario in memory (the app's editor): ``Scenario(name=...)`` then
:meth:`Scenario.with_add` / ``with_remove`` / ``with_modify`` / ``with_move`` /
``with_parameters`` / ``with_population`` / ``without`` / ``renamed``, each returning a new
validated scenario. Files: :func:`save_scenario` (atomic, never overwrites unless asked),
:func:`list_scenarios`, :func:`rename_scenario`, :func:`delete_scenario`.

Example file::

    name: childcare_in_luokeng
    description: A community childcare point in 罗坑镇
    add:
      - type: childcare
        lon: 113.34
        lat: 24.52
        name: 罗坑镇社区托育点
        attributes: {places: 40, puhui: true}

Limits: a file (or uploaded text) over :data:`MAX_SCENARIO_BYTES` is refused before it is
parsed, a scenario with more than :data:`MAX_SCENARIO_EDITS` add/remove/modify/move items by
the model. :func:`evaluate` applies a scenario and evaluates the plan indicators
(:func:`qjgeo.indicators.evaluate` itself takes a dataset only).

The package: :mod:`~qjgeo.scenario.model` (the format, YAML), :mod:`~qjgeo.scenario.files`
(saving, listing, renaming, deleting, base chains), :mod:`~qjgeo.scenario.apply` and
:mod:`~qjgeo.scenario.compare`.

Population changes multiply ``population`` and every age-band column of the township and
village layers (and the district totals by the same amount). Each unit's new count is
``round(count × factor)`` (round half to even, as :func:`numpy.rint`), so the villages of a
township may differ from the township total by a few people of rounding.
"""

from qjgeo.scenario.apply import apply, inside_district
from qjgeo.scenario.compare import (
    Comparison,
    Snapshot,
    compare,
    evaluate,
    evaluate_indicators,
    snapshot,
)
from qjgeo.scenario.files import (
    ScenarioInfo,
    delete_scenario,
    file_stem,
    list_scenarios,
    rename_scenario,
    resolve_chain,
    save_scenario,
    write_schema,
)
from qjgeo.scenario.model import (
    BASELINE,
    DEFAULT_NEW_ATTRIBUTES,
    MAX_SCENARIO_BYTES,
    MAX_SCENARIO_EDITS,
    REQUIRED_NEW_ATTRIBUTES,
    SCENARIO_SUFFIXES,
    SCHEMA_FILE,
    FacilityAdd,
    FacilityModify,
    FacilityMove,
    FacilityRef,
    PointOutsideError,
    PopulationChange,
    Scenario,
    ScenarioError,
    load_scenario,
    name_problem,
    scenario_from_yaml,
    scenario_to_yaml,
)

__all__ = [
    "BASELINE",
    "DEFAULT_NEW_ATTRIBUTES",
    "MAX_SCENARIO_BYTES",
    "MAX_SCENARIO_EDITS",
    "REQUIRED_NEW_ATTRIBUTES",
    "SCENARIO_SUFFIXES",
    "SCHEMA_FILE",
    "Comparison",
    "FacilityAdd",
    "FacilityModify",
    "FacilityMove",
    "FacilityRef",
    "PointOutsideError",
    "PopulationChange",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "Snapshot",
    "apply",
    "compare",
    "delete_scenario",
    "evaluate",
    "evaluate_indicators",
    "file_stem",
    "inside_district",
    "list_scenarios",
    "load_scenario",
    "name_problem",
    "rename_scenario",
    "resolve_chain",
    "save_scenario",
    "scenario_from_yaml",
    "scenario_to_yaml",
    "snapshot",
    "write_schema",
]
