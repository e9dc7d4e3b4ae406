"""Difference images from local per-transit baselines (Bryson et al. 2013, PASP 125, 889, §3;
Twicken et al. 2018, PASP 130, 064502, §4.2).

For every transit the cadences in transit and a baseline on *both* sides of it
are taken from :func:`vetcore.transits.transit_windows` (window widths in units
of the transit duration).  Per pixel the baseline is a straight line in time
fitted to both sides (``baseline="linear"``, default) or their plain mean
(``"mean"``), averaged over the in-transit cadences, so a slow drift of the
star across the pixel grid cancels to first order instead of masquerading as a
depth.  A pointing step flagged inside the window (a momentum dump) adds a
level-step term (an unmodelled step would bias the depth of every pixel).  The
per-transit difference image is

    d_k = ⟨baseline_k⟩_in − ⟨flux⟩_in            (out − in, e⁻/s, > 0 for a dimming)

with variance s_k² (1/n_in + ℓ_k), where s_k is the per-pixel RMS of the
baseline residuals (the observed scatter, which includes pointing jitter that
``flux_err`` leaves out) and ℓ_k the leverage of the baseline model at the
in-transit cadences.  Transits are combined with per-pixel inverse-variance
weights.

Null images: the same construction at epochs shifted by whole window lengths
(so no null window overlaps a transit window) contains no transit.  Their
normalised scatter per pixel, r = rms(d_j / σ_j), is the ratio of the empirical
to the propagated noise; the combined uncertainty uses max(1, r) per pixel, and
the null images themselves (scaled to the combined noise level) serve as
realisations of the correlated noise for the empirical checks of the fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from vetcore import Ephemeris, Stamp
from vetcore.transits import TransitWindow, time_from_mid_transit, transit_windows

__all__ = [
    "DifferenceImage",
    "WindowImages",
    "WindowSpec",
    "build_difference_image",
    "cadence_proxy",
    "combine",
    "excluded_cadences",
    "null_windows",
    "pointing_steps",
    "usable_cadences",
    "window_images",
]


@attrs.frozen
class WindowSpec:
    """Window geometry (in transit durations D) and the minimum data for a usable transit.

    ``in_fraction``: in-transit cadences have |t − t_mid| ≤ in_fraction·D/2.
    ``gap``/``width``: each baseline side spans D/2 + gap·D … D/2 + (gap + width)·D.
    ``min_coverage``: fraction of the expected in-transit cadences present.
    ``min_in``/``min_side``: cadences in transit / in each baseline side.
    """

    in_fraction: float = 0.8
    gap: float = 0.25
    width: float = 1.5
    min_coverage: float = 0.5
    min_in: int = 3
    min_side: int = 5

    @property
    def span(self) -> float:
        """Full window length (in durations D): both baselines, both gaps and the transit."""
        return 1.0 + 2.0 * (self.gap + self.width)

    def windows(self, stamp: Stamp, ephemeris: Ephemeris) -> list[TransitWindow]:
        """All windows with at least one in-transit cadence (no minimum applied)."""
        return transit_windows(
            stamp, ephemeris, in_fraction=self.in_fraction, gap=self.gap, width=self.width, min_coverage=0.0
        )

    def usable(self, window: TransitWindow) -> bool:
        return (
            window.coverage >= self.min_coverage
            and window.in_transit.size >= self.min_in
            and window.before.size >= self.min_side
            and window.after.size >= self.min_side
        )


def usable_cadences(stamp: Stamp) -> tuple[np.ndarray, np.ndarray]:
    """(cadence mask, pixel mask): good cadences finite in *every* valid pixel, and the valid pixels.

    Valid pixels are those of :attr:`vetcore.Stamp.valid_pixels` (finite in at
    least one good cadence); pixels NaN throughout (Kepler mask corners) are
    left out per pixel, while a cadence with a NaN in any valid pixel is left
    out entirely.
    """
    good = stamp.good
    finite = np.isfinite(stamp.flux)
    valid = finite[good].any(axis=0)
    return good & finite[:, valid].all(axis=1), valid


def cadence_proxy(stamp: Stamp, usable: np.ndarray) -> Stamp:
    """A one-pixel stand-in for ``stamp`` whose only good cadences are ``usable``.

    :func:`vetcore.transits.transit_windows` then selects exactly the usable
    cadences, at O(n) cost per call (the null epochs call it many times).
    """
    flux = np.where(usable, 0.0, np.nan)[:, None, None]
    return stamp.replace(
        flux=flux,
        aperture_mask=np.ones((1, 1), bool),
        flux_err=None,
        background=None,
        quality=None,
        pos_corr=None,
    )


def null_windows(proxy: Stamp, ephemeris: Ephemeris, spec: WindowSpec) -> list[TransitWindow]:
    """Usable windows at epochs shifted by m window lengths, m = 1 … ⌊P/span⌋ − 1.

    A shift s with span ≤ s ≤ P − span keeps every null window clear of every
    transit window, before or after it.
    """
    span = spec.span * ephemeris.duration_days
    t0 = ephemeris.t0_in(proxy.time_system, proxy.bjd_ref)
    out: list[TransitWindow] = []
    for m in range(1, int(ephemeris.period // span)):
        shifted = Ephemeris(
            period=ephemeris.period, t0=t0 + m * span, duration_hours=ephemeris.duration_hours
        )
        out.extend(w for w in spec.windows(proxy, shifted) if spec.usable(w))
    return out


@attrs.frozen(eq=False)
class WindowImages:
    """Per-window images over the valid pixels, shape (K, m), and the same for the aperture sum (K,).

    ``diff``: out − in (e⁻/s); ``var``: its propagated variance; ``oot``: the
    baseline model averaged over the in-transit cadences; ``oot_var`` its variance; ``ap_*``:
    the same quantities of the aperture-summed flux, whose variance comes from
    the scatter of the summed series itself (so pixel-to-pixel correlations,
    e.g. flux moving between pixels with the pointing, are accounted for);
    ``n_in`` and ``n_base`` (K,): cadences used; ``n_steps`` (K,): pointing
    steps modelled in each baseline.
    """

    diff: np.ndarray
    var: np.ndarray
    oot: np.ndarray
    oot_var: np.ndarray
    ap_diff: np.ndarray
    ap_var: np.ndarray
    ap_oot: np.ndarray
    n_in: np.ndarray
    n_base: np.ndarray
    n_steps: np.ndarray

    def __len__(self) -> int:
        return int(self.diff.shape[0])


def pointing_steps(stamp: Stamp, bits: int) -> np.ndarray:
    """Start times of events flagged with quality ``bits`` (e.g. 32, reaction-wheel desaturation).

    Consecutive flagged cadences (closer than three cadences) form one event.
    """
    if stamp.quality is None or not bits:
        return np.empty(0)
    flagged = (np.asarray(stamp.quality).astype(np.int64) & int(bits)) != 0
    times = np.sort(stamp.time[flagged & np.isfinite(stamp.time)])
    if times.size == 0:
        return times
    new = np.diff(times, prepend=-np.inf) > 3.0 * stamp.cadence_seconds / 86400.0
    return times[new]


def _design(
    t_base: np.ndarray, t_in: np.ndarray, steps: np.ndarray, linear: bool, min_side: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Baseline design matrix, its mean row over the in-transit cadences, kept baseline cadences,
    and the number of step terms.

    A step term H(t − t_s) is added for each pointing step with at least
    ``min_side`` baseline cadences on both sides; otherwise the few cadences on
    its short side (always at the outer end of the window) are dropped.
    """
    keep = np.ones(t_base.size, dtype=bool)
    base_cols, in_cols = [np.ones_like(t_base)], [np.ones_like(t_in)]
    if linear:
        base_cols.append(t_base)
        in_cols.append(t_in)
    n_steps = 0
    for t_step in steps:
        pre = t_base < t_step
        n_pre, n_post = int(np.sum(pre & keep)), int(np.sum(~pre & keep))
        if min(n_pre, n_post) < min_side:
            keep &= pre if n_pre >= n_post else ~pre
            continue
        base_cols.append((~pre).astype(float))
        in_cols.append((t_in >= t_step).astype(float))
        n_steps += 1
    return np.column_stack(base_cols)[keep], np.column_stack(in_cols).mean(axis=0), keep, n_steps


def window_images(
    stamp: Stamp,
    valid: np.ndarray,
    aperture: np.ndarray,
    windows: Sequence[TransitWindow],
    baseline: str = "linear",
    steps: np.ndarray | None = None,
    min_side: int = 5,
) -> WindowImages:
    """Difference images and variances of each window (see the module docstring).

    ``aperture`` is a boolean mask over the valid pixels.  ``steps`` are times
    of pointing steps (momentum dumps): each one inside a window gets its own
    level-step term in the baseline model (see :func:`_design`).
    """
    m = int(valid.sum())
    k = len(windows)
    steps = np.empty(0) if steps is None else np.asarray(steps, dtype=float)
    # the aperture-summed flux rides along as pixel m
    diff, var, oot, oot_var = (np.empty((k, m + 1)) for _ in range(4))
    n_steps = np.zeros(k, dtype=int)
    n_base = np.zeros(k, dtype=int)
    for i, w in enumerate(windows):
        t_base = stamp.time[w.baseline] - w.t_mid
        t_in = stamp.time[w.in_transit] - w.t_mid
        inside = steps[(steps > stamp.time[w.indices[0]]) & (steps <= stamp.time[w.indices[-1]])] - w.t_mid
        design, at_in, keep, n_steps[i] = _design(t_base, t_in, inside, baseline == "linear", min_side)
        base_idx = w.baseline[keep]
        n_base[i] = base_idx.size
        f_in = stamp.flux[w.in_transit][:, valid].astype(float)
        f_base = stamp.flux[base_idx][:, valid].astype(float)
        f_in = np.column_stack([f_in, f_in[:, aperture].sum(axis=1)])
        f_base = np.column_stack([f_base, f_base[:, aperture].sum(axis=1)])
        gram_inv = np.linalg.inv(design.T @ design)
        coef = gram_inv @ (design.T @ f_base)
        resid = f_base - design @ coef
        s2 = np.sum(resid**2, axis=0) / (base_idx.size - design.shape[1])
        # a floor at 1e-9 of the flux level keeps noiseless or constant pixels finite
        s2 = np.maximum(s2, (1e-9 * (np.abs(coef[0]) + 1.0)) ** 2)
        leverage = float(at_in @ gram_inv @ at_in)
        oot[i] = at_in @ coef
        oot_var[i] = s2 * leverage
        diff[i] = oot[i] - f_in.mean(axis=0)
        var[i] = s2 * (1.0 / f_in.shape[0] + leverage)
    return WindowImages(
        diff=diff[:, :m],
        var=var[:, :m],
        oot=oot[:, :m],
        oot_var=oot_var[:, :m],
        ap_diff=diff[:, m],
        ap_var=var[:, m],
        ap_oot=oot[:, m],
        n_in=np.array([w.in_transit.size for w in windows], dtype=int),
        n_base=n_base,
        n_steps=n_steps,
    )


def combine(diff: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel inverse-variance mean over the first axis and its variance."""
    weight = 1.0 / var
    total = weight.sum(axis=0)
    return (weight * diff).sum(axis=0) / total, 1.0 / total


@attrs.frozen(eq=False)
class DifferenceImage:
    """The combined difference image of one stamp and what is needed to judge it.

    Per-pixel arrays are over the valid pixels only (``rows``/``cols`` give their
    positions).  ``sigma`` is the final uncertainty, ``sigma_prop`` the
    propagated one; ``noise_ratio`` (m,) is the empirical/propagated ratio from
    the null images (1 without enough of them).  ``null_noise`` (J, m) holds the
    null images scaled to the propagated noise of the combined image.  ``ap_*``
    describe the aperture-summed flux: combined difference, its final and
    propagated uncertainty, the OOT level, and the empirical/propagated ratio.
    """

    shape: tuple[int, int]
    rows: np.ndarray
    cols: np.ndarray
    transits: tuple[TransitWindow, ...]
    per_transit: WindowImages
    diff: np.ndarray
    sigma: np.ndarray
    sigma_prop: np.ndarray
    oot: np.ndarray
    oot_sigma: np.ndarray
    noise_ratio: np.ndarray
    null_noise: np.ndarray
    ap_diff: float
    ap_sigma: float
    ap_sigma_prop: float
    ap_oot: float
    ap_noise_ratio: float

    @property
    def n_null(self) -> int:
        return int(self.null_noise.shape[0])

    def image(self, values: np.ndarray) -> np.ndarray:
        """A full (rows, cols) image of per-valid-pixel ``values``, NaN elsewhere."""
        out = np.full(self.shape, np.nan)
        out[self.rows, self.cols] = values
        return out


def build_difference_image(
    stamp: Stamp,
    valid: np.ndarray,
    aperture: np.ndarray,
    transits: Sequence[TransitWindow],
    nulls: Sequence[TransitWindow],
    *,
    baseline: str = "linear",
    steps: np.ndarray | None = None,
    min_side: int = 5,
    min_null: int = 5,
) -> DifferenceImage:
    """Combine the transits' difference images and calibrate their noise on the null windows.

    ``aperture`` is a boolean mask over the valid pixels.  With fewer than
    ``min_null`` null windows the propagated noise is used as is (ratios 1).
    """
    per = window_images(stamp, valid, aperture, transits, baseline, steps, min_side)
    diff, var_prop = combine(per.diff, per.var)
    ap_diff, ap_var = combine(per.ap_diff, per.ap_var)
    m = diff.size
    ratio = np.ones(m)
    ap_ratio = 1.0
    null_noise = np.empty((0, m))
    if len(nulls) >= min_null:
        null = window_images(stamp, valid, aperture, nulls, baseline, steps, min_side)
        ratio = np.sqrt(np.mean(null.diff**2 / null.var, axis=0))
        ap_ratio = float(np.sqrt(np.mean(null.ap_diff**2 / null.ap_var)))
        null_noise = null.diff * np.sqrt(var_prop / null.var)
    sigma_prop = np.sqrt(var_prop)
    rows, cols = np.nonzero(valid)
    return DifferenceImage(
        shape=(int(valid.shape[0]), int(valid.shape[1])),
        rows=rows,
        cols=cols,
        transits=tuple(transits),
        per_transit=per,
        diff=diff,
        sigma=sigma_prop * np.maximum(ratio, 1.0),
        sigma_prop=sigma_prop,
        oot=per.oot.mean(axis=0),
        oot_sigma=np.sqrt(per.oot_var.sum(axis=0)) / len(per),
        noise_ratio=ratio,
        null_noise=null_noise,
        ap_diff=float(ap_diff),
        ap_sigma=float(np.sqrt(ap_var) * max(ap_ratio, 1.0)),
        ap_sigma_prop=float(np.sqrt(ap_var)),
        ap_oot=float(per.ap_oot.mean()),
        ap_noise_ratio=ap_ratio,
    )


def excluded_cadences(stamp: Stamp, ephemeris: Ephemeris, spec: WindowSpec, usable: np.ndarray) -> int:
    """Cadences inside the in-transit or baseline range of any transit that are not usable
    (flagged quality or a NaN pixel)."""
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    d = ephemeris.duration_days
    adt = np.abs(dt)
    with np.errstate(invalid="ignore"):
        inside = (adt <= spec.in_fraction * d / 2.0) | (
            (adt >= d / 2.0 + spec.gap * d) & (adt <= d / 2.0 + (spec.gap + spec.width) * d)
        )
    return int(np.sum(inside & ~usable))
