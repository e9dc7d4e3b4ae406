"""Sanity checks every loader applies before handing a stamp to the checks."""

from __future__ import annotations

import numpy as np

from vetcore.errors import DataError
from vetcore.model import Stamp, Target

__all__ = ["override_target", "validated"]


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
