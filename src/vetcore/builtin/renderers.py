"""Builtin renderer plugin: the report formats vetcore ships with."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from vetcore import API_VERSION, Renderer, hookimpl
from vetcore.renderers import json_report

VETCORE_API = API_VERSION


def _imported_when_used(module: str, function: str) -> Callable[[Any, Any], list[Any]]:
    """``vetcore.renderers.<module>.<function>``, imported by the first report written in that format
    (a run imports only the renderers of the formats it writes)."""

    def render(report: Any, out_dir: Any) -> list[Any]:
        renderer: Callable[[Any, Any], list[Any]] = getattr(
            import_module(f"vetcore.renderers.{module}"), function
        )
        return renderer(report, out_dir)

    render.__qualname__ = render.__name__ = function
    render.__module__ = f"vetcore.renderers.{module}"
    return render


RENDERERS = [
    Renderer("json", render=json_report.render, summary="report.json: every result, config and provenance"),
    Renderer(
        "html",
        render=_imported_when_used("html_report", "render"),
        summary="report.html: self-contained page, verdict first",
    ),
    Renderer(
        "png",
        render=_imported_when_used("png", "render"),
        summary="one figure per sector plus the target summary figure",
    ),
    Renderer(
        "csv", render=_imported_when_used("summary", "render_csv"), summary="summary.csv: one row per target"
    ),
    Renderer(
        "ecsv",
        render=_imported_when_used("summary", "render_ecsv"),
        summary="summary.ecsv: one row per target, with units",
    ),
]


@hookimpl
def vetcore_register_renderers(register: Callable[[Renderer], None]) -> None:
    for renderer in RENDERERS:
        register(renderer)
