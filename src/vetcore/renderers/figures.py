"""Report figures: each check draws its own panels; this module only lays them out.

One figure per sector puts the sector-scope checks side by side: each check's
``Check.plot_panels`` panels stay together on one row, and narrow checks share
a row with others (:func:`pack`), so no panel is left empty; one summary figure holds the
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

__all__ = ["PANEL_INCHES", "figures", "pack", "png_bytes", "sector_figure", "target_figure"]

#: Width and height of one panel (inches).
PANEL_INCHES = (4.2, 3.8)
#: Constrained-layout padding around each panel (inches).
LAYOUT_PAD_INCHES = 0.15


def _rows(report: Report, results: dict[str, CheckResult]) -> list[tuple[str, CheckResult, Any]]:
    rows = []
    for check_id, result in results.items():
        check = report.checks.get(check_id)
        rows.append((check_id, result, check))
    return rows


def _panels(check: Any, result: CheckResult) -> int:
    return (
        max(check.plot_panels, 1) if check is not None and check.plot is not None and result.plot_data else 1
    )


def pack(widths: list[int], ncols: int) -> list[list[int]]:
    """Indices of checks per figure row: each check's panels stay together on one row, a row holds
    at most ``ncols`` panels, checks keep their order except that a narrow check may move up into
    the first earlier row with room (first fit), so that no panel is left empty."""
    rows: list[list[int]] = []
    used: list[int] = []
    for i, width in enumerate(widths):
        for r, total in enumerate(used):
            if total + width <= ncols:
                rows[r].append(i)
                used[r] += width
                break
        else:
            rows.append([i])
            used.append(width)
    return rows


def _draw(ax_list: list[Any], head: str, check_id: str, result: CheckResult, check: Any) -> None:
    if check is not None and check.plot is not None and result.plot_data:
        try:
            check.plot(result, ax_list)
        except Exception as exc:  # a plugin's plot must not break the report
            for ax in ax_list:
                ax.clear()
                ax.set_axis_off()
            ax_list[0].text(0.5, 0.5, f"plot failed: {type(exc).__name__}: {exc}", ha="center", wrap=True,
                            transform=ax_list[0].transAxes, fontsize=8)  # fmt: skip
    else:
        text = result.message or result.error or "no figure for this check"
        ax_list[0].text(0.5, 0.5, text[:300], ha="center", va="center", wrap=True,
                        transform=ax_list[0].transAxes, fontsize=8)  # fmt: skip
        ax_list[0].set_axis_off()
    for ax in ax_list:
        title = ax.get_title()
        ax.set_title(f"{head}\n{title}" if title else head, fontsize=8)


def _layout(report: Report, results: dict[str, CheckResult], where: str) -> Figure | None:
    from matplotlib.figure import Figure

    rows = _rows(report, results)
    if not rows:
        return None
    widths = [_panels(check, result) for _, result, check in rows]
    ncols = max(widths)
    packed = pack(widths, ncols)
    fig = Figure(figsize=(PANEL_INCHES[0] * ncols, PANEL_INCHES[1] * len(packed)), layout="constrained")
    # padding around each panel: room for y labels at the figure's edge next to fixed-aspect images
    fig.get_layout_engine().set(w_pad=LAYOUT_PAD_INCHES, h_pad=LAYOUT_PAD_INCHES)  # type: ignore[union-attr,call-arg]
    grid = fig.subplots(len(packed), ncols, squeeze=False)
    for r, members in enumerate(packed):
        column = 0
        for i in members:
            check_id, result, check = rows[i]
            ax_list = list(grid[r][column : column + widths[i]])
            column += widths[i]
            head = f"{report.target.id} · {where} · {check_id} · {result.status.value.upper()}"
            _draw(ax_list, head, check_id, result, check)
            _overlay_neighbours(report, ax_list)
        for ax in grid[r][column:]:
            ax.remove()
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
