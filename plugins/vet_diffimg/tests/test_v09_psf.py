"""PSF model, shape and position fits, matched filter and the covariance estimates.

Test images of the position fits come from a Moffat profile (a core with power-law wings, another
family than the fitter's Gaussian core + halo), so the fits are tested on a PSF they do not model
exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from vet_diffimg.localize import conservative_covariance
from vet_diffimg.psf import PSFShape, _grid_pixels, fit_position, fit_shape, matched_filter_peak

ROWS, COLS = (a.ravel().astype(float) for a in np.mgrid[:11, :10])
SHAPE = PSFShape(sigma_row=0.8, sigma_col=1.0, rho=0.2, halo_fraction=0.3, halo_scale=3.0)


def moffat(amp, row, col, alpha=1.1, beta=2.5, q=0.85, sub=9):
    """A pixel-integrated elliptical Moffat profile of total flux ``amp`` (axis ratio ``q``)."""
    off = (np.arange(sub) + 0.5) / sub - 0.5
    dr = ROWS[:, None, None] + off[None, :, None] - row
    dc = COLS[:, None, None] + off[None, None, :] - col
    r2 = (dr / q) ** 2 + dc**2
    norm = (beta - 1) / (np.pi * alpha**2 * q)
    return amp * norm * ((1 + r2 / alpha**2) ** (-beta)).mean(axis=(1, 2))


def test_unit_flux_model_integrates_to_one():
    rows, cols = (a.ravel().astype(float) for a in np.mgrid[-30:31, -30:31])
    assert SHAPE.pixels(rows, cols, 0.3, -0.2).sum() == pytest.approx(1.0, abs=2e-3)
    # and is centred where asked (first moments)
    img = SHAPE.pixels(rows, cols, 0.3, -0.2)
    assert (img @ rows, img @ cols) == pytest.approx((0.3, -0.2), abs=1e-3)


def test_noiseless_shape_fit_recovers_every_parameter():
    data = 5000.0 * SHAPE.pixels(ROWS, COLS, 5.37, 4.21) + 12.0
    fit = fit_shape(ROWS, COLS, data, np.ones_like(data), (4000.0, 5.0, 4.0, 0.0))
    assert fit.success
    np.testing.assert_allclose(fit.params, [5000.0, 5.37, 4.21, 12.0], rtol=1e-4)
    np.testing.assert_allclose(fit.shape.values(), SHAPE.values(), rtol=1e-3, atol=1e-3)


def test_offsets_from_the_star_cancel_the_shape_error_of_a_moffat_psf():
    """Shape fitted on the 'out-of-transit' Moffat star, source 0.6 px away fitted with that shape:
    each absolute position is biased a little, their offset much less."""
    star = moffat(2e5, 5.2, 4.6)
    oot = fit_shape(ROWS, COLS, star, 1.0 + 0.02 * star, (2e5, 5.0, 4.5, 0.0))
    assert oot.success and oot.reduced_chi2 > 1.0  # the model is not a Moffat
    for d_row, d_col in ((0.6, 0.0), (0.0, -0.6), (0.4, 0.4)):
        diff = moffat(500.0, 5.2 + d_row, 4.6 + d_col)
        fit = fit_position(ROWS, COLS, diff, np.ones_like(diff), oot.shape, (400, 5.0, 4.5, 0.0))
        offset = fit.position - oot.position
        np.testing.assert_allclose(offset, [d_row, d_col], atol=0.05)  # ≤ 8 % of the offset


def test_formal_errors_describe_the_scatter_of_white_noise_fits():
    rng = np.random.default_rng(1)
    truth = 400.0 * SHAPE.pixels(ROWS, COLS, 4.6, 3.9)
    err = np.full_like(truth, 2.0)
    positions, sigmas = [], []
    for _ in range(200):
        fit = fit_position(
            ROWS, COLS, truth + rng.normal(0, 2.0, truth.size), err, SHAPE, (350.0, 4.4, 4.0, 0.0)
        )
        positions.append(fit.position)
        sigmas.append(np.sqrt(np.diag(fit.position_covariance)))
    scatter = np.std(positions, axis=0)
    quoted = np.median(sigmas, axis=0)
    np.testing.assert_allclose(scatter / quoted, 1.0, atol=0.2)
    np.testing.assert_allclose(
        np.mean(positions, axis=0), [4.6, 3.9], atol=float(3 * scatter.max() / np.sqrt(200))
    )


def test_linear_response_predicts_the_refit():
    rng = np.random.default_rng(2)
    truth = 600.0 * SHAPE.pixels(ROWS, COLS, 4.1, 3.3)
    err = np.full_like(truth, 1.5)
    base = fit_position(ROWS, COLS, truth, err, SHAPE, (600.0, 4.1, 3.3, 0.0))
    for _ in range(10):
        noise = rng.normal(0, 1.5, truth.size)
        refit = fit_position(ROWS, COLS, truth + noise, err, SHAPE, tuple(base.params))
        predicted = base.params + base.response @ noise
        np.testing.assert_allclose(refit.position, predicted[1:3], atol=0.02)


def test_matched_filter_finds_the_source_anywhere_and_ignores_a_hot_pixel():
    rng = np.random.default_rng(3)
    data = moffat(300.0, 2.4, 7.2) + rng.normal(0, 1.0, ROWS.size)
    err = np.ones_like(data)
    hot = (ROWS == 9) & (COLS == 1)
    data[hot] += 80.0  # brighter than the source's peak pixel
    row, col, amp, snr = matched_filter_peak(ROWS, COLS, data, err, SHAPE)
    assert (row, col) == pytest.approx((2.4, 7.2), abs=0.5)
    assert amp > 0
    assert snr > 20


@pytest.mark.parametrize("step", [0.5, 1.0, 0.3])
def test_grid_rendering_equals_rendering_each_position(step):
    keep = np.random.default_rng(5).random(ROWS.size) > 0.15  # a stamp with missing pixels
    rows, cols = ROWS[keep] + 40.0, COLS[keep] + 700.0
    grid_r = np.arange(rows.min(), rows.max() + step / 2, step)
    grid_c = np.arange(cols.min(), cols.max() + step / 2, step)
    gr, gc = (g.ravel() for g in np.meshgrid(grid_r, grid_c, indexing="ij"))
    direct = SHAPE.pixels(rows, cols, gr, gc)
    np.testing.assert_allclose(_grid_pixels(SHAPE, rows, cols, grid_r, grid_c), direct, rtol=1e-12, atol=0)


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
