"""Write stamps to disk in a format the builtin loaders read (for tests, batches, examples)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vetcore.model import Stamp

__all__ = ["save_npz"]


def save_npz(stamp: Stamp, path: str | os.PathLike[str]) -> Path:
    """Save ``stamp`` as an ``.npz`` that :mod:`vetcore.loaders.npz` loads back.

    The WCS goes in ``wcs_header`` (a plain dict of FITS keywords); target,
    sector, mission and cadence are stored as scalars.
    """
    header = {
        k: v for k, v in stamp.wcs.to_header(relax=True).items() if isinstance(v, (str, int, float, bool))
    }
    arrays: dict[str, np.ndarray] = {
        "time": stamp.time,
        "flux": np.asarray(stamp.flux, dtype=np.float32),
        "aperture_mask": stamp.aperture_mask,
        "wcs_header": np.array(header, dtype=object),
        "target_id": np.array(stamp.target.id),
        "sector": np.array(stamp.sector),
        "mission": np.array(stamp.mission),
        "cadence_seconds": np.array(stamp.cadence_seconds),
    }
    if stamp.target.ra is not None and stamp.target.dec is not None:
        arrays["ra"], arrays["dec"] = np.array(stamp.target.ra), np.array(stamp.target.dec)
    for name in ("flux_err", "quality", "background"):
        value = getattr(stamp, name)
        if value is not None:
            arrays[name] = np.asarray(value)
    path = Path(path)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path
