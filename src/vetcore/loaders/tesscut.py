"""A photometric aperture for stamps that carry none: FFI cut-outs (TESScut/astrocut),
and any TPF or ``.npz`` whose aperture is missing or empty.

The aperture is the connected group of pixels around the target that stand
above the median image's background by :data:`THRESHOLD_SIGMA` robust standard
deviations, limited to :data:`MAX_RADIUS_PIX` of the target's WCS position — the
threshold-mask approach of lightkurve's ``create_threshold_mask`` with the
target (not the brightest pixel) as its seed.
"""

from __future__ import annotations

import numpy as np

from vetcore.errors import DataError
from vetcore.model import Stamp

__all__ = ["MAX_RADIUS_PIX", "THRESHOLD_SIGMA", "derive_aperture", "with_aperture"]

#: Pixels brighter than background + THRESHOLD_SIGMA × (1.4826 × MAD) join the aperture.
THRESHOLD_SIGMA = 3.0
#: No pixel farther than this from the target position (pixels) joins the aperture.
MAX_RADIUS_PIX = 2.5


def derive_aperture(stamp: Stamp) -> tuple[np.ndarray, str]:
    """``(mask, note)``: the derived aperture and a sentence saying how it was made."""
    from scipy import ndimage

    image = np.nanmedian(stamp.flux[stamp.good], axis=0)
    finite = np.isfinite(image)
    background = np.median(image[finite])
    noise = 1.4826 * np.median(np.abs(image[finite] - background)) or 1.0
    bright = finite & (image > background + THRESHOLD_SIGMA * noise)

    row0, col0 = stamp.target_pixel
    rows, cols = np.indices(image.shape)
    near = np.hypot(rows - row0, cols - col0) <= MAX_RADIUS_PIX
    seed = (
        int(np.clip(round(row0), 0, image.shape[0] - 1)),
        int(np.clip(round(col0), 0, image.shape[1] - 1)),
    )
    labels, _ = ndimage.label(bright & near)
    if labels[seed]:
        mask = labels == labels[seed]
        how = f"{THRESHOLD_SIGMA:g}σ threshold mask connected to the target pixel"
    else:
        mask = near & (np.hypot(rows - row0, cols - col0) <= 1.0)
        how = "target too faint for a threshold mask; pixels within 1 px of the target"
    return mask, f"derived aperture ({int(mask.sum())} px): {how}; the file has no pipeline aperture"


def with_aperture(stamp: Stamp) -> Stamp:
    """``stamp`` unchanged if its aperture has a pixel, else with a derived one.

    The derived stamp says so in ``aperture_source = "derived"`` (shown in every
    report) and ``meta["aperture"]`` (how it was made).  A stamp without an
    aperture and without a target position is refused: nothing to derive from.
    """
    if stamp.aperture_mask.any():
        return stamp
    name = stamp.source or stamp.label
    if not stamp.target.has_position:
        raise DataError(
            name, "no aperture (missing or empty) and no target RA/Dec to derive one; pass ra= and dec="
        )
    if not stamp.good.any():
        return stamp  # validated() refuses it with the reason
    if not np.isfinite(stamp.target_pixel).all():
        raise DataError(name, "the target RA/Dec has no pixel position through the WCS; is the WCS corrupt?")
    mask, note = derive_aperture(stamp)
    return stamp.replace(aperture_mask=mask, aperture_source="derived", meta={**stamp.meta, "aperture": note})
