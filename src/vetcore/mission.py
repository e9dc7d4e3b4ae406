"""Mission facts, in one table: TESS, Kepler, K2 (and TESScut as a TESS flavour).

Everything in vetcore that depends on the mission — loaders, stamp labels, time
systems, quality masks, the synthetic stamps of :mod:`vetcore.testing`, the
configuration's preset names — reads :data:`MISSIONS`.

Time systems: BTJD = BJD_TDB − 2457000 (TESS), BKJD = BJD_TDB − 2454833
(Kepler, K2).  Pixel scales are nominal (21″ TESS, 3.98″ Kepler/K2); the scale of
a stamp always comes from its WCS.

Quality flags follow the TESS Science Data Products Description (EXP-TESS-ARC-ICD-0014,
§9) and the Kepler Archive Manual (KDMC-10008, table 2-3).  The presets
``default``, ``hard`` and ``hardest`` are bit-for-bit those of lightkurve
(``TessQualityFlags``/``KeplerQualityFlags`` ``DEFAULT_BITMASK``, ``HARD_BITMASK``,
``HARDEST_BITMASK``), so a cadence vetcore drops is one lightkurve drops; ``none``
keeps everything.  An integer bitmask is used as given.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from vetcore.errors import ConfigError

__all__ = [
    "BJD_OFFSETS",
    "K2",
    "KEPLER",
    "MISSIONS",
    "QUALITY_PRESETS",
    "TESS",
    "TESSCUT",
    "Mission",
    "resolve_bitmask",
]

#: Names of the quality-bitmask presets every mission defines; an integer is also accepted.
QUALITY_PRESETS: tuple[str, ...] = ("default", "hard", "hardest", "none")


def _bits(*bits: int) -> int:
    mask = 0
    for bit in bits:
        mask |= bit
    return mask


@attrs.frozen
class Mission:
    """The facts vetcore needs about one mission (or a flavour of one).

    ``name`` is :attr:`Stamp.mission`; ``flavour`` distinguishes products of the
    same mission (``"TESScut"`` FFI cut-outs); ``telescope`` is the FITS
    ``TELESCOP`` value; ``label_prefix`` + number makes :attr:`Stamp.label`
    (``S83``, ``Q10``, ``C5``); ``period_word`` names the observing period and
    ``period_keyword`` is the primary-header keyword of its number in the mission's
    target pixel files (``SECTOR``, ``QUARTER``, ``CAMPAIGN``);
    ``catalogue`` is the identifier prefix (``TIC``, ``KIC``, ``EPIC``) and
    ``magnitude_band`` its magnitude; ``frame_seconds`` is the duration of one
    detector frame (exposure + readout) and ``cadence_seconds`` the usual cadence
    of the product; ``quality_flags`` names every quality bit and
    ``quality_presets`` maps :data:`QUALITY_PRESETS` to bitmasks.
    """

    name: str
    telescope: str
    time_system: str
    bjd_offset: float
    pixel_scale_arcsec: float
    frame_seconds: float
    cadence_seconds: float
    label_prefix: str
    period_word: str
    period_keyword: str
    catalogue: str
    magnitude_band: str
    quality_flags: Mapping[int, str]
    quality_presets: Mapping[str, int]
    flavour: str = ""

    def label(self, number: int) -> str:
        """``S83``, ``Q10``, ``C5``: the short label of one observing period."""
        return f"{self.label_prefix}{number}"

    def bitmask(self, spec: str | int) -> int:
        """The integer bitmask for a preset name (:data:`QUALITY_PRESETS`) or a non-negative integer."""
        return resolve_bitmask(spec, self.name)


_TESS_FLAGS: dict[int, str] = {
    1: "Attitude tweak",
    2: "Safe mode",
    4: "Coarse point",
    8: "Earth point",
    16: "Argabrightening",
    32: "Reaction wheel desaturation (momentum dump)",
    64: "Cosmic ray in optimal aperture",
    128: "Manual exclude",
    256: "Discontinuity corrected",
    512: "Impulsive outlier",
    1024: "Cosmic ray in collateral data",
    2048: "Stray light",
    4096: "Stray light 2",
    8192: "Planet search exclude",
    16384: "Bad calibration exclude",
    32768: "Insufficient targets for error correction exclude",
}
_TESS_DEFAULT = _bits(1, 2, 4, 8, 16, 32, 128, 512, 16384)
_TESS_HARD = _TESS_DEFAULT | _bits(64, 1024, 2048, 4096)
_TESS_PRESETS = {"none": 0, "default": _TESS_DEFAULT, "hard": _TESS_HARD, "hardest": _bits(*_TESS_FLAGS)}

_KEPLER_FLAGS: dict[int, str] = {
    1: "Attitude tweak",
    2: "Safe mode",
    4: "Coarse point",
    8: "Earth point",
    16: "Zero crossing",
    32: "Reaction wheel desaturation (momentum dump)",
    64: "Argabrightening",
    128: "Cosmic ray in optimal aperture",
    256: "Manual exclude",
    1024: "Sudden sensitivity dropout",
    2048: "Impulsive outlier",
    4096: "Argabrightening on CCD",
    8192: "Cosmic ray in collateral data",
    16384: "Detector anomaly",
    32768: "No fine point",
    65536: "No data",
    131072: "Rolling band in optimal aperture",
    262144: "Rolling band in full mask",
    524288: "Possible thruster firing",
    1048576: "Thruster firing",
}
_KEPLER_DEFAULT = _bits(1, 2, 4, 8, 32, 256, 16384, 65536, 1048576)
_KEPLER_HARD = _KEPLER_DEFAULT | _bits(128, 1024, 8192, 524288)
_KEPLER_PRESETS = {
    "none": 0,
    "default": _KEPLER_DEFAULT,
    "hard": _KEPLER_HARD,
    "hardest": _bits(*_KEPLER_FLAGS),
}

TESS = Mission(
    name="TESS",
    telescope="TESS",
    time_system="BTJD",
    bjd_offset=2457000.0,
    pixel_scale_arcsec=21.0,
    frame_seconds=2.0,
    cadence_seconds=120.0,
    label_prefix="S",
    period_word="sector",
    period_keyword="SECTOR",
    catalogue="TIC",
    magnitude_band="T",
    quality_flags=_TESS_FLAGS,
    quality_presets=_TESS_PRESETS,
)
#: FFI cut-outs (TESScut/astrocut): TESS pixels, no pipeline aperture, FFI cadence
#: (1800 s in sectors 1–26, 600 s in 27–55, 200 s from 56).
TESSCUT = attrs.evolve(TESS, flavour="TESScut", cadence_seconds=1800.0)
KEPLER = Mission(
    name="Kepler",
    telescope="Kepler",
    time_system="BKJD",
    bjd_offset=2454833.0,
    pixel_scale_arcsec=3.98,
    frame_seconds=6.019802903,
    cadence_seconds=1765.5,
    label_prefix="Q",
    period_word="quarter",
    period_keyword="QUARTER",
    catalogue="KIC",
    magnitude_band="Kp",
    quality_flags=_KEPLER_FLAGS,
    quality_presets=_KEPLER_PRESETS,
)
K2 = attrs.evolve(
    KEPLER, name="K2", label_prefix="C", period_word="campaign", period_keyword="CAMPAIGN", catalogue="EPIC"
)

#: Every mission by :attr:`Stamp.mission` name.
MISSIONS: dict[str, Mission] = {m.name: m for m in (TESS, KEPLER, K2)}

#: Offset of each time system from BJD_TDB (days); ``BJD`` is BJD_TDB itself.
BJD_OFFSETS: dict[str, float] = {
    **{m.time_system: m.bjd_offset for m in MISSIONS.values()},
    "BJD": 0.0,
}


def resolve_bitmask(spec: str | int, mission: str) -> int:
    """The integer quality bitmask of ``mission`` for a preset name or a non-negative integer."""
    expected = f"expected one of {', '.join(QUALITY_PRESETS)} or a non-negative integer"
    if isinstance(spec, bool):
        raise ConfigError(f"quality_bitmask: {expected}, got {spec!r}")
    if isinstance(spec, int):
        if spec < 0:
            raise ConfigError(f"quality_bitmask: must be >= 0, got {spec}")
        return spec
    presets = MISSIONS.get(mission, TESS).quality_presets
    try:
        return presets[str(spec).lower()]
    except KeyError:
        raise ConfigError(f"quality_bitmask: {expected}, got {spec!r}") from None
