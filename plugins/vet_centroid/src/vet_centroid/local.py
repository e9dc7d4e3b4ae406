"""In- minus out-of-transit differences against a local linear baseline, for many windows at once.

For each window centred on a time ``t_m`` the baseline is a straight line fitted
(least squares) to the cadences ``gap`` to ``gap + width`` durations beyond each
edge of the transit, on both sides; the estimate is the mean in-transit residual
from that line.  A line fitted across the transit removes the slow pointing
drift that a sector-wide baseline mixes into the shift (Bryson et al. 2013,
§3; science notes on local baselines).

All windows are evaluated with prefix sums, so a thousand null windows cost
about as much as one pass over the time series.  The same estimator applied at
transit-free times gives the empirical null distribution used for the errors.
"""

from __future__ import annotations

import attrs
import numpy as np

from vetcore.transits import WindowGeometry

__all__ = ["WindowSums", "local_differences"]


@attrs.frozen(eq=False)
class WindowSums:
    """Per-window results: ``delta`` (m, k) in-minus-baseline of each of the k series,
    and the cadence counts in transit, before and after."""

    delta: np.ndarray
    n_in: np.ndarray
    n_before: np.ndarray
    n_after: np.ndarray


def _prefix(values: np.ndarray) -> np.ndarray:
    out = np.zeros((values.shape[0] + 1, *values.shape[1:]))
    np.cumsum(values, axis=0, out=out[1:])
    return out


def local_differences(
    time: np.ndarray,
    series: np.ndarray,
    mids: np.ndarray,
    geometry: WindowGeometry,
    *,
    linear: bool = True,
    min_side: int = 3,
    lo_clip: np.ndarray | None = None,
    hi_clip: np.ndarray | None = None,
) -> WindowSums:
    """In-transit mean minus the local baseline at each of ``mids``.

    ``time`` (n,) sorted, finite; ``series`` (n, k).  With ``linear`` the baseline
    is a line through both sides; a side with fewer than ``min_side`` cadences
    makes that window's baseline a constant (mean of the other side).
    ``lo_clip``/``hi_clip`` (m,) cut each window's baseline at those times (e.g. a
    pointing step just outside the transit), so no window straddles them.
    """
    tref = float(np.median(time)) if time.size else 0.0
    tau = time - tref
    series = np.asarray(series, dtype=np.float64)
    p0 = np.arange(time.size + 1, dtype=np.float64)
    p1 = _prefix(tau)
    p2 = _prefix(tau * tau)
    py = _prefix(series)
    pty = _prefix(tau[:, None] * series)

    def sums(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        a = np.searchsorted(time, lo, side="left")
        b = np.searchsorted(time, hi, side="right")
        return p0[b] - p0[a], p1[b] - p1[a], p2[b] - p2[a], py[b] - py[a], pty[b] - pty[a]

    g = geometry
    n_i, s1_i, _, sy_i, _ = sums(mids - g.in_half, mids + g.in_half)
    lo = mids - g.base_outer if lo_clip is None else np.maximum(mids - g.base_outer, lo_clip)
    hi = mids + g.base_outer if hi_clip is None else np.minimum(mids + g.base_outer, hi_clip)
    n_b, s1_b, s2_b, sy_b, sty_b = sums(lo, mids - g.base_inner)
    n_a, s1_a, s2_a, sy_a, sty_a = sums(mids + g.base_inner, hi)

    tm = mids - tref
    n = n_b + n_a
    su = s1_b + s1_a - n * tm
    suu = s2_b + s2_a - 2 * tm * (s1_b + s1_a) + n * tm * tm
    suy = (sty_b + sty_a) - tm[:, None] * (sy_b + sy_a)
    sy = sy_b + sy_a
    det = n * suu - su * su
    two_sided = (n_b >= min_side) & (n_a >= min_side) & (det > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(
            (two_sided & linear)[:, None], (n[:, None] * suy - su[:, None] * sy) / det[:, None], 0.0
        )
        intercept = (sy - slope * su[:, None]) / n[:, None]
        su_in = s1_i - n_i * tm
        delta = (sy_i - intercept * n_i[:, None] - slope * su_in[:, None]) / n_i[:, None]
    return WindowSums(delta=delta, n_in=n_i.astype(int), n_before=n_b.astype(int), n_after=n_a.astype(int))
