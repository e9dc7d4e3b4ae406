"""The V25 verdict: from combined statistics to on/off target, inconsistent or inconclusive."""

from __future__ import annotations

import math

from vetcore import Status

__all__ = ["INCONCLUSIVE", "INCONSISTENT", "OFF_TARGET", "ON_TARGET", "STATUS", "decide"]

ON_TARGET = "on_target"
OFF_TARGET = "off_target"
INCONSISTENT = "inconsistent"
INCONCLUSIVE = "inconclusive"

#: Check status for each verdict.
STATUS: dict[str, Status] = {
    ON_TARGET: Status.PASS,
    OFF_TARGET: Status.FAIL,
    INCONSISTENT: Status.INCONCLUSIVE,
    INCONCLUSIVE: Status.INCONCLUSIVE,
}


def decide(
    n_units: int,
    chi2_p_value: float,
    offset_sigma: float,
    distance_arcsec: float,
    *,
    sigma_threshold: float,
    offset_floor_arcsec: float,
    consistency_p_threshold: float,
) -> str:
    """Verdict for one set of independent localizations of the same signal.

    In order:

    1. fewer than two independent localizations (``n_units < 2``): ``inconclusive``
       — nothing to test the agreement against;
    2. χ² p-value below ``consistency_p_threshold``: ``inconsistent`` — the
       measurements do not agree on one position (systematics, or a blend whose
       contribution changes with the aperture or the pixel grid);
    3. combined offset at least ``sigma_threshold`` (Mahalanobis) from the target
       *and* farther than ``offset_floor_arcsec``: ``off_target``;
    4. otherwise ``on_target``.
    """
    if n_units < 2 or not math.isfinite(chi2_p_value):
        return INCONCLUSIVE
    if chi2_p_value < consistency_p_threshold:
        return INCONSISTENT
    if offset_sigma >= sigma_threshold and distance_arcsec > offset_floor_arcsec:
        return OFF_TARGET
    return ON_TARGET
