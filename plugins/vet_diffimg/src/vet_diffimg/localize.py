"""Locate the star and the dimming source, with honest position uncertainties.

Following the Data Validation design (Bryson et al. 2013, PASP 125, 889, §3–4;
Twicken et al. 2018, PASP 130, 064502, §4.2):

* the out-of-transit (OOT) image is fitted with the PSF model of
  :mod:`vet_diffimg.psf`, its shape free (elliptical core + halo), in a window
  around the brightest pixel near the target's catalogue position: the star's
  measured position and the PSF shape of this sector;
* the difference image is fitted with the same shape held fixed, free
  position and amplitude (no constant: a difference image has no sky
  level), in a window around the matched-filter peak over the whole stamp
  (:func:`vet_diffimg.psf.matched_filter_peak`).

Covariances of the difference-image position:

1. *formal*: (JᵀC⁻¹J)⁻¹ scaled by max(1, χ²/dof) of the difference fit, with
   C the correlated noise model of :mod:`vet_diffimg.noise`;
2. *null*: the fit's linear response G = (JᵀWJ)⁻¹JᵀW applied to null difference
   images built the same way at epochs without a transit (real, spatially
   correlated noise such as pointing jitter): C = ⟨(G n_j)(G n_j)ᵀ⟩;
3. *bootstrap* (≥ 3 transits): transits resampled with replacement, recombined,
   and mapped through G.

The formal covariance is scaled up just enough to enclose the other two (the
largest eigenvalue of C_formal⁻¹ C_other).  The OOT fit's own covariance,
scaled by its reduced χ² (how badly the model describes the real PSF), is added:
the source's position relative to the star, and through the star to the
catalogue, is no better known than the star's position in the same model.

Near a bright star a source's offset looks like the star's own gradient, which
is also the pattern of pointing jitter, and a linearised covariance misjudges
a likelihood that far from Gaussian.  So, to call a source off target,
:attr:`SourceFit.star_exclusion_jitter` also tests the star itself as the
source by a likelihood ratio under a noise model whose jitter may take the
shape of the model star's gradient too (so that a small difference between the
PSF model and the measured response cannot reject the star).  The covariance
is checked against the profile likelihood along the line from the source to
the star (:func:`likelihood_scale`): where the likelihood ratio does not
exclude the star at :data:`PROBE_SIGMA`, the covariance is enlarged until it
puts the star no further out than the likelihood ratio does; where it does,
the likelihood ratio is read at the point the covariance places at
:data:`PROBE_SIGMA` towards the star, and the covariance is enlarged when the
likelihood there is broader.  So the check measures the likelihood's local
width, not its saturation far from the source (a PSF template moved by more
than its width no longer overlaps the data, and its likelihood ratio stops
growing while the linearised distance grows without bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import numpy as np

from vet_diffimg.diffimage import DifferenceImage
from vet_diffimg.noise import NoiseModel
from vet_diffimg.psf import PSFFit, PSFShape, fit_position, fit_shape, matched_filter_peak

__all__ = [
    "SourceErrors",
    "SourceFit",
    "bootstrap_covariance",
    "conservative_covariance",
    "error_scale",
    "fit_difference",
    "fit_oot",
    "fit_transits",
    "hotelling_factor",
    "likelihood_scale",
    "null_covariance",
    "source_errors",
    "star_exclusion_sigma",
]


@attrs.frozen(eq=False)
class SourceFit:
    """A PSF fit on ``pixels`` (indices into the valid-pixel arrays of a :class:`DifferenceImage`)
    under ``noise``.  For a difference fit, ``star_chi2`` is the χ² of the same data and weights with
    the source held at the star's out-of-transit position (amplitude free), and ``star_delta_chi2``
    the same comparison when the pointing jitter may also take the shape of the model star's
    gradient (:meth:`vet_diffimg.noise.NoiseModel.with_gradient`; the best fit is not re-minimised
    under that model, so the difference is a lower bound)."""

    fit: PSFFit
    pixels: np.ndarray
    star_chi2: float | None = None
    star_delta_chi2: float | None = None
    noise: NoiseModel | None = None
    whitener: np.ndarray | None = None

    def delta_chi2_at(self, di: DifferenceImage, position: np.ndarray) -> float | None:
        """χ² of the same data and weights with the source held at ``position`` (amplitude free),
        minus the best fit's (``None`` for a fit without its whitener)."""
        if self.whitener is None:
            return None
        rows, cols = di.rows[self.pixels].astype(float), di.cols[self.pixels].astype(float)
        template = self.fit.shape.pixels(rows, cols, float(position[0]), float(position[1]))
        return max(_amplitude_chi2(self.whitener, template, di.diff[self.pixels]) - self.fit.chi2, 0.0)

    @property
    def star_exclusion(self) -> float | None:
        """√(χ²_star − χ²_best): how strongly the data reject the star as the source, in σ of a
        likelihood-ratio test (no linearisation, unlike the covariance)."""
        if self.star_chi2 is None:
            return None
        return float(np.sqrt(max(self.star_chi2 - self.fit.chi2, 0.0)))

    @property
    def star_exclusion_jitter(self) -> float | None:
        """:attr:`star_exclusion` when the jitter may also look like the star's own gradient: the
        conservative test an off-target verdict needs."""
        if self.star_delta_chi2 is None:
            return None
        return float(np.sqrt(max(self.star_delta_chi2, 0.0)))

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


#: Fractional model error added in quadrature to the OOT image's noise: no analytic PSF describes a
#: high-S/N star to better than a few per cent per pixel, and without this floor the brightest
#: pixels alone would set the shape (reduced χ² in the millions).
PSF_MODEL_FLOOR = 0.02


def _moments(rows: np.ndarray, cols: np.ndarray, light: np.ndarray) -> tuple[float, float, PSFShape]:
    """Flux-weighted centre and second moments of ``light``, as a starting shape."""
    w = light / max(float(light.sum()), 1e-300)
    r, c = float(w @ rows), float(w @ cols)
    vr = max(float(w @ (rows - r) ** 2) - 1 / 12, 0.1)
    vc = max(float(w @ (cols - c) ** 2) - 1 / 12, 0.1)
    rho = float(np.clip((w @ ((rows - r) * (cols - c))) / math.sqrt(vr * vc), -0.5, 0.5))
    width = (min(math.sqrt(vr), 2.0), min(math.sqrt(vc), 2.0))
    return r, c, PSFShape(0.7 * width[0], 0.7 * width[1], rho, 0.2, 3.0)


def fit_oot(
    di: DifferenceImage, target_pixel: tuple[float, float], *, radius: float, search_radius: float = 1.5
) -> SourceFit:
    """Fit position and PSF shape to the OOT image around the brightest pixel within ``search_radius``
    px of the target.

    Only pixels within ``radius`` of that pixel are fitted, so other bright
    stars of the stamp barely pull the fit; the shape starts from the window's
    second moments.  A neighbour blended within the window is absorbed into
    an elongated shape, which biases the difference fit towards the star (see
    the README's limitations).
    Each pixel's error is its noise and :data:`PSF_MODEL_FLOOR`
    of its flux in quadrature.
    """
    dist = np.hypot(di.rows - target_pixel[0], di.cols - target_pixel[1])
    near = np.flatnonzero(dist <= max(search_radius, float(dist.min())))
    peak = near[np.argmax(di.oot[near])]
    centre = (float(di.rows[peak]), float(di.cols[peak]))
    pixels = _window(di, centre, radius)
    rows, cols, data = di.rows[pixels].astype(float), di.cols[pixels].astype(float), di.oot[pixels]
    level = float(min(np.percentile(data, 10), 0.0))
    light = np.clip(data - level, 0.0, None)
    core = np.hypot(rows - centre[0], cols - centre[1]) <= 1.5
    r0, c0, shape = _moments(rows[core], cols[core], light[core])
    bounds = ((centre[0] - 1.0, centre[0] + 1.0), (centre[1] - 1.0, centre[1] + 1.0))
    error = np.hypot(di.oot_sigma[pixels], PSF_MODEL_FLOOR * np.abs(data))
    start = (float(light.sum()), r0, c0, level)
    # the background level lies between zero and the faintest pixels of the window
    faint = float(np.percentile(data, 10))
    bkg = (min(faint, 0.0) - 1e-6 * abs(faint) - 1e-12, max(faint, 0.0) + 1e-6 * abs(faint) + 1e-12)
    fit = fit_shape(
        rows, cols, data, error, start, bounds_rc=bounds, start_shape=shape, background_bounds=bkg
    )
    return SourceFit(fit=fit, pixels=pixels)


def _star_gradient(oot: SourceFit, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The OOT fit's model star, differentiated in row and column (e⁻/s per pixel of shift), (m, 2)."""
    amplitude, row, col = (float(v) for v in oot.fit.params[:3])
    _, grads = oot.fit.shape.pixels_and_gradient(rows, cols, row, col)
    return amplitude * grads[:, :2]


def fit_difference(di: DifferenceImage, oot: SourceFit, *, radius: float) -> tuple[SourceFit, float]:
    """Fit the difference image with the OOT fit's PSF shape; also returns the matched-filter SNR of the
    start position.

    The matched-filter search covers every valid pixel of the stamp and the fit
    the pixels around its peak, both by generalised least squares under the
    correlated noise model of the difference image (:mod:`vet_diffimg.noise`),
    so neither a pixel with excess systematics nor the pointing-jitter pattern
    around a bright star can seed or pull the fit; the fit adds
    :data:`PSF_MODEL_FLOOR` of each pixel's signal to its variance.
    """
    shape = oot.fit.shape
    rows, cols = di.rows.astype(float), di.cols.astype(float)
    noise = di.noise
    r0, c0, amplitude, snr = matched_filter_peak(rows, cols, di.diff, None, shape, whitener=noise.whitener())
    pixels = _window(di, (r0, c0), radius)
    floor = (PSF_MODEL_FLOOR * di.diff[pixels]) ** 2
    whitener = noise.whitener(pixels, extra_variance=floor)
    fit = fit_position(
        rows[pixels], cols[pixels], di.diff[pixels], None, shape, (amplitude, r0, c0, 0.0),
        bounds_rc=_bounds(di, 1.0), background=False, whitener=whitener,
    )  # fmt: skip
    at_star = shape.pixels(rows[pixels], cols[pixels], *oot.position)
    best = fit.amplitude * shape.pixels(rows[pixels], cols[pixels], *fit.position)
    jitter = noise.with_gradient(_star_gradient(oot, rows, cols)).whitener(pixels, extra_variance=floor)
    star_chi2 = _amplitude_chi2(whitener, at_star, di.diff[pixels])
    delta = _amplitude_chi2(jitter, at_star, di.diff[pixels]) - float(
        np.sum((jitter @ (best - di.diff[pixels])) ** 2)
    )
    found = SourceFit(
        fit=fit, pixels=pixels, star_chi2=star_chi2, star_delta_chi2=delta, noise=noise, whitener=whitener
    )
    return found, snr


def _amplitude_chi2(whitener: np.ndarray, template: np.ndarray, data: np.ndarray) -> float:
    """χ² of ``data`` against the best multiple of ``template`` under the whitener."""
    t, d = whitener @ template, whitener @ data
    return float(d @ d - (t @ d) ** 2 / max(float(t @ t), 1e-300))


def fit_transits(source: SourceFit, di: DifferenceImage) -> list[PSFFit]:
    """The same fit on each transit's own difference image, started from the combined fit.

    Each transit's noise is the combined image's noise model scaled pixel by pixel
    by the ratio of that transit's white noise to the combined one (the pointing
    jitter of one transit is as much larger as its photon noise), else its
    propagated scatter.
    """
    pix = source.pixels
    rows, cols = di.rows[pix].astype(float), di.cols[pix].astype(float)
    per = di.per_transit
    amplitude, row, col, level = (float(v) for v in source.fit.params[:4])
    start = (amplitude, row, col, level)
    if source.noise is not None and per.white_var is not None and source.noise.n_modes:
        combined = source.noise.whitener(pix)
        ratio = np.sqrt(per.white_var[:, pix]) / source.noise.sigma[pix]  # (K, n)
        weights = [(combined / r[None, :], None) for r in ratio]
    else:
        weights = [(None, np.sqrt(v[pix])) for v in per.var]
    return [
        fit_position(
            rows,
            cols,
            d[pix],
            error,
            source.fit.shape,
            start,
            bounds_rc=_bounds(di, 1.0),
            background=False,
            whitener=whitener,
        )
        for d, (whitener, error) in zip(per.diff, weights, strict=True)
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
    """Parameter covariance from resampling the transits with replacement (``None`` below 3 transits),
    times K/(K − 1): the bootstrap variance of a mean of K values is low by (K − 1)/K (Efron &
    Tibshirani 1993, §5.2), which matters with the few transits of one sector."""
    k = len(di.transits)
    if k < 3 or n_boot < 2:
        return None
    pix = source.pixels
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(float)  # (B, K)
    weight = di.per_transit.weight[:, pix]
    resampled = (counts @ (weight * di.per_transit.diff[:, pix])) / (counts @ weight)
    shifts = (resampled - di.diff[pix]) @ source.fit.response.T
    return np.atleast_2d(np.cov(shifts, rowvar=False)) * (k / (k - 1))


@attrs.frozen(eq=False)
class SourceErrors:
    """Uncertainties of a difference-image fit: the reported (row, col) covariance of the source,
    that of its offset from the OOT fit, the amplitude's noise-only σ (formal or null images; the
    bootstrap only without null images), the variance ratio of each estimate (``chi2``: the
    difference fit's reduced χ²; ``null``, ``bootstrap``) to the unscaled formal one, which estimate
    set the covariance, the likelihood-ratio rejection of the star (σ, :func:`star_exclusion_sigma`,
    with the small-sample widening when null images set the scale) and the factor by which the
    covariance was enlarged to agree with the profile likelihood (:func:`likelihood_scale`)."""

    position_covariance: np.ndarray
    relative_covariance: np.ndarray
    amplitude_sigma: float
    ratios: dict[str, float]
    source: str
    star_exclusion: float = 0.0
    likelihood_scale: float = 1.0

    @property
    def error_scale(self) -> float:
        """The empirical variance ratio the covariance carries (:func:`error_scale`)."""
        return error_scale(self.ratios)


def error_scale(ratios: Mapping[str, float]) -> float:
    """The empirical variance ratio a covariance carries: the largest of ``ratios``, at least 1."""
    return max([1.0, *ratios.values()])


def source_errors(
    source: SourceFit, oot: SourceFit, di: DifferenceImage, n_boot: int, rng: np.random.Generator
) -> SourceErrors:
    """Formal, null and bootstrap covariances of ``source`` combined conservatively, plus the
    OOT fit's (see the module docstring)."""
    chi2 = max(1.0, source.fit.reduced_chi2)
    formal = source.fit.covariance
    empirical = {
        "null": null_covariance(source, di),
        "bootstrap": bootstrap_covariance(source, di, n_boot, rng),
    }
    cov, ratios, name = conservative_covariance(
        formal[1:3, 1:3] / chi2,
        {"chi2": formal[1:3, 1:3]} | {k: None if c is None else c[1:3, 1:3] for k, c in empirical.items()},
    )
    total = cov + oot.fit.position_covariance
    scale = likelihood_scale(source, oot, di, total, error_scale(ratios))
    # the test that may call the source off target: the jitter-aware likelihood ratio, allowing for
    # the few null images behind the error scale
    exclusion = star_exclusion_sigma(source, ratios, di.n_null if name == "null" else None, jitter=True)
    # the amplitude's detection is judged against noise alone: the bootstrap's scatter between transits
    # also holds real depth variation (how the cadences sample ingress and egress), so it counts only
    # where no null images measure the noise
    noise_only = empirical["null"] if empirical["null"] is not None else empirical["bootstrap"]
    amp_var = max(formal[0, 0], -np.inf if noise_only is None else noise_only[0, 0])
    total = total * scale
    return SourceErrors(
        position_covariance=total, relative_covariance=total, amplitude_sigma=float(np.sqrt(amp_var)),
        ratios=ratios, source=name, star_exclusion=exclusion, likelihood_scale=scale,
    )  # fmt: skip


#: Mahalanobis distance (σ) at which :func:`likelihood_scale` compares the covariance with the profile
#: likelihood: beyond the 3σ decision threshold of an off-target call, so that no star the likelihood
#: ratio leaves within reach of that threshold is excluded by the covariance alone.
PROBE_SIGMA = 5.0


def likelihood_scale(
    source: SourceFit, oot: SourceFit, di: DifferenceImage, covariance: np.ndarray, error_scale: float
) -> float:
    """Factor by which ``covariance`` must grow to agree with the profile likelihood towards the star.

    With d the star's Mahalanobis distance from the source in ``covariance`` and
    L(x) = √Δχ²(x) / √``error_scale`` the likelihood-ratio distance of a position
    x (source held there, amplitude free; ``error_scale`` the empirical variance
    ratio the covariance carries): if L(star) < :data:`PROBE_SIGMA` the factor is
    (d / max(L(star), 1))² when d is larger; otherwise L is read at the point
    that the covariance puts at :data:`PROBE_SIGMA` on the line to the star, and
    the factor is (:data:`PROBE_SIGMA` / max(L, 1))² when the likelihood is
    broader there.  1 otherwise.
    """
    offset = oot.position - source.position
    linear = float(np.sqrt(max(float(offset @ np.linalg.solve(covariance, offset)), 0.0)))
    at_star = float(source.star_exclusion or 0.0) / math.sqrt(error_scale)
    if at_star >= PROBE_SIGMA and linear > PROBE_SIGMA:
        delta = source.delta_chi2_at(di, source.position + offset * (PROBE_SIGMA / linear))
        if delta is not None:
            linear, at_star = PROBE_SIGMA, float(np.sqrt(delta / error_scale))
    return (linear / max(at_star, 1.0)) ** 2 if linear > max(at_star, 1.0) else 1.0


def star_exclusion_sigma(
    source: SourceFit, ratios: Mapping[str, float], n_null: int | None = None, *, jitter: bool = False
) -> float:
    """:attr:`SourceFit.star_exclusion` (``jitter``: :attr:`SourceFit.star_exclusion_jitter`) in units
    of the empirically scaled errors (the largest variance ratio of :func:`conservative_covariance`,
    widened by :func:`hotelling_factor` when ``n_null`` null images set it); 0 without a likelihood
    ratio."""
    scale = error_scale(ratios) * (1.0 if n_null is None else hotelling_factor(n_null))
    value = source.star_exclusion_jitter if jitter else source.star_exclusion
    return float(value or 0.0) / float(np.sqrt(scale))


def hotelling_factor(n: int, nsigma: float = 3.0) -> float:
    """Variance factor for a 2-D covariance estimated from ``n`` samples: the ratio of Hotelling's
    T² quantile (Hotelling 1931, Ann. Math. Stat. 2, 360) to the χ²₂ quantile at the tail
    probability of a 2-D ``nsigma`` Mahalanobis distance, exp(−nsigma²/2).

    With F(2, ν) in closed form, T²(α) = (n − 1)(α^(−2/(n−2)) − 1); for n = 14 at 3σ the factor is
    1.6, for 100 it is 1.06, and it tends to 1.
    """
    if n <= 3:
        return math.inf
    alpha = math.exp(-0.5 * nsigma * nsigma)
    t2 = (n - 1) * (alpha ** (-2.0 / (n - 2)) - 1.0)
    return max(1.0, t2 / (nsigma * nsigma))


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
