"""The V25 figure: every localization on the sky plane, drawn from ``plot_data`` only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vetcore import CheckResult
from vetcore.plotting import draw_sky_ellipse, sky_axes, style_axes

__all__ = ["plot"]

_MARKERS = "osD^vP*Xh<>p"


def _finite(row: dict[str, Any]) -> bool:
    cov = row.get("cov")
    return (
        row.get("east") is not None
        and row.get("north") is not None
        and cov is not None
        and all(v is not None for r in cov for v in r)
    )


def plot(result: CheckResult, axes: Sequence[Any]) -> None:
    """Sky-plane offsets from the target (east to the left, north up) with 1σ ellipses.

    Sector localizations of every method (colour = method, marker = sector;
    grey dashed = left out), epoch localizations when the test used them, the
    combined position with its 1σ and 3σ ellipses, the target at the origin,
    listed neighbours weighed as hosts (star: could produce the depth, cross:
    could not; the most likely host in red, with each star's host probability),
    the 3σ confusion radius around the source, and a circle of one detector
    pixel around the target.
    """
    ax = sky_axes(axes[0])
    pd = result.plot_data
    methods = sorted(pd.get("methods", {}))
    colours = {m: f"C{i % 10}" for i, m in enumerate(methods)}
    stamps = sorted({r["stamp"] for r in pd.get("sectors", [])})
    markers = {s: _MARKERS[i % len(_MARKERS)] for i, s in enumerate(stamps)}
    span = [0.0]
    # A sector whose transits were combined one by one is drawn dashed, not called "unused".
    per_transit = {(r["method"], r["stamp"]) for r in pd.get("epochs", []) if r["used"]}

    for row in pd.get("sectors", []):
        if not _finite(row):
            continue
        colour = colours.get(row["method"], "0.5") if row["used"] else "0.6"
        if row["used"]:
            suffix = ""
        elif (row["method"], row["stamp"]) in per_transit:
            suffix = " (its transits combined)"
        else:
            suffix = " (not combined)"
        label = f"{row['method']} {row['stamp']}{suffix}"
        draw_sky_ellipse(
            ax,
            (row["east"], row["north"]),
            row["cov"],
            1.0,
            color=colour,
            linestyle="-" if row["used"] else "--",
            linewidth=1.2,
        )
        ax.plot(row["east"], row["north"], markers[row["stamp"]], color=colour, ms=6, ls="none", label=label)
        if row["used"]:
            span.append(max(abs(row["east"]), abs(row["north"])))
    for row in pd.get("epochs", []):
        if not (_finite(row) and row["used"]):
            continue
        colour = colours.get(row["method"], "0.5")
        draw_sky_ellipse(
            ax, (row["east"], row["north"]), row["cov"], 1.0, color=colour, linestyle=":", linewidth=0.9
        )
        ax.plot(row["east"], row["north"], ".", color=colour, ms=5)
        ax.annotate(
            row["epoch"],
            (row["east"], row["north"]),
            fontsize=7,
            color=colour,
            xytext=(3, 3),
            textcoords="offset points",
        )
        span.append(max(abs(row["east"]), abs(row["north"])))

    combined = pd.get("combined")
    if combined:
        e, n, cov = combined["east"], combined["north"], combined["cov"]
        draw_sky_ellipse(ax, (e, n), cov, (1.0, 3.0), color="black", linewidth=1.8)
        ax.plot(
            e, n, "+", color="black", ms=12, mew=2, ls="none", label=f"combined {combined['method']} (1σ, 3σ)"
        )
        half = float(np.sqrt(np.max(np.linalg.eigvalsh(np.asarray(cov, dtype=float)))))
        span.append(max(abs(e), abs(n)) + 3.0 * half)

    scale = pd.get("pixel_scale_arcsec")
    if scale:
        from matplotlib.patches import Circle

        ax.add_patch(Circle((0.0, 0.0), scale, fill=False, color="0.5", linestyle=":", linewidth=1.0))
        ax.annotate(f"1 px = {scale:.1f}″", (0.0, scale), ha="center", va="bottom", fontsize=7, color="0.4")
        span.append(scale)

    for host in pd.get("hosts", []):
        if host["is_target"] or host.get("east") is None:
            continue
        likely = host["id"] == pd.get("likely_host")
        ax.plot(
            host["east"],
            host["north"],
            "*" if host["feasible"] else "x",
            mfc="none",
            color="tab:red" if likely else ("0.3" if host["feasible"] else "0.6"),
            ms=11 if likely else 7,
            ls="none",
        )
        ax.annotate(
            f"{host['id']} ({host['probability']:.0%})",
            (host["east"], host["north"]),
            fontsize=7,
            xytext=(4, -8),
            textcoords="offset points",
            color="0.25",
        )
        span.append(max(abs(host["east"]), abs(host["north"])))

    radius = pd.get("confusion_radius_arcsec")
    if combined and radius:
        from matplotlib.patches import Circle

        centre = (combined["east"], combined["north"])
        label = f"3σ confusion radius {radius:.1f}″"
        ax.add_patch(Circle(centre, radius, fill=False, color="tab:purple", ls="--", lw=1.0, label=label))

    lim = 1.15 * max(span) if max(span) > 0 else 1.0
    ax.set_aspect("equal", adjustable="box")  # keep the square window chosen here
    ax.set_xlim(lim, -lim)  # east to the left
    ax.set_ylim(-lim, lim)
    basis = pd.get("consistency_basis", "")
    title = f"V25 localization consistency: {pd.get('verdict', '')}" + (f" ({basis})" if basis else "")
    style_axes(ax, title, legend=True)
