"""``html`` format: one self-contained ``report.html`` (figures embedded, no network needed).

Order: the target and ephemeris (full precision), input warnings, the verdict
(the target's disposition first — verdict, reason, 3σ confusion radius, likely
host and host-attribution table —, then the target-level checks and every
check's status with its flags explained in words), the input files and data
products, each check's method in its own words, the key metrics per sector, the
figures, the effective configuration and the versions.  Every string that comes from data,
configuration or plugins goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import json
import math
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
.disposition{border:2px solid #888;border-radius:8px;padding:.4em 1em;margin:.5em 0 1em}
.disposition .verdict{font-size:1.6em;font-weight:bold}
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


_DISPOSITION_CLASS = {"on_target": "pass", "off_target": "fail"}


def _disposition(report: Report) -> str:
    """The disposition box: verdict and reason, confusion radius, likely host, host table."""
    d = report.disposition
    words = d.verdict.replace("_", " ")
    radius = "—" if d.confusion_radius_arcsec is None else f"{d.confusion_radius_arcsec:.1f}″"
    listed = (
        f"neighbours: {_e(d.neighbours)}"
        if d.neighbours is not None
        else "no neighbour list: the verdict rests on the confusion radius alone"
    )
    facts = (
        f"<p>3σ confusion radius {_e(radius)} · likely host: <b>{_e(d.likely_host or 'not named')}</b> · "
        f"from {_e(', '.join(d.checks) or 'no check')} · {listed}</p>"
    )
    table = ""
    if d.hosts:
        head = (
            "<tr><th>host</th><th>catalogue id</th><th>mag</th><th>offset from target (″)</th>"
            "<th>from source (″)</th><th>from source (σ)</th><th>aperture flux share</th>"
            "<th>depth needed</th><th>can host</th><th>probability</th></tr>"
        )
        rows = "".join(
            f"<tr><td>{_e(h.id)}</td><td>{_e(h.name)}</td><td>{_e(_opt(h.mag, '.2f'))}</td>"
            f"<td>{math.hypot(h.east, h.north):.1f}</td><td>{h.separation_arcsec:.1f}</td>"
            f"<td>{h.offset_sigma:.1f}</td><td>{_e(_opt(h.flux_share, '.2%'))}</td>"
            f"<td>{_e(_opt(h.required_depth, '.2%'))}</td><td>{'yes' if h.feasible else 'no'}</td>"
            f"<td>{h.probability:.1%}</td></tr>"
            for h in d.hosts
        )
        table = f"<table>{head}{rows}</table>"
    return (
        f'<div class="disposition {_DISPOSITION_CLASS.get(d.verdict, "inconclusive")}">'
        f'<p class="verdict">{_e(words)}</p><p>{_e(d.reason)}</p>{facts}{table}</div>'
    )


def _opt(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def verdict_box(report: Report) -> str:
    """The target's disposition, then the target-level verdicts (one box per target-scope check)."""
    parts = [_disposition(report)]
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
