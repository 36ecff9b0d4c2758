"""The Scenarios page's new-facility form: one widget per attribute the facility type takes.

The fields are the type's canonical columns (:data:`qjgeo.schema.REQUIRED_COLUMNS`) less those
a new facility gets from its own keys or the scenario engine; yes/no fields are checkboxes,
counts and areas number inputs within their plausible range, the rest text inputs. Each is
prefilled with the layer's most common value, and the values form the facility's attributes
exactly as the YAML typed before did (same keys, same Python types).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from qjgeo.ingest.fields import BOOL_FIELDS, COUNT_FIELDS, FIELD_RANGES, FLOAT_FIELDS
from qjgeo.mapview.labels import field_label
from qjgeo.schema import REQUIRED_COLUMNS
from qjgeo.ui.state import Ctx

#: Attributes a new facility gets from its own keys or the scenario engine.
AUTO_FIELDS = frozenset(
    {"id", "name", "provenance", "source", "township_code", "village_code", "scenario"}
)


def form_fields(facility_type: str) -> tuple[str, ...]:
    """The attributes a new facility of ``facility_type`` is given in the form, in order."""
    return tuple(c for c in REQUIRED_COLUMNS.get(facility_type, ()) if c not in AUTO_FIELDS)


def default_attributes(ctx: Ctx, facility_type: str) -> dict[str, Any]:
    """Required attributes of a new facility, prefilled with the layer's most common value."""
    frame = ctx.dataset.layer(facility_type)
    out: dict[str, Any] = {}
    for col in form_fields(facility_type):
        if col not in frame.columns or frame[col].dropna().empty:
            continue
        value = frame[col].dropna().mode().iloc[0]
        out[col] = value.item() if hasattr(value, "item") else value
    return out


def widget_key(facility_type: str, field: str, prefix: str = "sc_attr") -> str:
    """The key of a field's widget (stable, and unique per facility type and form)."""
    return f"{prefix}_{facility_type}_{field}"


_KNOWN_KINDS = BOOL_FIELDS | COUNT_FIELDS | FLOAT_FIELDS


def edit_fields(facility_type: str, columns: list[str]) -> tuple[str, ...]:
    """The attributes of an existing facility a planner may edit: the type's own fields,
    then any other yes/no, count or area column its layer has."""
    own = form_fields(facility_type)
    extra = [c for c in columns if c in _KNOWN_KINDS and c not in own and c not in AUTO_FIELDS]
    return (*own, *extra)


def facility_values(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """An existing facility's current values of ``fields`` (missing ones left out)."""
    out: dict[str, Any] = {}
    for field in fields:
        value = row.get(field) if hasattr(row, "get") else None
        if value is None or (isinstance(value, float) and value != value):
            continue
        out[field] = value.item() if hasattr(value, "item") else value
    return out


def _label(ctx: Ctx, field: str) -> str:
    return field_label(field, ctx.lang) or field


def _number(
    ctx: Ctx, facility_type: str, field: str, default: Any, prefix: str = "sc_attr"
) -> int | float | None:
    """A count (whole number) or an area within its plausible range; ``None`` when left empty."""
    lo, hi = FIELD_RANGES.get(field, (None, None))
    whole = field in COUNT_FIELDS or (field not in FLOAT_FIELDS and isinstance(default, int))
    cast: type[int] | type[float] = int if whole else float
    value = None if default is None else cast(default)
    if value is not None and lo is not None and hi is not None:
        value = min(max(value, cast(lo)), cast(hi))
    words: dict[str, Any] = {
        "placeholder": ctx.t("sc_attr_empty"),
        "help": None if lo is None or hi is None else ctx.t("sc_attr_range", lo=lo, hi=hi),
    }
    out = st.number_input(
        _label(ctx, field),
        min_value=None if lo is None else cast(lo),
        max_value=None if hi is None else cast(hi),
        value=value,
        step=cast(1) if whole else 0.1,
        key=widget_key(facility_type, field, prefix),
        **words,
    )
    return None if out is None else cast(out)


def attribute_form(
    ctx: Ctx,
    facility_type: str,
    *,
    defaults: dict[str, Any] | None = None,
    fields: tuple[str, ...] | None = None,
    prefix: str = "sc_attr",
) -> dict[str, Any]:
    """Draw the type's attribute fields; return the attributes they give (empty ones left out).

    ``defaults`` prefill the fields (a new facility: the layer's most common values; an
    existing one: its own); ``prefix`` keeps the widgets of two forms apart.
    """
    if defaults is None:
        defaults = default_attributes(ctx, facility_type)
    out: dict[str, Any] = {}
    for field in fields if fields is not None else form_fields(facility_type):
        default = defaults.get(field)
        key = widget_key(facility_type, field, prefix)
        if field in BOOL_FIELDS:
            out[field] = bool(st.checkbox(_label(ctx, field), value=bool(default), key=key))
        elif field in COUNT_FIELDS or field in FLOAT_FIELDS or field in FIELD_RANGES:
            number = _number(ctx, facility_type, field, default, prefix)
            if number is not None:
                out[field] = number
        else:
            text = st.text_input(_label(ctx, field), value=_text(default), key=key).strip()
            if text:
                out[field] = text
    return out


def _text(default: Any) -> str:
    return "" if default is None else str(default)
