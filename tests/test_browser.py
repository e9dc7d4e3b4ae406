"""The demo's HTML report in a real headless browser (Chromium): what a reader sees.

``.ci/run`` installs Debian's ``chromium`` when it is missing, so under CI this
test runs; elsewhere it skips with a reason when no Chromium is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
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


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    script = _script()
    if script.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser checks not run")
    from vetcore.cli import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--quiet", "--format", "json,html"]) == 0
    return script, out


@pytest.mark.slow
def test_demo_report_in_headless_chromium(demo_page):
    script, out = demo_page
    seen = script.inspect(out / "report.html")
    report = json.loads((out / "report.json").read_text())
    verdict = report["aggregates"]["V25"]["metrics"]["verdict"]
    assert any(text.startswith(f"V25: {verdict} — ") for text in seen["verdicts"]), seen["verdicts"]
    assert len(seen["images"]) == 2  # the S83 figure and the summary figure
    for image in seen["images"]:
        assert image["loaded"] and image["width"] > 400 and image["height"] > 300, image
    assert seen["errors"] == []


@pytest.mark.slow
def test_screenshot_of_the_demo_report(demo_page):
    script, out = demo_page
    png = script.screenshot(out / "report.html", out / "shot.png", size=(1000, 1400))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1000, 1400)
    assert len(data) > 50_000  # a rendered page with figures, not a blank canvas


def test_the_probe_sees_broken_images_and_errors(tmp_path):
    script = _script()
    if script.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        "<p class='verdict'>V25: on_target</p><img alt='bad' src='data:image/png;base64,AAAA'>"
        "<script>console.error('boom')</script></body></html>"
    )
    seen = script.inspect(page)
    assert seen["verdicts"] == ["V25: on_target"]
    assert seen["images"] == [{"alt": "bad", "loaded": False, "width": 0, "height": 0}]
    assert "boom" in seen["errors"]
