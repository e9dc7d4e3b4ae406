"""Quality-flag bitmasks of the TESS and Kepler pipelines.

Bits follow the TESS Science Data Products Description (SDPD, EXP-TESS-ARC-ICD-0014,
table 28) and the Kepler Archive Manual (KDMC-10008, table 2-3).  ``"default"``
drops cadences that are unusable for photometry (attitude tweaks, safe mode,
coarse/Earth pointing, momentum dumps, manual exclusions); ``"hard"`` also drops
cadences flagged for cosmic rays, stray light and impulsive outliers; ``"none"``
keeps everything.  An integer is used as given.
"""

from __future__ import annotations

from vetcore.errors import ConfigError

__all__ = ["BITMASKS", "resolve_bitmask"]

_TESS_DEFAULT = 1 | 2 | 4 | 8 | 32 | 128  # tweak, safe mode, coarse, Earth point, desat, manual exclude
_TESS_HARD = (
    _TESS_DEFAULT | 16 | 64 | 512 | 1024 | 2048
)  # + argabrightening, cosmic rays, impulsive, stray light
_KEPLER_DEFAULT = 1 | 2 | 4 | 8 | 32 | 128 | 1024 | 2048 | 8192 | 65536 | 1048576
_KEPLER_HARD = _KEPLER_DEFAULT | 16 | 64 | 256 | 512 | 4096 | 16384 | 32768

BITMASKS: dict[str, dict[str, int]] = {
    "TESS": {"none": 0, "default": _TESS_DEFAULT, "hard": _TESS_HARD},
    "Kepler": {"none": 0, "default": _KEPLER_DEFAULT, "hard": _KEPLER_HARD},
    "K2": {"none": 0, "default": _KEPLER_DEFAULT, "hard": _KEPLER_HARD},
}


def resolve_bitmask(spec: str | int, mission: str) -> int:
    """The integer bitmask for ``spec`` (``"default"``, ``"hard"``, ``"none"`` or an int)."""
    if isinstance(spec, bool):
        raise ConfigError(f"quality_bitmask: expected 'default', 'hard', 'none' or an integer, got {spec!r}")
    if isinstance(spec, int):
        if spec < 0:
            raise ConfigError(f"quality_bitmask: must be >= 0, got {spec}")
        return spec
    table = BITMASKS.get(mission, BITMASKS["TESS"])
    try:
        return table[str(spec).lower()]
    except KeyError:
        raise ConfigError(
            f"quality_bitmask: expected 'default', 'hard', 'none' or an integer, got {spec!r}"
        ) from None
