"""Conversion of results to plain JSON values.

numpy scalars and arrays become Python numbers and lists, NaN and ±inf become
``None`` (JSON has no such numbers), enums their value, tuples lists, and
:class:`~vetcore.model.Localization` / :class:`~vetcore.model.CheckResult`
their documented dictionaries.  Key order follows construction, so the output
is deterministic.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

from vetcore.model import CheckResult, Localization

__all__ = ["jsonable", "localization_to_dict", "result_to_dict"]


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready Python objects (see the module docstring)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.size:  # whole array at once: NaN/±inf become None
            finite = np.isfinite(value)
            if finite.all():
                return value.tolist()
            values = value.astype(object)
            values[~finite] = None
            return values.tolist()
        if value.dtype.kind in "biu":
            return value.tolist()
        return jsonable(value.tolist())
    if isinstance(value, Localization):
        return localization_to_dict(value)
    if isinstance(value, CheckResult):
        return result_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and all(type(v) is float for v in value):  # a numeric series
        return [v if math.isfinite(v) else None for v in value]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def localization_to_dict(loc: Localization) -> dict[str, Any]:
    """The report form of a :class:`Localization` (offsets in arcsec, (east, north))."""
    east, north = (float(v) for v in loc.offset_arcsec)
    return {
        "method": loc.method,
        "ra": jsonable(loc.ra),
        "dec": jsonable(loc.dec),
        "offset_arcsec": {"east": jsonable(east), "north": jsonable(north)},
        "covariance_arcsec2": jsonable(loc.covariance_arcsec2),
        "offset_sigma": jsonable(loc.offset_sigma),
        "distance_arcsec": jsonable(loc.distance_arcsec),
        "pixel": None
        if loc.pixel is None
        else {"row": jsonable(loc.pixel[0]), "col": jsonable(loc.pixel[1])},
        "pixel_covariance": None if loc.pixel_covariance is None else jsonable(loc.pixel_covariance),
        "label": loc.label,
        "epochs": [localization_to_dict(e) for e in loc.epochs],
    }


def result_to_dict(result: CheckResult) -> dict[str, Any]:
    """The report form of a :class:`CheckResult`."""
    return {
        "check": result.check,
        "status": result.status.value,
        "flags": list(result.flags),
        "message": result.message,
        "metrics": jsonable(result.metrics),
        "localization": None if result.localization is None else localization_to_dict(result.localization),
        "plot_data": jsonable(result.plot_data),
        "params": jsonable(result.params),
        "elapsed_s": jsonable(result.elapsed_s),
        "version": result.version,
        "sector": result.sector,
        "error": result.error,
    }
