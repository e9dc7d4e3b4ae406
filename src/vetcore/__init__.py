"""vetcore: pixel-level vetting of transiting-planet candidates (TESS, Kepler, K2).

Does the transit signal come from the target star, or from a neighbour whose
light leaks into the aperture?  vetcore answers with pluggable checks run over
per-sector pixel stamps, and a target-level verdict across sectors.

Public API (everything a plugin or notebook needs)::

    import vetcore
    report = vetcore.vet(["sector83_tpf.npz"], period=14.2423724, t0=3540.26317,
                         duration=4.046, checks=["V08", "V09", "V25"])

Importing this package is cheap: lightkurve, matplotlib and dask are only
imported by the code paths that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vetcore.errors import ConfigError, DataError, PluginError, VetcoreError
from vetcore.hookspecs import API_VERSION, hookimpl
from vetcore.model import (
    Check,
    CheckResult,
    Ephemeris,
    LightCurve,
    Loader,
    LoadOptions,
    Localization,
    Param,
    Params,
    Renderer,
    Scope,
    SectorContext,
    Stamp,
    Status,
    Target,
    TargetContext,
)
from vetcore.version import __version__

__all__ = [
    "API_VERSION",
    "Check",
    "CheckResult",
    "ConfigError",
    "DataError",
    "Ephemeris",
    "LightCurve",
    "LoadOptions",
    "Loader",
    "Localization",
    "Param",
    "Params",
    "PluginError",
    "Renderer",
    "Report",
    "Scope",
    "SectorContext",
    "Stamp",
    "Status",
    "Target",
    "TargetContext",
    "VetcoreError",
    "__version__",
    "hookimpl",
    "load",
    "vet",
]

_LAZY = {"vet": "vetcore.api", "load": "vetcore.api", "Report": "vetcore.report"}

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.api import load, vet
    from vetcore.report import Report


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vetcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Module attributes plus the lazily imported public names (for tab completion)."""
    return sorted(set(globals()) | set(__all__))
