"""Why a scenario change was refused, said in the page's language with what to do."""

from __future__ import annotations

from qjgeo.ui.state import Ctx


def error_text(ctx: Ctx, exc: Exception) -> str:
    """Why a change or the draft was refused, in the page's language.

    A point outside the district (the library's :class:`~qjgeo.scenario.PointOutsideError`)
    is said with what to do; any other: that the draft is unchanged, what to do, and the
    engine's reason (without the ``<app> (scenario '…')`` it was raised in).
    """
    from qjgeo.scenario import PointOutsideError

    if isinstance(exc, PointOutsideError):
        return ctx.t("sc_point_outside", lon=exc.lon, lat=exc.lat)
    return ctx.t("sc_error", error=_reason(exc))


def _reason(exc: Exception) -> str:
    """The engine's reason without where the draft lives (``<app> (scenario '…'): ``)."""
    text = str(exc) or type(exc).__name__
    head, sep, rest = text.partition("): ")
    return rest if sep and head.startswith("<") else text
