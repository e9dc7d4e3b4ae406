"""Run configuration: which checks run, with which parameters, and how data is read.

The configuration is a TOML file given with ``--config FILE``; without that
option the CLI reads ``vetcore.toml`` from the working folder when there is one
(the Python API reads a file only when given one).  Every table and key is
optional::

    [select]
    include = ["V08", "V09", "V2*", "plugin:vet_diffimg"]  # ids, fnmatch globs or plugin:NAME; default: all
    exclude = []                                           # same forms, removed from the selection

    [plugins]
    disable = ["vet_x"]        # plugins not to load (entry-point names)
    [plugins.vet_y]            # free-form settings a plugin reads in its vetcore_configure hook
    api_url = "https://…"

    [output]
    formats = ["json"]         # renderer names (see ``vetcore plugins``); default: ["json"]

    [data]
    cache_dir = "~/.cache/vetcore"   # relative paths are relative to the config file
    offline = false                  # never touch the network
    quality_bitmask = "default"      # "default", "hard", "hardest", "none" or an integer

    [run]
    check_time_limit_s = 1800        # a check running longer on one stamp is stopped (an error)

    [checks.V08]               # parameters of one check (see ``vetcore checks --params V08``)
    sigma_threshold = 3.0

A check list given on the command line (``--checks``) replaces ``[select]``.
Every error is a one-line :class:`~vetcore.errors.ConfigError` naming the file
and the key, with a suggestion for misspelled names.  Check ids and parameters
are validated against the installed plugins by :meth:`Config.validate` (called
by :meth:`Config.select_checks`).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from vetcore.errors import ConfigError, did_you_mean
from vetcore.integrity import TIME_LIMIT_PARAM
from vetcore.mission import QUALITY_PRESETS
from vetcore.model import Check, Params, Scope

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.plugins import PluginManager

__all__ = ["CONFIG_FILE", "Config", "as_config", "load_config"]

#: File read from the working folder when no ``--config`` is given.
CONFIG_FILE = "vetcore.toml"


_KEYS: dict[str, tuple[str, ...]] = {
    "select": ("include", "exclude"),
    "plugins": ("disable",),
    "output": ("formats",),
    "data": ("cache_dir", "offline", "quality_bitmask"),
    "run": ("check_time_limit_s",),
    "checks": (),
}
_SCALARS = (str, int, float, bool)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


@attrs.frozen
class Config:
    """A validated run configuration (see the module docstring for the file layout).

    ``include=None`` selects every installed check.  ``checks`` maps check ids to
    raw parameter overrides; they are checked against each check's declared
    :class:`~vetcore.model.Param` by :meth:`validate`.  ``source`` names where the
    configuration came from (a file path, ``"config"`` for a dict, ``None`` for defaults).
    """

    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    disable_plugins: tuple[str, ...] = ()
    plugin_settings: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    formats: tuple[str, ...] | None = None
    cache_dir: str | None = None
    offline: bool = False
    quality_bitmask: str | int = "default"
    checks: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    source: str | None = None
    check_time_limit_s: float = TIME_LIMIT_PARAM.default

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str = "config", base_dir: Path | None = None
    ) -> Config:
        """Build a configuration from parsed TOML (or an equivalent dict).

        Raises :class:`ConfigError` for unknown tables or keys and wrong types.
        ``base_dir`` anchors a relative ``data.cache_dir``.
        """

        def fail(key: str, problem: str) -> ConfigError:
            return ConfigError(f"{source}: {key}: {problem}")

        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: expected a table of settings, got {_describe(data)}")
        for table, body in data.items():
            if table not in _KEYS:
                raise fail(table, f"unknown table{did_you_mean(table, _KEYS)} (known: {', '.join(_KEYS)})")
            if not isinstance(body, Mapping):
                raise fail(table, f"expected a table, got {_describe(body)}")
            for key, value in body.items():
                if table == "checks" or (table == "plugins" and isinstance(value, Mapping)):
                    continue
                if key not in _KEYS[table]:
                    known = ", ".join(_KEYS[table])
                    raise fail(
                        f"{table}.{key}", f"unknown key{did_you_mean(key, _KEYS[table])} (known: {known})"
                    )

        def section(name: str) -> Mapping[str, Any]:
            return data.get(name, {})

        def strings(table: str, key: str) -> tuple[str, ...] | None:
            value = section(table).get(key)
            if value is None:
                return None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(f"{table}.{key}", f"expected a list of strings, got {_describe(value)}")
            return tuple(value)

        checks: dict[str, dict[str, Any]] = {}
        for check_id, values in section("checks").items():
            if not isinstance(values, Mapping):
                raise fail(f"checks.{check_id}", f"expected a table of parameters, got {_describe(values)}")
            for name, value in values.items():
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(v, _SCALARS) for v in items):
                    raise fail(
                        f"checks.{check_id}.{name}",
                        f"expected a number, string, boolean or a list of them, got {_describe(value)}",
                    )
            checks[check_id] = dict(values)

        data_opts = section("data")
        cache_dir = data_opts.get("cache_dir")
        if cache_dir is not None:
            if not isinstance(cache_dir, str):
                raise fail("data.cache_dir", f"expected a path string, got {_describe(cache_dir)}")
            path = Path(cache_dir).expanduser()
            cache_dir = str(base_dir / path if base_dir is not None and not path.is_absolute() else path)
        offline = data_opts.get("offline", False)
        if not isinstance(offline, bool):
            raise fail("data.offline", f"expected true or false, got {_describe(offline)}")
        bitmask = data_opts.get("quality_bitmask", "default")
        if isinstance(bitmask, bool) or not (
            (isinstance(bitmask, int) and bitmask >= 0) or bitmask in QUALITY_PRESETS
        ):
            raise fail(
                "data.quality_bitmask",
                f"expected one of {', '.join(QUALITY_PRESETS)} or a non-negative integer, "
                f"got {_describe(bitmask)}",
            )

        limit = section("run").get(TIME_LIMIT_PARAM.name, TIME_LIMIT_PARAM.default)
        try:
            limit = TIME_LIMIT_PARAM.coerce(limit)
        except (TypeError, ValueError) as exc:
            raise fail(f"run.{TIME_LIMIT_PARAM.name}", str(exc)) from None

        return cls(
            include=strings("select", "include"),
            exclude=strings("select", "exclude") or (),
            disable_plugins=strings("plugins", "disable") or (),
            plugin_settings={k: dict(v) for k, v in section("plugins").items() if isinstance(v, Mapping)},
            formats=strings("output", "formats"),
            cache_dir=cache_dir,
            offline=offline,
            quality_bitmask=bitmask,
            checks=checks,
            source=source,
            check_time_limit_s=limit,
        )

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (e.g. command-line overrides)."""
        return attrs.evolve(self, **changes)

    # -- validation against the installed plugins ----------------------------------------
    def _fail(self, key: str, problem: str) -> ConfigError:
        if key.startswith("--"):  # a command-line option, not a key of the configuration
            return ConfigError(f"{key}: {problem}")
        return ConfigError(f"{self.source or 'config'}: {key}: {problem}")

    def validate(self, pm: PluginManager) -> None:
        """Check ids, parameters, plugin names and formats against what ``pm`` has loaded."""
        for check_id, values in self.checks.items():
            check = self._known_check(pm, check_id, f"checks.{check_id}", "unknown check")
            for name, value in values.items():
                self._coerce(check, name, value)
        for key, patterns in (("select.include", self.include or ()), ("select.exclude", self.exclude)):
            for pattern in patterns:
                self._match(pm, pattern, key)
        names = pm.plugin_names()
        for name in pm.unknown_disabled():
            key = "plugins.disable" if name in self.disable_plugins else "--disable-plugin"
            raise self._fail(
                key,
                f"no plugin named {name!r}{did_you_mean(name, names)} (known: {', '.join(names) or 'none'})",
            )
        for name in self.plugin_settings:
            if name not in names:
                raise self._fail(
                    f"plugins.{name}",
                    f"no such plugin{did_you_mean(name, names)} (known: {', '.join(names) or 'none'})",
                )
        for fmt in self.formats or ():
            if fmt not in pm.renderers:
                raise self._fail(
                    "output.formats",
                    f"unknown format {fmt!r}{did_you_mean(fmt, pm.renderers)} "
                    f"(available: {', '.join(sorted(pm.renderers)) or 'none'})",
                )

    def _known_check(self, pm: PluginManager, check_id: str, key: str, problem: str) -> Check:
        if check_id in pm.checks:
            return pm.checks[check_id]
        missing = [r.name for r in pm.records if r.disabled or r.error]
        hint = f" (not loaded: {', '.join(missing)})" if missing else ""
        raise self._fail(key, f"{problem}{did_you_mean(check_id, pm.checks)}{hint}")

    def _coerce(self, check: Check, name: str, value: Any) -> Any:
        key = f"checks.{check.id}.{name}"
        try:
            param = check.param(name)
        except KeyError:
            known = [p.name for p in check.params]
            raise self._fail(key, f"unknown parameter{did_you_mean(name, known)}") from None
        try:
            return param.coerce(value)
        except (TypeError, ValueError) as exc:
            raise self._fail(key, str(exc)) from None

    def _match(self, pm: PluginManager, pattern: str, key: str) -> list[str]:
        """Check ids selected by one pattern: an id, a glob, or ``plugin:NAME``."""
        if pattern.startswith("plugin:"):
            name = pattern.removeprefix("plugin:")
            names = pm.plugin_names()
            if name not in names:
                raise self._fail(key, f"unknown plugin {name!r}{did_you_mean(name, names)}")
            return [c.id for c in pm.checks.values() if c.plugin == name]
        if any(ch in pattern for ch in "*?["):
            ids = fnmatch.filter(pm.checks, pattern)
            if not ids:
                raise self._fail(
                    key,
                    f"{pattern!r} matches no installed check (installed: {', '.join(pm.checks) or 'none'})",
                )
            return ids
        return [self._known_check(pm, pattern, key, f"unknown check {pattern!r}").id]

    # -- use ------------------------------------------------------------------------------
    def select_checks(self, pm: PluginManager, cli_checks: Sequence[str] | None = None) -> list[Check]:
        """The checks to run, sector-scope first, each group sorted by id.

        ``cli_checks`` (ids, globs or ``plugin:NAME``) replaces ``[select]``.
        Validates the whole configuration first.
        """
        self.validate(pm)
        include: Sequence[str] | None
        if cli_checks is not None:
            include, exclude, key = list(cli_checks), [], "--checks"
        else:
            include, exclude, key = self.include, list(self.exclude), "select.include"
        chosen = set(pm.checks) if include is None else {i for p in include for i in self._match(pm, p, key)}
        chosen -= {i for p in exclude for i in self._match(pm, p, "select.exclude")}
        if not chosen:
            raise self._fail(key, f"no check selected (installed: {', '.join(pm.checks) or 'none'})")
        checks = [pm.checks[i] for i in sorted(chosen)]
        return sorted(checks, key=lambda c: c.scope != Scope.SECTOR)

    def params_for(self, check: Check) -> Params:
        """The check's defaults overlaid with the validated values of ``[checks.<id>]``."""
        values = dict(check.default_params())
        for name, value in self.checks.get(check.id, {}).items():
            values[name] = self._coerce(check, name, value)
        return Params(values)

    def effective(self, pm: PluginManager, selected: Sequence[Check] | None = None) -> dict[str, Any]:
        """Plain, JSON-ready record of the configuration a run actually used.

        Holds every selected check's full parameter set (defaults included), the
        selection rules, output formats, data options and the source file.
        """
        if selected is None:
            selected = self.select_checks(pm)
        plugins: dict[str, Any] = {"disable": list(self.disable_plugins)}
        plugins.update({k: dict(v) for k, v in self.plugin_settings.items()})
        return {
            "source": self.source,
            "select": {
                "include": None if self.include is None else list(self.include),
                "exclude": list(self.exclude),
            },
            "selected": [c.id for c in selected],
            "checks": {c.id: dict(self.params_for(c)) for c in selected},
            "plugins": plugins,
            "output": {"formats": list(self.formats or ("json",))},
            "data": {
                "cache_dir": self.cache_dir,
                "offline": self.offline,
                "quality_bitmask": self.quality_bitmask,
            },
            "run": {TIME_LIMIT_PARAM.name: self.check_time_limit_s},
        }


def load_config(
    path: str | os.PathLike[str] | None = None, cwd: str | os.PathLike[str] | None = None
) -> Config:
    """Read a TOML configuration file.

    With ``path=None``, reads ``vetcore.toml`` from ``cwd`` (default: the
    working folder) if it exists, else returns the defaults.
    """
    if path is None:
        candidate = Path(cwd if cwd is not None else os.getcwd()) / CONFIG_FILE
        if not candidate.is_file():
            return Config()
        path = candidate
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    import tomllib  # only when there is a file to read

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return Config.from_dict(data, source=str(path), base_dir=path.resolve().parent)


def as_config(value: Config | Mapping[str, Any] | str | os.PathLike[str] | None) -> Config:
    """Accept a :class:`Config`, a dict in the file layout, a path to a TOML file, or ``None`` (defaults)."""
    if value is None:
        return Config()
    if isinstance(value, Config):
        return value
    if isinstance(value, Mapping):
        return Config.from_dict(value)
    if isinstance(value, (str, os.PathLike)):
        return load_config(value)
    raise ConfigError(f"config must be a path, a dict or a Config, got {type(value).__name__}")
