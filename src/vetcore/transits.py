"""Transit geometry shared by all checks: which cadences are in transit, and
which form the local baseline around each transit.

Windows are measured from each mid-transit in units of the total transit
duration *D* (first to fourth contact):

* in transit: ``|t − t_mid| ≤ in_fraction · D/2`` (``in_fraction`` < 1 keeps
  ingress and egress out);
* local baseline: ``D/2 + gap·D ≤ |t − t_mid| ≤ D/2 + gap·D + width·D`` on
  each side, so slow systematics can be fitted across the transit.

Only good cadences (:attr:`vetcore.model.Stamp.good`) are ever selected.

Pointing steps: a momentum dump (reaction-wheel desaturation, quality bit 32 in
TESS and Kepler) moves the star on the pixel grid by a step.
:func:`pointing_steps` gives their times and :func:`step_limits` the nearest
step on each side of a mid-time, so a check can cut a local baseline there or
fit the step; :func:`null_mid_times` gives transit-free mid-times of the same
geometry, whose estimates calibrate a check's errors empirically.
"""

from __future__ import annotations

import attrs
import numpy as np

from vetcore.model import Ephemeris, Stamp

__all__ = [
    "MOMENTUM_DUMP_BIT",
    "TransitWindow",
    "WindowGeometry",
    "in_transit_mask",
    "null_mid_times",
    "pointing_steps",
    "step_limits",
    "time_from_mid_transit",
    "transit_windows",
]

#: Quality bit of a reaction-wheel desaturation (momentum dump), TESS and Kepler.
MOMENTUM_DUMP_BIT = 32


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


@attrs.frozen
class WindowGeometry:
    """Window edges in days relative to a mid-time: in transit ``|dt| ≤ in_half``; baseline
    ``base_inner ≤ |dt| ≤ base_outer`` (the layout of :func:`transit_windows`)."""

    in_half: float
    base_inner: float
    base_outer: float

    @classmethod
    def from_ephemeris(
        cls, ephemeris: Ephemeris, *, in_fraction: float = 0.8, gap: float = 0.25, width: float = 1.5
    ) -> WindowGeometry:
        """The geometry for ``ephemeris`` with widths in units of its duration D."""
        d = ephemeris.duration_days
        return cls(
            in_half=in_fraction * d / 2.0,
            base_inner=d / 2.0 + gap * d,
            base_outer=d / 2.0 + (gap + width) * d,
        )

    @property
    def span(self) -> float:
        """Full window length (days): both baselines, both gaps and the transit."""
        return 2.0 * self.base_outer


def pointing_steps(stamp: Stamp, bits: int = MOMENTUM_DUMP_BIT) -> np.ndarray:
    """Sorted start times of the events flagged with quality ``bits`` (0: none).

    Flagged cadences closer than three cadences to the previous one belong to
    the same event (a desaturation often flags a few consecutive cadences).
    """
    if stamp.quality is None or not bits:
        return np.empty(0)
    flagged = (np.asarray(stamp.quality).astype(np.int64) & int(bits)) != 0
    times = np.sort(stamp.time[flagged & np.isfinite(stamp.time)])
    if times.size == 0:
        return times
    new = np.diff(times, prepend=-np.inf) > 3.0 * stamp.cadence_seconds / 86400.0
    return times[new]


def step_limits(
    mids: np.ndarray, steps: np.ndarray, geometry: WindowGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(before, after, clear)`` per mid-time: the nearest pointing step on each side
    (±inf when none) and whether the in-transit range and both gaps are free of steps.

    A window that is ``clear`` can have its baseline cut at ``before``/``after``;
    one that is not needs the step modelled (or must be left out).
    """
    mids = np.asarray(mids, dtype=float)
    if steps.size == 0 or mids.size == 0:
        return np.full(mids.size, -np.inf), np.full(mids.size, np.inf), np.ones(mids.size, bool)
    i = np.searchsorted(steps, mids)
    before = np.where(i > 0, steps[np.maximum(i - 1, 0)], -np.inf)
    after = np.where(i < steps.size, steps[np.minimum(i, steps.size - 1)], np.inf)
    clear = (mids - before > geometry.base_inner) & (after - mids > geometry.base_inner)
    return before, after, clear


def null_mid_times(
    time: np.ndarray, ephemeris: Ephemeris, geometry: WindowGeometry, t0: float, step_days: float
) -> np.ndarray:
    """Mid-times every ``step_days`` across ``time`` whose whole window avoids every transit window.

    ``t0`` is the mid-transit time in the same time system as ``time``.  The
    estimates of a check at these times contain no transit: their scatter is
    the empirical null distribution of that estimator.
    """
    finite = time[np.isfinite(time)]
    if finite.size == 0 or step_days <= 0:
        return np.empty(0)
    grid = np.arange(finite.min() + geometry.base_outer, finite.max() - geometry.base_outer, step_days)
    phase = (grid - t0 + ephemeris.period / 2.0) % ephemeris.period - ephemeris.period / 2.0
    return grid[np.abs(phase) > geometry.base_outer + ephemeris.duration_days / 2.0]
