"""Check V08: does the flux-weighted centroid move during transit, and where does that put the source?

Method (Bryson et al. 2013, PASP 125, 889, §3 "centroid motion"):

1. flux-weighted centroids of every cadence over the pipeline aperture
   (:mod:`vet_centroid.centroids`);
2. per transit, the in-transit mean minus a straight line fitted to local
   baseline windows on both sides (:mod:`vet_centroid.local`), combined over
   transits with weights ∝ in-transit cadences; windows that contain a
   momentum dump (quality bit 32) are left out and counted;
3. the uncertainty from the scatter of the same estimator at transit-free
   epochs of the same sector (empirical null), never smaller than the white-noise
   estimate from the per-cadence scatter;
4. the implied source position x_s = c_out − Δc (1 − δ)/δ, with c_out the
   out-of-transit centroid and δ the fractional depth, propagated to the sky
   through the WCS with its covariance and compared with the target's catalogue
   position.  By default x_s comes from the centroid over every valid pixel: over
   the aperture alone, only the part of a neighbour's light inside it moves the
   centroid, which pulls x_s towards the aperture centre (Bryson et al. 2013, §3).

``baseline = "global"`` reproduces the usual single-baseline measurement for
comparison: whole stamp, in transit |Δt| ≤ D/2, out of transit |Δt| > D over the
whole sector, medians of 3σ-clipped centroids.  It has no detrending.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vet_centroid.centroids import flux_weighted_centroids
from vet_centroid.local import WindowGeometry, local_differences
from vetcore import CheckResult, Localization, Param, SectorContext, Stamp, Status
from vetcore.sky import mahalanobis, pixel_frame, pixel_to_offset
from vetcore.transits import time_from_mid_transit, transit_windows

__all__ = ["CHECK_ID", "FLAGS", "METHOD", "PARAMS", "run"]

CHECK_ID = "V08"
METHOD = "V08 centroid shift (Bryson et al. 2013)"
MOMENTUM_DUMP_BIT = 32  # TESS and Kepler: reaction-wheel desaturation

PARAMS = (
    Param("baseline", "local", "'local': per-transit linear baseline from windows on both sides; 'global': "
          "the single sector-wide baseline of the usual quick-look measurement (no detrending)",
          type="str", choices=("local", "global")),
    Param("aperture", "pipeline", "pixels for the centroid: the stamp's aperture or every valid pixel",
          type="str", choices=("pipeline", "stamp")),
    Param("localize_with", "stamp", "pixels whose centroid gives the source position: every valid pixel "
          "(unbiased for sources near the aperture edge) or the centroid aperture", type="str",
          choices=("stamp", "aperture")),
    Param("in_fraction", 0.8, "in-transit cadences: |Δt| ≤ in_fraction·D/2 (local baseline)",
          unit="durations"),
    Param("baseline_gap", 0.25, "gap between transit edge and baseline window", unit="durations"),
    Param("baseline_width", 1.5, "width of each local baseline window", unit="durations"),
    Param("drop_momentum_dumps", True, "treat momentum dumps (quality bit 32) as pointing steps: cut "
          "baselines there, or fit the step when it falls within a transit", type="bool"),
    Param("null_step", 0.5, "spacing of the transit-free windows that calibrate the errors",
          unit="durations"),
    Param("sigma_threshold", 3.0, "fail when both the centroid shift and the source's offset from the target "
          "reach this significance", unit="sigma"),
    Param("min_offset_arcsec", 1.0, "and the source offset exceeds this floor (systematics of centroids)",
          unit="arcsec"),
    Param("min_depth_snr", 3.0, "the aperture depth must reach this S/N to turn a shift into a position"),
    Param("min_coverage", 0.75, "in-transit coverage needed, summed over transits", unit="transits"),
    Param("min_in_transit", 5, "in-transit cadences needed", type="int"),
    Param("max_error_pixels", 0.0, "inconclusive when the source position's 1σ error exceeds this "
          "(0: the stamp's larger side)", unit="pixels"),
)  # fmt: skip

FLAGS = {
    "NO_TRANSIT_DATA": "no transit with usable in-transit and baseline cadences in this sector",
    "PARTIAL_COVERAGE": "less than min_coverage of a transit observed; too little data for a verdict",
    "MOMENTUM_DUMP_MODELLED": "a momentum dump falls within or next to a transit; its pointing step was "
    "fitted together with the baseline",
    "MOMENTUM_DUMP_WINDOWS_DROPPED": "a transit with a momentum dump was left out: too few baseline cadences "
    "between dumps to fit the step",
    "DEPTH_NOT_DETECTED": "the transit is not detected in the aperture flux (depth S/N < min_depth_snr), "
    "so the shift cannot be turned into a source position",
    "SOURCE_UNCONSTRAINED": "the implied source position is uncertain by more than the stamp; "
    "no localization",
    "FEW_NULL_WINDOWS": "fewer than 5 independent transit-free windows: errors from the white-noise estimate",
    "SOURCE_OFFSET": "a significant centroid shift places the transit source away from the target",
    "REFERENCE_OFFSET": "the out-of-transit centroid itself is off the catalogue position (crowding, "
    "pointing or WCS); without a significant shift this is not evidence against the target",
    "GLOBAL_BASELINE": "measured with the sector-wide baseline (no detrending); for comparison only",
    "APERTURE_EMPTY": "the stamp has no aperture; the whole stamp was used",
}


def _robust_cov(samples: np.ndarray) -> np.ndarray:
    """Covariance after 5σ clipping around the median (MAD scale)."""
    centre = np.median(samples, axis=0)
    scale = 1.4826 * np.median(np.abs(samples - centre), axis=0)
    scale = np.where(scale > 0, scale, np.inf)
    keep = np.all(np.abs(samples - centre) <= 5 * scale, axis=1)
    return (
        np.atleast_2d(np.cov(samples[keep].T)) if keep.sum() > 2 else np.full((samples.shape[1],) * 2, np.nan)
    )


def _mask(stamp: Stamp, which: str) -> tuple[np.ndarray, list[str]]:
    valid = stamp.valid_pixels
    if which == "stamp":
        return valid, []
    mask = stamp.aperture_mask & valid
    return (mask, []) if mask.any() else (valid, ["APERTURE_EMPTY"])


def _clipped_median(values: np.ndarray, sigma: float = 3.0, iters: int = 5) -> tuple[float, float, int]:
    """Median, its standard error (1.2533 σ/√n) and count after iterative σ-clipping."""
    keep = np.isfinite(values)
    for _ in range(iters):
        x = values[keep]
        new = keep & (np.abs(values - np.median(x)) <= sigma * np.std(x))
        if (new == keep).all():
            break
        keep = new
    x = values[keep]
    return float(np.median(x)), float(1.2533 * np.std(x) / math.sqrt(x.size)), int(x.size)


def _fit_with_steps(
    t: np.ndarray, ys: np.ndarray, mid: float, geom: WindowGeometry, dumps: np.ndarray
) -> tuple[np.ndarray, int, int, int] | None:
    """In-transit mean residual from a line plus one step per momentum dump in the window.

    Least squares on the baseline cadences of the window; ``None`` when a segment
    between dumps has no baseline cadence to anchor its step.
    """
    a, b = np.searchsorted(t, [mid - geom.base_outer, mid + geom.base_outer])
    tw, yw = t[a:b], ys[a:b]
    dt = tw - mid
    inside = np.abs(dt) <= geom.in_half
    base = np.abs(dt) >= geom.base_inner
    steps = dumps[(dumps > tw[0]) & (dumps < tw[-1])] if tw.size else dumps[:0]
    design = np.column_stack([np.ones(tw.size), dt, *[(tw > d).astype(float) for d in steps]])
    segment = np.searchsorted(steps, tw)
    if not inside.any() or any(not base[segment == k].any() for k in np.unique(segment[inside])):
        return None
    coef, *_ = np.linalg.lstsq(design[base], yw[base], rcond=None)
    delta = (yw[inside] - design[inside] @ coef).mean(axis=0)
    return delta, int(inside.sum()), int((base & (dt < 0)).sum()), int((base & (dt > 0)).sum())


def _measure_global(stamp: Stamp, ctx: SectorContext, centroid: tuple[np.ndarray, ...]) -> dict[str, Any]:
    dt, _ = time_from_mid_transit(stamp, ctx.ephemeris)
    d = ctx.ephemeris.duration_days
    ok = stamp.good & np.isfinite(centroid[0]) & np.isfinite(centroid[1])
    with np.errstate(invalid="ignore"):
        sel_in, sel_out = ok & (np.abs(dt) <= 0.5 * d), ok & (np.abs(dt) > 1.0 * d)
    if sel_in.sum() < 2 or sel_out.sum() < 2:
        return {"n_in": int(sel_in.sum()), "n_out": int(sel_out.sum()), "n_transits": 0}

    def estimate(row: np.ndarray, col: np.ndarray, total: np.ndarray) -> dict[str, Any]:
        stats = [(_clipped_median(x[sel_in]), _clipped_median(x[sel_out])) for x in (row, col, total)]
        f_in, f_out = stats[2]
        return {
            "shift": np.array([stats[0][0][0] - stats[0][1][0], stats[1][0][0] - stats[1][1][0]]),
            "cov": np.diag([stats[i][0][1] ** 2 + stats[i][1][1] ** 2 for i in (0, 1)]),
            "depth": 1.0 - f_in[0] / f_out[0],
            "depth_err": math.hypot(f_in[1], f_out[1]) / f_out[0],
            "c_out": np.array([stats[0][1][0], stats[1][1][0]]),
        }

    n_tr = len(np.unique(np.rint((stamp.time[sel_in] - stamp.time[sel_in][0]) / ctx.ephemeris.period)))
    return {
        **estimate(*centroid[:3]), "loc": estimate(*centroid[3:]), "n_in": int(sel_in.sum()),
        "n_out": int(sel_out.sum()), "n_transits": n_tr, "coverage": float(n_tr), "n_null": 0, "dropped": 0,
        "series": [],
    }  # fmt: skip


def _measure_local(stamp: Stamp, ctx: SectorContext, centroid: tuple[np.ndarray, ...]) -> dict[str, Any]:
    p, eph = ctx.params, ctx.ephemeris
    d = eph.duration_days
    geom = WindowGeometry(
        in_half=p.in_fraction * d / 2,
        base_inner=d / 2 + p.baseline_gap * d,
        base_outer=d / 2 + (p.baseline_gap + p.baseline_width) * d,
    )
    all_series = np.column_stack(centroid)
    ok = stamp.good & np.isfinite(all_series).all(axis=1)
    order = np.argsort(stamp.time[ok], kind="stable")
    t = stamp.time[ok][order]
    ys = all_series[ok][order]
    flux0 = np.median(ys[:, 2::3], axis=0)

    windows = transit_windows(
        stamp, eph, in_fraction=p.in_fraction, gap=p.baseline_gap, width=p.baseline_width
    )
    mids = np.array([w.t_mid for w in windows])
    coverage = np.array([w.coverage for w in windows])
    dumps = np.array([], dtype=float)
    if p.drop_momentum_dumps and stamp.quality is not None:
        dumps = np.sort(stamp.time[(np.asarray(stamp.quality, dtype=np.int64) & MOMENTUM_DUMP_BIT) > 0])

    def clip(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Baseline limits at the nearest dumps on each side; windows with a dump inside the
        transit or its gaps are not usable."""
        if dumps.size == 0 or m.size == 0:
            return np.full(m.size, -np.inf), np.full(m.size, np.inf), np.ones(m.size, bool)
        i = np.searchsorted(dumps, m)
        before = np.where(i > 0, dumps[np.maximum(i - 1, 0)], -np.inf)
        after = np.where(i < dumps.size, dumps[np.minimum(i, dumps.size - 1)], np.inf)
        ok = (m - before > geom.base_inner) & (after - m > geom.base_inner)
        return before, after, ok

    lo_clip, hi_clip, keep = clip(mids)
    real = local_differences(t, ys, mids, geom, lo_clip=lo_clip, hi_clip=hi_clip)
    stepped = np.flatnonzero(~keep)
    for i in stepped:  # a dump inside or next to the transit: fit the step
        fitted = _fit_with_steps(t, ys, float(mids[i]), geom, dumps)
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
        return {"n_in": 0, "n_out": 0, "n_transits": 0, "dropped": dropped, "modelled": modelled}

    # empirical null: the same estimator at transit-free times of this sector
    t0 = eph.t0_in(stamp.time_system, stamp.bjd_ref)
    grid = np.arange(t[0] + geom.base_outer, t[-1] - geom.base_outer, p.null_step * d)
    phase = (grid - t0 + eph.period / 2) % eph.period - eph.period / 2
    null_lo, null_hi, null_ok = clip(grid)
    sel = (np.abs(phase) > geom.base_outer + d / 2) & null_ok
    null = local_differences(t, ys, grid[sel], geom, lo_clip=null_lo[sel], hi_clip=null_hi[sel])
    expected = np.median(n_in / np.maximum(coverage, 1e-9))
    full = (null.n_in >= 0.8 * expected) & (null.n_before >= 3) & (null.n_after >= 3)
    null_delta, null_n = null.delta[full], null.n_in[full]
    n_independent = int(null_delta.shape[0] * p.null_step * d / (2 * geom.base_outer))

    # white-noise floor: point-to-point scatter of the series
    sigma1 = 1.4826 * np.median(np.abs(np.diff(ys, axis=0)), axis=0) / math.sqrt(2)
    n_base = float(np.median(real.n_before[usable] + real.n_after[usable]))
    n_ref = float(np.median(null_n)) if null_n.size else float(np.median(n_in))
    white = np.diag(sigma1**2 * (1 / n_ref + 1 / max(n_base, 1.0)))
    cov_single = white
    if n_independent >= 5:
        emp = _robust_cov(null_delta)
        if np.all(np.isfinite(emp)):
            cov_single = emp.copy()
            for j in range(ys.shape[1]):  # never below the white-noise variance
                if cov_single[j, j] < white[j, j]:
                    scale = math.sqrt(white[j, j] / cov_single[j, j])
                    cov_single[j, :] *= scale
                    cov_single[:, j] *= scale
    weights = n_in / n_in.sum()
    mean = weights @ delta
    cov = cov_single * n_ref / n_in.sum()

    base_sel = np.zeros(t.size, bool)
    for m in mids:
        a, b = np.searchsorted(t, [m - geom.base_outer, m + geom.base_outer])
        base_sel[a:b] = True
    in_sel = np.zeros(t.size, bool)
    for m in mids:
        a, b = np.searchsorted(t, [m - geom.in_half, m + geom.in_half])
        in_sel[a:b] = True
    base_sel &= ~in_sel
    c_out = np.median(ys[base_sel], axis=0)
    series = []
    for m in mids:
        a, b = np.searchsorted(t, [m - geom.base_outer, m + geom.base_outer])
        step = max(1, (b - a) // 300)
        series.append(
            {"dt_hours": ((t[a:b:step] - m) * 24).tolist(), "row": ys[a:b:step, 0].tolist(),
             "col": ys[a:b:step, 1].tolist()}
        )  # fmt: skip
    return {
        "shift": mean[:2], "cov": cov[:2, :2], "depth": -mean[2] / flux0[0],
        "depth_err": math.sqrt(cov[2, 2]) / flux0[0], "loc": {
            "shift": mean[3:5], "cov": cov[3:5, 3:5], "depth": -mean[5] / flux0[1],
            "depth_err": math.sqrt(cov[5, 5]) / flux0[1], "c_out": c_out[3:5]},
        "n_in": int(n_in.sum()), "n_out": int(base_sel.sum()), "n_transits": int(mids.size),
        "coverage": float(coverage.sum()), "c_out": c_out[:2], "n_null": int(n_independent),
        "dropped": dropped,
        "series": series, "in_half_hours": geom.in_half * 24, "base_outer_hours": geom.base_outer * 24,
        "modelled": modelled,
    }  # fmt: skip


def run(ctx: SectorContext) -> CheckResult:
    stamp, p = ctx.stamp, ctx.params
    flags: list[str] = []
    is_global = p.baseline == "global"
    mask, mask_flags = _mask(stamp, "stamp" if is_global else p.aperture)
    flags += mask_flags
    full = stamp.valid_pixels if p.localize_with == "stamp" else mask
    centroid = (*flux_weighted_centroids(stamp.flux, mask), *flux_weighted_centroids(stamp.flux, full))
    m = _measure_global(stamp, ctx, centroid) if is_global else _measure_local(stamp, ctx, centroid)
    if is_global:
        flags.append("GLOBAL_BASELINE")
    if m.get("dropped"):
        flags.append("MOMENTUM_DUMP_WINDOWS_DROPPED")
    if m.get("modelled"):
        flags.append("MOMENTUM_DUMP_MODELLED")
    metrics: dict[str, Any] = {
        "n_transits": m["n_transits"],
        "n_in_transit_cadences": m["n_in"],
        "n_out_of_transit_cadences": m["n_out"],
        "n_transits_dropped": m.get("dropped", 0),
    }
    if m["n_transits"] == 0 or "shift" not in m:
        return CheckResult(
            Status.INCONCLUSIVE, [*flags, "NO_TRANSIT_DATA"], metrics, message=FLAGS["NO_TRANSIT_DATA"]
        )

    shift, cov = np.asarray(m["shift"]), np.asarray(m["cov"])
    size = float(np.hypot(*shift))
    unit = shift / size if size > 0 else np.array([1.0, 0.0])
    sigma = mahalanobis(shift, cov)
    c_out = m["c_out"]
    (_, _), jac = pixel_to_offset(stamp, float(c_out[0]), float(c_out[1]), with_jacobian=True)
    shift_sky = jac @ shift
    depth, depth_err = float(m["depth"]), float(m["depth_err"])
    depth_snr = depth / depth_err if depth_err > 0 else 0.0
    metrics.update(
        centroid_shift_pixels=size,
        shift_uncertainty_pixels=float(math.sqrt(unit @ cov @ unit)),
        significance_sigma=sigma,
        centroid_shift_arcsec=float(np.hypot(*shift_sky)),
        shift_row_pixels=float(shift[0]),
        shift_col_pixels=float(shift[1]),
        shift_ra_arcsec=float(shift_sky[0]),
        shift_dec_arcsec=float(shift_sky[1]),
        depth_ppm=depth * 1e6,
        depth_snr=depth_snr,
        oot_centroid_row=float(c_out[0]),
        oot_centroid_col=float(c_out[1]),
        n_null_windows=m["n_null"],
        pixel_scale_arcsec=stamp.pixel_scale_arcsec,
    )
    if not is_global and m["n_null"] < 5:
        flags.append("FEW_NULL_WINDOWS")
    plot_data: dict[str, Any] = {
        "frame": pixel_frame(stamp),
        "image": np.nanmedian(stamp.flux[stamp.good], axis=0).tolist(),
        "oot_centroid": c_out.tolist(),
        "shift": shift.tolist(),
        "shift_covariance": cov.tolist(),
        "series": m.get("series", []),
        "in_half_hours": m.get("in_half_hours"),
    }

    if m["coverage"] < p.min_coverage or m["n_in"] < p.min_in_transit:
        flags.append("PARTIAL_COVERAGE")
        return CheckResult(
            Status.INCONCLUSIVE, flags, metrics, plot_data=plot_data, message=FLAGS["PARTIAL_COVERAGE"]
        )
    if depth_snr < p.min_depth_snr:
        flags.append("DEPTH_NOT_DETECTED")
        return CheckResult(
            Status.INCONCLUSIVE, flags, metrics, plot_data=plot_data,
            message=f"centroid shift {size:.4f} px ({sigma:.1f}σ); {FLAGS['DEPTH_NOT_DETECTED']}",
        )  # fmt: skip

    # Bryson et al. 2013: x_s = c_out − Δc (1 − δ)/δ, from the localization pixels
    lm = m["loc"]
    l_shift, l_depth, l_depth_err = np.asarray(lm["shift"]), float(lm["depth"]), float(lm["depth_err"])
    if l_depth <= 0:
        l_shift, l_depth, l_depth_err, lm = shift, depth, depth_err, {"c_out": c_out, "cov": cov}
    k = (1.0 - l_depth) / l_depth
    src = (float(lm["c_out"][0] - k * l_shift[0]), float(lm["c_out"][1] - k * l_shift[1]))
    cov_source = k**2 * np.asarray(lm["cov"]) + np.outer(l_shift, l_shift) * l_depth_err**2 / l_depth**4
    loc = Localization.from_pixel(stamp, src[0], src[1], cov_source, METHOD, label=stamp.label)
    err_pix = float(np.sqrt(np.max(np.linalg.eigvalsh(cov_source))))
    metrics.update(
        source_offset_arcsec=loc.distance_arcsec,
        source_offset_sigma=loc.offset_sigma,
        source_offset_error_arcsec=err_pix * stamp.pixel_scale_arcsec,
        source_ra_offset_arcsec=float(loc.offset_arcsec[0]),
        source_dec_offset_arcsec=float(loc.offset_arcsec[1]),
    )
    plot_data.update(source_pixel=list(src), source_covariance=cov_source.tolist())
    limit = p.max_error_pixels or float(max(stamp.shape))
    if err_pix > limit:
        flags.append("SOURCE_UNCONSTRAINED")
        return CheckResult(
            Status.INCONCLUSIVE, flags, metrics, plot_data=plot_data,
            message=f"source position uncertain by {err_pix:.1f} px (> {limit:g} px)",
        )  # fmt: skip
    excluded = loc.offset_sigma >= p.sigma_threshold and loc.distance_arcsec >= p.min_offset_arcsec
    if excluded and sigma >= p.sigma_threshold:
        flags.append("SOURCE_OFFSET")
        status = Status.FAIL
        message = (
            f"source {loc.distance_arcsec:.1f}″ from the target ({loc.offset_sigma:.1f}σ): "
            f"centroid shift {size:.4f} px ({sigma:.1f}σ) at depth {depth * 1e6:.0f} ppm"
        )
    else:
        if excluded:
            flags.append("REFERENCE_OFFSET")
        status = Status.PASS
        message = (
            f"consistent with the target: centroid shift {size:.4f} px ({sigma:.1f}σ), source offset "
            f"{loc.distance_arcsec:.1f}″ ± {metrics['source_offset_error_arcsec']:.1f}″"
        )
    return CheckResult(status, flags, metrics, localization=loc, plot_data=plot_data, message=message)
