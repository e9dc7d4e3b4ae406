"""Open an HTML report in headless Chromium and save a screenshot (used for docs/images/demo-report.png).

Usage::

    python scripts/screenshot_report.py [REPORT_HTML] [OUTPUT_PNG]

Without arguments it runs ``vetcore demo`` into a temporary folder and writes
``docs/images/demo-report.png``.  Needs Debian's ``chromium`` (``apt-get install
chromium``); the page is loaded from a ``file://`` URL, with networking
disabled, so the screenshot also proves the report needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot(html: Path, png: Path, size: tuple[int, int] = (1280, 2400)) -> Path:
    """Render ``html`` in headless Chromium into ``png``; raises if Chromium is missing or fails."""
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("chromium not found (apt-get install chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
             f"--screenshot={png}", html.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return png


def main() -> None:
    if len(sys.argv) > 1:
        html = Path(sys.argv[1])
        out = Path(sys.argv[2]) if len(sys.argv) > 2 else html.with_suffix(".png")
        print(screenshot(html, out))
        return
    from vetcore.cli import main as vetcore_main

    with tempfile.TemporaryDirectory() as tmp:
        vetcore_main(["demo", "--out", tmp, "--quiet", "--format", "html"])
        out = Path(__file__).resolve().parents[1] / "docs" / "images" / "demo-report.png"
        print(screenshot(Path(tmp) / "report.html", out))


if __name__ == "__main__":
    main()
