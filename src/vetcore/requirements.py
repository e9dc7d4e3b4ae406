"""The data a check may declare in :attr:`Check.requires`, defined once.

Each :class:`Requirement` names the data, the flag the runner sets when a check
is skipped for lack of it, the flag's explanation, and how to tell from a
context whether the data are there.  Plugin registration rejects unknown names;
the runner skips a check whose requirements are not met; reports explain the
flags.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from vetcore.integrity import RESULT_FLAGS
from vetcore.model import Check, SectorContext, Stamp, TargetContext

__all__ = ["REQUIREMENTS", "RUNNER_FLAGS", "Requirement", "unmet_requirements"]

Context = SectorContext | TargetContext


@attrs.frozen
class Requirement:
    """One kind of data a check may need: ``name`` (as in ``Check.requires``), what it
    means, the runner flag and its explanation, and ``met(ctx)``."""

    name: str
    needs: str
    flag: str
    explanation: str
    met: Callable[[Context], bool] = attrs.field(repr=False)


def _stamps(ctx: Context) -> tuple[Stamp, ...]:
    return (ctx.stamp,) if isinstance(ctx, SectorContext) else tuple(ctx.stamps)


def _has_pixels(ctx: Context) -> bool:
    return any(bool(s.good.any()) for s in _stamps(ctx))


def _has_aperture(ctx: Context) -> bool:
    return any(bool(s.aperture_mask.any()) for s in _stamps(ctx))


def _has_lightcurve(ctx: Context) -> bool:
    return isinstance(ctx, SectorContext) and ctx.lightcurve is not None


def _has_localizations(ctx: Context) -> bool:
    return isinstance(ctx, TargetContext) and any(
        r.localization is not None for results in ctx.results.values() for r in results.values()
    )


#: Every requirement a check may declare, by name.
REQUIREMENTS: dict[str, Requirement] = {
    r.name: r
    for r in (
        Requirement(
            "pixels",
            "good cadences with finite pixel data",
            "NO_GOOD_CADENCES",
            "The stamp has no good cadence with finite pixel data, so the check could not run.",
            _has_pixels,
        ),
        Requirement(
            "aperture",
            "a non-empty aperture mask",
            "NO_APERTURE",
            "The stamp's aperture mask is empty, so the check could not run.",
            _has_aperture,
        ),
        Requirement(
            "lightcurve",
            "a light curve passed to the run",
            "NO_LIGHTCURVE",
            "The check needs a light curve and none was given to the run.",
            _has_lightcurve,
        ),
        Requirement(
            "localizations",
            "per-sector results that carry a localization",
            "NO_LOCALIZATIONS",
            "No per-sector result carries a localization, so there was nothing to combine.",
            _has_localizations,
        ),
    )
}

#: Flags the runner sets on results of checks it skipped, stopped or corrected, with their explanation.
RUNNER_FLAGS: dict[str, str] = {r.flag: r.explanation for r in REQUIREMENTS.values()} | RESULT_FLAGS


def unmet_requirements(check: Check, ctx: Context) -> list[str]:
    """Runner flags for each entry of ``check.requires`` that ``ctx`` cannot satisfy."""
    return [REQUIREMENTS[name].flag for name in check.requires if not REQUIREMENTS[name].met(ctx)]
