"""Pixel ↔ sky geometry through the stamp WCS.

Pixel positions are ``(row, col)``, 0-based, centres at integers.  Sky offsets
are ``(east, north)`` arcsec on the tangent plane at a reference position
(gnomonic standard coordinates ξ, η), which equals (ΔRA·cos Dec, ΔDec) to first
order.  The pixel scale always comes from the WCS (TESS ≈ 21″, Kepler ≈ 3.98″).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from astropy.wcs import WCS

ARCSEC_PER_DEG = 3600.0


class _Target(Protocol):
    @property
    def ra(self) -> float | None: ...
    @property
    def dec(self) -> float | None: ...


class StampGeometry(Protocol):
    """What the stamp-level functions here read of a :class:`vetcore.model.Stamp`
    (declared structurally, so that this module does not depend on the data model)."""

    @property
    def target(self) -> _Target: ...
    @property
    def source(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def mission(self) -> str: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def aperture_mask(self) -> np.ndarray: ...
    @property
    def pixel_scale_arcsec(self) -> float: ...
    @property
    def target_pixel(self) -> tuple[float, float]: ...
    @property
    def meta(self) -> Mapping[str, Any]: ...
    def pixel_to_sky(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]: ...


__all__ = [
    "StampGeometry",
    "mahalanobis",
    "offset_to_sky",
    "pixel_frame",
    "pixel_scale_arcsec",
    "pixel_to_offset",
    "pixel_to_sky",
    "sky_offset",
    "sky_to_pixel",
]


def _celestial(wcs: WCS) -> WCS:
    """The celestial part of ``wcs`` with longitude first: ``wcs`` itself when it has only those two
    axes in that order (``WCS.celestial`` would deep-copy it), else ``wcs.celestial``."""
    if wcs.naxis == 2 and wcs.wcs.lng == 0 and wcs.wcs.lat == 1:
        return wcs
    return wcs.celestial


def pixel_scale_arcsec(wcs: WCS) -> float:
    """Mean pixel scale (arcsec/pixel) from ``proj_plane_pixel_scales``."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    return float(np.mean(proj_plane_pixel_scales(_celestial(wcs))) * ARCSEC_PER_DEG)


def sky_to_pixel(wcs: WCS, ra: Any, dec: Any) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of ``ra``/``dec`` (deg), 0-based; vectorised."""
    x, y = _celestial(wcs).all_world2pix(np.asarray(ra, float), np.asarray(dec, float), 0)
    return np.asarray(y), np.asarray(x)


def pixel_to_sky(wcs: WCS, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees of 0-based (row, col); vectorised."""
    ra, dec = _celestial(wcs).all_pix2world(np.asarray(col, float), np.asarray(row, float), 0)
    return np.asarray(ra), np.asarray(dec)


def sky_offset(ra: Any, dec: Any, ra0: float, dec0: float) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic (east, north) offsets in arcsec of (ra, dec) from (ra0, dec0)."""
    a, d = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    a0, d0 = np.radians(ra0), np.radians(dec0)
    cos_c = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0)
    xi = np.cos(d) * np.sin(a - a0) / cos_c
    eta = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(a - a0)) / cos_c
    scale = np.degrees(1.0) * ARCSEC_PER_DEG
    return xi * scale, eta * scale


def offset_to_sky(east: Any, north: Any, ra0: float, dec0: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`sky_offset`: (ra, dec) deg of gnomonic offsets in arcsec."""
    scale = np.degrees(1.0) * ARCSEC_PER_DEG
    xi, eta = np.asarray(east, float) / scale, np.asarray(north, float) / scale
    d0, a0 = np.radians(dec0), np.radians(ra0)
    denom = np.cos(d0) - eta * np.sin(d0)
    a = a0 + np.arctan2(xi, denom)
    d = np.arctan2(np.sin(d0) + eta * np.cos(d0), np.hypot(xi, denom))
    return np.degrees(a) % 360.0, np.degrees(d)


def pixel_to_offset(stamp: StampGeometry, row: Any, col: Any, with_jacobian: bool = False) -> Any:
    """(east, north) arcsec of pixel (row, col) from the stamp's target.

    With ``with_jacobian=True`` also returns the 2×2 matrix
    ∂(east, north)/∂(row, col) in arcsec/pixel at that position (central finite
    differences of ±0.01 px through the full WCS), used to carry pixel
    covariances to the sky: ``C_sky = J C_pix Jᵀ``.
    """
    ra0, dec0 = stamp.target.ra, stamp.target.dec
    if ra0 is None or dec0 is None:
        raise ValueError(f"{stamp.source or stamp.label}: target has no RA/Dec")
    ra, dec = stamp.pixel_to_sky(row, col)
    east, north = sky_offset(ra, dec, ra0, dec0)
    if not with_jacobian:
        return east, north
    h = 0.01
    r = float(row) + np.array([h, -h, 0.0, 0.0])
    c = float(col) + np.array([0.0, 0.0, h, -h])
    e, n = sky_offset(*stamp.pixel_to_sky(r, c), ra0, dec0)
    jac = np.array(
        [
            [(e[0] - e[1]) / (2 * h), (e[2] - e[3]) / (2 * h)],
            [(n[0] - n[1]) / (2 * h), (n[2] - n[3]) / (2 * h)],
        ]
    )
    return (float(east), float(north)), jac


def mahalanobis(offset: Any, covariance: Any) -> float:
    """√(dᵀ C⁻¹ d): significance of a 2-D offset given its covariance (NaN if singular)."""
    d = np.asarray(offset, float)
    c = np.asarray(covariance, float)
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(c))):
        return float("nan")
    try:
        return float(np.sqrt(max(float(d @ np.linalg.solve(c, d)), 0.0)))
    except np.linalg.LinAlgError:
        return float("nan")


def pixel_frame(stamp: StampGeometry) -> dict[str, Any]:
    """JSON-ready description of the stamp's sky orientation, for plots.

    Returns the image shape, the target's (row, col), the pixel scale, and unit
    vectors (Δrow, Δcol) pointing north and east at the target, so a figure can
    draw a compass and an arcsec scale without the WCS object; ``ccd_origin`` is
    the CCD (row, column) of pixel (0, 0) when the file gives it, else ``None``.
    """
    row, col = stamp.target_pixel
    _, jac = pixel_to_offset(stamp, row, col, with_jacobian=True)
    inv = np.linalg.inv(jac)  # (east, north) arcsec -> (row, col)
    north, east = inv[:, 1], inv[:, 0]
    return {
        "shape": list(stamp.shape),
        "target_pixel": [row, col],
        "pixel_scale_arcsec": stamp.pixel_scale_arcsec,
        "north": (north / np.hypot(*north)).tolist(),
        "east": (east / np.hypot(*east)).tolist(),
        "aperture": stamp.aperture_mask.astype(int).tolist(),
        "label": stamp.label,
        "mission": stamp.mission,
        "ccd_origin": stamp.meta.get("ccd_origin"),
    }
