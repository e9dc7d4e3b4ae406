"""The Python API: :func:`vet` one candidate, :func:`load` pixel data.

The command line is a thin layer over these two functions::

    import vetcore
    report = vetcore.vet(["s82_tp.fits", "s83_tp.fits"], period=14.2423724, t0=3540.26317,
                         duration=4.046, checks=["V08", "V09", "V25"])
    report.save("out/")
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from vetcore.config import Config, as_config
from vetcore.errors import ConfigError, DataError
from vetcore.model import Ephemeris, LightCurve, LoadOptions, Stamp, Target
from vetcore.report import Report, inputs_hash
from vetcore.runner import Progress, run_target

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.plugins import PluginManager

__all__ = ["load", "make_ephemeris", "vet"]


def _as_list(sources: Any) -> list[Any]:
    if isinstance(sources, (list, tuple)):
        return list(sources)
    return [sources]


def make_ephemeris(period: float, t0: float, duration: float, depth: float | None = None) -> Ephemeris:
    """An :class:`Ephemeris` from user units: ``period`` days, ``t0`` BTJD/BKJD or full BJD,
    ``duration`` hours, ``depth`` ppm; invalid values raise :class:`ConfigError`."""
    try:
        return Ephemeris(
            period=float(period),
            t0=float(t0),
            duration_hours=float(duration),
            depth_ppm=None if depth is None else float(depth),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ephemeris: {exc}") from None


def load(
    sources: Any,
    *,
    sectors: Sequence[int] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    quality_bitmask: str | int = "default",
    target: Target | None = None,
    plugin_manager: PluginManager | None = None,
    downloader: Any = None,
) -> list[Stamp]:
    """Turn sources into stamps (one per sector), sorted by mission and sector.

    ``sources`` is one item or a list: file paths, folders, globs, target
    identifiers (``"TIC 188646744"``), lightkurve objects or :class:`Stamp`
    instances (passed through).  Each non-stamp source goes to the accepting
    loader of highest priority.  Stamps outside ``sectors`` are dropped.
    """
    items = _as_list(sources)
    if not items:
        raise ConfigError("no data sources given")
    stamps = [s for s in items if isinstance(s, Stamp)]
    others = [s for s in items if not isinstance(s, Stamp)]
    if others:
        from vetcore.loading import load_sources
        from vetcore.plugins import PluginManager

        pm = plugin_manager if plugin_manager is not None else PluginManager()
        options = LoadOptions(
            sectors=None if sectors is None else tuple(int(s) for s in sectors),
            cache_dir=None if cache_dir is None else str(cache_dir),
            offline=offline,
            quality_bitmask=quality_bitmask,
            target=target,
            downloader=downloader,
        )
        stamps.extend(load_sources(others, options, pm.loaders))
    if sectors is not None:
        have = sorted({s.label for s in stamps})
        stamps = [s for s in stamps if s.sector in set(sectors)]
        if not stamps:
            raise DataError(
                ", ".join(map(str, items)),
                f"no data for sectors {', '.join(map(str, sectors))} (have: {', '.join(have) or 'none'})",
            )
    return sorted(stamps, key=lambda s: (s.mission, s.sector))


def _target_changes(target: str | Target | None, ra: float | None, dec: float | None) -> dict[str, Any]:
    """The caller's target identity/position overrides, validated."""
    if (ra is None) != (dec is None):
        raise ConfigError("ra and dec must be given together")
    changes: dict[str, Any] = {}
    if isinstance(target, Target):
        changes = attrs.asdict(target, recurse=False)
    elif target is not None:
        changes["id"] = str(target)
    if ra is not None and dec is not None:
        changes.update(ra=float(ra), dec=float(dec))
    try:
        Target(**{"id": "check", **changes})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"target: {exc}") from None
    return changes


def _check_stamps(stamps: list[Stamp], ephemeris: Ephemeris) -> None:
    """One target, unique labels, a known position and at least one transit in the data."""
    first = stamps[0]
    by_label: dict[str, Stamp] = {}
    for stamp in stamps:
        if stamp.target.id != first.target.id:
            raise DataError(
                stamp.source or stamp.label,
                f"target {stamp.target.id!r} differs from {first.target.id!r} "
                f"({first.source or first.label}); vet one target at a time, or pass target=",
            )
        if not stamp.target.has_position:
            raise DataError(
                stamp.source or stamp.label, "no target RA/Dec in the data; pass ra= and dec= (--ra/--dec)"
            )
        if stamp.label in by_label:
            raise DataError(
                stamp.source or stamp.label,
                f"{stamp.label} given twice (also {by_label[stamp.label].source or 'a stamp'}); "
                f"pass each sector once",
            )
        by_label[stamp.label] = stamp
    spans = []
    for stamp in stamps:
        t = stamp.time[stamp.good]
        if t.size == 0:
            continue
        half = ephemeris.duration_days / 2.0
        mids = ephemeris.mid_transits(
            float(t.min()) - half, float(t.max()) + half, stamp.time_system, stamp.bjd_ref
        )
        if mids.size:
            return
        spans.append(f"{stamp.label}: {stamp.time_system} {t.min():.2f}–{t.max():.2f}")
    raise ConfigError(
        f"no transit of the ephemeris (period {ephemeris.period} d, t0 {ephemeris.t0}) falls within the data "
        f"({'; '.join(spans) or 'no good cadences'}); is t0 in the right time system "
        f"(BTJD for TESS, BKJD for Kepler, or a full BJD)?"
    )


def vet(
    sources: Any,
    *,
    period: float,
    t0: float,
    duration: float,
    depth: float | None = None,
    target: str | Target | None = None,
    ra: float | None = None,
    dec: float | None = None,
    checks: Sequence[str] | str | None = None,
    config: Config | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    sectors: Sequence[int] | None = None,
    offline: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    plugin_manager: PluginManager | None = None,
    progress: Progress | None = None,
    lightcurve: LightCurve | Mapping[str, LightCurve] | None = None,
) -> Report:
    """Vet one transiting-planet candidate and return its :class:`~vetcore.report.Report`.

    Parameters
    ----------
    sources
        One source or a list (see :func:`load`); typically one file per sector.
    period, t0, duration, depth
        Ephemeris: period in days; mid-transit epoch in the data's time system
        (BTJD for TESS, BKJD for Kepler) or a full BJD_TDB (> 2 400 000, converted
        per stamp); total duration in **hours**; optional depth in ppm.
    target, ra, dec
        Override the target name (or a whole :class:`Target`) and position (deg)
        found in the data.
    checks
        Check ids, globs or ``plugin:NAME`` (a list or a comma-separated string);
        replaces the configuration's ``[select]``.  Default: the configuration's
        selection, i.e. every installed check.
    config
        A :class:`~vetcore.config.Config`, a dict in the TOML layout, or a path to
        a TOML file.  No file is read implicitly.
    sectors, offline, cache_dir
        Data options (override the configuration's ``[data]``).
    plugin_manager
        Reuse a :class:`~vetcore.plugins.PluginManager` (default: a new one that
        honours ``[plugins] disable``).
    progress
        ``progress(kind, **info)`` callable (see :mod:`vetcore.runner`).
    lightcurve
        Optional light curve for checks that need one (one for all stamps, or
        ``{stamp_label: LightCurve}``).
    """
    cfg = as_config(config)
    if offline is not None:
        cfg = cfg.replace(offline=bool(offline))
    if cache_dir is not None:
        cfg = cfg.replace(cache_dir=str(cache_dir))
    if plugin_manager is None:
        from vetcore.plugins import PluginManager

        plugin_manager = PluginManager(disabled=cfg.disable_plugins)
    pm = plugin_manager
    if isinstance(checks, str):
        checks = [c.strip() for c in checks.split(",") if c.strip()]
    selected = cfg.select_checks(pm, checks)
    ephemeris = make_ephemeris(period, t0, duration, depth)

    changes = _target_changes(target, ra, dec)

    t_load = time.perf_counter()
    stamps = load(
        sources,
        sectors=sectors,
        cache_dir=cfg.cache_dir,
        offline=cfg.offline,
        quality_bitmask=cfg.quality_bitmask,
        plugin_manager=pm,
        target=Target(**changes) if "id" in changes else None,
    )
    if changes:
        stamps = [s.replace(target=attrs.evolve(s.target, **changes)) for s in stamps]
    _check_stamps(stamps, ephemeris)
    load_s = time.perf_counter() - t_load
    if progress is not None:
        progress("loaded", target=stamps[0].target.id, sectors=[s.label for s in stamps], elapsed_s=load_s)

    effective = cfg.effective(pm, selected)
    pm.call_event("vetcore_configure", config=effective)
    extra = {"target": changes, "sectors": None if sectors is None else sorted(int(s) for s in sectors)}
    report = run_target(
        stamps,
        ephemeris,
        stamps[0].target,
        selected,
        cfg,
        pm,
        progress=progress,
        lightcurve=lightcurve,
        hash_inputs=inputs_hash(effective, ephemeris, _as_list(sources), extra),
    )
    report.timings["load_s"] = load_s
    return report
