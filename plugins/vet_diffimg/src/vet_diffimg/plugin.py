"""Entry point of the vet_diffimg plugin: registers check V09 (difference-image localization)."""

from __future__ import annotations

from collections.abc import Callable

from vet_diffimg import __version__
from vet_diffimg.check import CHECK_ID, FLAGS, PARAMS, run
from vet_diffimg.plot import plot
from vetcore import Check, Scope, hookimpl

VETCORE_API = 1

CHECK = Check(
    id=CHECK_ID,
    title="Difference-image localization",
    run=run,
    scope=Scope.SECTOR,
    version=__version__,
    summary="Locates the transit source by a PSF fit to the out-of-transit minus in-transit image built "
    "from local baselines, with empirically calibrated errors (Bryson et al. 2013; Twicken et al. "
    "2018); fails when the source is excluded from the target.",
    params=PARAMS,
    flags=FLAGS,
    requires=("pixels", "aperture"),
    plot=plot,
    plot_panels=3,
    method="The difference image is built per transit: for every pixel, a baseline through windows on both "
    "sides of the transit (a line or parabola in time, whichever gives the lower empirical aperture noise "
    "with baseline = 'auto') is evaluated at the in-transit times and the in-transit flux subtracted, so "
    "drifts over the sector do not enter. Its noise is modelled as correlated between pixels: white "
    "noise plus the measured patterns of pointing jitter and of a sky plane, with amplitudes from "
    "transit-free windows. The source position is a generalised least-squares PSF fit under that model, "
    "its errors checked by the same fit on transit-free windows; it is called off the target only when "
    "a likelihood-ratio test also rejects the star itself.",
)


@hookimpl
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
