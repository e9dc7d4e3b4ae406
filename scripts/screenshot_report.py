"""Open an HTML report in headless Chromium: screenshot it, and check it as a browser shows it.

Usage::

    python scripts/screenshot_report.py [REPORT_HTML] [OUTPUT_PNG]

Without arguments it runs ``vetcore demo`` into a temporary folder and writes
``docs/images/demo-report.png`` (the README's screenshot).  Needs Debian's
``chromium`` (``apt-get install chromium``); the page is loaded from a
``file://`` URL, with networking disabled, so the screenshot also proves the
report needs no network.  :func:`inspect` loads an instrumented copy of the
page and returns what the browser saw: which images decoded, the console
errors and failed loads, and the verdict box text (used by
``tests/test_browser.py``).
"""

from __future__ import annotations

import json
import re
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


#: Injected first in <head>: record script errors, failed resource loads and console.error calls.
_PROBE_HEAD = """<script>window.__vetcoreErrors=[];
window.addEventListener('error',function(e){window.__vetcoreErrors.push(String(e.message||
(e.target&&(e.target.src||e.target.href))||'error'))},true);
var __ce=console.error;console.error=function(){window.__vetcoreErrors.push(
Array.prototype.join.call(arguments,' '));__ce.apply(console,arguments)};</script>"""
#: Injected last in <body>: after load, write what the page shows into <pre id="vetcore-probe">.
_PROBE_TAIL = """<script>window.addEventListener('load',function(){var imgs=Array.prototype.map.call(
document.images,function(i){return {alt:i.alt,loaded:i.complete&&i.naturalWidth>0,
width:i.naturalWidth,height:i.naturalHeight}});var pre=document.createElement('pre');
pre.id='vetcore-probe';pre.textContent=JSON.stringify({images:imgs,errors:window.__vetcoreErrors,
verdicts:Array.prototype.map.call(document.querySelectorAll('.verdict'),function(e){
return e.textContent})});document.body.appendChild(pre)});</script>"""


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


def inspect(html: Path) -> dict:
    """Load an instrumented copy of ``html`` in headless Chromium; return what the browser saw.

    Keys: ``images`` (``alt``, ``loaded``, natural ``width``/``height`` of each
    ``<img>``), ``errors`` (script errors, failed loads, ``console.error``
    messages) and ``verdicts`` (text of each ``.verdict`` element).
    """
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("chromium not found (apt-get install chromium)")
    page = html.read_text(encoding="utf-8")
    if "<head>" not in page or "</body>" not in page:
        raise ValueError(f"{html}: not a complete HTML page")
    page = page.replace("<head>", "<head>" + _PROBE_HEAD, 1)
    page = page[: page.rindex("</body>")] + _PROBE_TAIL + page[page.rindex("</body>") :]
    with tempfile.TemporaryDirectory() as work:
        probe = Path(work) / "probe.html"
        probe.write_text(page, encoding="utf-8")
        profile = Path(work) / "profile"
        done = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
             "--dump-dom", probe.as_uri()],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    found = re.search(r'<pre id="vetcore-probe">(.*?)</pre>', done.stdout, re.S)
    if found is None:
        raise RuntimeError(f"the page never finished loading in Chromium: {done.stderr[-500:]}")
    import html as html_module

    return json.loads(html_module.unescape(found.group(1)))


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
