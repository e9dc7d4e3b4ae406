"""Unit tests of vet_consistency.combine against hand-computed answers."""

import math

import numpy as np
import pytest

from vet_consistency.combine import (
    add_systematic,
    combine,
    compare,
    covariance_problem,
    gaussian_sigma,
    scale_factor,
    significance,
    weighted_mean,
)


def rotation(theta_deg: float) -> np.ndarray:
    t = math.radians(theta_deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def random_case(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """K offsets with random, correlated, well-conditioned covariances."""
    a = rng.normal(size=(k, 2, 2))
    cov = a @ np.swapaxes(a, 1, 2) + 0.5 * np.eye(2)
    return rng.normal(0.0, 5.0, size=(k, 2)), cov * 4.0


def test_equal_weights_two_points():
    # (1,0) and (3,0), unit covariances: mean (2,0), C̄ = I/2, χ² = 1 + 1 = 2 with 2 dof, p = e^{-1}.
    comb = combine([[1.0, 0.0], [3.0, 0.0]], [np.eye(2), np.eye(2)])
    np.testing.assert_allclose(comb.mean, [2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(comb.covariance, 0.5 * np.eye(2), atol=1e-12)
    assert comb.chi2 == pytest.approx(2.0, abs=1e-12)
    assert comb.dof == 2
    assert comb.chi2_p_value == pytest.approx(math.exp(-1.0), rel=1e-12)
    # residuals ±1 with Cov(r) = I − I/2 = I/2: pull = √(1/0.5) = √2 each
    np.testing.assert_allclose(comb.pulls, [math.sqrt(2.0)] * 2, rtol=1e-12)


def test_unequal_diagonal_weights():
    # east: values 0 and 2 with variances 1 and 3 → mean 0.5, var 0.75
    # north: values 0 and 2 with variances 4 and 4 → mean 1, var 2
    d = [[0.0, 0.0], [2.0, 2.0]]
    c = [np.diag([1.0, 4.0]), np.diag([3.0, 4.0])]
    mean, cov = weighted_mean(d, c)
    np.testing.assert_allclose(mean, [0.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(cov, np.diag([0.75, 2.0]), atol=1e-12)
    comb = combine(d, c)
    # χ² = 0.5²/1 + 1.5²/3 + 1²/4 + 1²/4 = 0.25 + 0.75 + 0.5 = 1.5
    assert comb.chi2 == pytest.approx(1.5, abs=1e-12)
    # residual covariances C_k − C̄: diag(0.25, 2) and diag(2.25, 2); residuals (−0.5, −1), (1.5, 1)
    # pull² = 0.25/0.25 + 1/2 = 1.5 and 2.25/2.25 + 1/2 = 1.5
    np.testing.assert_allclose(comb.pulls, [math.sqrt(1.5)] * 2, rtol=1e-12)


def test_weighted_mean_matches_generalised_least_squares():
    rng = np.random.default_rng(3)
    d, c = random_case(rng, 5)
    # GLS for a constant 2-vector: stack the measurements, weight by the block-diagonal inverse covariance
    w = np.zeros((10, 10))
    for k in range(5):
        w[2 * k : 2 * k + 2, 2 * k : 2 * k + 2] = np.linalg.inv(c[k])
    a = np.tile(np.eye(2), (5, 1))
    cov_ref = np.linalg.inv(a.T @ w @ a)
    mean_ref = cov_ref @ a.T @ w @ d.ravel()
    comb = combine(d, c)
    np.testing.assert_allclose(comb.mean, mean_ref, rtol=1e-10)
    np.testing.assert_allclose(comb.covariance, cov_ref, rtol=1e-10)
    resid = d.ravel() - a @ mean_ref
    assert comb.chi2 == pytest.approx(float(resid @ w @ resid), rel=1e-10)
    assert comb.dof == 8


def test_single_measurement_has_no_test():
    comb = combine([[4.0, -2.0]], [np.diag([2.0, 3.0])])
    np.testing.assert_allclose(comb.mean, [4.0, -2.0])
    np.testing.assert_allclose(comb.covariance, np.diag([2.0, 3.0]))
    assert comb.dof == 0 and comb.chi2 == pytest.approx(0.0, abs=1e-20)
    assert math.isnan(comb.chi2_p_value) and math.isnan(comb.chi2_sigma_equiv)
    assert np.isnan(comb.pulls).all()


@pytest.mark.parametrize("theta", [17.0, 90.0, 213.0])
def test_rotation_invariance(theta):
    rng = np.random.default_rng(11)
    d, c = random_case(rng, 4)
    r = rotation(theta)
    a, b = combine(d, c), combine(d @ r.T, r @ c @ r.T)
    assert b.chi2 == pytest.approx(a.chi2, rel=1e-10)
    assert b.chi2_p_value == pytest.approx(a.chi2_p_value, rel=1e-9)
    np.testing.assert_allclose(b.pulls, a.pulls, rtol=1e-9)
    np.testing.assert_allclose(b.mean, r @ a.mean, atol=1e-10)
    np.testing.assert_allclose(b.covariance, r @ a.covariance @ r.T, atol=1e-10)
    sa, sb = significance(a.mean, a.covariance), significance(b.mean, b.covariance)
    assert sb.mahalanobis == pytest.approx(sa.mahalanobis, rel=1e-10)


def test_chi2_and_pull_distributions_under_the_null():
    """Simulated consistent measurements: ⟨χ²⟩ = 2(K−1), ⟨pull²⟩ = 2, p-values uniform."""
    rng = np.random.default_rng(5)
    k, n_trials = 4, 1500
    chi2, pull2, pvals = [], [], []
    for _ in range(n_trials):
        _, c = random_case(rng, k)
        noise = np.einsum("kij,kj->ki", np.linalg.cholesky(c), rng.normal(size=(k, 2)))
        comb = combine(noise + np.array([3.0, -7.0]), c)
        chi2.append(comb.chi2)
        pull2.extend(comb.pulls**2)
        pvals.append(comb.chi2_p_value)
    # standard errors: χ²₆ has sd √12 → sd of the mean 0.09; pull² (χ²₂) sd 2 → 0.026 over 6000
    assert np.mean(chi2) == pytest.approx(6.0, abs=0.3)
    assert np.mean(pull2) == pytest.approx(2.0, abs=0.1)
    assert np.mean(np.array(pvals) < 0.05) == pytest.approx(0.05, abs=0.02)


def test_significance_known_values():
    s = significance([3.0, 4.0], 25.0 * np.eye(2))  # D = 5/5 = 1
    assert s.mahalanobis == pytest.approx(1.0)
    assert s.p_value == pytest.approx(math.exp(-0.5))
    assert s.sigma_equiv == pytest.approx(0.5150, abs=1e-4)  # two-sided z for p = 0.6065
    s3 = significance([3.0, 0.0], np.eye(2))
    assert s3.p_value == pytest.approx(0.011109, rel=1e-4)
    assert s3.sigma_equiv == pytest.approx(2.5392, abs=1e-3)
    far = significance([60.0, 0.0], np.eye(2))  # p = e^{-1800} underflows; z must not
    assert far.p_value == 0.0 and 59.0 < far.sigma_equiv < 60.0
    corr = significance([1.0, 1.0], [[1.0, 0.8], [0.8, 1.0]])  # dᵀC⁻¹d = 2/1.8
    assert corr.mahalanobis == pytest.approx(math.sqrt(2.0 / 1.8))


def test_gaussian_sigma_edges():
    assert gaussian_sigma(math.log(0.0455003)) == pytest.approx(2.0, abs=1e-4)
    assert gaussian_sigma(0.0) == 0.0
    assert gaussian_sigma(-math.inf) == math.inf


def test_compare_sums_covariances():
    s = compare([1.0, 0.0], np.eye(2), [-1.0, 0.0], np.eye(2))  # |Δ| = 2, C = 2I
    assert s.mahalanobis == pytest.approx(math.sqrt(2.0))


@pytest.mark.parametrize(
    ("offset", "cov", "problem"),
    [
        ([1.0, 2.0], np.eye(2), None),
        ([np.nan, 0.0], np.eye(2), "non-finite offset"),
        ([0.0, 0.0], [[1.0, np.inf], [np.inf, 1.0]], "non-finite covariance"),
        ([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]], "covariance not positive definite"),
        ([0.0, 0.0], [[-1.0, 0.0], [0.0, -2.0]], "covariance not positive definite"),
        ([0.0, 0.0], [[1.0, 0.3], [0.0, 1.0]], "asymmetric covariance"),
    ],
)
def test_covariance_problem(offset, cov, problem):
    assert covariance_problem(offset, cov) == problem


def test_shape_errors():
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        combine([1.0, 2.0], [np.eye(2)])
    with pytest.raises(ValueError, match="covariances must have shape"):
        combine([[1.0, 2.0]], [np.eye(2), np.eye(2)])
    with pytest.raises(ValueError, match="at least one"):
        combine(np.zeros((0, 2)), np.zeros((0, 2, 2)))


def test_add_systematic_is_isotropic_and_per_measurement():
    c = np.array([[[4.0, 1.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]]])
    out = add_systematic(c, [1.0, 2.0])
    assert out[0] == pytest.approx(np.array([[5.0, 1.0], [1.0, 3.0]]))
    assert out[1] == pytest.approx(5.0 * np.eye(2))
    assert add_systematic(c, 0.0) == pytest.approx(c)
    with pytest.raises(ValueError, match="non-negative"):
        add_systematic(c, [-1.0, 0.0])


def test_birge_scale_factor():
    assert scale_factor(16.0, 4) == pytest.approx(2.0)
    assert scale_factor(2.0, 4) == 1.0  # better than the errors: not shrunk
    assert scale_factor(5.0, 0) == 1.0 and scale_factor(math.nan, 2) == 1.0
    # three sectors 0, 10, 0″ east with 2″ errors: residuals −10/3, 20/3, −10/3, χ² = (200/3)/4 with 4 dof
    comb = combine([[0.0, 0.0], [10.0, 0.0], [0.0, 0.0]], [4.0 * np.eye(2)] * 3)
    assert comb.chi2 == pytest.approx(200.0 / 12.0)
    assert comb.scale_factor == pytest.approx(math.sqrt(comb.chi2 / 4.0))
