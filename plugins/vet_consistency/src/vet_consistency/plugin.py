"""Entry point of the vet_consistency plugin: registers check V25."""

from __future__ import annotations

from collections.abc import Callable

from vet_consistency import __version__
from vet_consistency.check import CHECK_ID, FLAGS, run
from vet_consistency.plot import plot
from vetcore import Check, Param, hookimpl

VETCORE_API = 1

PARAMS = (
    Param(
        "sigma_threshold",
        3.0,
        "Combined offset significance (Mahalanobis distance √(dᵀC⁻¹d), the same measure as "
        "Localization.offset_sigma) at or above which the source is excluded from the target.",
    ),
    Param(
        "offset_floor_arcsec",
        2.0,
        "Systematic floor: a combined offset smaller than this is never called off target, however "
        "significant (≈ 0.1 TESS pixel, 0.5 Kepler pixel).",
        unit="arcsec",
    ),
    Param(
        "consistency_p_threshold",
        0.0027,
        "χ² p-value below which the localizations are declared inconsistent (0.0027 ≈ 3σ two-sided); "
        "also used for the per-sector agreement between methods.",
    ),
    Param(
        "max_sigma_arcsec",
        10.0,
        "Combined 1σ uncertainty √(tr C/2) above which an on-target verdict is flagged POOR_PRECISION.",
        unit="arcsec",
    ),
    Param(
        "primary_method",
        "auto",
        "Check id whose combined localization decides the verdict, or 'auto': the most precise method "
        "(smallest error ellipse) among those that can be tested for consistency.",
        type="str",
    ),
    Param(
        "methods",
        "",
        "Comma-separated check ids to use; empty: every check that returns a localization.",
        type="str",
    ),
    Param(
        "catalog",
        "",
        "Table file (CSV/ECSV/FITS/VOTable) of nearby sources with ra, dec in degrees and optional id, "
        "mag columns, used to name the most likely host; empty: no catalogue.",
        type="str",
    ),
    Param(
        "catalog_radius_arcsec",
        120.0,
        "Catalogue sources farther than this from the target are ignored.",
        unit="arcsec",
    ),
    Param(
        "catalog_match_arcsec",
        2.0,
        "A catalogue source this close to the target is taken to be the target itself.",
        unit="arcsec",
    ),
)

CHECK = Check(
    id=CHECK_ID,
    title="Localization consistency across sectors",
    run=run,
    scope="target",
    version=__version__,
    summary="Combines every per-sector localization (V08, V09, …) on the sky, tests whether the sectors "
    "(or the transits of a single sector) agree, and says whether the combined source is on the "
    "target, off it, or whether the localizations disagree.",
    params=PARAMS,
    flags=FLAGS,
    requires=("localizations",),
    plot=plot,
    plot_panels=1,
)


@hookimpl
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
