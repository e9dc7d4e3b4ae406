"""Sanity checks every loader applies before handing a stamp to the checks."""

from __future__ import annotations

import numpy as np

from vetcore.errors import DataError
from vetcore.model import Stamp, Target

__all__ = ["check_target_on_stamp", "override_target", "position_origin", "validated"]


def validated(stamp: Stamp) -> Stamp:
    """Return ``stamp`` if it is usable, else raise :class:`DataError` naming its source.

    Rejected: no cadence at all, flux that is NaN everywhere, no good cadence
    after the quality mask, and a WCS that is not celestial.
    """
    name = stamp.source or stamp.label
    if not stamp.wcs.has_celestial:
        raise DataError(name, "the WCS has no celestial axes (RA/Dec)")
    if stamp.n_cadences == 0:
        raise DataError(name, "no cadences: the file holds no time samples")
    good = stamp.good
    if not good.any() and not np.isfinite(stamp.flux).any():
        raise DataError(name, "flux is NaN in every cadence and pixel")
    if not good.any():
        raise DataError(
            name,
            f"no good cadences: all {stamp.n_cadences} have non-finite time or flux, or quality flags "
            f"in the bitmask {stamp.quality_bitmask} (try quality_bitmask = 'none')",
        )
    return stamp


def override_target(found: Target, given: Target | None) -> Target:
    """The target found in the data, with every field the caller gave taking precedence."""
    if given is None:
        return found
    return Target(
        id=given.id,
        ra=given.ra if given.has_position else found.ra,
        dec=given.dec if given.has_position else found.dec,
        magnitude=given.magnitude if given.magnitude is not None else found.magnitude,
        magnitude_band=given.magnitude_band if given.magnitude is not None else found.magnitude_band,
    )


def position_origin(found_in: str, given: Target | None) -> str:
    """Where a loaded stamp's target position comes from, for messages (``meta["position_from"]``)."""
    return "--ra/--dec" if given is not None and given.has_position else found_in


def check_target_on_stamp(stamp: Stamp, position_from: str | None = None) -> None:
    """Raise :class:`DataError` unless the target's RA/Dec falls on the stamp's pixels.

    A position off the stamp (a wrong ``--ra/--dec``, a corrupt WCS) would
    otherwise make every localization look wildly off target.  The message
    names where the position came from (``position_from``, default the
    stamp's ``meta["position_from"]``).
    """
    name = stamp.source or stamp.label
    origin = position_from or str(stamp.meta.get("position_from", "the target RA/Dec"))
    target = stamp.target
    where = f"RA {target.ra:.6f}, Dec {target.dec:+.6f} (from {origin})"
    row, col = stamp.target_pixel
    if not (np.isfinite(row) and np.isfinite(col)):
        raise DataError(name, f"the target position {where} has no pixel position through the WCS")
    ny, nx = stamp.shape
    if not (-0.5 <= row <= ny - 0.5 and -0.5 <= col <= nx - 0.5):
        raise DataError(
            name,
            f"the target position {where} falls at pixel (row {row:.1f}, col {col:.1f}), outside the "
            f"{ny}x{nx} stamp",
        )
