"""Entry point of the vet_oddeven plugin: registers check X01 (odd/even transit depth)."""

from __future__ import annotations

from collections.abc import Callable

from vet_oddeven import __version__
from vet_oddeven.check import CHECK_ID, FLAGS, PARAMS, run
from vet_oddeven.plot import plot
from vetcore import Check, Scope, hookimpl

#: The vetcore plugin API this module was written for (``vetcore.API_VERSION``).
VETCORE_API = 1

CHECK = Check(
    id=CHECK_ID,
    title="Odd/even transit depth",
    run=run,
    scope=Scope.SECTOR,
    version=__version__,
    summary="Per-transit depths of the aperture light curve against local baselines; fails when odd and "
    "even transits differ significantly in depth, the signature of an eclipsing binary at twice the "
    "period (Twicken et al. 2018).",
    params=PARAMS,
    flags=FLAGS,
    requires=("pixels", "aperture"),
    plot=plot,
    plot_panels=1,
)


@hookimpl
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
