"""``html`` format: one self-contained ``report.html`` (figures embedded, no network needed).

Order: the target and ephemeris (full precision), input warnings, the verdict
(target-level checks, then every check's status with its flags explained in
words), the input files and data products, each check's method in its own
words, the key metrics per sector, the figures, the effective configuration
and the versions.  Every string that comes from data,
configuration or plugins goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vetcore.io import atomic_write, inside

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import CheckResult
    from vetcore.report import Report

__all__ = [
    "FILENAME",
    "header_html",
    "inputs_html",
    "methods_html",
    "render",
    "status_table",
    "to_html",
    "verdict_box",
]

FILENAME = "report.html"

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}
.inconclusive{background:#fff1c2}.error{background:#e6d0f0}.skipped{background:#eee}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f7f7f7;padding:1em;overflow:auto}
.warnings{color:#8a4b00}.verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;display:inline-block}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _status(result: CheckResult) -> str:
    value = result.status.value
    return f'<td class="{_e(value)}">{_e(value)}</td>'


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def verdict_box(report: Report) -> str:
    """The target-level verdicts (one box per target-scope check)."""
    parts = []
    for check_id, result in report.aggregates.items():
        verdict = result.metrics.get("verdict", result.status.value)
        parts.append(
            f'<p class="verdict {_e(result.status.value)}">{_e(check_id)}: {_e(verdict)} — '
            f"{_e(result.message)}</p>"
        )
    return "".join(parts)


def status_table(report: Report) -> str:
    """Every check's status per sector, with its flags explained in words."""
    rows = []
    for label, result in report.results():
        flags = "<br>".join(f"<b>{_e(f)}</b>: {_e(why)}" for f, why in report.explain(result))
        rows.append(
            f"<tr><td>{_e(result.check)}</td><td>{_e(label or 'all sectors')}</td>{_status(result)}"
            f"<td>{_e(result.message)}</td><td>{flags}</td></tr>"
        )
    return (
        "<table><tr><th>check</th><th>sector</th><th>status</th><th>summary</th><th>flags</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _warnings(report: Report) -> str:
    items = "".join(f"<li>{_e(w)}</li>" for w in getattr(report, "warnings", ()))
    return f'<ul class="warnings">{items}</ul>' if items else ""


def header_html(report: Report) -> str:
    """Target, position and ephemeris with full precision (t0, RA and Dec are never rounded)."""
    t, eph = report.target, report.ephemeris
    position = (
        f"RA {t.ra!r}°, Dec {t.dec!r}° (ICRS)" if t.ra is not None and t.dec is not None else "no position"
    )
    system = eph.time_system if eph.time_system != "data" else _data_systems(report)
    depth = f" · depth {eph.depth_ppm!r} ppm" if eph.depth_ppm is not None else ""
    return (
        f"<p><b>{_e(t.id)}</b> · {_e(position)} · period {_e(repr(eph.period))} d · "
        f"t0 {_e(repr(eph.t0))} ({_e(system)}) · duration {_e(repr(eph.duration_hours))} h{_e(depth)}</p>"
    )


def _data_systems(report: Report) -> str:
    systems = sorted({s.stamp.time_system for s in report.sectors})
    return "/".join(systems) or "data time system"


def inputs_html(report: Report) -> str:
    """The input files (one row per sector) and the data products written beside this page."""
    rows = "".join(
        f"<tr><td>{_e(s.label)}</td><td>{_e(s.stamp.source or '(in-memory stamp)')}</td>"
        f"<td>{_e(s.stamp.meta.get('product', s.stamp.mission))}</td><td>{_e(s.stamp.time_system)}</td>"
        f"<td>{int(s.stamp.good.sum())} of {s.stamp.n_cadences}</td>"
        f"<td>{s.stamp.pixel_scale_arcsec:.3f}″/px</td><td>{_e(s.stamp.aperture_source)}</td></tr>"
        for s in report.sectors
    )
    products = getattr(report, "products", ())
    listed = "".join(f"<li>{_e(name)}</li>" for name in products)
    written = f"<p>Data products written with this page:</p><ul>{listed}</ul>" if listed else ""
    return (
        "<table><tr><th>sector</th><th>input file</th><th>product</th><th>time system</th>"
        f"<th>cadences used</th><th>pixel scale</th><th>aperture</th></tr>{rows}</table>{written}"
    )


def methods_html(report: Report) -> str:
    """What each check did, in the check's own words, with the parameters it ran with."""
    out = []
    for check_id, check in report.checks.items():
        params = next((r.params for _, r in report.results() if r.check == check_id and r.params), {})
        shown = ", ".join(f"{k} = {v!r}" for k, v in params.items())
        method = getattr(check, "method", "")
        out.append(
            f"<h3>{_e(check_id)} · {_e(check.title)} (v{_e(check.version)})</h3>"
            f"<p>{_e(check.summary)}</p>"
            + (f"<p>{_e(method)}</p>" if method else "")
            + (f"<p><small>parameters: {_e(shown)}</small></p>" if shown else "")
        )
    return "".join(out)


def _metrics(report: Report) -> str:
    out = []
    for label, result in report.results():
        items = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_fmt(v))}</td></tr>" for k, v in result.metrics.items())
        loc = result.localization
        if loc is not None:
            east, north = loc.offset_arcsec
            items += (
                f"<tr><td>localization ({_e(loc.method)})</td><td>RA {loc.ra!r}, Dec {loc.dec!r}; "
                f"offset E {east:.2f}″ N {north:.2f}″ ({loc.offset_sigma:.1f}σ)</td></tr>"
            )
        out.append(f"<h3>{_e(result.check)} · {_e(label or 'all sectors')}</h3><table>{items}</table>")
    return "".join(out)


def _figures(report: Report) -> str:
    from vetcore.renderers.figures import figures, png_bytes

    out = []
    for name, fig in figures(report):
        data = base64.b64encode(png_bytes(fig)).decode("ascii")
        out.append(f'<h3>{_e(name)}</h3><img alt="{_e(name)} figure" src="data:image/png;base64,{data}">')
    return "".join(out)


def to_html(report: Report) -> str:
    """The whole page as a string."""
    t = report.target
    versions = "".join(
        f"<tr><td>{_e(p['name'])}</td><td>{_e(p.get('version', ''))}</td>"
        f"<td>{_e(p.get('origin', ''))}</td></tr>"
        for p in report.plugins
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>vetcore report: {_e(t.id)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>vetcore report: {_e(t.id)}</h1>"
        f"{header_html(report)}{_warnings(report)}"
        f"<h2>Verdict</h2>{verdict_box(report)}{status_table(report)}"
        f"<h2>Inputs</h2>{inputs_html(report)}"
        f"<h2>Methods</h2>{methods_html(report)}"
        f"<h2>Metrics</h2>{_metrics(report)}"
        f"<h2>Figures</h2>{_figures(report)}"
        f"<h2>Configuration</h2><pre>{_e(json.dumps(report.to_dict()['config'], indent=2))}</pre>"
        f"<h2>Versions</h2><p>vetcore {_e(report.vetcore_version)} · created {_e(report.created)}</p>"
        f"<table><tr><th>plugin</th><th>version</th><th>origin</th></tr>{versions}</table>"
        "</body></html>\n"
    )


def render(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    path = inside(out_dir, FILENAME)
    atomic_write(path, to_html(report))
    return [path]
