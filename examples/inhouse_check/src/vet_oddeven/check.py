"""Check X01: do odd and even transits have the same depth?

An eclipsing binary with equal-ish components, caught at half its true
period, shows its primary and secondary eclipses as alternating "transits" of
different depths.  Comparing the mean depth of odd- and even-numbered
transits is one of the eclipsing-binary discrimination tests of the Kepler and
TESS Data Validation pipeline (Twicken et al. 2018, PASP 130, 064502, §4.4).

Method:

1. the aperture light curve is the sum of the stamp's aperture pixels (pixels
   that are NaN in every good cadence are left out; a cadence with any other
   NaN aperture pixel is dropped);
2. per transit (:func:`vetcore.transits.transit_windows`), a straight line (or
   a constant, ``baseline_order = 0``, and always when the baseline is on one
   side only) is fitted to the local baseline; the depth is
   ``1 − mean(in-transit flux) / mean(baseline model over the in-transit
   cadences)``.  Its error combines the baseline residual scatter over the
   in-transit cadences with the uncertainty of the fitted baseline level, the
   per-cadence scatter being pooled over the baseline residuals of all transits;
3. odd (epoch number odd, counted from the ephemeris ``t0``) and even transits
   are combined with inverse-variance weights.  When a parity has two or more
   transits whose depths scatter more than their errors allow (reduced χ² > 1),
   its error is scaled by √χ²ᵣ so red noise cannot fake a difference;
4. the difference ``d_odd − d_even`` over its error is the significance.

Statuses: ``fail`` when the significance reaches ``sigma_threshold``;
``inconclusive`` when the transit is not detected (depth S/N below
``min_depth_snr``) or when either parity has fewer than ``min_per_parity``
usable transits (default 2, so that the error of each parity's mean can be
checked against the scatter of its transits); ``pass`` otherwise.  The check
does not localize the source, so its result carries no ``localization``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vetcore import CheckResult, Param, SectorContext, Status
from vetcore.transits import TransitWindow, transit_windows

__all__ = ["CHECK_ID", "FLAGS", "PARAMS", "TransitDepth", "aperture_light_curve", "run", "transit_depth"]

CHECK_ID = "X01"

PARAMS = (
    Param("sigma_threshold", 3.0, "fail when |depth_odd − depth_even| reaches this many standard errors",
          unit="sigma", minimum=0.0, exclusive_minimum=True),
    Param("min_per_parity", 2, "inconclusive when fewer odd or even transits than this are usable",
          type="int", minimum=1),
    Param("min_depth_snr", 3.0, "inconclusive when the mean depth of all transits is below this S/N",
          minimum=0.0),
    Param("in_fraction", 0.8, "in-transit cadences: |Δt| ≤ in_fraction·D/2 (keeps ingress and egress out)",
          unit="durations", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    Param("baseline_gap", 0.25, "gap between the transit edge and each baseline window", unit="durations",
          minimum=0.0),
    Param("baseline_width", 1.5, "width of each local baseline window", unit="durations",
          minimum=0.0, exclusive_minimum=True),
    Param("baseline_order", 1, "polynomial order of the local baseline (0: constant, 1: straight line)",
          type="int", choices=(0, 1)),
    Param("min_coverage", 0.5, "leave out transits with less than this fraction of their in-transit "
          "cadences observed", unit="fraction", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    Param("min_baseline_cadences", 6, "leave out transits with fewer good baseline cadences", type="int",
          minimum=1),
)  # fmt: skip

FLAGS = {
    "NO_TRANSIT_DATA": "no transit in this sector has enough in-transit and baseline cadences",
    "TRANSITS_DROPPED": "some transits were left out: coverage below min_coverage or fewer than "
    "min_baseline_cadences baseline cadences",
    "ONE_SIDED_BASELINE": "a transit has baseline cadences on one side only; a constant baseline was used",
    "TOO_FEW_TRANSITS": "fewer than min_per_parity usable odd or even transits; no verdict",
    "DEPTH_NOT_DETECTED": "the mean transit depth is below min_depth_snr; no verdict",
    "SCATTER_INFLATED": "the depths within a parity scatter more than their errors; that parity's error "
    "was scaled up by the square root of the reduced chi-square",
    "ODD_EVEN_DIFFERENT": "odd and even transit depths differ by at least sigma_threshold: the signal may "
    "be an eclipsing binary at twice the period",
}


@dataclasses.dataclass(frozen=True, slots=True)
class TransitDepth:
    """Depth of one transit (fraction) and its 1σ error, with the cadence counts behind it.

    ``scatter`` is the fractional per-cadence scatter of the baseline residuals
    (``dof`` degrees of freedom); ``leverage`` the variance of the depth per unit
    per-cadence variance (in-transit mean plus fitted baseline level), so
    ``error = scatter·√leverage``.
    """

    epoch: int
    t_mid: float
    depth: float
    error: float
    n_in: int
    n_baseline: int
    coverage: float
    one_sided: bool
    scatter: float
    leverage: float
    dof: int

    @property
    def parity(self) -> str:
        return "odd" if self.epoch % 2 else "even"

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "parity": self.parity,
            "t_mid": self.t_mid,
            "depth_ppm": self.depth * 1e6,
            "error_ppm": self.error * 1e6,
            "n_in": self.n_in,
            "n_baseline": self.n_baseline,
            "coverage": self.coverage,
        }


def aperture_light_curve(flux: np.ndarray, aperture: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Sum of the aperture pixels per cadence (e⁻/s); NaN where an aperture pixel is NaN."""
    pixels = aperture & valid
    return flux[:, pixels].sum(axis=1)


def transit_depth(
    time: np.ndarray, lc: np.ndarray, window: TransitWindow, order: int, min_baseline: int
) -> TransitDepth | None:
    """Depth of one transit against its local baseline fit, or ``None`` without enough baseline."""
    before = window.before[np.isfinite(lc[window.before])]
    after = window.after[np.isfinite(lc[window.after])]
    inside = window.in_transit[np.isfinite(lc[window.in_transit])]
    base = np.concatenate([before, after])
    one_sided = before.size == 0 or after.size == 0
    deg = 0 if one_sided else order
    if inside.size == 0 or base.size < max(min_baseline, deg + 3):
        return None
    design = np.vander(time[base] - window.t_mid, deg + 1)
    coef, *_ = np.linalg.lstsq(design, lc[base], rcond=None)
    resid = lc[base] - design @ coef
    var = float(resid @ resid) / (base.size - deg - 1)
    mean_row = np.vander(time[inside] - window.t_mid, deg + 1).mean(axis=0)
    level = float(mean_row @ coef)
    leverage = 1.0 / inside.size + float(mean_row @ np.linalg.solve(design.T @ design, mean_row))
    depth = 1.0 - float(lc[inside].mean()) / level
    scatter = float(np.sqrt(var)) / abs(level)
    return TransitDepth(
        epoch=window.epoch,
        t_mid=window.t_mid,
        depth=depth,
        error=scatter * float(np.sqrt(leverage)),
        n_in=int(inside.size),
        n_baseline=int(base.size),
        coverage=window.coverage,
        one_sided=one_sided,
        scatter=scatter,
        leverage=leverage,
        dof=int(base.size - deg - 1),
    )


def pooled_errors(depths: list[TransitDepth]) -> list[TransitDepth]:
    """Depth errors from the per-cadence scatter pooled over every transit's baseline residuals.

    One sector has one noise level; pooling the baseline residuals of all transits
    (weighted by their degrees of freedom) estimates it far better than the ~20
    residuals of one window, whose noisy errors would bias inverse-variance weights.
    """
    dof = np.array([t.dof for t in depths], dtype=float)
    scatter = float(np.sqrt(np.sum(dof * np.array([t.scatter for t in depths]) ** 2) / np.sum(dof)))
    return [dataclasses.replace(t, error=scatter * float(np.sqrt(t.leverage))) for t in depths]


def _combine(depths: list[TransitDepth]) -> tuple[float, float, bool]:
    """Inverse-variance mean, its error (scaled by √χ²ᵣ when the scatter exceeds it), and whether scaled."""
    if not depths:
        return float("nan"), float("nan"), False
    d = np.array([t.depth for t in depths])
    w = 1.0 / np.array([t.error for t in depths]) ** 2
    mean = float(np.sum(w * d) / np.sum(w))
    error = float(1.0 / np.sqrt(np.sum(w)))
    if d.size >= 2:
        chi2_red = float(np.sum(w * (d - mean) ** 2)) / (d.size - 1)
        if chi2_red > 1.0:
            return mean, error * float(np.sqrt(chi2_red)), True
    return mean, error, False


def run(ctx: SectorContext) -> CheckResult:
    """Compare the mean depths of odd and even transits in one sector (see the module docstring)."""
    stamp, eph, p = ctx.stamp, ctx.ephemeris, ctx.params
    lc = aperture_light_curve(stamp.flux, stamp.aperture_mask, stamp.valid_pixels)
    windows = transit_windows(
        stamp, eph, in_fraction=p.in_fraction, gap=p.baseline_gap, width=p.baseline_width
    )
    flags: list[str] = []
    depths: list[TransitDepth] = []
    for window in windows:
        depth = None
        if window.coverage >= p.min_coverage:
            depth = transit_depth(stamp.time, lc, window, p.baseline_order, p.min_baseline_cadences)
        if depth is not None:
            depths.append(depth)
    if depths:
        depths = pooled_errors(depths)
    if len(depths) < len(windows):
        flags.append("TRANSITS_DROPPED")
    if any(t.one_sided for t in depths):
        flags.append("ONE_SIDED_BASELINE")
    if not depths:
        return CheckResult(
            status=Status.INCONCLUSIVE,
            flags=(*flags, "NO_TRANSIT_DATA"),
            metrics={"n_transits": 0, "n_odd": 0, "n_even": 0},
            message="no usable transit in this sector",
        )

    odd = [t for t in depths if t.parity == "odd"]
    even = [t for t in depths if t.parity == "even"]
    d_odd, e_odd, inflated_odd = _combine(odd)
    d_even, e_even, inflated_even = _combine(even)
    # all transits together, with the formal error: an odd/even difference is not noise here
    d_all, _, _ = _combine(depths)
    e_all = float(1.0 / np.sqrt(np.sum(1.0 / np.array([t.error for t in depths]) ** 2)))
    if inflated_odd or inflated_even:
        flags.append("SCATTER_INFLATED")
    diff = d_odd - d_even
    diff_err = float(np.hypot(e_odd, e_even))
    sigma = abs(diff) / diff_err if np.isfinite(diff) and diff_err > 0 else float("nan")
    depth_snr = d_all / e_all

    if depth_snr < p.min_depth_snr:
        flags.append("DEPTH_NOT_DETECTED")
    if min(len(odd), len(even)) < p.min_per_parity:
        flags.append("TOO_FEW_TRANSITS")
    if "DEPTH_NOT_DETECTED" in flags or "TOO_FEW_TRANSITS" in flags:
        status = Status.INCONCLUSIVE
        verdict = (
            f"mean depth S/N {depth_snr:.1f} < {p.min_depth_snr:g}"
            if "DEPTH_NOT_DETECTED" in flags
            else f"{len(odd)} odd and {len(even)} even transits (need {p.min_per_parity} of each)"
        )
    elif sigma >= p.sigma_threshold:
        status = Status.FAIL
        flags.append("ODD_EVEN_DIFFERENT")
        verdict = f"odd and even depths differ by {sigma:.1f}σ ≥ {p.sigma_threshold:g}σ"
    else:
        status = Status.PASS
        verdict = f"odd and even depths agree within {sigma:.1f}σ"

    def ppm(x: float) -> float:
        return x * 1e6

    metrics = {
        "n_transits": len(depths),
        "n_odd": len(odd),
        "n_even": len(even),
        "depth_ppm": ppm(d_all),
        "depth_err_ppm": ppm(e_all),
        "depth_snr": depth_snr,
        "depth_odd_ppm": ppm(d_odd),
        "depth_odd_err_ppm": ppm(e_odd),
        "depth_even_ppm": ppm(d_even),
        "depth_even_err_ppm": ppm(e_even),
        "depth_diff_ppm": ppm(diff),
        "depth_diff_err_ppm": ppm(diff_err),
        "diff_sigma": sigma,
    }
    plot_data = {
        "label": stamp.label,
        "transits": [t.to_dict() for t in depths],
        "odd": {"depth_ppm": ppm(d_odd), "error_ppm": ppm(e_odd), "n": len(odd)},
        "even": {"depth_ppm": ppm(d_even), "error_ppm": ppm(e_even), "n": len(even)},
        "diff_sigma": sigma,
        "sigma_threshold": p.sigma_threshold,
    }
    odd_text = f"odd {ppm(d_odd):.0f} ± {ppm(e_odd):.0f} ppm" if odd else "no odd transit"
    even_text = f"even {ppm(d_even):.0f} ± {ppm(e_even):.0f} ppm" if even else "no even transit"
    return CheckResult(
        status=status,
        flags=tuple(flags),
        metrics=metrics,
        plot_data=plot_data,
        message=f"{odd_text}, {even_text}: {verdict}",
    )
