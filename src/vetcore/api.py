from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from vetcore.config import Config, as_config
from vetcore.errors import ConfigError
from vetcore.model import Ephemeris, LightCurve, LoadOptions, Stamp, Target
from vetcore.report import Report, inputs_hash
from vetcore.runner import Progress

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.neighbours import NeighbourSpec
    from vetcore.plugins import PluginManager
    from vetcore.session import Session

__all__ = ["load", "make_ephemeris", "vet"]

logger = logging.getLogger("vetcore")


def _as_list(sources: Any) -> list[Any]:
    if isinstance(sources, (list, tuple)):
        return list(sources)
    return [sources]


def make_ephemeris(period: Any, t0: Any, duration: Any, depth: Any = None) -> Ephemeris:
    """An :class:`Ephemeris` from user units: ``period`` days, ``t0`` BTJD/BKJD or full BJD,
    ``duration`` hours, ``depth`` ppm, or astropy quantities and times (see
    :func:`vetcore.inputs.make_ephemeris`); invalid values raise :class:`ConfigError`."""
    from vetcore.inputs import make_ephemeris as from_inputs

    return from_inputs(period, t0, duration, depth)[0]


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
    from vetcore.loading import load_stamps

    items = _as_list(sources)
    loaders = []
    if any(not isinstance(s, Stamp) for s in items):
        from vetcore.plugins import PluginManager

        loaders = (plugin_manager if plugin_manager is not None else PluginManager()).loaders
    options = LoadOptions(
        sectors=None if sectors is None else tuple(int(s) for s in sectors),
        cache_dir=None if cache_dir is None else str(cache_dir),
        offline=offline,
        quality_bitmask=quality_bitmask,
        target=target,
        downloader=downloader,
    )
    return load_stamps(items, options, loaders)


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


def vet(
    sources: Any,
    *,
    period: Any,
    t0: Any,
    duration: Any,
    depth: Any = None,
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
    session: Session | None = None,
    neighbours: NeighbourSpec = None,
) -> Report:
    """Vet one transiting-planet candidate and return its :class:`~vetcore.report.Report`.

    Parameters
    ----------
    sources
        One source or a list (see :func:`load`); typically one file per sector.
    period, t0, duration, depth
        Ephemeris: period in days; mid-transit epoch in the data's time system
        (BTJD for TESS, BKJD for Kepler) or a full BJD_TDB (> 2 400 000, converted
        per stamp); total duration in **hours**; optional depth in ppm.  Astropy
        types are accepted too: ``14.24 * u.day``, ``4.05 * u.hour``, any
        ``Time`` (``Time(3540.26, format="btjd")``, a JD, an MJD).  A t0 that is
        no plausible time in the data's system nor a full BJD (an MJD, a reduced
        JD, a BTJD for Kepler data) raises :class:`ConfigError`; a duration that
        looks like days is logged and kept in ``report.warnings``.
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
    session
        Run in this :class:`~vetcore.session.Session` (plugins, configuration
        and check selection already set up) instead of building one; then
        ``checks``, ``config``, ``offline``, ``cache_dir`` and ``plugin_manager``
        must not be given.
    neighbours
        Stars around the target for the host attribution (``Target.neighbours``):
        a CSV/ECSV file with columns ``id``, ``ra``, ``dec`` (deg) and ``mag``, a
        :class:`~vetcore.neighbours.Neighbours`, or ``"tic"`` for the TESS Input
        Catalog via astroquery (cached; ``offline`` uses the cache only).  Default:
        none, and verdicts rest on the confusion radius alone.
    """
    from vetcore.session import Session, check_stamps

    if session is None:
        cfg = as_config(config)
        if offline is not None:
            cfg = cfg.replace(offline=bool(offline))
        if cache_dir is not None:
            cfg = cfg.replace(cache_dir=str(cache_dir))
        session = Session(cfg, checks=checks, plugin_manager=plugin_manager)
    elif any(v is not None for v in (checks, config, offline, cache_dir, plugin_manager)):
        raise ConfigError("vet(): give either session= or checks/config/offline/cache_dir/plugin_manager")
    from vetcore.inputs import ephemeris_warnings
    from vetcore.inputs import make_ephemeris as from_inputs

    ephemeris, warnings = from_inputs(period, t0, duration, depth)
    warnings = [*warnings, *ephemeris_warnings(ephemeris)]
    for text in warnings:
        logger.warning(text)
    changes = _target_changes(target, ra, dec)

    t_load = time.perf_counter()
    stamps = session.load(sources, sectors=sectors, target=Target(**changes) if "id" in changes else None)
    if changes:
        stamps = [s.replace(target=attrs.evolve(s.target, **changes)) for s in stamps]
    check_stamps(stamps, ephemeris, "--ra/--dec" if "ra" in changes else None)
    if neighbours is not None:
        from vetcore.neighbours import attach_neighbours, neighbours_identity

        stamps = attach_neighbours(
            stamps, neighbours, cache_dir=session.config.cache_dir, offline=session.config.offline
        )
    load_s = time.perf_counter() - t_load
    if progress is not None:
        progress("loaded", target=stamps[0].target.id, sectors=[s.label for s in stamps], elapsed_s=load_s)

    extra: dict[str, Any] = {
        "target": changes,
        "sectors": None if sectors is None else sorted(int(s) for s in sectors),
    }
    if neighbours is not None:
        extra["neighbours"] = neighbours_identity(neighbours)
    return session.run_target(
        stamps,
        ephemeris,
        lightcurve=lightcurve,
        hash_inputs=inputs_hash(session.effective, ephemeris, _as_list(sources), extra),
        timings={"load_s": load_s},
        warnings=warnings,
        progress=progress,
    )
