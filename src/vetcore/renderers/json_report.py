"""``json`` format: the complete report as ``report.json`` (see ``schema/report.schema.json``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from vetcore.io import atomic_write, inside

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.report import Report

__all__ = ["FILENAME", "render"]

FILENAME = "report.json"


def render(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``out_dir/report.json`` atomically and return its path."""
    path = inside(out_dir, FILENAME)
    atomic_write(path, report.to_json(indent=2))
    return [path]
