"""V08 measurement: the in-transit shift of the flux-weighted centroid, its errors, and the depth.

Local baselines (default; Bryson et al. 2013, PASP 125, 889, §3): per transit,
the in-transit mean minus a straight line fitted to baseline windows on both
sides (:mod:`vet_centroid.local`), combined over transits with weights ∝
in-transit cadences.  A pointing step (momentum dump, :func:`vetcore.transits.pointing_steps`)
next to a transit cuts its baseline; one inside the transit or its gaps is fitted
as a step together with the line, or the transit is left out when a segment
between steps has no baseline cadence.  The errors come from the same estimator
at transit-free mid-times of the sector (empirical null,
:func:`vetcore.transits.null_mid_times`), never below the white-noise estimate
from the point-to-point scatter.  Before the windows, the centroid and flux
series are decorrelated against the spacecraft pointing (``POS_CORR1/2``) when
the stamp carries it (least squares on the out-of-transit cadences, as in
pixel-level decorrelation, Deming et al. 2015, ApJ 805, 132).

Global baseline (``baseline="global"``): the usual quick-look measurement for
comparison: in transit |Δt| ≤ D/2, out of transit |Δt| > D over the whole
sector, medians of 3σ-clipped centroids (:func:`astropy.stats.sigma_clip`).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from astropy.stats import mad_std, sigma_clip

from vet_centroid.centroids import flux_weighted_centroids
from vet_centroid.local import local_differences
from vetcore import Ephemeris, Params, Stamp
from vetcore.transits import (
    WindowGeometry,
    in_transit_mask,
    null_mid_times,
    pointing_steps,
    step_limits,
    time_from_mid_transit,
    transit_windows,
)

__all__ = ["CentroidMeasurement", "Shift", "measure"]


@attrs.frozen(eq=False)
class Shift:
    """In-transit centroid shift over one set of pixels.

    ``shift`` (row, col) in pixels with its 2×2 ``covariance``; ``c_out`` the
    out-of-transit centroid; ``depth`` the fractional dimming of the summed flux
    of those pixels and its 1σ ``depth_err``; ``flux`` their summed out-of-transit
    flux (e⁻/s).
    """

    shift: np.ndarray
    covariance: np.ndarray
    c_out: np.ndarray
    depth: float
    depth_err: float
    flux: float = math.nan

    @property
    def depth_snr(self) -> float:
        return self.depth / self.depth_err if self.depth_err > 0 else 0.0


@attrs.frozen(eq=False)
class CentroidMeasurement:
    """Everything V08 measured in one sector.

    ``centroid``: the shift over the centroid aperture (its significance);
    ``localizer``: the shift over the localization pixels (the source position).
    Both are ``None`` when no transit could be measured.  ``snr_gain`` is the
    ratio of the depth S/N after and before decorrelation against the pointing
    (``None`` when the stamp has no pointing series).
    """

    baseline: str
    n_transits: int
    n_in: int
    n_out: int
    coverage: float
    n_null: int = 0
    n_dropped: int = 0
    n_modelled: int = 0
    centroid: Shift | None = None
    localizer: Shift | None = None
    snr_gain: float | None = None
    series: list[dict[str, Any]] = attrs.field(factory=list)
    in_half_hours: float | None = None


def _clipped_median(values: np.ndarray) -> tuple[float, float]:
    """Median and its standard error (1.2533 σ/√n) after iterative 3σ clipping."""
    kept = sigma_clip(values[np.isfinite(values)], sigma=3.0, maxiters=5, cenfunc="median", stdfunc="std")
    x = kept.compressed()
    return float(np.median(x)), float(1.2533 * np.std(x) / math.sqrt(x.size))


def _robust_cov(samples: np.ndarray) -> np.ndarray:
    """Covariance after 5σ clipping around the median (scale from :func:`astropy.stats.mad_std`)."""
    clipped = sigma_clip(samples, sigma=5.0, maxiters=1, cenfunc="median", stdfunc=mad_std, axis=0)
    keep = ~np.ma.getmaskarray(clipped).any(axis=1)
    if keep.sum() <= 2:
        return np.full((samples.shape[1],) * 2, np.nan)
    return np.atleast_2d(np.cov(samples[keep].T))


def _global(stamp: Stamp, ephemeris: Ephemeris, series: np.ndarray) -> CentroidMeasurement:
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    d = ephemeris.duration_days
    ok = stamp.good & np.isfinite(series[:, :2]).all(axis=1)
    with np.errstate(invalid="ignore"):
        sel_in, sel_out = ok & (np.abs(dt) <= 0.5 * d), ok & (np.abs(dt) > 1.0 * d)
    n_in, n_out = int(sel_in.sum()), int(sel_out.sum())
    if n_in < 2 or n_out < 2:
        return CentroidMeasurement("global", 0, n_in, n_out, 0.0)

    def estimate(row: np.ndarray, col: np.ndarray, total: np.ndarray) -> Shift:
        (r_in, r_ine), (r_out, r_oute) = _clipped_median(row[sel_in]), _clipped_median(row[sel_out])
        (c_in, c_ine), (c_out, c_oute) = _clipped_median(col[sel_in]), _clipped_median(col[sel_out])
        (f_in, f_ine), (f_out, f_oute) = _clipped_median(total[sel_in]), _clipped_median(total[sel_out])
        return Shift(
            shift=np.array([r_in - r_out, c_in - c_out]),
            covariance=np.diag([r_ine**2 + r_oute**2, c_ine**2 + c_oute**2]),
            c_out=np.array([r_out, c_out]),
            depth=1.0 - f_in / f_out,
            depth_err=math.hypot(f_ine, f_oute) / f_out,
            flux=f_out,
        )

    n_tr = len(np.unique(np.rint((stamp.time[sel_in] - stamp.time[sel_in][0]) / ephemeris.period)))
    return CentroidMeasurement(
        "global", n_tr, n_in, n_out, float(n_tr),
        centroid=estimate(*series[:, :3].T), localizer=estimate(*series[:, 3:].T),
    )  # fmt: skip


def _fit_with_steps(
    t: np.ndarray, ys: np.ndarray, mid: float, geom: WindowGeometry, steps: np.ndarray
) -> tuple[np.ndarray, int, int, int] | None:
    """In-transit mean residual from a line plus one level step per pointing step in the window.

    Least squares on the baseline cadences of the window; ``None`` when a segment
    between steps has no baseline cadence to anchor its level.
    """
    a, b = np.searchsorted(t, [mid - geom.base_outer, mid + geom.base_outer])
    tw, yw = t[a:b], ys[a:b]
    dt = tw - mid
    inside = np.abs(dt) <= geom.in_half
    base = np.abs(dt) >= geom.base_inner
    within = steps[(steps > tw[0]) & (steps < tw[-1])] if tw.size else steps[:0]
    design = np.column_stack([np.ones(tw.size), dt, *[(tw > s).astype(float) for s in within]])
    segment = np.searchsorted(within, tw)
    if not inside.any() or any(not base[segment == k].any() for k in np.unique(segment[inside])):
        return None
    coef, *_ = np.linalg.lstsq(design[base], yw[base], rcond=None)
    delta = (yw[inside] - design[inside] @ coef).mean(axis=0)
    return delta, int(inside.sum()), int((base & (dt < 0)).sum()), int((base & (dt > 0)).sum())


def _decorrelate(
    stamp: Stamp, ephemeris: Ephemeris, series: np.ndarray, geom: WindowGeometry
) -> np.ndarray | None:
    """``series`` minus its linear regression on the pointing (``POS_CORR1/2``) and the background
    level (the stamp's mean background estimate), or ``None`` without either.

    A background estimate that is off by a few per cent leaves a residual sky in
    every pixel that follows the scattered light; over the whole stamp it moves
    the flux-weighted centroid and the summed flux as the sky brightens, which
    the straight-line baseline of a transit does not follow through a ramp.
    Coefficients from good out-of-transit cadences only, so the transit itself
    cannot be regressed away; the mean level is kept.
    """
    columns = []
    if stamp.pos_corr is not None:
        columns.append(np.asarray(stamp.pos_corr, dtype=float).reshape(stamp.n_cadences, -1)[:, :2])
    if stamp.background is not None:
        sky = np.asarray(stamp.background, dtype=float)[:, np.isfinite(stamp.flux).any(axis=0)]
        n_sky = np.isfinite(sky).sum(axis=1)
        mean_sky = np.where(n_sky > 0, np.nansum(sky, axis=1) / np.maximum(n_sky, 1), np.nan)
        columns.append(mean_sky[:, None])
    if not columns:
        return None
    regressors = np.column_stack(columns)
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    with np.errstate(invalid="ignore"):
        oot = stamp.good & (np.abs(dt) > geom.base_inner)
    fit = oot & np.isfinite(regressors).all(axis=1) & np.isfinite(series).all(axis=1)
    varying = np.std(regressors[fit], axis=0) > 0 if fit.any() else np.zeros(regressors.shape[1], bool)
    if fit.sum() < 20 or not varying.any():
        return None
    regressors = regressors[:, varying]
    centred = regressors - np.median(regressors[fit], axis=0)
    design = np.column_stack([np.ones(fit.sum()), centred[fit]])
    coef, *_ = np.linalg.lstsq(design, series[fit], rcond=None)
    out = series - np.where(np.isfinite(centred), centred, 0.0) @ coef[1:]
    return out


def _local(stamp: Stamp, ephemeris: Ephemeris, p: Params, series: np.ndarray) -> CentroidMeasurement:
    d = ephemeris.duration_days
    geom = WindowGeometry.from_ephemeris(
        ephemeris, in_fraction=p.in_fraction, gap=p.baseline_gap, width=p.baseline_width
    )
    raw = series
    corrected = _decorrelate(stamp, ephemeris, series, geom) if p.decorrelate else None
    if corrected is not None:
        series = corrected
    ok = stamp.good & np.isfinite(series).all(axis=1)
    order = np.argsort(stamp.time[ok], kind="stable")
    t = stamp.time[ok][order]
    ys = series[ok][order]
    flux0 = np.median(ys[:, 2::3], axis=0)

    windows = transit_windows(
        stamp, ephemeris, in_fraction=p.in_fraction, gap=p.baseline_gap, width=p.baseline_width
    )
    mids = np.array([w.t_mid for w in windows])
    coverage = np.array([w.coverage for w in windows])
    steps = pointing_steps(stamp, p.step_quality_bits)

    lo_clip, hi_clip, clear = step_limits(mids, steps, geom)
    real = local_differences(t, ys, mids, geom, lo_clip=lo_clip, hi_clip=hi_clip)
    stepped = np.flatnonzero(~clear)
    for i in stepped:  # a step inside the transit or its gaps: fit it (a handful of transits at most)
        fitted = _fit_with_steps(t, ys, float(mids[i]), geom, steps)
        if fitted is None:
            real.n_in[i] = 0
        else:
            real.delta[i], real.n_in[i], real.n_before[i], real.n_after[i] = fitted
    dropped = int(sum(real.n_in[i] == 0 for i in stepped))
    modelled = int(stepped.size - dropped)
    usable = (real.n_in > 0) & ((real.n_before > 0) | (real.n_after > 0))
    mids, coverage = mids[usable], coverage[usable]
    delta, n_in = real.delta[usable], real.n_in[usable]
    if mids.size == 0:
        return CentroidMeasurement("local", 0, 0, 0, 0.0, n_dropped=dropped, n_modelled=modelled)

    # empirical null: the same estimator at transit-free times of this sector
    t0 = ephemeris.t0_in(stamp.time_system, stamp.bjd_ref)
    grid = null_mid_times(t, ephemeris, geom, t0, p.null_step * d)
    null_lo, null_hi, null_clear = step_limits(grid, steps, geom)
    grid = grid[null_clear]
    null = local_differences(t, ys, grid, geom, lo_clip=null_lo[null_clear], hi_clip=null_hi[null_clear])
    expected = np.median(n_in / np.maximum(coverage, 1e-9))
    full = (null.n_in >= 0.8 * expected) & (null.n_before >= 3) & (null.n_after >= 3)
    null_delta, null_n = null.delta[full], null.n_in[full]
    n_independent = int(null_delta.shape[0] * p.null_step * d / geom.span)

    # white-noise floor: point-to-point scatter of the series
    sigma1 = mad_std(np.diff(ys, axis=0), axis=0) / math.sqrt(2)
    n_base = float(np.median(real.n_before[usable] + real.n_after[usable]))
    n_ref = float(np.median(null_n)) if null_n.size else float(np.median(n_in))
    white = np.diag(sigma1**2 * (1 / n_ref + 1 / max(n_base, 1.0)))
    cov_single = white
    if n_independent >= p.min_null_windows:
        emp = _robust_cov(null_delta)
        if np.all(np.isfinite(emp)):
            # never below the white-noise variance, per series
            scale = np.sqrt(np.maximum(np.diag(white) / np.diag(emp), 1.0))
            cov_single = emp * np.outer(scale, scale)
    mean = (n_in / n_in.sum()) @ delta
    cov = cov_single * n_ref / n_in.sum()

    in_sel = np.zeros(t.size, bool)
    base_sel = np.zeros(t.size, bool)
    series_out = []
    for m, unstepped in zip(mids, clear[usable], strict=True):  # one entry per transit
        a, b = np.searchsorted(t, [m - geom.base_outer, m + geom.base_outer])
        base_sel[a:b] = True
        i, j = np.searchsorted(t, [m - geom.in_half, m + geom.in_half])
        in_sel[i:j] = True
        step = max(1, (b - a) // 300)
        entry = {"dt_hours": ((t[a:b:step] - m) * 24).tolist(), "row": ys[a:b:step, 0].tolist(),
                 "col": ys[a:b:step, 1].tolist()}  # fmt: skip
        dtw = t[a:b] - m
        fit = np.abs(dtw) >= geom.base_inner
        if unstepped and fit.sum() >= 2 and np.ptp(dtw[fit]) > 0:
            # the straight-line baseline of this transit (row, col), for the figure
            slope, level = np.polyfit(dtw[fit], ys[a:b][fit, :2], 1)
            model = np.outer(t[a:b:step] - m, slope) + level
            entry["row_model"], entry["col_model"] = model[:, 0].tolist(), model[:, 1].tolist()
        series_out.append(entry)
    base_sel &= ~in_sel
    c_out = np.median(ys[base_sel], axis=0)

    def shift(k: int) -> Shift:
        s = slice(3 * k, 3 * k + 2)
        return Shift(
            shift=mean[s], covariance=cov[s, s], c_out=c_out[s],
            depth=float(-mean[3 * k + 2] / flux0[k]),
            depth_err=float(math.sqrt(cov[3 * k + 2, 3 * k + 2]) / flux0[k]), flux=float(flux0[k]),
        )  # fmt: skip

    gain = None
    if corrected is not None:
        gain = _snr_gain(stamp, ephemeris, raw[:, 2], series[:, 2], geom)
    return CentroidMeasurement(
        "local", int(mids.size), int(n_in.sum()), int(base_sel.sum()), float(coverage.sum()),
        n_null=n_independent, n_dropped=dropped, n_modelled=modelled,
        centroid=shift(0), localizer=shift(1), snr_gain=gain, series=series_out,
        in_half_hours=geom.in_half * 24,
    )  # fmt: skip


def _snr_gain(
    stamp: Stamp, ephemeris: Ephemeris, before: np.ndarray, after: np.ndarray, geom: WindowGeometry
) -> float | None:
    """Depth S/N of the summed flux after over before decorrelation (in-transit mean against the
    out-of-transit scatter within the windows)."""
    inside = in_transit_mask(stamp, ephemeris, 2.0 * geom.in_half / ephemeris.duration_days)
    dt, _ = time_from_mid_transit(stamp, ephemeris)
    with np.errstate(invalid="ignore"):
        base = stamp.good & (np.abs(dt) >= geom.base_inner) & (np.abs(dt) <= geom.base_outer)
    if inside.sum() < 1 or base.sum() < 5:
        return None

    def snr(y: np.ndarray) -> float:
        noise = float(mad_std(y[base]))
        depth = abs(float(np.median(y[base]) - np.mean(y[inside])))
        return depth * math.sqrt(inside.sum()) / noise if noise > 0 else 0.0

    s0 = snr(before)
    return snr(after) / s0 if s0 > 0 else None


def measure(
    stamp: Stamp, ephemeris: Ephemeris, p: Params, mask: np.ndarray, localizer: np.ndarray
) -> CentroidMeasurement:
    """Measure the shift over ``mask`` (centroid aperture) and over ``localizer`` (source position)."""
    series = np.column_stack(
        [*flux_weighted_centroids(stamp.flux, mask), *flux_weighted_centroids(stamp.flux, localizer)]
    )
    if p.baseline == "global":
        return _global(stamp, ephemeris, series)
    return _local(stamp, ephemeris, p, series)
