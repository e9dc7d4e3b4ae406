"""Noise of a stacked difference image that is correlated between pixels.

Pointing jitter of a few millipixels moves the star's light between pixels
coherently: a pointing offset u changes every pixel by g·u, where g is the
gradient of the scene.  The baseline on both sides of a transit follows the
pointing, but the *mean* pointing during the few in-transit cadences differs
from it by about the jitter RMS (red jitter does not average out over one
transit), so every difference image carries a pattern ∝ g — the same in every
pixel, with a random amplitude — on top of the photon noise.  Inflating each
pixel's variance to cover it (the diagonal model) makes the pixels around a
bright target look noisy everywhere, and a signal that lies across that
pattern (a neighbour's eclipse) loses most of its significance.

This module models the noise covariance of the combined image as a
diagonal plus a low-rank part, a factor model whose patterns are measured and
whose amplitudes are set by the null images (difference images built the same
way at epochs without a transit, scaled to the combined image's noise σ):

    C = S (diag ψ + U Uᵀ) S,        S = diag σ.

The patterns G: :func:`pointing_response` regresses every pixel, over all
out-of-transit cadences of the sector, on the measured centroid (high-passed,
so only the jitter drives it; with cross terms against the slow drift, which
moves the star across the pixel grid and changes the pattern), as pixel-level
decorrelation does (Deming et al. 2015, ApJ 805, 132; Luger et al. 2016, AJ
152, 100); a residual sky level and its gradient (an imperfect background
estimate, scattered light) join them (:func:`noise_patterns`).  With z_j =
n_j / σ the null images in units of σ, U = G L with L Lᵀ the covariance of
their projections onto G (at most J/:data:`NULLS_PER_MODE` patterns), and ψ
(≥ 1) is what remains of each pixel's empirical variance.  Fits and the matched
filter then use generalised least squares with C⁻¹: a weighting that discounts
the jitter pattern only along its own direction (Gibson et al. 2012, MNRAS 419,
2683, treat correlated noise in transit light curves the same way; in pixels it
is pixel-level decorrelation kept in the noise model rather than subtracted).
Without enough null images the model is diagonal, ψ = 1.
"""

from __future__ import annotations

import attrs
import numpy as np

__all__ = [
    "HIGH_PASS_DAYS",
    "MAX_RESPONSE_CADENCES",
    "NULLS_PER_MODE",
    "NoiseModel",
    "estimate_noise",
    "noise_patterns",
    "pointing_response",
]

#: Null images needed per estimated pattern amplitude.
NULLS_PER_MODE = 5
#: Cadences used at most to measure the pointing response (an evenly strided subset beyond it: the
#: response of ~100 pixels to 2–6 regressors is set to well below a per cent by a few thousand).
MAX_RESPONSE_CADENCES = 4000
#: Width (days) of the running mean removed from the centroid and the pixels before measuring their
#: response to the jitter: longer than the jitter's correlation time (≲ 4 h), shorter than drifts.
HIGH_PASS_DAYS = 0.5


@attrs.frozen(eq=False)
class NoiseModel:
    """C = S (diag ψ + U Uᵀ) S over the valid pixels: ``sigma`` (m,) the noise scale,
    ``psi`` (m,) the diagonal excess (≥ 1), ``modes`` (m, k) the correlated part in units of σ;
    ``pointing`` (m, 2), when measured, the part of the modes due to first-order pointing jitter."""

    sigma: np.ndarray
    psi: np.ndarray
    modes: np.ndarray
    pointing: np.ndarray | None = None

    @property
    def n_modes(self) -> int:
        return int(self.modes.shape[1])

    @property
    def marginal_sigma(self) -> np.ndarray:
        """Each pixel's own standard deviation, √C_pp."""
        return self.sigma * np.sqrt(self.psi + np.sum(self.modes**2, axis=1))

    def with_gradient(self, gradient: np.ndarray) -> NoiseModel:
        """The model with the jitter's variance also along ``gradient`` (m, 2), a PSF model's change
        per pixel of shift (e⁻/s per pixel).

        A fit whose model gradient differs from the measured response to the
        pointing would otherwise draw a position from that difference alone.
        The added modes are the model gradient's best match to the measured
        first-order pointing modes, so they carry the same jitter amplitude.
        """
        if self.pointing is None:
            return self
        scaled = gradient / self.sigma[:, None]
        match = np.linalg.lstsq(scaled, self.pointing, rcond=None)[0]  # (2, 2)
        return attrs.evolve(self, modes=np.column_stack([self.modes, scaled @ match]))

    def whitener(
        self, pixels: np.ndarray | None = None, extra_variance: np.ndarray | None = None
    ) -> np.ndarray:
        """W with WᵀW = C⁻¹ on ``pixels`` (plus ``extra_variance`` on the diagonal), so that
        ‖W r‖² is the χ² of a residual r under the correlated noise.

        With A = diag(σ²ψ + extra) and A^(-1/2) S U = V diag(s) Qᵀ (thin SVD),
        W = (I − V diag(1 − (1 + s²)^(-1/2)) Vᵀ) A^(-1/2).
        """
        sel = slice(None) if pixels is None else pixels
        s = self.sigma[sel]
        diag = s**2 * self.psi[sel] + (0.0 if extra_variance is None else extra_variance)
        inv_half = 1.0 / np.sqrt(diag)
        whiten = np.diag(inv_half)
        if self.n_modes == 0:
            return whiten
        basis, sv, _ = np.linalg.svd((inv_half * s)[:, None] * self.modes[sel], full_matrices=False)
        shrink = 1.0 - 1.0 / np.sqrt(1.0 + sv**2)
        return whiten - (basis * shrink) @ (basis.T * inv_half[None, :])


def _window_sums(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums along axis 0 over centred windows of ``width`` samples (shorter at the ends), and the
    number of samples in each window (shaped to broadcast against ``values``)."""
    n = values.shape[0]
    csum = np.empty((n + 1, *values.shape[1:]))
    csum[0] = 0.0
    np.cumsum(values, axis=0, out=csum[1:])
    half = width // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    count = (hi - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    if n <= 2 * half + 1:
        return csum[hi] - csum[lo], count
    # full windows in the middle by slicing (no gather); the shortened ones at both ends
    out = np.empty(values.shape)
    out[half : n - half] = csum[2 * half + 1 :] - csum[: n - 2 * half]
    out[:half] = csum[hi[:half]] - csum[lo[:half]]
    out[n - half :] = csum[hi[n - half :]] - csum[lo[n - half :]]
    return out, count


def _running_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Centred running mean R·values along axis 0 over ``width`` samples (shorter at the ends)."""
    sums, count = _window_sums(values, width)
    return sums / count


def _running_mean_transposed(values: np.ndarray, width: int) -> np.ndarray:
    """Rᵀ·values for the running mean R of :func:`_running_mean`: the windows are the same for every
    sample, so (Rᵀv)_j = Σ_{i in window j} v_i / count_i."""
    _, count = _window_sums(values[:, :1], width)
    return _window_sums(values / count, width)[0]


def _high_pass_regression(design: np.ndarray, flux: np.ndarray, width: int) -> np.ndarray:
    """Least-squares coefficients (k, m) of the high-passed ``flux`` (n, m), F − R F with R the running
    mean over ``width`` samples, on ``design`` (n, k), n ≫ k.

    Normal equations of the column-normalised design D (a k × k system), where the
    high-passed pixels enter only through Dᵀ(F − R F) = (D − RᵀD)ᵀ F, so the running
    mean is applied (transposed) to the k design columns instead of the m pixels;
    :func:`numpy.linalg.lstsq` (an SVD over all n rows) when D is ill-conditioned.
    """
    norm = np.sqrt(np.sum(design**2, axis=0))
    scaled = design / norm
    gram = scaled.T @ scaled
    if np.linalg.cond(gram) > 1e8:
        return np.asarray(np.linalg.lstsq(design, flux - _running_mean(flux, width), rcond=None)[0])
    projected = (scaled - _running_mean_transposed(scaled, width)).T @ flux
    return np.linalg.solve(gram, projected) / norm[:, None]


def pointing_response(
    flux: np.ndarray, aperture: np.ndarray, rows: np.ndarray, cols: np.ndarray, cadence_days: float
) -> np.ndarray | None:
    """Response G (m, k) of each valid pixel to the pointing, from out-of-transit ``flux`` (n, m).

    The pointing proxy is the flux-weighted centroid of the ``aperture`` pixels
    (``rows``/``cols``: the valid pixels' positions); both it and the pixels are
    high-passed by a running mean over :data:`HIGH_PASS_DAYS`; at most
    :data:`MAX_RESPONSE_CADENCES` evenly strided cadences are used.  Columns: the
    response to the jitter in row and column, and to its products with the slow
    centroid (the pattern changes as the star drifts).  ``None`` with too few
    cadences.
    """
    stride = -(-flux.shape[0] // MAX_RESPONSE_CADENCES)
    flux, cadence_days = np.asarray(flux[::stride], dtype=float), cadence_days * stride
    n = flux.shape[0]
    if n < 50:
        return None
    light = flux[:, aperture]
    total = light.sum(axis=1)
    total = np.where(total != 0, total, 1.0)
    centroid = np.column_stack([light @ rows[aperture], light @ cols[aperture]]) / total[:, None]
    width = max(3, round(HIGH_PASS_DAYS / cadence_days))
    slow = _running_mean(centroid, width)
    fast = centroid - slow
    slow = slow - slow.mean(axis=0)
    design = np.column_stack([fast, fast[:, :1] * slow, fast[:, 1:] * slow])
    design = design[:, np.std(design, axis=0) > 0]
    if design.shape[1] == 0:
        return None
    coef = _high_pass_regression(design, flux, width)  # (k, m)
    return np.asarray(coef.T)


def noise_patterns(response: np.ndarray | None, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The patterns of correlated noise, most important first: the first-order pointing response,
    a residual sky level and its gradients across the stamp (an imperfect background estimate,
    scattered light), then the pointing response's drift terms."""
    sky = np.column_stack([np.ones(rows.size), rows - rows.mean(), cols - cols.mean()])
    if response is None:
        return sky
    return np.column_stack([response[:, :2], sky, response[:, 2:]])


def estimate_noise(
    sigma: np.ndarray, null_noise: np.ndarray, patterns: np.ndarray, *, min_null: int, pointing: bool = True
) -> NoiseModel:
    """The factor model of the module docstring from ``null_noise`` (J, m), null images scaled to the
    combined image's noise scale ``sigma`` (m,), along ``patterns`` (m, k, most important first;
    :func:`noise_patterns`); diagonal (ψ = 1) with fewer than ``min_null`` null images.
    ``pointing``: the first two patterns are the first-order pointing response (as
    :func:`noise_patterns` orders them when given one), which :attr:`NoiseModel.pointing` keeps."""
    m = sigma.size
    n_null = null_noise.shape[0]
    if n_null < min_null:
        return NoiseModel(sigma=sigma, psi=np.ones(m), modes=np.zeros((m, 0)))
    z = null_noise / sigma[None, :]
    k = min(patterns.shape[1], max(1, n_null // NULLS_PER_MODE))
    basis = patterns[:, :k] / sigma[:, None]
    amplitude = np.linalg.lstsq(basis, z.T, rcond=None)[0]  # (k, J)
    modes = basis @ _covariance_root(amplitude)
    psi = np.maximum(np.mean((z - (basis @ amplitude).T) ** 2, axis=0), 1.0)
    # the first-order jitter: the first two patterns with their own amplitudes
    jitter = basis[:, :2] @ _covariance_root(amplitude[:2]) if pointing and k >= 2 else None
    return NoiseModel(sigma=sigma, psi=psi, modes=modes, pointing=jitter)


def _covariance_root(amplitude: np.ndarray) -> np.ndarray:
    """L with L Lᵀ the second-moment matrix of the samples ``amplitude`` (k, J)."""
    cov = amplitude @ amplitude.T / amplitude.shape[1]
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    return vecs * np.sqrt(np.clip(vals, 0.0, None))[None, :]
