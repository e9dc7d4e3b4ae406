"""The demo's HTML report in a real headless browser (Chromium), when one is installed."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "screenshot_report", ROOT / "scripts" / "screenshot_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_demo_report_renders_in_headless_chromium(tmp_path):
    script = _script()
    if script.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); screenshot script not exercised")
    from vetcore.cli import main

    assert main(["demo", "--out", str(tmp_path), "--quiet", "--format", "html"]) == 0
    png = script.screenshot(tmp_path / "report.html", tmp_path / "shot.png", size=(1000, 1400))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1000, 1400)
    assert len(data) > 50_000  # a rendered page with figures, not a blank canvas
