"""The gap map's legend: one entry per layer drawn, in drawing order, and the legend box."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qjgeo.export.staticmap.data import FACILITY_COLOUR
from qjgeo.export.staticmap.layout import Box


@dataclass
class LegendEntries:
    """Legend handles and their labels, collected while the map is drawn."""

    handles: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, handle: Any, label: str) -> None:
        """Append one entry."""
        self.handles.append(handle)
        self.labels.append(label)

    def heading(self, label: str) -> None:
        """Append a line of text without a symbol (heads a list of bands)."""
        self.add(Line2D([], [], ls="", marker=""), label)

    def district(self) -> None:
        """The district boundary."""
        self.add(Line2D([], [], color="#222222", lw=1.4), "区界 District boundary")

    def surface(self, alpha: float) -> None:
        """The gap hexagons, shown under the villages."""
        self.add(
            Patch(facecolor="#fc8d59", alpha=alpha, edgecolor="none"),
            "缺口面（六边形）Gap surface (hexagons)",
        )

    def surface_bands(
        self, facility_zh: str, bands: Sequence[str], colours: Mapping[str, str], alpha: float
    ) -> None:
        """The distance bands of the hexagons, when no villages carry them."""
        self.heading(f"到最近{facility_zh}的距离 / distance to nearest")
        for band in bands:
            self.add(Patch(facecolor=colours[band], alpha=alpha, edgecolor="none"), f"    {band}")

    def township_boundary(self) -> None:
        """The (estimated) township boundaries."""
        self.add(
            Line2D([], [], color="#555555", lw=0.7, ls="--"),
            "镇街界（估算）Township boundary (est.)",
        )

    def focus_township(self) -> None:
        """The township the map is zoomed to."""
        self.add(Patch(facecolor="#fff7bc", edgecolor="#b35806", lw=1.5), "本镇街 This township")

    def village_bands(
        self, facility_zh: str, bands: Sequence[str], colours: Mapping[str, str]
    ) -> None:
        """The villages' distance bands, nearest first."""
        self.heading(f"村（社区）到最近{facility_zh}的距离 / village: distance to nearest")
        for band in bands:
            self.add(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    markersize=5.5,
                    markerfacecolor=colours[band],
                    markeredgecolor="#333333",
                    markeredgewidth=0.4,
                ),
                f"    {band}",
            )

    def facilities(self, zh: str, en: str) -> None:
        """The facilities (triangles)."""
        self.add(
            Line2D(
                [],
                [],
                marker="^",
                ls="",
                markersize=6.5,
                markerfacecolor=FACILITY_COLOUR,
                markeredgecolor="white",
            ),
            f"{zh} {en}",
        )


def draw_legend(
    fig: Figure, rect: Box, drawn: Mapping[str, Any], *, family: str, fs: float
) -> Legend:
    """Draw the legend of :func:`~qjgeo.export.staticmap.draw_gap_axes` in its own axes.

    Parameters
    ----------
    fig
        The page.
    rect
        Where the legend axes go (figure fractions).
    drawn
        What :func:`~qjgeo.export.staticmap.draw_gap_axes` returned (``handles``, ``labels``).
    family
        The CJK font family.
    fs
        Font scale of the page (:func:`~qjgeo.export.staticmap.layout.font_scale`).

    Returns
    -------
    matplotlib.legend.Legend
        The legend drawn (its extent places the table below it).
    """
    leg_ax = fig.add_axes(rect)
    leg_ax.axis("off")
    return leg_ax.legend(
        drawn["handles"],
        drawn["labels"],
        loc="upper left",
        frameon=True,
        fontsize=7.2 * fs,
        title="图例 Legend",
        title_fontsize=8.5 * fs,
        prop={"family": family, "size": 7.2 * fs},
        borderaxespad=0.0,
        labelspacing=0.55,
        handletextpad=0.6,
        mode="expand",
    )
