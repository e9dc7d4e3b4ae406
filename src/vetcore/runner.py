"""Run checks: each in isolation, sector checks per stamp, target checks on their results.

:func:`execute_check` runs one check in isolation: it fills the bookkeeping
fields of the result, turns an exception into an ``error`` result carrying the
traceback, and skips a check whose declared data (``Check.requires``, see
:mod:`vetcore.requirements`) is missing.  One broken check never stops a run.
:func:`run_sector_checks` and :func:`run_target_checks` run a list of checks;
:class:`vetcore.session.Session` composes them into a target's report.

Progress is reported through an optional callable ``progress(kind, **info)``
with ``kind`` one of ``"target_start"`` (target, sectors, checks),
``"check_done"`` (target, sector, check, status, message, elapsed_s) and
``"target_done"`` (target, elapsed_s).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence

from vetcore.integrity import CheckTimeout, checked_result, read_only_context, time_limit
from vetcore.model import (
    Check,
    CheckResult,
    Ephemeris,
    LightCurve,
    Params,
    SectorContext,
    Stamp,
    Status,
    Target,
    TargetContext,
)
from vetcore.requirements import RUNNER_FLAGS, unmet_requirements

__all__ = ["Progress", "execute_check", "run_sector_checks", "run_target_checks"]

Progress = Callable[..., None]


def no_progress(kind: str, **info: object) -> None:
    """The progress callable that reports nothing."""


def execute_check(
    check: Check, ctx: SectorContext | TargetContext, time_limit_s: float | None = None
) -> CheckResult:
    """Run one check on one context and return its completed result; never raises.

    The result gets the check's id and version, the sector (sector scope), the
    parameters used and the elapsed time.  An exception (``sys.exit`` included)
    becomes ``Status.ERROR`` with ``message`` ``"ExceptionType: text"`` and the
    formatted traceback in ``error``; a missing requirement becomes
    ``Status.SKIPPED``.  The check sees read-only inputs, is stopped after
    ``time_limit_s`` seconds, and its result is checked before it is recorded
    (:mod:`vetcore.integrity`).
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
        with time_limit(time_limit_s):
            result = check.run(read_only_context(ctx))
    except CheckTimeout:
        message = f"stopped after {time.perf_counter() - start:.0f} s (check_time_limit_s = {time_limit_s:g})"
        stopped = CheckResult(status=Status.ERROR, flags=("TIME_LIMIT",), message=message, error=message)
        return book(stopped, time.perf_counter() - start)
    except SystemExit as exc:
        message = f"the check called sys.exit({exc.code!r})"
        exited = CheckResult(
            status=Status.ERROR, flags=("CHECK_EXITED",), message=message, error=traceback.format_exc()
        )
        return book(exited, time.perf_counter() - start)
    except Exception as exc:
        text = " ".join(str(exc).split())
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        crashed = CheckResult(status=Status.ERROR, message=message, error=traceback.format_exc())
        return book(crashed, time.perf_counter() - start)
    elapsed = time.perf_counter() - start
    if not isinstance(result, CheckResult):
        problem = f"check {check.id} returned {type(result).__name__}, expected a CheckResult"
        return book(CheckResult(status=Status.ERROR, message=problem, error=problem), elapsed)
    return book(checked_result(check.id, result, ctx), elapsed)


def lightcurve_for(
    stamp: Stamp, lightcurve: LightCurve | Mapping[str, LightCurve] | None
) -> LightCurve | None:
    """The light curve of ``stamp``: the one given for all stamps, or its entry in a mapping by label."""
    if lightcurve is None or isinstance(lightcurve, LightCurve):
        return lightcurve
    return lightcurve.get(stamp.label)


def _report_done(progress: Progress, target: Target, label: str | None, result: CheckResult) -> None:
    progress(
        "check_done",
        target=target.id,
        sector=label,
        check=result.check,
        status=result.status.value,
        message=result.message,
        elapsed_s=result.elapsed_s,
    )


def run_sector_checks(
    stamp: Stamp,
    ephemeris: Ephemeris,
    checks: Sequence[Check],
    params: Mapping[str, Params],
    *,
    lightcurve: LightCurve | None = None,
    progress: Progress = no_progress,
    time_limit_s: float | None = None,
) -> dict[str, CheckResult]:
    """Every sector-scope check of ``checks`` on one stamp, in order: ``{check_id: result}``."""
    results: dict[str, CheckResult] = {}
    for check in checks:
        ctx = SectorContext(stamp=stamp, ephemeris=ephemeris, params=params[check.id], lightcurve=lightcurve)
        results[check.id] = execute_check(check, ctx, time_limit_s)
        _report_done(progress, stamp.target, stamp.label, results[check.id])
    return results


def run_target_checks(
    target: Target,
    ephemeris: Ephemeris,
    stamps: Sequence[Stamp],
    per_sector: Mapping[str, Mapping[str, CheckResult]],
    checks: Sequence[Check],
    params: Mapping[str, Params],
    *,
    progress: Progress = no_progress,
    time_limit_s: float | None = None,
) -> dict[str, CheckResult]:
    """Every target-scope check on the per-sector results (keyed by stamp label): ``{check_id: result}``."""
    results: dict[str, CheckResult] = {}
    for check in checks:
        ctx = TargetContext(
            target=target,
            ephemeris=ephemeris,
            params=params[check.id],
            stamps=tuple(stamps),
            results=per_sector,
        )
        results[check.id] = execute_check(check, ctx, time_limit_s)
        _report_done(progress, target, None, results[check.id])
    return results
