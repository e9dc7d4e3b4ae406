"""``vetcore demo``: the whole pipeline on real pixels shipped inside the package.

Cases (data in ``vetcore/demo/data``, provenance in ``PROVENANCE.md`` there):

* ``toi5807`` — TOI-5807 (TIC 188646744), TESS sector 83, 2-min SPOC pixels cut to
  ±2 d around the two transits; a shallow (~250 ppm) candidate on a bright star.
* ``koi608`` — KOI-608 (KIC 5562784), Kepler Q10 long cadence; a known false
  positive whose transit source is a neighbour: the contrast case.

The data go through the same loaders as any user file.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import attrs

__all__ = ["CASES", "DemoCase", "run_case"]


@attrs.frozen
class DemoCase:
    """An embedded real data set with its published ephemeris."""

    name: str
    title: str
    filename: str
    period: float
    t0: float
    duration: float
    ra: float | None = None
    dec: float | None = None
    target: str | None = None
    note: str = ""


CASES: dict[str, DemoCase] = {
    case.name: case
    for case in (
        DemoCase(
            "toi5807", "TOI-5807 (TIC 188646744), TESS S83: shallow candidate on a bright star",
            "toi5807_tic188646744_s83.npz", period=14.2423724, t0=3540.26317, duration=4.046,
            ra=308.5672083, dec=43.3606889, target="TIC 188646744",
            note="ExoFOP ephemeris; expected: consistent with the target, within large errors",
        ),
        DemoCase(
            "koi608", "KOI-608 (KIC 5562784), Kepler Q10: false positive on a neighbour",
            "kplr005562784-2011271113734_lpd-targ.fits.gz", period=25.3368592, t0=192.91552, duration=8.85,
            note="expected: the transit source is offset from the target",
        ),
    )
}  # fmt: skip


def run_case(case: DemoCase, **vet_options: Any) -> Any:
    """Run :func:`vetcore.vet` on an embedded case; returns the report."""
    from vetcore.api import vet

    resource = files("vetcore.demo").joinpath("data", case.filename)
    with as_file(resource) as path:
        return vet(
            Path(path), period=case.period, t0=case.t0, duration=case.duration,
            target=case.target, ra=case.ra, dec=case.dec, **vet_options,
        )  # fmt: skip
