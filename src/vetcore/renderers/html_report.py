"""``html`` format: one self-contained ``report.html`` (figures embedded, no network needed).

Order: the verdict (the target's disposition with its reason, confusion radius,
likely host and host-attribution table; then the target-level checks and every
check's status with its flags explained in words), the key metrics per sector, the figures, the
effective configuration and the versions.  Every string that comes from data,
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

__all__ = ["FILENAME", "render", "to_html"]

FILENAME = "report.html"

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}
.inconclusive{background:#fff1c2}.error{background:#e6d0f0}.skipped{background:#eee}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f7f7f7;padding:1em;overflow:auto}
.verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;display:inline-block}
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


def _verdict(report: Report) -> str:
    parts = [_disposition(report)]
    for check_id, result in report.aggregates.items():
        verdict = result.metrics.get("verdict", result.status.value)
        parts.append(
            f'<p class="verdict {_e(result.status.value)}">{_e(check_id)}: {_e(verdict)} — '
            f"{_e(result.message)}</p>"
        )
    rows = []
    for label, result in report.results():
        flags = "<br>".join(f"<b>{_e(f)}</b>: {_e(why)}" for f, why in report.explain(result))
        rows.append(
            f"<tr><td>{_e(result.check)}</td><td>{_e(label or 'all sectors')}</td>{_status(result)}"
            f"<td>{_e(result.message)}</td><td>{flags}</td></tr>"
        )
    return (
        "".join(parts)
        + "<table><tr><th>check</th><th>sector</th><th>status</th><th>summary</th><th>flags</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _metrics(report: Report) -> str:
    out = []
    for label, result in report.results():
        items = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_fmt(v))}</td></tr>" for k, v in result.metrics.items())
        loc = result.localization
        if loc is not None:
            east, north = loc.offset_arcsec
            items += (
                f"<tr><td>localization ({_e(loc.method)})</td><td>RA {loc.ra:.6f}, Dec {loc.dec:.6f}; "
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
    t, eph = report.target, report.ephemeris
    position = (
        f"RA {t.ra:.6f}°, Dec {t.dec:.6f}°" if t.ra is not None and t.dec is not None else "no position"
    )
    stamps = ", ".join(
        f"{s.label} ({s.stamp.time_system}, {s.stamp.pixel_scale_arcsec:.2f}″/px)" for s in report.sectors
    )
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
        f"<p>{_e(position)} · period {eph.period:.7g} d · t0 {eph.t0:.7g} · "
        f"duration {eph.duration_hours:.4g} h"
        f" · sectors: {_e(stamps)}</p>"
        f"<h2>Verdict</h2>{_verdict(report)}"
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
