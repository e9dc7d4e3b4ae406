"""Injection–recovery scoring: run the installed checks on population cases and compare with the truth.

:func:`vet_case` runs :func:`vetcore.vet` on one :class:`~vetcore.testing.population.PopulationCase`
and reduces the report to a small JSON-ready record (verdicts per method, the
Mahalanobis distance of every localization from the true host, timings);
:func:`summarise` turns many records into the population numbers:

* **false-alarm rate**: on-target truth, verdict ``off_target`` or ``inconsistent``;
* **dangerous-miss rate**: off-target truth, verdict ``on_target``;
* **detection efficiency**: off-target truth, verdict ``off_target``, by host
  separation (pixels) and by all-pixel matched-filter SNR;
* **coverage**: the fraction of localizations whose true host offset lies
  within the k-σ error ellipse, i.e. Mahalanobis distance ≤ k, against the 2-D
  Gaussian values 1 − exp(−k²/2) = 39.3 %, 86.5 %, 98.9 % for k = 1, 2, 3;
* **host attribution**: with the case's star list given (``neighbours=True``), how
  often the named likely host (V25's ``likely_host`` metric, the disposition's
  ``likely_host``) is the true host.

Methods: ``V08`` and ``V09`` are scored per stamp (their own status: ``fail`` →
off_target, ``pass`` → on_target, anything else → inconclusive, unless the
result carries a ``verdict`` metric); ``V25`` per target (its ``verdict``
metric), ``V25/<method>`` per target from V25's per-method blocks, and
``disposition`` from the report's target disposition when the report has one.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vetcore.verdicts import INCONCLUSIVE, INCONSISTENT, OFF_TARGET, ON_TARGET

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import CheckResult, Localization
    from vetcore.plugins import PluginManager
    from vetcore.testing.population import PopulationCase

__all__ = [
    "COVERAGE_EXPECTED",
    "SEPARATION_BINS",
    "SNR_BINS",
    "summarise",
    "vet_case",
]

#: 2-D Gaussian probability within Mahalanobis distance k (k = 1, 2, 3).
COVERAGE_EXPECTED: dict[int, float] = {k: 1.0 - math.exp(-0.5 * k * k) for k in (1, 2, 3)}
#: Host-separation bins (pixels) and SNR bins for the detection efficiency.
SEPARATION_BINS: tuple[float, ...] = (0.3, 0.7, 1.5, 3.0)
SNR_BINS: tuple[float, ...] = (0.0, 15.0, 30.0, 60.0, math.inf)

_STATUS_VERDICT = {"pass": ON_TARGET, "fail": OFF_TARGET}
SECTOR_METHODS = ("V08", "V09")


def _verdict(result: CheckResult) -> str:
    v = result.metrics.get("verdict") if result.metrics else None
    if isinstance(v, str) and v in (ON_TARGET, OFF_TARGET, INCONCLUSIVE, INCONSISTENT):
        return v
    return _STATUS_VERDICT.get(result.status.value, INCONCLUSIVE)


def _distance(loc: Localization | None, truth_offset: Sequence[float]) -> float | None:
    """Mahalanobis distance of the true offset from the localization (None if unusable)."""
    if loc is None:
        return None
    cov = np.asarray(loc.covariance_arcsec2, dtype=float)
    d = np.asarray(loc.offset_arcsec, dtype=float) - np.asarray(truth_offset, dtype=float)
    if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(d))):
        return None
    try:
        return float(math.sqrt(max(float(d @ np.linalg.solve(cov, d)), 0.0)))
    except np.linalg.LinAlgError:
        return None


def _disposition(report: Any) -> tuple[str | None, str | None]:
    """The report's target disposition (verdict, likely host), when the report has one."""
    disp = getattr(report, "disposition", None)
    if disp is None:
        return None, None
    get = disp.get if isinstance(disp, Mapping) else lambda key: getattr(disp, key, None)
    verdict, host = get("verdict"), get("likely_host")
    return (None if verdict is None else str(verdict)), (None if host is None else str(host))


def _neighbour_arguments(case: PopulationCase, folder: Path, config: Any) -> tuple[dict[str, Any], Any]:
    """Pass the case's star list the way the installed vetcore takes it: ``vet(neighbours=)``
    where available, otherwise as V25's ``catalog`` parameter."""
    import inspect

    import vetcore

    path = case.write_neighbours(folder / "neighbours.ecsv")
    if "neighbours" in inspect.signature(vetcore.vet).parameters:
        return {"neighbours": str(path)}, config
    if config is not None and not isinstance(config, Mapping):
        raise TypeError("neighbours=True needs config as a mapping (or None) on this vetcore")
    cfg = dict(config or {})
    checks = dict(cfg.get("checks", {}))
    checks["V25"] = {**dict(checks.get("V25", {})), "catalog": str(path)}
    return {}, {**cfg, "checks": checks}


def _is_host(named: str | None, case: PopulationCase) -> bool | None:
    """Whether a named likely host is the true host (``"target"`` and the target's id name the target)."""
    if named is None:
        return None
    if named in ("target", case.target.id):
        return case.truth.on_target
    return named == case.truth.host_id


def vet_case(
    case: PopulationCase,
    *,
    checks: Sequence[str] = ("V08", "V09", "V25"),
    config: Any = None,
    plugin_manager: PluginManager | None = None,
    neighbours: bool = False,
    extra: Mapping[str, Any] | None = None,
    metrics: Sequence[str] = (),
) -> dict[str, Any]:
    """Run ``checks`` on ``case`` through :func:`vetcore.vet` and score it against the truth.

    ``neighbours=True`` gives the run the case's star list (:meth:`PopulationCase.neighbours`)
    for host attribution.  ``extra`` are further keyword arguments for
    :func:`vetcore.vet`.  ``metrics`` names check metrics to copy into each
    result's entry (under ``"metrics"``, where the result has them), for diagnosis.
    A failure of the run itself (not of a check, which the runner isolates) is
    recorded in ``error``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        kwargs: dict[str, Any] = dict(extra or {})
        if neighbours:
            more, config = _neighbour_arguments(case, Path(tmp), config)
            kwargs.update(more)
        return _vet_and_score(case, checks, config, plugin_manager, kwargs, metrics)


def _picked(result: CheckResult, names: Sequence[str]) -> dict[str, Any]:
    found = result.metrics or {}
    return {name: found[name] for name in names if name in found}


def _vet_and_score(
    case: PopulationCase,
    checks: Sequence[str],
    config: Any,
    plugin_manager: PluginManager | None,
    kwargs: Mapping[str, Any],
    metrics: Sequence[str] = (),
) -> dict[str, Any]:
    import vetcore

    tr = case.truth
    record: dict[str, Any] = {
        "index": case.index,
        "seed": case.seed,
        "id": case.id,
        "kind": case.kind,
        "mission": case.mission,
        "n_sectors": len(case.stamps),
        "scenario": tr.scenario,
        "on_target": tr.on_target,
        "separation_pix": tr.host_separation_pix,
        "separation_arcsec": tr.host_separation_arcsec,
        "delta_mag": tr.delta_mag,
        "depth": tr.depth,
        "expected_snr": tr.expected_snr,
        "aperture_snr": tr.aperture_snr,
        "host_outside_aperture": tr.host_outside_aperture,
        "stamps": {},
        "target": {},
        "disposition": None,
        "host_right": {},
        "error": None,
        "vet_s": 0.0,
        "check_s": {},
    }
    start = time.perf_counter()
    try:
        report = vetcore.vet(
            list(case.stamps),
            **case.vet_kwargs(),
            checks=list(checks),
            config=config,
            plugin_manager=plugin_manager,
            **kwargs,
        )
    except Exception as exc:  # the run as a whole failed: record it, the population goes on
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["vet_s"] = time.perf_counter() - start
        return record
    record["vet_s"] = time.perf_counter() - start
    truth_offset = tr.host_offset_arcsec
    sector_truth = {s.label: s for s in tr.sectors}
    for sector in report.sectors:
        st = sector_truth[sector.label]
        row: dict[str, Any] = {"pixel_snr": st.pixel_snr, "host_in_aperture": st.host_in_aperture}
        for cid, result in sector.results.items():
            row[cid] = {
                "verdict": _verdict(result),
                "status": result.status.value,
                "distance_sigma": _distance(result.localization, truth_offset),
                "sigma_arcsec": None if result.localization is None else result.localization.sigma_arcsec,
            }
            if metrics:
                row[cid]["metrics"] = _picked(result, metrics)
            record["check_s"][cid] = record["check_s"].get(cid, 0.0) + float(result.elapsed_s)
        record["stamps"][sector.label] = row
    for cid, result in report.aggregates.items():
        record["check_s"][cid] = record["check_s"].get(cid, 0.0) + float(result.elapsed_s)
        entry: dict[str, Any] = {
            "verdict": _verdict(result),
            "status": result.status.value,
            "distance_sigma": _distance(result.localization, truth_offset),
        }
        if metrics:
            entry["metrics"] = _picked(result, metrics)
        for m in SECTOR_METHODS:
            v = result.metrics.get(f"{m}_verdict") if result.metrics else None
            if isinstance(v, str):
                entry[f"{m}_verdict"] = v
        record["target"][cid] = entry
        named = result.metrics.get("likely_host") if result.metrics else None
        if isinstance(named, str):
            record["host_right"][cid] = _is_host(named, case)
    record["disposition"], named_host = _disposition(report)
    if named_host is not None:
        record["host_right"]["disposition"] = _is_host(named_host, case)
    return record


# --------------------------------------------------------------------------- summary


def _rate(k: int, n: int) -> dict[str, Any]:
    """``k/n`` with its binomial 1σ error (None when n = 0)."""
    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "err": None}
    p = k / n
    return {"k": k, "n": n, "rate": p, "err": math.sqrt(max(p * (1 - p), 1.0 / n) / n)}


def _units(records: Sequence[Mapping[str, Any]], method: str) -> list[dict[str, Any]]:
    """One scored unit per stamp (sector methods) or per target (V25, V25/<m>, disposition)."""
    out: list[dict[str, Any]] = []
    for r in records:
        if r.get("error"):
            continue
        base = {
            "on_target": r["on_target"],
            "separation_pix": r["separation_pix"],
            "host_outside_aperture": r["host_outside_aperture"],
        }
        if method in SECTOR_METHODS:
            for row in r["stamps"].values():
                if method in row:
                    out.append({**base, **row[method], "snr": row["pixel_snr"]})
        elif method == "disposition":
            if r.get("disposition") is not None:
                out.append(
                    {**base, "verdict": r["disposition"], "distance_sigma": None, "snr": r["expected_snr"]}
                )
        elif method.startswith("V25/"):
            v = r["target"].get("V25", {}).get(f"{method[4:]}_verdict")
            if v is not None:
                out.append({**base, "verdict": v, "distance_sigma": None, "snr": r["expected_snr"]})
        elif method in r["target"]:
            out.append({**base, **r["target"][method], "snr": r["expected_snr"]})
    return out


def _efficiency(units: Sequence[Mapping[str, Any]], key: str, edges: Sequence[float]) -> list[dict[str, Any]]:
    rows = []
    for lo, hi in itertools.pairwise(edges):
        sel = [u for u in units if lo <= u[key] < hi or (hi == edges[-1] and u[key] == hi)]
        rows.append({"low": lo, "high": hi, **_rate(sum(u["verdict"] == OFF_TARGET for u in sel), len(sel))})
    return rows


def _host_attribution(records: Sequence[Mapping[str, Any]], method: str) -> dict[str, Any]:
    """How often the named likely host is the true one: all targets that name one, and the
    off-target ones whose host is ≥ 1 px away."""
    named = [r for r in records if not r.get("error") and r.get("host_right", {}).get(method) is not None]
    far = [r for r in named if not r["on_target"] and r["separation_pix"] >= 1.0]
    return {
        "all": _rate(sum(bool(r["host_right"][method]) for r in named), len(named)),
        "off_target_sep_ge_1": _rate(sum(bool(r["host_right"][method]) for r in far), len(far)),
    }


def summarise(
    records: Iterable[Mapping[str, Any]],
    methods: Sequence[str] = ("V08", "V09", "V25", "V25/V08", "V25/V09", "disposition"),
) -> dict[str, Any]:
    """Population numbers per method (see the module docstring); JSON-ready."""
    records = list(records)
    summary: dict[str, Any] = {
        "n_targets": len(records),
        "n_errors": sum(bool(r.get("error")) for r in records),
        "n_on_target": sum(bool(r["on_target"]) for r in records),
        "n_off_target": sum(not r["on_target"] for r in records),
        "n_host_outside_aperture": sum(bool(r["host_outside_aperture"]) for r in records),
        "coverage_expected": {f"{k}sigma": v for k, v in COVERAGE_EXPECTED.items()},
        "methods": {},
    }
    for method in methods:
        units = _units(records, method)
        if not units:
            continue
        on = [u for u in units if u["on_target"]]
        off = [u for u in units if not u["on_target"]]
        caught = [u for u in off if u["separation_pix"] >= 0.7 and u["snr"] >= 15.0]
        outside = [u for u in off if u["host_outside_aperture"]]
        dist = np.array(
            [u["distance_sigma"] for u in units if u.get("distance_sigma") is not None], dtype=float
        )
        verdicts = {
            v: sum(u["verdict"] == v for u in units)
            for v in (ON_TARGET, OFF_TARGET, INCONCLUSIVE, INCONSISTENT)
        }
        summary["methods"][method] = {
            "unit": "stamp" if method in SECTOR_METHODS else "target",
            "n": len(units),
            "verdicts": verdicts,
            "false_alarm": _rate(sum(u["verdict"] in (OFF_TARGET, INCONSISTENT) for u in on), len(on)),
            "dangerous_miss": _rate(sum(u["verdict"] == ON_TARGET for u in off), len(off)),
            "on_target_recovered": _rate(sum(u["verdict"] == ON_TARGET for u in on), len(on)),
            "off_target_detected": _rate(sum(u["verdict"] == OFF_TARGET for u in off), len(off)),
            "off_target_detected_sep_ge_0p7_snr_ge_15": _rate(
                sum(u["verdict"] == OFF_TARGET for u in caught), len(caught)
            ),
            "off_target_outside_aperture_detected": _rate(
                sum(u["verdict"] == OFF_TARGET for u in outside), len(outside)
            ),
            "efficiency_by_separation_pix": _efficiency(off, "separation_pix", SEPARATION_BINS),
            "efficiency_by_snr": _efficiency(off, "snr", SNR_BINS),
            "efficiency_grid": [
                {
                    "separation_low": lo,
                    "separation_high": hi,
                    "by_snr": _efficiency(
                        [
                            u
                            for u in off
                            if lo <= u["separation_pix"] < hi
                            or u["separation_pix"] == hi == SEPARATION_BINS[-1]
                        ],
                        "snr",
                        SNR_BINS,
                    ),
                }
                for lo, hi in itertools.pairwise(SEPARATION_BINS)
            ],
            "host_attribution": _host_attribution(records, method),
            "coverage": {
                "n": int(dist.size),
                **{f"{k}sigma": (float(np.mean(dist <= k)) if dist.size else None) for k in (1, 2, 3)},
            },
        }
    return summary
