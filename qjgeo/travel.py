"""A run's travel mode and thresholds: minutes or metres, turned into the search's unit.

Every search of :mod:`qjgeo.access` measures a *cost* in metres. For a travel mode that cost
is the travel time expressed as the distance covered at the mode's reference speed
(:mod:`qjgeo.modes`), so a threshold in minutes becomes ``minutes × 60 × speed`` metres and a
cost becomes minutes again by dividing by the speed. Walking and cycling travel every edge at
the reference speed, so their cost is the route's length; on the drive network it is not (the
route's length is :func:`qjgeo.routes.route_lengths`). Without a network the cost is the
straight line × the mode's detour factor: an estimated route length in metres, whose time is
that length at the mode's speed.

:func:`travel_params` applies a choice (mode, and minutes or metres) to the planning
parameters, so every consumer of thresholds (gaps, indicators, siting, scenarios) runs in the
chosen mode unchanged; :func:`search_graph` gives the graph a search to facilities runs on;
:func:`describe` the one line every result prints (mode, threshold, unit).

A choice without a mode, minutes or metres is the run as before travel modes: walking, the
service distances in metres of :mod:`qjgeo.params`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qjgeo.params import MODES, PlanningParams

if TYPE_CHECKING:
    from qjgeo.modes import ModeNetwork
    from qjgeo.network import WalkGraph

__all__ = [
    "TravelChoice",
    "TravelError",
    "choice_of",
    "describe",
    "minutes_of",
    "search_graph",
    "travel_params",
]


class TravelError(ValueError):
    """A travel option is invalid (message in Chinese and English, naming the option)."""


@dataclass(frozen=True)
class TravelChoice:
    """The mode and threshold of a run.

    Attributes
    ----------
    mode
        ``"walk"``, ``"bike"``, ``"drive"``, or None: walking with the metre distances of
        the parameters (the behaviour before modes).
    minutes
        One time threshold for every facility type and village (overrides the standards).
    threshold_m
        One route-length threshold in metres (overrides the standards); not with ``minutes``.
    """

    mode: str | None = None
    minutes: float | None = None
    threshold_m: float | None = None

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise TravelError(
                f"--mode 只能是 {' / '.join(MODES)}，收到 {self.mode!r}；"
                f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}"
            )
        if self.minutes is not None and self.threshold_m is not None:
            raise TravelError(
                "--minutes 与 --threshold-m 只能给一个；give --minutes or --threshold-m, not both"
            )
        for name, value, unit in (("--minutes", self.minutes, "分钟 minutes"),
                                  ("--threshold-m", self.threshold_m, "米 metres")):  # fmt: skip
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise TravelError(
                    f"{name} 必须是正数（{unit}），收到 {value}；"
                    f"{name} must be a positive number of {unit.split()[-1]}, got {value}"
                )

    @property
    def effective_mode(self) -> str:
        """The mode travelled: the chosen one, else walking."""
        return self.mode or "walk"

    @property
    def legacy(self) -> bool:
        """Whether this is the run before modes: walking, metre thresholds of the parameters."""
        return self.mode is None and self.minutes is None

    @property
    def unit(self) -> str:
        """``"min"`` when thresholds are times, ``"m"`` when they are route lengths."""
        return "m" if self.legacy or self.threshold_m is not None else "min"


def travel_params(params: PlanningParams, choice: TravelChoice) -> PlanningParams:
    """The parameters with the choice applied: thresholds as costs of its mode, its detour.

    Each facility type's ``urban_threshold_m`` / ``rural_threshold_m`` become the cost (metres
    at the mode's speed) of: ``choice.threshold_m``; else ``choice.minutes``; else, with a
    mode, the type's urban / rural standard minutes (:class:`~qjgeo.params.FacilityAccess`);
    the detour factor becomes the mode's. A legacy choice returns ``params`` unchanged.
    """
    if choice.legacy and choice.threshold_m is None:
        return params
    if params.base_detour_factor is not None:  # already applied: start from the run's own
        params = params.model_copy(update={"detour_factor": params.base_detour_factor})
    mode = choice.effective_mode
    speed = params.travel(mode).speed_m_s
    access = {}
    for name, fa in params.access.items():
        if choice.threshold_m is not None:
            urban = rural = choice.threshold_m
        elif choice.minutes is not None:
            urban = rural = choice.minutes * 60.0 * speed
        else:
            urban, rural = fa.urban_minutes * 60.0 * speed, fa.rural_minutes * 60.0 * speed
        access[name] = fa.model_copy(
            update={"urban_threshold_m": urban, "rural_threshold_m": rural}
        )
    return params.model_copy(
        update={
            "access": access,
            "detour_factor": params.detour_of(mode),
            "mode": mode,
            "minutes": choice.minutes,
            "base_detour_factor": params.detour_factor,
        }
    )


def choice_of(params: PlanningParams) -> TravelChoice:
    """The choice recorded in parameters (``mode`` / ``minutes``, e.g. from a scenario)."""
    return TravelChoice(mode=params.mode, minutes=params.minutes)


def search_graph(network: WalkGraph | ModeNetwork | None, mode: str) -> WalkGraph | None:
    """The graph a search from facilities to villages runs on, for ``mode``.

    A :class:`~qjgeo.modes.ModeNetwork` must be of ``mode`` (its reversed graph when
    directed); a plain :class:`~qjgeo.network.WalkGraph` is taken as it is: the search
    graph of the mode, in its cost metres (a walking network in metres for walking).

    Raises
    ------
    TravelError
        If the network is of another mode.
    """
    if network is None:
        return None
    found = getattr(network, "mode", mode)
    if found != mode:
        raise TravelError(
            f"路网是 {found}，不能用于 {mode}；给出 {mode} 路网或不用路网（直线估算）。"
            f"The network is the {found} network, not {mode}: give the {mode} network "
            "(--network) or none (straight-line estimate)"
        )
    if hasattr(network, "search_graph"):
        return network.search_graph  # type: ignore[no-any-return]
    return network  # type: ignore[return-value]


def minutes_of(cost_m: Any, params: PlanningParams, mode: str) -> Any:
    """Travel minutes of costs (metres at the mode's speed); arrays stay arrays."""
    return cost_m / params.travel(mode).speed_m_s / 60.0


def describe(
    params: PlanningParams, choice: TravelChoice, *, networked: bool, lang: str = "en"
) -> str:
    """One line naming the mode, speed, threshold unit and how distances were measured."""
    mode = choice.effective_mode
    tm = params.travel(mode)
    detour = params.detour_of(mode)
    if lang == "zh":
        how = "路网" if networked else f"直线 × 绕行系数 {detour:g}（估算）"
        if choice.threshold_m is not None:
            limit = f"统一阈值 {choice.threshold_m:,.0f} 米"
        elif choice.minutes is not None:
            limit = (
                f"统一阈值 {choice.minutes:g} 分钟（{choice.minutes * 60 * tm.speed_m_s:,.0f} 米）"
            )
        elif choice.legacy:
            limit = "阈值为各类设施城乡服务距离（米）"
        else:
            limit = "阈值为各类设施城乡时间标准（分钟）"
        return f"出行方式：{tm.title_zh}，{tm.speed_kmh:g} 公里/小时；{limit}；距离按{how}"
    how = "network" if networked else f"straight line × detour factor {detour:g} (an estimate)"
    if choice.threshold_m is not None:
        limit = f"one threshold of {choice.threshold_m:,.0f} m"
    elif choice.minutes is not None:
        limit = (
            f"one threshold of {choice.minutes:g} min ({choice.minutes * 60 * tm.speed_m_s:,.0f} m)"
        )
    elif choice.legacy:
        limit = "thresholds: each type's urban / rural service distance (m)"
    else:
        limit = "thresholds: each type's urban / rural time standard (min)"
    return f"mode: {tm.title_en}, {tm.speed_kmh:g} km/h; {limit}; distances by {how}"
