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

Pointing decorrelation (pixel-level decorrelation, Deming et al. 2015, ApJ
805, 132; Luger et al. 2016, AJ 152, 100): with the spacecraft pointing
``POS_CORR1/2`` (measured from many stars, so blind to the transit) each
pixel's response is fitted once per sector and subtracted before the windows
are built (:mod:`vet_diffimg.decorrelate`).  Inside each window the baseline
model can get one term per window regressor (:func:`window_regressors`): the
background level (blind to the transit; used at the in-transit cadences too)
and, without ``POS_CORR`` (TESScut cut-outs), the flux-weighted centroid of the
aperture measured from the pixels themselves.  That centroid moves during the
transit of an off-target source, so only its wiggle about its own baseline
trend is regressed on the baseline cadences and it is not extrapolated into the
transit (that would absorb the signal being localized).  :func:`aperture_noise`
measures the empirical noise of the stacked aperture sum for a given baseline
model, flux and window regressors, so the caller can keep the quietest
(``snr_gain`` records the ratio raw/best).

Null images: the same construction at epochs shifted by whole window lengths
(so no null window overlaps a transit window) contains no transit.  Their
normalised scatter per pixel, r = rms(d_j / σ_j), is the ratio of the empirical
to the propagated noise; scaled to the combined noise level they give the
noise model of the combined image, correlated between pixels
(:mod:`vet_diffimg.noise`), and serve as realisations of that noise for the
empirical checks of the fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from vet_diffimg.noise import NoiseModel, estimate_noise, noise_patterns
from vetcore import Ephemeris, Stamp
from vetcore.transits import TransitWindow, WindowGeometry, time_from_mid_transit, transit_windows

__all__ = [
    "DifferenceImage",
    "WindowImages",
    "WindowSpec",
    "aperture_noise",
    "build_difference_image",
    "cadence_proxy",
    "combine",
    "excluded_cadences",
    "null_windows",
    "usable_cadences",
    "window_images",
    "window_regressors",
]


#: Polynomial order in time of each baseline model.
BASELINE_ORDER = {"mean": 0, "linear": 1, "quadratic": 2}


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

    def geometry(self, ephemeris: Ephemeris) -> WindowGeometry:
        """The window edges in days for ``ephemeris`` (:class:`vetcore.transits.WindowGeometry`)."""
        return WindowGeometry.from_ephemeris(
            ephemeris, in_fraction=self.in_fraction, gap=self.gap, width=self.width
        )

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
    span = spec.geometry(ephemeris).span
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
    steps modelled in each baseline; ``white_var`` (K, m): the variance the
    stamp's ``flux_err`` alone (photon and read noise) propagates into ``diff``
    (``None`` without ``flux_err``).
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
    white_var: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.diff.shape[0])

    @property
    def weight(self) -> np.ndarray:
        """Per-window, per-pixel weights of the combined image: 1/``white_var`` where known (the
        same ratio between windows in every pixel, so the pointing-jitter pattern of each window
        stays one pattern in the sum; see :mod:`vet_diffimg.noise`), else 1/``var``."""
        return 1.0 / (self.var if self.white_var is None else self.white_var)


def _design(
    t_base: np.ndarray, t_in: np.ndarray, steps: np.ndarray, order: int, min_side: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Baseline design matrix, its mean row over the in-transit cadences, kept baseline cadences,
    and the number of step terms.

    A step term H(t − t_s) is added for each pointing step with at least
    ``min_side`` baseline cadences on both sides; otherwise the few cadences on
    its short side (always at the outer end of the window) are dropped.
    """
    keep = np.ones(t_base.size, dtype=bool)
    base_cols, in_cols = [np.ones_like(t_base)], [np.ones_like(t_in)]
    for power in range(1, order + 1):
        base_cols.append(t_base**power)
        in_cols.append(t_in**power)
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


@attrs.frozen(eq=False)
class Regressors:
    """Pointing/background regressors per cadence, (n, k), and which columns are external
    (``POS_CORR``, background: usable at in-transit cadences) or measured from the pixels."""

    values: np.ndarray
    external: np.ndarray

    @property
    def count(self) -> int:
        return int(self.values.shape[1])


def window_regressors(
    stamp: Stamp, usable: np.ndarray, valid: np.ndarray, aperture: np.ndarray, *, centroid: bool
) -> Regressors | None:
    """Regressors for each window's baseline model: the aperture's flux-weighted centroid when
    ``centroid`` (for a stamp without ``POS_CORR``, which :mod:`vet_diffimg.decorrelate` uses
    sector-wide instead), and the background level; columns with no variation are left out."""
    cols: list[np.ndarray] = []
    external: list[bool] = []
    if centroid:
        flux = np.where(usable[:, None], stamp.flux[:, aperture_mask_2d(valid, aperture)], 0.0).astype(float)
        rows, cs = np.nonzero(valid)
        total = flux.sum(axis=1)
        safe = np.where(total != 0, total, 1.0)
        cols += [flux @ rows[aperture] / safe, flux @ cs[aperture] / safe]
        external += [False, False]
    if stamp.background is not None:
        bkg = np.asarray(stamp.background, dtype=float)[:, valid].mean(axis=1)
        if np.isfinite(bkg[usable]).all():
            cols.append(bkg)
            external.append(True)
    if not cols or not usable.any():
        return None
    values = np.column_stack(cols)
    keep = np.std(values[usable], axis=0) > 0
    if not keep.any():
        return None
    values = np.where(usable[:, None], values, 0.0)[:, keep]
    return Regressors(values - values[usable].mean(axis=0), np.asarray(external)[keep])


def window_images(
    stamp: Stamp,
    valid: np.ndarray,
    aperture: np.ndarray,
    windows: Sequence[TransitWindow],
    baseline: str = "linear",
    steps: np.ndarray | None = None,
    min_side: int = 5,
    regressors: Regressors | None = None,
) -> WindowImages:
    """Difference images and variances of each window (see the module docstring).

    ``aperture`` is a boolean mask over the valid pixels.  ``steps`` are times
    of pointing steps (momentum dumps): each one inside a window gets its own
    level-step term in the baseline model (see :func:`_design`).  ``regressors``
    add pointing/background terms (see the module docstring).
    """
    m = int(valid.sum())
    k = len(windows)
    steps = np.empty(0) if steps is None else np.asarray(steps, dtype=float)
    # the aperture-summed flux rides along as pixel m
    diff, var, oot, oot_var = (np.empty((k, m + 1)) for _ in range(4))
    flux_err = stamp.flux_err
    white = None if flux_err is None else np.empty((k, m))
    n_steps = np.zeros(k, dtype=int)
    n_base = np.zeros(k, dtype=int)
    for i, w in enumerate(windows):
        design, at_in, base_idx, n_steps[i] = _window_design(stamp, w, baseline, steps, min_side, regressors)
        n_base[i] = base_idx.size
        f_in = stamp.flux[w.in_transit][:, valid].astype(float)
        f_base = stamp.flux[base_idx][:, valid].astype(float)
        f_in = np.column_stack([f_in, f_in[:, aperture].sum(axis=1)])
        f_base = np.column_stack([f_base, f_base[:, aperture].sum(axis=1)])
        d, v, o, ov, leverage = _difference(design, at_in, f_base, f_in)
        diff[i], var[i], oot[i], oot_var[i] = d, v, o, ov
        if white is not None and flux_err is not None:  # the squared errors of this window's cadences only
            err2_in = np.asarray(flux_err[w.in_transit], dtype=float)[:, valid] ** 2
            err2_base = np.asarray(flux_err[base_idx], dtype=float)[:, valid] ** 2
            white[i] = err2_in.mean(axis=0) / w.in_transit.size + err2_base.mean(axis=0) * leverage
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
        white_var=white if white is None or np.all(np.isfinite(white)) else None,
    )


def _window_design(
    stamp: Stamp,
    window: TransitWindow,
    baseline: str,
    steps: np.ndarray,
    min_side: int,
    regressors: Regressors | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The baseline model of one window (see :func:`window_images`): design matrix over the kept
    baseline cadences, its mean row over the in-transit cadences, the kept baseline cadences'
    indices and the number of step terms."""
    w = window
    t_base = stamp.time[w.baseline] - w.t_mid
    t_in = stamp.time[w.in_transit] - w.t_mid
    inside = steps[(steps > stamp.time[w.indices[0]]) & (steps <= stamp.time[w.indices[-1]])] - w.t_mid
    design, at_in, keep, n_steps = _design(t_base, t_in, inside, BASELINE_ORDER[baseline], min_side)
    base_idx = w.baseline[keep]
    if regressors is not None and regressors.count and base_idx.size > design.shape[1] + regressors.count + 2:
        r_base = regressors.values[base_idx]
        r_in = regressors.values[w.in_transit].mean(axis=0)
        measured = ~regressors.external
        if measured.any():  # only the wiggle about its own baseline trend, never extrapolated
            coef_r = np.linalg.lstsq(design, r_base[:, measured], rcond=None)[0]
            r_base = r_base.copy()
            r_base[:, measured] -= design @ coef_r
            r_in = np.where(measured, 0.0, r_in)
        design, at_in = np.column_stack([design, r_base]), np.concatenate([at_in, r_in])
    return design, at_in, base_idx, n_steps


def _difference(
    design: np.ndarray, at_in: np.ndarray, f_base: np.ndarray, f_in: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Baseline model at the in-transit cadences minus their mean flux, its variance, the model
    level and its variance, per column of ``f_base``/``f_in``, and the baseline's leverage at the
    in-transit mean."""
    gram_inv = np.linalg.pinv(design.T @ design)
    coef = gram_inv @ (design.T @ f_base)
    resid = f_base - design @ coef
    s2 = np.sum(resid**2, axis=0) / max(f_base.shape[0] - design.shape[1], 1)
    # a floor at 1e-9 of the flux level keeps noiseless or constant pixels finite
    s2 = np.maximum(s2, (1e-9 * (np.abs(coef[0]) + 1.0)) ** 2)
    leverage = float(at_in @ gram_inv @ at_in)
    level = at_in @ coef
    return level - f_in.mean(axis=0), s2 * (1.0 / f_in.shape[0] + leverage), level, s2 * leverage, leverage


def combine(
    diff: np.ndarray, var: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel weighted mean over the first axis and its variance; inverse-variance weights unless
    ``weight`` is given."""
    weight = 1.0 / var if weight is None else weight
    total = weight.sum(axis=0)
    return (weight * diff).sum(axis=0) / total, (weight**2 * var).sum(axis=0) / total**2


@attrs.frozen(eq=False)
class DifferenceImage:
    """The combined difference image of one stamp and what is needed to judge it.

    Per-pixel arrays are over the valid pixels only (``rows``/``cols`` give their
    positions).  ``sigma`` is each pixel's final uncertainty (the marginal of
    ``noise``, the correlated noise model), ``sigma_prop`` the propagated one;
    ``noise_ratio`` (m,) is the empirical/propagated ratio from the null images
    (1 without enough of them).  ``null_noise`` (J, m) holds the null images
    scaled to the propagated noise of the combined image, ``null_windows`` the same
    unscaled (one window each, as one transit's image; empty without ``flux_err``).  ``ap_*``
    describe the aperture-summed flux: combined difference, its final and
    propagated uncertainty, the OOT level, and the empirical/propagated ratio;
    ``snr_gain`` the factor by which pointing decorrelation lowered its noise
    (set by the caller; ``None`` without it).
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
    null_windows: np.ndarray
    noise: NoiseModel
    ap_diff: float
    ap_sigma: float
    ap_sigma_prop: float
    ap_oot: float
    ap_noise_ratio: float
    snr_gain: float | None = None

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
    regressors: Regressors | None = None,
    pointing: np.ndarray | None = None,
) -> DifferenceImage:
    """Combine the transits' difference images and calibrate their noise on the null windows.

    ``aperture`` is a boolean mask over the valid pixels.  With fewer than
    ``min_null`` null windows the propagated noise is used as is (ratios 1).
    ``pointing`` (m, k): the pixels' measured response to the pointing
    (:func:`vet_diffimg.noise.pointing_response`); with a sky level and its
    gradients it gives the patterns of the correlated noise
    (:func:`vet_diffimg.noise.noise_patterns`; without it, the sky patterns alone).
    """
    per = window_images(stamp, valid, aperture, transits, baseline, steps, min_side, regressors)
    diff, var_prop = combine(per.diff, per.var, per.weight)
    ap_diff, ap_var = combine(per.ap_diff, per.ap_var)
    m = diff.size
    ratio = np.ones(m)
    ap_ratio = 1.0
    null_noise = np.empty((0, m))
    null_windows = np.empty((0, m))
    sigma_prop = np.sqrt(var_prop)
    scale = sigma_prop
    if len(nulls) >= min_null:
        null = window_images(stamp, valid, aperture, nulls, baseline, steps, min_side, regressors)
        ratio = np.sqrt(np.mean(null.diff**2 / null.var, axis=0))
        ap_ratio = float(np.sqrt(np.mean(null.ap_diff**2 / null.ap_var)))
        if per.white_var is not None and null.white_var is not None:
            # scaled by the white (photon + read) noise, known exactly, so that each null image keeps
            # its own share of jitter and the noise model is built in units of the white noise
            scale = np.sqrt(combine(per.diff, per.white_var, per.weight)[1])
            null_noise = null.diff * (scale / np.sqrt(null.white_var))
            null_windows = null.diff
        else:
            null_noise = null.diff * np.sqrt(var_prop / null.var)
    ap_sigma = float(np.sqrt(ap_var) * max(ap_ratio, 1.0))
    rows, cols = np.nonzero(valid)
    patterns = noise_patterns(pointing, rows.astype(float), cols.astype(float))
    noise = estimate_noise(scale, null_noise, patterns, min_null=min_null, pointing=pointing is not None)
    return DifferenceImage(
        shape=(int(valid.shape[0]), int(valid.shape[1])),
        rows=rows,
        cols=cols,
        transits=tuple(transits),
        per_transit=per,
        diff=diff,
        sigma=noise.marginal_sigma,
        sigma_prop=sigma_prop,
        oot=per.oot.mean(axis=0),
        oot_sigma=np.sqrt(per.oot_var.sum(axis=0)) / len(per),
        noise_ratio=ratio,
        null_noise=null_noise,
        null_windows=null_windows,
        noise=noise,
        ap_diff=float(ap_diff),
        ap_sigma=ap_sigma,
        ap_sigma_prop=float(np.sqrt(ap_var)),
        ap_oot=float(per.ap_oot.mean()),
        ap_noise_ratio=ap_ratio,
    )


def excluded_cadences(stamp: Stamp, ephemeris: Ephemeris, spec: WindowSpec, usable: np.ndarray) -> int:
    """Cadences inside the in-transit or baseline range of any transit that are not usable
    (flagged quality or a NaN pixel)."""
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    geom = spec.geometry(ephemeris)
    adt = np.abs(dt)
    with np.errstate(invalid="ignore"):
        inside = (adt <= geom.in_half) | ((adt >= geom.base_inner) & (adt <= geom.base_outer))
    return int(np.sum(inside & ~usable))


def aperture_noise(
    stamp: Stamp,
    valid: np.ndarray,
    aperture: np.ndarray,
    transits: Sequence[TransitWindow],
    nulls: Sequence[TransitWindow],
    *,
    baseline: str,
    steps: np.ndarray | None,
    min_side: int,
    min_null: int,
    regressors: Regressors | None,
) -> float:
    """Empirical 1σ noise (e⁻/s) of the stacked aperture-sum difference for one baseline model:
    the propagated error times the null-window ratio when there are ``min_null`` null windows.

    Only the aperture sum is modelled, so comparing baseline models costs a fraction
    of building the images.
    """
    total = stamp.flux[:, aperture_mask_2d(valid, aperture)].astype(float).sum(axis=1)[:, None]
    steps = np.empty(0) if steps is None else np.asarray(steps, dtype=float)

    def images(windows: Sequence[TransitWindow]) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty((2, len(windows)))
        for i, w in enumerate(windows):
            design, at_in, base_idx, _ = _window_design(stamp, w, baseline, steps, min_side, regressors)
            d, v, *_ = _difference(design, at_in, total[base_idx], total[w.in_transit])
            out[:, i] = d[0], v[0]
        return out[0], out[1]

    _, var = combine(*images(transits))
    ratio = 1.0
    if len(nulls) >= min_null:
        null_diff, null_var = images(nulls)
        ratio = max(1.0, float(np.sqrt(np.mean(null_diff**2 / null_var))))
    return float(np.sqrt(var)) * ratio


def aperture_mask_2d(valid: np.ndarray, aperture: np.ndarray) -> np.ndarray:
    """The (rows, cols) image mask of ``aperture``, a mask over the valid pixels."""
    out = np.zeros_like(valid)
    out[valid] = aperture
    return out
