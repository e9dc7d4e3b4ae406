"""Transit geometry shared by all checks: which cadences are in transit, and
which form the local baseline around each transit.

Windows are measured from each mid-transit in units of the total transit
duration *D* (first to fourth contact):

* in transit: ``|t − t_mid| ≤ in_fraction · D/2`` (``in_fraction`` < 1 keeps
  ingress and egress out);
* local baseline: ``D/2 + gap·D ≤ |t − t_mid| ≤ D/2 + gap·D + width·D`` on
  each side, so slow systematics can be fitted across the transit.

Only good cadences (:attr:`vetcore.model.Stamp.good`) are ever selected.
"""

from __future__ import annotations

import attrs
import numpy as np

from vetcore.model import Ephemeris, Stamp

__all__ = ["TransitWindow", "in_transit_mask", "time_from_mid_transit", "transit_windows"]


def time_from_mid_transit(stamp: Stamp, ephemeris: Ephemeris) -> tuple[np.ndarray, np.ndarray]:
    """Time (days) from the nearest mid-transit and that transit's epoch number, per cadence."""
    t0 = ephemeris.t0_in(stamp.time_system, stamp.bjd_ref)
    epoch = np.rint((stamp.time - t0) / ephemeris.period)
    dt = stamp.time - (t0 + epoch * ephemeris.period)
    epoch = np.where(np.isfinite(epoch), epoch, -(2**62)).astype(np.int64)
    return dt, epoch


def in_transit_mask(stamp: Stamp, ephemeris: Ephemeris, in_fraction: float = 1.0) -> np.ndarray:
    """Good cadences within ``in_fraction · D/2`` of a mid-transit."""
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    with np.errstate(invalid="ignore"):
        return stamp.good & (np.abs(dt) <= in_fraction * ephemeris.duration_days / 2.0)


@attrs.frozen(eq=False)
class TransitWindow:
    """Cadence indices of one transit and its local baseline.

    ``coverage`` is the fraction of the expected in-transit cadences that are
    present and good (1.0 for a fully observed transit).
    """

    epoch: int
    t_mid: float
    in_transit: np.ndarray
    before: np.ndarray
    after: np.ndarray
    coverage: float

    @property
    def baseline(self) -> np.ndarray:
        return np.concatenate([self.before, self.after])

    @property
    def two_sided(self) -> bool:
        return self.before.size > 0 and self.after.size > 0

    @property
    def indices(self) -> np.ndarray:
        """All cadences of the window (baseline and in transit), time-ordered."""
        return np.sort(np.concatenate([self.before, self.in_transit, self.after]))


def transit_windows(
    stamp: Stamp,
    ephemeris: Ephemeris,
    *,
    in_fraction: float = 0.8,
    gap: float = 0.25,
    width: float = 1.5,
    min_coverage: float = 0.0,
) -> list[TransitWindow]:
    """Per-transit in-transit and local-baseline cadences (see module docstring).

    Transits with ``coverage`` below ``min_coverage`` or with no in-transit
    cadence are left out.  Vectorised: one pass over the cadences.
    """
    dt, epoch = time_from_mid_transit(stamp, ephemeris)
    good = stamp.good
    half = ephemeris.duration_days / 2.0
    d = ephemeris.duration_days
    adt = np.abs(dt)
    with np.errstate(invalid="ignore"):
        in_mask = good & (adt <= in_fraction * half)
        base_mask = good & (adt >= half + gap * d) & (adt <= half + (gap + width) * d)
    expected = max(in_fraction * d * 86400.0 / stamp.cadence_seconds, 1.0)
    t0 = ephemeris.t0_in(stamp.time_system, stamp.bjd_ref)
    windows = []
    for n in np.unique(epoch[in_mask]):
        sel = epoch == n
        idx_in = np.flatnonzero(sel & in_mask)
        coverage = min(idx_in.size / expected, 1.0)
        if idx_in.size == 0 or coverage < min_coverage:
            continue
        idx_base = sel & base_mask
        windows.append(
            TransitWindow(
                epoch=int(n),
                t_mid=float(t0 + n * ephemeris.period),
                in_transit=idx_in,
                before=np.flatnonzero(idx_base & (dt < 0)),
                after=np.flatnonzero(idx_base & (dt > 0)),
                coverage=float(coverage),
            )
        )
    return windows
