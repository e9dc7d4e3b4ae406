"""pytest fixtures for vetcore plugin authors (loaded through the ``pytest11`` entry point).

``synthetic_case(**kwargs)``
    :func:`vetcore.testing.make_stamp`, seeded from the test's node id (and a
    call counter), so every test gets its own reproducible noise.
``synthetic_sectors(n_sectors=3, **kwargs)``
    :func:`vetcore.testing.make_sectors`, seeded the same way.
``vetcore_plugin_manager(*plugins, builtins=True, disabled=())``
    An isolated :class:`vetcore.plugins.PluginManager`: no entry points are
    loaded, only vetcore's builtins and the ``plugins`` given (modules, objects
    with ``@hookimpl`` functions, or ``(name, plugin)`` tuples).
``run_check(check_or_id, case_or_stamp, ephemeris=None, **kwargs)``
    :func:`vetcore.testing.run_check`; check ids are looked up in the manager
    last made by ``vetcore_plugin_manager`` in the same test, if any, else in
    all installed plugins.

Example::

    def test_my_check_finds_the_neighbour(synthetic_case, vetcore_plugin_manager, run_check):
        vetcore_plugin_manager(my_plugin)
        case = synthetic_case(stars=[SyntheticStar(), SyntheticStar(east_arcsec=40.0)],
                              transit_star=1, snr=30.0)
        assert run_check("X42", case).status == "fail"

Importing this module is cheap: numpy, scipy and astropy load when a fixture is used.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import CheckResult
    from vetcore.plugins import PluginManager
    from vetcore.testing.synthetic import SyntheticCase


def _seeder(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Generators seeded by (CRC32 of the node id, call number): stable across runs."""
    import numpy as np

    base = zlib.crc32(request.node.nodeid.encode())
    counter = itertools.count()
    return lambda: np.random.default_rng([base, next(counter)])


@pytest.fixture
def synthetic_case(request: pytest.FixtureRequest) -> Callable[..., SyntheticCase]:
    """Factory: ``synthetic_case(**make_stamp_kwargs)`` → :class:`~vetcore.testing.SyntheticCase`."""
    from vetcore.testing.synthetic import make_stamp

    seed = _seeder(request)

    def factory(**kwargs: Any) -> SyntheticCase:
        kwargs.setdefault("seed", seed())
        return make_stamp(**kwargs)

    return factory


@pytest.fixture
def synthetic_sectors(request: pytest.FixtureRequest) -> Callable[..., list[SyntheticCase]]:
    """Factory: ``synthetic_sectors(n_sectors=3, **kwargs)`` → list of cases of one target."""
    from vetcore.testing.synthetic import make_sectors

    seed = _seeder(request)

    def factory(n_sectors: int = 3, **kwargs: Any) -> list[SyntheticCase]:
        kwargs.setdefault("seed", seed())
        return make_sectors(n_sectors, **kwargs)

    return factory


class IsolatedPluginManagers:
    """Makes plugin managers that ignore installed entry points; remembers the last one."""

    def __init__(self) -> None:
        self.last: PluginManager | None = None

    def __call__(self, *plugins: Any, builtins: bool = True, disabled: Iterable[str] = ()) -> PluginManager:
        from vetcore.plugins import PluginManager

        self.last = PluginManager(autoload=False, builtins=builtins, plugins=plugins, disabled=disabled)
        return self.last


@pytest.fixture
def vetcore_plugin_manager() -> IsolatedPluginManagers:
    """Factory: ``vetcore_plugin_manager(*plugins)`` → an isolated PluginManager (builtins + ``plugins``)."""
    return IsolatedPluginManagers()


@pytest.fixture
def run_check(request: pytest.FixtureRequest) -> Callable[..., CheckResult]:
    """:func:`vetcore.testing.run_check`, using this test's isolated plugin manager if it made one."""
    from vetcore.testing import run_check as run

    def runner(check_or_id: Any, case_or_stamp: Any, ephemeris: Any = None, **kwargs: Any) -> CheckResult:
        if "plugin_manager" not in kwargs and "vetcore_plugin_manager" in request.fixturenames:
            managers: IsolatedPluginManagers = request.getfixturevalue("vetcore_plugin_manager")
            if managers.last is not None:
                kwargs["plugin_manager"] = managers.last
        return run(check_or_id, case_or_stamp, ephemeris, **kwargs)

    return runner
