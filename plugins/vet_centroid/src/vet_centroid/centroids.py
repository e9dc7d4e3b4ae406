"""Flux-weighted centroids of every cadence at once.

c = Σ x_i F_i / Σ F_i over the pixels of an aperture (Bryson et al. 2013,
PASP 125, 889, eq. 1), as a matrix product over all cadences: no Python loop.
"""

from __future__ import annotations

import numpy as np

__all__ = ["flux_weighted_centroids"]


def flux_weighted_centroids(
    flux: np.ndarray, mask: np.ndarray, background: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(row, col, total)`` per cadence: centroid (0-based pixels) and summed flux in ``mask``.

    ``flux`` is (n, rows, cols) in e⁻/s; ``background`` (n,) is subtracted from
    every pixel first (SPOC and Kepler ``FLUX`` are already background-subtracted).
    Non-finite pixels count as zero flux; cadences with no flux give NaN.
    """
    rows, cols = np.nonzero(mask)
    pix = flux.reshape(flux.shape[0], -1)[:, np.flatnonzero(mask)].astype(np.float64, copy=False)
    if background is not None:
        pix -= np.asarray(background, dtype=np.float64)[:, None]
    np.copyto(pix, 0.0, where=~np.isfinite(pix))
    weights = np.column_stack([rows, cols, np.ones(rows.size)]).astype(np.float64)
    sums = pix @ weights
    total = sums[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        row = np.where(total != 0, sums[:, 0] / total, np.nan)
        col = np.where(total != 0, sums[:, 1] / total, np.nan)
    return row, col, total
