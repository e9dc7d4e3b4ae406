"""PluginManager: registration, discovery through entry points, isolation of broken plugins."""

from __future__ import annotations

import types

import pytest

import vetcore
from vetcore import Check, CheckResult, Loader, Status, hookimpl
from vetcore.errors import ConfigError, PluginError
from vetcore.plugins import AUTOLOAD_ENV, PluginManager

GOOD_PLUGIN = """
from vetcore import Check, CheckResult, Status, hookimpl

VETCORE_API = 1

def _run(ctx):
    return CheckResult(status=Status.PASS, message="ok from {name}")

@hookimpl
def vetcore_register_checks(register):
    register(Check(id="{check_id}", title="throwaway", run=_run, version="0.7"))
"""


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def _check(check_id: str) -> Check:
    return Check(id=check_id, title=check_id, run=lambda ctx: CheckResult(status=Status.PASS))


def _checks_plugin(*check_ids: str) -> object:
    @hookimpl
    def vetcore_register_checks(register):
        for cid in check_ids:
            register(_check(cid))

    return _module("p", vetcore_register_checks=vetcore_register_checks)


def test_programmatic_plugin_is_collected_with_its_name(toy_pm):
    assert list(toy_pm.checks) == ["T01", "T02", "T90"]
    assert {c.plugin for c in toy_pm.checks.values()} == {"toy"}
    assert toy_pm.renderers["json"].plugin == "vetcore.builtin.renderers"
    info = {r["name"]: r for r in toy_pm.plugin_info()}
    assert info["toy"] == {
        "name": "toy",
        "version": "9.9",
        "origin": "programmatic",
        "module": "ToyPlugin",
        "hooks": ["vetcore_register_checks"],
        "checks": ["T01", "T02", "T90"],
        "loaders": [],
        "renderers": [],
        "disabled": False,
        "error": None,
    }
    assert info["vetcore.builtin.renderers"]["origin"] == "builtin"
    assert info["vetcore.builtin.renderers"]["version"] == vetcore.__version__


def test_duplicate_check_id_names_both_plugins():
    with pytest.raises(PluginError, match=r"'X01' is registered by both plugin 'first' and plugin 'second'"):
        PluginManager(
            autoload=False,
            builtins=False,
            plugins=[("first", _checks_plugin("X01")), ("second", _checks_plugin("X02", "X01"))],
        )


def test_register_hook_that_raises_is_recorded_and_rolled_back():
    calls = []

    @hookimpl
    def vetcore_register_checks(register):
        register(_check("B01"))
        raise ValueError("cannot find my model file")

    @hookimpl
    def vetcore_report_finished(report):
        calls.append("broken")

    broken = _module(
        "broken",
        vetcore_register_checks=vetcore_register_checks,
        vetcore_report_finished=vetcore_report_finished,
    )
    pm = PluginManager(
        autoload=False, builtins=False, plugins=[("broken", broken), ("good", _checks_plugin("G01"))]
    )
    assert list(pm.checks) == ["G01"]
    (record,) = pm.load_errors
    assert record.name == "broken"
    assert record.error == "ValueError: cannot find my model file"
    assert "Traceback" in record.traceback
    assert pm.call_event("vetcore_report_finished", report=None) == []
    assert calls == []  # the broken plugin was unregistered entirely


@pytest.mark.parametrize(
    ("hook_body", "expected"),
    [
        ("register('not a check')", "TypeError: register() expects a Check, got str"),
        (
            "register(Check(id='R1', title='r', run=print, requires=('spectra',)))",
            "ValueError: check R1 requires unknown data 'spectra'",
        ),
    ],
)
def test_invalid_registrations_are_load_errors(hook_body, expected):
    namespace = {"Check": Check}
    exec(f"def vetcore_register_checks(register):\n    {hook_body}\n", namespace)
    plugin = _module("bad", vetcore_register_checks=hookimpl(namespace["vetcore_register_checks"]))
    pm = PluginManager(autoload=False, builtins=False, plugins=[("bad", plugin)])
    assert pm.checks == {}
    assert pm.load_errors[0].error.startswith(expected)


def test_unknown_hook_is_a_load_error():
    @hookimpl
    def vetcore_register_check(register):  # typo: missing "s"
        register(_check("U01"))

    pm = PluginManager(
        autoload=False,
        builtins=False,
        plugins=[("typo", _module("typo", vetcore_register_check=vetcore_register_check))],
    )
    assert (
        pm.load_errors[0].error
        == "implements unknown hook 'vetcore_register_check' (not in vetcore.hookspecs)"
    )
    assert pm.checks == {}


@pytest.mark.parametrize(("api", "upgrade"), [(2, "upgrade vetcore"), (0, "upgrade the plugin")])
def test_incompatible_api_version_is_skipped(api, upgrade):
    plugin = _checks_plugin("A01")
    plugin.VETCORE_API = api
    pm = PluginManager(autoload=False, builtins=False, plugins=[("old", plugin)])
    assert pm.checks == {}
    error = pm.load_errors[0].error
    assert f"plugin old was written for vetcore API {api}, this core provides API 1" in error
    assert upgrade in error


def test_loaders_sorted_by_priority_and_get_check_suggests():
    @hookimpl
    def vetcore_register_loaders(register):
        for name, prio in (("low", -5), ("high", 10), ("mid", 0)):
            register(Loader(name, accepts=lambda s: True, load=lambda s, o: [], priority=prio))

    loaders = _module("ld", vetcore_register_loaders=vetcore_register_loaders)
    pm = PluginManager(
        autoload=False, builtins=False, plugins=[("ld", loaders), ("c", _checks_plugin("V08"))]
    )
    assert [(ld.name, ld.plugin) for ld in pm.loaders] == [("high", "ld"), ("mid", "ld"), ("low", "ld")]
    with pytest.raises(ConfigError, match=r"unknown check 'v8'; did you mean 'V08'\? \(installed: V08\)"):
        pm.get_check("v8")
    with pytest.raises(ConfigError, match=r"unknown output format 'jsn' \(available: none\)"):
        pm.get_renderer("jsn")


def test_event_hook_failure_is_recorded_and_others_still_run():
    seen = []

    @hookimpl
    def vetcore_configure(config):
        raise KeyError("missing")

    ok = _module("ok")
    ok.vetcore_configure = hookimpl(lambda config: seen.append(config["x"]))
    pm = PluginManager(
        autoload=False,
        builtins=False,
        plugins=[("bad", _module("bad", vetcore_configure=vetcore_configure)), ("ok", ok)],
    )
    errors = pm.call_event("vetcore_configure", config={"x": 1})
    assert errors == [("bad", "vetcore_configure", "KeyError: 'missing'")]
    assert pm.event_errors == errors
    assert seen == [1]


def test_disabled_plugins_are_not_loaded():
    pm = PluginManager(autoload=False, disabled=["renderers", "c"], plugins=[("c", _checks_plugin("C01"))])
    assert pm.renderers == {} and pm.checks == {}
    disabled = {r.name for r in pm.records if r.disabled}
    assert disabled == {"vetcore.builtin.renderers", "c"}
    assert all(r.error is None for r in pm.records if r.disabled)


# -- entry points (throwaway distributions on sys.path) -----------------------------------


def test_entry_point_plugin_is_discovered(plugin_dist, monkeypatch):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    plugin_dist(
        "vc_throwaway_a", GOOD_PLUGIN.format(name="a", check_id="Z91"), dist="vc-throwaway-a", version="2.3.1"
    )
    pm = PluginManager()
    assert pm.checks["Z91"].plugin == "vc_throwaway_a"
    record = next(r for r in pm.records if r.name == "vc_throwaway_a")
    assert (record.version, record.origin, record.module) == (
        "2.3.1",
        "vc-throwaway-a 2.3.1",
        "vc_throwaway_a",
    )
    assert record.hooks == ["vetcore_register_checks"]


def test_entry_point_that_fails_to_import_is_reported(plugin_dist, monkeypatch):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    plugin_dist("vc_throwaway_bad", "import vc_no_such_dependency_xyz\n")
    plugin_dist("vc_throwaway_b", GOOD_PLUGIN.format(name="b", check_id="Z92"))
    pm = PluginManager()
    assert "Z92" in pm.checks
    record = next(r for r in pm.load_errors if r.name == "vc_throwaway_bad")
    assert record.error == "ModuleNotFoundError: No module named 'vc_no_such_dependency_xyz'"
    assert record.origin == "vc-throwaway-bad 0.1"


@pytest.mark.parametrize(("value", "loaded"), [("1", False), ("", True)])
def test_autoload_environment_variable(plugin_dist, monkeypatch, value, loaded):
    plugin_dist("vc_throwaway_c", GOOD_PLUGIN.format(name="c", check_id="Z93"))
    monkeypatch.setenv(AUTOLOAD_ENV, value)
    pm = PluginManager()
    assert ("Z93" in pm.checks) is loaded
    assert pm.autoload is loaded
    assert "json" in pm.renderers  # builtins do not depend on autoloading
    assert "Z93" in PluginManager(autoload=True).checks


def test_entry_point_can_be_disabled_by_name(plugin_dist, monkeypatch):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    plugin_dist("vc_throwaway_d", GOOD_PLUGIN.format(name="d", check_id="Z94"))
    pm = PluginManager(disabled=["vc_throwaway_d"])
    assert "Z94" not in pm.checks
    assert next(r for r in pm.records if r.name == "vc_throwaway_d").disabled
