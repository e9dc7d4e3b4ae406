"""Target pixel files in FITS: SPOC TESS, Kepler, K2 and TESScut/astrocut cut-outs.

All four share the layout of the Kepler/TESS archive manuals: a primary header
with the target (``RA_OBJ``/``DEC_OBJ``, ``TICID`` or ``KEPLERID``, ``SECTOR``,
``QUARTER`` or ``CAMPAIGN``), a ``PIXELS``/``TARGETTABLES`` binary table with one
row per cadence (``TIME``, ``FLUX``, ``FLUX_ERR``, ``FLUX_BKG``, ``QUALITY``,
``POS_CORR1/2``), and an ``APERTURE`` image.  The image WCS is read from the
binary-table image-array keywords of the ``FLUX`` column (``1CTYP5``, ``1CRVL5``…,
FITS WCS paper I, §3.2), so it describes the stamp's own pixel grid.  Times are
BTJD (TESS, ``BJDREFI`` = 2457000) or BKJD (Kepler/K2, 2454833).

The files are read with astropy only (memory-mapped when not compressed).
Compressed files (gzip, bzip2, recognised by content) are inflated within the
bounds of :mod:`vetcore.loaders.files`.  TESScut cut-outs carry no pipeline
aperture, and a pipeline aperture may be empty; one is then derived with
:func:`vetcore.loaders.tesscut.derive_aperture` and the stamp says so
(``aperture_source = "derived"``), exactly as for ``.npz`` stamps.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from vetcore.errors import DataError
from vetcore.loaders.checks import override_target, position_origin, validated
from vetcore.loaders.files import check_regular_file, compression_of, inflate_fits
from vetcore.loaders.tesscut import with_aperture
from vetcore.mission import K2, KEPLER, MISSIONS, TESS, Mission, resolve_bitmask
from vetcore.model import LoadOptions, Stamp, Target

__all__ = ["FITS_SUFFIXES", "accepts", "load", "stamp_from_hdulist"]

FITS_SUFFIXES = (".fits", ".fits.gz", ".fit", ".fts", ".fits.bz2")

#: SPOC/Kepler pipelines set bit 0 of each APERTURE pixel when it was collected
#: and bit 1 when it is in the optimal (photometric) aperture.
APERTURE_OPTIMAL_BIT = 2

_TIME_SYSTEMS = {round(m.bjd_offset): m.time_system for m in MISSIONS.values()}


def _is_fits_path(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(FITS_SUFFIXES)


def accepts(source: Any) -> bool:
    """A path ending in ``.fits`` / ``.fits.gz`` (the content is checked on load)."""
    return _is_fits_path(source)


def load(source: Any, options: LoadOptions) -> list[Stamp]:
    """One stamp from a TPF or cut-out file; :class:`DataError` names the file on any problem."""
    from astropy.io import fits

    path = check_regular_file(source)
    try:
        # A compressed FITS is inflated once into memory, within bounds (vetcore.loaders.files):
        # astropy would otherwise decompress it again each time it seeks back to a table's data.
        compression = compression_of(path)
        handle: Any = inflate_fits(path, compression) if compression else path
        with fits.open(handle, memmap=True, lazy_load_hdus=False) as hdul:
            return [stamp_from_hdulist(hdul, str(path), options)]
    except DataError:
        raise
    except (OSError, EOFError, TypeError, ValueError, IndexError, KeyError, zlib.error) as exc:
        raise DataError(
            path, f"cannot read FITS ({type(exc).__name__}: {exc}); truncated or corrupt file?"
        ) from None


def _pixel_table(hdul: Any, source: str) -> Any:
    for hdu in hdul[1:]:
        if getattr(hdu, "columns", None) is not None and "FLUX" in hdu.columns.names:
            return hdu
    names = ", ".join(h.name or "?" for h in hdul)
    raise DataError(source, f"not a target pixel file: no binary table with a FLUX column (HDUs: {names})")


def _wcs(table: Any, source: str) -> Any:
    from astropy.wcs import WCS, FITSFixedWarning

    col = table.columns.names.index("FLUX") + 1
    missing = [
        f"{i}{k}{col}" for k in ("CTYP", "CRVL", "CRPX") for i in (1, 2) if f"{i}{k}{col}" not in table.header
    ]
    if missing:
        raise DataError(source, f"missing WCS keywords in the pixel table: {', '.join(missing)}")
    _check_wcs_values(table.header, col, source)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(table.header, keysel=["binary"], colsel=[col], naxis=2)
    if not wcs.has_celestial:
        raise DataError(source, f"the FLUX column's WCS ({col}CTYP) is not celestial")
    return wcs


def _check_wcs_values(header: Any, col: int, source: str) -> None:
    """Every binary-table WCS keyword of column ``col`` (``1CRVL5``, ``11PC5``…) readable and finite."""
    pattern = re.compile(rf"^\d{{1,2}}[A-Z]{{2,4}}{col}$")
    for key in [k for k in header if pattern.match(k)]:
        try:
            value = header[key]
        except Exception as exc:  # astropy's VerifyError for an unparsable card, among others
            raise DataError(source, f"WCS header keyword {key} cannot be read ({exc})") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise DataError(source, f"WCS header keyword {key} is {value}: the pixel positions are unknown")


def _target(primary: Any, mission: str, options: LoadOptions, source: str) -> Target:
    def number(key: str) -> float | None:
        value = primary.get(key)
        return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None

    ra, dec = number("RA_OBJ"), number("DEC_OBJ")
    facts = MISSIONS[mission]
    id_key, mag_key = ("TICID", "TESSMAG") if facts.telescope == TESS.telescope else ("KEPLERID", "KEPMAG")
    ident = f"{facts.catalogue} {primary[id_key]}" if primary.get(id_key) else ""
    mag, band = number(mag_key), facts.magnitude_band
    ident = ident or str(primary.get("OBJECT") or "").strip()
    if not ident:
        ident = f"J{ra:.5f}{dec:+.5f}" if ra is not None and dec is not None else Path(source).name
    if mag is not None and mag <= 0:  # astrocut writes 0 when unknown
        mag = None
    target = Target(id=ident, ra=ra, dec=dec, magnitude=mag, magnitude_band=band if mag is not None else None)
    return override_target(target, options.target)


def _mission(primary: Any, table: Any) -> tuple[str, int]:
    telescope = str(primary.get("TELESCOP", "")).strip()
    mission: Mission
    if telescope == TESS.telescope:
        mission = TESS
    elif primary.get(K2.period_keyword) is not None or str(primary.get("MISSION", "")).strip() == K2.name:
        mission = K2
    elif telescope == KEPLER.telescope:
        mission = KEPLER
    else:
        raise KeyError("TELESCOP is neither TESS nor Kepler")
    return mission.name, int(primary[mission.period_keyword])


def _column(data: Any, names: list[str], name: str, dtype: Any) -> np.ndarray | None:
    if name not in names:
        return None
    return np.asarray(data[name], dtype=dtype)


def stamp_from_hdulist(hdul: Any, source: str, options: LoadOptions) -> Stamp:
    """Build a :class:`Stamp` from an open TPF or cut-out ``HDUList`` (also used for lightkurve objects)."""
    primary = hdul[0].header
    table = _pixel_table(hdul, source)
    try:
        mission, sector = _mission(primary, table)
    except (KeyError, ValueError, TypeError) as exc:
        raise DataError(
            source, f"cannot tell mission and sector/quarter from the primary header ({exc})"
        ) from None
    wcs = _wcs(table, source)
    names = list(table.columns.names)
    data = table.data
    flux = np.asarray(data["FLUX"], dtype=np.float32)
    if flux.ndim != 3:
        raise DataError(source, f"FLUX is not a (cadence, row, col) cube: shape {flux.shape}")
    time = np.asarray(data["TIME"], dtype=np.float64)
    quality = _column(data, names, "QUALITY", np.int64)
    flux_err = _column(data, names, "FLUX_ERR", np.float32)
    background = _column(data, names, "FLUX_BKG", np.float32)
    pos_corr = None
    if "POS_CORR1" in names and "POS_CORR2" in names:
        # POS_CORR1 is along columns, POS_CORR2 along rows; stored here as (row, col).
        pos_corr = np.column_stack(
            [np.asarray(data["POS_CORR2"], float), np.asarray(data["POS_CORR1"], float)]
        )

    bjd_ref = float(table.header.get("BJDREFI", 0)) + float(table.header.get("BJDREFF", 0.0))
    time_system = _TIME_SYSTEMS.get(round(bjd_ref))
    if time_system is None:
        raise DataError(source, f"unexpected BJDREFI+BJDREFF = {bjd_ref} (expected 2457000 or 2454833)")
    cadence = float(table.header.get("TIMEDEL", np.nan)) * 86400.0
    if not np.isfinite(cadence):
        dt = np.diff(time[np.isfinite(time)])
        cadence = float(np.median(dt) * 86400.0) if dt.size else 120.0

    is_cutout = "astrocut" in str(primary.get("CREATOR", "")).lower()
    aperture, aperture_source = _aperture(hdul, flux.shape[1:])
    target = _target(primary, mission, options, source)
    meta: dict[str, Any] = {
        "camera": primary.get("CAMERA"),
        "ccd": primary.get("CCD"),
        "module": primary.get("MODULE"),
        "output": primary.get("OUTPUT"),
        "creator": str(primary.get("CREATOR", "")),
        "pipeline_version": str(primary.get("PROCVER", "")),
        "data_release": primary.get("DATA_REL"),
        "crowdsap": table.header.get("CROWDSAP"),
        "flfrcsap": table.header.get("FLFRCSAP"),
        "product": "TESScut FFI cut-out" if is_cutout else f"{mission} target pixel file",
        "position_from": position_origin("header keywords RA_OBJ/DEC_OBJ", options.target),
        "ccd_origin": _ccd_origin(hdul, table.header),
    }
    stamp = Stamp(
        mission=mission,
        sector=sector,
        time=time,
        flux=flux,
        wcs=wcs,
        target=target,
        aperture_mask=aperture,
        flux_err=flux_err,
        quality=quality,
        background=background,
        pos_corr=pos_corr,
        cadence_seconds=cadence,
        time_system=time_system,
        bjd_ref=bjd_ref,
        quality_bitmask=resolve_bitmask(options.quality_bitmask, mission),
        aperture_source=aperture_source,
        source=source,
        meta={k: v for k, v in meta.items() if v is not None and v != ""},
    )
    return validated(with_aperture(stamp))


def _ccd_origin(hdul: Any, header: Any) -> list[int] | None:
    """CCD (row, column) of the stamp's pixel (0, 0): the physical WCS of the pixel table
    (``2CRV5P``/``1CRV5P``), else of the aperture image (``CRVAL2P``/``CRVAL1P``), as lightkurve reads it."""
    pairs = [(header, "2CRV5P", "1CRV5P")]
    if "APERTURE" in hdul:
        pairs.append((hdul["APERTURE"].header, "CRVAL2P", "CRVAL1P"))
    for head, row_key, col_key in pairs:
        row, col = head.get(row_key), head.get(col_key)
        if isinstance(row, (int, float)) and isinstance(col, (int, float)):
            return [int(row), int(col)]
    return None


def _aperture(hdul: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, str]:
    """The pipeline's optimal aperture, or an empty mask with source ``"none"``."""
    if "APERTURE" in hdul:
        bits = np.asarray(hdul["APERTURE"].data)
        if bits.shape == tuple(shape):
            mask = (bits.astype(np.int64) & APERTURE_OPTIMAL_BIT) > 0
            if mask.any():
                return mask, "pipeline"
    return np.zeros(shape, dtype=bool), "none"
