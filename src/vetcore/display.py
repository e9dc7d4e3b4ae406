"""The notebook layer: compact reprs, tables with units, and plotting into the user's axes.

* :func:`report_html` / :func:`result_html` are the ``_repr_html_`` of a
  :class:`~vetcore.report.Report` (verdict box, status table, small figures)
  and of one :class:`~vetcore.model.CheckResult` (one screen, no arrays).
* :func:`result_repr` / :func:`localization_repr` are one-line text reprs that
  never print arrays.
* :func:`report_table` is ``Report.to_table()``: an astropy ``Table`` with one
  row per (check, sector) and a unit on every numeric column.
* :func:`plot_check` is ``Report.plot()``: a check's panels drawn into given axes.

Metric units follow the naming convention of ``docs/writing-a-check.md``: a
metric's name ends in its unit (``_pixels``, ``_arcsec``, ``_ppm``, ``_deg``,
``_s``, ``_hours``, ``_days``); counts start with ``n_``; significances, SNRs,
ratios and χ² are dimensionless.  A numeric metric whose unit cannot be read
from its name is left out of the table and listed in ``table.meta``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from astropy.table import Table
    from astropy.units import UnitBase

    from vetcore.model import CheckResult, Localization
    from vetcore.report import Report

__all__ = [
    "localization_repr",
    "metric_unit",
    "plot_check",
    "report_html",
    "report_table",
    "result_html",
    "result_repr",
]

#: Metrics shown in a result's one-screen HTML before "… and N more".
MAX_HTML_METRICS = 24
#: Resolution of the compact figures embedded in a notebook repr (dots per inch).
NOTEBOOK_DPI = 55

_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_arcsec", "arcsec"),
    ("_pixels", "pix"),
    ("_px", "pix"),
    ("_ppm", "ppm"),
    ("_deg", "deg"),
    ("_days", "d"),
    ("_d", "d"),
    ("_hours", "h"),
    ("_h", "h"),
    ("_s", "s"),
)
_DIMENSIONLESS_WORDS = (
    "sigma", "snr", "ratio", "chi2", "p_value", "significance", "fraction", "scale", "dof", "pull",
)  # fmt: skip
_POSITION_UNITS = {"ra": "deg", "dec": "deg", "source_ra": "deg", "source_dec": "deg"}
_ROW_COL_SUFFIXES = ("_row", "_col")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "—"
    return str(value)


# --------------------------------------------------------------------------- units


def metric_unit(name: str) -> str | None:
    """The unit of a metric from its name (astropy unit string; ``""`` = dimensionless), or ``None``."""
    if name in _POSITION_UNITS:
        return _POSITION_UNITS[name]
    if name.startswith("n_") or name.endswith("_n"):
        return ""
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    if name.endswith(_ROW_COL_SUFFIXES) or name.endswith("pixel_distance"):
        return "pix"
    if any(word in name for word in _DIMENSIONLESS_WORDS):
        return ""
    return None


def _unit(text: str) -> UnitBase:
    import astropy.units as u
    from astropy.units import cds

    if text == "ppm":
        return cds.ppm
    return u.dimensionless_unscaled if text == "" else u.Unit(text)


# --------------------------------------------------------------------------- text reprs


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def localization_repr(loc: Localization) -> str:
    """``<Localization V08: E +15.66″ N +6.14″ (16.8″ from target, 0.96σ), ±16.5″ …>``, no arrays."""
    east, north = (float(v) for v in loc.offset_arcsec)
    pixel = "" if loc.pixel is None else f", pixel (row {loc.pixel[0]:.2f}, col {loc.pixel[1]:.2f})"
    epochs = f", {len(loc.epochs)} epochs" if loc.epochs else ""
    label = f" {loc.label}" if loc.label else ""
    return (
        f"<Localization {loc.method}{label}: E {east:+.2f}″ N {north:+.2f}″ "
        f"({loc.distance_arcsec:.2f}″ from target, {loc.offset_sigma:.2f}σ), 1σ ±{loc.sigma_arcsec:.2f}″, "
        f"RA {loc.ra!r} Dec {loc.dec!r}{pixel}{epochs}>"
    )


def result_repr(result: CheckResult) -> str:
    """One line: check, sector, status, flags, message and what else the result holds (no arrays)."""
    where = f" sector {result.sector}" if result.sector is not None else ""
    flags = f" [{', '.join(result.flags)}]" if result.flags else ""
    parts = [f"{len(result.metrics)} metrics"]
    if result.localization is not None:
        east, north = (float(v) for v in result.localization.offset_arcsec)
        parts.append(f"localization E {east:+.2f}″ N {north:+.2f}″ ({result.localization.offset_sigma:.2f}σ)")
    if result.plot_data:
        parts.append(f"plot_data: {', '.join(result.plot_data)}")
    if result.error:
        parts.append(f"error: {_short(result.error.strip().splitlines()[-1], 60)}")
    return (
        f"<CheckResult {result.check or '?'}{where}: {result.status.value}{flags} — "
        f"{_short(result.message)}; {'; '.join(parts)}>"
    )


# --------------------------------------------------------------------------- HTML reprs

_NOTEBOOK_STYLE = (
    "<style>.vetcore-nb table{border-collapse:collapse;margin:.3em 0}"
    ".vetcore-nb td,.vetcore-nb th{border:1px solid #ccc;padding:.15em .5em;text-align:left;"
    "vertical-align:top;font-size:90%}.vetcore-nb .pass{background:#d9f2d9}"
    ".vetcore-nb .fail{background:#f8d0d0}"
    ".vetcore-nb .inconclusive{background:#fff1c2}.vetcore-nb .error{background:#e6d0f0}"
    ".vetcore-nb .skipped{background:#eee}.vetcore-nb img{max-width:100%}</style>"
)


def _metrics_rows(result: CheckResult, limit: int = MAX_HTML_METRICS) -> str:
    items = list(result.metrics.items())
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(_number_text(v))}</td><td>{_e(metric_unit(k) or '')}</td></tr>"
        for k, v in items[:limit]
    )
    if len(items) > limit:
        rows += f"<tr><td colspan='3'>… and {len(items) - limit} more (result.metrics)</td></tr>"
    return rows


def result_html(result: CheckResult) -> str:
    """One screen: status, message, flags, metrics (first :data:`MAX_HTML_METRICS`), localization."""
    status = result.status.value
    where = f" · sector {result.sector}" if result.sector is not None else ""
    loc = ""
    if result.localization is not None:
        loc = f"<p>{_e(localization_repr(result.localization))}</p>"
    error = f"<pre>{_e(result.error.strip().splitlines()[-1])}</pre>" if result.error else ""
    flags = f"<p>flags: {_e(', '.join(result.flags))}</p>" if result.flags else ""
    return (
        f"{_NOTEBOOK_STYLE}<div class='vetcore-nb'>"
        f"<p><b>{_e(result.check or 'check')}</b>{_e(where)} · "
        f"<span class='{_e(status)}'>{_e(status)}</span> — {_e(result.message)}</p>"
        f"{flags}{loc}{error}"
        f"<table><tr><th>metric</th><th>value</th><th>unit</th></tr>{_metrics_rows(result)}</table></div>"
    )


def report_html(report: Report, figures: bool = True) -> str:
    """The notebook view of a report: verdict box, status table, compact figures."""
    import base64

    from vetcore.renderers.html_report import header_html, status_table, verdict_box

    parts = [_NOTEBOOK_STYLE, "<div class='vetcore-nb'>", header_html(report), verdict_box(report)]
    parts.append(status_table(report))
    warnings = getattr(report, "warnings", None)
    if warnings:
        parts.append("<ul>" + "".join(f"<li>warning: {_e(w)}</li>" for w in warnings) + "</ul>")
    if figures:
        from vetcore.renderers.figures import figures as make_figures
        from vetcore.renderers.figures import png_bytes

        for name, fig in make_figures(report):
            data = base64.b64encode(png_bytes(fig, dpi=NOTEBOOK_DPI)).decode("ascii")
            parts.append(
                f"<details><summary>figure {_e(name)}</summary>"
                f"<img alt='{_e(name)} figure' src='data:image/png;base64,{data}'></details>"
            )
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------- table


def _localization_columns(loc: Localization | None) -> dict[str, float]:
    if loc is None:
        return dict.fromkeys(
            ("offset_east_arcsec", "offset_north_arcsec", "offset_arcsec", "offset_sigma",
             "offset_error_arcsec", "source_ra", "source_dec"),
            math.nan,
        )  # fmt: skip
    east, north = (float(v) for v in loc.offset_arcsec)
    return {
        "offset_east_arcsec": east,
        "offset_north_arcsec": north,
        "offset_arcsec": loc.distance_arcsec,
        "offset_sigma": loc.offset_sigma,
        "offset_error_arcsec": loc.sigma_arcsec,
        "source_ra": float(loc.ra),
        "source_dec": float(loc.dec),
    }


_FIXED_UNITS = {
    "offset_east_arcsec": "arcsec",
    "offset_north_arcsec": "arcsec",
    "offset_arcsec": "arcsec",
    "offset_sigma": "",
    "offset_error_arcsec": "arcsec",
    "source_ra": "deg",
    "source_dec": "deg",
    "elapsed_s": "s",
}


def report_table(report: Report, metrics: bool = True) -> Table:
    """One row per (check, sector): identity, status, flags, message, localization and metrics.

    ``sector`` is the stamp label (``"S83"``) or ``"all"`` for target-level
    results.  Every numeric column carries an astropy unit (dimensionless where
    it is a count or a significance).  With ``metrics``, each numeric metric
    whose unit is known from its name becomes a column (NaN where a check does
    not report it); the others are named in ``table.meta["metrics_without_unit"]``.
    """
    from astropy.table import MaskedColumn, Table

    rows: list[dict[str, Any]] = []
    metric_names: list[str] = []
    skipped: list[str] = []
    for label, result in report.results():
        row: dict[str, Any] = {
            "target": report.target.id,
            "check": result.check,
            "sector": label or "all",
            "status": result.status.value,
            "flags": " ".join(result.flags),
            "message": result.message,
        }
        row.update(_localization_columns(result.localization))
        row["elapsed_s"] = float(result.elapsed_s)
        if metrics:
            for name, value in result.metrics.items():
                if isinstance(value, bool) or not isinstance(value, (int, float, type(None))):
                    continue
                if metric_unit(name) is None:
                    key = f"{result.check}.{name}"
                    if key not in skipped:
                        skipped.append(key)
                    continue
                column = f"{result.check}_{name}"
                if column not in metric_names:
                    metric_names.append(column)
                row[column] = math.nan if value is None else float(value)
        rows.append(row)
    text_names = ["target", "check", "sector", "status", "flags", "message"]
    numeric_names = [*_FIXED_UNITS, *metric_names]
    table = Table()
    for name in text_names:
        table[name] = [row[name] for row in rows]
    for name in numeric_names:
        values = np.array([row.get(name, math.nan) for row in rows], dtype=float)
        unit = _FIXED_UNITS.get(name)
        if unit is None:
            unit = metric_unit(name.split("_", 1)[1]) or ""
        table[name] = MaskedColumn(values, mask=~np.isfinite(values), unit=_unit(unit))
    table.meta["target"] = report.target.id
    table.meta["time_system"] = ", ".join(sorted({s.stamp.time_system for s in report.sectors}))
    table.meta["metrics_without_unit"] = skipped
    return table


# --------------------------------------------------------------------------- plotting


def plot_check(
    report: Report,
    check: str,
    sector: str | int | None = None,
    ax: Any = None,
    panel: int | None = None,
) -> list[Any]:
    """Draw ``check``'s panels for one sector (or its target-level result) into the user's axes.

    ``sector`` is a label (``"S83"``), a number (``83``) or ``None`` (the
    target-level result, or the only sector).  ``ax`` is one matplotlib
    ``Axes`` (with ``panel`` choosing which of the check's panels goes there
    when it draws several), a sequence of as many axes as the check has panels,
    or ``None`` to make a new pyplot figure.  Returns the axes drawn into.
    """
    result = report.result(check, _sector_label(report, sector))
    spec = report.checks.get(check)
    if spec is None or spec.plot is None:
        raise ValueError(f"check {check} declares no figure")
    if not result.plot_data:
        raise ValueError(
            f"{check} has no plot data for this result ({result.status.value}: {result.message})"
        )
    n = spec.plot_panels
    if ax is None:
        import matplotlib.pyplot as plt

        if panel is None:
            _, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False, layout="constrained")
            targets = list(axes[0])
        else:
            _, one = plt.subplots(figsize=(4.2, 3.8), layout="constrained")
            targets = [one]
    elif isinstance(ax, Sequence) or isinstance(ax, np.ndarray):
        targets = list(np.ravel(np.asarray(ax, dtype=object)))
    else:
        targets = [ax]
    if len(targets) == n and panel is None:
        spec.plot(result, targets)
        return targets
    if len(targets) != 1:
        raise ValueError(f"{check} draws {n} panels: pass {n} axes, or one axes and panel=0..{n - 1}")
    if n > 1 and panel is None:
        raise ValueError(f"{check} draws {n} panels: pass {n} axes, or one axes and panel=0..{n - 1}")
    index = panel or 0
    if not 0 <= index < n:
        raise ValueError(f"panel must be in 0..{n - 1} for {check}, got {panel}")
    from matplotlib.figure import Figure

    scratch = Figure().subplots(1, n, squeeze=False)[0]
    axes_list = list(scratch)
    axes_list[index] = targets[0]
    spec.plot(result, axes_list)
    return targets


def _sector_label(report: Report, sector: str | int | None) -> str | None:
    if sector is None or isinstance(sector, str):
        return sector
    for s in report.sectors:
        if s.stamp.sector == int(sector):
            return s.label
    raise KeyError(f"no sector {sector} in this report (have: {', '.join(s.label for s in report.sectors)})")
