"""A population of realistic simulated targets, for injection–recovery of the localization checks.

Each case is one target observed in 1–4 sectors (TESS) or quarters (Kepler),
each a real :class:`~vetcore.Stamp` with its own WCS (random roll for TESS,
90° steps for Kepler), pipeline-like aperture, quality flags, time system
(BTJD/BKJD), pointing columns and background, plus the truth: which star hosts
the transit, where it is, how deep it is in that star, and the matched-filter
SNR it has over all pixels.  Cases are drawn independently from
``(seed, index)``, so any subset can be rebuilt in another process::

    from vetcore.testing.population import draw_case, draw_population

    case = draw_case(7, seed=1)
    case.truth.on_target, case.truth.host_id, case.truth.expected_snr
    report = vetcore.vet(list(case.stamps), **case.vet_kwargs())

What the pixels contain (everything differs from the circular Gaussian of
:mod:`vetcore.testing.synthetic` and of a Gaussian PSF fitter):

* **PSF** per sector: an elliptical Moffat core (FWHM 1.0–1.9 px, β 2–4.5), a
  broad elliptical Gaussian halo (σ 1.8–3.5 px, 5–25 % of the light) and a
  coma-like displaced component (0–12 % of the light, 0.2–0.6 px off), with
  ellipticity 0–0.25 at a random angle; integrated over pixels by 8×8
  sub-sampling.  Every star of a sector has the same PSF.
* **Stars**: the target (TESS mag 8–13, Kepler mag 11–15.5), 0–4 field stars
  1–6 mag fainter anywhere on the stamp (and one pixel beyond its edge), and
  for off-target cases the host 0.3–3 px from the target, 0–5 mag fainter.
  Fluxes: 15 000 e⁻/s at TESS mag 10 (TESS Instrument Handbook), 1.74×10⁵ e⁻/s
  at Kepler mag 12 (Jenkins et al. 2010, ApJ 713, L120).
* **Cadence**: TESS 2-min SPOC stamps (11×11, ``POS_CORR``, pipeline
  aperture), TESS FFI cut-outs at 30 min (sectors 1–26) or 10 min (27–55)
  without pointing columns and with a derived aperture, Kepler long cadence
  (29.4 min, 3.98″ pixels, 8×8 stamps with unread corner pixels).
* **Pointing**: red jitter (an Ornstein–Uhlenbeck process, 10–50 millipixels
  RMS per axis at 2 min for TESS, 2–10 for Kepler, correlation time 0.5–4 h,
  averaged down at longer cadences), a slow quadratic drift per orbit
  (TESS) or differential-velocity-aberration drift per quarter (Kepler), and
  momentum dumps every 2.5–7 d (TESS) or 3 d (Kepler): a persistent pointing
  step, a disturbed, flagged (bit 32) cadence, and a few coarse-point (bit 4)
  cadences.  ``Stamp.pos_corr`` holds the pointing with 2 millipixel noise.
* **Background**: 30–300 e⁻/s/px (TESS; more with scattered light near each
  orbit's start and end, with a gradient across the stamp) or 100–300 (Kepler);
  ``flux`` is background-subtracted with an imperfect estimate (a few % bias,
  no gradient), as a pipeline would.
* **Noise**: photon noise of stars and background, read noise (10 e⁻ per 2-s
  TESS frame, 100 e⁻ per 6.02-s Kepler frame) and a little stellar variability
  of the target (≤ 0.1 %).
* **Signal**: a trapezoidal transit on the host (target or neighbour), depth
  set so that the all-pixel matched-filter SNR is log-uniform in 7–150 (capped
  at a depth of 70 % in the host).

Truth: :class:`CaseTruth` (per target) and :class:`SectorTruth` (per stamp);
:meth:`PopulationCase.neighbours` is the catalogue of stars around the target
(``id, ra, dec, mag``), as a host-attribution table would be given.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from vetcore.mission import MISSIONS
from vetcore.model import Ephemeris, Stamp, Target
from vetcore.sky import offset_to_sky, sky_offset, sky_to_pixel
from vetcore.testing.synthetic import COARSE_POINT_FLAG, DEFAULT_BITMASK, DESAT_FLAG, make_wcs

__all__ = [
    "OFF_TARGET",
    "OFF_TARGET_OUTSIDE",
    "ON_TARGET",
    "SCENARIOS",
    "CaseTruth",
    "PSFShape",
    "PopulationCase",
    "SectorTruth",
    "draw_case",
    "draw_population",
    "render_psf",
]

#: Scenarios: the target hosts the transit; a neighbour 0.3–3 px away does; a
#: neighbour 1.8–3 px away does, drawn so that it usually falls outside the aperture.
ON_TARGET = "on_target"
OFF_TARGET = "off_target"
OFF_TARGET_OUTSIDE = "off_target_outside"
SCENARIOS = (ON_TARGET, OFF_TARGET, OFF_TARGET_OUTSIDE)

#: Instrument kinds: (mission, cadence label).
TESS_2MIN, TESS_FFI, KEPLER_LC = "tess_2min", "tess_ffi", "kepler_lc"
_KIND_WEIGHTS = {TESS_2MIN: 0.35, TESS_FFI: 0.35, KEPLER_LC: 0.30}

_OVERSAMPLE = 8
_ANCHORS = 5
_ZERO_POINT = {"TESS": (10.0, 15_000.0), "Kepler": (12.0, 1.74e5)}
_READ_NOISE = {"TESS": 10.0, "Kepler": 100.0}  # e- per frame
_TESS_SECTOR_START = 1325.3  # BTJD of sector 1, sectors spaced by 27.4 d
_KEPLER_QUARTER_START = 131.5  # BKJD of quarter 1, quarters spaced by 93 d


# --------------------------------------------------------------------------- PSF


@attrs.frozen
class PSFShape:
    """A normalised PSF: elliptical Moffat core + elliptical Gaussian halo + displaced coma blob.

    Widths in pixels; ``ellipticity`` = 1 − b/a of core and halo, major axis at
    ``angle_deg`` from +col towards +row; the coma blob (a circular Gaussian of
    σ ``coma_sigma_pix``) holds ``coma_fraction`` of the light, displaced by
    ``coma_offset_pix`` at ``coma_angle_deg``.
    """

    core_fwhm_pix: float
    core_beta: float
    halo_sigma_pix: float
    halo_fraction: float
    ellipticity: float
    angle_deg: float
    coma_fraction: float
    coma_offset_pix: float
    coma_angle_deg: float
    coma_sigma_pix: float = 0.6

    @property
    def centroid_offset_pix(self) -> tuple[float, float]:
        """(Δrow, Δcol) of the PSF's light centroid from the star's position (from the coma blob)."""
        a = math.radians(self.coma_angle_deg)
        d = self.coma_fraction * self.coma_offset_pix
        return (d * math.sin(a), d * math.cos(a))

    def density(self, drow: np.ndarray, dcol: np.ndarray) -> np.ndarray:
        """Light per unit pixel area at (Δrow, Δcol) from the star (integrates to 1 over the plane)."""
        t = math.radians(self.angle_deg)
        u = dcol * math.cos(t) + drow * math.sin(t)
        v = -dcol * math.sin(t) + drow * math.cos(t)
        q = 1.0 - self.ellipticity
        r2 = u**2 + (v / q) ** 2
        beta = self.core_beta
        alpha = self.core_fwhm_pix / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
        core = (beta - 1.0) / (math.pi * alpha**2 * q) * (1.0 + r2 / alpha**2) ** (-beta)
        s = self.halo_sigma_pix
        halo = np.exp(-0.5 * r2 / s**2) / (2.0 * math.pi * s**2 * q)
        a = math.radians(self.coma_angle_deg)
        cr = drow - self.coma_offset_pix * math.sin(a)
        cc = dcol - self.coma_offset_pix * math.cos(a)
        sc = self.coma_sigma_pix
        coma = np.exp(-0.5 * (cr**2 + cc**2) / sc**2) / (2.0 * math.pi * sc**2)
        f_core = 1.0 - self.halo_fraction - self.coma_fraction
        return f_core * core + self.halo_fraction * halo + self.coma_fraction * coma


def _draw_psf(rng: np.random.Generator, mission: str) -> PSFShape:
    fwhm = (1.0, 1.6) if mission == "Kepler" else (1.2, 1.9)
    return PSFShape(
        core_fwhm_pix=float(rng.uniform(*fwhm)),
        core_beta=float(rng.uniform(2.0, 4.5)),
        halo_sigma_pix=float(rng.uniform(1.8, 3.5)),
        halo_fraction=float(rng.uniform(0.05, 0.25)),
        ellipticity=float(rng.uniform(0.0, 0.25)),
        angle_deg=float(rng.uniform(0.0, 180.0)),
        coma_fraction=float(rng.uniform(0.0, 0.12)),
        coma_offset_pix=float(rng.uniform(0.2, 0.6)),
        coma_angle_deg=float(rng.uniform(0.0, 360.0)),
    )


def render_psf(
    psf: PSFShape, rows: np.ndarray, cols: np.ndarray, flux: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Pixel-integrated images (m, ny, nx) of stars at ``rows``/``cols`` (m, s) with ``flux`` (s,).

    Pixel ``(i, j)`` spans [i − ½, i + ½] × [j − ½, j + ½]; the integral is an
    8×8 mid-point sum.
    """
    sub = (np.arange(_OVERSAMPLE) + 0.5) / _OVERSAMPLE - 0.5
    yy = (np.arange(shape[0])[:, None] + sub[None, :]).ravel()  # (ny*O,)
    xx = (np.arange(shape[1])[:, None] + sub[None, :]).ravel()
    rows = np.atleast_2d(rows)
    cols = np.atleast_2d(cols)
    out = np.zeros((rows.shape[0], shape[0], shape[1]))
    for k in range(rows.shape[1]):  # a handful of stars
        dr = yy[None, :, None] - rows[:, k, None, None]
        dc = xx[None, None, :] - cols[:, k, None, None]
        dens = psf.density(dr, dc)  # (m, ny*O, nx*O)
        binned = dens.reshape(rows.shape[0], shape[0], _OVERSAMPLE, shape[1], _OVERSAMPLE).sum(axis=(2, 4))
        out += binned * (flux[k] / _OVERSAMPLE**2)
    return out


def _lagrange_weights(x: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Lagrange interpolation weights (n, k) of points ``x`` (n,) on ``nodes`` (k,)."""
    k = nodes.size
    w = np.ones((x.size, k))
    for a in range(k):
        for b in range(k):
            if a != b:
                w[:, a] *= (x - nodes[b]) / (nodes[a] - nodes[b])
    return w


class _PointingRenderer:
    """Images of a fixed set of stars moved by a per-cadence pointing offset.

    The pixel-integrated scene is computed exactly at a 4×4 grid of pointings
    spanning the pointings of the ``steady`` cadences and interpolated (bicubic
    Lagrange) in between; the other cadences (dump and coarse-point excursions)
    are rendered exactly.
    """

    def __init__(
        self, psf: PSFShape, shape: tuple[int, int], pointing: np.ndarray, steady: np.ndarray
    ) -> None:
        self.psf, self.shape, self.pointing = psf, shape, pointing
        lo, hi = pointing[steady].min(axis=0), pointing[steady].max(axis=0)
        centre, half = (lo + hi) / 2.0, np.maximum((hi - lo) / 2.0, 0.005)
        self.nodes = [np.linspace(centre[a] - half[a], centre[a] + half[a], _ANCHORS) for a in (0, 1)]
        self.exact = np.flatnonzero(~steady)
        wr = _lagrange_weights(pointing[:, 0], self.nodes[0])
        wc = _lagrange_weights(pointing[:, 1], self.nodes[1])
        self.weights = (wr[:, :, None] * wc[:, None, :]).reshape(pointing.shape[0], _ANCHORS**2)

    def __call__(self, rows: np.ndarray, cols: np.ndarray, flux: np.ndarray) -> np.ndarray:
        """Images (n, ny, nx) of stars at nominal ``rows``/``cols`` (s,) with ``flux`` (s,)."""
        gr, gc = np.meshgrid(self.nodes[0], self.nodes[1], indexing="ij")
        anchors = render_psf(
            self.psf,
            rows[None, :] + gr.ravel()[:, None],
            cols[None, :] + gc.ravel()[:, None],
            flux,
            self.shape,
        )
        images = (self.weights @ anchors.reshape(_ANCHORS**2, -1)).reshape(-1, *self.shape)
        if self.exact.size:
            p = self.pointing[self.exact]
            images[self.exact] = render_psf(
                self.psf, rows[None, :] + p[:, :1], cols[None, :] + p[:, 1:], flux, self.shape
            )
        return images


# --------------------------------------------------------------------------- truth


@attrs.frozen(eq=False)
class SectorTruth:
    """What one stamp of a case really contains.

    Pixel positions are nominal (zero pointing), 0-based (row, col), through the
    stamp's WCS.  ``pixel_snr`` is the matched-filter SNR of the transit over
    all valid pixels, ``δ·√(Σ s_i²)·√(Σ_p f_p²/σ_p²)`` (``f_p`` the host's
    light in pixel ``p``, ``σ_p`` the per-cadence noise, ``s_i`` the transit
    shape over good cadences); ``aperture_snr`` the same for the aperture sum.
    ``depth_in_aperture`` is the fractional dip of the total aperture flux.
    ``pointing`` is the applied (Δrow, Δcol) per cadence; ``jitter_rms_pix`` the
    RMS per axis of its red-noise part.
    """

    label: str
    cadence_seconds: float
    roll_deg: float
    psf: PSFShape
    target_pixel: tuple[float, float]
    host_pixel: tuple[float, float]
    star_pixels: np.ndarray
    host_in_aperture: bool
    host_flux_fraction_in_aperture: float
    depth_in_aperture: float
    aperture_snr: float
    pixel_snr: float
    n_in_transit: float
    transit_shape: np.ndarray
    pointing: np.ndarray
    jitter_rms_pix: float
    background_bias: float


@attrs.frozen(eq=False)
class CaseTruth:
    """The answer for one target.

    ``host_id`` is the target's id or a neighbour's (``<target>-N<k>``);
    ``host_offset_arcsec`` its (east, north) offset from the target;
    ``depth`` the fractional eclipse depth in the host's own light;
    ``expected_snr`` the all-pixel matched-filter SNR over all stamps
    (quadrature sum of the sectors' ``pixel_snr``).
    """

    scenario: str
    host_id: str
    host_index: int
    host_ra: float
    host_dec: float
    host_mag: float
    delta_mag: float
    host_offset_arcsec: tuple[float, float]
    host_separation_arcsec: float
    host_separation_pix: float
    depth: float
    expected_snr: float
    aperture_snr: float
    sectors: tuple[SectorTruth, ...]

    @property
    def on_target(self) -> bool:
        return self.host_index == 0

    @property
    def host_outside_aperture(self) -> bool:
        """The host's nominal pixel is outside the aperture in every stamp."""
        return not any(s.host_in_aperture for s in self.sectors)


@attrs.frozen(eq=False)
class PopulationCase:
    """One simulated target: its stamps, ephemeris, stars and truth.

    ``stars`` rows are ``(id, ra, dec, mag)``; row 0 is the target.
    """

    index: int
    seed: int
    mission: str
    kind: str
    target: Target
    stamps: tuple[Stamp, ...]
    ephemeris: Ephemeris
    stars: tuple[tuple[str, float, float, float], ...]
    truth: CaseTruth

    @property
    def id(self) -> str:
        return self.target.id

    def vet_kwargs(self) -> dict[str, Any]:
        """Ephemeris keywords of :func:`vetcore.vet`: ``period`` (d), ``t0`` (data time system),
        ``duration`` (hours), ``depth`` (ppm of the aperture flux)."""
        e = self.ephemeris
        return {"period": e.period, "t0": e.t0, "duration": e.duration_hours, "depth": e.depth_ppm}

    def neighbours(self, *, include_target: bool = True) -> list[dict[str, Any]]:
        """The stars around the target as catalogue rows ``{id, ra, dec, mag}`` (degrees, mag)."""
        rows = self.stars if include_target else self.stars[1:]
        return [{"id": i, "ra": ra, "dec": dec, "mag": mag} for i, ra, dec, mag in rows]

    def write_neighbours(self, path: str | Path, *, include_target: bool = True) -> Path:
        """Write :meth:`neighbours` as CSV (``.csv``) or ECSV (``.ecsv``) and return the path."""
        from astropy.table import Table

        path = Path(path)
        rows = self.neighbours(include_target=include_target)
        table = Table(
            rows=[(r["id"], r["ra"], r["dec"], r["mag"]) for r in rows],
            names=("id", "ra", "dec", "mag"),
            dtype=(str, float, float, float),
        )
        table["ra"].unit = table["dec"].unit = "deg"
        fmt = "ascii.ecsv" if path.suffix.lower() == ".ecsv" else "ascii.csv"
        table.write(path, format=fmt, overwrite=True)
        return path


# --------------------------------------------------------------------------- time, pointing, background


def _time_grid(kind: str, number: int, cadence_s: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Mid-cadence times and the (start, end) of each continuous segment (orbit or month)."""
    step = cadence_s / 86400.0
    if kind == KEPLER_LC:
        start = _KEPLER_QUARTER_START + 93.0 * (number - 1)
        bounds = [(start, start + 29.5), (start + 30.5, start + 60.0), (start + 61.0, start + 90.5)]
    else:
        start = _TESS_SECTOR_START + 27.4 * (number - 1)
        bounds = [(start, start + 13.2), (start + 14.2, start + 27.0)]
    t = start + (np.arange(math.floor((bounds[-1][1] - start) / step)) + 0.5) * step
    keep = np.zeros(t.size, dtype=bool)
    for a, b in bounds:
        keep |= (t >= a) & (t < b)
    return t[keep], bounds


def _red_noise(rng: np.random.Generator, n: int, rms: float, tau_cadences: float) -> np.ndarray:
    """Two AR(1) (sampled Ornstein–Uhlenbeck) series (n, 2) of stationary RMS ``rms``."""
    from scipy.signal import lfilter

    phi = math.exp(-1.0 / max(tau_cadences, 1e-3))
    eps = rng.standard_normal((2, n)) * rms * math.sqrt(1.0 - phi**2)
    start = rng.standard_normal(2) * rms
    out = lfilter([1.0], [1.0, -phi], eps, axis=1, zi=(phi * start)[:, None])[0]
    return np.asarray(out.T)


def _pointing(
    rng: np.random.Generator,
    time: np.ndarray,
    segments: Sequence[tuple[float, float]],
    kind: str,
    cadence_s: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Pointing (n, 2), quality flags (n,) and the jitter RMS per axis per cadence.

    The jitter RMS is drawn for 2-min averages (10–50 millipixels TESS, 2–10
    Kepler), 80 % of its variance red (correlation time 0.5–4 h) and 20 % white;
    longer cadences average it: the white part by 120 s/cadence, the red part as
    the time-average of an Ornstein–Uhlenbeck process.
    """
    n = time.size
    rms_2min = float(rng.uniform(0.002, 0.010) if kind == KEPLER_LC else rng.uniform(0.010, 0.050))
    tau_s = float(rng.uniform(0.5, 4.0)) * 3600.0
    x = cadence_s / tau_s
    red_var = 0.8 * rms_2min**2 * 2.0 * (x - 1.0 + math.exp(-x)) / x**2
    white_var = 0.2 * rms_2min**2 * min(1.0, 120.0 / cadence_s)
    jitter_rms = math.sqrt(red_var + white_var)
    pointing = _red_noise(rng, n, math.sqrt(red_var), tau_s / cadence_s)
    pointing += rng.normal(0.0, math.sqrt(white_var), (n, 2))
    drift_amp = 0.15 if kind == KEPLER_LC else 0.06
    for a, b in segments:
        sel = (time >= a) & (time < b)
        u = (time[sel] - a) / (b - a)
        lin, quad = rng.normal(0.0, drift_amp, 2), rng.normal(0.0, drift_amp / 2, 2)
        pointing[sel] += u[:, None] * lin + (u**2 - u)[:, None] * quad
    quality = np.zeros(n, dtype=np.int32)
    interval = 3.0 if kind == KEPLER_LC else float(rng.uniform(2.5, 7.0))
    step_rms = 0.005 if kind == KEPLER_LC else float(rng.uniform(0.01, 0.04))
    dumps = np.arange(time[0] + rng.uniform(0.3, interval), time[-1], interval)
    idx = np.unique(np.searchsorted(time, dumps).clip(0, n - 1))
    steps = np.zeros((n, 2))
    steps[idx] = rng.normal(0.0, step_rms, (idx.size, 2))
    pointing += np.cumsum(steps, axis=0)
    width = max(1, round(240.0 / cadence_s))  # a dump disturbs ~4 min
    flagged = np.unique((idx[:, None] + np.arange(width)[None, :]).ravel().clip(0, n - 1))
    quality[flagged] |= DESAT_FLAG
    coarse = rng.choice(n, size=max(1, n // 2000), replace=False)
    quality[coarse] |= COARSE_POINT_FLAG
    disturbed = np.flatnonzero(quality)
    pointing[disturbed] += rng.normal(0.0, 0.15, (disturbed.size, 2))
    return pointing, quality, jitter_rms


def _background(
    rng: np.random.Generator,
    time: np.ndarray,
    segments: Sequence[tuple[float, float]],
    kind: str,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, float]:
    """True background (n, ny, nx), the pipeline's estimate (n,) and the estimate's relative bias."""
    level = (
        float(np.exp(rng.uniform(np.log(30.0), np.log(300.0))))
        if kind != KEPLER_LC
        else float(rng.uniform(100.0, 300.0))
    )
    series = np.full(time.size, level)
    if kind != KEPLER_LC:  # scattered light at the start and end of each orbit
        for a, b in segments:
            amp, efold = rng.uniform(0.0, 2.0) * level, rng.uniform(0.3, 1.5)
            sel = (time >= a) & (time < b)
            series[sel] += amp * (np.exp(-(time[sel] - a) / efold) + np.exp(-(b - time[sel]) / efold))
    grad = rng.normal(0.0, 0.01, 2)  # fraction of the varying part per pixel
    rows, cols = np.indices(shape)
    ramp = (rows - (shape[0] - 1) / 2.0) * grad[0] + (cols - (shape[1] - 1) / 2.0) * grad[1]
    true = series[:, None, None] * (1.0 + ramp[None]) + (series - level)[:, None, None] * ramp[None]
    bias = float(rng.normal(0.0, 0.02))
    return true, series * (1.0 + bias), bias


def _trapezoid(time: np.ndarray, eph: Ephemeris, ingress: float, cadence_s: float) -> np.ndarray:
    """Transit shape in [0, 1] averaged over each cadence's exposure (9 sub-samples)."""
    sub = ((np.arange(9) + 0.5) / 9 - 0.5) * cadence_s / 86400.0
    dt = (time[:, None] + sub[None, :] - eph.t0 + 0.5 * eph.period) % eph.period - 0.5 * eph.period
    dur = eph.duration_days
    return np.clip((dur / 2.0 - np.abs(dt)) / (ingress * dur), 0.0, 1.0).mean(axis=1)


def _aperture(target_img: np.ndarray, var: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The SNR-optimal aperture of the target: pixels by decreasing target SNR, prefix of best summed SNR."""
    snr = np.where(valid, target_img / np.sqrt(var), -np.inf).ravel()
    order = np.argsort(snr)[::-1][: int(valid.sum())]
    cum = np.cumsum(target_img.ravel()[order]) / np.sqrt(np.cumsum(var.ravel()[order]))
    mask = np.zeros(target_img.size, dtype=bool)
    mask[order[: int(np.argmax(cum)) + 1]] = True
    return mask.reshape(target_img.shape)


# --------------------------------------------------------------------------- one case


def _mag_to_flux(mission: str, mag: np.ndarray) -> np.ndarray:
    m0, f0 = _ZERO_POINT[mission]
    return f0 * 10.0 ** (-0.4 * (np.asarray(mag) - m0))


def _choose_scenario(rng: np.random.Generator, off_target_fraction: float, outside_fraction: float) -> str:
    u = rng.random()
    if u >= off_target_fraction:
        return ON_TARGET
    return OFF_TARGET_OUTSIDE if u < off_target_fraction * outside_fraction else OFF_TARGET


def _sector_numbers(rng: np.random.Generator, kind: str, n: int) -> list[int]:
    pool = {TESS_2MIN: np.arange(1, 84), TESS_FFI: np.arange(1, 56), KEPLER_LC: np.arange(1, 18)}[kind]
    return sorted(int(s) for s in rng.choice(pool, size=n, replace=False))


def _cadence(kind: str, number: int) -> float:
    if kind == KEPLER_LC:
        return MISSIONS["Kepler"].cadence_seconds
    if kind == TESS_2MIN:
        return 120.0
    return 1800.0 if number <= 26 else 600.0


def draw_case(
    index: int,
    seed: int = 0,
    *,
    scenario: str | None = None,
    kind: str | None = None,
    n_sectors: int | None = None,
    max_sectors: int = 4,
    snr: float | None = None,
    off_target_fraction: float = 0.5,
    outside_fraction: float = 0.3,
    noise: bool = True,
    systematics: bool = True,
) -> PopulationCase:
    """Draw case ``index`` of the population with ``seed`` (the same pair gives the same case).

    ``scenario`` (one of :data:`SCENARIOS`), ``kind`` (``"tess_2min"``,
    ``"tess_ffi"``, ``"kepler_lc"``), ``n_sectors`` (1–4; otherwise drawn from
    1–``max_sectors``) and ``snr`` (the wanted all-pixel SNR) fix what is
    otherwise drawn: the scenario is off
    target with probability ``off_target_fraction``, and then "outside" with
    probability ``outside_fraction``.  ``noise=False`` leaves photon/read noise
    out; ``systematics=False`` leaves out pointing offsets, background errors and
    stellar variability (quality flags stay).  Both draw the same random numbers
    as the full case, so they show its underlying model.
    """
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")
    if kind is not None and kind not in _KIND_WEIGHTS:
        raise ValueError(f"kind must be one of {sorted(_KIND_WEIGHTS)}, got {kind!r}")
    for name, value in (("n_sectors", n_sectors), ("max_sectors", max_sectors)):
        if value is not None and not 1 <= value <= 4:
            raise ValueError(f"{name} must be 1-4, got {value}")
    rng = np.random.default_rng([int(seed), int(index)])
    scen = _choose_scenario(rng, off_target_fraction, outside_fraction) if scenario is None else scenario
    kinds = list(_KIND_WEIGHTS)
    kind = kind or kinds[int(rng.choice(len(kinds), p=list(_KIND_WEIGHTS.values())))]
    mission = "Kepler" if kind == KEPLER_LC else "TESS"
    n_sec = int(rng.integers(1, 5))  # always drawn, so max_sectors leaves the other draws unchanged
    n_sec = int(n_sectors) if n_sectors is not None else min(n_sec, max_sectors)
    numbers = _sector_numbers(rng, kind, n_sec)
    target_id = f"SIM-{seed}-{index:05d}"

    # -- sky and stars (east, north arcsec; star 0 = target) -----------------------------
    facts = MISSIONS[mission]
    scale = facts.pixel_scale_arcsec
    shape = (8, 8) if mission == "Kepler" else (11, 11)
    if mission == "Kepler":
        ra, dec = float(rng.uniform(280.0, 300.0)), float(rng.uniform(37.0, 52.0))
        tmag = float(rng.uniform(11.0, 15.5))
    else:
        ra, dec = float(rng.uniform(0.0, 360.0)), float(np.degrees(np.arcsin(rng.uniform(-0.99, 0.99))))
        tmag = float(rng.uniform(8.0, 13.0))
    east, north, mags = [0.0], [0.0], [tmag]
    host = 0
    if scen != ON_TARGET:
        sep_pix = rng.uniform(0.3, 3.0) if scen == OFF_TARGET else rng.uniform(1.8, 3.0)
        dm = rng.uniform(0.0, 5.0) if scen == OFF_TARGET else rng.uniform(0.0, 3.0)
        pa = rng.uniform(0.0, 2.0 * math.pi)
        east.append(sep_pix * scale * math.sin(pa))
        north.append(sep_pix * scale * math.cos(pa))
        mags.append(tmag + dm)
        host = 1
    half = (max(shape) / 2.0 + 1.0) * scale
    for _ in range(int(rng.integers(0, 5))):
        for _attempt in range(20):
            e, nn = rng.uniform(-half, half, 2)
            if min(math.hypot(e - x, nn - y) for x, y in zip(east, north, strict=True)) > 0.7 * scale:
                east.append(float(e))
                north.append(float(nn))
                mags.append(tmag + float(rng.uniform(1.0, 6.0)))
                break
    east_a, north_a, mag_a = np.array(east), np.array(north), np.array(mags)
    star_ra, star_dec = offset_to_sky(east_a, north_a, ra, dec)
    star_ra = np.mod(star_ra, 360.0)
    flux = _mag_to_flux(mission, mag_a)
    ids = [target_id] + [f"{target_id}-N{k}" for k in range(1, len(mags))]

    # -- ephemeris -----------------------------------------------------------------------
    p_max = 30.0 if mission == "Kepler" else 12.0
    period = float(np.exp(rng.uniform(math.log(0.6), math.log(p_max))))
    dur_h = float(
        np.clip(13.0 * (period / 365.25) ** (1 / 3) * rng.uniform(0.4, 1.2), 0.7, 0.2 * period * 24)
    )
    ingress = float(rng.uniform(0.05, 0.45 if host else 0.25))
    t_first = (
        (_KEPLER_QUARTER_START + 93.0 * (numbers[0] - 1))
        if mission == "Kepler"
        else (_TESS_SECTOR_START + 27.4 * (numbers[0] - 1))
    )
    t0 = t_first + float(rng.uniform(0.0, period))
    eph = Ephemeris(period=period, t0=t0, duration_hours=dur_h)

    # -- per-sector geometry, nominal images, noise; SNR per unit depth ------------------------
    sectors: list[dict[str, Any]] = []
    for number in numbers:
        cad = _cadence(kind, number)
        time, segments = _time_grid(kind, number, cad)
        roll = (
            float(
                (rng.uniform(0, 360) if not sectors else sectors[0]["roll"] + 90.0 * (number - numbers[0]))
                % 360
            )
            if mission == "Kepler"
            else float(rng.uniform(0.0, 360.0))
        )
        centre = np.array([(shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0]) + rng.uniform(-0.5, 0.5, 2)
        wcs = make_wcs(
            ra,
            dec,
            shape=shape,
            target_pixel=(float(centre[0]), float(centre[1])),
            pixel_scale_arcsec=scale,
            roll_deg=roll,
        )
        rows, cols = (np.asarray(v, dtype=float) for v in sky_to_pixel(wcs, star_ra, star_dec))
        psf = _draw_psf(rng, mission)
        pointing, quality, jitter = _pointing(rng, time, segments, kind, cad)
        bkg_true, bkg_est, bias = _background(rng, time, segments, kind, shape)
        if not systematics:
            pointing = np.zeros_like(pointing)
            bkg_true = np.broadcast_to(bkg_est[:, None, None], bkg_true.shape).copy()
        valid = np.ones(shape, dtype=bool)
        if mission == "Kepler":  # unread corners of the collected mask
            r, c = np.indices(shape)
            d = np.minimum(r, shape[0] - 1 - r) + np.minimum(c, shape[1] - 1 - c)
            valid = d >= int(rng.integers(0, 3))
        per_star = np.stack(
            [
                render_psf(psf, rows[None, k : k + 1], cols[None, k : k + 1], flux[k : k + 1], shape)[0]
                for k in range(len(flux))
            ]
        )
        frame_s, read_e = facts.frame_seconds, _READ_NOISE[mission]
        read_var = read_e**2 * (cad / frame_s) / cad**2
        var_nom = (per_star.sum(axis=0) + bkg_true.mean(axis=0)) / cad + read_var
        aperture = _aperture(per_star[0], var_nom, valid)
        good = (quality & DEFAULT_BITMASK[mission]) == 0
        s = _trapezoid(time, eph, ingress, cad)
        n_eff = float(np.sum(s[good] ** 2))
        f_host = per_star[host]
        pix_per_depth = math.sqrt(n_eff * float(np.sum((f_host**2 / var_nom)[valid])))
        ap_per_depth = (
            math.sqrt(n_eff) * float(f_host[aperture].sum()) / math.sqrt(float(var_nom[aperture].sum()))
        )
        hr, hc = round(float(rows[host])), round(float(cols[host]))
        in_ap = 0 <= hr < shape[0] and 0 <= hc < shape[1] and bool(aperture[hr, hc])
        sectors.append(
            {
                "number": number,
                "cad": cad,
                "time": time,
                "roll": roll,
                "wcs": wcs,
                "rows": rows,
                "cols": cols,
                "psf": psf,
                "pointing": pointing,
                "quality": quality,
                "jitter": jitter,
                "bkg_true": bkg_true,
                "bkg_est": bkg_est,
                "bias": bias,
                "valid": valid,
                "per_star": per_star,
                "read_var": read_var,
                "aperture": aperture,
                "shape_t": s,
                "n_eff": n_eff,
                "pix": pix_per_depth,
                "ap": ap_per_depth,
                "in_ap": in_ap,
            }
        )

    # -- depth from the wanted SNR -----------------------------------------------------------
    snr_per_depth = math.sqrt(sum(sec["pix"] ** 2 for sec in sectors))
    want = float(np.exp(rng.uniform(math.log(7.0), math.log(150.0)))) if snr is None else float(snr)
    depth_cap = 0.7 if host else 0.1
    depth = min(want / snr_per_depth, depth_cap) if snr_per_depth > 0 else depth_cap

    # -- stamps ------------------------------------------------------------------------------
    var_amp = float(rng.uniform(0.0, 1e-3)) if systematics else 0.0 * rng.uniform()
    var_period, var_phase = float(rng.uniform(0.5, 15.0)), float(rng.uniform(0, 2 * math.pi))
    stamps: list[Stamp] = []
    truths: list[SectorTruth] = []
    target = Target(id=target_id, ra=ra, dec=dec, magnitude=tmag, magnitude_band=facts.magnitude_band)
    time_system = facts.time_system
    for sec in sectors:
        time, shape_t, valid = sec["time"], sec["shape_t"], sec["valid"]
        render = _PointingRenderer(sec["psf"], shape, sec["pointing"], sec["quality"] == 0)
        others = [k for k in range(len(flux)) if k not in (0, host)]
        variability = 1.0 + var_amp * np.sin(2 * math.pi * time / var_period + var_phase)
        dip = 1.0 - depth * shape_t
        model = (
            render(sec["rows"][:1], sec["cols"][:1], flux[:1])
            * (variability * (dip if host == 0 else 1.0))[:, None, None]
        )
        if host:
            model += (
                render(sec["rows"][host : host + 1], sec["cols"][host : host + 1], flux[host : host + 1])
                * dip[:, None, None]
            )
        if others:
            model += render(sec["rows"][others], sec["cols"][others], flux[others])
        cad = sec["cad"]
        sigma = np.sqrt((np.clip(model, 0.0, None) + sec["bkg_true"]) / cad + sec["read_var"])
        raw = model + sec["bkg_true"]
        if noise:
            raw = raw + rng.standard_normal(model.shape) * sigma
        cube = raw - sec["bkg_est"][:, None, None]
        cube[:, ~valid] = np.nan
        err = np.where(valid[None], sigma, np.nan)
        pos_corr = None
        if kind != TESS_FFI:
            pos_corr = sec["pointing"] + rng.normal(0.0, 0.002, sec["pointing"].shape)
        stamp = Stamp(
            mission=mission,
            sector=int(sec["number"]),
            time=time,
            flux=cube,
            wcs=sec["wcs"],
            target=target,
            aperture_mask=sec["aperture"],
            flux_err=err,
            quality=sec["quality"],
            background=np.broadcast_to(sec["bkg_est"][:, None, None], cube.shape).copy(),
            pos_corr=pos_corr,
            cadence_seconds=float(cad),
            time_system=time_system,
            bjd_ref=facts.bjd_offset,
            quality_bitmask=DEFAULT_BITMASK[mission],
            aperture_source="derived" if kind == TESS_FFI else "pipeline",
            source=f"population:{target_id}:{mission}:{sec['number']}",
            meta={"synthetic": True, "population_kind": kind, "roll_deg": sec["roll"]},
        )
        stamps.append(stamp)
        ap = sec["aperture"]
        f_ap = sec["per_star"][:, ap].sum(axis=1)
        truths.append(
            SectorTruth(
                label=stamp.label,
                cadence_seconds=float(cad),
                roll_deg=sec["roll"],
                psf=sec["psf"],
                target_pixel=(float(sec["rows"][0]), float(sec["cols"][0])),
                host_pixel=(float(sec["rows"][host]), float(sec["cols"][host])),
                star_pixels=np.column_stack([sec["rows"], sec["cols"]]),
                host_in_aperture=sec["in_ap"],
                host_flux_fraction_in_aperture=float(f_ap[host] / f_ap.sum()),
                depth_in_aperture=float(depth * f_ap[host] / f_ap.sum()),
                aperture_snr=depth * sec["ap"],
                pixel_snr=depth * sec["pix"],
                n_in_transit=sec["n_eff"],
                transit_shape=shape_t,
                pointing=sec["pointing"],
                jitter_rms_pix=sec["jitter"],
                background_bias=sec["bias"],
            )
        )
    depth_ap = float(np.mean([t.depth_in_aperture for t in truths]))
    eph = attrs.evolve(eph, depth_ppm=depth_ap * 1e6)
    h_east, h_north = float(east_a[host]), float(north_a[host])
    off_e, off_n = sky_offset(star_ra[host], star_dec[host], ra, dec)
    truth = CaseTruth(
        scenario=scen,
        host_id=ids[host],
        host_index=host,
        host_ra=float(star_ra[host]),
        host_dec=float(star_dec[host]),
        host_mag=float(mag_a[host]),
        delta_mag=float(mag_a[host] - tmag),
        host_offset_arcsec=(float(off_e), float(off_n)),
        host_separation_arcsec=math.hypot(h_east, h_north),
        host_separation_pix=math.hypot(h_east, h_north) / scale,
        depth=float(depth),
        expected_snr=float(depth * snr_per_depth),
        aperture_snr=float(math.sqrt(sum(t.aperture_snr**2 for t in truths))),
        sectors=tuple(truths),
    )
    stars = tuple((ids[k], float(star_ra[k]), float(star_dec[k]), float(mag_a[k])) for k in range(len(mags)))
    return PopulationCase(
        index=int(index),
        seed=int(seed),
        mission=mission,
        kind=kind,
        target=target,
        stamps=tuple(stamps),
        ephemeris=eph,
        stars=stars,
        truth=truth,
    )


def draw_population(n: int, seed: int = 0, **kwargs: Any) -> Iterator[PopulationCase]:
    """Cases ``0 … n−1`` of the population with ``seed`` (lazily: each holds its pixel cubes)."""
    for index in range(int(n)):
        yield draw_case(index, seed, **kwargs)
