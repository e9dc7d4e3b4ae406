"""Entry point of the vet_centroid plugin: registers check V08 (centroid shift)."""

from __future__ import annotations

from collections.abc import Callable

from vet_centroid import __version__
from vet_centroid.check import CHECK_ID, FLAGS, PARAMS, run
from vet_centroid.plot import plot
from vetcore import Check, Scope, hookimpl

VETCORE_API = 1

CHECK = Check(
    id=CHECK_ID,
    title="Centroid shift",
    run=run,
    scope=Scope.SECTOR,
    version=__version__,
    summary="Flux-weighted centroid shift in transit against local baselines, with errors from transit-free "
    "windows, turned into a source position (Bryson et al. 2013); fails when the source is off the target.",
    params=PARAMS,
    flags=FLAGS,
    requires=("pixels", "aperture"),
    plot=plot,
    plot_panels=2,
)


@hookimpl
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
