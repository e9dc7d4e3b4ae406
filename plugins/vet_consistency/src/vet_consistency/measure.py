"""V25 measurement: gather every localization, combine each method on the sky, pick the primary.

No verdict is reached here: :func:`measure` returns a :class:`Measurement`
(typed statistics) that :mod:`vet_consistency.verdict` decides on and
:mod:`vet_consistency.assemble` turns into a result.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from vet_consistency.combine import (
    Combination,
    Significance,
    add_systematic,
    combine,
    compare,
    covariance_problem,
    significance,
)
from vetcore import CheckResult, Localization, Status, TargetContext
from vetcore.sky import offset_to_sky
from vetcore.verdicts import CONFUSION_NSIGMA

__all__ = ["CHECK_ID", "Measurement", "MethodSummary", "Unit", "measure"]

CHECK_ID = "V25"


@attrs.frozen(eq=False)
class Unit:
    """One localization of one method: a sector (``epoch`` None) or an epoch within it."""

    stamp: str
    sector: int | None
    method: str
    localization: Localization
    problem: str | None
    epoch: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        return self.stamp if self.epoch is None else self.epoch


@attrs.frozen(eq=False)
class MethodSummary:
    """Everything V25 derives from one method's localizations.

    ``basis``: ``"sectors"`` (≥ 2 sectors), ``"epochs"`` (one sector, ≥ 2 of its
    transits/orbits) or ``"none"`` (a single localization: consistency untested).
    ``offset``/``covariance``: the combined (east, north) position and its
    covariance, with every sector's systematic error and, across sectors, the
    Birge scale factor included; with one sector, the sector's own localization
    with its systematic error.  ``scale_factor`` is that Birge ratio (1 when not
    applied), ``systematic_arcsec`` the per-sector systematic errors (by stamp).
    """

    method: str
    basis: str
    units: tuple[Unit, ...]
    epochs: tuple[Unit, ...]  # the epoch units examined for a lone sector (reported)
    offset: np.ndarray
    covariance: np.ndarray
    significance: Significance
    combination: Combination | None
    scale_factor: float = 1.0
    systematic_arcsec: Mapping[str, float] = attrs.field(factory=dict)

    @property
    def n(self) -> int:
        return len(self.units)

    @property
    def distance(self) -> float:
        return float(np.hypot(*self.offset))

    @property
    def sigma_arcsec(self) -> float:
        return float(math.sqrt(np.trace(self.covariance) / 2.0))

    @property
    def chi2_p_value(self) -> float:
        return self.combination.chi2_p_value if self.combination else math.nan

    def localization(self, ref_ra: float, ref_dec: float) -> Localization:
        """The combined position as a :class:`Localization` around (``ref_ra``, ``ref_dec``)."""
        ra, dec = offset_to_sky(self.offset[0], self.offset[1], ref_ra, ref_dec)
        return Localization(
            method=f"V25 combined ({self.method})",
            ra=float(ra),
            dec=float(dec),
            offset_arcsec=self.offset,
            covariance_arcsec2=self.covariance,
            label="combined",
        )


@attrs.frozen(eq=False)
class Measurement:
    """Everything V25 measured for one target, before any verdict."""

    units: tuple[Unit, ...]  # every sector localization (usable or not)
    failed: tuple[dict[str, str], ...]  # localizing checks that errored/skipped without a localization
    summaries: Mapping[str, MethodSummary]
    primary: str | None  # None when nothing is usable
    primary_missing: bool
    agreement: tuple[dict[str, Any], ...]
    reference: tuple[float, float] | None  # tangent point (RA, Dec) of the offsets
    pixel_scale_arcsec: float | None
    depth_ppm: float | None
    depth_source: str

    @property
    def best(self) -> MethodSummary | None:
        return None if self.primary is None else self.summaries[self.primary]

    @property
    def n_rejected(self) -> int:
        return sum(not u.usable for u in self.units)


def _problem(status: Status, loc: Localization) -> str | None:
    if status in (Status.ERROR, Status.SKIPPED):
        return f"check status {status.value}"
    return covariance_problem(loc.offset_arcsec, loc.covariance_arcsec2)


def collect(
    results: Mapping[str, Mapping[str, CheckResult]], methods: Sequence[str]
) -> tuple[list[Unit], list[dict[str, str]]]:
    """Sector-level localizations of every method, and localizing checks that errored.

    ``methods`` restricts the check ids used (empty: every check that returned a
    localization in some sector).  Returns the units (usable or not, with the
    reason) and ``{stamp, method, status}`` rows for results of those methods
    that errored or were skipped without a localization.
    """
    units: list[Unit] = []
    missing: list[tuple[str, str, CheckResult]] = []
    for stamp, by_check in results.items():
        for check_id, result in by_check.items():
            if check_id == CHECK_ID or (methods and check_id not in methods):
                continue
            if result.localization is not None:
                units.append(
                    Unit(
                        stamp,
                        result.sector,
                        check_id,
                        result.localization,
                        _problem(result.status, result.localization),
                    )
                )
            elif result.status in (Status.ERROR, Status.SKIPPED):
                missing.append((stamp, check_id, result))
    localizing = set(methods) or {u.method for u in units}
    failed = [{"stamp": s, "method": m, "status": r.status.value} for s, m, r in missing if m in localizing]
    return units, failed


def _epoch_units(unit: Unit) -> list[Unit]:
    return [
        Unit(
            stamp=unit.stamp,
            sector=unit.sector,
            method=unit.method,
            localization=ep,
            problem=covariance_problem(ep.offset_arcsec, ep.covariance_arcsec2),
            epoch=ep.label or f"epoch {i + 1}",
        )
        for i, ep in enumerate(unit.localization.epochs)
    ]


def summarize(method: str, units: Sequence[Unit], systematic_arcsec: Mapping[str, float]) -> MethodSummary:
    """Combine one method's usable sector localizations (or test the epochs of a lone sector).

    ``systematic_arcsec`` maps each stamp label to its systematic error σ_sys
    (arcsec), added in quadrature to that sector's covariance
    (:func:`~vet_consistency.combine.add_systematic`).  Across sectors, the
    inflated covariances enter the weighted mean and the χ² test, and the mean's
    covariance is multiplied by the Birge ratio S² when the sectors scatter more
    than they should (:func:`~vet_consistency.combine.scale_factor`).  The epochs
    of one sector share its PSF and pointing, so their systematic error is
    common: they are tested against each other with their statistical errors
    only, and σ_sys is added to the sector's own localization.
    """
    good = [u for u in units if u.usable]
    sys_of = {u.stamp: float(systematic_arcsec.get(u.stamp, 0.0)) for u in good}
    epochs: list[Unit] = []
    if len(good) >= 2:
        basis, tested = "sectors", good
    else:
        epochs = _epoch_units(good[0])
        tested = [u for u in epochs if u.usable]
        basis = "epochs" if len(tested) >= 2 else "none"
        if basis == "none":
            tested = good
    covs = np.array([u.localization.covariance_arcsec2 for u in tested], dtype=float)
    if basis == "sectors":
        covs = add_systematic(covs, [sys_of[u.stamp] for u in tested])
    combination = None
    if len(tested) >= 2:
        combination = combine([u.localization.offset_arcsec for u in tested], covs)
    scale = 1.0
    if basis == "sectors" and combination is not None:
        scale = combination.scale_factor
        offset, cov = combination.mean, combination.covariance * scale**2
    else:  # one sector: its own localization (the fit to all its transits) is the combined position
        own = good[0].localization
        offset = own.offset_arcsec
        cov = add_systematic(own.covariance_arcsec2[None], sys_of[good[0].stamp])[0]
        cov = 0.5 * (cov + cov.T)
    return MethodSummary(
        method=method,
        basis=basis,
        units=tuple(tested),
        epochs=tuple(epochs),
        offset=np.asarray(offset, dtype=float),
        covariance=np.asarray(cov, dtype=float),
        significance=significance(offset, cov),
        combination=combination,
        scale_factor=scale,
        systematic_arcsec=sys_of,
    )


def systematic_errors(ctx: TargetContext, units: Sequence[Unit], pixels: float) -> dict[str, float]:
    """σ_sys (arcsec) of every stamp: ``pixels`` × that stamp's pixel scale (from its WCS).

    A localization whose stamp is not among ``ctx.stamps`` takes the median
    scale of the stamps (:func:`pixel_scale`); without any scale, 0.
    """
    scales = {s.label: float(s.pixel_scale_arcsec) for s in ctx.stamps}
    fallback = pixel_scale(ctx, units) or 0.0
    return {u.stamp: pixels * scales.get(u.stamp, fallback) for u in units}


def choose_primary(
    summaries: Mapping[str, MethodSummary], requested: str, limit_arcsec: float = math.inf
) -> tuple[str, bool]:
    """The method the verdict follows, and whether a requested one was missing.

    ``requested`` names a check id, or ``"auto"``: among methods whose
    consistency can be tested (≥ 2 units) and precise enough to decide on their
    own (3σ confusion radius of the combined position, before any Birge scaling,
    within ``limit_arcsec``) — else among all — the one with the smallest
    confusion radius (largest eigenvalue of C̄, the error along the ellipse's
    major axis, on which the verdict depends); ties go to the lowest id.  A
    method too imprecise to decide is not preferred for its consistency test,
    which then says only whether its own wide errors hold.
    """
    if requested != "auto" and requested in summaries:
        return requested, False

    def major(covariance: np.ndarray) -> float:
        return float(np.linalg.eigvalsh(covariance)[-1])

    tested = [
        s
        for s in summaries.values()
        if s.combination is not None
        and CONFUSION_NSIGMA * math.sqrt(major(s.covariance) / s.scale_factor**2) <= limit_arcsec
    ]
    best = min(tested or summaries.values(), key=lambda s: (major(s.covariance), s.method))
    return best.method, requested != "auto"


def agreement(units: Sequence[Unit]) -> list[dict[str, Any]]:
    """Pairwise agreement of different methods within each sector (usable localizations only)."""
    by_stamp: dict[str, list[Unit]] = {}
    for u in units:
        if u.usable:
            by_stamp.setdefault(u.stamp, []).append(u)
    rows = []
    for stamp, group in by_stamp.items():
        group = sorted(group, key=lambda u: u.method)
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                la, lb = a.localization, b.localization
                sig = compare(
                    la.offset_arcsec, la.covariance_arcsec2, lb.offset_arcsec, lb.covariance_arcsec2
                )
                delta = la.offset_arcsec - lb.offset_arcsec
                rows.append(
                    {
                        "stamp": stamp,
                        "method_a": a.method,
                        "method_b": b.method,
                        "delta_east": float(delta[0]),
                        "delta_north": float(delta[1]),
                        "sigma": sig.mahalanobis,
                        "p_value": sig.p_value,
                    }
                )
    return rows


def reference(ctx: TargetContext, units: Sequence[Unit]) -> tuple[float, float] | None:
    """The tangent point of all offsets: the target, or (without a position) the point the
    first localization's offset is measured from."""
    if ctx.target.ra is not None and ctx.target.dec is not None:
        return float(ctx.target.ra), float(ctx.target.dec)
    if not units:
        return None
    loc = units[0].localization
    ra, dec = offset_to_sky(-loc.offset_arcsec[0], -loc.offset_arcsec[1], loc.ra, loc.dec)
    return float(ra), float(dec)


def pixel_scale(ctx: TargetContext, units: Sequence[Unit]) -> float | None:
    """Median pixel scale (arcsec/px) of the stamps (from their WCS); without stamps, from a
    localization carrying both its sky and pixel covariance (√ of the determinant ratio)."""
    scales = [s.pixel_scale_arcsec for s in ctx.stamps]
    if scales:
        return float(np.median(scales))
    for u in units:
        cpix = u.localization.pixel_covariance
        if cpix is not None and np.linalg.det(cpix) > 0:
            ratio = float(np.linalg.det(u.localization.covariance_arcsec2) / np.linalg.det(cpix))
            if ratio > 0 and math.isfinite(ratio):
                return ratio**0.25
    return None


def observed_depth(
    ctx: TargetContext, units: Sequence[Unit], metric_names: Sequence[str]
) -> tuple[float | None, str]:
    """The transit depth in the aperture (ppm) and where it came from.

    The first of ``metric_names`` that localizing results report (median over
    their sectors) — a depth measured in the photometric aperture, as the host
    feasibility needs — else the ephemeris depth, else ``None``.
    """
    stamps_methods = {(u.stamp, u.method) for u in units if u.usable}
    for name in metric_names:
        values = []
        for stamp, method in stamps_methods:
            value = ctx.results.get(stamp, {}).get(method)
            v = None if value is None else value.metrics.get(name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0:
                values.append(float(v))
        if values:
            return statistics.median(values), f"metric {name} (median of {len(values)})"
    depth = ctx.ephemeris.depth_ppm
    if depth is not None and math.isfinite(depth) and depth > 0:
        return float(depth), "ephemeris depth"
    return None, "none"


def measure(ctx: TargetContext) -> Measurement:
    """Collect, combine per method, compare methods, choose the primary (see the check's docstring)."""
    p = ctx.params
    methods = [m.strip() for m in p["methods"].split(",") if m.strip()]
    units, failed = collect(ctx.results, methods)
    good_methods = sorted({u.method for u in units if u.usable})
    systematic = systematic_errors(ctx, units, p["sector_systematic_pixels"])
    summaries = {m: summarize(m, [u for u in units if u.method == m], systematic) for m in good_methods}
    scale = pixel_scale(ctx, units)
    limit = p["max_confusion_radius_pixels"] * scale if scale else math.inf
    primary, primary_missing = (
        choose_primary(summaries, p["primary_method"], limit) if summaries else (None, False)
    )
    depth, depth_source = observed_depth(
        ctx, units, [n.strip() for n in p["depth_metrics"].split(",") if n.strip()]
    )
    return Measurement(
        units=tuple(units),
        failed=tuple(failed),
        summaries=summaries,
        primary=primary,
        primary_missing=primary_missing,
        agreement=tuple(agreement(units)),
        reference=reference(ctx, units),
        pixel_scale_arcsec=scale,
        depth_ppm=depth,
        depth_source=depth_source,
    )
