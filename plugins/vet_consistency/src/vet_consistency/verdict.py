"""The V25 verdict: from the measurement (and the host table) to one disposition.

Evaluated on the primary method's combined localization, in this order:

1. nothing usable was localized → ``inconclusive`` (V25 ran and had nothing to
   combine; never ``skipped``);
2. ≥ 2 independent localizations whose χ² p-value is below
   ``consistency_p_threshold`` → ``inconsistent``, unless they are sectors
   that each exclude the target on their own (at ≥ ``sigma_threshold`` with
   their systematic error, beyond ``offset_floor_arcsec``) and so does their
   combination with its Birge-scaled covariance: then ``off_target``, flagged
   ``SECTORS_INCONSISTENT`` (the host's position is uncertain, the target's
   exclusion is not);
3. :func:`vetcore.verdicts.localization_verdict` with the confusion limit
   ``max_confusion_radius_pixels`` × pixel scale: ``off_target`` when excluded at
   ≥ ``sigma_threshold`` beyond ``offset_floor_arcsec``; ``inconclusive`` when
   the offset lies between ``on_target_sigma`` and ``sigma_threshold`` or the
   3σ confusion radius exceeds the limit;
4. an ``on_target`` from step 3 is kept only if no other method places the
   source off target on its own, no listed star that could produce the
   observed depth lies within the confusion radius of the source, none has
   a relative host probability of ``rival_host_probability`` or more (the
   per-star likelihoods of TESS-Localize, Higgins & Bell 2023), and none lies
   within ``sigma_threshold`` of the source (the distance within which an
   off-target verdict would name it the host: the target must exclude its
   rivals as firmly as a rival must exclude the target); otherwise
   ``inconclusive``, saying what cannot be excluded.

A single localization (one sector, one transit) gives a usable answer; the
reason then says that cross-sector consistency is untested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import numpy as np

from vet_consistency.combine import add_systematic
from vet_consistency.measure import Measurement, MethodSummary
from vetcore import Params, Status
from vetcore.hosts import TARGET, HostTable, named_ids
from vetcore.sky import mahalanobis
from vetcore.verdicts import (
    CONFUSION_NSIGMA,
    INCONCLUSIVE,
    INCONSISTENT,
    OFF_TARGET,
    ON_TARGET,
    localization_verdict,
)

__all__ = ["STATUS", "Decision", "decide", "excluded_in_every_sector", "method_verdict"]

#: Check status for each verdict.
STATUS: dict[str, Status] = {
    ON_TARGET: Status.PASS,
    OFF_TARGET: Status.FAIL,
    INCONSISTENT: Status.INCONCLUSIVE,
    INCONCLUSIVE: Status.INCONCLUSIVE,
}


@attrs.frozen
class Decision:
    """The verdict with its one-sentence reason, flags and host."""

    verdict: str
    reason: str
    flags: tuple[str, ...]
    confusion_radius_arcsec: float | None
    limit_arcsec: float | None
    likely_host: str | None
    method_verdicts: Mapping[str, str]


def _limit(m: Measurement, p: Params) -> float:
    return p.max_confusion_radius_pixels * m.pixel_scale_arcsec if m.pixel_scale_arcsec else math.nan


def _disagree(s: MethodSummary, p: Params) -> bool:
    """Whether the method's independent localizations fail the consistency test."""
    return s.combination is not None and s.chi2_p_value < p.consistency_p_threshold


def excluded_in_every_sector(s: MethodSummary, p: Params) -> bool:
    """Whether each of ≥ 2 sector localizations excludes the target on its own: offset beyond
    ``offset_floor_arcsec`` and at ≥ ``sigma_threshold`` under its covariance with the sector's
    systematic error."""
    if s.basis != "sectors":
        return False
    for u in s.units:
        d = u.localization.offset_arcsec
        sys = s.systematic_arcsec.get(u.stamp, 0.0)
        cov = add_systematic(u.localization.covariance_arcsec2[None], sys)[0]
        if float(np.hypot(*d)) <= p.offset_floor_arcsec or mahalanobis(d, cov) < p.sigma_threshold:
            return False
    return True


def method_verdict(s: MethodSummary, m: Measurement, p: Params) -> str:
    """One method's verdict on its own: inconsistent (unless every sector and the scaled combination
    exclude the target), or the localization rule."""
    inconsistent = _disagree(s, p)
    if inconsistent and not excluded_in_every_sector(s, p):
        return INCONSISTENT
    ra, dec = m.reference or (0.0, 0.0)
    verdict, _ = localization_verdict(
        s.localization(ra, dec),
        sigma_threshold=p.sigma_threshold,
        offset_floor_arcsec=p.offset_floor_arcsec,
        max_confusion_radius_arcsec=_limit(m, p),
        on_target_sigma=p.on_target_sigma,
    )
    return INCONSISTENT if inconsistent and verdict != OFF_TARGET else verdict


def _basis_text(s: MethodSummary) -> str:
    stamps = sorted({u.stamp for u in s.units})
    if s.basis == "sectors":
        c = s.combination
        assert c is not None
        return f"{s.n} sectors agree (χ²={c.chi2:.1f}/{c.dof} dof, p={c.chi2_p_value:.2g})"
    if s.basis == "epochs":
        c = s.combination
        assert c is not None
        return (
            f"one sector ({stamps[0]}), its {s.n} transits agree (p={c.chi2_p_value:.2g}): "
            "cross-sector consistency untested"
        )
    return f"one sector ({stamps[0]}): cross-sector consistency untested"


def _stars(n: int) -> str:
    return f"{n} star{'s' * (n != 1)}"


def decide(m: Measurement, hosts: HostTable | None, p: Params) -> Decision:
    """The verdict for one target (module docstring)."""
    flags: list[str] = []
    best = m.best
    if best is None:
        return Decision(
            INCONCLUSIVE,
            "nothing localizable: no check returned a usable localization of the transit source",
            ("NO_LOCALIZATIONS",),
            None,
            None,
            None,
            {},
        )
    verdicts = {name: method_verdict(s, m, p) for name, s in m.summaries.items()}
    limit = _limit(m, p)
    radius = best.localization(*(m.reference or (0.0, 0.0))).confusion_radius_arcsec(CONFUSION_NSIGMA)
    sigma = best.significance.mahalanobis
    where = f"{best.method} places the source {best.distance:.1f}″ from the target ({sigma:.1f}σ)"
    basis = _basis_text(best)
    if best.basis == "none":
        flags.append("SINGLE_LOCALIZATION")
    if best.basis == "epochs":
        flags.append("EPOCH_BASIS")
    if best.scale_factor > 1.0:
        flags.append("ERRORS_SCALED")
    if not math.isfinite(limit):
        flags.append("PIXEL_SCALE_UNKNOWN")
    if any(row["p_value"] < p.consistency_p_threshold for row in m.agreement):
        flags.append("METHODS_DISAGREE")
    if any(
        v not in (INCONCLUSIVE, verdicts[best.method]) for name, v in verdicts.items() if name != best.method
    ):
        flags.append("METHOD_VERDICTS_DIFFER")
    if hosts is None:
        flags.append("NO_NEIGHBOUR_LIST")

    def done(verdict: str, reason: str, host: str | None) -> Decision:
        return Decision(
            verdict, reason, tuple(flags), radius, limit if math.isfinite(limit) else None, host, verdicts
        )

    if verdicts[best.method] == INCONSISTENT:
        flags.append("SECTORS_INCONSISTENT")
        c = best.combination
        assert c is not None
        what = "sectors" if best.basis == "sectors" else "transits"
        return done(
            INCONSISTENT,
            f"inconsistent: the {best.n} {what} of {best.method} disagree on the source position "
            f"(χ²={c.chi2:.1f}/{c.dof} dof, p={c.chi2_p_value:.2g})",
            None,
        )

    listed = hosts.best_within(p.sigma_threshold) if hosts is not None else None
    if verdicts[best.method] == OFF_TARGET:
        flags.append("OFF_TARGET")
        if _disagree(best, p):
            flags.append("SECTORS_INCONSISTENT")
            c = best.combination
            assert c is not None
            where = (
                f"each of the {best.n} sectors of {best.method} excludes the target on its own, "
                f"though they disagree on where the source is (χ²={c.chi2:.1f}/{c.dof} dof, "
                f"p={c.chi2_p_value:.2g}); combined {best.distance:.1f}″ ({sigma:.1f}σ)"
            )
            basis = "host position uncertain"
        host_text = "; no neighbour list to name the host"
        host = None
        if hosts is not None:
            if listed is not None and not listed.is_target:
                host, host_text = listed.id, f"; most likely host {listed.id} ({listed.probability:.0%})"
                flags.append("LIKELY_HOST_NOT_TARGET")
            else:
                flags.append("HOST_NOT_LISTED")
                host_text = (
                    f"; no listed star that could produce the depth lies within {p.sigma_threshold:g}σ of it"
                )
        return done(OFF_TARGET, f"off target: {where}, {basis}{host_text}", host)

    if sigma >= p.on_target_sigma and best.distance <= p.offset_floor_arcsec:
        flags.append("OFFSET_BELOW_FLOOR")
    rivals = hosts.feasible_within(best.offset[0], best.offset[1], radius) if hosts is not None else []
    marginal = sigma >= p.on_target_sigma and best.distance > p.offset_floor_arcsec
    if verdicts[best.method] == INCONCLUSIVE and marginal:
        flags.append("OFFSET_MARGINAL")
        return done(
            INCONCLUSIVE,
            f"inconclusive: {where}, {basis}; neither consistent with the target (< {p.on_target_sigma:g}σ) "
            f"nor excluded (≥ {p.sigma_threshold:g}σ)",
            _host_id(hosts),
        )
    if verdicts[best.method] == INCONCLUSIVE:
        flags.append("POOR_LOCALIZATION")
        limit_text = f"limit {limit:.1f}″" if math.isfinite(limit) else "pixel scale unknown"
        if hosts is None:
            cannot = "cannot exclude stars within that radius (no neighbour list)"
        else:
            cannot = f"cannot distinguish it from {_stars(len(rivals))} within that radius"
        return done(
            INCONCLUSIVE,
            f"source within {radius:.0f}″ of the target ({limit_text}): {cannot}; {where}",
            _host_id(hosts),
        )

    contrary = sorted(name for name, v in verdicts.items() if v == OFF_TARGET)
    if contrary:
        return done(
            INCONCLUSIVE,
            f"inconclusive: {where}, but {', '.join(contrary)} on its own places it off target",
            _host_id(hosts),
        )
    if rivals:
        flags.append("NEIGHBOUR_IN_CONFUSION_RADIUS")
        return done(
            INCONCLUSIVE,
            f"source within {radius:.0f}″ of the target: cannot distinguish it from {_stars(len(rivals))} "
            f"within that radius that could produce the depth ({named_ids(rivals)}); {where}",
            _host_id(hosts),
        )
    # listed stars that could produce the depth and are either likely hosts or not excluded
    blocking = (
        ("NEIGHBOUR_LIKELY_HOST", "is a likely host too",
         hosts.likely_rivals(p.rival_host_probability), lambda c: f"{c.probability:.0%}"),
        ("NEIGHBOUR_NOT_EXCLUDED",
         f"lies within {p.sigma_threshold:g}σ of the source, where it would be named the host",
         hosts.not_excluded(p.sigma_threshold), lambda c: f"{c.offset_sigma:.1f}σ"),
    ) if hosts is not None else ()  # fmt: skip
    for flag, what, stars, detail in blocking:
        if stars:
            flags.append(flag)
            names = ", ".join(f"{c.id} ({detail(c)})" for c in stars[:3])
            return done(
                INCONCLUSIVE,
                f"inconclusive: {where}, but a listed star that could produce the depth {what} ({names})",
                _host_id(hosts),
            )
    if hosts is None:
        checked = f"no neighbour list: stars within {radius:.0f}″ are not excluded by brightness"
    else:
        checked = (
            f"no listed star that could produce the depth lies within {radius:.0f}″ or {p.sigma_threshold:g}σ"
        )
    return done(
        ON_TARGET,
        f"on target: {where}, 3σ confusion radius {radius:.1f}″ ≤ {limit:.1f}″; {basis}; {checked}",
        TARGET,
    )


def _host_id(hosts: HostTable | None) -> str | None:
    best = hosts.most_likely if hosts is not None else None
    return None if best is None else best.id
