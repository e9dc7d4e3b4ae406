"""Check V09: locate the source of the transit in the difference image.

The method is the Data Validation difference-image centroiding of the Kepler
and TESS SPOC pipelines (Bryson et al. 2013, PASP 125, 889; Twicken et al.
2018, PASP 130, 064502):

1. per transit, out-of-transit minus in-transit mean images from local
   baselines on both sides (:mod:`vet_diffimg.diffimage`), combined with
   inverse-variance weights, the noise calibrated on null windows without a
   transit;
2. a PSF model fitted to the out-of-transit image (the star's measured
   position) and to the difference image (the dimming source), with formal,
   null-image and bootstrap covariances (:mod:`vet_diffimg.localize`);
3. offsets of the source from the target's catalogue position (through the
   WCS) and from the fitted out-of-transit position, in arcsec.

Verdict (Bryson et al. 2013, §5, on the two reference positions: the
catalogue position is immune to crowding but carries WCS and PSF-model
errors; the out-of-transit fit shares the PSF model's errors but is pulled by
neighbours): ``fail`` when the source is excluded at ``sigma_threshold`` σ and
beyond ``min_offset_arcsec`` from the catalogue position *and* from the
out-of-transit fit, so neither a WCS error nor an unrelated pull alone can fail
a star; ``pass`` when the source is not excluded from the catalogue position;
``inconclusive`` when only the catalogue offset is significant (WCS error or
a blended out-of-transit fit: no verdict), when the pixel-level signal is too
weak (``min_snr``), or when the fit cannot place the source (failed, at the
stamp edge, negative, or too uncertain).  A ``fail`` also needs the fitted
amplitude itself to reach ``min_snr`` with its most conservative error: the
matched-filter search over the whole stamp finds the highest noise peak when
there is no signal, and a weak fit must never fail a star.  For the same reason
no ``localization`` is returned when the source could not be placed
(:data:`UNPLACED`), so that target-level checks (V25) never combine noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vet_diffimg.diffimage import (
    DifferenceImage,
    WindowSpec,
    build_difference_image,
    cadence_proxy,
    excluded_cadences,
    null_windows,
    pointing_steps,
    usable_cadences,
)
from vet_diffimg.localize import SourceFit, fit_difference, fit_oot, fit_transits, source_errors
from vetcore import CheckResult, Localization, Param, Params, SectorContext, Stamp, Status
from vetcore.errors import ConfigError, DataError
from vetcore.sky import mahalanobis, pixel_frame, pixel_to_offset

__all__ = ["CHECK_ID", "FLAGS", "METHOD", "PARAMS", "UNPLACED", "run"]

CHECK_ID = "V09"
METHOD = "V09 difference-image PSF fit"

PARAMS: tuple[Param, ...] = (
    Param(
        "in_fraction",
        0.8,
        "In-transit cadences lie within in_fraction·D/2 of mid-transit "
        "(D: total duration); below 1 keeps ingress and egress out.",
        unit="D",
    ),
    Param("gap", 0.25, "Gap between the transit edge and each baseline side.", unit="D"),
    Param("baseline_width", 1.5, "Length of the baseline on each side of a transit.", unit="D"),
    Param(
        "baseline",
        "linear",
        "Per-pixel baseline across each transit: 'linear' (a straight line in time "
        "through both sides, evaluated at the in-transit times) or 'mean' (mean of both sides).",
        type="str",
        choices=("linear", "mean"),
    ),
    Param(
        "step_quality_bits",
        32,
        "Quality bits marking pointing steps (32: reaction-wheel desaturation); "
        "each step inside a window gets a level-step term in the baseline. 0 disables.",
        type="int",
    ),
    Param(
        "min_coverage",
        0.5,
        "Minimum fraction of a transit's expected in-transit cadences that must be present and usable.",
    ),
    Param("min_in_cadences", 3, "Minimum usable in-transit cadences per transit.", type="int"),
    Param(
        "min_baseline_cadences", 5, "Minimum usable baseline cadences on EACH side of a transit.", type="int"
    ),
    Param(
        "min_null_epochs",
        5,
        "Minimum null windows (no transit) needed to calibrate the noise "
        "empirically; with fewer, propagated errors are used alone.",
        type="int",
    ),
    Param(
        "oot_fit_radius",
        2.5,
        "Radius of the pixel window of the out-of-transit PSF fit, around the "
        "brightest pixel near the target.",
        unit="px",
    ),
    Param(
        "fit_radius",
        3.0,
        "Radius of the pixel window of the difference-image PSF fit, around the matched-filter peak.",
        unit="px",
    ),
    Param(
        "free_psf_width",
        False,
        "Fit the PSF width in the difference image too (default: held at the "
        "out-of-transit value, more stable at low SNR).",
        type="bool",
    ),
    Param(
        "n_bootstrap", 200, "Bootstrap resamples over transits (used with 3 or more transits).", type="int"
    ),
    Param("seed", 0, "Seed of the bootstrap resampling, for reproducible results.", type="int"),
    Param(
        "min_snr",
        7.0,
        "Minimum SNR of the pixel-level signal (aperture-summed difference or fitted "
        "amplitude, empirical noise) needed to localize it.",
    ),
    Param(
        "sigma_threshold",
        3.0,
        "Offset significance (√(dᵀC⁻¹d), 2-D) at or above which the source is excluded from the target.",
    ),
    Param(
        "min_offset_arcsec",
        2.0,
        "Offsets below this never fail: floor for PSF-model and WCS "
        "systematics (≈0.1 TESS or 0.5 Kepler pixel).",
        unit="arcsec",
    ),
    Param(
        "max_position_sigma_pix",
        1.0,
        "Largest acceptable 1σ position error (major axis); a source placed less precisely is inconclusive.",
        unit="px",
    ),
)

FLAGS: dict[str, str] = {
    "DIFFIMG_NO_TARGET_POSITION": (
        "The target has no RA/Dec, so there is no catalogue position to compare with."
    ),
    "DIFFIMG_NO_TRANSITS": "No transit of the ephemeris falls on usable cadences of this stamp.",
    "DIFFIMG_TOO_FEW_CADENCES": (
        "Every observed transit lacks enough in-transit cadences or baseline cadences on both sides "
        "(see min_coverage, min_in_cadences, min_baseline_cadences)."
    ),
    "DIFFIMG_TRANSITS_DROPPED": (
        "Some observed transits were left out for too few cadences "
        "(n_transits_observed − n_transits_used of them)."
    ),
    "DIFFIMG_NO_NULL_EPOCHS": (
        "Too few transit-free windows to calibrate the noise empirically; uncertainties are "
        "propagated only and may be too small."
    ),
    "DIFFIMG_LOW_SNR": (
        "The difference image holds too little signal to localize its source (aperture sum and fitted "
        "amplitude below min_snr), or the fitted source is too weak (amplitude below min_snr) to claim "
        "it is off target."
    ),
    "DIFFIMG_NEGATIVE_DEPTH": (
        "The pixels do not dim in transit (non-positive aperture sum or fitted amplitude), so there "
        "is no dimming source to localize."
    ),
    "DIFFIMG_TARGET_DEPTH_NONPOSITIVE": "The target's own pixel shows no dimming (informational).",
    "DIFFIMG_FIT_FAILED": (
        "The PSF fit of the out-of-transit or difference image did not converge to a finite position "
        "and covariance."
    ),
    "DIFFIMG_SOURCE_AT_EDGE": (
        "The fitted source lies outside the pixel centres of the stamp: its position is only a bound, "
        "and it may lie off the stamp."
    ),
    "DIFFIMG_POOR_LOCALIZATION": (
        "The source position is too uncertain (error above max_position_sigma_pix) to say whether it "
        "is the target."
    ),
    "DIFFIMG_OFFSETS_DISAGREE": (
        "The source is excluded from the catalogue position but not from the fitted out-of-transit "
        "position (a WCS error, or a blend pulling that fit): no verdict."
    ),
    "DIFFIMG_OFF_TARGET": (
        "The transit source is excluded from the target, from both its catalogue and its fitted "
        "out-of-transit position, at sigma_threshold and beyond min_offset_arcsec."
    ),
}


#: Outcomes where the fitted position is not a localization of the transit source (a noise peak,
#: a brightening, or a bound at the stamp edge): no ``localization`` is returned, so target-level
#: checks never combine them; the fitted position stays in the metrics for diagnosis.
UNPLACED = frozenset({"DIFFIMG_LOW_SNR", "DIFFIMG_NEGATIVE_DEPTH", "DIFFIMG_SOURCE_AT_EDGE"})


def _validate(p: Params) -> None:
    problems = []
    if not 0.0 < p.in_fraction <= 1.0:
        problems.append(f"in_fraction must be in (0, 1], got {p.in_fraction}")
    if p.gap < 0.0 or p.baseline_width <= 0.0:
        problems.append(f"gap must be ≥ 0 and baseline_width > 0, got {p.gap} and {p.baseline_width}")
    if p.min_in_cadences < 1 or p.min_baseline_cadences < 3:
        problems.append("min_in_cadences must be ≥ 1 and min_baseline_cadences ≥ 3")
    if p.oot_fit_radius <= 0.0 or p.fit_radius <= 0.0 or p.max_position_sigma_pix <= 0.0:
        problems.append("oot_fit_radius, fit_radius and max_position_sigma_pix must be positive")
    if problems:
        raise ConfigError("V09: " + "; ".join(problems))


def _image(di: DifferenceImage, values: np.ndarray) -> list[Any]:
    return di.image(values).tolist()


def _fit_dict(stamp: Stamp, source: SourceFit, cov: np.ndarray) -> dict[str, Any]:
    row, col = (float(v) for v in source.position)
    ra, dec = stamp.pixel_to_sky(row, col)
    return {
        "pixel": [row, col],
        "covariance": cov.tolist(),
        "ra": float(ra),
        "dec": float(dec),
        "amplitude": source.fit.amplitude,
        "psf_sigma": source.fit.sigma,
    }


def _pixel_metrics(stamp: Stamp, di: DifferenceImage) -> dict[str, Any]:
    """Depths at the target pixel, of the aperture sum, and the deepest pixel."""
    tr, tc = stamp.target_pixel
    at = np.flatnonzero((di.rows == round(tr)) & (di.cols == round(tc)))
    deepest = int(np.argmax(di.diff))
    d_row, d_col = float(di.rows[deepest] - tr), float(di.cols[deepest] - tc)
    ap_ok = di.ap_oot > 0
    metrics: dict[str, Any] = {
        "target_pixel_depth_ppm": float(1e6 * di.diff[at[0]] / di.oot[at[0]]) if at.size else None,
        "target_pixel_depth_err_ppm": float(1e6 * di.sigma[at[0]] / di.oot[at[0]]) if at.size else None,
        "aperture_sum_ppm": 1e6 * di.ap_diff / di.ap_oot if ap_ok else None,
        "aperture_sum_err_ppm": 1e6 * di.ap_sigma / di.ap_oot if ap_ok else None,
        "diffimage_snr": di.ap_diff / di.ap_sigma,
        # the pixel losing the most flux (e⁻/s), relative to the target's WCS position
        "max_depth_pixel_offset_row": d_row,
        "max_depth_pixel_offset_col": d_col,
        "max_depth_pixel_distance": math.hypot(d_row, d_col),
        "noise_ratio_empirical_to_propagated": float(np.median(di.noise_ratio)),
        "aperture_noise_ratio_empirical_to_propagated": di.ap_noise_ratio,
    }
    return metrics


def _epoch_localizations(
    stamp: Stamp, source: SourceFit, di: DifferenceImage, scale: float
) -> list[Localization]:
    """Per-transit localizations (two or more transits).

    Each transit's formal covariance is scaled by ``scale``, the factor by which
    the empirical (null, bootstrap) checks enlarged the combined fit's, so that
    the transit-to-transit scatter the bootstrap saw is not read as
    inconsistency downstream.
    """
    if len(di.transits) < 2:
        return []
    out = []
    for window, fit in zip(di.transits, fit_transits(source, di), strict=True):
        row, col = (float(v) for v in fit.position)
        if not fit.success or not _inside(di, row, col):
            continue
        out.append(
            Localization.from_pixel(
                stamp,
                row,
                col,
                fit.position_covariance * scale,
                method=METHOD,
                label=f"{stamp.label} E{window.epoch}",
            )
        )
    return out


def _inside(di: DifferenceImage, row: float, col: float) -> bool:
    return bool(di.rows.min() <= row <= di.rows.max() and di.cols.min() <= col <= di.cols.max())


def run(ctx: SectorContext) -> CheckResult:
    """Run V09 on one stamp (see the module docstring)."""
    stamp, ephemeris, p = ctx.stamp, ctx.ephemeris, ctx.params
    _validate(p)
    if not stamp.target.has_position:
        return CheckResult(
            status=Status.SKIPPED,
            flags=("DIFFIMG_NO_TARGET_POSITION",),
            message="skipped: the target has no RA/Dec",
        )
    spec = WindowSpec(
        in_fraction=p.in_fraction,
        gap=p.gap,
        width=p.baseline_width,
        min_coverage=p.min_coverage,
        min_in=p.min_in_cadences,
        min_side=p.min_baseline_cadences,
    )
    usable, valid = usable_cadences(stamp)
    proxy = cadence_proxy(stamp, usable)
    windows = spec.windows(proxy, ephemeris)
    used = [w for w in windows if spec.usable(w)]
    metrics: dict[str, Any] = {
        "n_transits_observed": len(windows),
        "n_transits_used": len(used),
        "n_cadences_excluded": excluded_cadences(stamp, ephemeris, spec, usable),
    }
    if not windows:
        return CheckResult(
            status=Status.INCONCLUSIVE,
            flags=("DIFFIMG_NO_TRANSITS",),
            metrics=metrics,
            message="no transit falls on usable cadences of this stamp",
        )
    if not used:
        return CheckResult(
            status=Status.INCONCLUSIVE,
            flags=("DIFFIMG_TOO_FEW_CADENCES",),
            metrics=metrics,
            message=f"none of the {len(windows)} observed transit(s) has enough cadences",
        )
    aperture = stamp.aperture_mask[valid]
    if not aperture.any():
        raise DataError(stamp.source or stamp.label, "no valid pixel inside the aperture")
    flags: list[str] = []
    if len(used) < len(windows):
        flags.append("DIFFIMG_TRANSITS_DROPPED")
    nulls = null_windows(proxy, ephemeris, spec)
    if len(nulls) < p.min_null_epochs:
        flags.append("DIFFIMG_NO_NULL_EPOCHS")
    di = build_difference_image(
        stamp,
        valid,
        aperture,
        used,
        nulls,
        baseline=p.baseline,
        steps=pointing_steps(stamp, p.step_quality_bits),
        min_side=p.min_baseline_cadences,
        min_null=p.min_null_epochs,
    )
    metrics.update(
        {
            "n_in_transit_cadences": int(di.per_transit.n_in.sum()),
            "n_out_of_transit_cadences": int(di.per_transit.n_base.sum()),
            "n_pointing_steps_modelled": int(di.per_transit.n_steps.sum()),
            "n_null_epochs": di.n_null,
        }
    )
    metrics.update(_pixel_metrics(stamp, di))
    if metrics["target_pixel_depth_ppm"] is not None and metrics["target_pixel_depth_ppm"] <= 0:
        flags.append("DIFFIMG_TARGET_DEPTH_NONPOSITIVE")
    frame = pixel_frame(stamp)
    plot_data: dict[str, Any] = {
        "frame": frame,
        "oot_image": _image(di, di.oot),
        "diff_image": _image(di, di.diff),
        "snr_image": _image(di, di.diff / di.sigma),
    }

    def verdict(
        status: Status,
        *codes: str,
        message: str,
        localization: Localization | None = None,
    ) -> CheckResult:
        return CheckResult(
            status=status,
            flags=(*flags, *codes),
            metrics=metrics,
            localization=localization,
            plot_data=plot_data,
            message=message,
        )

    oot = fit_oot(di, stamp.target_pixel, radius=p.oot_fit_radius)
    if not oot.fit.success:
        return verdict(
            Status.INCONCLUSIVE,
            "DIFFIMG_FIT_FAILED",
            message=f"the out-of-transit PSF fit failed ({oot.fit.message})",
        )
    source, mf_snr = fit_difference(di, oot.fit.sigma, radius=p.fit_radius, free_width=p.free_psf_width)
    oot_east, oot_north = pixel_to_offset(stamp, *oot.position)
    metrics.update(
        {
            "psf_sigma_pixels": oot.fit.sigma,
            "oot_fit_reduced_chi2": oot.fit.reduced_chi2,
            "oot_row": float(oot.position[0]),
            "oot_col": float(oot.position[1]),
            "oot_offset_from_target_arcsec": math.hypot(float(oot_east), float(oot_north)),
            "matched_filter_snr": mf_snr,
        }
    )
    plot_data["oot_fit"] = _fit_dict(stamp, oot, oot.fit.position_covariance)
    if not source.fit.success:
        low = [] if metrics["diffimage_snr"] >= p.min_snr else ["DIFFIMG_LOW_SNR"]
        return verdict(
            Status.INCONCLUSIVE,
            "DIFFIMG_FIT_FAILED",
            *low,
            message=f"the difference-image PSF fit failed ({source.fit.message})",
        )

    errors = source_errors(source, di, p.n_bootstrap, np.random.default_rng(p.seed))
    fit_snr = source.fit.amplitude / errors.amplitude_sigma
    snr_ok = max(metrics["diffimage_snr"], fit_snr) >= p.min_snr
    scale = max([1.0, *errors.ratios.values()])
    epochs = _epoch_localizations(stamp, source, di, scale) if snr_ok else []
    row, col = (float(v) for v in source.position)
    loc = Localization.from_pixel(
        stamp, row, col, errors.position_covariance, method=METHOD, label=stamp.label, epochs=epochs
    )
    _, jac = pixel_to_offset(stamp, row, col, with_jacobian=True)
    d_oot = jac @ (source.position - oot.position)
    cov_oot = jac @ (errors.position_covariance + oot.fit.position_covariance) @ jac.T
    metrics.update(
        {
            "fit_amplitude_snr": fit_snr,
            "fit_reduced_chi2": source.fit.reduced_chi2,
            "source_row": row,
            "source_col": col,
            "source_ra": loc.ra,
            "source_dec": loc.dec,
            "source_offset_east_arcsec": float(loc.offset_arcsec[0]),
            "source_offset_north_arcsec": float(loc.offset_arcsec[1]),
            "source_offset_arcsec": loc.distance_arcsec,
            "source_offset_sigma": loc.offset_sigma,
            "source_position_sigma_arcsec": loc.sigma_arcsec,
            "offset_from_oot_arcsec": float(np.hypot(*d_oot)),
            "offset_from_oot_sigma": mahalanobis(d_oot, cov_oot),
            "fit_error_scale_null": _sqrt_or_none(errors.ratios.get("null")),
            "fit_error_scale_bootstrap": _sqrt_or_none(errors.ratios.get("bootstrap")),
            "covariance_source": errors.source,
            "n_epoch_localizations": len(epochs),
        }
    )
    plot_data["source"] = {
        **_fit_dict(stamp, source, errors.position_covariance),
        "offset_arcsec": loc.offset_arcsec.tolist(),
        "covariance_arcsec2": loc.covariance_arcsec2.tolist(),
        "offset_from_oot_arcsec": d_oot.tolist(),
        "offset_from_oot_covariance_arcsec2": cov_oot.tolist(),
    }
    plot_data["epochs"] = [
        {
            "label": e.label,
            "pixel": list(e.pixel or ()),
            "covariance": np.asarray(e.pixel_covariance).tolist(),
        }
        for e in epochs
    ]
    major = math.sqrt(float(np.linalg.eigvalsh(errors.position_covariance).max()))
    status, codes, message = _decide(metrics, p, inside=_inside(di, row, col), position_sigma=major)
    placed = not UNPLACED.intersection(codes)
    plot_data["source"]["placed"] = placed
    return verdict(status, *codes, localization=loc if placed else None, message=message)


def _sqrt_or_none(value: float | None) -> float | None:
    return None if value is None else math.sqrt(value)


def _decide(
    m: dict[str, Any], p: Params, *, inside: bool, position_sigma: float
) -> tuple[Status, tuple[str, ...], str]:
    """Status, flags and message of a located source (see the module docstring)."""
    snr = f"aperture SNR {m['diffimage_snr']:.1f}, fit SNR {m['fit_amplitude_snr']:.1f}"
    where = (
        f"source {m['source_offset_arcsec']:.1f}″ from the target ({m['source_offset_sigma']:.1f}σ) and "
        f"{m['offset_from_oot_arcsec']:.1f}″ from the out-of-transit centroid "
        f"({m['offset_from_oot_sigma']:.1f}σ); {snr}"
    )
    strongest = max(m["diffimage_snr"], m["fit_amplitude_snr"])
    if strongest < p.min_snr:
        codes = ("DIFFIMG_LOW_SNR",) + (("DIFFIMG_NEGATIVE_DEPTH",) if strongest <= 0 else ())
        return Status.INCONCLUSIVE, codes, f"signal too weak in the pixels to localize: {snr}"
    if min(m["diffimage_snr"], m["fit_amplitude_snr"]) <= 0:
        return Status.INCONCLUSIVE, ("DIFFIMG_NEGATIVE_DEPTH",), f"no dimming in the pixels: {where}"
    if not inside:
        return (
            Status.INCONCLUSIVE,
            ("DIFFIMG_SOURCE_AT_EDGE",),
            f"fitted source at the stamp edge ({m['source_row']:.2f}, {m['source_col']:.2f}): {where}",
        )
    if position_sigma > p.max_position_sigma_pix:
        return (
            Status.INCONCLUSIVE,
            ("DIFFIMG_POOR_LOCALIZATION",),
            f"source position uncertain by {position_sigma:.2f} px: {where}",
        )
    off_catalogue = (
        m["source_offset_sigma"] >= p.sigma_threshold and m["source_offset_arcsec"] >= p.min_offset_arcsec
    )
    if not off_catalogue:
        return Status.PASS, (), f"consistent with the target: {where}"
    if m["fit_amplitude_snr"] < p.min_snr:
        return (
            Status.INCONCLUSIVE,
            ("DIFFIMG_LOW_SNR",),
            f"fitted source too weak to claim an offset: {where}",
        )
    off_oot = (
        m["offset_from_oot_sigma"] >= p.sigma_threshold and m["offset_from_oot_arcsec"] >= p.min_offset_arcsec
    )
    if off_oot:
        return Status.FAIL, ("DIFFIMG_OFF_TARGET",), f"off target: {where}"
    return (
        Status.INCONCLUSIVE,
        ("DIFFIMG_OFFSETS_DISAGREE",),
        f"excluded from the catalogue position but not from the out-of-transit centroid: {where}",
    )
