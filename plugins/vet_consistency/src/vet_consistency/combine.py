"""Statistics of 2-D sky localizations: weighted mean, χ² consistency, pulls.

Every function works on sky offsets ``d`` of shape (K, 2) — (east, north) in
arcsec — and covariances ``C`` of shape (K, 2, 2) in arcsec², vectorised over K.
All statistics are invariant under a rotation of the sky frame
(``d → R d``, ``C → R C Rᵀ``), so the roll angle of each sector drops out.

With independent Gaussian measurements of one position (Bryson et al. 2013,
PASP 125, 889, §4 combine multi-quarter offsets the same way):

* inverse-covariance weighted mean  d̄ = (Σ C_k⁻¹)⁻¹ Σ C_k⁻¹ d_k,  Cov(d̄) = C̄ = (Σ C_k⁻¹)⁻¹;
* consistency  χ² = Σ (d_k − d̄)ᵀ C_k⁻¹ (d_k − d̄), distributed as χ² with 2(K − 1) dof;
* the pull of measurement k is the Mahalanobis length of its residual r_k = d_k − d̄
  with respect to the residual's own covariance Cov(r_k) = C_k − C̄ (d̄ contains d_k,
  so C_k alone would understate the pull); pull² ~ χ²(2) for each k;
* the significance of an offset d with covariance C is the Mahalanobis distance
  D = √(dᵀ C⁻¹ d); D² ~ χ²(2), so its p-value is exp(−D²/2).

Two corrections keep the mean's covariance honest when the inputs are not
ideal (both standard in combining measurements of one quantity):

* :func:`add_systematic` adds an isotropic systematic variance σ_sys,k² to each
  C_k *before* combining.  It stands for the error of the PSF/PRF model and of
  the pixel-to-sky mapping of each sector, which the formal error of a fit does
  not contain and which does not shrink with the signal-to-noise; because each
  sector has its own PSF, roll and pixel phase, it is independent between
  sectors and averages down as 1/√K, never below the floor of one sector.  The
  same budget (statistical error ⊕ a systematic floor per quarter/sector) is
  used for the Kepler and TESS Data Validation centroid offsets (Bryson et al.
  2013, PASP 125, 889; Twicken et al. 2018, PASP 130, 064502);
* :func:`scale_factor` is the Birge ratio S = √(χ²/dof) of the combination:
  when the measurements scatter more than their errors allow (S > 1), the
  covariance of the mean is multiplied by S², as the Particle Data Group does
  for its averages (Birge 1932, Phys. Rev. 40, 207; PDG, Workman et al. 2022,
  PTEP 2022, 083C01, Introduction §5.2.2); S < 1 is left alone.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

__all__ = [
    "Combination",
    "Significance",
    "add_systematic",
    "as_offsets",
    "combine",
    "compare",
    "covariance_problem",
    "gaussian_sigma",
    "scale_factor",
    "significance",
    "weighted_mean",
]

#: Smallest eigenvalue ratio λ_min/λ_max of a covariance accepted as invertible
#: (a numerical limit of float64 inversion, not a science threshold).
CONDITION_LIMIT = 1e-12

#: A residual covariance C_k − C̄ whose smallest eigenvalue is below this fraction
#: of C_k's largest is treated as singular (the measurement *is* the mean, e.g. K = 1);
#: well above the rounding error of the subtraction.
RESIDUAL_LIMIT = 1e-9


@attrs.frozen
class Significance:
    """Departure of a 2-D offset from zero (or of two positions from each other).

    ``mahalanobis`` is D = √(dᵀC⁻¹d); ``p_value`` = P(χ²₂ ≥ D²) = exp(−D²/2);
    ``sigma_equiv`` is the two-sided Gaussian z with the same p-value (a 2-D
    D = 3 corresponds to p = 0.011, i.e. 2.5σ in one dimension).
    """

    mahalanobis: float
    p_value: float
    sigma_equiv: float


@attrs.frozen(eq=False)
class Combination:
    """Weighted mean of K localizations and their mutual consistency.

    ``pulls`` (K,) are NaN where Cov(r_k) = C_k − C̄ is singular (always for K = 1).
    ``chi2_p_value`` is NaN for K = 1 (no test possible).
    """

    mean: np.ndarray
    covariance: np.ndarray
    chi2: float
    dof: int
    chi2_p_value: float
    pulls: np.ndarray

    @property
    def n(self) -> int:
        return int(self.pulls.shape[0])

    @property
    def scale_factor(self) -> float:
        """The Birge ratio S = max(1, √(χ²/dof)) (1 without a test); see :func:`scale_factor`."""
        return scale_factor(self.chi2, self.dof)

    @property
    def chi2_sigma_equiv(self) -> float:
        """Two-sided Gaussian z of the χ² p-value (NaN without a test)."""
        if self.dof <= 0:
            return math.nan
        from scipy import stats

        return gaussian_sigma(float(stats.chi2.logsf(self.chi2, self.dof)))


def as_offsets(offsets: Any, covariances: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(d (K, 2), C (K, 2, 2))`` as float arrays (C symmetrised)."""
    d = np.asarray(offsets, dtype=float)
    c = np.asarray(covariances, dtype=float)
    if d.ndim != 2 or d.shape[1] != 2:
        raise ValueError(f"offsets must have shape (K, 2), got {d.shape}")
    if c.shape != (d.shape[0], 2, 2):
        raise ValueError(f"covariances must have shape ({d.shape[0]}, 2, 2), got {c.shape}")
    if d.shape[0] == 0:
        raise ValueError("need at least one localization")
    return d, 0.5 * (c + np.swapaxes(c, 1, 2))


def add_systematic(covariances: Any, sigma_arcsec: Any) -> np.ndarray:
    """C_k + σ_k² I for covariances (K, 2, 2) and systematic errors σ_k (K,) or a scalar (arcsec)."""
    c = np.asarray(covariances, dtype=float)
    sig = np.broadcast_to(np.asarray(sigma_arcsec, dtype=float), c.shape[:1])
    if np.any(~np.isfinite(sig)) or np.any(sig < 0):
        raise ValueError("systematic errors must be finite and non-negative")
    return c + (sig**2)[:, None, None] * np.eye(2)


def scale_factor(chi2: float, dof: int) -> float:
    """Birge ratio S = √(χ²/dof), floored at 1; 1 when there is no test (dof = 0).

    The PDG scale factor: when independent measurements of one quantity scatter
    more than their quoted errors allow, the error of their weighted mean is
    multiplied by S (its covariance by S²).  It widens the error to what the
    scatter shows without deciding which measurement is wrong.
    """
    if dof <= 0 or not math.isfinite(chi2):
        return 1.0
    return math.sqrt(max(chi2 / dof, 1.0))


def covariance_problem(offset: Any, covariance: Any) -> str | None:
    """Why a localization cannot enter a combination, or ``None`` if it can.

    Rejects non-finite offsets or covariances, asymmetric covariances and
    covariances that are not positive definite (λ_min ≤ CONDITION_LIMIT·λ_max).
    """
    d = np.asarray(offset, dtype=float)
    c = np.asarray(covariance, dtype=float)
    if d.shape != (2,) or c.shape != (2, 2):
        return f"bad shapes: offset {d.shape}, covariance {c.shape}"
    if not np.all(np.isfinite(d)):
        return "non-finite offset"
    if not np.all(np.isfinite(c)):
        return "non-finite covariance"
    if not math.isclose(c[0, 1], c[1, 0], rel_tol=1e-6, abs_tol=1e-12 * float(np.abs(c).max())):
        return "asymmetric covariance"
    eig = np.linalg.eigvalsh(c)
    if eig[-1] <= 0 or eig[0] <= CONDITION_LIMIT * eig[-1]:
        return "covariance not positive definite"
    return None


def gaussian_sigma(log_p: float) -> float:
    """Two-sided Gaussian z for a p-value given as ``log(p)`` (no underflow for tiny p)."""
    if not math.isfinite(log_p):
        return math.inf if log_p == -math.inf else math.nan
    from scipy import special

    return float(max(-special.ndtri_exp(log_p - math.log(2.0)), 0.0))


def significance(offset: Any, covariance: Any) -> Significance:
    """Mahalanobis distance of ``offset`` from zero, with its χ²₂ p-value and z."""
    d = np.asarray(offset, dtype=float)
    d2 = float(d @ np.linalg.solve(np.asarray(covariance, dtype=float), d))
    d2 = max(d2, 0.0)
    log_p = -0.5 * d2
    return Significance(mahalanobis=math.sqrt(d2), p_value=math.exp(log_p), sigma_equiv=gaussian_sigma(log_p))


def compare(offset_a: Any, cov_a: Any, offset_b: Any, cov_b: Any) -> Significance:
    """Significance of the difference of two positions, with covariance C_a + C_b.

    For two estimates from the *same* pixels (e.g. a centroid shift and a
    difference-image fit of one sector) the errors are positively correlated,
    so C_a + C_b overstates the variance of the difference and the test is
    conservative: a significant result is a real disagreement.
    """
    diff = np.asarray(offset_a, dtype=float) - np.asarray(offset_b, dtype=float)
    return significance(diff, np.asarray(cov_a, dtype=float) + np.asarray(cov_b, dtype=float))


def weighted_mean(offsets: Any, covariances: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-covariance weighted mean d̄ (2,) and its covariance C̄ (2, 2)."""
    d, c = as_offsets(offsets, covariances)
    inv = np.linalg.inv(c)
    cov = np.linalg.inv(inv.sum(axis=0))
    mean = cov @ np.einsum("kij,kj->i", inv, d)
    return mean, 0.5 * (cov + cov.T)


def combine(offsets: Any, covariances: Any) -> Combination:
    """Weighted mean, χ² about it with 2(K − 1) dof, its p-value and per-measurement pulls."""
    d, c = as_offsets(offsets, covariances)
    mean, cov = weighted_mean(d, c)
    resid = d - mean
    inv = np.linalg.inv(c)
    chi2 = float(np.einsum("ki,kij,kj->", resid, inv, resid))
    k = d.shape[0]
    dof = 2 * (k - 1)
    from scipy import stats

    p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
    return Combination(
        mean=mean, covariance=cov, chi2=chi2, dof=dof, chi2_p_value=p, pulls=_pulls(resid, c, c - cov)
    )


def _pulls(resid: np.ndarray, cov: np.ndarray, resid_cov: np.ndarray) -> np.ndarray:
    """√(r_kᵀ R_k⁻¹ r_k) for each k; NaN where R_k = C_k − C̄ is (numerically) singular."""
    out = np.full(resid.shape[0], np.nan)
    scale = np.linalg.eigvalsh(cov)[:, 1]
    ok = np.linalg.eigvalsh(resid_cov)[:, 0] > RESIDUAL_LIMIT * scale
    if np.any(ok):
        sol = np.linalg.solve(resid_cov[ok], resid[ok][..., None])[..., 0]
        out[ok] = np.sqrt(np.maximum(np.einsum("ki,ki->k", resid[ok], sol), 0.0))
    return out
