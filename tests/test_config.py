"""Configuration: TOML layout, structural errors, validation against installed checks, selection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vetcore import Check, CheckResult, Param, hookimpl
from vetcore.config import Config, as_config, load_config
from vetcore.errors import ConfigError
from vetcore.plugins import PluginManager
from vetcore.session import Session

FULL = """
[select]
include = ["T0*", "plugin:toy"]
exclude = ["T02"]

[plugins]
disable = ["vet_x"]

[plugins.toy]
colour = "blue"

[output]
formats = ["json"]

[data]
cache_dir = "cache"
offline = true
quality_bitmask = 175

[checks.T01]
min_depth = 1
mode = "slow"
"""


def write(tmp_path: Path, text: str, name: str = "vetcore.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_without_file(tmp_path):
    config = load_config(None, cwd=tmp_path)
    assert config == Config()
    assert config.source is None and config.include is None and config.formats is None


def test_full_file_is_read_from_the_working_folder(tmp_path, toy_pm):
    path = write(tmp_path, FULL)
    config = load_config(cwd=tmp_path)
    assert config.source == str(path)
    assert config.include == ("T0*", "plugin:toy") and config.exclude == ("T02",)
    assert config.disable_plugins == ("vet_x",)
    assert config.plugin_settings == {"toy": {"colour": "blue"}}
    assert config.formats == ("json",)
    assert config.cache_dir == str(tmp_path.resolve() / "cache")  # relative to the file
    assert config.offline is True and config.quality_bitmask == 175
    assert [c.id for c in config.select_checks(toy_pm)] == ["T01", "T90"]
    params = config.params_for(toy_pm.checks["T01"])
    assert dict(params) == {"min_depth": 1.0, "mode": "slow", "n_iter": 3}
    assert isinstance(params.min_depth, float)


def test_effective_config_records_every_parameter_used(tmp_path, toy_pm):
    config = load_config(write(tmp_path, FULL))
    selected = config.select_checks(toy_pm)
    eff = config.effective(toy_pm, selected)
    assert eff == {
        "source": str(tmp_path / "vetcore.toml"),
        "select": {"include": ["T0*", "plugin:toy"], "exclude": ["T02"]},
        "selected": ["T01", "T90"],
        "checks": {"T01": {"min_depth": 1.0, "mode": "slow", "n_iter": 3}, "T90": {}},
        "plugins": {"disable": ["vet_x"], "toy": {"colour": "blue"}},
        "output": {"formats": ["json"]},
        "data": {"cache_dir": str(tmp_path.resolve() / "cache"), "offline": True, "quality_bitmask": 175},
        "run": {"check_time_limit_s": 1800.0},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[selct]\ninclude = []\n", "selct: unknown table; did you mean 'select'?"),
        ("[select]\nincluded = ['T01']\n", "select.included: unknown key; did you mean 'include'?"),
        ("[select]\ninclude = 'T01'\n", "select.include: expected a list of strings, got str 'T01'"),
        ("select = 3\n", "select: expected a table, got int 3"),
        ("[data]\noffline = 'yes'\n", "data.offline: expected true or false, got str 'yes'"),
        (
            "[data]\nquality_bitmask = 'strict'\n",
            "data.quality_bitmask: expected one of default, hard, hardest, "
            "none or a non-negative integer, got str 'strict'",
        ),
        ("[data]\nquality_bitmask = -1\n", "data.quality_bitmask: expected one of"),
        ("[checks]\nT01 = 3\n", "checks.T01: expected a table of parameters, got int 3"),
        (
            "[checks.T01]\nmin_depth = [1, [2]]\n",
            "checks.T01.min_depth: expected a number, string, boolean or a list of them",
        ),
        ("[plugins]\ndisabled = ['x']\n", "plugins.disabled: unknown key; did you mean 'disable'?"),
    ],
)
def test_structural_errors_name_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


def test_invalid_toml_reports_file_and_line(tmp_path):
    path = write(tmp_path, "[select]\ninclude = ['T01']\nexclude = T02\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: invalid TOML: .*line 3"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"checks": {"T1": {}}}, "cfg.toml: checks.T1: unknown check; did you mean 'T01'?"),
        (
            {"checks": {"T01": {"min_dept": 0.1}}},
            "cfg.toml: checks.T01.min_dept: unknown parameter; did you mean 'min_depth'?",
        ),
        (
            {"checks": {"T01": {"min_depth": "x"}}},
            "cfg.toml: checks.T01.min_depth: expected a number, got str 'x'",
        ),
        (
            {"checks": {"T01": {"n_iter": 2.5}}},
            "cfg.toml: checks.T01.n_iter: expected an integer, got float 2.5",
        ),
        (
            {"checks": {"T01": {"mode": "turbo"}}},
            "cfg.toml: checks.T01.mode: must be one of ['fast', 'slow'], got 'turbo'",
        ),
        (
            {"select": {"include": ["T010"]}},
            "cfg.toml: select.include: unknown check 'T010'; did you mean 'T01'?",
        ),
        (
            {"select": {"include": ["X*"]}},
            "cfg.toml: select.include: 'X*' matches no installed check (installed: T01, T02, T90)",
        ),
        (
            {"select": {"exclude": ["plugin:toys"]}},
            "cfg.toml: select.exclude: unknown plugin 'toys'; did you mean 'toy'?",
        ),
        ({"select": {"include": ["T01"], "exclude": ["T0*"]}}, "cfg.toml: select.include: no check selected"),
        ({"plugins": {"tyo": {"a": 1}}}, "cfg.toml: plugins.tyo: no such plugin; did you mean 'toy'?"),
        (
            {"output": {"formats": ["jsn"]}},
            "cfg.toml: output.formats: unknown format 'jsn'; did you mean 'json'?",
        ),
    ],
)
def test_validation_against_installed_checks(toy_pm, data, message):
    config = Config.from_dict(data, source="cfg.toml")
    with pytest.raises(ConfigError) as info:
        config.select_checks(toy_pm)
    assert str(info.value).startswith(message)


def test_unknown_check_mentions_plugins_that_did_not_load(toy_pm):
    from vetcore.plugins import PluginManager

    pm = PluginManager(autoload=False, disabled=["toy"], plugins=[("toy", object())])
    with pytest.raises(ConfigError, match=r"checks.T01: unknown check \(not loaded: .*toy"):
        Config.from_dict({"checks": {"T01": {}}}).validate(pm)


def test_command_line_selection_replaces_select_table(toy_pm):
    config = Config.from_dict({"select": {"include": ["T01"], "exclude": ["T90"]}})
    assert [c.id for c in config.select_checks(toy_pm)] == ["T01"]
    assert [c.id for c in config.select_checks(toy_pm, ["T90", "T0?"])] == ["T01", "T02", "T90"]
    assert [c.id for c in Config().select_checks(toy_pm)] == ["T01", "T02", "T90"]
    with pytest.raises(ConfigError, match=r"^--checks: unknown check 'T1'; did you mean 'T01'\?"):
        config.select_checks(toy_pm, ["T1"])


def test_as_config_accepts_dict_path_and_config(tmp_path):
    path = write(tmp_path, "[data]\noffline = true\n")
    assert as_config(str(path)).offline is True
    assert as_config({"data": {"offline": True}}).offline is True
    config = Config(offline=True)
    assert as_config(config) is config
    assert as_config(None) == Config()
    with pytest.raises(ConfigError, match="config must be a path, a dict or a Config, got int"):
        as_config(3)


def test_list_parameters_are_checked_item_by_item():
    check = Check(
        id="L01",
        title="list",
        run=lambda ctx: CheckResult(status="pass"),
        params=[
            Param(
                "radii",
                (1.0, 2.0),
                "radii",
                type="list[float]",
                unit="px",
                minimum=0.0,
                exclusive_minimum=True,
            )
        ],
    )

    class Lists:
        @hookimpl
        def vetcore_register_checks(self, register):
            register(check)

    pm = PluginManager(autoload=False, plugins=[("lists", Lists())])
    session = Session({"checks": {"L01": {"radii": [0.5, 3]}}}, plugin_manager=pm)
    assert session.params["L01"].radii == (0.5, 3.0)
    with pytest.raises(
        ConfigError, match=r"config: checks\.L01\.radii: item 1: must be in \(0, inf\), got -1\.0"
    ):
        Session({"checks": {"L01": {"radii": [0.5, -1]}}}, plugin_manager=pm)
    with pytest.raises(ConfigError, match=r"checks\.L01\.radii: expected a list, got float 0\.5"):
        Session({"checks": {"L01": {"radii": 0.5}}}, plugin_manager=pm)
    assert Param("names", ("a",), "names", type="list[str]", choices=("a", "b")).coerce(["b", "a"]) == (
        "b",
        "a",
    )
    with pytest.raises(ValueError, match="type must be one of"):
        Param("x", 1, "x", type="list[bool]")
