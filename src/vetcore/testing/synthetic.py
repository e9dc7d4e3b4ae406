"""Synthetic pixel stamps with a known answer, for testing checks.

A synthetic stamp is a small cube of background-subtracted pixel fluxes
(e⁻/s) of a few stars placed on the *sky* around a target, seen through a
tangent-plane WCS with a chosen pixel scale and roll angle.  One star (or none)
carries a trapezoidal transit.  Everything a check could be fooled by can be
switched on: pointing jitter, a linear drift, momentum-dump steps, flagged
cadences, NaN pixels, a background, a mid-sector data gap.  The returned
:class:`SyntheticTruth` says where the transit really is and how significant it
should be, so tests can assert numbers::

    from vetcore.testing import SyntheticStar, make_stamp

    case = make_stamp(stars=[SyntheticStar(), SyntheticStar(east_arcsec=30.0, flux=5e3)],
                      transit_star=1, snr=20.0, seed=1)
    case.truth.source_offset_arcsec     # (30.0, 0.0)
    case.truth.expected_snr             # 20.0

Signal strength is set either by ``depth`` (fractional dimming of the
transiting star) or by ``snr`` (the white-noise signal-to-noise of the transit
in the aperture; the depth is then solved for).  Giving both is an error.

Image model: each star is a circular Gaussian PSF of width ``psf_sigma_pix``
integrated exactly over square pixels, i.e. the product of two differences of
error functions, evaluated for all cadences at once.  Noise is Gaussian with the
variance of photon noise (star + background) plus read noise co-added over the
cadence's frames.  Pixel scale, frame time (2 s TESS, 6.0198 s Kepler/K2), time system
and quality bits are those of the mission table, :mod:`vetcore.mission`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from scipy.special import erf

from vetcore.mission import MISSIONS, TESS
from vetcore.model import BJD_REFERENCE, Ephemeris, Stamp, Target

if TYPE_CHECKING:  # pragma: no cover
    from astropy.wcs import WCS

__all__ = [
    "COARSE_POINT_FLAG",
    "DEFAULT_BITMASK",
    "DESAT_FLAG",
    "SECTOR_DAYS",
    "SyntheticCase",
    "SyntheticStar",
    "SyntheticTruth",
    "default_rolls",
    "default_target_pixel",
    "make_sectors",
    "make_stamp",
    "make_wcs",
]

#: Default quality bitmasks of :mod:`vetcore.mission` (= lightkurve ``TessQualityFlags.DEFAULT_BITMASK`` and
#: ``KeplerQualityFlags.DEFAULT_BITMASK``); both include bit 32 (desaturation event).
DEFAULT_BITMASK: dict[str, int] = {name: m.quality_presets["default"] for name, m in MISSIONS.items()}


def _quality_bit(name: str) -> int:
    """The quality bit called ``name`` in the mission table (the same bit for every mission)."""
    (bit,) = {bit for m in MISSIONS.values() for bit, text in m.quality_flags.items() if text == name}
    return bit


#: Quality bit set on momentum-dump (reaction-wheel desaturation) cadences, TESS and Kepler.
DESAT_FLAG = _quality_bit("Reaction wheel desaturation (momentum dump)")
#: Quality bit set on randomly flagged cadences ("coarse point", TESS and Kepler).
COARSE_POINT_FLAG = _quality_bit("Coarse point")
#: RMS (pixels, per axis) of the pointing excursion on flagged and dump cadences, so that
#: ignoring quality flags visibly corrupts a centroid.
FLAGGED_EXCURSION_PIX = 0.5
#: Mean length of a TESS sector (days), used to space :func:`make_sectors`.
SECTOR_DAYS = 27.4

_SUPERSAMPLE = 7
DEFAULT_DEPTH = 0.005


@attrs.frozen
class SyntheticStar:
    """A star at (east, north) arcsec from the target on the sky, with ``flux`` in e⁻/s.

    By convention star 0 of a list is the target (offset 0, 0).  Because the
    position is on the sky, a different roll angle puts the star on a
    different pixel.
    """

    east_arcsec: float = attrs.field(default=0.0, converter=float)
    north_arcsec: float = attrs.field(default=0.0, converter=float)
    flux: float = attrs.field(default=2.0e4, converter=float)

    @flux.validator
    def _check_flux(self, attribute: attrs.Attribute[Any], value: float) -> None:
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"star flux must be a non-negative number of e-/s, got {value!r}")


@attrs.frozen(eq=False)
class SyntheticTruth:
    """What a synthetic stamp really contains.

    Pixel positions are nominal (WCS, zero pointing offset); ``pointing`` is the
    applied (Δrow, Δcol) offset of all stars per cadence, ``transit_shape`` the
    cadence-averaged transit profile ``s_i`` (1 = full depth; zeros without a
    transit), so the transiting star's flux is ``F·(1 − depth·s_i)``.  ``expected_snr`` is
    the white-noise transit SNR in the aperture,
    ``depth · F_src,ap / σ_ap · √(Σ s_i²)``, where ``F_src,ap`` is the transiting
    star's flux inside the aperture, ``σ_ap`` the per-cadence noise of the
    aperture sum out of transit, and ``s_i`` ∈ [0, 1] the cadence-averaged
    transit shape over good cadences (so ``Σ s_i²`` counts full-depth-equivalent
    in-transit cadences).  Jitter, drift and dump steps are not in it.
    ``depth_in_aperture`` is the fractional dip of the total aperture flux.
    Fields about the source are ``None`` (and SNR/depths 0) without a transit.
    """

    target_pixel: tuple[float, float]
    star_pixels: np.ndarray
    transit_star: int | None
    source_pixel: tuple[float, float] | None
    source_offset_arcsec: tuple[float, float] | None
    source_radec: tuple[float, float] | None
    depth: float
    depth_in_aperture: float
    expected_snr: float
    aperture_flux: float
    sigma_aperture: float
    star_flux_in_aperture: np.ndarray
    transit_shape: np.ndarray
    transit_times: np.ndarray
    n_in_transit: float
    pointing: np.ndarray


@attrs.frozen(eq=False)
class SyntheticCase:
    """A synthetic stamp, the ephemeris of its transit, and the truth."""

    stamp: Stamp
    ephemeris: Ephemeris
    truth: SyntheticTruth


# --------------------------------------------------------------------------- WCS


def make_wcs(
    ra: float,
    dec: float,
    *,
    shape: tuple[int, int] = (13, 11),
    target_pixel: tuple[float, float] | None = None,
    pixel_scale_arcsec: float = TESS.pixel_scale_arcsec,
    roll_deg: float = 0.0,
) -> WCS:
    """A gnomonic (RA---TAN/DEC--TAN) WCS for a 0-based stamp grid with (ra, dec) at ``target_pixel``.

    ``shape`` is (rows, cols).  ``target_pixel`` (row, col) defaults to
    ``((rows−1)/2 − 0.3, (cols−1)/2 + 0.4)``, deliberately off the stamp centre
    so code that assumes the target sits at the centre fails.  At
    ``roll_deg=0`` north is +row and east is −col (east to the left as on the
    sky: ``CDELT1 < 0``); a positive roll rotates the sky counter-clockwise on
    an image drawn with column on x and row on y (origin lower), i.e. north
    points along (Δrow, Δcol) = (cos roll, −sin roll).
    """
    from astropy.wcs import WCS

    ny, nx = (int(shape[0]), int(shape[1]))
    if ny < 1 or nx < 1:
        raise ValueError(f"shape must be positive (rows, cols), got {shape!r}")
    if not (pixel_scale_arcsec > 0):
        raise ValueError(f"pixel_scale_arcsec must be positive, got {pixel_scale_arcsec!r}")
    row, col = default_target_pixel(shape) if target_pixel is None else target_pixel
    theta = math.radians(roll_deg)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.crval = [float(ra), float(dec)]
    wcs.wcs.crpix = [float(col) + 1.0, float(row) + 1.0]  # FITS pixels are 1-based
    scale = pixel_scale_arcsec / 3600.0
    wcs.wcs.cdelt = [-scale, scale]
    wcs.wcs.pc = [[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]]
    wcs.pixel_shape = (nx, ny)
    return wcs


def default_target_pixel(shape: tuple[int, int]) -> tuple[float, float]:
    """The default (row, col) of the target: a sub-pixel step off the stamp centre."""
    return ((shape[0] - 1) / 2.0 - 0.3, (shape[1] - 1) / 2.0 + 0.4)


# --------------------------------------------------------------------------- image model


def _pixel_fractions(pos: np.ndarray, n: int, sigma: float) -> np.ndarray:
    """Fraction of a 1-D Gaussian centred at ``pos`` (any shape) falling in each of ``n`` pixels.

    Returns an array of shape ``pos.shape + (n,)``; pixel ``i`` spans [i − ½, i + ½].
    """
    edges = np.arange(n + 1, dtype=float) - 0.5
    cdf = 0.5 * erf((edges - pos[..., None]) / (math.sqrt(2.0) * sigma))
    return np.diff(cdf, axis=-1)


def _render(
    rows: np.ndarray, cols: np.ndarray, flux: np.ndarray, shape: tuple[int, int], sigma: float
) -> np.ndarray:
    """Images (n, ny, nx) of stars at (rows, cols) (n, s) with fluxes (n, s) or (s,)."""
    fr = _pixel_fractions(rows, shape[0], sigma)  # (n, s, ny)
    fc = _pixel_fractions(cols, shape[1], sigma)  # (n, s, nx)
    return np.einsum("ns,nsi,nsj->nij", np.broadcast_to(flux, rows.shape), fr, fc, optimize=True)


def _trapezoid(dt: np.ndarray, duration_days: float, ingress_fraction: float) -> np.ndarray:
    """Transit shape in [0, 1] at time ``dt`` from mid-transit (1 = full depth)."""
    tau = ingress_fraction * duration_days
    return np.clip((duration_days / 2.0 - np.abs(dt)) / tau, 0.0, 1.0)


def _rng_streams(seed: int | np.random.Generator | None, n: int) -> list[np.random.Generator]:
    """Independent generators, so switching one effect on leaves the others' draws unchanged."""
    return list(np.random.default_rng(seed).spawn(n))


def _time_grid(t_start: float, span_days: float, cadence_seconds: float, gap_days: float) -> np.ndarray:
    """Mid-cadence times from ``t_start`` over ``span_days``, without a central gap of ``gap_days``."""
    cadence_days = cadence_seconds / 86400.0
    time = t_start + (np.arange(math.floor(span_days / cadence_days + 1e-9)) + 0.5) * cadence_days
    if gap_days > 0:
        time = time[np.abs(time - (t_start + span_days / 2.0)) >= gap_days / 2.0]
    if time.size < 2:
        raise ValueError("the time grid has fewer than 2 cadences")
    return time


def _pointing_and_quality(
    phase: np.ndarray,
    *,
    jitter_pix: float,
    drift_pix: tuple[float, float],
    momentum_dumps: int,
    dump_step_pix: float,
    flagged_fraction: float,
    rngs: tuple[np.random.Generator, np.random.Generator, np.random.Generator],
) -> tuple[np.ndarray, np.ndarray]:
    """(Δrow, Δcol) pointing offsets (n, 2) and quality flags (n,) per cadence.

    ``phase`` is the time from mid-span in units of the span (−½ … ½).
    """
    rng_jitter, rng_dump, rng_flag = rngs
    n = phase.size
    quality = np.zeros(n, dtype=np.int32)
    pointing = np.outer(phase, np.asarray(drift_pix, dtype=float))
    if jitter_pix > 0:
        pointing += rng_jitter.normal(0.0, jitter_pix, size=(n, 2))
    if momentum_dumps > 0:
        dump_phase = np.arange(1, momentum_dumps + 1) / (momentum_dumps + 1) - 0.5
        dump_idx = np.unique(np.abs(phase[None, :] - dump_phase[:, None]).argmin(axis=1))
        quality[dump_idx] |= DESAT_FLAG
        steps = np.zeros((n, 2))
        steps[dump_idx] = rng_dump.normal(0.0, dump_step_pix, size=(dump_idx.size, 2))
        pointing += np.cumsum(steps, axis=0)
    n_flag = round(flagged_fraction * n)
    if n_flag:
        quality[rng_flag.choice(n, size=n_flag, replace=False)] |= COARSE_POINT_FLAG
    disturbed = quality != 0
    pointing[disturbed] += rng_flag.normal(0.0, FLAGGED_EXCURSION_PIX, size=(int(disturbed.sum()), 2))
    return pointing, quality


def _transit_profile(
    time: np.ndarray,
    t0: float,
    period: float,
    duration_days: float,
    ingress_fraction: float,
    cadence_seconds: float,
) -> np.ndarray:
    """Trapezoid transit shape averaged over each cadence's exposure (7 sub-samples)."""
    sub = ((np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5) * cadence_seconds / 86400.0
    dt = (time[:, None] + sub[None, :] - t0 + 0.5 * period) % period - 0.5 * period
    return _trapezoid(dt, duration_days, ingress_fraction).mean(axis=1)


# --------------------------------------------------------------------------- factory


def make_stamp(
    *,
    stars: Sequence[SyntheticStar] = (SyntheticStar(),),
    transit_star: int | None = 0,
    depth: float | None = None,
    snr: float | None = None,
    period: float = 3.1,
    t0: float | None = None,
    duration_hours: float = 3.0,
    ingress_fraction: float = 0.1,
    t_start: float = 2000.0,
    span_days: float = 27.0,
    cadence_seconds: float = 1800.0,
    gap_days: float = 1.0,
    shape: tuple[int, int] = (13, 11),
    target_pixel: tuple[float, float] | None = None,
    pixel_scale_arcsec: float | None = None,
    roll_deg: float = 0.0,
    psf_sigma_pix: float = 0.9,
    noise: bool = True,
    noise_scale: float = 1.0,
    read_noise_e: float = 10.0,
    jitter_pix: float = 0.0,
    drift_pix: tuple[float, float] = (0.0, 0.0),
    momentum_dumps: int = 0,
    dump_step_pix: float = 0.05,
    nan_fraction: float = 0.0,
    nan_cadence_fraction: float = 0.0,
    flagged_fraction: float = 0.0,
    background: float = 0.0,
    aperture_threshold: float = 0.1,
    sector: int = 1,
    mission: str = "TESS",
    ra: float = 120.0,
    dec: float = -50.0,
    target_id: str = "synthetic",
    seed: int | np.random.Generator | None = 0,
) -> SyntheticCase:
    """A synthetic stamp with a known transit source (see the module docstring).

    Parameters
    ----------
    stars
        Stars on the sky; star 0 is the target by convention (offset 0, 0).
    transit_star
        Index of the star that transits, or ``None`` for no transit.
    depth, snr
        Fractional dimming of the transiting star, *or* the wanted white-noise
        SNR of the transit in the aperture (depth solved for, see
        :class:`SyntheticTruth`).  Neither: depth ``0.005``.
    period, t0, duration_hours, ingress_fraction
        Ephemeris (days, data time system, hours); ``t0`` defaults to
        ``t_start + 0.37·period``.  Ingress and egress each last
        ``ingress_fraction`` of the total duration (trapezoid).
    t_start, span_days, cadence_seconds, gap_days
        Time grid (BTJD for TESS, BKJD for Kepler/K2): mid-cadence times from
        ``t_start``; cadences within a gap of ``gap_days`` at mid-span (the
        TESS data downlink between orbits) are absent.
    shape, target_pixel, pixel_scale_arcsec, roll_deg
        Stamp geometry, see :func:`make_wcs`; the pixel scale defaults to the
        mission's (21″ TESS, 3.98″ Kepler/K2).
    psf_sigma_pix
        Gaussian PSF width (pixels), integrated over each pixel.
    noise, noise_scale, read_noise_e
        Add Gaussian noise with standard deviation ``noise_scale`` times the
        photon + read noise (``read_noise_e`` e⁻ per frame); ``flux_err``
        always holds that standard deviation.
    jitter_pix, drift_pix, momentum_dumps, dump_step_pix
        Pointing: per-cadence random offsets (RMS per axis, pixels), a linear
        (Δrow, Δcol) drift over the span (zero at mid-span), and
        ``momentum_dumps`` evenly spaced dumps, each a persistent random step
        of RMS ``dump_step_pix`` per axis, flagged with quality bit 32.
    nan_fraction, nan_cadence_fraction, flagged_fraction
        Fraction of single (cadence, pixel) values set to NaN, of cadences
        entirely NaN, and of cadences flagged "coarse point" (bit 4, with a
        pointing excursion of RMS 0.5 px so ignoring flags hurts).
    background
        Sky background (e⁻/s/pixel): in ``Stamp.background`` and in the photon
        noise; ``flux`` is background-subtracted as SPOC FLUX is.
    aperture_threshold
        The aperture is every pixel where the target's noiseless image exceeds
        this fraction of its peak pixel (``aperture_source="pipeline"``).
    sector, mission, ra, dec, target_id
        Identity; ``mission`` is ``"TESS"``, ``"Kepler"`` or ``"K2"``.
    seed
        ``int`` or :class:`numpy.random.Generator`: the same seed gives the same stamp.
    """
    if mission not in MISSIONS:
        raise ValueError(f"mission must be one of {sorted(MISSIONS)}, got {mission!r}")
    facts = MISSIONS[mission]
    stars = tuple(stars)
    if not stars:
        raise ValueError("at least one star is needed")
    if transit_star is not None and not (0 <= transit_star < len(stars)):
        raise ValueError(f"transit_star {transit_star} is not an index of the {len(stars)} stars")
    if depth is not None and snr is not None:
        raise ValueError("give either depth or snr, not both")
    for name, frac in (
        ("nan_fraction", nan_fraction),
        ("nan_cadence_fraction", nan_cadence_fraction),
        ("flagged_fraction", flagged_fraction),
        ("aperture_threshold", aperture_threshold),
    ):
        if not 0.0 <= frac < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {frac!r}")
    if psf_sigma_pix <= 0 or cadence_seconds <= 0 or span_days <= 0:
        raise ValueError("psf_sigma_pix, cadence_seconds and span_days must be positive")
    scale = facts.pixel_scale_arcsec if pixel_scale_arcsec is None else float(pixel_scale_arcsec)
    shape = (int(shape[0]), int(shape[1]))
    t0 = t_start + 0.37 * period if t0 is None else float(t0)
    ephemeris = Ephemeris(period=period, t0=t0, duration_hours=duration_hours)
    rng_noise, rng_jitter, rng_dump, rng_flag, rng_nan_cadence, rng_nan = _rng_streams(seed, 6)

    time = _time_grid(t_start, span_days, cadence_seconds, gap_days)
    n = time.size

    # -- geometry --------------------------------------------------------------------
    from vetcore.sky import offset_to_sky, sky_to_pixel

    wcs = make_wcs(
        ra, dec, shape=shape, target_pixel=target_pixel, pixel_scale_arcsec=scale, roll_deg=roll_deg
    )
    east = np.array([s.east_arcsec for s in stars])
    north = np.array([s.north_arcsec for s in stars])
    star_ra, star_dec = offset_to_sky(east, north, ra, dec)
    star_rows, star_cols = sky_to_pixel(wcs, star_ra, star_dec)
    star_pixels = np.column_stack([star_rows, star_cols])
    tgt_row, tgt_col = (float(v) for v in sky_to_pixel(wcs, ra, dec))
    base_flux = np.array([s.flux for s in stars])

    # -- quality flags, pointing, missing cadences ---------------------------------------
    pointing, quality = _pointing_and_quality(
        (time - (t_start + span_days / 2.0)) / span_days,
        jitter_pix=jitter_pix,
        drift_pix=drift_pix,
        momentum_dumps=momentum_dumps,
        dump_step_pix=dump_step_pix,
        flagged_fraction=flagged_fraction,
        rngs=(rng_jitter, rng_dump, rng_flag),
    )
    nan_cadences = np.zeros(n, dtype=bool)
    n_nan_cad = round(nan_cadence_fraction * n)
    if n_nan_cad:
        nan_cadences[rng_nan_cadence.choice(n, size=n_nan_cad, replace=False)] = True
    bitmask = DEFAULT_BITMASK[mission]
    good = ((quality & bitmask) == 0) & ~nan_cadences

    shape_t = _transit_profile(time, t0, period, ephemeris.duration_days, ingress_fraction, cadence_seconds)

    # -- nominal (noiseless, unperturbed) images: aperture, noise, SNR ------------------
    per_star = (
        np.einsum(
            "si,sj->sij",
            _pixel_fractions(star_rows, shape[0], psf_sigma_pix),
            _pixel_fractions(star_cols, shape[1], psf_sigma_pix),
        )
        * base_flux[:, None, None]
    )
    target_image = per_star[0]
    if not target_image.max() > 0:
        raise ValueError("the target (star 0) puts no flux on the stamp; no aperture can be drawn")
    aperture = target_image >= aperture_threshold * target_image.max()
    read_var = read_noise_e**2 * (cadence_seconds / facts.frame_seconds) / cadence_seconds**2  # (e-/s)²
    var_nominal = noise_scale**2 * ((per_star.sum(axis=0) + background) / cadence_seconds + read_var)
    sigma_ap = float(np.sqrt(var_nominal[aperture].sum()))
    star_ap = per_star[:, aperture].sum(axis=1)
    aperture_flux = float(star_ap.sum())
    in_good = good & (shape_t > 0)
    n_eff = float(np.sum(shape_t[in_good] ** 2))
    src = transit_star
    # SNR per unit depth of the transiting star: F_src,ap / σ_ap · √(Σ s²)
    if src is None:
        snr_per_depth = 0.0
    elif sigma_ap > 0:
        snr_per_depth = star_ap[src] * math.sqrt(n_eff) / sigma_ap
    else:
        snr_per_depth = math.inf

    if src is None:
        depth_used = 0.0
    elif snr is not None:
        if not (0 < snr_per_depth < math.inf):
            raise ValueError(
                "cannot set the depth from snr: no good in-transit cadence, no noise, "
                "or the transiting star puts no flux in the aperture"
            )
        depth_used = float(snr) / snr_per_depth
        if depth_used >= 1.0:
            raise ValueError(f"snr={snr} needs a depth of {depth_used:.3g} (≥ 1): make the star brighter")
    else:
        depth_used = DEFAULT_DEPTH if depth is None else float(depth)
    if not 0.0 <= depth_used < 1.0:
        raise ValueError(f"depth must be in [0, 1), got {depth_used!r}")

    # -- the cube --------------------------------------------------------------------
    flux_t = np.broadcast_to(base_flux, (n, len(stars))).copy()
    if transit_star is not None:
        flux_t[:, transit_star] *= 1.0 - depth_used * shape_t
    rows_t = star_rows[None, :] + pointing[:, :1]
    cols_t = star_cols[None, :] + pointing[:, 1:]
    model = _render(rows_t, cols_t, flux_t, shape, psf_sigma_pix)
    sigma = np.sqrt(noise_scale**2 * ((np.clip(model, 0, None) + background) / cadence_seconds + read_var))
    flux = model + rng_noise.standard_normal(model.shape) * sigma if noise else model
    flux_err = sigma.copy()
    bad = np.zeros(flux.shape, dtype=bool)
    if nan_fraction > 0:
        bad |= rng_nan.random(flux.shape) < nan_fraction
    bad[nan_cadences] = True
    flux[bad] = np.nan
    flux_err[bad] = np.nan
    bkg = np.full(flux.shape, float(background))

    time_system = facts.time_system
    target = Target(id=target_id, ra=ra, dec=dec)
    stamp = Stamp(
        mission=mission,
        sector=int(sector),
        time=time,
        flux=flux,
        wcs=wcs,
        target=target,
        aperture_mask=aperture,
        flux_err=flux_err,
        quality=quality,
        background=bkg,
        cadence_seconds=float(cadence_seconds),
        time_system=time_system,
        bjd_ref=BJD_REFERENCE[time_system],
        quality_bitmask=bitmask,
        aperture_source="pipeline",
        source=f"synthetic:{target_id}:{mission}:{sector}",
        meta={"synthetic": True, "roll_deg": float(roll_deg), "psf_sigma_pix": float(psf_sigma_pix)},
    )

    depth_ap = 0.0 if src is None else depth_used * star_ap[src] / aperture_flux
    ephemeris = attrs.evolve(ephemeris, depth_ppm=None if src is None else depth_ap * 1e6)
    epochs = np.unique(np.rint((time[in_good] - t0) / period)) if src is not None else np.array([])
    truth = SyntheticTruth(
        target_pixel=(tgt_row, tgt_col),
        star_pixels=star_pixels,
        transit_star=src,
        source_pixel=None if src is None else (float(star_rows[src]), float(star_cols[src])),
        source_offset_arcsec=None if src is None else (float(east[src]), float(north[src])),
        source_radec=None if src is None else (float(star_ra[src]), float(star_dec[src])),
        depth=depth_used,
        depth_in_aperture=float(depth_ap),
        expected_snr=float(depth_used * snr_per_depth) if depth_used > 0 else 0.0,
        aperture_flux=aperture_flux,
        sigma_aperture=sigma_ap,
        star_flux_in_aperture=star_ap,
        transit_shape=shape_t if src is not None else np.zeros(n),
        transit_times=t0 + period * epochs,
        n_in_transit=n_eff,
        pointing=pointing,
    )
    return SyntheticCase(stamp=stamp, ephemeris=ephemeris, truth=truth)


def default_rolls(n_sectors: int) -> tuple[float, ...]:
    """Roll angles (deg) for :func:`make_sectors`: 97°·k + 19°·⌊k/2⌋ mod 360 → (0, 97, 213, 310, …)."""
    k = np.arange(n_sectors)
    return tuple(float(r) for r in np.mod(97.0 * k + 19.0 * (k // 2), 360.0))


def make_sectors(
    n_sectors: int = 3,
    *,
    rolls_deg: Sequence[float] | None = None,
    sectors: Sequence[int] | None = None,
    seed: int | np.random.Generator | None = 0,
    **kwargs: Any,
) -> list[SyntheticCase]:
    """Several sectors of ONE target: the same stars on the sky, seen at different roll angles.

    Each sector has its own roll (default :func:`default_rolls`), its own
    sub-pixel target position (random within ±0.5 px of the stamp centre
    unless ``target_pixel`` is given), its own time range (``t_start`` moves by
    :data:`SECTOR_DAYS` per sector number) and an independent random stream
    derived from ``seed``.  The ephemeris is shared: ``t0`` defaults to that
    of the first sector.  With ``snr=`` the depth is solved in the first sector
    and the same physical depth is used in all, so the other sectors' SNRs
    differ a little (see each case's ``truth.expected_snr``).  Other keyword
    arguments go to :func:`make_stamp`.
    """
    if n_sectors < 1:
        raise ValueError(f"n_sectors must be at least 1, got {n_sectors}")
    rolls = default_rolls(n_sectors) if rolls_deg is None else tuple(float(r) for r in rolls_deg)
    first = int(kwargs.pop("sector", 1))
    numbers = tuple(range(first, first + n_sectors)) if sectors is None else tuple(int(s) for s in sectors)
    if len(rolls) != n_sectors or len(numbers) != n_sectors:
        raise ValueError(
            f"need {n_sectors} roll angles and sector numbers, got {len(rolls)} and {len(numbers)}"
        )
    if len(set(numbers)) != n_sectors:
        raise ValueError(f"sector numbers must differ, got {numbers}")
    t_start = float(kwargs.pop("t_start", 2000.0))
    period = float(kwargs.pop("period", 3.1))
    t0 = kwargs.pop("t0", None)
    t0 = t_start + 0.37 * period if t0 is None else float(t0)
    shape = kwargs.pop("shape", (13, 11))
    fixed_pixel = kwargs.pop("target_pixel", None)
    *streams, rng_pixels = _rng_streams(seed, n_sectors + 1)
    centre = np.array([(shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0])
    cases: list[SyntheticCase] = []
    for k, (number, roll, rng) in enumerate(zip(numbers, rolls, streams, strict=True)):
        pixel = fixed_pixel if fixed_pixel is not None else tuple(centre + rng_pixels.uniform(-0.5, 0.5, 2))
        case = make_stamp(
            sector=number,
            roll_deg=roll,
            t_start=t_start + (number - numbers[0]) * SECTOR_DAYS,
            period=period,
            t0=t0,
            shape=shape,
            target_pixel=pixel,
            seed=rng,
            **kwargs,
        )
        cases.append(case)
        if k == 0 and kwargs.get("snr") is not None:
            kwargs = {**kwargs, "snr": None, "depth": case.truth.depth}
    return cases
