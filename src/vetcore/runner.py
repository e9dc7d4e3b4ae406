"""Run checks: every selected sector check on every stamp, then the target checks.

:func:`execute_check` runs one check in isolation: it fills the bookkeeping
fields of the result, turns an exception into an ``error`` result carrying the
traceback, and skips a check whose declared data (``Check.requires``) is
missing.  One broken check never stops a run.

Progress is reported through an optional callable ``progress(kind, **info)``
with ``kind`` one of ``"target_start"`` (target, sectors, checks),
``"check_done"`` (target, sector, check, status, message, elapsed_s) and
``"target_done"`` (target, elapsed_s).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from vetcore.model import (
    Check,
    CheckResult,
    Ephemeris,
    LightCurve,
    Scope,
    SectorContext,
    Stamp,
    Status,
    Target,
    TargetContext,
)
from vetcore.report import Report, SectorReport, inputs_hash

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.config import Config
    from vetcore.plugins import PluginManager

__all__ = ["RUNNER_FLAGS", "Progress", "execute_check", "run_target", "unmet_requirements"]

Progress = Callable[..., None]

#: Flags the runner sets on results of checks it skipped, with their explanation.
RUNNER_FLAGS: dict[str, str] = {
    "NO_GOOD_CADENCES": "The stamp has no good cadence with finite pixel data, so the check could not run.",
    "NO_APERTURE": "The stamp's aperture mask is empty, so the check could not run.",
    "NO_LIGHTCURVE": "The check needs a light curve and none was given to the run.",
    "NO_LOCALIZATIONS": "No per-sector result carries a localization, so there was nothing to combine.",
}

_REQUIREMENT_FLAGS = {
    "pixels": "NO_GOOD_CADENCES",
    "aperture": "NO_APERTURE",
    "lightcurve": "NO_LIGHTCURVE",
    "localizations": "NO_LOCALIZATIONS",
}


def unmet_requirements(check: Check, ctx: SectorContext | TargetContext) -> list[str]:
    """Runner flags for each entry of ``check.requires`` that ``ctx`` cannot satisfy."""
    if isinstance(ctx, SectorContext):
        stamps: Sequence[Stamp] = (ctx.stamp,)
        has_lightcurve = ctx.lightcurve is not None
        has_localizations = False
    else:
        stamps = ctx.stamps
        has_lightcurve = False
        has_localizations = any(
            r.localization is not None for results in ctx.results.values() for r in results.values()
        )
    met = {
        "pixels": any(bool(s.good.any()) for s in stamps),
        "aperture": any(bool(s.aperture_mask.any()) for s in stamps),
        "lightcurve": has_lightcurve,
        "localizations": has_localizations,
    }
    return [_REQUIREMENT_FLAGS[r] for r in check.requires if not met.get(r, False)]


def execute_check(check: Check, ctx: SectorContext | TargetContext) -> CheckResult:
    """Run one check on one context and return its completed result; never raises.

    The result gets the check's id and version, the sector (sector scope), the
    parameters used and the elapsed time.  An exception becomes
    ``Status.ERROR`` with ``message`` ``"ExceptionType: text"`` and the formatted
    traceback in ``error``; a missing requirement becomes ``Status.SKIPPED``.
    """
    sector = ctx.stamp.sector if isinstance(ctx, SectorContext) else None

    def book(result: CheckResult, elapsed_s: float) -> CheckResult:
        return result.replace(
            check=check.id, version=check.version, sector=sector, params=dict(ctx.params), elapsed_s=elapsed_s
        )

    missing = unmet_requirements(check, ctx)
    if missing:
        text = "; ".join(RUNNER_FLAGS[f] for f in missing)
        return book(CheckResult(status=Status.SKIPPED, flags=missing, message=text), 0.0)
    start = time.perf_counter()
    try:
        result = check.run(ctx)
    except Exception as exc:
        text = " ".join(str(exc).split())
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        crashed = CheckResult(status=Status.ERROR, message=message, error=traceback.format_exc())
        return book(crashed, time.perf_counter() - start)
    elapsed = time.perf_counter() - start
    if not isinstance(result, CheckResult):
        problem = f"check {check.id} returned {type(result).__name__}, expected a CheckResult"
        return book(CheckResult(status=Status.ERROR, message=problem, error=problem), elapsed)
    return book(result, elapsed)


def _lightcurve_for(
    stamp: Stamp, lightcurve: LightCurve | Mapping[str, LightCurve] | None
) -> LightCurve | None:
    if lightcurve is None or isinstance(lightcurve, LightCurve):
        return lightcurve
    return lightcurve.get(stamp.label)


def run_target(
    stamps: Sequence[Stamp],
    ephemeris: Ephemeris,
    target: Target,
    checks: Sequence[Check],
    config: Config,
    pm: PluginManager,
    progress: Progress | None = None,
    lightcurve: LightCurve | Mapping[str, LightCurve] | None = None,
    *,
    hash_inputs: str | None = None,
    precomputed: Mapping[str, SectorReport] | None = None,
) -> Report:
    """Run ``checks`` on one target's stamps and return the :class:`Report`.

    Sector-scope checks run on every stamp (in the order given), then
    target-scope checks get a :class:`TargetContext` whose ``results`` are keyed
    by stamp label.  ``lightcurve`` is one light curve for every stamp or a
    mapping from stamp label to light curve.  ``hash_inputs`` is the report's
    :func:`~vetcore.report.inputs_hash` (computed from the stamps when omitted).
    ``precomputed`` maps stamp labels to sector results already computed
    elsewhere (e.g. by a batch worker); those sectors are not run again.
    Calls the ``vetcore_report_finished`` hook before returning.
    """
    notify = progress or (lambda kind, **info: None)
    sector_checks = [c for c in checks if c.scope == Scope.SECTOR]
    target_checks = [c for c in checks if c.scope == Scope.TARGET]
    params = {c.id: config.params_for(c) for c in checks}
    notify("target_start", target=target.id, sectors=[s.label for s in stamps], checks=[c.id for c in checks])
    t_start = time.perf_counter()
    per_check: dict[str, float] = {c.id: 0.0 for c in checks}

    def done(result: CheckResult, label: str | None) -> CheckResult:
        per_check[result.check] += result.elapsed_s
        notify(
            "check_done",
            target=target.id,
            sector=label,
            check=result.check,
            status=result.status.value,
            message=result.message,
            elapsed_s=result.elapsed_s,
        )
        return result

    sectors: list[SectorReport] = []
    sector_times: dict[str, float] = {}
    for stamp in stamps:
        t_sector = time.perf_counter()
        if precomputed is not None and stamp.label in precomputed:
            sectors.append(precomputed[stamp.label])
            sector_times[stamp.label] = sum(r.elapsed_s for r in precomputed[stamp.label].results.values())
            continue
        section = SectorReport(stamp=stamp)
        for check in sector_checks:
            ctx = SectorContext(
                stamp=stamp,
                ephemeris=ephemeris,
                params=params[check.id],
                lightcurve=_lightcurve_for(stamp, lightcurve),
            )
            section.results[check.id] = done(execute_check(check, ctx), stamp.label)
        sectors.append(section)
        sector_times[stamp.label] = time.perf_counter() - t_sector

    t_target = time.perf_counter()
    aggregates: dict[str, CheckResult] = {}
    per_sector = {s.label: dict(s.results) for s in sectors}
    for check in target_checks:
        target_ctx = TargetContext(
            target=target,
            ephemeris=ephemeris,
            params=params[check.id],
            stamps=tuple(stamps),
            results=per_sector,
        )
        aggregates[check.id] = done(execute_check(check, target_ctx), None)
    t_end = time.perf_counter()
    total = t_end - t_start

    effective = config.effective(pm, checks)
    report = Report(
        target=target,
        ephemeris=ephemeris,
        config=effective,
        plugins=[p for p in pm.plugin_info() if not p["disabled"]],
        sectors=sectors,
        aggregates=aggregates,
        checks={c.id: c for c in checks},
        timings={
            "total_s": total,
            "sectors_s": sector_times,
            "target_checks_s": t_end - t_target,
            "checks_s": per_check,
        },
        inputs_hash=hash_inputs or inputs_hash(effective, ephemeris, stamps),
        plugin_manager=pm,
    )
    pm.call_event("vetcore_report_finished", report=report)
    notify("target_done", target=target.id, elapsed_s=total)
    return report
