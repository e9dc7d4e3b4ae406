"""Report figures: each check draws its own panels; this module only lays them out.

One figure per sector puts the sector-scope checks side by side (a row per
check, ``Check.plot_panels`` columns); one summary figure holds the
target-scope checks (V25's sky-plane summary).  Every panel title starts with
target, sector, check and status.  Matplotlib runs on the Agg backend; a check
whose plot function raises gets a panel saying so, and the figure is still made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from vetcore.model import CheckResult
    from vetcore.report import Report

__all__ = ["PANEL_INCHES", "figures", "sector_figure", "target_figure"]

#: Width and height of one panel (inches).
PANEL_INCHES = (4.2, 3.8)


def _rows(report: Report, results: dict[str, CheckResult]) -> list[tuple[str, CheckResult, Any]]:
    rows = []
    for check_id, result in results.items():
        check = report.checks.get(check_id)
        rows.append((check_id, result, check))
    return rows


def _layout(report: Report, results: dict[str, CheckResult], where: str) -> Figure | None:
    from matplotlib.figure import Figure

    rows = _rows(report, results)
    if not rows:
        return None
    ncols = max(max((c.plot_panels if c is not None and c.plot else 1) for _, _, c in rows), 1)
    fig = Figure(figsize=(PANEL_INCHES[0] * ncols, PANEL_INCHES[1] * len(rows)), layout="constrained")
    grid = fig.subplots(len(rows), ncols, squeeze=False)
    for (check_id, result, check), axes in zip(rows, grid, strict=True):
        head = f"{report.target.id} · {where} · {check_id} · {result.status.value.upper()}"
        if check is not None and check.plot is not None and result.plot_data:
            try:
                check.plot(result, list(axes[: check.plot_panels]))
            except Exception as exc:  # a plugin's plot must not break the report
                axes[0].clear()
                axes[0].text(0.5, 0.5, f"plot failed: {type(exc).__name__}: {exc}", ha="center", wrap=True,
                             transform=axes[0].transAxes, fontsize=8)  # fmt: skip
            used = check.plot_panels
            _overlay_neighbours(report, list(axes[:used]))
        else:
            text = result.message or result.error or "no figure for this check"
            axes[0].text(0.5, 0.5, text[:300], ha="center", va="center", wrap=True,
                         transform=axes[0].transAxes, fontsize=8)  # fmt: skip
            axes[0].set_axis_off()
            used = 1
        for i, ax in enumerate(axes):
            if i >= used:
                ax.set_axis_off()
                continue
            title = ax.get_title()
            ax.set_title(f"{head}\n{title}" if title else head, fontsize=8)
    return fig


def _overlay_neighbours(report: Report, axes: list[Any]) -> None:
    """Draw the disposition's listed neighbours on every pixel image a check drew (any check that
    uses :func:`vetcore.plotting.show_image` with a frame: V09's images, for one)."""
    from vetcore.plotting import draw_neighbours, image_frame

    disposition = report.disposition
    if not disposition.hosts:
        return
    rows = [h.to_dict() for h in disposition.hosts]
    for ax in axes:
        frame = image_frame(ax)
        if frame is not None:
            draw_neighbours(ax, frame, rows, likely_host=disposition.likely_host)


def sector_figure(report: Report, label: str) -> Figure | None:
    """The sector-scope checks of one sector side by side (``None`` if it has none)."""
    sector = next(s for s in report.sectors if s.label == label)
    return _layout(report, dict(sector.results), label)


def target_figure(report: Report) -> Figure | None:
    """The target-scope checks (``None`` if none ran)."""
    return _layout(report, dict(report.aggregates), "all sectors")


def figures(report: Report) -> list[tuple[str, Figure]]:
    """``(name, figure)`` for each sector and the target summary, in report order."""
    out = [(s.label, sector_figure(report, s.label)) for s in report.sectors]
    out.append(("summary", target_figure(report)))
    return [(name, fig) for name, fig in out if fig is not None]


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (Agg)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
