"""Plugin discovery and registration (a thin layer over pluggy).

:class:`PluginManager` registers, in this order:

1. vetcore's own plugins (:data:`BUILTIN_PLUGINS`, origin ``"builtin"``);
2. every entry point of the ``vetcore`` group (origin: the distribution's name
   and version), unless autoloading is off — ``autoload=False`` or the
   environment variable ``VETCORE_DISABLE_PLUGIN_AUTOLOAD`` set to a non-empty
   value (as ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` does for pytest);
3. plugin objects passed as ``plugins=`` (modules, objects or ``(name, obj)``).

Each plugin's registration hooks are then called with a ``register`` callable.
A plugin that fails to import, declares another ``VETCORE_API`` than
:data:`vetcore.API_VERSION`, implements an unknown hook, or raises while
registering is recorded with a one-line error and left out entirely (nothing
it registered is kept).  Two plugins registering the same check id, loader or
renderer name is a :class:`~vetcore.errors.PluginError` naming both.
"""

from __future__ import annotations

import functools
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from importlib import metadata as importlib_metadata
from typing import Any

import attrs
import pluggy

from vetcore import hookspecs
from vetcore.errors import ConfigError, PluginError, did_you_mean
from vetcore.hookspecs import API_VERSION
from vetcore.model import Check, Loader, Renderer
from vetcore.requirements import REQUIREMENTS
from vetcore.version import __version__

__all__ = [
    "AUTOLOAD_ENV",
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginManager",
    "PluginRecord",
]

#: vetcore's own plugin modules, registered like any external plugin.
BUILTIN_PLUGINS: tuple[str, ...] = ("vetcore.builtin.loaders", "vetcore.builtin.renderers")

ENTRY_POINT_GROUP = "vetcore"
AUTOLOAD_ENV = "VETCORE_DISABLE_PLUGIN_AUTOLOAD"

_REGISTRATION_HOOKS = {
    "vetcore_register_checks": ("checks", Check),
    "vetcore_register_loaders": ("loaders", Loader),
    "vetcore_register_renderers": ("renderers", Renderer),
}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@attrs.define
class PluginRecord:
    """What is known about one plugin: where it came from and what it registered.

    ``error`` is a one-line reason when the plugin was skipped; ``traceback``
    holds the full traceback of that error, if any.  ``disabled`` plugins were
    named in ``disabled`` and never imported.
    """

    name: str
    origin: str
    version: str = ""
    module: str = ""
    hooks: list[str] = attrs.field(factory=list)
    checks: list[str] = attrs.field(factory=list)
    loaders: list[str] = attrs.field(factory=list)
    renderers: list[str] = attrs.field(factory=list)
    error: str | None = None
    traceback: str | None = attrs.field(default=None, repr=False)
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the traceback)."""
        return {
            "name": self.name,
            "version": self.version,
            "origin": self.origin,
            "module": self.module,
            "hooks": list(self.hooks),
            "checks": list(self.checks),
            "loaders": list(self.loaders),
            "renderers": list(self.renderers),
            "disabled": self.disabled,
            "error": self.error,
        }


class PluginManager:
    """Finds, registers and validates vetcore plugins; collects what they register.

    Parameters
    ----------
    autoload
        Load entry points of the ``vetcore`` group.  ``None`` (default) loads
        them unless ``VETCORE_DISABLE_PLUGIN_AUTOLOAD`` is set to a non-empty value.
    disabled
        Plugin names not to load: entry-point names, or builtin module names
        (full, ``"vetcore.builtin.renderers"``, or short, ``"renderers"``).
    plugins
        Extra plugins registered after the others: modules, objects with
        ``@hookimpl`` methods, or ``(name, plugin)`` tuples.
    builtins
        Register :data:`BUILTIN_PLUGINS`.

    Attributes
    ----------
    checks
        ``{check_id: Check}`` sorted by id, each with ``Check.plugin`` set.
    loaders
        Loaders sorted by descending ``priority`` (registration order on ties).
    renderers
        ``{name: Renderer}``.
    event_errors
        ``(plugin, hook, error)`` of exceptions raised by event hooks.
    """

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        disabled: Iterable[str] = (),
        plugins: Iterable[Any] = (),
        builtins: bool = True,
    ) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._records: list[PluginRecord] = []
        self._disabled = set(disabled)
        self.checks: dict[str, Check] = {}
        self.loaders: list[Loader] = []
        self.renderers: dict[str, Renderer] = {}
        self.event_errors: list[tuple[str, str, str]] = []
        if autoload is None:
            autoload = not os.environ.get(AUTOLOAD_ENV)
        self.autoload = autoload

        if builtins:
            for module_name in BUILTIN_PLUGINS:
                short = module_name.rsplit(".", 1)[-1]
                record = PluginRecord(
                    name=module_name, origin="builtin", version=__version__, module=module_name
                )
                if self._skip_disabled(record, module_name, short):
                    continue
                self._add(record, functools.partial(import_module, module_name))
        if autoload:
            for ep in _entry_points():
                dist = ep.dist
                version = dist.version if dist is not None else ""
                origin = f"{dist.name} {version}" if dist is not None else f"entry point {ep.value}"
                record = PluginRecord(name=ep.name, origin=origin, version=version, module=ep.value)
                if self._skip_disabled(record, ep.name):
                    continue
                self._add(record, ep.load)
        for item in plugins:
            name, obj = item if isinstance(item, tuple) else (_default_name(item), item)
            record = PluginRecord(
                name=name,
                origin="programmatic",
                version=str(getattr(obj, "__version__", "")),
                module=getattr(obj, "__name__", type(obj).__name__),
            )
            if self._skip_disabled(record, name):
                continue
            self._add(record, functools.partial(_identity, obj))
        self.checks = dict(sorted(self.checks.items()))
        self.loaders.sort(key=lambda loader: -loader.priority)

    # -- registration ---------------------------------------------------------------
    def _skip_disabled(self, record: PluginRecord, *names: str) -> bool:
        if self._disabled.intersection(names):
            record.disabled = True
            self._records.append(record)
            return True
        return False

    def _add(self, record: PluginRecord, load: Callable[[], Any]) -> None:
        """Import, check, register and collect one plugin; record any failure."""
        self._records.append(record)
        if self._pm.has_plugin(record.name):
            record.error = f"another plugin is already registered under the name {record.name!r}"
            return
        try:
            plugin = load()
        except Exception as exc:
            record.error, record.traceback = _one_line(exc), traceback.format_exc()
            return
        api = getattr(plugin, "VETCORE_API", None)
        if api is not None and api != API_VERSION:
            newer = isinstance(api, int) and api > API_VERSION
            record.error = (
                f"plugin {record.name} was written for vetcore API {api!r}, this core provides API "
                f"{API_VERSION}; upgrade {'vetcore' if newer else 'the plugin'} "
                f"or disable it (--disable-plugin {record.name})"
            )
            return
        try:
            self._pm.register(plugin, name=record.name)
        except Exception as exc:
            record.error = _one_line(exc)
            return
        record.hooks = sorted(hc.name for hc in self._pm.get_hookcallers(plugin) or ())
        unknown = [h for h in record.hooks if getattr(self._pm.hook, h).spec is None]
        if unknown:
            self._pm.unregister(plugin)
            record.error = f"implements unknown hook {unknown[0]!r} (not in vetcore.hookspecs)"
            return
        try:
            staged = self._call_registration_hooks(record.name)
        except Exception as exc:
            self._pm.unregister(plugin)
            record.error, record.traceback = _one_line(exc), traceback.format_exc()
            return
        self._commit(record, staged)

    def _call_registration_hooks(self, name: str) -> dict[str, list[Any]]:
        """Call ``name``'s registration hooks; return what it registered, validated."""
        staged: dict[str, list[Any]] = {kind: [] for kind, _ in _REGISTRATION_HOOKS.values()}
        for hook_name, (kind, cls) in _REGISTRATION_HOOKS.items():
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name != name:
                    continue

                def register(obj: Any, _kind: str = kind, _cls: type = cls) -> None:
                    if not isinstance(obj, _cls):
                        raise TypeError(f"register() expects a {_cls.__name__}, got {type(obj).__name__}")
                    staged[_kind].append(_validated(obj))

                impl.function(**({"register": register} if "register" in impl.argnames else {}))
        return staged

    def _commit(self, record: PluginRecord, staged: Mapping[str, list[Any]]) -> None:
        """Add a plugin's objects to the collections; duplicates raise PluginError."""
        owners = {
            "check id": {c.id: c.plugin for c in self.checks.values()},
            "loader": {ld.name: ld.plugin for ld in self.loaders},
            "renderer": {r.name: r.plugin for r in self.renderers.values()},
        }
        for what, kind, key in (
            ("check id", "checks", "id"),
            ("loader", "loaders", "name"),
            ("renderer", "renderers", "name"),
        ):
            seen = owners[what]
            for obj in staged[kind]:
                ident = getattr(obj, key)
                if ident in seen:
                    first = seen[ident] or "?"
                    raise PluginError(
                        f"{what} {ident!r} is registered by both plugin {first!r} and plugin "
                        f"{record.name!r}; disable one with --disable-plugin NAME "
                        f"(or [plugins] disable in vetcore.toml)"
                    )
                seen[ident] = record.name
        for check in staged["checks"]:
            self.checks[check.id] = attrs.evolve(check, plugin=record.name)
            record.checks.append(check.id)
        for loader in staged["loaders"]:
            self.loaders.append(attrs.evolve(loader, plugin=record.name))
            record.loaders.append(loader.name)
        for renderer in staged["renderers"]:
            self.renderers[renderer.name] = attrs.evolve(renderer, plugin=record.name)
            record.renderers.append(renderer.name)

    # -- queries --------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay (prefer :meth:`call_event`, which isolates failures)."""
        return self._pm.hook

    @property
    def records(self) -> list[PluginRecord]:
        """One record per plugin considered, in registration order."""
        return list(self._records)

    @property
    def load_errors(self) -> list[PluginRecord]:
        """Records of plugins that were skipped because of an error."""
        return [r for r in self._records if r.error]

    def plugin_info(self) -> list[dict[str, Any]]:
        """JSON-ready list of :meth:`PluginRecord.to_dict`, in registration order."""
        return [r.to_dict() for r in self._records]

    def plugin_names(self) -> list[str]:
        """Names of every plugin considered (loaded, disabled or failed)."""
        return [r.name for r in self._records]

    def unknown_disabled(self) -> list[str]:
        """Names given to ``disabled`` that match no plugin (builtins also answer to their short
        name, e.g. ``loaders``); empty when entry points were not searched (autoload off)."""
        if not self.autoload:
            return []
        known = set(self.plugin_names()) | {n.rsplit(".", 1)[-1] for n in BUILTIN_PLUGINS}
        return sorted(set(self._disabled) - known)

    def get_check(self, check_id: str) -> Check:
        """The check registered under ``check_id``; :class:`ConfigError` with a suggestion if none."""
        try:
            return self.checks[check_id]
        except KeyError:
            raise ConfigError(
                f"unknown check {check_id!r}{did_you_mean(check_id, self.checks)} "
                f"(installed: {', '.join(self.checks) or 'none'})"
            ) from None

    def get_renderer(self, name: str) -> Renderer:
        """The renderer called ``name``; :class:`ConfigError` listing the available ones if none."""
        try:
            return self.renderers[name]
        except KeyError:
            raise ConfigError(
                f"unknown output format {name!r}{did_you_mean(name, self.renderers)} "
                f"(available: {', '.join(sorted(self.renderers)) or 'none'})"
            ) from None

    # -- event hooks ----------------------------------------------------------------
    def call_event(self, hook_name: str, **kwargs: Any) -> list[tuple[str, str, str]]:
        """Call every implementation of an event hook, isolating failures.

        An exception in one plugin is recorded in :attr:`event_errors` (and
        returned) as ``(plugin, hook, one-line error)``; the other plugins still run.
        """
        caller = getattr(self._pm.hook, hook_name)
        errors = []
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as exc:
                errors.append((impl.plugin_name, hook_name, _one_line(exc)))
        self.event_errors.extend(errors)
        return errors


def _validated(obj: Any) -> Any:
    """Reject registrations the runner could not honour."""
    if isinstance(obj, Check):
        unknown = [r for r in obj.requires if r not in REQUIREMENTS]
        if unknown:
            raise ValueError(
                f"check {obj.id} requires unknown data {unknown[0]!r} (known: {', '.join(REQUIREMENTS)})"
            )
    return obj


def _identity(obj: Any) -> Any:
    return obj


def _default_name(obj: Any) -> str:
    return str(getattr(obj, "__name__", None) or type(obj).__name__)


def _entry_points() -> list[importlib_metadata.EntryPoint]:
    """Entry points of the ``vetcore`` group, deduplicated, sorted by name."""
    seen: dict[tuple[str, str], importlib_metadata.EntryPoint] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault((ep.name, ep.value), ep)
    return sorted(seen.values(), key=lambda ep: ep.name)
