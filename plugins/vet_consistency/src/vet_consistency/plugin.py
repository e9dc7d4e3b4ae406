"""Entry point of the vet_consistency plugin: registers check V25."""

from __future__ import annotations

from collections.abc import Callable

from vet_consistency import __version__
from vet_consistency.check import CHECK_ID, FLAGS, run
from vet_consistency.plot import plot
from vetcore import Check, Param, hookimpl
from vetcore.hosts import HOST_PARAMS

VETCORE_API = 1

PARAMS = (
    Param(
        "sigma_threshold",
        3.5,
        "Combined offset significance (Mahalanobis distance √(dᵀC⁻¹d), the same measure as "
        "Localization.offset_sigma) at or above which the source is excluded from the target; also the "
        "largest σ at which a listed star is named as the host, and so the σ beyond which every listed star "
        "that could produce the depth must lie for on_target. With calibrated errors an on-target "
        "signal exceeds t by chance with probability exp(−t²/2): 1.1 % at 3σ, 0.22 % at 3.5σ.",
        minimum=0.5,
        maximum=20.0,
    ),
    Param(
        "on_target_sigma",
        3.0,
        "On target only when the combined offset is below this many σ (and the confusion radius within "
        "its limit); an offset between this and sigma_threshold is inconclusive (OFFSET_MARGINAL).",
        minimum=0.5,
        maximum=20.0,
    ),
    Param(
        "offset_floor_arcsec",
        2.0,
        "Systematic floor: a combined offset smaller than this is never called off target, however "
        "significant (≈ 0.1 TESS pixel, 0.5 Kepler pixel).",
        unit="arcsec",
        minimum=0.0,
        maximum=120.0,
    ),
    Param(
        "consistency_p_threshold",
        0.0027,
        "χ² p-value below which the localizations are declared inconsistent (0.0027 ≈ 3σ two-sided); "
        "also used for the per-sector agreement between methods.",
        minimum=0.0,
        maximum=0.5,
        exclusive_minimum=True,
    ),
    Param(
        "max_confusion_radius_pixels",
        1.0,
        "On target only when the 3σ confusion radius (3 × √λ_max of the combined covariance) is at most "
        "this many pixels (pixel scale from the stamps' WCS: 21″ TESS, 3.98″ Kepler); a larger radius "
        "cannot tell the target from its neighbours and gives inconclusive.",
        unit="pixel",
        minimum=0.0,
        maximum=20.0,
        exclusive_minimum=True,
    ),
    Param(
        "sector_systematic_pixels",
        0.03,
        "Systematic error (1σ, isotropic, in pixels of each stamp's own WCS scale) of one sector's "
        "localization — PSF-model, crowding and pixel-to-sky errors that a fit's formal error lacks and "
        "that do not shrink with S/N — added in quadrature to every sector's covariance (on top of any "
        "systematic error the method includes itself) before combining; independent between sectors, so "
        "it averages down as 1/√K (Bryson et al. 2013; Twicken et al. 2018). 0 trusts the formal errors.",
        unit="pixel",
        minimum=0.0,
        maximum=2.0,
    ),
    Param(
        "primary_method",
        "auto",
        "Check id whose combined localization decides the verdict, or 'auto': the most precise method "
        "(smallest confusion radius) among those that can be tested for consistency and whose confusion "
        "radius is within max_confusion_radius_pixels, else among all.",
        type="str",
    ),
    Param(
        "methods",
        "",
        "Comma-separated check ids to use; empty: every check that returns a localization.",
        type="str",
    ),
    Param(
        "psf_sigma_pixels",
        0.7,
        "Width (σ) of the circular Gaussian PSF used for each star's share of the aperture flux.",
        unit="pixel",
        minimum=0.1,
        maximum=10.0,
    ),
    Param(
        "position_systematic_arcsec",
        1.0,
        "Isotropic systematic error added in quadrature to the localization covariance when weighing hosts "
        "(catalogue positions, PSF-model errors).",
        unit="arcsec",
        minimum=0.0,
        maximum=60.0,
    ),
    *HOST_PARAMS,
    Param(
        "depth_metrics",
        "depth_ppm,aperture_sum_ppm",
        "Metrics of the localizing results read, in order, as the transit depth in the aperture (median "
        "over sectors) for the host feasibility; without them the ephemeris depth is used.",
        type="str",
    ),
)

CHECK = Check(
    id=CHECK_ID,
    title="Localization consistency across sectors",
    run=run,
    scope="target",
    version=__version__,
    summary="Combines every per-sector localization (V08, V09, …) on the sky, tests whether the sectors "
    "(or the transits of a single sector) agree, says whether the source is on the target (precisely "
    "enough to exclude its neighbours), off it, or undecided, weighs the listed neighbours as hosts, "
    "and declares the target's disposition.",
    params=PARAMS,
    flags=FLAGS,
    requires=(),
    plot=plot,
    plot_panels=1,
)


@hookimpl
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
