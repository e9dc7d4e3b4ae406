"""Figure of X01: per-transit depths against epoch, odd and even, with each parity's mean ±1σ band."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vetcore import CheckResult

__all__ = ["plot"]

COLORS = {"odd": "tab:orange", "even": "tab:blue"}


def plot(result: CheckResult, axes: Sequence[Any]) -> None:
    """Draw the per-transit depths (ppm) of ``result`` into ``axes[0]``, from ``result.plot_data`` only."""
    ax = axes[0]
    data = result.plot_data
    transits = data.get("transits") or []
    if not transits:
        ax.text(0.5, 0.5, result.message or str(result.status), ha="center", va="center",
                wrap=True, transform=ax.transAxes, fontsize=8)  # fmt: skip
        ax.set_axis_off()
        return
    epochs = np.array([t["epoch"] for t in transits])
    for parity, color in COLORS.items():
        sel = [t for t in transits if t["parity"] == parity]
        summary = data[parity]
        if summary["n"]:
            mean, err = summary["depth_ppm"], summary["error_ppm"]
            ax.axhspan(mean - err, mean + err, color=color, alpha=0.2, lw=0)
            ax.axhline(mean, color=color, lw=1, label=f"{parity} mean {mean:.0f} ± {err:.0f} ppm")
        if sel:
            ax.errorbar(
                [t["epoch"] for t in sel], [t["depth_ppm"] for t in sel], yerr=[t["error_ppm"] for t in sel],
                fmt="o", color=color, capsize=3, label=f"{parity} transits",
            )  # fmt: skip
    ax.axhline(0.0, color="0.5", lw=0.5)
    ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)
    ax.set_xlabel("transit epoch")
    ax.set_ylabel("depth (ppm)")
    sigma = data.get("diff_sigma")
    sigma_text = f"{sigma:.1f}σ" if sigma is not None and np.isfinite(sigma) else "n/a"
    ax.set_title(f"{data.get('label', '')} odd/even depth: difference {sigma_text}", fontsize=9)
    ax.legend(fontsize=7, loc="best")
