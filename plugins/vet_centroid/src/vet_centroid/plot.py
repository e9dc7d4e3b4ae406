"""Figure of V08: the out-of-transit image with the centroid shift, and the centroid time series.

Panel 1: median image with the aperture, the target at its WCS position, the
out-of-transit centroid, the in-transit shift drawn as an arrow magnified to be
visible (factor in the legend), and the implied source with its 1, 2, 3σ error
ellipses.  Panel 2: row and column centroid residuals around each transit (time
from mid-transit in hours) with the in-transit window shaded and, in black,
the straight-line baseline fitted to each transit's baseline windows (not drawn
for a transit whose baseline includes a fitted pointing step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vetcore import CheckResult
from vetcore.plotting import draw_error_ellipse, mark_pixel, show_image, style_axes

__all__ = ["plot"]


def _message(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()


def plot(result: CheckResult, axes: Sequence[Any]) -> None:
    """Draw the two V08 panels into ``axes``."""
    data = result.plot_data
    if "frame" not in data:
        for ax in axes[:2]:
            _message(ax, result.message or str(result.status))
        return
    ax = axes[0]
    frame = data["frame"]
    show_image(ax, data["image"], frame, label="flux (e⁻/s)")
    c_out = np.asarray(data["oot_centroid"])
    shift = np.asarray(data["shift"])
    length = float(np.hypot(*shift))
    gain = 10 ** np.floor(np.log10(1.0 / length)) if length > 0 else 1.0
    mark_pixel(ax, c_out.tolist(), label="out-of-transit centroid", marker="+", color="tab:cyan")
    ax.annotate(
        "", xy=(c_out[1] + gain * shift[1], c_out[0] + gain * shift[0]), xytext=(c_out[1], c_out[0]),
        arrowprops={"arrowstyle": "->", "color": "tab:orange", "lw": 2},
    )  # fmt: skip
    ax.plot([], [], color="tab:orange", lw=2, label=f"shift ×{gain:g}")
    if "source_pixel" in data:
        mark_pixel(ax, data["source_pixel"], label="implied source", marker="X", color="tab:red")
        draw_error_ellipse(ax, data["source_pixel"], data["source_covariance"], color="tab:red")
    style_axes(ax, f"{frame.get('label', '')} median image, centroid shift", legend=True)

    ax = axes[1]
    series = data.get("series") or []
    if not series:
        _message(ax, "centroid series: global baseline (no per-transit windows)")
        return
    offset = 0.0
    drawn = False
    for i, s in enumerate(series):
        dt = np.asarray(s["dt_hours"])
        for key, color, dark in (("row", "tab:blue", "navy"), ("col", "tab:green", "darkgreen")):
            y = np.asarray(s[key])
            level = np.median(y)
            ax.plot(dt, y - level + offset, ".", ms=2, color=color, label=key if i == 0 else None)
            if f"{key}_model" in s:
                model = np.asarray(s[f"{key}_model"]) - level + offset
                ax.plot(dt, model, "-", lw=1.2, color=dark, label="local baseline" if not drawn else None)
                drawn = True
        offset -= 5 * float(np.nanstd(np.asarray(s["row"]))) or 0.01
    half = data.get("in_half_hours") or 0.0
    ax.axvspan(-half, half, color="0.85", zorder=0, label="in transit")
    ax.set_xlabel("time from mid-transit (h)")
    ax.set_ylabel("centroid − median (pixels), one row per transit")
    style_axes(ax, f"{frame.get('label', '')} centroid around each transit", legend=True)
