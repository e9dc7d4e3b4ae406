"""``png`` format: ``<target>_<sector>.png`` per sector and ``<target>_summary.png``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from vetcore.io import atomic_write, inside, safe_name
from vetcore.renderers.figures import figures, png_bytes

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.report import Report

__all__ = ["render"]


def render(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    paths = []
    for name, fig in figures(report):
        path = inside(out_dir, f"{safe_name(report.target.id)}_{safe_name(name)}.png")
        atomic_write(path, png_bytes(fig))
        paths.append(path)
    return paths
