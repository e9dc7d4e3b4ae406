"""One run's state, behind every entry point: plugins, configuration, checks, hooks.

A :class:`Session` plays the role pytest's ``Config``/``Session`` or a Datasette
instance play: it owns the :class:`~vetcore.plugins.PluginManager`, the
validated :class:`~vetcore.config.Config`, the selected checks with their
parameters, and the two event hooks:

* ``vetcore_configure`` fires once per session, before its first load or check;
  a batch worker process rebuilds the driver's session from its picklable
  :class:`SessionSpec` once (:meth:`Session.from_spec`), so every process that
  runs checks is configured exactly once;
* ``vetcore_report_finished`` fires once per target, from :meth:`run_target`, on
  the complete report (timings included); nothing changes the report afterwards.

:func:`vetcore.vet`, ``vetcore run``, ``vetcore demo`` and ``vetcore batch``
(serial, processes, Dask) all go through it::

    session = Session(config, checks=["V08", "V09"])
    stamps = session.load(["s83_tp.fits"])
    report = session.run_target(stamps, ephemeris)
    session.render(report, "out/", ["json", "html"])

Configuration errors — unknown checks or keys, parameters of the wrong type or
out of their declared range — are raised by the constructor, before any data is
read.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from vetcore.config import Config, as_config
from vetcore.errors import ConfigError, DataError
from vetcore.integrity import read_only
from vetcore.loaders.checks import check_target_on_stamp
from vetcore.model import Check, CheckResult, Ephemeris, LightCurve, LoadOptions, Params, Scope, Stamp, Target
from vetcore.plugins import PluginManager
from vetcore.report import Report, SectorReport, inputs_hash
from vetcore.runner import Progress, lightcurve_for, no_progress, run_sector_checks, run_target_checks

__all__ = ["Session", "SessionSpec", "check_stamps"]


@attrs.frozen
class SessionSpec:
    """What a worker process needs to rebuild a driver's :class:`Session` (picklable).

    ``token`` identifies the driver's session: a process rebuilds it once and
    reuses it for every task (:meth:`Session.from_spec`).
    """

    config: Config
    checks: tuple[str, ...] | None = None
    disabled: tuple[str, ...] = ()
    token: str = attrs.field(factory=lambda: uuid.uuid4().hex)


#: Sessions of this process by spec token (the driver's own, or rebuilt in a worker).
_SESSIONS: dict[str, Session] = {}
_SESSIONS_LOCK = threading.Lock()
_MAX_SESSIONS = 8


class Session:
    """Plugins, validated configuration and selected checks of one run; see the module docstring.

    Parameters
    ----------
    config
        A :class:`Config`, a dict in the TOML layout, a path to a TOML file, or
        ``None`` (defaults).
    checks
        Check ids, globs or ``plugin:NAME`` (a list or a comma-separated string)
        replacing the configuration's ``[select]``.
    plugin_manager
        Reuse a plugin manager (default: a new one honouring ``[plugins] disable``
        and ``disabled``).
    disabled
        Further plugin names not to load (e.g. ``--disable-plugin``); kept in
        :attr:`spec` so that worker processes leave them out too.

    Attributes
    ----------
    config, plugin_manager
        As given (or built).
    checks
        The selected checks, sector scope first.
    params
        ``{check_id: Params}``: each selected check's defaults overlaid with the
        validated values of ``[checks.<id>]``.
    effective
        The JSON-ready configuration the run uses (:meth:`Config.effective`).
    """

    def __init__(
        self,
        config: Config | Mapping[str, Any] | str | Any | None = None,
        *,
        checks: Sequence[str] | str | None = None,
        plugin_manager: PluginManager | None = None,
        disabled: Sequence[str] = (),
    ) -> None:
        self.config = as_config(config)
        if isinstance(checks, str):
            checks = [c.strip() for c in checks.split(",") if c.strip()]
        self._check_patterns = None if checks is None else tuple(checks)
        self._disabled = tuple(disabled)
        if plugin_manager is None:
            plugin_manager = PluginManager(disabled=(*self.config.disable_plugins, *self._disabled))
        self.plugin_manager = plugin_manager
        self.checks: list[Check] = self.config.select_checks(plugin_manager, self._check_patterns)
        self.params: dict[str, Params] = {c.id: self.config.params_for(c) for c in self.checks}
        self.effective: dict[str, Any] = self.config.effective(plugin_manager, self.checks)
        self._spec: SessionSpec | None = None
        self._configured = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Session checks {[c.id for c in self.checks]}, config {self.config.source or 'defaults'}>"

    # -- across processes -------------------------------------------------------------
    @property
    def spec(self) -> SessionSpec:
        """This session's picklable description; a process that gets it back reuses this session."""
        if self._spec is None:
            self._spec = SessionSpec(self.config, self._check_patterns, self._disabled)
            _remember(self._spec.token, self)
        return self._spec

    @classmethod
    def from_spec(cls, spec: SessionSpec) -> Session:
        """The session of ``spec`` in this process: built on first use, then reused."""
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(spec.token)
        if session is None:
            session = cls(spec.config, checks=spec.checks, disabled=spec.disabled)
            session._spec = spec
            _remember(spec.token, session)
        return session

    # -- hooks ------------------------------------------------------------------------
    def configure(self) -> None:
        """Fire ``vetcore_configure`` with :attr:`effective`, the first time only."""
        with self._lock:
            if self._configured:
                return
            self._configured = True
            self.plugin_manager.call_event("vetcore_configure", config=self.effective)

    @property
    def sector_checks(self) -> list[Check]:
        return [c for c in self.checks if c.scope == Scope.SECTOR]

    @property
    def target_checks(self) -> list[Check]:
        return [c for c in self.checks if c.scope == Scope.TARGET]

    # -- the run ------------------------------------------------------------------------
    def load(
        self,
        sources: Any,
        *,
        sectors: Sequence[int] | None = None,
        target: Target | None = None,
        downloader: Any = None,
    ) -> list[Stamp]:
        """Stamps (one per sector) from ``sources``, with the configuration's data options."""
        from vetcore.loading import load_stamps

        self.configure()
        options = LoadOptions(
            sectors=None if sectors is None else tuple(int(s) for s in sectors),
            cache_dir=self.config.cache_dir,
            offline=self.config.offline,
            quality_bitmask=self.config.quality_bitmask,
            target=target,
            downloader=downloader,
        )
        return load_stamps(sources, options, self.plugin_manager.loaders)

    def run_sector(
        self,
        stamp: Stamp,
        ephemeris: Ephemeris,
        *,
        lightcurve: LightCurve | Mapping[str, LightCurve] | None = None,
        progress: Progress | None = None,
    ) -> SectorReport:
        """The selected sector-scope checks on one stamp."""
        self.configure()
        results = run_sector_checks(
            stamp,
            ephemeris,
            self.sector_checks,
            self.params,
            lightcurve=lightcurve_for(stamp, lightcurve),
            progress=progress or no_progress,
            time_limit_s=self.config.check_time_limit_s,
        )
        return SectorReport(stamp=stamp, results=results)

    def run_target(
        self,
        stamps: Sequence[Stamp],
        ephemeris: Ephemeris,
        *,
        target: Target | None = None,
        lightcurve: LightCurve | Mapping[str, LightCurve] | None = None,
        precomputed: Mapping[str, SectorReport] | None = None,
        hash_inputs: str | None = None,
        timings: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
        warnings: Sequence[str] = (),
    ) -> Report:
        """One target's complete report; fires ``vetcore_report_finished`` on it.

        Sector-scope checks run on every stamp (in the order given) unless its
        label is in ``precomputed`` (sector reports computed elsewhere, e.g. by
        batch tasks); then the target-scope checks get every sector's results.
        ``target`` defaults to the first stamp's; ``lightcurve`` is one light
        curve for all stamps or ``{label: LightCurve}``; ``hash_inputs`` is the
        report's :func:`~vetcore.report.inputs_hash` (from the stamps when
        omitted); ``timings`` are added to the report's (e.g. ``load_s``);
        ``warnings`` (input sanity, in words) go into ``report.warnings``.
        """
        self.configure()
        notify = progress or no_progress
        target = target if target is not None else stamps[0].target
        notify("target_start", target=target.id, sectors=[s.label for s in stamps], checks=self.check_ids)
        t_start = time.perf_counter()
        sectors: list[SectorReport] = []
        sector_times: dict[str, float] = {}
        for stamp in stamps:
            if precomputed is not None and stamp.label in precomputed:
                done = precomputed[stamp.label]
                sectors.append(done)
                sector_times[stamp.label] = sum(r.elapsed_s for r in done.results.values())
                continue
            t_sector = time.perf_counter()
            sectors.append(self.run_sector(stamp, ephemeris, lightcurve=lightcurve, progress=notify))
            sector_times[stamp.label] = time.perf_counter() - t_sector
        t_target = time.perf_counter()
        aggregates = run_target_checks(
            target,
            ephemeris,
            stamps,
            {s.label: dict(s.results) for s in sectors},
            self.target_checks,
            self.params,
            progress=notify,
            time_limit_s=self.config.check_time_limit_s,
        )
        t_end = time.perf_counter()
        report = Report(
            target=target,
            ephemeris=ephemeris,
            config=self.effective,
            plugins=[p for p in self.plugin_manager.plugin_info() if not p["disabled"]],
            sectors=sectors,
            aggregates=aggregates,
            checks={c.id: c for c in self.checks},
            timings={
                "total_s": t_end - t_start,
                "sectors_s": sector_times,
                "target_checks_s": t_end - t_target,
                "checks_s": _check_times(self.checks, sectors, aggregates),
                **dict(timings or {}),
            },
            inputs_hash=hash_inputs or inputs_hash(self.effective, ephemeris, stamps),
            renderers=dict(self.plugin_manager.renderers),
            warnings=list(warnings),
        )
        self.plugin_manager.call_event("vetcore_report_finished", report=read_only(report))
        notify("target_done", target=target.id, elapsed_s=t_end - t_start)
        return report

    def render(
        self,
        report: Report,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        force: bool = False,
    ) -> list[Path]:
        """Write ``report`` into ``out_dir`` with this session's renderers; return the paths.
        ``force`` replaces another target's report in ``out_dir`` (see :meth:`Report.save`)."""
        return report.save(out_dir, formats, self.plugin_manager.renderers, force=force)

    # -- helpers ------------------------------------------------------------------------
    @property
    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]


def _check_times(
    checks: Sequence[Check], sectors: Sequence[SectorReport], aggregates: Mapping[str, CheckResult]
) -> dict[str, float]:
    """Seconds spent in each check, summed over sectors."""
    totals = {c.id: 0.0 for c in checks}
    for result in [r for s in sectors for r in s.results.values()] + list(aggregates.values()):
        totals[result.check] = totals.get(result.check, 0.0) + result.elapsed_s
    return totals


def _remember(token: str, session: Session) -> None:
    with _SESSIONS_LOCK:
        _SESSIONS[token] = session
        while len(_SESSIONS) > _MAX_SESSIONS:
            del _SESSIONS[next(iter(_SESSIONS))]


def check_stamps(stamps: Sequence[Stamp], ephemeris: Ephemeris, position_from: str | None = None) -> None:
    """One target, unique labels, a known position on every stamp, a plausible t0 and at least one
    transit in the data.

    ``position_from`` says where the target position came from when the caller
    set it (e.g. ``"--ra/--dec"``), for the message when it falls off a stamp.
    """
    from vetcore.inputs import check_epoch

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
        check_target_on_stamp(stamp, position_from)
        if stamp.label in by_label:
            raise DataError(
                stamp.source or stamp.label,
                f"{stamp.label} given twice (also {by_label[stamp.label].source or 'a stamp'}); "
                f"pass each sector once",
            )
        by_label[stamp.label] = stamp
    check_epoch(ephemeris, stamps)
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
