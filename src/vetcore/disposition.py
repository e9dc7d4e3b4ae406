"""One disposition per target: the answer a report leads with.

A :class:`Disposition` says where the transit source is — ``on_target``,
``off_target``, ``inconclusive`` or ``inconsistent`` (:mod:`vetcore.verdicts`) —
with the 3σ confusion radius it rests on, the most likely host (a star id from
the neighbour list, ``"target"``, or ``None`` when it cannot be named) and one
sentence citing the checks behind it.

The core knows no check by name.  A check *declares* a disposition by setting
:attr:`vetcore.CheckResult.disposition`; :func:`report_disposition` takes it

1. from the target-scope results that declare one (if several do, the most
   concerning verdict in :data:`vetcore.verdicts.VERDICTS` order wins);
2. otherwise from the sector-scope results: each result that declares a
   disposition, or carries a localization with a ``pass``/``fail``/``inconclusive``
   status (read as on target / off target / inconclusive), counts; any off target
   together with any on target is ``inconsistent``, any off target is
   ``off_target``, any on target is ``on_target``, else ``inconclusive``;
3. ``inconclusive`` when nothing localized the source.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from vetcore.verdicts import INCONCLUSIVE, INCONSISTENT, OFF_TARGET, ON_TARGET, VERDICTS

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.hosts import HostCandidate
    from vetcore.model import CheckResult

__all__ = ["Disposition", "report_disposition"]


def _verdict(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in VERDICTS:
        raise ValueError(f"disposition verdict must be one of {list(VERDICTS)}, got {value!r}")


def _as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Typed ``tuple`` converter (mypy's attrs plugin cannot use the generic builtin)."""
    return tuple(items)


@attrs.frozen
class Disposition:
    """Where the transit source is, for one target.

    ``verdict``: on_target / off_target / inconclusive / inconsistent;
    ``reason``: one sentence citing the checks behind it;
    ``confusion_radius_arcsec``: 3σ radius of the localization it rests on
    (``None`` when nothing was localized); ``likely_host``: the most likely
    host's id, ``"target"``, or ``None``; ``hosts``: the host-attribution table
    (:class:`vetcore.hosts.HostCandidate`, most probable first; empty without a
    neighbour list); ``neighbours``: the neighbour list used (description), or
    ``None`` when none was given; ``checks``: ids of the checks it comes from
    (filled in by :func:`report_disposition` when the check leaves it empty).
    """

    verdict: str = attrs.field(validator=_verdict)
    reason: str
    confusion_radius_arcsec: float | None = None
    likely_host: str | None = None
    hosts: tuple[HostCandidate, ...] = attrs.field(default=(), converter=_as_tuple)
    neighbours: str | None = None
    checks: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)

    def to_dict(self) -> dict[str, Any]:
        """The ``disposition`` object of ``report.json``."""
        radius = self.confusion_radius_arcsec
        return {
            "verdict": self.verdict,
            "confusion_radius_arcsec": None if radius is None or not math.isfinite(radius) else float(radius),
            "likely_host": self.likely_host,
            "reason": self.reason,
            "checks": list(self.checks),
            "neighbours": self.neighbours,
            "hosts": [h.to_dict() for h in self.hosts],
        }


_STATUS_VERDICT = {"pass": ON_TARGET, "fail": OFF_TARGET, "inconclusive": INCONCLUSIVE}
_WORDS = {
    ON_TARGET: "on target",
    OFF_TARGET: "off target",
    INCONCLUSIVE: "inconclusive",
    INCONSISTENT: "inconsistent",
}


def _usable(result: CheckResult) -> bool:
    return result.status.value not in ("error", "skipped")


def report_disposition(
    aggregates: Mapping[str, CheckResult],
    sectors: Iterable[tuple[str, Mapping[str, CheckResult]]],
    neighbours: str | None = None,
) -> Disposition:
    """The target's disposition from its results (see the module docstring).

    ``aggregates`` are the target-scope results by check id, ``sectors`` pairs of
    (stamp label, results by check id); ``neighbours`` describes the neighbour
    list given to the run (for the fallback's report).
    """
    declared = [
        (cid, r.disposition) for cid, r in aggregates.items() if r.disposition is not None and _usable(r)
    ]
    if declared:
        cid, chosen = max(declared, key=lambda item: VERDICTS.index(item[1].verdict))
        return chosen if chosen.checks else attrs.evolve(chosen, checks=(cid,))
    failed_target = [cid for cid, r in aggregates.items() if not _usable(r)]
    return _from_sectors(list(sectors), failed_target, neighbours)


def _from_sectors(
    sectors: Sequence[tuple[str, Mapping[str, CheckResult]]],
    failed_target: Sequence[str],
    neighbours: str | None,
) -> Disposition:
    votes: list[tuple[str, str, CheckResult]] = []  # (verdict, "V09 S5", result)
    for label, results in sectors:
        for cid, r in results.items():
            if not _usable(r):
                continue
            if r.disposition is not None:
                votes.append((r.disposition.verdict, f"{cid} {label}", r))
            elif r.localization is not None and r.status.value in _STATUS_VERDICT:
                votes.append((_STATUS_VERDICT[r.status.value], f"{cid} {label}", r))
    preface = (
        f"{', '.join(failed_target)} did not run to completion; "
        if failed_target
        else "no target-level check; "
    )
    if not votes:
        return Disposition(
            INCONCLUSIVE,
            preface + "no check localized the transit source",
            neighbours=neighbours,
        )
    found = {v for v, _, _ in votes}
    if OFF_TARGET in found and ON_TARGET in found:
        verdict = INCONSISTENT
    elif OFF_TARGET in found:
        verdict = OFF_TARGET
    elif ON_TARGET in found:
        verdict = ON_TARGET
    elif INCONSISTENT in found:
        verdict = INCONSISTENT
    else:
        verdict = INCONCLUSIVE
    radii = [
        r.disposition.confusion_radius_arcsec
        if r.disposition is not None
        else (r.localization.confusion_radius_arcsec() if r.localization is not None else None)
        for _, _, r in votes
    ]
    finite = [x for x in radii if x is not None and math.isfinite(x)]
    cited = "; ".join(f"{who} {_WORDS[v]}" for v, who, _ in votes)
    return Disposition(
        verdict,
        f"{preface}from the sector checks: {cited}",
        confusion_radius_arcsec=min(finite) if finite else None,
        likely_host="target" if verdict == ON_TARGET else None,
        neighbours=neighbours,
        checks=tuple(dict.fromkeys(who.split()[0] for _, who, _ in votes)),
    )
