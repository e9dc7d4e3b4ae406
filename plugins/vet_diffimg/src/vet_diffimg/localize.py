"""Locate the star and the dimming source, with honest position uncertainties.

Following the Data Validation design (Bryson et al. 2013, PASP 125, 889, §3–4;
Twicken et al. 2018, PASP 130, 064502, §4.2):

* the out-of-transit (OOT) image is fitted with the PSF model of
  :mod:`vet_diffimg.psf` (free width) in a window around the brightest pixel
  near the target's catalogue position: the star's measured position and the
  PSF width;
* the difference image is fitted with the same model, width held at the OOT
  value (one less parameter, so shallow signals still give stable positions),
  free position, amplitude and constant, in a window around the
  matched-filter peak (:func:`vet_diffimg.psf.matched_filter_peak`).

Three covariances of the difference-image position are formed:

1. *formal*: (JᵀWJ)⁻¹ scaled by max(1, χ²/dof), with weights W from the
   propagated per-pixel noise (the excess noise seen in the null images is
   mostly correlated between pixels — pointing blur moves flux between the
   star's core and wings together — so it is carried by the empirical
   covariances below rather than by down-weighting the pixels that hold the
   signal);
2. *null*: the fit's linear response G = (JᵀWJ)⁻¹JᵀW applied to null difference
   images built the same way at epochs without a transit (real, spatially
   correlated noise such as pointing jitter, which the formal error ignores):
   C = ⟨(G n_j)(G n_j)ᵀ⟩;
3. *bootstrap* (≥ 3 transits): transits resampled with replacement, recombined,
   and mapped through G.

The linear response is the first-order change of the fitted parameters; it is
accurate when the fit is significant, which is when a position is worth quoting.
The reported covariance is the formal one scaled up just enough to enclose the
other two (the largest eigenvalue of C_formal⁻¹ C_other), i.e. the most
conservative of the three with the shape of the formal error ellipse.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from vet_diffimg.diffimage import DifferenceImage
from vet_diffimg.psf import SIGMA_BOUNDS, PSFFit, fit_psf, matched_filter_peak

__all__ = [
    "SourceErrors",
    "SourceFit",
    "bootstrap_covariance",
    "conservative_covariance",
    "fit_difference",
    "fit_oot",
    "fit_transits",
    "null_covariance",
    "source_errors",
]


@attrs.frozen(eq=False)
class SourceFit:
    """A PSF fit on ``pixels`` (indices into the valid-pixel arrays of a :class:`DifferenceImage`)."""

    fit: PSFFit
    pixels: np.ndarray

    @property
    def position(self) -> np.ndarray:
        return self.fit.position


def _window(di: DifferenceImage, centre: tuple[float, float], radius: float) -> np.ndarray:
    """Valid pixels within ``radius`` px of ``centre``; the 10 nearest if fewer (4 or 5 fit parameters)."""
    dist = np.hypot(di.rows - centre[0], di.cols - centre[1])
    pixels = np.flatnonzero(dist <= radius)
    if pixels.size < 10:
        pixels = np.argsort(dist, kind="stable")[: min(10, dist.size)]
    return np.sort(pixels)


def _bounds(di: DifferenceImage, margin: float) -> tuple[tuple[float, float], tuple[float, float]]:
    return (
        (di.rows.min() - margin, di.rows.max() + margin),
        (di.cols.min() - margin, di.cols.max() + margin),
    )


def fit_oot(
    di: DifferenceImage, target_pixel: tuple[float, float], *, radius: float, search_radius: float = 1.5
) -> SourceFit:
    """Fit the OOT image around the brightest pixel within ``search_radius`` px of the target.

    Only pixels within ``radius`` of that pixel are fitted, so other bright
    stars of the stamp barely pull the fit (a single-star fit: splitting the
    image into several Gaussians fits the wings of real, non-Gaussian PSFs with
    spurious stars).  The width is free; the fit starts from the window's
    flux-weighted centroid and total flux with a width of 1 px, and again from
    0.5 and 2 px if that fit fails or ends on a width bound (undersampled
    Kepler stamps can stall there); the best fit is kept.
    """
    dist = np.hypot(di.rows - target_pixel[0], di.cols - target_pixel[1])
    near = np.flatnonzero(dist <= max(search_radius, float(dist.min())))
    peak = near[np.argmax(di.oot[near])]
    centre = (float(di.rows[peak]), float(di.cols[peak]))
    pixels = _window(di, centre, radius)
    rows, cols, data = di.rows[pixels].astype(float), di.cols[pixels].astype(float), di.oot[pixels]
    level = float(min(np.median(data), 0.0))
    light = np.clip(data - level, 0.0, None)
    core = np.hypot(rows - centre[0], cols - centre[1]) <= 1.5
    start = (
        float(light.sum()),
        float(np.average(rows[core], weights=light[core] + 1e-12)),
        float(np.average(cols[core], weights=light[core] + 1e-12)),
        level,
    )
    bounds = ((centre[0] - radius, centre[0] + radius), (centre[1] - radius, centre[1] + radius))
    fits = []
    for width in (1.0, 0.5, 2.0):
        fits.append(
            fit_psf(
                rows, cols, data, di.oot_sigma[pixels], start, sigma=None, sigma_start=width, bounds_rc=bounds
            )
        )
        if fits[0].success and 1.01 * SIGMA_BOUNDS[0] < fits[0].sigma < SIGMA_BOUNDS[1] / 1.01:
            break
    best = min(fits, key=lambda f: (not f.success, f.chi2))
    return SourceFit(fit=best, pixels=pixels)


def fit_difference(
    di: DifferenceImage, sigma: float, *, radius: float, free_width: bool = False
) -> tuple[SourceFit, float]:
    """Fit the difference image; also returns the matched-filter SNR of the start position.

    The width is held at ``sigma`` (the OOT fit's) unless ``free_width``.  The
    matched-filter search weighs pixels by their final (empirically inflated)
    noise, so a pixel with excess systematics cannot seed the fit; the fit
    itself is weighted by the propagated noise (see the module docstring).
    """
    rows, cols = di.rows.astype(float), di.cols.astype(float)
    r0, c0, amplitude, snr = matched_filter_peak(rows, cols, di.diff, di.sigma, sigma)
    pixels = _window(di, (r0, c0), radius)
    fit = fit_psf(
        rows[pixels],
        cols[pixels],
        di.diff[pixels],
        di.sigma_prop[pixels],
        (amplitude, r0, c0, 0.0),
        sigma=None if free_width else sigma,
        sigma_start=sigma,
        bounds_rc=_bounds(di, 1.0),
    )
    return SourceFit(fit=fit, pixels=pixels), snr


def fit_transits(source: SourceFit, di: DifferenceImage) -> list[PSFFit]:
    """The same fit on each transit's own difference image, started from the combined fit."""
    pix = source.pixels
    rows, cols = di.rows[pix].astype(float), di.cols[pix].astype(float)
    sigmas = np.sqrt(di.per_transit.var[:, pix])
    amplitude, row, col, level = (float(v) for v in source.fit.params[:4])
    start = (amplitude, row, col, level)
    return [
        fit_psf(rows, cols, d[pix], s, start, sigma=source.fit.sigma, bounds_rc=_bounds(di, 1.0))
        for d, s in zip(di.per_transit.diff, sigmas, strict=True)
    ]


def null_covariance(source: SourceFit, di: DifferenceImage) -> np.ndarray | None:
    """Parameter covariance from the fit's response to the null images (``None`` without them)."""
    if di.n_null == 0:
        return None
    shifts = di.null_noise[:, source.pixels] @ source.fit.response.T  # (J, p)
    return shifts.T @ shifts / shifts.shape[0]


def bootstrap_covariance(
    source: SourceFit, di: DifferenceImage, n_boot: int, rng: np.random.Generator
) -> np.ndarray | None:
    """Parameter covariance from resampling the transits with replacement (``None`` below 3 transits)."""
    k = len(di.transits)
    if k < 3 or n_boot < 2:
        return None
    pix = source.pixels
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(float)  # (B, K)
    weight = 1.0 / di.per_transit.var[:, pix]
    resampled = (counts @ (weight * di.per_transit.diff[:, pix])) / (counts @ weight)
    shifts = (resampled - di.diff[pix]) @ source.fit.response.T
    return np.atleast_2d(np.cov(shifts, rowvar=False))


@attrs.frozen(eq=False)
class SourceErrors:
    """Uncertainties of a difference-image fit: the reported (row, col) covariance, the
    amplitude's most conservative σ, the variance ratio of each empirical estimate to the formal
    one, and which estimate set the covariance."""

    position_covariance: np.ndarray
    amplitude_sigma: float
    ratios: dict[str, float]
    source: str


def source_errors(
    source: SourceFit, di: DifferenceImage, n_boot: int, rng: np.random.Generator
) -> SourceErrors:
    """Formal, null and bootstrap covariances of ``source`` combined conservatively."""
    formal = source.fit.covariance
    empirical = {
        "null": null_covariance(source, di),
        "bootstrap": bootstrap_covariance(source, di, n_boot, rng),
    }
    cov, ratios, name = conservative_covariance(
        formal[1:3, 1:3], {k: None if c is None else c[1:3, 1:3] for k, c in empirical.items()}
    )
    amp_var = max([formal[0, 0]] + [c[0, 0] for c in empirical.values() if c is not None])
    return SourceErrors(
        position_covariance=cov, amplitude_sigma=float(np.sqrt(amp_var)), ratios=ratios, source=name
    )


def conservative_covariance(
    formal: np.ndarray,
    others: Mapping[str, np.ndarray | None],
) -> tuple[np.ndarray, dict[str, float], str]:
    """Scale ``formal`` until it encloses every other covariance.

    Returns the scaled covariance, the variance ratio λ_max(C_formal⁻¹ C) of
    each available estimate, and the name of the one that set the scale
    (``"formal"`` when none exceeds it).
    """
    chol = np.linalg.cholesky(formal)
    ratios: dict[str, float] = {}
    for name, cov in others.items():
        if cov is None or not np.all(np.isfinite(cov)):
            continue
        half = np.linalg.solve(chol, np.linalg.solve(chol, cov).T)
        ratios[name] = float(np.linalg.eigvalsh(0.5 * (half + half.T)).max())
    source = max(ratios, key=ratios.__getitem__, default="formal")
    scale = ratios.get(source, 1.0)
    if scale <= 1.0:
        return formal, ratios, "formal"
    return formal * scale, ratios, source
