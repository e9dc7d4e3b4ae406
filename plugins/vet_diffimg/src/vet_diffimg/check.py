"""Check V09: locate the source of the transit in the difference image.

The method is the Data Validation difference-image centroiding of the Kepler
and TESS SPOC pipelines (Bryson et al. 2013, PASP 125, 889; Twicken et al.
2018, PASP 130, 064502), in three steps:

measure (:func:`measure`)
    per transit, out-of-transit minus in-transit images from local baselines on
    both sides (:mod:`vet_diffimg.diffimage`), stacked over all transits with
    inverse-variance weights, the noise calibrated on null windows without a
    transit; a PSF model fitted to the out-of-transit image (the star's
    measured position and the PSF shape) and, with the same shape, to the
    difference image at the strongest signal anywhere in the stamp (the
    dimming source), with formal, null-image and bootstrap covariances inflated
    by the fit quality (:mod:`vet_diffimg.localize`);
decide (:func:`decide`)
    :func:`vetcore.verdicts.localization_verdict` on the offset from the
    target's catalogue position: ``fail`` (off target) only when the source is
    also excluded from the fitted out-of-transit position (so neither a WCS
    error nor a blend pulling that fit alone can fail a star) and its fitted
    amplitude reaches ``min_snr``; ``pass`` (on target) only when consistent
    with the target, the 3σ confusion radius is at most
    ``max_confusion_radius_pixels`` *and*, with a neighbour list
    (``Target.neighbours``), no listed star that could produce the depth lies
    within that radius or is a likely host (:func:`vetcore.hosts.sector_rivals`,
    the rule V25 applies to the combined position); ``inconclusive`` otherwise, saying what
    cannot be excluded;
assemble (:func:`assemble`)
    metrics (with ``confusion_radius_arcsec``), the localization and plot data.

The matched-filter search over the whole stamp finds the highest noise peak
when there is no signal, so no ``localization`` is returned when the source
could not be placed (:data:`UNPLACED`; also when the difference image does not
follow the fitted PSF, reduced χ² > :data:`POOR_FIT_CHI2`) and target-level
checks (V25) never combine noise or a failed model.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from vet_diffimg.decorrelate import decorrelate, pos_corr_columns
from vet_diffimg.diffimage import (
    DifferenceImage,
    Regressors,
    WindowSpec,
    aperture_noise,
    build_difference_image,
    cadence_proxy,
    excluded_cadences,
    null_windows,
    usable_cadences,
    window_regressors,
)
from vet_diffimg.localize import (
    SourceErrors,
    SourceFit,
    conservative_covariance,
    fit_difference,
    fit_oot,
    fit_transits,
    source_errors,
)
from vet_diffimg.noise import pointing_response
from vetcore import CheckResult, Ephemeris, Localization, Param, Params, SectorContext, Stamp, Status
from vetcore.errors import DataError
from vetcore.hosts import HOST_PARAMS, HostCandidate, rivals_phrase, sector_rivals
from vetcore.sky import mahalanobis, pixel_frame, pixel_to_offset
from vetcore.transits import in_transit_mask, pointing_steps
from vetcore.verdicts import CONFUSION_NSIGMA, OFF_TARGET, ON_TARGET, localization_verdict

__all__ = [
    "CHECK_ID",
    "FLAGS",
    "METHOD",
    "PARAMS",
    "UNPLACED",
    "Decision",
    "DiffImageMeasurement",
    "assemble",
    "decide",
    "measure",
    "run",
]

CHECK_ID = "V09"
METHOD = "V09 difference-image PSF fit"

PARAMS: tuple[Param, ...] = (
    Param("in_fraction", 0.8, "in-transit cadences: |Δt| ≤ in_fraction·D/2 (D: total duration); below 1 "
          "keeps ingress and egress out", unit="durations", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    Param("baseline_gap", 0.25, "gap between the transit edge and each baseline window", unit="durations",
          minimum=0.0, maximum=10.0),
    Param("baseline_width", 1.5, "width of each baseline window (at least min_baseline_cadences + 2 "
          "cadences)", unit="durations", minimum=0.0, maximum=20.0, exclusive_minimum=True),
    Param("baseline", "auto", "per-pixel baseline across each transit, evaluated at the in-transit times: "
          "'linear' or 'quadratic' in time through both sides, 'mean' of both sides, or 'auto': linear or "
          "quadratic, whichever gives the lower empirical aperture noise", type="str",
          choices=("auto", "linear", "quadratic", "mean")),
    Param("step_quality_bits", 32, "quality bits marking pointing steps (32: momentum dump); each step "
          "inside a window gets a level-step term in the baseline; 0 disables", type="int", minimum=0,
          maximum=2**31 - 1),
    Param("decorrelate", True, "remove each pixel's response to the pointing and background (pixel-level "
          "decorrelation): POS_CORR1/2 fitted over the sector's out-of-transit cadences; the background and, "
          "without POS_CORR, the measured centroid inside each window; kept when it lowers the empirical "
          "aperture noise", type="bool"),
    Param("min_coverage", 0.5, "fraction of a transit's expected in-transit cadences that must be present",
          minimum=0.0, maximum=1.0),
    Param("min_in_cadences", 1, "usable in-transit cadences needed per transit (long cadences give 1–3; "
          "all transits are stacked into one difference image)", type="int", minimum=1, maximum=100_000),
    Param("min_baseline_cadences", 5, "usable baseline cadences needed on EACH side of a transit", type="int",
          minimum=3, maximum=100_000),
    Param("min_null_windows", 5, "transit-free windows needed to calibrate the noise empirically; with "
          "fewer, propagated errors are used alone", type="int", minimum=2, maximum=10_000),
    Param("oot_fit_radius", 2.5, "radius of the out-of-transit PSF fit window, around the brightest pixel "
          "near the target", unit="pixels", minimum=0.5, maximum=50.0),
    Param("fit_radius", 3.0, "radius of the difference-image PSF fit window, around the matched-filter peak",
          unit="pixels", minimum=0.5, maximum=50.0),
    Param("n_bootstrap", 200, "bootstrap resamples over transits (used with 3 or more transits)", type="int",
          minimum=0, maximum=100_000),
    Param("seed", 0, "seed of the bootstrap resampling, for reproducible results", type="int", minimum=0,
          maximum=2**63 - 1),
    Param("min_snr", 5.0, "SNR of the pixel-level signal (aperture-summed difference or fitted amplitude, "
          "empirical noise) needed to localize it", unit="sigma", minimum=0.0, maximum=1000.0,
          exclusive_minimum=True),
    Param("position_systematic_pixels", 0.03, "systematic error of the source position (PSF model, "
          "pointing), added in quadrature to each axis of its covariance; without it, sources at "
          "matched-filter SNR ≥ 40 in the simulated population fell within 2σ of the truth in only 68–73 % "
          "of sectors", unit="pixels", minimum=0.0, maximum=10.0),
    Param("sigma_threshold", 3.0, "offset significance (√(dᵀC⁻¹d), 2-D) at or above which the source is "
          "excluded from the target", unit="sigma", minimum=0.0, maximum=100.0, exclusive_minimum=True),
    Param("min_offset_arcsec", 2.0, "offsets below this never fail: floor for PSF-model and WCS systematics "
          "(≈0.1 TESS or 0.5 Kepler pixel)", unit="arcsec", minimum=0.0, maximum=3600.0),
    Param("max_confusion_radius_pixels", 1.0, "pass (on target) only when the 3σ confusion radius of the "
          "source position is at most this: one pixel, the resolution element of the data (21″ TESS, "
          "3.98″ Kepler)", unit="pixels", minimum=0.0, maximum=100.0, exclusive_minimum=True),
    *HOST_PARAMS,
)  # fmt: skip

FLAGS: dict[str, str] = {
    "NO_TARGET_POSITION": "The target has no RA/Dec, so there is no catalogue position to compare with.",
    "NO_TRANSIT_DATA": "No transit of the ephemeris falls on usable cadences of this stamp.",
    "PARTIAL_COVERAGE": "Every observed transit lacks enough in-transit cadences or baseline cadences on "
    "both sides (see min_coverage, min_in_cadences, min_baseline_cadences).",
    "TRANSITS_DROPPED": "Some observed transits were left out for too few cadences "
    "(n_transits_observed − n_transits_used of them).",
    "POINTING_STEP_MODELLED": "A pointing step (momentum dump) inside a window was fitted as a level step.",
    "POINTING_DECORRELATED": "Each pixel's response to the pointing and background was removed (POS_CORR "
    "fitted over the sector; the background and, without POS_CORR, the measured centroid inside each "
    "window); snr_gain_decorrelation gives the factor by which the aperture noise fell (applied only "
    "when > 1).",
    "FEW_NULL_WINDOWS": "Too few transit-free windows to calibrate the noise empirically; uncertainties are "
    "propagated only and may be too small.",
    "DEPTH_NOT_DETECTED": "The difference image holds too little signal to localize its source (aperture sum "
    "and fitted amplitude below min_snr), or the fitted source is too weak (amplitude below min_snr) to "
    "claim it is off target.",
    "NEGATIVE_DEPTH": "The pixels do not dim in transit (non-positive aperture sum or fitted amplitude), so "
    "there is no dimming source to localize.",
    "TARGET_DEPTH_NONPOSITIVE": "The target's own pixel shows no dimming (informational).",
    "FIT_FAILED": "The PSF fit of the out-of-transit or difference image did not converge to a finite "
    "position and covariance.",
    "POOR_FIT": "A PSF fit leaves residuals far above the noise (reduced χ² > 10); the position errors were "
    "inflated by √χ²_red and rest on the offset from the out-of-transit fit with the same model.",
    "POOR_DIFFERENCE_FIT": "The PSF fit to the difference image leaves residuals far above its noise "
    "(reduced χ² > 10): the dimming is not one point source with this sector's PSF, or systematics "
    "dominate it, so its fitted position is no localization and none is returned.",
    "SOURCE_AT_EDGE": "The fitted source lies outside the pixel centres of the stamp: its position is only a "
    "bound, and it may lie off the stamp.",
    "POOR_LOCALIZATION": "The source position is too uncertain (3σ confusion radius above "
    "max_confusion_radius_pixels) to tell the target from its neighbours.",
    "OFFSETS_DISAGREE": "The source is excluded from the catalogue position but not from the fitted "
    "out-of-transit position (a WCS error, or a blend pulling that fit): no verdict.",
    "NEIGHBOUR_NOT_EXCLUDED": "The source is consistent with the target, but a listed star that could "
    "produce the depth lies within the 3σ confusion radius or has a relative host probability of "
    "rival_host_probability or more: not called on target.",
    "OFF_TARGET": "The transit source is excluded from the target, from both its catalogue and its fitted "
    "out-of-transit position, at sigma_threshold and beyond min_offset_arcsec.",
}

#: Outcomes where the fitted position is not a localization of the transit source (a noise peak,
#: a brightening, a bound at the stamp edge, or a fit the difference image does not follow): no
#: ``localization`` is returned, so target-level checks never combine them; the fitted position
#: stays in the metrics for diagnosis.
UNPLACED = frozenset({"DEPTH_NOT_DETECTED", "NEGATIVE_DEPTH", "SOURCE_AT_EDGE", "POOR_DIFFERENCE_FIT"})

#: A transit's own localization is reported (for V25's consistency test) only when its fitted amplitude
#: reaches this many times min_snr.
EPOCH_SNR_FACTOR = 2.0

#: Reduced χ² above which a PSF fit is flagged as poor (``POOR_FIT``); a difference-image fit this
#: poor gives no localization (``POOR_DIFFERENCE_FIT``): on the simulated population (seed 1) the
#: √χ²_red-scaled covariance still covered the truth below it (2σ / 3σ: 86 / 99 % of 77 fits with
#: χ²_red 2–10) but not above (5 and 6 of 7).
POOR_FIT_CHI2 = 10.0


@attrs.frozen(eq=False)
class DiffImageMeasurement:
    """What V09 measured in one sector; later fields are ``None`` when an earlier step stopped.

    ``stop`` names the flag of the step that stopped (no transit, fit failed, …).
    """

    counts: dict[str, Any]
    flags: tuple[str, ...] = ()
    stop: str | None = None
    di: DifferenceImage | None = None
    oot: SourceFit | None = None
    source: SourceFit | None = None
    matched_filter_snr: float | None = None
    errors: SourceErrors | None = None
    epochs: tuple[Localization, ...] = ()


@attrs.frozen(eq=False)
class Decision:
    """The verdict of one sector: status, flags and message; ``placed`` when the fitted position is a
    localization of the transit source."""

    status: Status
    flags: tuple[str, ...]
    message: str
    placed: bool = False


def _inside(di: DifferenceImage, row: float, col: float) -> bool:
    return bool(di.rows.min() <= row <= di.rows.max() and di.cols.min() <= col <= di.cols.max())


def _epoch_localizations(
    stamp: Stamp, source: SourceFit, di: DifferenceImage, scale: float, p: Params
) -> tuple[Localization, ...]:
    """Per-transit localizations (two or more transits) of the transits whose own fitted amplitude
    reaches :data:`EPOCH_SNR_FACTOR` × ``min_snr`` (a weaker transit's position has non-Gaussian
    tails, which a consistency test downstream would read as disagreement).

    Each transit's formal covariance is scaled by ``scale``, the factor by which
    the empirical (null, bootstrap) checks, the fit quality and the likelihood
    ratio enlarged the combined fit's, and then enough to enclose the same fit's
    response to the single-window null images (one transit's own share of the
    correlated noise), so that transit-to-transit scatter is not read as
    inconsistency downstream; ``position_systematic_pixels`` is added as for the
    combined fit (the star drifts over the pixel grid between transits, so the
    PSF model's error is not common to them).
    """
    if len(di.transits) < 2:
        return ()
    out = []
    for window, fit in zip(di.transits, fit_transits(source, di), strict=True):
        row, col = (float(v) for v in fit.position)
        if (
            not fit.success
            or not _inside(di, row, col)
            or fit.amplitude < EPOCH_SNR_FACTOR * p.min_snr * fit.amplitude_sigma
        ):
            continue
        cov = fit.position_covariance * scale
        if di.null_windows.shape[0] >= 2:  # the same fit's response to single-window null images
            shifts = di.null_windows[:, source.pixels] @ fit.response[1:3].T
            cov, _, _ = conservative_covariance(cov, {"null": shifts.T @ shifts / shifts.shape[0]})
        cov = cov + p.position_systematic_pixels**2 * np.eye(2)
        out.append(
            Localization.from_pixel(
                stamp,
                row,
                col,
                cov,
                method=METHOD,
                label=f"{stamp.label} E{window.epoch}",
            )
        )
    return tuple(out)


def measure(stamp: Stamp, ephemeris: Ephemeris, p: Params) -> DiffImageMeasurement:
    """Difference image, out-of-transit and difference PSF fits, and their errors."""
    # long cadences: each baseline side spans at least min_baseline_cadences + 2 cadences
    cadence_durations = stamp.cadence_seconds / 3600.0 / ephemeris.duration_hours
    width = max(p.baseline_width, (p.min_baseline_cadences + 2) * cadence_durations)
    spec = WindowSpec(
        in_fraction=p.in_fraction, gap=p.baseline_gap, width=width, min_coverage=p.min_coverage,
        min_in=p.min_in_cadences, min_side=p.min_baseline_cadences,
    )  # fmt: skip
    usable, valid = usable_cadences(stamp)
    proxy = cadence_proxy(stamp, usable)
    windows = spec.windows(proxy, ephemeris)
    used = [w for w in windows if spec.usable(w)]
    counts: dict[str, Any] = {
        "n_transits_observed": len(windows),
        "n_transits_used": len(used),
        "n_cadences_excluded": excluded_cadences(stamp, ephemeris, spec, usable),
    }
    if not windows:
        return DiffImageMeasurement(counts, stop="NO_TRANSIT_DATA")
    if not used:
        return DiffImageMeasurement(counts, stop="PARTIAL_COVERAGE")
    aperture = stamp.aperture_mask[valid]
    if not aperture.any():
        raise DataError(stamp.source or stamp.label, "no valid pixel inside the aperture")
    flags = ["TRANSITS_DROPPED"] * (len(used) < len(windows))
    nulls = null_windows(proxy, ephemeris, spec)
    if len(nulls) < p.min_null_windows:
        flags.append("FEW_NULL_WINDOWS")

    steps = pointing_steps(stamp, p.step_quality_bits)
    common = {"steps": steps, "min_side": p.min_baseline_cadences, "min_null": p.min_null_windows}
    oot_cadences = usable & ~in_transit_mask(stamp, ephemeris, 1.0)
    # flux: raw, or with the sector-wide POS_CORR decorrelation; window regressors: none, or the
    # background and (without POS_CORR) the measured centroid
    fluxes: list[Stamp] = [stamp]
    in_windows: list[Regressors | None] = [None]
    if p.decorrelate:
        pos_corr = pos_corr_columns(stamp, usable)
        if pos_corr is not None and oot_cadences.sum() > 10 * pos_corr.shape[1]:
            fluxes.append(decorrelate(stamp, valid, pos_corr, oot_cadences))
        regressors = window_regressors(stamp, usable, valid, aperture, centroid=pos_corr is None)
        if regressors is not None:
            in_windows.append(regressors)
    # the baseline model, flux and window regressors with the lowest empirical aperture noise
    models = ("linear", "quadratic") if p.baseline == "auto" else (p.baseline,)
    options = [(b, f, r) for b in models for f in range(len(fluxes)) for r in range(len(in_windows))]
    noise = [
        aperture_noise(
            fluxes[f], valid, aperture, used, nulls, baseline=m, regressors=in_windows[r], **common
        )
        for m, f, r in options
    ]
    model, flux, regressed = options[int(np.argmin(noise))]
    gain = None
    if len(options) > len(models):
        gain = noise[options.index((model, 0, 0))] / min(noise)
        flags += ["POINTING_DECORRELATED"] * (flux + regressed > 0)
    rows, cols = (np.asarray(v, dtype=float) for v in np.nonzero(valid))
    response = pointing_response(
        stamp.flux[oot_cadences][:, valid], aperture, rows, cols, stamp.cadence_seconds / 86400.0
    )
    di = build_difference_image(
        fluxes[flux], valid, aperture, used, nulls, baseline=model, regressors=in_windows[regressed],
        pointing=response, **common,
    )  # fmt: skip
    di = attrs.evolve(di, snr_gain=gain)
    if di.per_transit.n_steps.sum():
        flags.append("POINTING_STEP_MODELLED")
    counts.update(
        n_in_transit_cadences=int(di.per_transit.n_in.sum()),
        n_out_of_transit_cadences=int(di.per_transit.n_base.sum()),
        n_pointing_steps_modelled=int(di.per_transit.n_steps.sum()),
        n_null_windows=di.n_null,
        baseline_model=model,
    )
    base = DiffImageMeasurement(counts, tuple(flags), di=di)
    oot = fit_oot(di, stamp.target_pixel, radius=p.oot_fit_radius)
    if not oot.fit.success:
        return attrs.evolve(base, stop="FIT_FAILED", oot=oot)
    source, mf_snr = fit_difference(di, oot, radius=p.fit_radius)
    base = attrs.evolve(base, oot=oot, source=source, matched_filter_snr=mf_snr)
    if not source.fit.success:
        return attrs.evolve(base, stop="FIT_FAILED")
    errors = source_errors(source, oot, di, p.n_bootstrap, np.random.default_rng(p.seed))
    scale = errors.error_scale * errors.likelihood_scale
    epochs = _epoch_localizations(stamp, source, di, scale, p)
    return attrs.evolve(base, errors=errors, epochs=epochs)


def _pixel_metrics(stamp: Stamp, di: DifferenceImage) -> dict[str, Any]:
    """Depths at the target pixel, of the aperture sum, and the deepest pixel."""
    tr, tc = stamp.target_pixel
    at = np.flatnonzero((di.rows == round(tr)) & (di.cols == round(tc)))
    snr = di.diff / di.sigma
    deepest = int(np.argmax(snr))
    d_row, d_col = float(di.rows[deepest] - tr), float(di.cols[deepest] - tc)
    ap_ok = di.ap_oot > 0
    return {
        "target_pixel_depth_ppm": float(1e6 * di.diff[at[0]] / di.oot[at[0]]) if at.size else None,
        "target_pixel_depth_err_ppm": float(1e6 * di.sigma[at[0]] / di.oot[at[0]]) if at.size else None,
        "aperture_sum_ppm": 1e6 * di.ap_diff / di.ap_oot if ap_ok else None,
        "aperture_sum_err_ppm": 1e6 * di.ap_sigma / di.ap_oot if ap_ok else None,
        "diffimage_snr": di.ap_diff / di.ap_sigma,
        "max_pixel_snr": float(snr[deepest]),
        # the pixel with the most significant dimming, relative to the target's WCS position
        "max_depth_pixel_offset_row": d_row,
        "max_depth_pixel_offset_col": d_col,
        "max_depth_pixel_distance": math.hypot(d_row, d_col),
        "noise_ratio_empirical_to_propagated": float(np.median(di.noise_ratio)),
        "aperture_noise_ratio_empirical_to_propagated": di.ap_noise_ratio,
        "snr_gain_decorrelation": di.snr_gain,
    }


def _sqrt_or_none(value: float | None) -> float | None:
    return None if value is None else math.sqrt(value)


def _source_metrics(
    stamp: Stamp, m: DiffImageMeasurement, cov: np.ndarray
) -> tuple[dict[str, Any], Localization]:
    assert m.source is not None and m.oot is not None and m.errors is not None and m.di is not None
    row, col = (float(v) for v in m.source.position)
    loc = Localization.from_pixel(stamp, row, col, cov, method=METHOD, label=stamp.label, epochs=m.epochs)
    _, jac = pixel_to_offset(stamp, row, col, with_jacobian=True)
    d_oot = jac @ (m.source.position - m.oot.position)
    cov_oot = jac @ m.errors.relative_covariance @ jac.T
    metrics = {
        "fit_amplitude_snr": m.source.fit.amplitude / m.errors.amplitude_sigma,
        "fit_reduced_chi2": m.source.fit.reduced_chi2,
        "source_row": row,
        "source_col": col,
        "source_ra": loc.ra,
        "source_dec": loc.dec,
        "source_offset_east_arcsec": float(loc.offset_arcsec[0]),
        "source_offset_north_arcsec": float(loc.offset_arcsec[1]),
        "source_offset_arcsec": loc.distance_arcsec,
        "source_offset_sigma": loc.offset_sigma,
        "source_position_sigma_arcsec": loc.sigma_arcsec,
        "confusion_radius_arcsec": loc.confusion_radius_arcsec(CONFUSION_NSIGMA),
        "offset_from_oot_arcsec": float(np.hypot(*d_oot)),
        "offset_from_oot_sigma": mahalanobis(d_oot, cov_oot),
        # the likelihood-ratio test of the star as the source, with the errors' empirical scale
        "star_exclusion_sigma": m.errors.star_exclusion,
        "covariance_scale_likelihood": m.errors.likelihood_scale,
        "fit_error_scale_null": _sqrt_or_none(m.errors.ratios.get("null")),
        "fit_error_scale_bootstrap": _sqrt_or_none(m.errors.ratios.get("bootstrap")),
        "fit_error_scale_chi2": _sqrt_or_none(m.errors.ratios.get("chi2")),
        "covariance_source": m.errors.source,
        "n_epoch_localizations": len(m.epochs),
        "in_stamp": _inside(m.di, row, col),
    }
    return metrics, loc


def decide(
    m: DiffImageMeasurement,
    metrics: dict[str, Any],
    loc: Localization | None,
    p: Params,
    pixel_scale: float,
    rivals: list[HostCandidate] | None = None,
) -> Decision:
    """Status, flags and message (see the module docstring); ``rivals``: the listed stars the
    localization cannot exclude as hosts (:func:`vetcore.hosts.sector_rivals`; ``None`` without a
    neighbour list)."""
    flags = list(m.flags)
    if m.stop == "NO_TRANSIT_DATA":
        return Decision(
            Status.INCONCLUSIVE, (*flags, m.stop), "no transit falls on usable cadences of this stamp"
        )
    if m.stop == "PARTIAL_COVERAGE":
        n = m.counts["n_transits_observed"]
        return Decision(
            Status.INCONCLUSIVE, (*flags, m.stop), f"none of the {n} observed transit(s) has enough cadences"
        )
    if metrics.get("target_pixel_depth_ppm") is not None and metrics["target_pixel_depth_ppm"] <= 0:
        flags.append("TARGET_DEPTH_NONPOSITIVE")
    if m.stop == "FIT_FAILED" or loc is None:
        which = "out-of-transit" if m.source is None else "difference-image"
        fit = m.oot.fit if m.source is None else m.source.fit  # type: ignore[union-attr]
        low = [] if metrics.get("diffimage_snr", 0.0) >= p.min_snr else ["DEPTH_NOT_DETECTED"]
        return Decision(
            Status.INCONCLUSIVE, (*flags, "FIT_FAILED", *low), f"the {which} PSF fit failed ({fit.message})"
        )
    if max(metrics["oot_fit_reduced_chi2"], metrics["fit_reduced_chi2"]) > POOR_FIT_CHI2:
        flags.append("POOR_FIT")
    snr = f"aperture SNR {metrics['diffimage_snr']:.1f}, fit SNR {metrics['fit_amplitude_snr']:.1f}"
    where = (
        f"source {metrics['source_offset_arcsec']:.1f}″ from the target "
        f"({metrics['source_offset_sigma']:.1f}σ) and "
        f"{metrics['offset_from_oot_arcsec']:.1f}″ from the out-of-transit fit "
        f"({metrics['offset_from_oot_sigma']:.1f}σ); {snr}"
    )
    strongest = max(metrics["diffimage_snr"], metrics["fit_amplitude_snr"])
    if strongest < p.min_snr:
        codes = ["DEPTH_NOT_DETECTED"] + ["NEGATIVE_DEPTH"] * (strongest <= 0)
        return Decision(
            Status.INCONCLUSIVE, (*flags, *codes), f"signal too weak in the pixels to localize: {snr}"
        )
    if metrics["fit_amplitude_snr"] <= 0:
        return Decision(Status.INCONCLUSIVE, (*flags, "NEGATIVE_DEPTH"), f"no dimming in the pixels: {where}")
    if metrics["fit_reduced_chi2"] > POOR_FIT_CHI2:
        return Decision(
            Status.INCONCLUSIVE, (*flags, "POOR_DIFFERENCE_FIT"),
            f"the difference image is not one point source with this sector's PSF (reduced χ² "
            f"{metrics['fit_reduced_chi2']:.1f} > {POOR_FIT_CHI2:g}): no localization; {where}",
        )  # fmt: skip
    if not metrics["in_stamp"]:
        return Decision(
            Status.INCONCLUSIVE, (*flags, "SOURCE_AT_EDGE"),
            f"fitted source at the stamp edge ({metrics['source_row']:.2f}, "
            f"{metrics['source_col']:.2f}): {where}",
        )  # fmt: skip
    verdict, reason = localization_verdict(
        loc, sigma_threshold=p.sigma_threshold, offset_floor_arcsec=p.min_offset_arcsec,
        max_confusion_radius_arcsec=p.max_confusion_radius_pixels * pixel_scale,
    )  # fmt: skip
    if verdict == ON_TARGET:
        if rivals:
            return Decision(
                Status.INCONCLUSIVE, (*flags, "NEIGHBOUR_NOT_EXCLUDED"),
                f"{reason}, but {rivals_phrase(rivals)}; {snr}", placed=True,
            )  # fmt: skip
        return Decision(Status.PASS, tuple(flags), f"on target: {reason}; {snr}", placed=True)
    if verdict != OFF_TARGET:
        return Decision(Status.INCONCLUSIVE, (*flags, "POOR_LOCALIZATION"), f"{reason}; {snr}", placed=True)
    if metrics["fit_amplitude_snr"] < p.min_snr:
        return Decision(
            Status.INCONCLUSIVE,
            (*flags, "DEPTH_NOT_DETECTED"),
            f"fitted source too weak to claim an offset: {where}",
        )
    off_oot = (
        metrics["offset_from_oot_sigma"] >= p.sigma_threshold
        and metrics["offset_from_oot_arcsec"] >= p.min_offset_arcsec
        and metrics["star_exclusion_sigma"] >= p.sigma_threshold
    )
    if off_oot:
        return Decision(Status.FAIL, (*flags, "OFF_TARGET"), f"off target: {where}", placed=True)
    return Decision(
        Status.INCONCLUSIVE, (*flags, "OFFSETS_DISAGREE"),
        f"excluded from the catalogue position but not from the out-of-transit fit: {where}", placed=True,
    )  # fmt: skip


def _fit_dict(stamp: Stamp, source: SourceFit, cov: np.ndarray) -> dict[str, Any]:
    row, col = (float(v) for v in source.position)
    ra, dec = stamp.pixel_to_sky(row, col)
    return {"pixel": [row, col], "covariance": cov.tolist(), "ra": float(ra), "dec": float(dec),
            "amplitude": source.fit.amplitude, "psf": source.fit.shape_summary}  # fmt: skip


def assemble(
    stamp: Stamp,
    m: DiffImageMeasurement,
    metrics: dict[str, Any],
    loc: Localization | None,
    decision: Decision,
    cov: np.ndarray | None,
) -> CheckResult:
    """The check result: metrics, localization (when placed) and plot data of one sector; ``cov`` is
    the source position's covariance (pixels², systematic error included)."""
    plot_data: dict[str, Any] = {}
    if m.di is not None:
        di = m.di
        plot_data = {
            "frame": pixel_frame(stamp),
            "oot_image": di.image(di.oot).tolist(),
            "diff_image": di.image(di.diff).tolist(),
            "snr_image": di.image(di.diff / di.sigma).tolist(),
        }
        if m.oot is not None:
            plot_data["oot_fit"] = _fit_dict(stamp, m.oot, m.oot.fit.position_covariance)
        if m.source is not None and cov is not None and loc is not None:
            plot_data["source"] = {
                **_fit_dict(stamp, m.source, cov),
                "offset_arcsec": loc.offset_arcsec.tolist(),
                "covariance_arcsec2": loc.covariance_arcsec2.tolist(),
                "placed": decision.placed,
            }
            plot_data["epochs"] = [
                {
                    "label": e.label,
                    "pixel": list(e.pixel or ()),
                    "covariance": np.asarray(e.pixel_covariance).tolist(),
                }
                for e in m.epochs
            ]
    return CheckResult(
        status=decision.status, flags=decision.flags, metrics=metrics,
        localization=loc if decision.placed else None, plot_data=plot_data, message=decision.message,
    )  # fmt: skip


def run(ctx: SectorContext) -> CheckResult:
    """measure → decide → assemble on one stamp (see the module docstring)."""
    stamp, p = ctx.stamp, ctx.params
    if not stamp.target.has_position:
        return CheckResult(
            status=Status.SKIPPED, flags=("NO_TARGET_POSITION",), message="skipped: the target has no RA/Dec"
        )
    m = measure(stamp, ctx.ephemeris, p)
    metrics: dict[str, Any] = dict(m.counts)
    loc = cov = None
    if m.di is not None:
        metrics.update(_pixel_metrics(stamp, m.di))
    if m.oot is not None and m.oot.fit.success:
        oot_east, oot_north = pixel_to_offset(stamp, *m.oot.position)
        metrics.update(
            psf_sigma_pixels=m.oot.fit.sigma,
            oot_fit_reduced_chi2=m.oot.fit.reduced_chi2,
            oot_row=float(m.oot.position[0]),
            oot_col=float(m.oot.position[1]),
            oot_offset_from_target_arcsec=math.hypot(float(oot_east), float(oot_north)),
            matched_filter_snr=m.matched_filter_snr,
        )
    if m.errors is not None:
        cov = m.errors.position_covariance + p.position_systematic_pixels**2 * np.eye(2)
        source_metrics, loc = _source_metrics(stamp, m, cov)
        metrics.update(source_metrics)
    rivals = None
    if loc is not None:
        psf = metrics["psf_sigma_pixels"]
        rivals = sector_rivals(ctx, loc, psf_sigma_pixels=psf, depth_ppm=metrics.get("aperture_sum_ppm"))
    decision = decide(m, metrics, loc, p, stamp.pixel_scale_arcsec, rivals)
    return assemble(stamp, m, metrics, loc, decision, cov)
