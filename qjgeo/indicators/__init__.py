"""Plan indicators: which targets of the children's development plan are met, where, by how much.

- :mod:`qjgeo.indicators.targets`: the targets file (``targets.yaml``) and its validation;
- :mod:`qjgeo.indicators.metrics`: the generic metric kinds, one function each;
- :mod:`qjgeo.indicators.evaluate`: :func:`evaluate`, one row per indicator and scope.
"""

from __future__ import annotations

from qjgeo.indicators.evaluate import RESULT_COLUMNS, evaluate, resolve_targets, township_view
from qjgeo.indicators.metrics import METRICS, MetricResult, NotAvailableError
from qjgeo.indicators.targets import (
    DEFAULT_TARGETS_PATH,
    TargetsError,
    TargetsFile,
    apply_overrides,
    load_targets,
    parse_targets,
)

__all__ = [
    "DEFAULT_TARGETS_PATH",
    "METRICS",
    "RESULT_COLUMNS",
    "MetricResult",
    "NotAvailableError",
    "TargetsError",
    "TargetsFile",
    "apply_overrides",
    "evaluate",
    "load_targets",
    "parse_targets",
    "resolve_targets",
    "township_view",
]
