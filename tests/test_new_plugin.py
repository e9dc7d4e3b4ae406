"""``vetcore new-plugin``: the scaffolded package is complete, imports, registers and runs its check."""

from __future__ import annotations

import importlib
import sys
import tomllib

import pytest

import vetcore
from vetcore import Status
from vetcore.cli import main
from vetcore.cli.new_plugin import scaffold
from vetcore.errors import VetcoreError
from vetcore.plugins import PluginManager
from vetcore.testing import make_stamp, run_check

EXPECTED = {
    "README.md",
    "pyproject.toml",
    "src/vet_scaffold_t/__init__.py",
    "src/vet_scaffold_t/check.py",
    "src/vet_scaffold_t/plugin.py",
    "tests/test_check.py",
}


@pytest.fixture
def scaffolded(tmp_path, monkeypatch, capsys):
    assert main(["new-plugin", "vet-scaffold-t", "--dir", str(tmp_path), "--check-id", "X42"]) == 0
    out = capsys.readouterr().out
    root = tmp_path / "vet_scaffold_t"
    assert f"created plugin package {root}" in out and "pip install -e" in out
    monkeypatch.syspath_prepend(str(root / "src"))
    yield root
    for name in [m for m in sys.modules if m == "vet_scaffold_t" or m.startswith("vet_scaffold_t.")]:
        del sys.modules[name]


def test_scaffold_writes_a_complete_package(scaffolded):
    files = {p.relative_to(scaffolded).as_posix() for p in scaffolded.rglob("*") if p.is_file()}
    assert files == EXPECTED
    meta = tomllib.loads((scaffolded / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "vet-scaffold-t"
    assert meta["project"]["entry-points"]["vetcore"] == {"vet_scaffold_t": "vet_scaffold_t.plugin"}
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/vet_scaffold_t"]
    assert f"vetcore>={vetcore.__version__}" in meta["project"]["dependencies"]
    for path in scaffolded.rglob("*"):
        assert "$" not in path.read_text() if path.is_file() else True, path


def test_scaffolded_check_registers_and_runs(scaffolded):
    plugin = importlib.import_module("vet_scaffold_t.plugin")
    assert plugin.VETCORE_API == vetcore.API_VERSION
    pm = PluginManager(autoload=False, plugins=[("vet_scaffold_t", plugin)])
    assert pm.load_errors == []
    check = pm.checks["X42"]
    assert check.plugin == "vet_scaffold_t" and [p.name for p in check.params] == ["min_snr", "in_fraction"]

    case = make_stamp(snr=40.0, seed=11)
    result = run_check("X42", case, plugin_manager=pm)
    assert result.status == Status.PASS, result.message
    assert result.metrics["depth_ppm"] == pytest.approx(case.truth.depth_in_aperture * 1e6, rel=0.2)
    assert result.metrics["snr"] == pytest.approx(40.0, abs=8.0)
    flat = make_stamp(transit_star=None, seed=12)
    quiet = run_check("X42", flat, case.ephemeris, plugin_manager=pm, min_snr=7.0)
    assert (quiet.status, quiet.flags) == (Status.INCONCLUSIVE, ("LOW_SNR",))


def test_scaffolded_tests_pass(scaffolded):
    """The generated tests/ pass under pytest (same process, vetcore's fixtures)."""
    assert pytest.main(["-q", "-p", "no:cacheprovider", str(scaffolded / "tests")]) == 0


def test_bad_names_and_existing_folder_are_refused(tmp_path, capsys):
    with pytest.raises(VetcoreError, match="not a valid module name"):
        scaffold("Vet Bad", tmp_path)
    with pytest.raises(VetcoreError, match="check id"):
        scaffold("vet_ok", tmp_path, check_id="X 1")
    (tmp_path / "vet_taken").mkdir()
    (tmp_path / "vet_taken" / "keep.txt").write_text("mine")
    assert main(["new-plugin", "vet_taken", "--dir", str(tmp_path)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "vet_taken" / "keep.txt").read_text() == "mine"
