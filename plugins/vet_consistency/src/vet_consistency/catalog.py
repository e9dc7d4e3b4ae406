"""Nearby catalogue sources: which star is the most likely host of the signal?

The catalogue is a local table file (CSV, ECSV, FITS, VOTable — anything
``astropy.table.Table.read`` reads) with RA/Dec in degrees and optionally an
identifier and a magnitude.  Positions are taken as given (no proper-motion
propagation: at TESS and Kepler pixel scales the motion of field stars over a
few years is negligible next to the localization errors).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from vet_consistency.combine import significance
from vetcore.errors import DataError
from vetcore.sky import sky_offset

__all__ = ["Source", "rank_sources", "read_catalog"]

_RA = ("ra", "ra_deg", "raj2000", "_raj2000", "ra_icrs", "radeg")
_DEC = ("dec", "dec_deg", "dej2000", "_dej2000", "de_icrs", "dec_icrs", "dedeg")
_ID = ("id", "source_id", "name", "designation", "tic", "ticid", "kic", "kepid")
_MAG = ("mag", "tmag", "kepmag", "kpmag", "gmag", "phot_g_mean_mag", "vmag")


@attrs.frozen
class Source:
    """One catalogue source ranked against the combined localization.

    ``east``/``north``: offset from the target (arcsec); ``separation_arcsec`` and
    ``sigma`` (Mahalanobis, with the combined covariance): distance from the
    combined source position.  ``implied_depth`` is the fractional eclipse depth
    the source would need to produce the observed depth (see :func:`rank_sources`);
    ``can_host`` is False when that exceeds 1.
    """

    id: str
    ra: float
    dec: float
    east: float
    north: float
    mag: float | None
    is_target: bool
    separation_arcsec: float
    sigma: float
    implied_depth: float | None

    @property
    def can_host(self) -> bool:
        return self.implied_depth is None or self.implied_depth <= 1.0

    def as_dict(self) -> dict[str, Any]:
        row = attrs.asdict(self)
        row["can_host"] = self.can_host
        return row


def _column(names: dict[str, str], candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        if name in names:
            return names[name]
    return None


def read_catalog(path: str | Path) -> list[tuple[str, float, float, float | None]]:
    """Read ``(id, ra_deg, dec_deg, mag)`` rows from a table file.

    Column names are matched case-insensitively: RA from ``ra``/``ra_deg``/
    ``RAJ2000``/``RA_ICRS``, Dec likewise, the identifier from ``id``/
    ``source_id``/``name``/``TIC``/``KIC`` (row number if absent) and the
    magnitude from ``mag``/``Tmag``/``Kepmag``/``Gmag``/``phot_g_mean_mag``.
    Raises :class:`vetcore.errors.DataError` naming the file when it cannot be
    read or lacks RA/Dec.
    """
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "catalogue file not found")
    try:
        table = Table.read(path, format="ascii.csv") if path.suffix.lower() == ".csv" else Table.read(path)
    except Exception as exc:  # astropy raises many types for unreadable tables
        raise DataError(path, f"cannot read catalogue table: {exc}") from exc
    names = {name.lower(): name for name in table.colnames}
    ra_col, dec_col = _column(names, _RA), _column(names, _DEC)
    if ra_col is None or dec_col is None:
        raise DataError(path, f"catalogue needs RA and Dec columns in degrees; found {table.colnames}")
    id_col, mag_col = _column(names, _ID), _column(names, _MAG)
    ra = np.asarray(table[ra_col], dtype=float)
    dec = np.asarray(table[dec_col], dtype=float)
    ids = [str(v) for v in table[id_col]] if id_col else [str(i) for i in range(len(table))]
    mags: np.ndarray | None = None
    if mag_col:
        mags = np.ma.filled(np.ma.asarray(table[mag_col], dtype=float), np.nan)
    rows = []
    for i in range(len(table)):
        if not (math.isfinite(ra[i]) and math.isfinite(dec[i])):
            continue
        mag = float(mags[i]) if mags is not None and math.isfinite(mags[i]) else None
        rows.append((ids[i], float(ra[i]), float(dec[i]), mag))
    return rows


def rank_sources(
    rows: list[tuple[str, float, float, float | None]],
    *,
    target_id: str,
    target_ra: float,
    target_dec: float,
    target_mag: float | None,
    offset: Any,
    covariance: Any,
    radius_arcsec: float,
    match_arcsec: float,
    depth_ppm: float | None,
) -> list[Source]:
    """Rank catalogue sources within ``radius_arcsec`` of the target by σ from the combined position.

    The catalogue source closest to the target within ``match_arcsec`` is taken
    to be the target; if there is none the target itself is added, so the
    target is always a candidate host.  ``sigma`` is the Mahalanobis distance of
    the source from the combined position ``offset`` with ``covariance``
    (catalogue position errors are neglected).

    ``implied_depth`` = depth × 10^(0.4 (m_source − m_target)) is the eclipse
    depth the source itself must have to dilute to the observed depth, assuming
    the target dominates the aperture flux and both stars fall fully in it (an
    approximation; needs ``depth_ppm`` and magnitudes in one band — the target's
    catalogue magnitude, else ``target_mag``).  Sources needing more than 100 %
    cannot be the host.  Sorted by ``sigma``.
    """
    offset = np.asarray(offset, dtype=float)
    covariance = np.asarray(covariance, dtype=float)
    if rows:
        ra = np.array([r[1] for r in rows])
        dec = np.array([r[2] for r in rows])
        east, north = sky_offset(ra, dec, target_ra, target_dec)
        east, north = np.atleast_1d(east), np.atleast_1d(north)
    else:
        east = north = np.zeros(0)
    dist = np.hypot(east, north)
    target_index = int(np.argmin(dist)) if dist.size and dist.min() <= match_arcsec else None
    if target_index is not None and rows[target_index][3] is not None:
        target_mag = rows[target_index][3]
    candidates = [
        (rows[i], float(east[i]), float(north[i]), i == target_index)
        for i in range(len(rows))
        if dist[i] <= radius_arcsec
    ]
    if target_index is None:
        candidates.insert(0, ((target_id, target_ra, target_dec, target_mag), 0.0, 0.0, True))

    sources = []
    for (sid, sra, sdec, smag), e, n, is_target in candidates:
        delta = np.array([e, n]) - offset
        implied = None
        if depth_ppm is not None and smag is not None and target_mag is not None:
            implied = depth_ppm * 1e-6 * 10.0 ** (0.4 * (smag - target_mag))
        sources.append(
            Source(
                id=sid,
                ra=sra,
                dec=sdec,
                east=e,
                north=n,
                mag=smag,
                is_target=is_target,
                separation_arcsec=float(np.hypot(*delta)),
                sigma=significance(delta, covariance).mahalanobis,
                implied_depth=implied,
            )
        )
    return sorted(sources, key=lambda s: s.sigma)
