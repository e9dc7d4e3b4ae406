"""docs/writing-a-check.md: every Python block runs, in order, in one namespace, in an empty folder.

Blocks starting with ``# file: PATH`` (Python or TOML) are also written to PATH,
so the tutorial's package is built for real: its tests are run with pytest,
its ``pyproject.toml`` entry point is registered (as a ``.dist-info`` on
``sys.path``, which is what ``pip install`` would add), and the tutorial's
``vetcore`` shell commands are run through :func:`vetcore.cli.main`.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import matplotlib
import pytest

from vetcore.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-a-check.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
MODULE = "vet_halo"


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(DOC.read_text(encoding="utf-8")) if kind == lang]


def file_name(body: str) -> str | None:
    first = body.split("\n", 1)[0]
    return first.removeprefix("# file:").strip() if first.startswith("# file:") else None


@pytest.fixture
def tutorial_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setenv("VETCORE_DISABLE_PLUGIN_AUTOLOAD", "")
    matplotlib.use("Agg")
    yield tmp_path
    for name in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
        del sys.modules[name]


def test_tutorial_has_the_promised_blocks():
    files = [file_name(b) for b in blocks("python") + blocks("toml")]
    assert {
        "src/vet_halo/__init__.py",
        "src/vet_halo/check.py",
        "src/vet_halo/plugin.py",
        "tests/test_halo.py",
        "pyproject.toml",
        "vetcore.toml",
    } <= set(files)
    assert len(blocks("python")) >= 7


def test_tutorial_runs_end_to_end(tutorial_dir, capsys):
    for body in blocks("toml"):
        name = file_name(body)
        assert name is not None, "every TOML block of the tutorial is a file"
        tomllib.loads(body)
        (tutorial_dir / name).write_text(body, encoding="utf-8")

    namespace: dict[str, object] = {"__name__": "tutorial"}
    for i, body in enumerate(blocks("python")):
        name = file_name(body)
        if name is not None:
            path = tutorial_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        exec(compile(body, f"{DOC.name}[python block {i}]", "exec"), namespace)

    # the package's own tests, with vetcore's fixtures
    assert pytest.main(["-q", "-p", "no:cacheprovider", str(tutorial_dir / "tests")]) == 0

    # the entry point as pip would install it, then the tutorial's shell commands
    meta = tomllib.loads((tutorial_dir / "pyproject.toml").read_text())["project"]
    site = tutorial_dir / "site"
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = [f"{k} = {v}" for k, v in meta["entry-points"]["vetcore"].items()]
    (info / "entry_points.txt").write_text("[vetcore]\n" + "\n".join(lines) + "\n")
    sys.path.insert(0, str(site))
    try:
        commands = [
            shlex.split(line.split("#")[0])
            for body in blocks("sh")
            for line in body.splitlines()
            if line.startswith("vetcore ")
        ]
        assert [c[1] for c in commands] == ["plugins", "checks", "run"]
        capsys.readouterr()
        for argv in commands:
            assert main(argv[1:]) == 0, argv
        out = capsys.readouterr().out
    finally:
        sys.path.remove(str(site))
    assert "checks: X42" in out and "sigma_threshold" in out

    report = json.loads(next((tutorial_dir / "halo-out").rglob("report.json")).read_text())
    x42 = report["sectors"][0]["results"]["X42"]
    assert x42["status"] == "fail"
    assert x42["params"]["sigma_threshold"] == 4.0  # from the tutorial's vetcore.toml
    assert x42["flags"] == ["HALO_DEEPER"]

    # the plot function draws from plot_data alone
    import matplotlib.pyplot as plt

    from vetcore import CheckResult

    fig, ax = plt.subplots()
    try:
        namespace["plot"](CheckResult(status=x42["status"], plot_data=x42["plot_data"]), [ax])
        assert len(ax.lines) >= 1 and ax.get_ylabel() == "transit depth (ppm)"
    finally:
        plt.close(fig)
