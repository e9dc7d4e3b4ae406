"""The shared vocabulary of localization verdicts, and the rule that turns one
localization into one.

Every check that localizes the source of a transit speaks of the result in the
same four words:

``on_target``
    the source is consistent with the target *and* the localization is precise
    enough to exclude the region around it (its confusion radius is within the
    limit);
``off_target``
    the source is excluded from the target at ≥ ``sigma_threshold`` σ and lies
    farther than the systematic floor ``offset_floor_arcsec``;
``inconclusive``
    not excluded, but too imprecise to tell the target from its surroundings, or
    nothing could be localized; "not excluded at 3σ" is not "on target"; nor is
    an offset between ``on_target_sigma`` and ``sigma_threshold``, where a check
    sets the off-target threshold above the on-target one;
``inconsistent``
    independent localizations of the same signal disagree (target-level checks).

The confusion radius is the 3σ error along the major axis of the localization
covariance (:meth:`vetcore.Localization.confusion_radius_arcsec`), following
the resolution argument of the Data Validation difference-image offsets
(Twicken et al. 2018, PASP 130, 064502) and Bryson et al. (2013, PASP 125, 889).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import Localization

__all__ = [
    "CONFUSION_NSIGMA",
    "INCONCLUSIVE",
    "INCONSISTENT",
    "OFF_TARGET",
    "ON_TARGET",
    "VERDICTS",
    "localization_verdict",
]

ON_TARGET = "on_target"
OFF_TARGET = "off_target"
INCONCLUSIVE = "inconclusive"
INCONSISTENT = "inconsistent"

#: Every verdict, in order of increasing concern.
VERDICTS: tuple[str, ...] = (ON_TARGET, INCONCLUSIVE, INCONSISTENT, OFF_TARGET)

#: The confusion radius is this many σ along the covariance's major axis.
CONFUSION_NSIGMA = 3.0


def localization_verdict(
    localization: Localization,
    *,
    sigma_threshold: float,
    offset_floor_arcsec: float,
    max_confusion_radius_arcsec: float,
    on_target_sigma: float | None = None,
) -> tuple[str, str]:
    """``(verdict, reason)`` for one localization of the transit source.

    ``off_target`` when the offset from the target reaches ``sigma_threshold``
    (Mahalanobis) and exceeds ``offset_floor_arcsec``; otherwise ``on_target``
    when the offset is below ``on_target_sigma`` (default ``sigma_threshold``)
    and the confusion radius is at most ``max_confusion_radius_arcsec``;
    otherwise ``inconclusive``.  ``reason`` is one sentence for a report.
    """
    sigma = localization.offset_sigma
    distance = localization.distance_arcsec
    radius = localization.confusion_radius_arcsec(CONFUSION_NSIGMA)
    consistent = sigma_threshold if on_target_sigma is None else min(on_target_sigma, sigma_threshold)
    if sigma >= sigma_threshold and distance > offset_floor_arcsec:
        return OFF_TARGET, f"source {distance:.1f}″ from the target, excluded at {sigma:.1f}σ"
    if sigma >= consistent and distance > offset_floor_arcsec:
        return INCONCLUSIVE, (
            f"source {distance:.1f}″ from the target at {sigma:.1f}σ: neither consistent with the target "
            f"(< {consistent:g}σ) nor excluded (≥ {sigma_threshold:g}σ)"
        )
    if radius <= max_confusion_radius_arcsec:
        return ON_TARGET, (
            f"source consistent with the target ({sigma:.1f}σ); "
            f"3σ confusion radius {radius:.1f}″ ≤ {max_confusion_radius_arcsec:.1f}″"
        )
    return INCONCLUSIVE, (
        f"source within {radius:.0f}″ of the measured position ({sigma:.1f}σ from the target): "
        f"too imprecise to exclude stars within that radius (limit {max_confusion_radius_arcsec:.1f}″)"
    )
