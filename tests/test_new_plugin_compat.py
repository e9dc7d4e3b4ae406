"""A plugin package built for an incompatible core API is reported with a clear message and skipped."""

from __future__ import annotations

from vetcore.cli import main
from vetcore.plugins import AUTOLOAD_ENV, PluginManager

FUTURE_PLUGIN = """
from vetcore import Check, CheckResult, Status, hookimpl

VETCORE_API = 999

@hookimpl
def vetcore_register_checks(register):
    register(Check(id="F99", title="from the future", run=lambda ctx: CheckResult(status=Status.PASS)))
"""

CURRENT_PLUGIN = FUTURE_PLUGIN.replace("VETCORE_API = 999", "VETCORE_API = 1").replace("F99", "F01")


def test_future_api_plugin_is_reported_and_skipped(plugin_dist, monkeypatch, capsys):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    plugin_dist("vc_future_api", FUTURE_PLUGIN, dist="vc-future-api", version="3.0")
    plugin_dist("vc_current_api", CURRENT_PLUGIN)
    pm = PluginManager()
    assert "F99" not in pm.checks and "F01" in pm.checks
    record = next(r for r in pm.load_errors if r.name == "vc_future_api")
    assert record.error == (
        "plugin vc_future_api was written for vetcore API 999, this core provides API 1; "
        "upgrade vetcore or disable it (--disable-plugin vc_future_api)"
    )
    assert record.hooks == [] and record.checks == []

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert (
        "vc_future_api 3.0  (vc-future-api 3.0)\n"
        "  ERROR: plugin vc_future_api was written for vetcore API 999" in out
    )
    assert main(["checks"]) == 0
    listing = capsys.readouterr().out
    assert "F01" in listing and "F99" not in listing
