"""Difference-image construction: local baselines, step terms, noise calibration."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from scipy.special import ndtr

from vet_diffimg.diffimage import (
    WindowSpec,
    build_difference_image,
    cadence_proxy,
    excluded_cadences,
    null_windows,
    usable_cadences,
    window_images,
)
from vet_diffimg.noise import estimate_noise, noise_patterns
from vetcore.testing import SyntheticStar, make_stamp
from vetcore.transits import pointing_steps


def pixel_gaussian(u, sigma):
    """The synthetic stamps' circular Gaussian integrated over a unit pixel."""
    return ndtr((u + 0.5) / sigma) - ndtr((u - 0.5) / sigma)


SMALL = {"shape": (9, 9), "span_days": 12.0, "cadence_seconds": 1800.0}


def _windows(case, spec=None):
    spec = spec or WindowSpec()
    usable, valid = usable_cadences(case.stamp)
    proxy = cadence_proxy(case.stamp, usable)
    used = [w for w in spec.windows(proxy, case.ephemeris) if spec.usable(w)]
    return usable, valid, proxy, used


def _twin_in_transit_image(case_kwargs, window, valid):
    """Mean noiseless image of the same stamp without a transit over a window's in-transit cadences."""
    twin = make_stamp(**{**case_kwargs, "transit_star": None, "noise": False})
    return twin.stamp.flux[window.in_transit][:, valid].mean(axis=0)


def test_noiseless_difference_is_depth_times_the_transiting_star():
    case = make_stamp(
        stars=[SyntheticStar(), SyntheticStar(east_arcsec=30.0, flux=6e3)],
        transit_star=1,
        depth=0.01,
        noise=False,
        ingress_fraction=0.01,
        **SMALL,
    )
    _, valid, _, used = _windows(case)
    per = window_images(case.stamp, valid, case.stamp.aperture_mask[valid], used)
    row, col = case.truth.source_pixel
    rows, cols = np.nonzero(valid)
    expected = 0.01 * 6e3 * pixel_gaussian(rows - row, 0.9) * pixel_gaussian(cols - col, 0.9)
    for diff in per.diff:
        np.testing.assert_allclose(diff, expected, atol=1e-6 * expected.max())


def test_linear_baseline_cancels_a_drift_that_biases_an_asymmetric_mean():
    kwargs = {"depth": 0.002, "noise": False, "ingress_fraction": 0.01, "drift_pix": (0.6, -0.4), **SMALL}
    case = make_stamp(**kwargs)
    _, valid, _, used = _windows(case)
    # keep a third of one baseline side: the plain mean is then biased by the drift, the line is not
    lopsided = [attrs.evolve(w, after=w.after[: max(5, w.after.size // 3)]) for w in used]
    ap = case.stamp.aperture_mask[valid]
    linear = window_images(case.stamp, valid, ap, lopsided, "linear")
    mean = window_images(case.stamp, valid, ap, lopsided, "mean")
    truth = np.array([0.002 * _twin_in_transit_image(kwargs, w, valid) for w in lopsided])
    err_linear = np.abs(linear.diff - truth).max()
    err_mean = np.abs(mean.diff - truth).max()
    # the line leaves only the curvature of the pixel response to the moving star (a few % here)
    assert err_linear < 0.05 * truth.max()
    assert err_mean > 0.5 * truth.max()


def test_pointing_step_is_modelled_when_flagged():
    # momentum dumps (quality bit 32) with large persistent pointing steps, each one inside a transit
    kwargs = {
        "depth": 0.003,
        "noise": False,
        "ingress_fraction": 0.01,
        "momentum_dumps": 3,
        "dump_step_pix": 0.3,
        "period": 3.0,
        "t0": 2003.02,
        **SMALL,
    }
    case = make_stamp(**kwargs)
    steps = pointing_steps(case.stamp, 32)
    assert steps.size == 3
    _, valid, _, used = _windows(case)
    ap = case.stamp.aperture_mask[valid]
    with_steps = window_images(case.stamp, valid, ap, used, steps=steps)
    without = window_images(case.stamp, valid, ap, used)
    assert np.all(with_steps.n_steps == 1)
    truth = np.array([0.003 * _twin_in_transit_image(kwargs, w, valid) for w in used])
    scale = truth.max()
    assert np.abs(with_steps.diff - truth).max() < 1e-3 * scale
    assert np.abs(without.diff - truth).max() > 0.5 * scale


def test_null_windows_never_overlap_a_transit_window():
    case = make_stamp(snr=20.0, period=2.3, **SMALL)
    spec = WindowSpec()
    _, _, proxy, used = _windows(case, spec)
    nulls = null_windows(proxy, case.ephemeris, spec)
    assert len(nulls) >= 5
    half_span = spec.geometry(case.ephemeris).span / 2.0
    real_mids = np.array([w.t_mid for w in used])
    for w in nulls:
        assert np.min(np.abs(real_mids - w.t_mid)) >= 2 * half_span - 1e-9
        assert spec.usable(w)


def test_noise_calibration_on_white_noise():
    ratios, ap_ratios, z = [], [], []
    for seed in range(12):
        case = make_stamp(snr=15.0, period=2.3, seed=seed, **SMALL)
        _, valid, proxy, used = _windows(case)
        nulls = null_windows(proxy, case.ephemeris, WindowSpec())
        di = build_difference_image(case.stamp, valid, case.stamp.aperture_mask[valid], used, nulls)
        ratios.append(np.median(di.noise_ratio))
        ap_ratios.append(di.ap_noise_ratio)
        z.append(di.ap_diff - case.truth.depth * case.truth.star_flux_in_aperture[0])
        z[-1] /= di.ap_sigma_prop
    # white noise: the empirical scatter matches the propagated one
    assert 0.85 < np.mean(ratios) < 1.15
    assert 0.8 < np.mean(ap_ratios) < 1.25
    # and the propagated aperture error describes the real scatter of the aperture depth
    assert 0.5 < np.std(z) < 1.6
    assert abs(np.mean(z)) < 1.5


def test_bad_cadences_are_excluded_and_counted():
    case = make_stamp(snr=20.0, nan_fraction=0.002, flagged_fraction=0.05, **SMALL)
    usable, valid = usable_cadences(case.stamp)
    assert valid.all()
    flux = case.stamp.flux[usable][:, valid]
    assert np.isfinite(flux).all()
    n = excluded_cadences(case.stamp, case.ephemeris, WindowSpec(), usable)
    assert n > 0
    assert n < (~usable).sum()


def test_permanently_nan_pixels_are_dropped_per_pixel():
    case = make_stamp(snr=20.0, **SMALL)
    flux = case.stamp.flux.copy()
    flux[:, 0, 0] = np.nan
    usable, valid = usable_cadences(case.stamp.replace(flux=flux))
    assert not valid[0, 0] and valid.sum() == valid.size - 1
    assert usable.sum() == case.stamp.good.sum()


@pytest.mark.parametrize("baseline", ["linear", "mean"])
def test_recovered_aperture_depth(baseline):
    case = make_stamp(depth=0.004, seed=3, **SMALL)
    _, valid, proxy, used = _windows(case)
    nulls = null_windows(proxy, case.ephemeris, WindowSpec())
    di = build_difference_image(
        case.stamp, valid, case.stamp.aperture_mask[valid], used, nulls, baseline=baseline
    )
    depth = di.ap_diff / di.ap_oot
    assert depth == pytest.approx(case.truth.depth_in_aperture, abs=4 * di.ap_sigma / di.ap_oot)


def test_noise_model_keeps_pointing_modes_only_from_a_measured_response():
    """Without a measured pointing response the patterns are the sky's alone, and the jitter-aware
    test must not take the sky level and gradient for pointing modes."""
    rng = np.random.default_rng(5)
    rows, cols = (g.ravel().astype(float) for g in np.mgrid[0:8, 0:8])
    sigma = np.ones(rows.size)
    nulls = rng.normal(size=(40, rows.size))
    sky_only = estimate_noise(sigma, nulls, noise_patterns(None, rows, cols), min_null=5, pointing=False)
    assert sky_only.n_modes == 3 and sky_only.pointing is None
    gradient = rng.normal(size=(rows.size, 2))
    assert sky_only.with_gradient(gradient).n_modes == 3  # nothing to match the gradient to
    response = rng.normal(size=(rows.size, 2))
    measured = estimate_noise(sigma, nulls, noise_patterns(response, rows, cols), min_null=5)
    assert measured.pointing is not None and measured.pointing.shape == (rows.size, 2)
    assert measured.with_gradient(gradient).n_modes == measured.n_modes + 2
