"""Which star hosts the signal?  Per-star probabilities from a localization and a neighbour list.

For every candidate — the target and each listed star within a search radius
of the target or of the localized source — :func:`attribute_hosts` gives

* the offset of the star from the localized source in σ: the Mahalanobis
  distance √(rᵀ C_eff⁻¹ r) with r = star − source (east, north) and
  C_eff = C + σ_sys² I, the localization covariance plus an isotropic
  systematic error (catalogue positions, PSF-model errors);
* its share of the flux in the photometric aperture, s_i = F_i a_i / Σ_j F_j a_j,
  with F = 10^(−0.4 m) from the list's magnitudes and a_i the fraction of the
  star's light that falls in the aperture pixels for a pixel-integrated
  circular Gaussian PSF of width ``psf_sigma_pixels`` at the star's WCS position
  (averaged over the stamps); Σ_j runs over every listed star and the target;
* the eclipse depth it would need to produce the observed aperture depth δ,
  δ_i = δ / s_i: a star holding a fraction s of the aperture flux cannot cause a
  dip deeper than s, so δ_i > ``max_depth`` (100 % by default) rules it out;
* a relative probability of being the host: the localization likelihood
  exp(−m_i²/2) (the normalisation of C_eff is common to all stars) times the
  depth feasibility (0 or 1), normalised over the candidates (equal priors).

This follows the per-star likelihoods of TESS-Localize (Higgins & Bell 2023,
AJ 165, 141), the difference-image centroid offsets of the Kepler/TESS Data
Validation pipelines measured against catalogue positions of nearby stars
(Bryson et al. 2013, PASP 125, 889; Twicken et al. 2018, PASP 130, 064502),
and the dilution argument of Bryson et al. (2013, §4): a blended eclipsing
binary must be deep enough to survive the dilution by the other stars.
Stars absent from the list (fainter than its limit, or unresolved companions)
are not candidates; the probabilities are relative, so a source many σ from
every feasible listed star still has a "most probable" one: callers check its
``offset_sigma`` (:meth:`HostTable.best_within`) before naming it the host.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from vetcore.model import Param

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import Localization, SectorContext, Stamp, Target
    from vetcore.neighbours import Neighbours, Star

__all__ = [
    "HOST_PARAMS",
    "TARGET",
    "HostCandidate",
    "HostTable",
    "aperture_fractions",
    "attribute_hosts",
    "named_ids",
    "rivals_phrase",
    "sector_rivals",
]

#: The host id that stands for the target itself.
TARGET = "target"

#: Parameters of host weighing that a check can list among its own (V08, V09 and V25 do), read by
#: :func:`attribute_hosts` (search radius, deepest eclipse, target match),
#: :meth:`HostTable.likely_rivals` (rival probability) and :func:`sector_rivals` (all four).
HOST_PARAMS: tuple[Param, ...] = (
    Param(
        "host_search_radius_pixels",
        3.0,
        "Listed stars within this many pixels of the target or of the localized source are weighed as hosts.",
        unit="pixel",
        minimum=0.0,
        maximum=50.0,
        exclusive_minimum=True,
    ),
    Param(
        "max_host_depth",
        1.0,
        "Deepest eclipse a host can have (fraction); a star needing more to produce the observed depth "
        "after dilution cannot be the host.",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    Param(
        "rival_host_probability",
        0.1,
        "On target only when no listed star other than the target that could produce the depth has a "
        "relative host probability (localization likelihood × depth feasibility, normalised) at or above "
        "this; such a star makes the answer inconclusive.",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    Param(
        "neighbour_match_arcsec",
        2.0,
        "A listed star this close to the target's position is the target itself.",
        unit="arcsec",
        minimum=0.0,
        maximum=60.0,
    ),
)


@attrs.frozen
class HostCandidate:
    """One candidate host.  ``id`` is :data:`TARGET` for the target, else the star's id.

    ``east``/``north``: offset from the target (arcsec); ``separation_arcsec``
    and ``offset_sigma``: distance from the localized source (arcsec, and σ with
    the localization covariance plus the systematic error); ``flux_share``: the
    star's fraction of the aperture flux; ``required_depth``: the fractional
    eclipse depth it would need (``None`` when shares or the depth are unknown);
    ``feasible``: whether that depth is possible; ``probability``: relative
    probability of hosting the signal (sums to 1 over the table, or 0 everywhere
    when no candidate is feasible).
    """

    id: str
    name: str
    is_target: bool
    ra: float
    dec: float
    mag: float | None
    east: float
    north: float
    separation_arcsec: float
    offset_sigma: float
    flux_share: float | None
    required_depth: float | None
    feasible: bool
    probability: float

    def to_dict(self) -> dict[str, Any]:
        from vetcore.serialize import jsonable

        return {k: jsonable(v) for k, v in attrs.asdict(self).items()}


@attrs.frozen
class HostTable:
    """The candidates sorted by decreasing probability, and how they were weighed.

    ``depth_ppm`` is the observed aperture depth used for the feasibility test
    (``None``: untested); ``notes`` says what could not be evaluated.
    """

    candidates: tuple[HostCandidate, ...]
    depth_ppm: float | None
    search_radius_arcsec: float
    notes: tuple[str, ...] = ()

    @property
    def most_likely(self) -> HostCandidate | None:
        """The most probable candidate, or ``None`` when none is feasible."""
        if not self.candidates or self.candidates[0].probability <= 0.0:
            return None
        return self.candidates[0]

    def best_within(self, sigma: float) -> HostCandidate | None:
        """The most probable candidate if it lies within ``sigma`` of the source, else ``None``."""
        best = self.most_likely
        return best if best is not None and best.offset_sigma < sigma else None

    @property
    def target(self) -> HostCandidate | None:
        return next((c for c in self.candidates if c.is_target), None)

    def feasible_within(self, east: float, north: float, radius_arcsec: float) -> list[HostCandidate]:
        """Feasible non-target candidates within ``radius_arcsec`` of (east, north)."""
        return [
            c
            for c in self.candidates
            if c.feasible and not c.is_target and math.hypot(c.east - east, c.north - north) <= radius_arcsec
        ]

    def not_excluded(self, sigma: float) -> list[HostCandidate]:
        """Feasible non-target candidates less than ``sigma`` from the source (``offset_sigma``)."""
        return [c for c in self.candidates if c.feasible and not c.is_target and c.offset_sigma < sigma]

    def likely_rivals(self, probability: float) -> list[HostCandidate]:
        """Feasible non-target candidates whose host probability is at least ``probability``."""
        return [c for c in self.candidates if c.feasible and not c.is_target and c.probability >= probability]


def aperture_fractions(stamp: Stamp, ra: Any, dec: Any, psf_sigma_pixels: float) -> np.ndarray:
    """Fraction of each star's light inside ``stamp``'s aperture (pixel-integrated Gaussian PSF).

    ``ra``/``dec`` in degrees (arrays); a star off the stamp still contributes
    its PSF wing.  Pixel ``(r, c)`` spans ``[r − ½, r + ½] × [c − ½, c + ½]``.
    """
    from scipy.special import ndtr

    rows, cols = stamp.sky_to_pixel(np.atleast_1d(ra), np.atleast_1d(dec))
    rows, cols = np.atleast_1d(rows), np.atleast_1d(cols)
    ny, nx = stamp.shape
    r_edges = np.arange(ny + 1) - 0.5
    c_edges = np.arange(nx + 1) - 0.5
    pr = np.diff(ndtr((r_edges[None, :] - rows[:, None]) / psf_sigma_pixels), axis=1)  # (stars, ny)
    pc = np.diff(ndtr((c_edges[None, :] - cols[:, None]) / psf_sigma_pixels), axis=1)  # (stars, nx)
    mask = np.asarray(stamp.aperture_mask, dtype=float)
    return np.asarray(np.einsum("sr,sc,rc->s", pr, pc, mask))


def _match_target(stars: Sequence[Star], east: np.ndarray, north: np.ndarray, match: float) -> int | None:
    if not stars:
        return None
    dist = np.hypot(east, north)
    i = int(np.argmin(dist))
    return i if dist[i] <= match else None


def attribute_hosts(
    *,
    target: Target,
    neighbours: Neighbours,
    offset_arcsec: Any,
    covariance_arcsec2: Any,
    stamps: Sequence[Stamp],
    depth_ppm: float | None,
    search_radius_arcsec: float,
    psf_sigma_pixels: float,
    systematic_arcsec: float,
    match_arcsec: float = 2.0,
    max_depth: float = 1.0,
) -> HostTable:
    """Weigh the target and the listed stars near it as hosts of the signal (module docstring).

    ``offset_arcsec``/``covariance_arcsec2`` are the localized source (east,
    north) from the target and its covariance; ``stamps`` give the apertures and
    WCS for the flux shares; ``depth_ppm`` the observed depth in the aperture.
    The listed star nearest the target within ``match_arcsec`` is the target
    (its magnitude is used); without one, the target is added with its own
    magnitude (taken to be in the list's band).
    """
    from vetcore.sky import sky_offset

    if target.ra is None or target.dec is None:
        raise ValueError("host attribution needs the target's RA/Dec")
    offset = np.asarray(offset_arcsec, dtype=float)
    cov = 0.5 * (np.asarray(covariance_arcsec2, dtype=float) + np.asarray(covariance_arcsec2, dtype=float).T)
    cov_eff = cov + systematic_arcsec**2 * np.eye(2)
    notes: list[str] = []

    stars = list(neighbours.stars)
    if stars:
        e, n = sky_offset(
            np.array([s.ra for s in stars]), np.array([s.dec for s in stars]), target.ra, target.dec
        )
        east_all, north_all = np.atleast_1d(e).astype(float), np.atleast_1d(n).astype(float)
    else:
        east_all = north_all = np.zeros(0)
    t_index = _match_target(stars, east_all, north_all, match_arcsec)
    target_mag = stars[t_index].mag if t_index is not None else target.magnitude
    names = [s.id for s in stars]
    ras = [s.ra for s in stars]
    decs = [s.dec for s in stars]
    mags: list[float | None] = [s.mag for s in stars]
    is_target = [i == t_index for i in range(len(stars))]
    if t_index is None:
        names.insert(0, target.id)
        ras.insert(0, float(target.ra))
        decs.insert(0, float(target.dec))
        mags.insert(0, target_mag)
        is_target.insert(0, True)
        east_all = np.concatenate([[0.0], east_all])
        north_all = np.concatenate([[0.0], north_all])
        if target_mag is not None:
            notes.append("the target is not in the neighbour list: its own magnitude was used")

    # flux shares of the aperture, averaged over the stamps
    shares: np.ndarray | None = None
    if any(m is None for m in mags):
        notes.append("the target's magnitude is unknown: flux shares and depth feasibility untested")
    elif not stamps:
        notes.append("no pixel data: flux shares and depth feasibility untested")
    else:
        flux = 10.0 ** (-0.4 * np.array(mags, dtype=float))
        per_stamp = []
        for stamp in stamps:
            in_ap = flux * aperture_fractions(stamp, np.array(ras), np.array(decs), psf_sigma_pixels)
            total = in_ap.sum()
            per_stamp.append(in_ap / total if total > 0 else np.full(len(flux), np.nan))
        shares = np.nanmean(np.array(per_stamp), axis=0)
    depth = None if depth_ppm is None or not math.isfinite(depth_ppm) or depth_ppm <= 0 else depth_ppm * 1e-6
    if depth is None:
        notes.append("no transit depth: depth feasibility untested")

    source_dist = np.hypot(east_all - offset[0], north_all - offset[1])
    near = (np.hypot(east_all, north_all) <= search_radius_arcsec) | (source_dist <= search_radius_arcsec)
    near |= np.array(is_target)
    idx = np.flatnonzero(near)
    inv = np.linalg.inv(cov_eff)
    resid = np.stack([east_all[idx] - offset[0], north_all[idx] - offset[1]], axis=1)
    m2 = np.einsum("si,ij,sj->s", resid, inv, resid)
    required = None if shares is None or depth is None else depth / np.maximum(shares[idx], 1e-300)
    feasible = np.ones(idx.size, bool) if required is None else required <= max_depth
    log_like = np.where(feasible, -0.5 * m2, -np.inf)
    if np.isfinite(log_like).any():
        w = np.exp(log_like - log_like[np.isfinite(log_like)].max())
        prob = w / w.sum()
    else:
        prob = np.zeros(idx.size)
        notes.append("no listed star can produce the observed depth")

    candidates = [
        HostCandidate(
            id=TARGET if is_target[i] else names[i],
            name=names[i],
            is_target=is_target[i],
            ra=float(ras[i]),
            dec=float(decs[i]),
            mag=None if mags[i] is None else float(mags[i]),  # type: ignore[arg-type]
            east=float(east_all[i]),
            north=float(north_all[i]),
            separation_arcsec=float(source_dist[i]),
            offset_sigma=float(math.sqrt(max(m2[k], 0.0))),
            flux_share=None if shares is None else float(shares[i]),
            required_depth=None if required is None else float(required[k]),
            feasible=bool(feasible[k]),
            probability=float(prob[k]),
        )
        for k, i in enumerate(idx)
    ]
    candidates.sort(key=lambda c: (-c.probability, c.offset_sigma))
    return HostTable(
        candidates=tuple(candidates),
        depth_ppm=None if depth is None else depth * 1e6,
        search_radius_arcsec=float(search_radius_arcsec),
        notes=tuple(notes),
    )


def sector_rivals(
    ctx: SectorContext, loc: Localization, *, psf_sigma_pixels: float, depth_ppm: float | None = None
) -> list[HostCandidate] | None:
    """Listed stars that one sector's on-target localization cannot exclude as hosts (``None``
    without a neighbour list).

    The target's neighbours are weighed with :func:`attribute_hosts` on the
    sector's stamp (``HOST_PARAMS`` read from ``ctx.params``; flux shares with a
    Gaussian PSF of ``psf_sigma_pixels``; the ephemeris depth, else
    ``depth_ppm``; no systematic error added: the localization's covariance is
    taken as complete).  Returned: the stars other than the target that could
    produce the depth and lie within the 3σ confusion radius of the source or
    hold a relative host probability of ``rival_host_probability`` or more,
    most probable first.  A sector check that finds any should not call the
    source on target (the rule V25 applies to the combined localization).
    """
    from vetcore.verdicts import CONFUSION_NSIGMA

    neighbours, p = ctx.target.neighbours, ctx.params
    if neighbours is None:
        return None
    depth = ctx.ephemeris.depth_ppm
    if depth is None or not math.isfinite(depth):
        depth = depth_ppm
    table = attribute_hosts(
        target=ctx.target,
        neighbours=neighbours,
        offset_arcsec=loc.offset_arcsec,
        covariance_arcsec2=loc.covariance_arcsec2,
        stamps=(ctx.stamp,),
        depth_ppm=depth,
        search_radius_arcsec=p.host_search_radius_pixels * ctx.stamp.pixel_scale_arcsec,
        psf_sigma_pixels=psf_sigma_pixels,
        systematic_arcsec=0.0,
        match_arcsec=p.neighbour_match_arcsec,
        max_depth=p.max_host_depth,
    )
    east, north = (float(v) for v in loc.offset_arcsec)
    rivals = table.feasible_within(east, north, loc.confusion_radius_arcsec(CONFUSION_NSIGMA))
    rivals += [c for c in table.likely_rivals(p.rival_host_probability) if c not in rivals]
    return sorted(rivals, key=lambda c: -c.probability)


def named_ids(candidates: Sequence[HostCandidate], limit: int = 3) -> str:
    """The first ``limit`` candidates' ids, comma-separated, with "…" when there are more."""
    return ", ".join(c.id for c in candidates[:limit]) + (", …" if len(candidates) > limit else "")


def rivals_phrase(rivals: Sequence[HostCandidate]) -> str:
    """How a sector check names the :func:`sector_rivals` that keep it from calling a source on target."""
    return (
        f"{len(rivals)} listed star(s) that could produce the depth lie within that radius or are likely "
        f"hosts ({named_ids(rivals)})"
    )
