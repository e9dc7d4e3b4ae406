"""Point-spread model and weighted least-squares fit (Bryson et al. 2013, PASP 125, 889, §3.2).

The model is a circular Gaussian integrated exactly over square pixels plus a
constant,

    M(r, c) = A · E(r − r₀; σ) · E(c − c₀; σ) + B,
    E(u; σ) = Φ((u + ½)/σ) − Φ((u − ½)/σ),

with Φ the standard normal CDF, so A is the star's total flux (e⁻/s) and
(r₀, c₀) its (row, col) position with pixel centres at integers.  A Gaussian is
not the true TESS/Kepler pixel response, but the same model is fitted to the
out-of-transit image and to the difference image, so its shape errors largely
cancel in their offset; the mismatch shows up as a reduced χ² above 1, by which
the covariance is scaled.

Fits use :func:`scipy.optimize.least_squares` (trust-region reflective) with
residuals weighted by the per-pixel uncertainty and the analytic Jacobian; the
covariance is (JᵀWJ)⁻¹ · max(1, χ²/dof).
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from scipy.optimize import least_squares
from scipy.special import ndtr

__all__ = ["SIGMA_BOUNDS", "PSFFit", "fit_psf", "matched_filter_peak", "pixel_gaussian"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: Allowed PSF widths (pixels) when the width is fitted.
SIGMA_BOUNDS = (0.2, 5.0)


def pixel_gaussian(u: np.ndarray, sigma: float) -> np.ndarray:
    """Fraction of a unit-area 1-D Gaussian of width ``sigma`` inside the unit pixel centred ``u`` from it."""
    return ndtr((u + 0.5) / sigma) - ndtr((u - 0.5) / sigma)


def _pixel_gaussian_derivs(u: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E(u), ∂E/∂u and ∂E/∂σ."""
    a, b = (u + 0.5) / sigma, (u - 0.5) / sigma
    pa, pb = _INV_SQRT_2PI * np.exp(-0.5 * a * a), _INV_SQRT_2PI * np.exp(-0.5 * b * b)
    return ndtr(a) - ndtr(b), (pa - pb) / sigma, -(a * pa - b * pb) / sigma


@attrs.frozen(eq=False)
class PSFFit:
    """Result of :func:`fit_psf`.

    ``params`` are (A, row, col, B[, σ]); ``covariance`` their covariance
    (scaled by max(1, χ²/dof)); ``response`` is the (p, n_pix) matrix G = (JᵀWJ)⁻¹JᵀW that
    maps a data perturbation on those pixels to a first-order parameter change.
    """

    params: np.ndarray
    covariance: np.ndarray
    sigma: float
    chi2: float
    dof: int
    response: np.ndarray
    success: bool
    message: str

    @property
    def amplitude(self) -> float:
        return float(self.params[0])

    @property
    def position(self) -> np.ndarray:
        """(row, col) in pixels."""
        return self.params[1:3].copy()

    @property
    def position_covariance(self) -> np.ndarray:
        return self.covariance[1:3, 1:3].copy()

    @property
    def amplitude_sigma(self) -> float:
        return float(math.sqrt(self.covariance[0, 0]))

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan


def _model_and_jacobian(
    p: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    sigma: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Model and Jacobian for parameters (A, r, c, B[, σ])."""
    amp, r0, c0, bkg = p[:4]
    s = float(p[4]) if sigma is None else sigma
    er, der, dsr = _pixel_gaussian_derivs(rows - r0, s)
    ec, dec, dsc = _pixel_gaussian_derivs(cols - c0, s)
    jac = [er * ec, -amp * der * ec, -amp * er * dec, np.ones_like(er)]
    if sigma is None:
        jac.append(amp * (dsr * ec + er * dsc))
    return amp * er * ec + bkg, np.column_stack(jac)


def fit_psf(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    error: np.ndarray,
    start: tuple[float, float, float, float],
    *,
    sigma: float | None = None,
    sigma_start: float = 1.0,
    bounds_rc: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> PSFFit:
    """Fit the model to ``data`` ± ``error`` at pixel centres (``rows``, ``cols``).

    ``start`` is (A, row, col, B).  With ``sigma`` given the PSF width is held
    fixed, otherwise it is fitted from ``sigma_start``.  ``bounds_rc`` limits the
    position ((row_min, row_max), (col_min, col_max)).
    """
    free_sigma = sigma is None
    x0 = np.array([*start, sigma_start] if free_sigma else start, dtype=float)
    (rlo, rhi), (clo, chi) = bounds_rc or ((-np.inf, np.inf), (-np.inf, np.inf))
    lower = np.array([-np.inf, rlo, clo, -np.inf] + ([SIGMA_BOUNDS[0]] if free_sigma else []))
    upper = np.array([np.inf, rhi, chi, np.inf] + ([SIGMA_BOUNDS[1]] if free_sigma else []))
    x0 = np.clip(x0, np.nextafter(lower, np.inf), np.nextafter(upper, -np.inf))
    weight = 1.0 / error

    def residuals(p: np.ndarray) -> np.ndarray:
        return (_model_and_jacobian(p, rows, cols, sigma)[0] - data) * weight

    def jacobian(p: np.ndarray) -> np.ndarray:
        return _model_and_jacobian(p, rows, cols, sigma)[1] * weight[:, None]

    res = least_squares(residuals, x0, jac=jacobian, bounds=(lower, upper), method="trf", x_scale="jac")
    jw = jacobian(res.x)
    dof = data.size - x0.size
    chi2 = float(np.sum(res.fun**2))
    try:
        base_cov = np.linalg.inv(jw.T @ jw)
        ok = bool(res.success) and bool(np.all(np.isfinite(base_cov))) and dof > 0
    except np.linalg.LinAlgError:
        base_cov = np.full((x0.size, x0.size), np.nan)
        ok = False
    scale = max(1.0, chi2 / dof) if dof > 0 else math.nan
    response = base_cov @ (jw * weight[:, None]).T if ok else np.full((x0.size, data.size), np.nan)
    return PSFFit(
        params=res.x,
        covariance=base_cov * scale,
        sigma=float(res.x[4]) if free_sigma else float(sigma),  # type: ignore[arg-type]
        chi2=chi2,
        dof=int(dof),
        response=response,
        success=ok,
        message=str(res.message),
    )


def matched_filter_peak(
    rows: np.ndarray, cols: np.ndarray, data: np.ndarray, error: np.ndarray, sigma: float, step: float = 0.25
) -> tuple[float, float, float, float]:
    """Best single-source position on a sub-pixel grid: (row, col, amplitude, SNR).

    For each trial position the PSF amplitude is the weighted least-squares
    Â = Σ wPD / Σ wP² and its SNR Σ wPD / √(Σ wP²) (w = 1/error²); the grid
    point of highest SNR is returned.  This is the maximum-likelihood position
    of one point source on a flat zero background, a robust start for
    :func:`fit_psf` (unlike the brightest pixel, it is not fooled by one noisy
    or faint-background pixel).  The sums separate in row and column, so the
    whole grid costs two small matrix products.
    """
    grid_r = np.arange(rows.min(), rows.max() + step / 2, step)
    grid_c = np.arange(cols.min(), cols.max() + step / 2, step)
    er = pixel_gaussian(rows[None, :] - grid_r[:, None], sigma)  # (Gr, n)
    ec = pixel_gaussian(cols[None, :] - grid_c[:, None], sigma)  # (Gc, n)
    w = 1.0 / error**2
    num = (er * (w * data)) @ ec.T
    den = (er**2 * w) @ (ec**2).T
    snr = num / np.sqrt(den)
    i, j = np.unravel_index(int(np.nanargmax(snr)), snr.shape)
    return float(grid_r[i]), float(grid_c[j]), float(num[i, j] / den[i, j]), float(snr[i, j])
