"""What users type: astropy quantities and times, lightkurve collections, and sanity checks.

:func:`make_ephemeris` accepts plain numbers in vetcore's units (period in
days, duration in hours, depth in ppm, t0 in BTJD/BKJD or a full BJD) or astropy
types (``14.24 * u.day``, ``4.05 * u.hour``, ``Time(3540.26, format="btjd")``,
any ``Time``).  Numbers that cannot be right raise
:class:`~vetcore.errors.ConfigError` with one line saying what is accepted:

* :func:`check_epoch` — a t0 that is neither a plausible time in the data's own
  system (BTJD for TESS, BKJD for Kepler/K2) nor a full BJD: an MJD or reduced
  JD (58540.26), a BTJD given for Kepler data, a BKJD for TESS data.  The test
  does not depend on the period, so it also holds for short periods where any
  t0 puts transits in the data.
* :func:`make_ephemeris` — a duration not shorter than the period.

:func:`ephemeris_warnings` lists what is possible but probably a mistake (a
duration that looks like days); vetcore records these in ``report.warnings``
and logs them.  astropy and lightkurve are imported only when such objects are
passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vetcore.errors import ConfigError
from vetcore.model import BJD_REFERENCE, FULL_BJD_THRESHOLD, Ephemeris, Stamp

__all__ = [
    "ACCEPTED_EPOCHS",
    "MIN_DURATION_HOURS",
    "MISSION_SPANS",
    "check_epoch",
    "ephemeris_warnings",
    "flatten_sources",
    "make_ephemeris",
    "solar_duration_hours",
]

#: One line naming the accepted time systems (used in every epoch error).
ACCEPTED_EPOCHS = (
    "accepted: BTJD (BJD − 2457000) for TESS data, BKJD (BJD − 2454833) for Kepler/K2 data, "
    "a full BJD_TDB (> 2400000), or an astropy Time"
)

#: Times (in the mission's own system) between which each mission took data:
#: TESS from sector 1 (BTJD 1325.3, 2018 July) on; Kepler quarters 0–17
#: (BKJD 120.5–1591.0); K2 campaigns 0–19 (BKJD 1937–3470).
MISSION_SPANS: dict[str, tuple[float, float | None]] = {
    "TESS": (1325.0, None),
    "Kepler": (120.0, 1592.0),
    "K2": (1937.0, 3470.0),
}
#: How far (days) an epoch may lie outside the mission's span (at least one
#: period is always allowed), and beyond the end of the data for an ongoing mission.
EPOCH_MARGIN_DAYS = 30.0
FUTURE_MARGIN_DAYS = 3650.0

#: A total transit duration shorter than this (hours) is probably given in days.
MIN_DURATION_HOURS = 0.2
#: A duration shorter than this fraction of a central transit across a Sun-like
#: star at the same period is probably given in days.
MIN_SOLAR_DURATION_FRACTION = 0.1


# --------------------------------------------------------------------------- astropy types


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "unit") and hasattr(value, "to_value")


def _is_time(value: Any) -> bool:
    return any(
        cls.__name__ == "Time" and cls.__module__.startswith("astropy.time") for cls in type(value).__mro__
    )


def _scalar(value: Any, name: str, unit: str, example: str) -> float:
    """``value`` as a float in ``unit`` (astropy quantity or plain number)."""
    if _is_quantity(value):
        import astropy.units as u
        from astropy.units import cds

        target = cds.ppm if unit == "ppm" else u.Unit(unit)
        try:
            converted = value.to_value(target)
        except u.UnitConversionError:
            raise ConfigError(
                f"{name}: expected a quantity convertible to {unit} (e.g. {example}), got {value}"
            ) from None
        if getattr(converted, "ndim", 0):
            raise ConfigError(f"{name}: expected one value, got an array of {converted.size}")
        return float(converted)
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a number in {unit}, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}: expected a number in {unit} or an astropy quantity, got {value!r}"
        ) from None


def _epoch(value: Any) -> tuple[float, str, list[str]]:
    """``(t0, time_system, notes)`` from a number or an astropy ``Time``."""
    if not _is_time(value):
        if _is_quantity(value):
            raise ConfigError(
                f"t0: a Quantity ({value}) has no time system; pass a number or an astropy Time"
            )
        return _scalar(value, "t0", "d", "3540.26"), "data", []
    if not value.isscalar:
        raise ConfigError(f"t0: expected one time, got an array of {value.size}")
    notes = []
    if value.scale not in ("tdb", "tcb"):
        notes.append(
            f"t0 was given as a Time in the {value.scale.upper()} scale: converted to TDB and taken as "
            f"barycentric (BJD); no barycentric correction was applied"
        )
    tdb = value.tdb
    jd1, jd2 = float(tdb.jd1), float(tdb.jd2)
    fmt = str(value.format).lower()
    if fmt in ("btjd", "bkjd"):
        system = fmt.upper()
        return (jd1 - BJD_REFERENCE[system]) + jd2, system, notes
    return jd1 + jd2, "BJD", notes


def make_ephemeris(period: Any, t0: Any, duration: Any, depth: Any = None) -> tuple[Ephemeris, list[str]]:
    """An :class:`Ephemeris` and notes from user values (numbers in vetcore's units or astropy types).

    ``period`` days, ``t0`` BTJD/BKJD, full BJD or ``Time``, ``duration``
    hours, ``depth`` ppm (or dimensionless).  Raises :class:`ConfigError`
    for values that cannot be right; returns notes (e.g. a time-scale
    conversion) for the report's warnings.
    """
    period_d = _scalar(period, "period", "d", "14.24 * u.day")
    duration_h = _scalar(duration, "duration", "h", "4.05 * u.hour")
    depth_ppm = None if depth is None else _scalar(depth, "depth", "ppm", "250 (ppm)")
    epoch, system, notes = _epoch(t0)
    if period_d > 0 and duration_h > 0 and duration_h / 24.0 >= period_d:
        raise ConfigError(
            f"duration {duration_h:g} h is not shorter than the period {period_d:g} d ({period_d * 24:g} h); "
            f"the duration is in hours and the period in days"
        )
    try:
        ephemeris = Ephemeris(
            period=period_d, t0=epoch, duration_hours=duration_h, depth_ppm=depth_ppm, time_system=system
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ephemeris: {exc}") from None
    return ephemeris, notes


# --------------------------------------------------------------------------- sanity


def solar_duration_hours(period_days: float) -> float:
    """Total duration (h) of a central transit across a Sun-like star: 13 h × (P / 365.25 d)^(1/3)."""
    return 13.0 * (period_days / 365.25) ** (1.0 / 3.0)


def ephemeris_warnings(ephemeris: Ephemeris) -> list[str]:
    """Warnings about values that are possible but probably a mistake (a duration given in days)."""
    hours = ephemeris.duration_hours
    expected = solar_duration_hours(ephemeris.period)
    if hours < MIN_DURATION_HOURS or hours < MIN_SOLAR_DURATION_FRACTION * expected:
        return [
            f"duration {hours:g} h looks too short (a central transit across a Sun-like star at "
            f"P = {ephemeris.period:g} d lasts about {expected:.1f} h): was it given in days? vetcore "
            f"takes hours ({hours:g} d would be {hours * 24:g} h)"
        ]
    return []


def _hint(t0: float, stamp: Stamp) -> str:
    if 30000.0 < t0 < 80000.0:
        return "; it looks like an MJD (JD − 2400000.5) or a reduced JD (JD − 2400000)"
    if stamp.time_system == "BKJD" and MISSION_SPANS["TESS"][0] - 30.0 <= t0 < 20000.0:
        return "; it looks like a BTJD (TESS), not a BKJD"
    if stamp.time_system == "BTJD" and -500.0 < t0 < MISSION_SPANS["TESS"][0]:
        return "; it looks like a BKJD (Kepler), not a BTJD"
    return ""


def check_epoch(ephemeris: Ephemeris, stamps: Sequence[Stamp]) -> None:
    """Refuse a t0 that is not a plausible time in the data's own system (see the module docstring).

    A full BJD (or an epoch whose system was stated by an astropy ``Time``) is
    always accepted; a bare number must lie within the mission's observing
    span (:data:`MISSION_SPANS`; for TESS up to ten years after the data) or
    near the data itself, each ± max(period, 30 d).
    """
    if ephemeris.time_system != "data" or ephemeris.t0 > FULL_BJD_THRESHOLD:
        return
    systems = sorted({s.time_system for s in stamps})
    if len(systems) > 1:
        raise ConfigError(
            f"t0 {ephemeris.t0!r}: the data mix {' and '.join(systems)}, so a bare t0 is ambiguous; "
            f"give a full BJD (> 2400000) or an astropy Time"
        )
    margin = max(ephemeris.period, EPOCH_MARGIN_DAYS)
    for stamp in stamps:
        start, end = MISSION_SPANS.get(stamp.mission, (None, None))
        times = stamp.time[stamp.good]
        if times.size == 0:
            continue
        first, last = float(times.min()), float(times.max())
        if end is None:
            end = last + FUTURE_MARGIN_DAYS
        in_mission = (start is None or ephemeris.t0 >= start - margin) and ephemeris.t0 <= end + margin
        near_data = first - margin <= ephemeris.t0 <= last + margin
        if not (in_mission or near_data):
            raise ConfigError(
                f"t0 {ephemeris.t0!r} is not a plausible {stamp.time_system} for {stamp.mission} data "
                f"({stamp.label} covers {stamp.time_system} {first:.2f}–{last:.2f})"
                f"{_hint(ephemeris.t0, stamp)}; "
                f"{ACCEPTED_EPOCHS}"
            )


# --------------------------------------------------------------------------- sources


def flatten_sources(sources: Any) -> list[Any]:
    """One list of sources: a single item, a list/tuple, or a lightkurve ``TargetPixelFileCollection``."""
    if isinstance(sources, (list, tuple)):
        items: Iterable[Any] = sources
    elif any(cls.__name__ == "TargetPixelFileCollection" for cls in type(sources).__mro__):
        items = list(sources)
    else:
        return [sources]
    out: list[Any] = []
    for item in items:
        out.extend(flatten_sources(item) if isinstance(item, (list, tuple)) else [item])
    return out
