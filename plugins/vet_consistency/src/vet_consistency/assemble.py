"""V25 result assembly: metrics, plot data, the combined localization and the disposition."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from vet_consistency.measure import Measurement, MethodSummary, Unit
from vet_consistency.verdict import STATUS, Decision
from vetcore import CheckResult, TargetContext
from vetcore.disposition import Disposition
from vetcore.hosts import HostTable

__all__ = ["assemble"]


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


def _method_block(s: MethodSummary, verdict: str) -> dict[str, Any]:
    c = s.combination
    pulls = c.pulls if c is not None else np.full(s.n, np.nan)
    finite = pulls[np.isfinite(pulls)]
    return {
        "basis": s.basis,
        "n": s.n,
        "verdict": verdict,
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
        "scale_factor": s.scale_factor,
        "systematic_arcsec": {k: float(v) for k, v in s.systematic_arcsec.items()},
        "pulls": {u.label: _num(p) for u, p in zip(s.units, pulls, strict=True)},
    }


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
    "scale_factor",
)


def _flat(block: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out = {f"{prefix}{k}_arcsec" if k in ("east", "north") else f"{prefix}{k}": block[k] for k in _FLAT_KEYS}
    cov = block["cov"]
    out.update({f"{prefix}cov_ee": cov[0][0], f"{prefix}cov_en": cov[0][1], f"{prefix}cov_nn": cov[1][1]})
    return out


def _host_metrics(hosts: HostTable | None, decision: Decision, offset: np.ndarray) -> dict[str, Any]:
    if hosts is None:
        return {"n_host_candidates": 0}
    best = hosts.most_likely
    target = hosts.target
    radius = decision.confusion_radius_arcsec or 0.0
    return {
        "n_host_candidates": len(hosts.candidates),
        "n_feasible_hosts": sum(c.feasible for c in hosts.candidates),
        "most_probable_host": best.id if best else None,
        "most_probable_host_probability": best.probability if best else None,
        "most_probable_host_sigma": best.offset_sigma if best else None,
        "target_host_probability": target.probability if target else None,
        "n_feasible_within_confusion_radius": len(hosts.feasible_within(offset[0], offset[1], radius)),
        "host_depth_ppm": hosts.depth_ppm,
    }


def assemble(ctx: TargetContext, m: Measurement, hosts: HostTable | None, decision: Decision) -> CheckResult:
    """The V25 :class:`CheckResult`, with its :class:`~vetcore.disposition.Disposition`."""
    flags = list(decision.flags)
    if m.failed:
        flags.append("CHECK_ERRORED")
    if m.n_rejected:
        flags.append("LOCALIZATION_REJECTED")
    if m.primary_missing:
        flags.append("PRIMARY_METHOD_MISSING")
    if hosts is not None and hosts.most_likely is not None:
        second = [c for c in hosts.candidates[1:] if c.probability >= ctx.params.rival_host_probability]
        if second:
            flags.append("HOST_AMBIGUOUS")
    neighbours = ctx.target.neighbours
    disposition = Disposition(
        verdict=decision.verdict,
        reason=decision.reason,
        confusion_radius_arcsec=decision.confusion_radius_arcsec,
        likely_host=decision.likely_host,
        hosts=hosts.candidates if hosts is not None else (),
        neighbours=None if neighbours is None else neighbours.describe(),
    )
    metrics: dict[str, Any] = {
        "verdict": decision.verdict,
        "confusion_radius_arcsec": decision.confusion_radius_arcsec,
        "max_confusion_radius_arcsec": decision.limit_arcsec,
        "likely_host": decision.likely_host,
        "n_localizations_total": sum(u.usable for u in m.units),
        "n_rejected": m.n_rejected,
        "n_failed": len(m.failed),
        "depth_ppm_used": m.depth_ppm,
        "depth_source": m.depth_source,
    }
    base_plot: dict[str, Any] = {
        "target": {"id": ctx.target.id, "ra": ctx.target.ra, "dec": ctx.target.dec},
        "pixel_scale_arcsec": m.pixel_scale_arcsec,
        "failed": list(m.failed),
        "verdict": decision.verdict,
        "likely_host": decision.likely_host,
        "confusion_radius_arcsec": decision.confusion_radius_arcsec,
        "hosts": [h.to_dict() for h in hosts.candidates] if hosts is not None else [],
        "host_notes": list(hosts.notes) if hosts is not None else [],
    }
    best = m.best
    if best is None:
        metrics.update({"consistency_basis": "none", "n_localizations": 0})
        plot_data = {
            **base_plot,
            "sectors": [_unit_row(u, None, False) for u in m.units],
            "epochs": [],
            "methods": {},
            "agreement": [],
            "combined": None,
        }
        return CheckResult(
            status=STATUS[decision.verdict],
            flags=flags,
            metrics=metrics,
            plot_data=plot_data,
            message=decision.reason,
            disposition=disposition,
        )

    blocks = {name: _method_block(s, decision.method_verdicts[name]) for name, s in m.summaries.items()}
    epoch_rows = []
    for name, s in m.summaries.items():
        on_epochs = s.basis == "epochs"
        epoch_rows += [
            _unit_row(e, blocks[name]["pulls"].get(e.label) if on_epochs else None, e.usable and on_epochs)
            for e in s.epochs
        ]
    sector_rows = []
    for u in m.units:
        used = u.usable and u.method in m.summaries and m.summaries[u.method].basis == "sectors"
        sector_rows.append(_unit_row(u, blocks[u.method]["pulls"].get(u.label) if used else None, used))

    metrics.update(
        {
            "consistency_basis": best.basis,
            "primary_method": best.method,
            "n_localizations": best.n,
            "n_methods": len(m.summaries),
        }
    )
    metrics.update(_flat(blocks[best.method], prefix=""))
    for name, block in blocks.items():
        metrics.update(_flat(block, prefix=f"{name}_"))
        metrics[f"{name}_n"] = block["n"]
        metrics[f"{name}_basis"] = block["basis"]
        metrics[f"{name}_verdict"] = block["verdict"]
        if block["basis"] == "sectors":
            metrics.update({f"pull_{name}_{label}": v for label, v in block["pulls"].items()})
    for row in m.agreement:
        metrics[f"agreement_sigma_{row['method_a']}_{row['method_b']}_{row['stamp']}"] = row["sigma"]
    metrics["max_method_disagreement_sigma"] = max((row["sigma"] for row in m.agreement), default=None)
    metrics.update(_host_metrics(hosts, decision, best.offset))

    plot_data = {
        **base_plot,
        "primary_method": best.method,
        "consistency_basis": best.basis,
        "sectors": sector_rows,
        "epochs": epoch_rows,
        "methods": blocks,
        "agreement": list(m.agreement),
        "combined": {"method": best.method, **{k: blocks[best.method][k] for k in ("east", "north", "cov")}},
    }
    ref = m.reference or (0.0, 0.0)
    return CheckResult(
        status=STATUS[decision.verdict],
        flags=flags,
        metrics=metrics,
        localization=best.localization(*ref),
        plot_data=plot_data,
        message=decision.reason,
        disposition=disposition,
    )
