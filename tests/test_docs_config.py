"""docs/configuration.md: every config key documented, the example valid, parameter tables current."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from vetcore import Check, CheckResult, Param, Status
from vetcore import config as config_module
from vetcore.config import Config
from vetcore.docs_gen import END, START, check_section, main, update_text
from vetcore.mission import QUALITY_PRESETS
from vetcore.plugins import PluginManager

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
PROJECT_CHECKS = {"V08", "V09", "V25", "X01"}


@pytest.fixture(scope="module")
def pm() -> PluginManager:
    manager = PluginManager(autoload=True)
    missing = PROJECT_CHECKS - set(manager.checks)
    assert not missing, (
        f"checks {sorted(missing)} are not installed; install the plugins and examples/inhouse_check "
        "(see the README's test command)"
    )
    return manager


def test_parameter_tables_are_current(pm):
    text = DOC.read_text(encoding="utf-8")
    assert update_text(text, pm.checks.values()) == text, (
        "docs/configuration.md is stale: run python -m vetcore.docs_gen docs/configuration.md"
    )
    for check in pm.checks.values():
        assert f"`[checks.{check.id}]`" in text or not check.params
        for param in check.params:
            assert f"| `{param.name}` |" in text


def test_every_config_key_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for table, keys in config_module._KEYS.items():
        for key in keys:
            assert f"`{table}.{key}`" in text, f"{table}.{key} missing from docs/configuration.md"
    assert "`checks.<id>.<param>`" in text and "`plugins.<name>`" in text
    for preset in QUALITY_PRESETS:
        assert f'"{preset}"' in text


def test_documented_example_is_a_valid_configuration(pm):
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.S)
    assert example is not None
    cfg = Config.from_dict(tomllib.loads(example.group(1)), source="docs example")
    selected = [c.id for c in cfg.select_checks(pm)]
    assert "V09" not in selected and {"V08", "V25", "X01"} <= set(selected)
    assert cfg.params_for(pm.checks["X01"]).min_per_parity == 1
    assert cfg.params_for(pm.checks["V08"]).sigma_threshold == 4.0


def _toy(default: float) -> Check:
    return Check(
        id="Q01",
        title="Toy",
        run=lambda ctx: CheckResult(status=Status.PASS),
        plugin="toy",
        params=(
            Param("limit", default, "a | limit", unit="ppm"),
            Param("mode", "a", "how", type="str", choices=("a", "b")),
        ),
        flags={"ODD": "something odd"},
    )


def test_generation_replaces_only_the_marked_section_and_detects_changes():
    text = f"# Title\n\nintro\n\n{START}\nold content\n{END}\n\ntail\n"
    new = update_text(text, [_toy(1.5)])
    assert new.startswith("# Title\n\nintro\n\n" + START) and new.endswith(END + "\n\ntail\n")
    assert "old content" not in new
    assert "| `limit` | float | `1.5` |  | ppm | a \\| limit |" in new
    assert '| `mode` | str | `"a"` | listed |  | how (one of a, b) |' in new
    assert "- `ODD`: something odd" in new
    assert update_text(new, [_toy(1.5)]) == new
    assert update_text(new, [_toy(2.5)]) != new
    with pytest.raises(ValueError, match="markers"):
        update_text("no markers here", [_toy(1.5)])
    assert check_section(_toy(1.5)).startswith("### Q01: Toy\n")


def test_command_rewrites_a_stale_file(tmp_path, pm, capsys):
    stale = tmp_path / "configuration.md"
    stale.write_text(f"# Config\n\n{START}\nstale\n{END}\n", encoding="utf-8")
    assert main([str(stale), "--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert main([str(stale)]) == 0
    assert main([str(stale), "--check"]) == 0
    assert "### X01: Odd/even transit depth" in stale.read_text(encoding="utf-8")
