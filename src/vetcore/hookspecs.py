"""The vetcore hook contract: everything a plugin can implement.

A plugin is any module or object with functions decorated by
:data:`vetcore.hookimpl` and named after the hooks below.  Plugins are found
through the ``vetcore`` entry-point group::

    # pyproject.toml of a plugin distribution
    [project.entry-points.vetcore]
    my_checks = "my_package.plugin"

vetcore's own loaders and renderers are plugins too (``vetcore.builtin.*``);
they implement the same hooks and can be disabled the same way.

Registration hooks receive a ``register`` callable; call it once per object::

    from vetcore import Check, Status, CheckResult, hookimpl

    def run(ctx):
        return CheckResult(status=Status.PASS, metrics={"n": ctx.stamp.n_cadences})

    @hookimpl
    def vetcore_register_checks(register):
        register(Check(id="X42", title="My check", run=run))

Beyond the hooks, two fields of the data model are part of the contract:

* ``Target.neighbours`` (:class:`vetcore.neighbours.Neighbours` or ``None``):
  the catalogued stars around the target given to the run (``--neighbours``);
  checks read it from ``ctx.target`` and may weigh them as hosts with
  :func:`vetcore.hosts.attribute_hosts` (a sector check's on-target answer:
  :func:`vetcore.hosts.sector_rivals`, tuned by ``vetcore.hosts.HOST_PARAMS``);
* ``CheckResult.disposition`` (:class:`vetcore.disposition.Disposition`): a
  check that answers "where is the source?" for the whole target declares the
  target's disposition there.  The report takes it from the target-scope
  results that declare one, else from the sector results
  (:func:`vetcore.disposition.report_disposition`); the core never looks for a
  check by id.

Compatibility: a plugin module may set ``VETCORE_API = 1`` (the major version of
this contract it was written for, :data:`API_VERSION`).  A plugin that declares
another major version is reported and skipped, never half-loaded.  Under that
version a plugin imports only the modules listed in :data:`PLUGIN_API` (its tests
also :data:`PLUGIN_TEST_API`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import Check, Loader, Renderer
    from vetcore.report import Report

PROJECT_NAME = "vetcore"

#: Major version of the hook contract and data model.  Plugins declare the one
#: they were written for as a module attribute ``VETCORE_API``.
API_VERSION = 1

#: The vetcore modules a plugin may import under ``VETCORE_API = 1``, with what it
#: finds there.  Everything else in vetcore is internal and may change without a
#: new API version.  ``tests/test_plugin_api.py`` checks every plugin in the repository.
PLUGIN_API: dict[str, str] = {
    "vetcore": "the data model (Stamp, Check, CheckResult, Localization, Param…), hookimpl, "
    "errors, vet(), load(), Report",
    "vetcore.errors": "VetcoreError, DataError, ConfigError, PluginError",
    "vetcore.mission": "mission facts: time systems, pixel scales, frame times, quality flags",
    "vetcore.sky": "pixel ↔ sky geometry through the WCS, sky offsets, Mahalanobis distance",
    "vetcore.transits": "in-transit / baseline windows and pointing-step geometry",
    "vetcore.verdicts": "the verdict vocabulary and the single-localization rule",
    "vetcore.neighbours": "neighbour lists (Target.neighbours): Star, Neighbours, table files, the TIC",
    "vetcore.hosts": "host attribution among neighbour stars: offset in σ, flux share, depth, probability",
    "vetcore.disposition": "Disposition, the per-target verdict a check declares in CheckResult.disposition",
    "vetcore.serialize": "JSON-ready values for metrics and plot data",
    "vetcore.plotting": "matplotlib helpers for a check's panels (import inside plot functions)",
}

#: What a plugin's own tests may import besides :data:`PLUGIN_API`.
PLUGIN_TEST_API: dict[str, str] = {
    "vetcore.testing": "synthetic stamps through a real WCS, shared data, pytest fixtures",
    "vetcore.plugins": "PluginManager, to load a plugin in isolation",
}
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def vetcore_register_checks(register: Callable[[Check], None]) -> None:
    """Register vetting checks: call ``register(check)`` once per :class:`~vetcore.model.Check`.

    Check ids are global: a second plugin registering an existing id is an
    error that names both plugins.
    """


@hookspec
def vetcore_register_loaders(register: Callable[[Loader], None]) -> None:
    """Register data loaders: call ``register(loader)`` once per :class:`~vetcore.model.Loader`.

    For each source the accepting loader with the highest ``priority`` wins.
    """


@hookspec
def vetcore_register_renderers(register: Callable[[Renderer], None]) -> None:
    """Register report renderers: call ``register(renderer)`` once per :class:`~vetcore.model.Renderer`.

    Renderer names (``json``, ``html``, ``png``…) are what ``--format`` selects.
    """


@hookspec
def vetcore_report_finished(report: Report) -> None:
    """Called once per target on its complete report (every sector, the target-level
    results and the timings), before any renderer runs; nothing changes the report
    afterwards.  In a batch it runs in the worker process that finished the target.

    For side effects only (logging, notifications, extra bookkeeping); the
    report must not be modified.  Exceptions are caught and recorded.
    """


@hookspec
def vetcore_configure(config: dict[str, Any]) -> None:
    """Called with the effective configuration once in every process that loads data or
    runs checks — the ``vetcore run`` process, each batch worker (process pool or
    Dask) — before its first load or check (see :class:`vetcore.session.Session`).

    Plugins may read their own ``[plugins.<name>]`` table from it.
    """
