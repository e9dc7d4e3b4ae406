"""V25: is the localization of the transit source consistent across sectors?

Every sector-scope check that returns a :class:`~vetcore.Localization` (V08
centroid shift, V09 difference image, or any third-party check) is a *method*.
For each method, V25 combines the per-sector localizations on the sky — (east,
north) arcsec offsets from the target with their 2×2 covariances, so each
sector's roll angle and pixel grid drop out — into an inverse-covariance
weighted mean, tests their mutual agreement with χ² (2(K − 1) dof), and gives
each sector's pull (see :mod:`vet_consistency.combine`).  Data Validation
reports a mean offset over quarters/sectors (Bryson et al. 2013, PASP 125, 889;
Twicken et al. 2018, PASP 130, 064502) but no verdict on whether they agree;
that verdict is V25's.

With a single sector the test uses the independent per-transit or per-orbit
localizations a method attaches as :attr:`Localization.epochs`; the combined
position is then that sector's own localization (the method's fit to all its
transits together, which is more robust than a mean of low-S/N per-epoch fits).

Methods are not combined with each other: V08 and V09 measure the same pixels,
so their errors are correlated and treating them as independent would
double-count the data.  The verdict follows one *primary* method (by default
the one with the most precise combined position among those that can be tested
for consistency); the others are reported alongside, and a disagreement between
methods is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from vet_consistency import catalog as cat
from vet_consistency.combine import (
    Combination,
    Significance,
    combine,
    compare,
    covariance_problem,
    significance,
)
from vet_consistency.verdict import INCONCLUSIVE, INCONSISTENT, OFF_TARGET, ON_TARGET, STATUS, decide
from vetcore import CheckResult, Localization, Status, TargetContext
from vetcore.sky import offset_to_sky

__all__ = ["CHECK_ID", "FLAGS", "MethodSummary", "Unit", "run"]

CHECK_ID = "V25"

FLAGS: dict[str, str] = {
    "OFF_TARGET": "The combined source position is excluded from the target at ≥ sigma_threshold and lies "
    "beyond offset_floor_arcsec: the signal comes from another star.",
    "SECTORS_INCONSISTENT": "The localizations do not agree with each other (χ² p-value below "
    "consistency_p_threshold): systematics, underestimated errors, or a blend whose "
    "share of the aperture changes from sector to sector.",
    "TOO_FEW_LOCALIZATIONS": "Fewer than two independent usable localizations (one sector with one transit): "
    "consistency cannot be tested.",
    "NO_LOCALIZATIONS": "No check returned a usable localization of the transit source.",
    "EPOCH_BASIS": "Only one sector: consistency was tested across the independent transits or spacecraft "
    "orbits within it, not across sectors.",
    "LOCALIZATION_REJECTED": "Some localizations were left out: the check errored or was skipped, or the "
    "offset or covariance is non-finite or singular.",
    "CHECK_ERRORED": "A localizing check errored or was skipped in some sector, so that sector has no "
    "localization from it.",
    "OFFSET_BELOW_FLOOR": "The combined offset is statistically significant but smaller than "
    "offset_floor_arcsec, the systematic floor: treated as on target.",
    "POOR_PRECISION": "The combined 1σ uncertainty exceeds max_sigma_arcsec: an on-target verdict cannot "
    "exclude nearby stars.",
    "METHODS_DISAGREE": "Two methods place the source differently within a sector (p-value below "
    "consistency_p_threshold, with summed covariances).",
    "METHOD_VERDICTS_DIFFER": "Another method, on its own, reaches a different verdict than the primary one.",
    "PRIMARY_METHOD_MISSING": "The requested primary_method has no usable localization; the most precise "
    "method was used instead.",
    "LIKELY_HOST_NOT_TARGET": "The catalogue source closest (in σ) to the combined position is not the "
    "target.",
    "HOST_AMBIGUOUS": "More than one catalogue source that could host the signal lies within sigma_threshold "
    "of the combined position.",
}


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
    """Everything V25 derives from one method's localizations."""

    method: str
    basis: str  # "sectors", "epochs" or "none"
    units: tuple[Unit, ...]  # the independent localizations that were tested
    offset: np.ndarray  # combined (east, north) arcsec
    covariance: np.ndarray
    significance: Significance
    combination: Combination | None  # None when fewer than two units
    verdict: str

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
                        stamp=stamp,
                        sector=result.sector,
                        method=check_id,
                        localization=result.localization,
                        problem=_problem(result.status, result.localization),
                    )
                )
            elif result.status in (Status.ERROR, Status.SKIPPED):
                missing.append((stamp, check_id, result))
    localizing = set(methods) or {u.method for u in units}
    failed = [{"stamp": s, "method": m, "status": r.status.value} for s, m, r in missing if m in localizing]
    return units, failed


def _epoch_units(unit: Unit) -> list[Unit]:
    out = []
    for i, ep in enumerate(unit.localization.epochs):
        out.append(
            Unit(
                stamp=unit.stamp,
                sector=unit.sector,
                method=unit.method,
                localization=ep,
                problem=covariance_problem(ep.offset_arcsec, ep.covariance_arcsec2),
                epoch=ep.label or f"epoch {i + 1}",
            )
        )
    return out


def summarize(
    method: str, units: Sequence[Unit], params: Mapping[str, Any]
) -> tuple[MethodSummary, list[Unit]]:
    """Combine one method's usable sector localizations (or epochs of a lone sector).

    Returns the summary and the epoch-level units that were examined (for reporting).
    """
    good = [u for u in units if u.usable]
    epochs: list[Unit] = []
    if len(good) >= 2:
        basis, tested = "sectors", good
    else:
        epochs = _epoch_units(good[0])
        tested = [u for u in epochs if u.usable]
        basis = "epochs" if len(tested) >= 2 else "none"
        if basis == "none":
            tested = good
    combination = None
    if len(tested) >= 2:
        combination = combine(
            [u.localization.offset_arcsec for u in tested],
            [u.localization.covariance_arcsec2 for u in tested],
        )
    if basis == "sectors" and combination is not None:
        offset, cov = combination.mean, combination.covariance
    else:  # one sector: its own localization is the combined position
        own = good[0].localization
        offset, cov = own.offset_arcsec, 0.5 * (own.covariance_arcsec2 + own.covariance_arcsec2.T)
    sig = significance(offset, cov)
    verdict = decide(
        len(tested),
        combination.chi2_p_value if combination else math.nan,
        sig.mahalanobis,
        float(np.hypot(*offset)),
        sigma_threshold=params["sigma_threshold"],
        offset_floor_arcsec=params["offset_floor_arcsec"],
        consistency_p_threshold=params["consistency_p_threshold"],
    )
    summary = MethodSummary(
        method=method,
        basis=basis,
        units=tuple(tested),
        offset=np.asarray(offset),
        covariance=np.asarray(cov),
        significance=sig,
        combination=combination,
        verdict=verdict,
    )
    return summary, epochs


def choose_primary(summaries: Mapping[str, MethodSummary], requested: str) -> tuple[str, bool]:
    """The method the verdict follows, and whether a requested one was missing.

    ``requested`` names a check id, or ``"auto"``: among methods whose
    consistency can be tested (≥ 2 units) — else among all — the one with the
    smallest error ellipse (det C̄); ties go to the lowest id.
    """
    if requested != "auto" and requested in summaries:
        return requested, False
    pool = [s for s in summaries.values() if s.combination is not None] or list(summaries.values())
    best = min(pool, key=lambda s: (float(np.linalg.det(s.covariance)), s.method))
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


# --------------------------------------------------------------------------- result assembly


def _num(x: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _cov_list(cov: np.ndarray) -> list[list[float]]:
    return [[float(cov[0, 0]), float(cov[0, 1])], [float(cov[1, 0]), float(cov[1, 1])]]


def _unit_row(unit: Unit, pull: float | None, used: bool) -> dict[str, Any]:
    loc = unit.localization
    return {
        "stamp": unit.stamp,
        "sector": unit.sector,
        "method": unit.method,
        "epoch": unit.epoch,
        "label": unit.label,
        "east": _num(loc.offset_arcsec[0]),
        "north": _num(loc.offset_arcsec[1]),
        "cov": [[_num(v) for v in row] for row in np.asarray(loc.covariance_arcsec2)],
        "used": used,
        "problem": unit.problem,
        "pull": pull,
    }


def _method_block(s: MethodSummary) -> dict[str, Any]:
    c = s.combination
    pulls = c.pulls if c is not None else np.full(s.n, np.nan)
    finite = pulls[np.isfinite(pulls)]
    return {
        "basis": s.basis,
        "n": s.n,
        "verdict": s.verdict,
        "east": float(s.offset[0]),
        "north": float(s.offset[1]),
        "cov": _cov_list(s.covariance),
        "distance_arcsec": s.distance,
        "sigma_arcsec": s.sigma_arcsec,
        "offset_sigma": s.significance.mahalanobis,
        "offset_p_value": s.significance.p_value,
        "offset_sigma_equiv": _num(s.significance.sigma_equiv),
        "chi2": _num(c.chi2) if c else None,
        "dof": c.dof if c else 0,
        "chi2_p_value": _num(c.chi2_p_value) if c else None,
        "chi2_sigma_equiv": _num(c.chi2_sigma_equiv) if c else None,
        "max_pull": float(finite.max()) if finite.size else None,
        "pulls": {u.label: _num(p) for u, p in zip(s.units, pulls, strict=True)},
    }


def _reference(ctx: TargetContext, units: Sequence[Unit]) -> tuple[float, float]:
    """The tangent point of all offsets: the target, or (if it has no position) the
    point that the first localization's offset is measured from."""
    if ctx.target.ra is not None and ctx.target.dec is not None:
        return float(ctx.target.ra), float(ctx.target.dec)
    loc = units[0].localization
    ra, dec = offset_to_sky(-loc.offset_arcsec[0], -loc.offset_arcsec[1], loc.ra, loc.dec)
    return float(ra), float(dec)


def _pixel_scale(ctx: TargetContext) -> float | None:
    scales = [s.pixel_scale_arcsec for s in ctx.stamps]
    return float(np.median(scales)) if scales else None


def run(ctx: TargetContext) -> CheckResult:
    """Run V25 on a target's per-sector results (see the module docstring)."""
    p = ctx.params
    methods = [m.strip() for m in p["methods"].split(",") if m.strip()]
    units, failed = collect(ctx.results, methods)
    flags: list[str] = []
    if failed:
        flags.append("CHECK_ERRORED")
    if any(not u.usable for u in units):
        flags.append("LOCALIZATION_REJECTED")
    n_rejected = sum(not u.usable for u in units)
    base_plot: dict[str, Any] = {
        "target": {"id": ctx.target.id, "ra": ctx.target.ra, "dec": ctx.target.dec},
        "pixel_scale_arcsec": _pixel_scale(ctx),
        "failed": failed,
    }
    good_methods = sorted({u.method for u in units if u.usable})
    if not good_methods:
        flags.append("NO_LOCALIZATIONS")
        return CheckResult(
            status=Status.INCONCLUSIVE,
            flags=flags,
            metrics={
                "verdict": INCONCLUSIVE,
                "consistency_basis": "none",
                "n_localizations": 0,
                "n_localizations_total": 0,
                "n_rejected": n_rejected,
                "n_failed": len(failed),
            },
            plot_data={
                **base_plot,
                "verdict": INCONCLUSIVE,
                "sectors": [_unit_row(u, None, False) for u in units],
                "epochs": [],
                "methods": {},
                "agreement": [],
                "combined": None,
                "sources": [],
            },
            message="no usable localization of the transit source from any check",
        )

    summaries: dict[str, MethodSummary] = {}
    blocks: dict[str, dict[str, Any]] = {}
    epoch_rows: list[dict[str, Any]] = []
    for m in good_methods:
        summary, epochs = summarize(m, [u for u in units if u.method == m], p)
        summaries[m], blocks[m] = summary, _method_block(summary)
        on_epochs = summary.basis == "epochs"
        epoch_rows += [
            _unit_row(e, blocks[m]["pulls"].get(e.label) if on_epochs else None, e.usable and on_epochs)
            for e in epochs
        ]
    primary, primary_missing = choose_primary(summaries, p["primary_method"])
    if primary_missing:
        flags.append("PRIMARY_METHOD_MISSING")
    best = summaries[primary]
    verdict = best.verdict

    sector_rows = []
    for u in units:
        used = u.usable and summaries[u.method].basis == "sectors"
        sector_rows.append(_unit_row(u, blocks[u.method]["pulls"].get(u.label) if used else None, used))
    agree = agreement(units)

    # flags explaining the verdict
    if verdict == INCONCLUSIVE:
        flags.append("TOO_FEW_LOCALIZATIONS")
    if best.basis == "epochs":
        flags.append("EPOCH_BASIS")
    if verdict == INCONSISTENT:
        flags.append("SECTORS_INCONSISTENT")
    if verdict == OFF_TARGET:
        flags.append("OFF_TARGET")
    if verdict == ON_TARGET and best.significance.mahalanobis >= p["sigma_threshold"]:
        flags.append("OFFSET_BELOW_FLOOR")
    if verdict == ON_TARGET and best.sigma_arcsec > p["max_sigma_arcsec"]:
        flags.append("POOR_PRECISION")
    if any(row["p_value"] < p["consistency_p_threshold"] for row in agree):
        flags.append("METHODS_DISAGREE")
    if any(s.verdict not in (INCONCLUSIVE, verdict) for s in summaries.values() if s.method != primary):
        flags.append("METHOD_VERDICTS_DIFFER")

    ref_ra, ref_dec = _reference(ctx, units)
    ra, dec = offset_to_sky(best.offset[0], best.offset[1], ref_ra, ref_dec)
    localization = Localization(
        method=f"V25 combined ({primary})",
        ra=float(ra),
        dec=float(dec),
        offset_arcsec=best.offset,
        covariance_arcsec2=best.covariance,
        label="combined",
    )

    metrics: dict[str, Any] = {
        "verdict": verdict,
        "consistency_basis": best.basis,
        "primary_method": primary,
        "n_localizations": best.n,
        "n_localizations_total": sum(u.usable for u in units),
        "n_methods": len(summaries),
        "n_rejected": n_rejected,
        "n_failed": len(failed),
    }
    metrics.update(_flat(blocks[primary], prefix=""))
    for m, block in blocks.items():
        metrics.update(_flat(block, prefix=f"{m}_"))
        metrics[f"{m}_n"] = block["n"]
        metrics[f"{m}_basis"] = block["basis"]
        metrics[f"{m}_verdict"] = block["verdict"]
        if block["basis"] == "sectors":
            metrics.update({f"pull_{m}_{label}": v for label, v in block["pulls"].items()})
    for row in agree:
        metrics[f"agreement_sigma_{row['method_a']}_{row['method_b']}_{row['stamp']}"] = row["sigma"]
    metrics["max_method_disagreement_sigma"] = max((row["sigma"] for row in agree), default=None)

    sources: list[dict[str, Any]] = []
    likely_host = None
    if p["catalog"]:
        ranked = cat.rank_sources(
            cat.read_catalog(p["catalog"]),
            target_id=ctx.target.id,
            target_ra=ref_ra,
            target_dec=ref_dec,
            target_mag=ctx.target.magnitude,
            offset=best.offset,
            covariance=best.covariance,
            radius_arcsec=p["catalog_radius_arcsec"],
            match_arcsec=p["catalog_match_arcsec"],
            depth_ppm=ctx.ephemeris.depth_ppm,
        )
        sources = [s.as_dict() for s in ranked]
        hosts = [s for s in ranked if s.can_host]
        metrics["n_catalog_sources"] = len(ranked)
        if hosts:
            host = hosts[0]
            likely_host = host.id
            metrics.update(
                {
                    "likely_host": host.id,
                    "likely_host_sigma": host.sigma,
                    "likely_host_separation_arcsec": host.separation_arcsec,
                    "likely_host_is_target": host.is_target,
                }
            )
            metrics["n_hosts_within_threshold"] = sum(s.sigma < p["sigma_threshold"] for s in hosts)
            if not host.is_target:
                flags.append("LIKELY_HOST_NOT_TARGET")
            if metrics["n_hosts_within_threshold"] > 1:
                flags.append("HOST_AMBIGUOUS")

    plot_data = {
        **base_plot,
        "verdict": verdict,
        "primary_method": primary,
        "consistency_basis": best.basis,
        "sectors": sector_rows,
        "epochs": epoch_rows,
        "methods": blocks,
        "agreement": agree,
        "combined": {"method": primary, **{k: blocks[primary][k] for k in ("east", "north", "cov")}},
        "sources": sources,
        "likely_host": likely_host,
    }
    return CheckResult(
        status=STATUS[verdict],
        flags=flags,
        metrics=metrics,
        localization=localization,
        plot_data=plot_data,
        message=_message(verdict, best, metrics),
    )


_FLAT_KEYS = (
    "east",
    "north",
    "distance_arcsec",
    "sigma_arcsec",
    "offset_sigma",
    "offset_p_value",
    "offset_sigma_equiv",
    "chi2",
    "dof",
    "chi2_p_value",
    "chi2_sigma_equiv",
    "max_pull",
)


def _flat(block: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out = {f"{prefix}{k}_arcsec" if k in ("east", "north") else f"{prefix}{k}": block[k] for k in _FLAT_KEYS}
    cov = block["cov"]
    out.update({f"{prefix}cov_ee": cov[0][0], f"{prefix}cov_en": cov[0][1], f"{prefix}cov_nn": cov[1][1]})
    return out


def _message(verdict: str, best: MethodSummary, metrics: Mapping[str, Any]) -> str:
    where = (
        f"combined {best.method} source at ({best.offset[0]:+.2f}, {best.offset[1]:+.2f})″ E,N "
        f"± {best.sigma_arcsec:.2f}″, {best.significance.mahalanobis:.1f}σ from the target"
    )
    basis = {"sectors": f"{best.n} sectors", "epochs": f"{best.n} epochs of one sector"}.get(best.basis, "")
    if verdict == INCONCLUSIVE:
        return f"only one independent localization: consistency untested; {where}"
    consistency = (
        f"χ²={best.combination.chi2:.1f}/{best.combination.dof} dof, p={best.chi2_p_value:.2g}"
        if best.combination
        else ""
    )
    text = {ON_TARGET: "on target", OFF_TARGET: "off target", INCONSISTENT: "localizations disagree"}[verdict]
    host = f"; likely host {metrics['likely_host']}" if "likely_host" in metrics else ""
    return f"{text} ({basis}, {consistency}); {where}{host}"
