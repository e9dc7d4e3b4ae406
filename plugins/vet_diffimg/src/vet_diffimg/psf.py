"""Point-spread model fitted to the data, and weighted least-squares position fits.

Real TESS and Kepler PSFs are not circular Gaussians: a sharp core with
extended wings, some ellipticity, and a shape that changes from sector to
sector.  The model here is an elliptical Gaussian core plus a concentric halo
of the same ellipticity and orientation, ``halo_scale`` times wider, carrying
``halo_fraction`` of the light, integrated over square pixels (numerically, on
a 5×5 sub-pixel grid) plus a constant:

    M(r, c) = A · P(r − r₀, c − c₀; shape) + B.

Its shape (core widths along rows and columns, their correlation, halo fraction
and scale) is fitted to the out-of-transit image of the same sector — a
high-S/N picture of the PSF the data have (:func:`fit_shape`) — and then held
fixed when the difference image is fitted (:func:`fit_position`, free A, r₀,
c₀, B), as the Data Validation difference-image centroiding does with its PRF
model (Bryson et al. 2013, PASP 125, 889, §3.2; Twicken et al. 2018, PASP 130,
064502).  Shape errors that remain (e.g. an asymmetric PSF) bias both fits the
same way, so they cancel to first order in the offset between the two; they
show as a reduced χ² above 1, by which the covariance is scaled, and the
check flags fits with a large one.

Fits use :func:`scipy.optimize.least_squares` (trust-region reflective) with
residuals weighted by the per-pixel uncertainty; the covariance is (JᵀWJ)⁻¹ ·
max(1, χ²/dof).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

__all__ = ["PSFFit", "PSFShape", "fit_position", "fit_shape", "matched_filter_peak"]

_SUB = 5
_OFFSETS = (np.arange(_SUB) + 0.5) / _SUB - 0.5
_SUB_R = np.repeat(_OFFSETS, _SUB)
_SUB_C = np.tile(_OFFSETS, _SUB)

#: Bounds of the shape parameters: core widths (px), correlation, halo fraction, halo scale.
WIDTH_BOUNDS = (0.3, 5.0)
RHO_BOUNDS = (-0.8, 0.8)
HALO_FRACTION_BOUNDS = (0.0, 0.6)
HALO_SCALE_BOUNDS = (1.5, 4.0)


@attrs.frozen
class PSFShape:
    """Shape of the PSF model (see the module docstring); a circular Gaussian has
    ``sigma_row == sigma_col``, ``rho == 0`` and ``halo_fraction == 0``."""

    sigma_row: float = 1.0
    sigma_col: float = 1.0
    rho: float = 0.0
    halo_fraction: float = 0.0
    halo_scale: float = 3.0

    @property
    def width(self) -> float:
        """Geometric-mean core width (pixels)."""
        return math.sqrt(self.sigma_row * self.sigma_col)

    def values(self) -> tuple[float, ...]:
        return (self.sigma_row, self.sigma_col, self.rho, self.halo_fraction, self.halo_scale)

    def pixels(self, rows: np.ndarray, cols: np.ndarray, r0: Any, c0: Any) -> np.ndarray:
        """Unit-flux model integrated over the pixels centred at (``rows``, ``cols``).

        ``r0``/``c0`` may be arrays of positions (shape ``(g,)``): the result is then ``(g, n)``.
        """
        r0 = np.asarray(r0, dtype=float)[..., None, None]
        c0 = np.asarray(c0, dtype=float)[..., None, None]
        dr = rows[:, None] + _SUB_R[None, :] - r0
        dc = cols[:, None] + _SUB_C[None, :] - c0
        sr, sc, rho = self.sigma_row, self.sigma_col, self.rho
        one = 1.0 - rho * rho
        q = (dr * dr / (sr * sr) - 2.0 * rho * dr * dc / (sr * sc) + dc * dc / (sc * sc)) / one
        norm = 1.0 / (2.0 * math.pi * sr * sc * math.sqrt(one))
        h = self.halo_scale
        value = (1.0 - self.halo_fraction) * norm * np.exp(-0.5 * q)
        if self.halo_fraction > 0:
            value = value + self.halo_fraction * norm / (h * h) * np.exp(-0.5 * q / (h * h))
        return value.mean(axis=-1)

    def pixels_and_gradient(
        self, rows: np.ndarray, cols: np.ndarray, r0: float, c0: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`pixels` at one position (n,) and its analytic derivatives (n, 7) with respect to
        (r0, c0, sigma_row, sigma_col, rho, halo_fraction, halo_scale)."""
        dr = rows[:, None] + _SUB_R[None, :] - r0
        dc = cols[:, None] + _SUB_C[None, :] - c0
        sr, sc, rho, frac, h = self.values()
        one = 1.0 - rho * rho
        cross = dr * dc / (sr * sc)
        q = (dr * dr / (sr * sr) - 2.0 * rho * cross + dc * dc / (sc * sc)) / one
        norm = 1.0 / (2.0 * math.pi * sr * sc * math.sqrt(one))
        core = norm * np.exp(-0.5 * q)
        halo = norm / (h * h) * np.exp(-0.5 * q / (h * h))
        value = (1.0 - frac) * core + frac * halo
        d_q = -0.5 * ((1.0 - frac) * core + frac * halo / (h * h))  # ∂value/∂q
        grads = (
            d_q * (-2.0 * (dr / (sr * sr) - rho * dc / (sr * sc)) / one),  # r0
            d_q * (-2.0 * (dc / (sc * sc) - rho * dr / (sr * sc)) / one),  # c0
            -value / sr + d_q * (-2.0 * (dr * dr / (sr * sr) - rho * cross) / (sr * one)),  # sigma_row
            -value / sc + d_q * (-2.0 * (dc * dc / (sc * sc) - rho * cross) / (sc * one)),  # sigma_col
            value * rho / one + d_q * (2.0 * (rho * q - cross) / one),  # rho
            halo - core,  # halo_fraction
            frac * halo * (q / (h * h * h) - 2.0 / h),  # halo_scale
        )
        return value.mean(axis=-1), np.stack([g.mean(axis=-1) for g in grads], axis=-1)


@attrs.frozen(eq=False)
class PSFFit:
    """Result of a fit: ``params`` (A, row, col, B) with their ``covariance`` (scaled by
    max(1, χ²/dof)), the ``shape`` used or fitted, and ``response``, the (4, n_pix) matrix
    G = (JᵀWJ)⁻¹JᵀW that maps a data perturbation to a first-order change of the parameters."""

    params: np.ndarray
    covariance: np.ndarray
    shape: PSFShape
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

    @property
    def sigma(self) -> float:
        """The PSF core width (geometric mean, pixels)."""
        return self.shape.width

    @property
    def shape_summary(self) -> dict[str, float]:
        return dict(
            zip(
                ("sigma_row", "sigma_col", "rho", "halo_fraction", "halo_scale"),
                self.shape.values(),
                strict=True,
            )
        )


def _finish(
    res: Any, jw: np.ndarray, weight: np.ndarray, n_data: int, shape: PSFShape, n_free: int | None = None
) -> PSFFit:
    """Covariance and response of the (A, row, col, B) block from the weighted Jacobian ``jw``
    (``n_free`` fitted parameters; default: its columns); ``weight`` is the per-pixel 1/σ or a
    whitening matrix W (WᵀW = C⁻¹)."""
    dof = n_data - (jw.shape[1] if n_free is None else n_free)
    chi2 = float(np.sum(res.fun**2))
    # pseudo-inverse: a shape parameter without leverage (e.g. the halo scale of a halo-free fit)
    # must not make the position block singular
    cov_all = np.linalg.pinv(jw.T @ jw, rcond=1e-12, hermitian=True)
    block = cov_all[:4, :4]
    ok = (
        bool(res.success)
        and bool(np.all(np.isfinite(block)))
        and bool(np.all(np.diag(block)[:3] > 0))
        and dof > 0
    )
    scale = max(1.0, chi2 / dof) if dof > 0 else math.nan
    weighted = (jw * weight[:, None]).T if weight.ndim == 1 else jw.T @ weight
    response = (cov_all @ weighted)[:4] if ok else np.full((4, n_data), np.nan)
    return PSFFit(
        params=np.asarray(res.x[:4], dtype=float), covariance=cov_all[:4, :4] * scale, shape=shape,
        chi2=chi2, dof=int(dof), response=response, success=ok, message=str(res.message),
    )  # fmt: skip


def _weight(error: np.ndarray | None, whitener: np.ndarray | None) -> np.ndarray:
    """The per-pixel 1/σ, or the whitening matrix when one is given."""
    if whitener is not None:
        return np.asarray(whitener, dtype=float)
    if error is None:
        raise ValueError("give error or whitener")
    return 1.0 / np.asarray(error, dtype=float)


def fit_position(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    error: np.ndarray | None,
    shape: PSFShape,
    start: tuple[float, float, float, float],
    *,
    bounds_rc: tuple[tuple[float, float], tuple[float, float]] | None = None,
    background: bool = True,
    whitener: np.ndarray | None = None,
) -> PSFFit:
    """Fit amplitude, position and constant (A, row, col, B) with the PSF ``shape`` held fixed.

    Without ``background`` B stays 0 (a difference image has no sky level, and a
    free constant trades against a broad halo, inflating the amplitude's error).
    A ``whitener`` W (WᵀW = C⁻¹, e.g. :meth:`vet_diffimg.noise.NoiseModel.whitener`)
    replaces ``error`` for noise correlated between pixels (generalised least squares).
    """
    n_par = 4 if background else 3
    (rlo, rhi), (clo, chi) = bounds_rc or ((-np.inf, np.inf), (-np.inf, np.inf))
    lower = np.array([-np.inf, rlo, clo, -np.inf])[:n_par]
    upper = np.array([np.inf, rhi, chi, np.inf])[:n_par]
    x0 = np.asarray(start, dtype=float)[:n_par]
    x0 = np.clip(x0, np.nextafter(lower, np.inf), np.nextafter(upper, -np.inf))
    weight = _weight(error, whitener)
    eps = 1e-4

    def weigh(values: np.ndarray) -> np.ndarray:
        if weight.ndim == 2:
            return weight @ values
        return values * (weight if values.ndim == 1 else weight[:, None])

    def residuals(p: np.ndarray) -> np.ndarray:
        level = p[3] if background else 0.0
        return weigh(p[0] * shape.pixels(rows, cols, p[1], p[2]) + level - data)

    def jacobian(p: np.ndarray) -> np.ndarray:
        grid = shape.pixels(rows, cols, p[1] + np.array([0.0, eps, -eps, 0.0, 0.0]),
                            p[2] + np.array([0.0, 0.0, 0.0, eps, -eps]))  # fmt: skip
        d_r = p[0] * (grid[1] - grid[2]) / (2 * eps)
        d_c = p[0] * (grid[3] - grid[4]) / (2 * eps)
        return weigh(np.column_stack([grid[0], d_r, d_c, np.ones_like(data)][:n_par]))

    from scipy.optimize import least_squares  # imported where used: start-up stays light

    res = least_squares(
        residuals, x0, jac=jacobian, bounds=(lower, upper), method="trf", x_scale="jac", max_nfev=400
    )
    jw = jacobian(res.x)
    if not background:  # report B = 0 with no variance
        res.x = np.append(res.x, 0.0)
        jw = np.column_stack([jw, np.zeros(data.size)])
    return _finish(res, jw, weight, data.size, shape, n_free=n_par)


def fit_shape(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    error: np.ndarray,
    start: tuple[float, float, float, float],
    *,
    bounds_rc: tuple[tuple[float, float], tuple[float, float]] | None = None,
    start_shape: PSFShape | None = None,
    background_bounds: tuple[float, float] = (-np.inf, np.inf),
) -> PSFFit:
    """Fit (A, row, col, B) and the PSF shape together (the out-of-transit image).

    ``background_bounds`` limit B, which a broad halo can
    otherwise trade against.
    """
    s0 = start_shape or PSFShape()
    (rlo, rhi), (clo, chi) = bounds_rc or ((-np.inf, np.inf), (-np.inf, np.inf))
    lower = [-np.inf, rlo, clo, background_bounds[0], WIDTH_BOUNDS[0], WIDTH_BOUNDS[0], RHO_BOUNDS[0],
             HALO_FRACTION_BOUNDS[0], HALO_SCALE_BOUNDS[0]]  # fmt: skip
    upper = [np.inf, rhi, chi, background_bounds[1], WIDTH_BOUNDS[1], WIDTH_BOUNDS[1], RHO_BOUNDS[1],
             HALO_FRACTION_BOUNDS[1], HALO_SCALE_BOUNDS[1]]  # fmt: skip
    x0 = [*start, *s0.values()]
    lo, hi = np.array(lower), np.array(upper)
    x = np.clip(np.array(x0, dtype=float), np.nextafter(lo, np.inf), np.nextafter(hi, -np.inf))
    weight = 1.0 / error

    def residuals(p: np.ndarray) -> np.ndarray:
        shape = PSFShape(*p[4:9])
        return (p[0] * shape.pixels(rows, cols, p[1], p[2]) + p[3] - data) * weight

    def jacobian(p: np.ndarray) -> np.ndarray:
        model, grads = PSFShape(*p[4:9]).pixels_and_gradient(rows, cols, p[1], p[2])
        jac = np.column_stack([model, p[0] * grads[:, :2], np.ones_like(model), p[0] * grads[:, 2:]])
        return jac * weight[:, None]

    from scipy.optimize import least_squares  # imported where used: start-up stays light

    res = least_squares(residuals, x, bounds=(lo, hi), method="trf", x_scale="jac", jac=jacobian)
    shape = PSFShape(*(float(v) for v in res.x[4:9]))
    return _finish(res, np.asarray(res.jac), weight, data.size, shape)


def matched_filter_peak(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    error: np.ndarray | None,
    shape: PSFShape,
    step: float = 0.5,
    *,
    whitener: np.ndarray | None = None,
) -> tuple[float, float, float, float]:
    """Best single-source position on a sub-pixel grid over the whole stamp: (row, col, amplitude, SNR).

    For each trial position the PSF amplitude is the generalised least-squares
    Â = PᵀC⁻¹D / PᵀC⁻¹P and its SNR PᵀC⁻¹D / √(PᵀC⁻¹P), with C = diag(error²) or
    C⁻¹ = WᵀW for a ``whitener`` W: the per-pixel depth/SNR map stacked through
    the PSF, whose maximum is the maximum-likelihood position of one point
    source wherever it is in the stamp (not only where the aperture sees it),
    and a robust start for :func:`fit_position` (unlike the brightest pixel, it
    is not fooled by one noisy pixel).
    """
    rows, cols = rows.astype(float), cols.astype(float)
    grid_r = np.arange(rows.min(), rows.max() + step / 2, step)
    grid_c = np.arange(cols.min(), cols.max() + step / 2, step)
    gr, gc = (g.ravel() for g in np.meshgrid(grid_r, grid_c, indexing="ij"))
    psf = _grid_pixels(shape, rows, cols, grid_r, grid_c)  # (g, n)
    weight = _weight(error, whitener)
    if weight.ndim == 2:
        psf, data = psf @ weight.T, weight @ data
    else:
        psf, data = psf * weight[None, :], data * weight
    num = psf @ data
    den = np.sum(psf**2, axis=1)
    snr = num / np.sqrt(den)
    i = int(np.nanargmax(snr))
    return float(gr[i]), float(gc[i]), float(num[i] / den[i]), float(snr[i])


def _grid_pixels(
    shape: PSFShape, rows: np.ndarray, cols: np.ndarray, grid_r: np.ndarray, grid_c: np.ndarray
) -> np.ndarray:
    """``shape.pixels`` at every position of the grid ``grid_r`` × ``grid_c`` (row-major): (g, n).

    The model depends only on a pixel's offset from the position, and on a grid
    whose step divides the pixel (0.5 px) few distinct offsets recur: each
    distinct (row offset, column offset) is rendered once and gathered, unless
    that would render more than the direct evaluation.
    """
    d_r, i_r = np.unique(rows[None, :] - grid_r[:, None], return_inverse=True)
    d_c, i_c = np.unique(cols[None, :] - grid_c[:, None], return_inverse=True)
    if d_r.size * d_c.size >= grid_r.size * grid_c.size * rows.size:
        gr, gc = (g.ravel() for g in np.meshgrid(grid_r, grid_c, indexing="ij"))
        return shape.pixels(rows, cols, gr, gc)
    table = shape.pixels(np.repeat(d_r, d_c.size), np.tile(d_c, d_r.size), 0.0, 0.0)
    table = table.reshape(d_r.size, d_c.size)
    gathered = table[i_r.reshape(grid_r.size, 1, -1), i_c.reshape(1, grid_c.size, -1)]
    return gathered.reshape(grid_r.size * grid_c.size, rows.size)
