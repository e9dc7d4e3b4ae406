"""V25: where is the transit source, do its localizations agree, and which star hosts it?

Every sector-scope check that returns a :class:`~vetcore.Localization` (V08
centroid shift, V09 difference image, or any third-party check) is a *method*.
For each method, V25 combines the per-sector localizations on the sky — (east,
north) arcsec offsets from the target with their 2×2 covariances, so each
sector's roll angle and pixel grid drop out — into an inverse-covariance
weighted mean, tests their mutual agreement with χ² (2(K − 1) dof), and gives
each sector's pull (:mod:`vet_consistency.combine`).  Data Validation reports a
mean offset over quarters/sectors (Bryson et al. 2013, PASP 125, 889; Twicken
et al. 2018, PASP 130, 064502) but no verdict on whether they agree; that
verdict is V25's.

With a single sector the test uses the independent per-transit or per-orbit
localizations a method attaches as :attr:`Localization.epochs`; a single
localization (one sector, one transit) still gives a verdict, whose reason says
that consistency is untested.  Methods are not combined with each other (V08
and V09 measure the same pixels, so their errors are correlated); the verdict
follows one *primary* method, the others are reported alongside.

With a neighbour list (``Target.neighbours``), every star near the source is
weighed as the host by :func:`vetcore.hosts.attribute_hosts` (localization
likelihood × depth feasibility; Higgins & Bell 2023, TESS-Localize).

The check has the shape measure (:mod:`~vet_consistency.measure`) → decide
(:mod:`~vet_consistency.verdict`) → assemble (:mod:`~vet_consistency.assemble`);
its result declares the target's :class:`~vetcore.disposition.Disposition`.
"""

from __future__ import annotations

from vet_consistency.assemble import assemble
from vet_consistency.measure import CHECK_ID, Measurement, measure
from vet_consistency.verdict import decide
from vetcore import CheckResult, Params, TargetContext
from vetcore.hosts import HostTable, attribute_hosts

__all__ = ["CHECK_ID", "FLAGS", "hosts_for", "run"]

FLAGS: dict[str, str] = {
    "OFF_TARGET": "The combined source position is excluded from the target at ≥ sigma_threshold and lies "
    "beyond offset_floor_arcsec: the signal comes from another star.",
    "SECTORS_INCONSISTENT": "The localizations do not agree with each other (χ² p-value below "
    "consistency_p_threshold): systematics, underestimated errors, or a blend whose "
    "share of the aperture changes from sector to sector. With OFF_TARGET: every sector excludes the "
    "target on its own, so the signal is off target though its host position is uncertain.",
    "SINGLE_LOCALIZATION": "One independent localization (one sector with one transit): the verdict rests "
    "on it alone and consistency is untested.",
    "NO_LOCALIZATIONS": "No check returned a usable localization of the transit source: nothing to combine, "
    "so the verdict is inconclusive.",
    "EPOCH_BASIS": "Only one sector: consistency was tested across the independent transits or spacecraft "
    "orbits within it, not across sectors.",
    "ERRORS_SCALED": "The sectors scatter more than their errors (with the systematic floor) allow "
    "(χ²/dof > 1): the combined covariance was multiplied by the Birge ratio χ²/dof (PDG scale factor).",
    "LOCALIZATION_REJECTED": "Some localizations were left out: the check errored or was skipped, or the "
    "offset or covariance is non-finite or singular.",
    "CHECK_ERRORED": "A localizing check errored or was skipped in some sector, so that sector has no "
    "localization from it.",
    "OFFSET_BELOW_FLOOR": "The combined offset is statistically significant but smaller than "
    "offset_floor_arcsec, the systematic floor: not called off target.",
    "OFFSET_MARGINAL": "The combined offset lies between on_target_sigma and sigma_threshold: neither "
    "consistent with the target nor excluded from it.",
    "POOR_LOCALIZATION": "The 3σ confusion radius exceeds max_confusion_radius_pixels: the localization "
    "cannot tell the target from stars around it, so it is not called on target.",
    "NEIGHBOUR_IN_CONFUSION_RADIUS": "A listed star bright enough to produce the observed depth lies within "
    "the confusion radius of the source: the target cannot be singled out.",
    "NEIGHBOUR_NOT_EXCLUDED": "A listed star that could produce the depth lies within sigma_threshold of the "
    "source (with position_systematic_arcsec), where an off-target verdict would name it the host: the "
    "source is not called on target.",
    "NEIGHBOUR_LIKELY_HOST": "A listed star other than the target that could produce the depth has a "
    "relative host probability of rival_host_probability or more: the source is not called on target.",
    "PIXEL_SCALE_UNKNOWN": "No stamp or pixel covariance gives the pixel scale, so the confusion limit is "
    "undefined and the source is not called on target.",
    "METHODS_DISAGREE": "Two methods place the source differently within a sector (p-value below "
    "consistency_p_threshold, with summed covariances).",
    "METHOD_VERDICTS_DIFFER": "Another method, on its own, reaches a different verdict than the primary one; "
    "an on-target verdict contradicted by an off-target method becomes inconclusive.",
    "PRIMARY_METHOD_MISSING": "The requested primary_method has no usable localization; the most precise "
    "method was used instead.",
    "NO_NEIGHBOUR_LIST": "No neighbour list was given: the verdict rests on the confusion radius alone "
    "and no host is named among nearby stars.",
    "LIKELY_HOST_NOT_TARGET": "The most probable host in the neighbour list is not the target.",
    "HOST_NOT_LISTED": "The source is off target and no listed star that could produce the depth lies within "
    "sigma_threshold of it: the host may be fainter than the list's limit or unresolved.",
    "HOST_AMBIGUOUS": "A second candidate host has a probability of rival_host_probability (10 %) or more.",
}


def hosts_for(ctx: TargetContext, m: Measurement) -> HostTable | None:
    """The host table around the primary method's combined position (``None`` without a neighbour list)."""
    p: Params = ctx.params
    best = m.best
    if ctx.target.neighbours is None or best is None or not ctx.target.has_position:
        return None
    scale = m.pixel_scale_arcsec or 0.0
    return attribute_hosts(
        target=ctx.target,
        neighbours=ctx.target.neighbours,
        offset_arcsec=best.offset,
        covariance_arcsec2=best.covariance,
        stamps=ctx.stamps,
        depth_ppm=m.depth_ppm,
        search_radius_arcsec=p.host_search_radius_pixels * scale,
        psf_sigma_pixels=p.psf_sigma_pixels,
        systematic_arcsec=p.position_systematic_arcsec,
        match_arcsec=p.neighbour_match_arcsec,
        max_depth=p.max_host_depth,
    )


def run(ctx: TargetContext) -> CheckResult:
    """Run V25 on a target's per-sector results: measure → weigh hosts → decide → assemble."""
    measurement = measure(ctx)
    hosts = hosts_for(ctx, measurement)
    decision = decide(measurement, hosts, ctx.params)
    return assemble(ctx, measurement, hosts, decision)
