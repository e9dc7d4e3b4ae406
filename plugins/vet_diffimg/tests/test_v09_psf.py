"""PSF model, fit, matched filter and the covariance estimates."""

from __future__ import annotations

import numpy as np
import pytest

from vet_diffimg.localize import conservative_covariance
from vet_diffimg.psf import _model_and_jacobian, fit_psf, matched_filter_peak, pixel_gaussian

ROWS, COLS = (a.ravel().astype(float) for a in np.mgrid[:9, :8])


def _image(amp, row, col, sigma, bkg=0.0):
    return amp * pixel_gaussian(ROWS - row, sigma) * pixel_gaussian(COLS - col, sigma) + bkg


def test_pixel_gaussian_integrates_to_one():
    u = np.arange(-20, 21, dtype=float) - 0.3
    assert pixel_gaussian(u, 1.3).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("free_sigma", [False, True])
def test_analytic_jacobian_matches_finite_differences(free_sigma):
    p = np.array([900.0, 4.3, 3.6, 2.0] + ([0.8] if free_sigma else []))
    sigma = None if free_sigma else 0.8
    _, jac = _model_and_jacobian(p, ROWS, COLS, sigma)
    for k in range(p.size):
        h = 1e-6 * max(1.0, abs(p[k]))
        up, down = p.copy(), p.copy()
        up[k] += h
        down[k] -= h
        numeric = (
            _model_and_jacobian(up, ROWS, COLS, sigma)[0] - _model_and_jacobian(down, ROWS, COLS, sigma)[0]
        )
        np.testing.assert_allclose(jac[:, k], numeric / (2 * h), rtol=1e-5, atol=1e-6 * np.abs(jac).max())


def test_noiseless_fit_recovers_every_parameter():
    data = _image(5000.0, 4.37, 3.21, 0.85, bkg=12.0)
    fit = fit_psf(ROWS, COLS, data, np.ones_like(data), (4000.0, 4.0, 3.0, 0.0), sigma=None)
    assert fit.success
    np.testing.assert_allclose(fit.params, [5000.0, 4.37, 3.21, 12.0, 0.85], rtol=1e-6)


def test_formal_errors_describe_the_scatter_of_white_noise_fits():
    rng = np.random.default_rng(1)
    truth = _image(400.0, 4.6, 3.9, 0.9)
    err = np.full_like(truth, 2.0)
    positions, sigmas = [], []
    for _ in range(300):
        fit = fit_psf(
            ROWS, COLS, truth + rng.normal(0, 2.0, truth.size), err, (350.0, 4.4, 4.0, 0.0), sigma=0.9
        )
        positions.append(fit.position)
        sigmas.append(np.sqrt(np.diag(fit.position_covariance)))
    scatter = np.std(positions, axis=0)
    quoted = np.median(sigmas, axis=0)
    np.testing.assert_allclose(scatter / quoted, 1.0, atol=0.15)
    np.testing.assert_allclose(
        np.mean(positions, axis=0), [4.6, 3.9], atol=float(3 * scatter.max() / np.sqrt(300))
    )


def test_linear_response_predicts_the_refit():
    rng = np.random.default_rng(2)
    truth = _image(600.0, 4.1, 3.3, 0.9)
    err = np.full_like(truth, 1.5)
    base = fit_psf(ROWS, COLS, truth, err, (600.0, 4.1, 3.3, 0.0), sigma=0.9)
    for _ in range(20):
        noise = rng.normal(0, 1.5, truth.size)
        refit = fit_psf(ROWS, COLS, truth + noise, err, tuple(base.params), sigma=0.9)
        predicted = base.params + base.response @ noise
        np.testing.assert_allclose(refit.position, predicted[1:3], atol=0.01)


def test_matched_filter_ignores_a_single_hot_pixel():
    rng = np.random.default_rng(3)
    data = _image(300.0, 2.4, 5.2, 0.9) + rng.normal(0, 1.0, ROWS.size)
    err = np.ones_like(data)
    hot = (ROWS == 7) & (COLS == 1)
    data[hot] += 60.0  # brighter than the source's peak pixel (≈ 0.37² · 300 ≈ 40)
    row, col, amp, snr = matched_filter_peak(ROWS, COLS, data, err, 0.9)
    assert (row, col) == pytest.approx((2.4, 5.2), abs=0.25)
    assert amp == pytest.approx(300.0, rel=0.2)
    assert snr > 20


def test_conservative_covariance_encloses_every_estimate():
    formal = np.array([[0.04, 0.01], [0.01, 0.02]])
    wide = np.array([[0.02, 0.0], [0.0, 0.09]])
    final, ratios, source = conservative_covariance(formal, {"null": wide, "bootstrap": None})
    assert source == "null" and set(ratios) == {"null"}
    # final − other is positive semi-definite for every estimate
    for cov in (formal, wide):
        assert np.linalg.eigvalsh(final - cov).min() > -1e-12
    # and final is the smallest multiple of formal that does so
    assert np.linalg.eigvalsh(final / 1.001 - wide).min() < 0
    same, _, src = conservative_covariance(formal, {"null": 0.5 * formal})
    assert src == "formal" and np.array_equal(same, formal)
