"""Figure of V09: out-of-transit, difference and SNR images side by side.

Each panel shows the pipeline aperture, the target at its catalogue (WCS)
position, north/east arrows and an arcsec scale bar (so sectors observed at
different roll angles can be compared), the fitted out-of-transit star and the
fitted dimming source with its 1, 2, 3σ error ellipses.  Everything is drawn
from ``result.plot_data`` with :mod:`vetcore.plotting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vetcore import CheckResult
from vetcore.plotting import draw_error_ellipse, mark_pixel, show_image, style_axes

__all__ = ["plot"]

_PANELS = (
    ("oot_image", "out of transit", "flux (e⁻/s)", False),
    ("diff_image", "difference (out − in)", "Δflux (e⁻/s)", True),
    ("snr_image", "difference SNR", "SNR", True),
)


def plot(result: CheckResult, axes: Sequence[Any]) -> None:
    """Draw the three V09 panels into ``axes`` (at least three)."""
    data = result.plot_data
    if "frame" not in data:
        for ax in axes[:3]:
            ax.text(
                0.5,
                0.5,
                result.message or str(result.status),
                ha="center",
                va="center",
                wrap=True,
                transform=ax.transAxes,
                fontsize=8,
            )
            ax.set_axis_off()
        return
    frame = data["frame"]
    source, oot = data.get("source"), data.get("oot_fit")
    for ax, (key, title, label, signed) in zip(axes, _PANELS, strict=False):
        show_image(ax, data[key], frame, symmetric=signed, label=label)
        if oot is not None:
            mark_pixel(ax, oot["pixel"], label="out-of-transit fit", marker="+", color="tab:cyan")
        if source is not None:
            # a fit that could not place the source (too weak, at the edge) is shown, but muted
            placed = source.get("placed", True)
            label, color = (
                ("transit source", "tab:red") if placed else ("best fit (not a localization)", "0.5")
            )
            mark_pixel(ax, source["pixel"], label=label, marker="X", color=color)
            draw_error_ellipse(ax, source["pixel"], source["covariance"], color=color)
        style_axes(ax, f"{frame.get('label', '')} {title}".strip(), legend=key == "oot_image")
