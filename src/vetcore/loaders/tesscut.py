"""A photometric aperture for FFI cut-outs (TESScut/astrocut), which carry none.

The aperture is the connected group of pixels around the target that stand
above the median image's background by :data:`THRESHOLD_SIGMA` robust standard
deviations, limited to :data:`MAX_RADIUS_PIX` of the target's WCS position — the
threshold-mask approach of lightkurve's ``create_threshold_mask`` with the
target (not the brightest pixel) as its seed.
"""

from __future__ import annotations

import numpy as np

from vetcore.model import Stamp

__all__ = ["MAX_RADIUS_PIX", "THRESHOLD_SIGMA", "derive_aperture"]

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
