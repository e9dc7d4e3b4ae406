"""Shared fixtures of the core tests: small hand-built stamps, toy plugins, throwaway plugin packages."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.wcs import WCS

from vetcore import Check, CheckResult, Ephemeris, Param, Scope, Stamp, Status, Target, hookimpl

RA, DEC = 308.5672083, 43.3606889
PERIOD, T0, DURATION_H = 3.0, 1001.5035, 3.0  # t0 half a cadence off the grid: no edge cadences


def make_wcs(
    ra: float = RA,
    dec: float = DEC,
    *,
    target_pixel: tuple[float, float] = (5.0, 5.0),
    scale_arcsec: float = 21.0,
    roll_deg: float = 0.0,
) -> WCS:
    """A TAN WCS with the target at ``target_pixel`` (row, col), north up and east left at roll 0."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [target_pixel[1] + 1.0, target_pixel[0] + 1.0]  # FITS: 1-based (x=col, y=row)
    wcs.wcs.cdelt = [-scale_arcsec / 3600.0, scale_arcsec / 3600.0]
    c, s = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    wcs.wcs.pc = [[c, -s], [s, c]]
    return wcs


def build_stamp(
    *,
    sector: int = 1,
    mission: str = "TESS",
    shape: tuple[int, int] = (11, 11),
    n: int = 1440,
    t_start: float = 1000.0,
    cadence_seconds: float = 600.0,
    depth: float = 0.01,
    period: float = PERIOD,
    t0: float = T0,
    duration_hours: float = DURATION_H,
    roll_deg: float = 0.0,
    aperture: bool = True,
    seed: int = 0,
    source: str | None = None,
    target_id: str = "TIC 1",
    ra: float = RA,
    dec: float = DEC,
) -> Stamp:
    """One star on the target pixel with a box transit of fractional ``depth`` and white noise."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    centre = ((ny - 1) / 2.0, (nx - 1) / 2.0)
    time = t_start + np.arange(n) * cadence_seconds / 86400.0
    rows, cols = np.mgrid[0:ny, 0:nx]
    psf = np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * 1.2**2))
    phase = (time - t0 + 0.5 * period) % period - 0.5 * period
    model = 1.0 - depth * (np.abs(phase) < duration_hours / 48.0)
    flux = 1e4 * psf[None] * model[:, None, None] + 20.0
    flux = flux + rng.normal(0.0, 3.0, flux.shape)
    mask = (np.hypot(rows - centre[0], cols - centre[1]) <= 2.0) if aperture else np.zeros(shape, bool)
    bjd_ref = 2457000.0 if mission == "TESS" else 2454833.0
    return Stamp(
        mission=mission,
        sector=sector,
        time=time,
        flux=flux,
        flux_err=np.full(flux.shape, 3.0),
        wcs=make_wcs(
            ra, dec, target_pixel=centre, roll_deg=roll_deg, scale_arcsec=21.0 if mission == "TESS" else 3.98
        ),
        target=Target(target_id, ra, dec, magnitude=9.5),
        aperture_mask=mask,
        quality=np.zeros(n, int),
        cadence_seconds=cadence_seconds,
        time_system="BTJD" if mission == "TESS" else "BKJD",
        bjd_ref=bjd_ref,
        source=source if source is not None else f"synthetic-{mission}-{sector}.npz",
    )


def aperture_depth(ctx: Any) -> CheckResult:
    """Toy sector check: transit depth of the aperture light curve, with an optional failure threshold."""
    from vetcore.transits import in_transit_mask

    stamp = ctx.stamp
    lc = np.nansum(stamp.flux[:, stamp.aperture_mask], axis=1)
    intr = in_transit_mask(stamp, ctx.ephemeris)
    depth = 1.0 - np.median(lc[intr]) / np.median(lc[stamp.good & ~intr])
    status = Status.PASS if depth >= ctx.params.min_depth else Status.FAIL
    return CheckResult(
        status=status,
        metrics={"depth": depth, "n_in": int(intr.sum()), "not_measured": None},
        flags=("SHALLOW",) if status == Status.FAIL else (),
        message=f"depth {depth:.4f}",
    )


def count_sectors(ctx: Any) -> CheckResult:
    """Toy target check: how many sectors passed T01."""
    passed = sum(r["T01"].status == Status.PASS for r in ctx.results.values() if "T01" in r)
    return CheckResult(
        status=Status.PASS if passed == len(ctx.stamps) else Status.INCONCLUSIVE,
        metrics={"n_passed": passed, "labels": ",".join(ctx.results)},
    )


def explode(ctx: Any) -> CheckResult:
    raise RuntimeError("boom\nsecond line")


TOY_CHECKS = (
    Check(
        id="T01",
        title="Aperture depth",
        run=aperture_depth,
        version="1.2",
        params=(
            Param("min_depth", 0.005, "smallest depth that passes", unit="fraction"),
            Param("mode", "fast", "how to measure", type="str", choices=("fast", "slow")),
            Param("n_iter", 3, "iterations", type="int"),
        ),
        flags={"SHALLOW": "The aperture transit is shallower than min_depth."},
        requires=("pixels", "aperture"),
    ),
    Check(id="T02", title="Always crashes", run=explode),
    Check(id="T90", title="Sector count", run=count_sectors, scope=Scope.TARGET),
)


class ToyPlugin:
    """A programmatic plugin registering :data:`TOY_CHECKS`."""

    __version__ = "9.9"

    @hookimpl
    def vetcore_register_checks(self, register: Callable[[Check], None]) -> None:
        for check in TOY_CHECKS:
            register(check)


@pytest.fixture
def stamp_factory() -> Callable[..., Stamp]:
    """Factory for small synthetic stamps (see :func:`build_stamp`)."""
    return build_stamp


@pytest.fixture
def ephemeris() -> Ephemeris:
    return Ephemeris(period=PERIOD, t0=T0, duration_hours=DURATION_H, depth_ppm=10000.0)


@pytest.fixture
def toy_plugin() -> ToyPlugin:
    """A fresh instance of the toy plugin (checks T01, T02, T90)."""
    return ToyPlugin()


@pytest.fixture
def toy_pm() -> Any:
    """Plugin manager with the builtins and the toy checks only (no entry points)."""
    from vetcore.plugins import PluginManager

    return PluginManager(autoload=False, plugins=[("toy", ToyPlugin())])


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """Factory writing a throwaway plugin distribution (module + ``*.dist-info``) into a folder on sys.path.

    ``plugin_dist(module, source, ep_name=module, dist="dist-name", version="0.1")`` returns the
    folder; it is prepended to ``sys.path`` for in-process discovery and can be put on
    ``PYTHONPATH`` for subprocesses.  Imported modules are removed from ``sys.modules`` afterwards.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def factory(
        module: str, source: str, *, ep_name: str | None = None, dist: str | None = None, version: str = "0.1"
    ) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        dist = dist or module.replace("_", "-")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[vetcore]\n{ep_name or module} = {module}\n")
        monkeypatch.delitem(sys.modules, module, raising=False)
        return site

    yield factory
    for name in [p.stem for p in site.glob("*.py")]:
        sys.modules.pop(name, None)
