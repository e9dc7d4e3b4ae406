"""Test helpers for vetcore plugin authors: synthetic stamps, running one check, real data.

::

    from vetcore.testing import SyntheticStar, make_stamp, run_check

    case = make_stamp(stars=[SyntheticStar(), SyntheticStar(east_arcsec=42.0, flux=8e3)],
                      transit_star=1, snr=25.0, seed=3)
    result = run_check("V09", case, sigma_threshold=3.0)
    assert result.localization is not None

* :func:`make_stamp`, :func:`make_sectors`, :func:`make_wcs`, :class:`SyntheticStar`
  (:mod:`vetcore.testing.synthetic`): stamps with a known answer.
* :func:`vetcore.testing.population.draw_case` (import the module): a population of
  realistic simulated targets with their truth, for injection–recovery;
  :mod:`vetcore.testing.recovery` scores reports against it.
* :func:`run_check`: one check on one stamp (or one target), through the same
  runner as ``vetcore run`` (parameter validation, timing, error capture).
* :func:`with_neighbours`: the same stamp with a neighbour list around its target.
* :func:`shared_data`: the project's real data, or a skip (a failure under ``CI=true``).
* pytest fixtures (:mod:`vetcore.testing.pytest_plugin`, loaded automatically):
  ``synthetic_case``, ``synthetic_sectors``, ``vetcore_plugin_manager``, ``run_check``.

This package is imported by pytest in every run, so the synthetic factory
(scipy, astropy) is only imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vetcore.model import (
    Check,
    CheckResult,
    Ephemeris,
    LightCurve,
    Params,
    Scope,
    SectorContext,
    Stamp,
    TargetContext,
)
from vetcore.testing.data import shared_data
from vetcore.testing.files import save_npz

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.plugins import PluginManager
    from vetcore.testing.synthetic import (
        SyntheticCase,
        SyntheticStar,
        SyntheticTruth,
        make_sectors,
        make_stamp,
        make_wcs,
    )

__all__ = [
    "SyntheticCase",
    "SyntheticStar",
    "SyntheticTruth",
    "build_params",
    "make_sectors",
    "make_stamp",
    "make_wcs",
    "run_check",
    "save_npz",
    "shared_data",
    "with_neighbours",
]

_SYNTHETIC = {"SyntheticCase", "SyntheticStar", "SyntheticTruth", "make_sectors", "make_stamp", "make_wcs"}


def __getattr__(name: str) -> Any:
    if name in _SYNTHETIC:
        from vetcore.testing import synthetic

        return getattr(synthetic, name)
    raise AttributeError(f"module 'vetcore.testing' has no attribute {name!r}")


def build_params(check: Check, overrides: Mapping[str, Any]) -> Params:
    """The check's defaults overlaid with ``overrides``, validated as a ``[checks.<id>]`` config table.

    Unknown names and invalid values raise :class:`~vetcore.errors.ConfigError`
    (with a "did you mean" suggestion), exactly as in a configured run.
    """
    from vetcore.config import Config

    return Config(checks={check.id: dict(overrides)}, source="run_check").params_for(check)


def with_neighbours(stamp: Stamp, *rows: tuple[str, float, float, float]) -> Stamp:
    """``stamp`` whose target carries a neighbour list (``Target.neighbours``) of ``rows``:
    (id, east″, north″, mag) around the target's catalogue position."""
    import attrs

    from vetcore.neighbours import Neighbours, Star
    from vetcore.sky import offset_to_sky

    target = stamp.target
    if target.ra is None or target.dec is None:
        raise ValueError("with_neighbours needs a target with RA/Dec")
    stars = []
    for sid, east, north, mag in rows:
        ra, dec = offset_to_sky(east, north, target.ra, target.dec)
        stars.append(Star(sid, float(ra), float(dec), mag))
    listed = attrs.evolve(target, neighbours=Neighbours(stars, source="test list"))
    return attrs.evolve(stamp, target=listed)


def _stamp_and_ephemeris(item: Any, ephemeris: Ephemeris | None) -> tuple[Stamp, Ephemeris | None]:
    if isinstance(item, Stamp):
        return item, ephemeris
    stamp, own = getattr(item, "stamp", None), getattr(item, "ephemeris", None)
    if not isinstance(stamp, Stamp):
        raise TypeError(f"expected a Stamp or a SyntheticCase, got {type(item).__name__}")
    return stamp, ephemeris if ephemeris is not None else own


def run_check(
    check_or_id: Check | str,
    case_or_stamp: SyntheticCase | Stamp | Sequence[SyntheticCase | Stamp],
    ephemeris: Ephemeris | None = None,
    *,
    plugin_manager: PluginManager | None = None,
    results: Mapping[str, Mapping[str, CheckResult]] | None = None,
    stamps: Sequence[Stamp] | None = None,
    lightcurve: LightCurve | None = None,
    **params: Any,
) -> CheckResult:
    """Run one check the way ``vetcore run`` does and return its :class:`CheckResult`.

    ``check_or_id`` is a :class:`Check` or an id looked up in ``plugin_manager``
    (default: a :class:`vetcore.plugins.PluginManager` with all installed
    plugins).  ``params`` override the check's defaults and are validated.
    The ephemeris defaults to the synthetic case's own.

    A sector-scope check gets a :class:`SectorContext` of the one stamp (with
    ``lightcurve`` if given).  A target-scope check gets a :class:`TargetContext`
    whose stamps are ``stamps`` or those of ``case_or_stamp`` (one or a
    sequence), and whose per-sector ``results`` (``{stamp label: {check id:
    result}}``) are ``results`` (default: none).  Exceptions inside the check
    become an ``error`` result, as in a real run.
    """
    from vetcore.runner import execute_check

    if isinstance(check_or_id, Check):
        check = check_or_id
    else:
        check = (plugin_manager if plugin_manager is not None else _default_manager()).get_check(check_or_id)
    values = build_params(check, params)
    items = list(case_or_stamp) if isinstance(case_or_stamp, Sequence) else [case_or_stamp]
    if not items:
        raise ValueError("run_check needs at least one case or stamp")
    pairs = [_stamp_and_ephemeris(item, ephemeris) for item in items]
    ephem = next((e for _, e in pairs if e is not None), None)
    if ephem is None:
        raise ValueError("no ephemeris: pass one, or a SyntheticCase that carries it")
    ctx: SectorContext | TargetContext
    if check.scope is Scope.SECTOR:
        if len(pairs) != 1:
            raise ValueError(f"check {check.id} runs on one stamp at a time, got {len(pairs)}")
        ctx = SectorContext(stamp=pairs[0][0], ephemeris=ephem, params=values, lightcurve=lightcurve)
    else:
        all_stamps = tuple(stamps) if stamps is not None else tuple(s for s, _ in pairs)
        ctx = TargetContext(
            target=all_stamps[0].target,
            ephemeris=ephem,
            params=values,
            stamps=all_stamps,
            results=dict(results or {}),
        )
    return execute_check(check, ctx)


_MANAGER: list[PluginManager] = []


def _default_manager() -> PluginManager:
    """A full plugin manager, built once per process (entry-point scanning is slow)."""
    if not _MANAGER:
        from vetcore.plugins import PluginManager

        _MANAGER.append(PluginManager())
    return _MANAGER[0]
